#!/bin/bash
# SPDX-License-Identifier: MIT
# alloc_failure.sh - the first allocation jemalloc refuses (here: under
# ulimit -v) writes a dump with trigger alloc-failure before the program gets
# its NULL; the program handles the NULL as usual (errno ENOMEM, frees, goes
# on); later failures are only counted (totals: alloc_failures); stderr
# names the dump; MEMLEDGER_DUMP_ON_FAILURE=0 turns the dump off.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

. "$ML_SRCDIR/tests/time/lib_time.sh" || bail "cannot read lib_time.sh"
tap_plan 7

d=$(fresh_dir eat)
out=$( (ulimit -v 131072 && ml_run "$d" "$PROG" eat) 2>"$d/err")
rc=$?
tap_eq "the program gets NULL with errno ENOMEM, frees, allocates again, exits 0" \
  "handled NULL 0" "$out $rc"
fail=
for f in $(dumps_in "$d"); do
  [ "$(dump_header "$f" trigger)" = alloc-failure ] && fail="$fail $f"
done
set -- $fail
tap_eq "exactly one dump with trigger alloc-failure" 1 $#
if [ $# = 1 ] && dump_consistent "$1" >/dev/null; then
  tap_ok "it is complete and consistent"
else
  tap_fail "it is complete and consistent" "$(ls -l "$d")" "$(cat "$d/err")"
fi
# It holds the heap as it was at the failure: the blocks obtained so far.
blocks=$([ $# = 1 ] && dump_unfreed "$1" | cut -d' ' -f1)
if [ "${blocks:-0}" -ge 100 ]; then tap_ok "it shows the heap at the failure ($blocks blocks)"; else
  tap_fail "it shows the heap at the failure" "blocks: ${blocks:-?}"; fi
if [ $# = 1 ] && grep -q "^memledger: alloc-failure: dump written to $1 " "$d/err"; then
  tap_ok "stderr names the dump"
else
  tap_fail "stderr names the dump" "$(cat "$d/err")"
fi
ex=$(dumps_in "$d" | tail -n1)
n=$(dump_header "$ex" alloc_failures)
if [ "$(dump_header "$ex" trigger)" = exit ] && [ "${n:-0}" -ge 1 ]; then
  tap_ok "the exit dump counts the failures (alloc_failures: $n)"
else
  tap_fail "the exit dump counts the failures" "$ex: trigger $(dump_header "$ex" trigger), alloc_failures ${n:-?}"
fi

d=$(fresh_dir off)
(ulimit -v 131072 && MEMLEDGER_DUMP_ON_FAILURE=0 ml_run "$d" "$PROG" eat) >/dev/null 2>"$d/err"
tap_eq "MEMLEDGER_DUMP_ON_FAILURE=0: the exit dump only, failures still counted" "exit yes" \
  "$(triggers "$d" | sed 's/ $//') $([ "$(dump_header "$(dumps_in "$d" | tail -n1)" alloc_failures)" -ge 1 ] 2>/dev/null && echo yes)"
[ "$T_FAILED" = 0 ]

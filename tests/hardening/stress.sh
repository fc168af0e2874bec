#!/bin/bash
# SPDX-License-Identifier: MIT
# stress.sh - 8 threads allocate, reallocate and free each other's blocks
# while the program itself sends the dump signal ~30 times (kill(getpid())):
# no crash, no deadlock (120 s limit), every dump complete and consistent,
# and the exit dump counts exactly the tracked blocks the program holds.
# Extends signal_threads.sh (4 threads, signals from outside, one at a time).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$ML_BUILDDIR/tests/hardening/stress_prog
need_file "$PROG"
NSIG=30

tap_plan 8

d=$(fresh_dir stress)
ml_run "$d" "$PROG" 60000 $NSIG >"$d/out" 2>"$d/err"
rc=$?
tap_eq "8 threads + self-sent dump signals: exit status 0 (no crash, no deadlock in 120 s)" 0 "$rc"
[ "$rc" = 0 ] || tap_diag_file "$d/err"

pid=$(dumps_in "$d" | head -n1 | sed 's|.*/memledger\.\([0-9]*\)\..*|\1|')
n=$(count_dumps "$d")
# requests may merge while a dump is written: at least a few, at most NSIG+1
if [ "$n" -ge 3 ] && [ "$n" -le $((NSIG + 1)) ]; then
  tap_ok "$NSIG signals gave between 2 and $NSIG signal dumps plus the exit dump ($n files)"
else
  tap_fail "$NSIG signals gave between 2 and $NSIG signal dumps plus the exit dump" "files: $n"
fi
bad= nsig_d=0
for f in $(dumps_in "$d"); do
  r=$(dump_consistent "$f") || bad="$bad$f: $r
"
  [ "$(dump_header "$f" trigger)" = signal ] && nsig_d=$((nsig_d + 1))
done
tap_eq "every dump is complete ([end]) and its unfreed line equals the sums of [unfreed]" "" "$bad"
tap_eq "all but the last are signal dumps" "$((n - 1))" "$nsig_d"
tap_eq "no .tmp file left behind" "" "$(ls -A "$d" | grep '\.tmp$')"

last=$(dumps_in "$d" | tail -n1)
live=$(sed -n 's/^live: \([0-9]*\) blocks, \([0-9]*\) bytes$/\1 \2/p' "$d/out")
tap_eq "the last dump is the exit dump of the program's pid" "exit $pid" \
  "$(dump_header "$last" trigger 2>/dev/null) $(dump_header "$last" pid 2>/dev/null)"
if [ -n "$live" ] && [ "$(dump_unfreed "$last")" = "$live" ]; then
  tap_ok "the exit dump's unfreed blocks and bytes equal what the program holds ($live)"
else
  tap_fail "the exit dump's unfreed blocks and bytes equal what the program holds" \
    "program: ${live:-<no live line>}" "dump: $(dump_unfreed "$last" 2>/dev/null)"
fi
# (a request that finds 16 dumps still being written is dropped, with one
# warning: each dump now also runs the leak scan in its snapshot process)
grep -v 'dumps are still being written: a dump request was dropped$' "$d/err" >"$d/err2"
if [ "$(grep -c '' "$d/err2")" = 1 ] && grep -q '^memledger: [0-9]* unfreed blocks' "$d/err2"; then
  tap_ok "stderr holds the summary line only"
else
  tap_fail "stderr holds the summary line only" "$(head -20 "$d/err")"
fi
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# snapshot_locks.sh - a dump never waits for the dynamic loader's lock: while
# one thread sleeps 3 s inside a dl_iterate_phdr callback, memledger_dump()
# and a SIGUSR2 dump complete within 2 s each, and both files list the
# program and libc among their modules (read from /proc, not the loader).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_snaplock
need_file "$PROG"
tap_plan 6

for how in api signal; do
  d=$(fresh_dir $how)
  inv_run "$d" 30 "$PROG" $how >"$d/out" 2>"$d/err"
  rc=$?
  tap_eq "$how: the program ends normally (124 = a dump hung)" 0 "$rc"
  [ "$rc" = 0 ] || tap_diag_file "$d/err" 10
  if [ $how = api ]; then
    tap_eq "memledger_dump() returns 0 within 2 s while the loader's lock is held" "api 0 fast" \
      "$(grep '^api' "$d/out")"
  else
    tap_eq "a SIGUSR2 dump is written within 2 s while the loader's lock is held" "signal 1 fast" \
      "$(grep '^signal' "$d/out")"
  fi
  f=$(dumps_in "$d" | head -1)
  m=$(dump_section "$f" modules 2>/dev/null)
  tap_eq "$how: the dump lists the program and libc among its modules" "yes yes" \
    "$(printf '%s\n' "$m" | grep -q '/inv_snaplock$' && echo yes) $(printf '%s\n' "$m" | grep -q '/libc\.so' && echo yes)"
done
exit 0

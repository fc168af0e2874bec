#!/bin/bash
# SPDX-License-Identifier: MIT
# signal_owner.sh - a program that takes the dump signal for itself (blocked
# in every thread, received with sigwaitinfo or from a signalfd) receives
# every one sent to it, as without the preload: memledger does not steal
# them, and says so once: exactly one "memledger: warning:" line on stderr,
# naming the signal.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_sigwait
need_file "$PROG"
tap_plan 4

for mode in sigwaitinfo signalfd; do
  d=$(fresh_dir $mode)
  base_run 60 "$PROG" $mode >"$d/base.out" 2>&1
  inv_run "$d" 60 "$PROG" $mode >"$d/out" 2>"$d/err"
  rc=$?
  tap_eq "$mode: every SIGUSR2 sent reaches the program (as without the preload)" \
    "0 $(cat "$d/base.out")" "$rc $(cat "$d/out")"
  tap_eq "$mode: exactly one 'memledger: warning:' line, naming the signal" "1 1" \
    "$(grep -c '^memledger: warning:' "$d/err") $(grep '^memledger: warning:' "$d/err" |
      grep -Ec 'USR2|signal 12([^0-9]|$)')"
  tap_diag_file "$d/err" 5
done
exit 0

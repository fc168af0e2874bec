#!/bin/bash
# SPDX-License-Identifier: MIT
# main_thread_exit.sh - a program whose main thread ends with pthread_exit()
# while another thread runs on (allocating) ends when that thread ends,
# with the same status as without the preload (0 when it returns, 5 when it
# calls exit(5)); a resident thread of the library would keep it alive (20 s
# limit).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_main_exit
need_file "$PROG"
tap_plan 2

for mode in return exit; do
  d=$(fresh_dir $mode)
  base_run 20 "$PROG" $mode >/dev/null 2>&1
  b=$?
  inv_run "$d" 20 "$PROG" $mode >"$d/out" 2>"$d/err"
  rc=$?
  tap_eq "main thread pthread_exit()s, the last thread $(
    [ $mode = exit ] && echo 'calls exit(5)' || echo returns): status as without the preload ($b)" "$b" "$rc"
  [ "$rc" = "$b" ] || tap_diag_file "$d/err"
done
exit 0

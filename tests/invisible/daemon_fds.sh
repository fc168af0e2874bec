#!/bin/bash
# SPDX-License-Identifier: MIT
# daemon_fds.sh - a daemon-like program closes every descriptor from 3 (a
# loop of close(), close_range(3, ~0U, 0), closefrom(3)), then moves 64
# records of 4 KiB through a socketpair while sending itself the dump signal
# every 8th record: all data arrives intact and nothing more (a library that
# kept using a descriptor number it no longer owns would read or write the
# socket), and the signal still gives a dump.  Started with only
# descriptors 0-2 open.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_daemon
need_file "$PROG"
tap_plan 6

for mode in loop close_range closefrom; do
  d=$(fresh_dir $mode)
  inv_run_clean "$d" 60 "$PROG" $mode </dev/null >"$d/out" 2>"$d/err"
  rc=$?
  if [ "$rc" = 77 ]; then
    tap_skip "$mode: not available here ($(head -c 200 "$d/err"))"
    tap_skip "$mode: dump"
    continue
  fi
  tap_eq "$mode: all socketpair data intact, exit 0" "0 data ok" "$rc $(grep '^data' "$d/out")"
  [ "$rc" = 0 ] || tap_diag_file "$d/err" 10
  tap_eq "$mode: the dump signal still writes a dump" "dump ok" "$(grep dump "$d/out")"
done
exit 0

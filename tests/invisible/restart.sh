#!/bin/bash
# SPDX-License-Identifier: MIT
# restart.sh - a dump on the dump signal, sent to a thread blocked in a
# call, does not make the call fail with EINTR where SA_RESTART restarts
# it: read() on an empty pipe and write() on a full one complete (signal(7):
# the kernel restarts read/write on pipes for SA_RESTART handlers).  poll(),
# epoll_wait() and nanosleep() are never restarted, whatever the flags
# (nanosleep returns EINTR and the remaining time): their outcome is only
# reported as a TAP note, not asserted.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_restart
need_file "$PROG"
tap_plan 3

d=$(fresh_dir restart)
inv_run "$d" 90 "$PROG" >"$d/out" 2>"$d/err"
rc=$?
[ "$rc" = 0 ] || { tap_diag "status $rc"; tap_diag_file "$d/err" 10; }
tap_eq "read() on an empty pipe, dump signal during it: returns the data, no EINTR" \
  "read: n=1" "$(grep '^read:' "$d/out")"
tap_eq "write() on a full pipe, dump signal during it: completes, no EINTR" \
  "write: n=4096" "$(grep '^write:' "$d/out")"
tap_eq "4 signal dumps written" "dumps=4" "$(grep '^dumps=' "$d/out")"
tap_diag "not asserted (never restarted by the kernel):" "$(grep '^note' "$d/out")"
exit 0

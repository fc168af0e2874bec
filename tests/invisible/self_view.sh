#!/bin/bash
# SPDX-License-Identifier: MIT
# self_view.sh - what a single-threaded program sees in /proc/self: the
# Threads: line says 1, and /proc/self/fd lists 0, 1 and 2 only (besides the
# descriptor used to read it), before and after a dump on the dump signal
# (the program waits for the dump file, then looks).  Run with every
# descriptor above 2 closed.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_self
need_file "$PROG"
tap_plan 5

d=$(fresh_dir status)
inv_run_clean "$d" 30 "$PROG" status \
  </dev/null >"$d/out" 2>"$d/err"
rc=$?
[ "$rc" = 0 ] || { tap_diag "status $rc"; tap_diag_file "$d/err" 10; }
tap_eq "Threads: 1 before any dump" "before threads: 1" "$(grep '^before threads' "$d/out")"
tap_eq "Threads: 1 after a signal dump" "after threads: 1" "$(grep '^after threads' "$d/out")"
tap_eq "/proc/self/fd: 0 1 2 only, before any dump" "before fds: 0 1 2" "$(grep '^before fds' "$d/out")"
tap_eq "/proc/self/fd: 0 1 2 only, after a signal dump" "after fds: 0 1 2" "$(grep '^after fds' "$d/out")"
tap_eq "the signal dump was written" "dump ok" "$(grep dump "$d/out")"
exit 0

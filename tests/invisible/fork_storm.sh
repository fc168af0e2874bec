#!/bin/bash
# SPDX-License-Identifier: MIT
# fork_storm.sh - 4 threads fork() 40 times each while the dump signal is
# sent every 5 ms, every block tracked (MEMLEDGER_MIN_SIZE=0): no deadlock
# (60 s limit), every child exits 0.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_fork_storm
need_file "$PROG"
tap_plan 2

d=$(fresh_dir storm)
MEMLEDGER_MIN_SIZE=0 inv_run "$d" 60 "$PROG" 4 40 >"$d/out" 2>"$d/err"
rc=$?
tap_eq "fork from 4 threads under repeated dump signals: exit 0 within 60 s (124 = deadlock)" 0 "$rc"
[ "$rc" = 0 ] || tap_diag_file "$d/err" 20
tap_eq "160 children, all exit 0" "children=160 failed=0" "$(cat "$d/out")"
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_child.sh - whatever writes the dumps on the dump signal is invisible
# to the program: after 5 signal dumps, a program with a SIGCHLD handler has
# counted no SIGCHLD, and waitpid(-1, WNOHANG) and wait() say ECHILD; with a
# child of its own, wait() returns exactly that child (status 7), the next
# wait() says ECHILD, and SIGCHLD came once.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_dump_child
need_file "$PROG"
tap_plan 8

d=$(fresh_dir nochild)
inv_run "$d" 90 "$PROG" >"$d/out" 2>"$d/err"
rc=$?
[ "$rc" = 0 ] || { tap_diag "status $rc"; tap_diag_file "$d/err" 10; }
tap_eq "no child: 5 signal dumps written" "dumps=5" "$(grep '^dumps=' "$d/out")"
tap_eq "no child: waitpid(-1, WNOHANG) fails with ECHILD" "waitpid=-1 ECHILD" "$(grep '^waitpid=' "$d/out")"
tap_eq "no child: wait() fails with ECHILD" "wait=-1 ECHILD" "$(grep '^wait=' "$d/out")"
tap_eq "no child: no SIGCHLD" "sigchld=0" "$(grep '^sigchld=' "$d/out")"

d=$(fresh_dir child)
inv_run "$d" 90 "$PROG" child >"$d/out" 2>"$d/err"
rc=$?
[ "$rc" = 0 ] || { tap_diag "status $rc"; tap_diag_file "$d/err" 10; }
tap_eq "own child: 5 signal dumps written" "dumps=5" "$(grep '^dumps=' "$d/out")"
tap_eq "own child: wait() returns exactly it, status 7" "wait=own-child status=7" "$(grep '^wait=' "$d/out")"
tap_eq "own child: the next wait() fails with ECHILD" "wait-again=-1 ECHILD" "$(grep '^wait-again=' "$d/out")"
tap_eq "own child: SIGCHLD once" "sigchld=1" "$(grep '^sigchld=' "$d/out")"
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# deepbind.sh - two ways a host program could be harmed, and is not:
# a library dlopen'ed with RTLD_DEEPBIND would bind glibc's malloc ahead of
# memledger's (the flag is dropped, with one warning); and a dump written
# from the program's own thread past RLIMIT_FSIZE would raise SIGXFSZ, whose
# default action kills (it is blocked while the dump writes).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$ML_BUILDDIR/tests/hardening/deepbind_prog
LIB=$ML_BUILDDIR/tests/hardening/.libs/deepbind_lib.so
need_file "$PROG" "$LIB"
tap_plan 6

d=$(fresh_dir deep)
MEMLEDGER_QUIET=1 ml_run "$d" "$PROG" "$LIB" >"$d/out" 2>"$d/err"
rc=$?
tap_eq "RTLD_DEEPBIND library: its blocks freed by the program, no crash" "0|freed 200 blocks" "$rc|$(cat "$d/out")"
tap_eq "one warning names the library and the ignored flag" "1" \
  "$(grep -c "^memledger: warning: dlopen(\"$LIB\", RTLD_DEEPBIND): the flag is ignored" "$d/err")"
tap_eq "nothing else on stderr" "1" "$(grep -c . "$d/err")"

d=$(fresh_dir fsize)
(ulimit -f unlimited; MEMLEDGER_QUIET=1 ml_run "$d" "$PROG" fsize >"$d/out" 2>"$d/err")
rc=$?
tap_eq "dump past RLIMIT_FSIZE with SIGXFSZ at its default action: the program goes on" \
  "0|dump failed; still running" "$rc|$(cat "$d/out")"
tap_eq "one error line names EFBIG" "1" "$(grep -c '^memledger: error: dump failed: .*EFBIG' "$d/err")"
tap_eq "no partial file left" "" "$(ls -A "$d" | grep -v '^out$' | grep -v '^err$')"
exit 0

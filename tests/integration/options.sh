#!/bin/bash
# SPDX-License-Identifier: MIT
# options.sh - MEMLEDGER_* options as a program sees them: bad and unknown
# values warn once and change nothing else; verbose, enabled, dir, quiet,
# leak_exitcode and signal do what options.def says; a program's own handler
# for the dump signal wins, with one warning.  MEMLEDGER_OPTIONS sets the
# same options as a name=value list, below the MEMLEDGER_<NAME> variables.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

BASIC=$ML_BUILDDIR/examples/leak_basic
PROG=$IT_BIN/prog_opts
need_file "$BASIC" "$PROG" "$ML_SRCDIR/src/options.def"

tap_plan 32

# basic NAME: run leak_basic under the preload in a fresh directory that is
# also its working directory (so that stray files would show); sets d, rc.
basic() {
  d=$(fresh_dir "$1")
  (cd "$d" && env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="${DUMPDIR:-$d}" "$BASIC") >"$T_TMP/$1.out" 2>"$T_TMP/$1.err"
  rc=$?
  out=$(cat "$T_TMP/$1.out")
  err=$T_TMP/$1.err
}
normal() { [ "$rc" = 0 ] && [ "$out" = "leak_basic: done" ]; }

# ---- a bad value -------------------------------------------------------------------
MEMLEDGER_MAX_FRAMES=abc basic badval
tap_eq "MAX_FRAMES=abc: exactly one 'memledger: warning: MEMLEDGER_MAX_FRAMES' line" 1 \
  "$(grep -c 'memledger: warning: MEMLEDGER_MAX_FRAMES' "$err")"
dump=$(only_dump "$d")
if normal && [ "$(dump_unfreed "$dump")" = "4 22288" ] && [ "$(dump_header "$dump" max_frames)" = 32 ]; then
  tap_ok "MAX_FRAMES=abc: the program runs normally, the default (32) is used"
else
  tap_fail "MAX_FRAMES=abc: the program runs normally, the default (32) is used" "rc=$rc out=$out" "$(cat "$err")"
fi

# ---- an unknown name ----------------------------------------------------------------
MEMLEDGER_MAX_FRAMS=3 basic unknown
w=$(grep '^memledger: warning:' "$err")
if [ "$(printf '%s\n' "$w" | grep -c .)" = 1 ] && printf '%s' "$w" | grep -q 'MEMLEDGER_MAX_FRAMS\b' &&
  printf '%s' "$w" | grep -q 'MEMLEDGER_MAX_FRAMES'; then
  tap_ok "MAX_FRAMS=3: one warning naming it and suggesting MEMLEDGER_MAX_FRAMES"
else
  tap_fail "MAX_FRAMS=3: one warning naming it and suggesting MEMLEDGER_MAX_FRAMES" "$(cat "$err")"
fi
tap_check "MAX_FRAMS=3: the program runs normally" normal
# MEMLEDGER_LIB is the memledger command's own variable, not an option.
MEMLEDGER_LIB=/nowhere/libmemledger.so basic toolvar
tap_eq "MEMLEDGER_LIB (the command's variable): no warning" 0 "$(grep -c '^memledger: warning:' "$err")"

# ---- MEMLEDGER_OPTIONS -----------------------------------------------------------------
# basic writes to MEMLEDGER_DIR=$d; the list's dir goes elsewhere only when
# the variable is not set.
dl=$(fresh_dir listdir)
d=$(fresh_dir list)
(cd "$d" && env LD_PRELOAD="$ML_LIB" MEMLEDGER_OPTIONS="min_size=0:unwind=fp:dir=$dl" "$BASIC") \
  >"$T_TMP/list.out" 2>"$T_TMP/list.err"
rc=$?
dump=$(only_dump "$dl")
tap_eq "OPTIONS=min_size=0:unwind=fp:dir=DIR: runs, the dump is in DIR, not in the working directory" \
  "0|yes|0" "$rc|$([ -n "$dump" ] && echo yes)|$(count_dumps "$d")"
tap_eq "OPTIONS=min_size=0:unwind=fp:dir=DIR: the dump's header has threshold 0, unwind fp" \
  "0 fp" "$(dump_header "$dump" threshold 2>/dev/null) $(dump_header "$dump" unwind 2>/dev/null)"
MEMLEDGER_OPTIONS="min_size=64K,max_frames=8" MEMLEDGER_MIN_SIZE=2K basic listprec
dump=$(only_dump "$d")
tap_eq "MEMLEDGER_MIN_SIZE=2K wins over OPTIONS=min_size=64K; OPTIONS' max_frames=8 applies" \
  "2048 8|0" "$(dump_header "$dump" threshold 2>/dev/null) $(dump_header "$dump" max_frames 2>/dev/null)|$(grep -c '^memledger: warning' "$err")"
MEMLEDGER_OPTIONS="max_frames=abc:mni_size=0" basic listbad
tap_eq "OPTIONS with a bad value and an unknown name: one warning each, then the program as usual" \
  "1 1 2" \
  "$(grep -c '^memledger: warning: MEMLEDGER_OPTIONS: max_frames="abc" is not valid' "$err") $(grep -c '^memledger: warning: unknown option mni_size in MEMLEDGER_OPTIONS ignored; did you mean min_size?$' "$err") $(grep -c '^memledger: warning:' "$err")"
tap_check "OPTIONS with a bad value and an unknown name: the program runs normally" normal
d=$(fresh_dir listexit)
MEMLEDGER_OPTIONS="leak_exitcode=7" ml_run "$d" "$PROG" noleak 0 >/dev/null 2>&1
rc0=$?
MEMLEDGER_OPTIONS="leak_exitcode=7" ml_run "$d" "$PROG" printf >/dev/null 2>&1
tap_eq "OPTIONS=leak_exitcode=7: 7 with leaks, 0 without" "7 0" "$? $rc0"

# ---- verbose -------------------------------------------------------------------------
MEMLEDGER_VERBOSE=1 MEMLEDGER_MIN_SIZE=2K basic verbose
nopt=$(grep -c '^ML_OPTION(' "$ML_SRCDIR/src/options.def")
tap_eq "VERBOSE=1: 'effective options:' and one line per option of options.def" "1 $nopt" \
  "$(grep -c '^memledger: effective options:$' "$err") $(grep -cE '^memledger:   [a-z_]+ += ' "$err")"
tap_eq "VERBOSE=1: the lines give value and source (min_size 2048 from the environment)" \
  "2048 (MEMLEDGER_MIN_SIZE, environment)|1 (MEMLEDGER_ENABLED, default)" \
  "$(sed -n 's/^memledger:   min_size *= \(.*\)$/\1/p' "$err" | tr -s ' ')|$(sed -n 's/^memledger:   enabled *= \(.*\)$/\1/p' "$err" | tr -s ' ')"

# ---- enabled=0 ------------------------------------------------------------------------
MEMLEDGER_ENABLED=0 basic disabled
tap_eq "ENABLED=0: the program runs, no dump, nothing on stderr" "0|leak_basic: done|0|" \
  "$rc|$out|$(count_dumps "$d")|$(cat "$err")"

# ---- dir is not a directory ---------------------------------------------------------------
d0=$(fresh_dir notdir)
printf 'keep me\n' >"$d0/file"
DUMPDIR=$d0/file basic notdir_run
tap_eq "DIR=<a file>: exactly one 'memledger: error: dump failed' line" 1 \
  "$(grep -c 'memledger: error: dump failed' "$err")"
tap_check "DIR=<a file>: the exit status and output are unchanged" normal
tap_eq "DIR=<a file>: no stray files (the file unchanged, nothing in the working directory)" \
  "file|keep me|" "$(ls -A "$d0")|$(cat "$d0/file")|$(ls -A "$d")"

# ---- quiet ---------------------------------------------------------------------------------
MEMLEDGER_QUIET=1 basic quiet
tap_eq "QUIET=1: no summary line (stderr empty), the dump is still written" "|4 22288" \
  "$(cat "$err")|$(dump_unfreed "$(only_dump "$d")" 2>/dev/null)"

# ---- leak_exitcode -------------------------------------------------------------------------------
d=$(fresh_dir exitcode)
MEMLEDGER_LEAK_EXITCODE=7 ml_run "$d" "$PROG" printf >"$d/out" 2>"$d/err"
rc=$?
tap_eq "LEAK_EXITCODE=7 with leaks: exit status 7" 7 "$rc"
tap_eq "LEAK_EXITCODE=7: stdout (printf, buffered) fully flushed" \
  "10|line 1 of 10|line 10 of 10" "$(grep -c '' "$d/out")|$(head -n1 "$d/out")|$(tail -n1 "$d/out")"
MEMLEDGER_LEAK_EXITCODE=7 ml_run "$d" "$PROG" noleak 3 >"$d/out3" 2>/dev/null
rc3=$?
MEMLEDGER_LEAK_EXITCODE=7 ml_run "$d" "$PROG" noleak 0 >"$d/out0" 2>/dev/null
rc0=$?
tap_eq "LEAK_EXITCODE=7 without leaks: status unchanged (3 stays 3, 0 stays 0)" "3 0" "$rc3 $rc0"
# Forked children inherit the parent's blocks, still reachable there: a
# subshell's exit status, an `if (true)` and a command substitution are the
# shell's own, with every block tracked.
out=$(MEMLEDGER_LEAK_EXITCODE=99 MEMLEDGER_MIN_SIZE=0 ml_run "$d" bash -c \
  '(true); a=$?; if (true); then t=taken; fi; echo "$a $t $(echo x)"' 2>/dev/null)
tap_eq "LEAK_EXITCODE=99, MIN_SIZE=0: bash's subshells, if (true), \$(...) unchanged" "0 taken x|0" \
  "$out|$?"

# ---- signal --------------------------------------------------------------------------------
# start_wait NAME: prog_opts wait in the background (stdin a FIFO on fd 3)
start_wait() {
  d=$(fresh_dir "$1")
  mkfifo "$d/ctl" || bail "mkfifo failed"
  ml_bg "$d" "$d/ctl" "$d/out" "$d/err" "$PROG" "$2"
  pid=$BG_PID
  exec 3>"$d/ctl"
  wait_for 60 grep -q '^ready$' "$d/out"
}
finish() {
  exec 3>&-
  wait_pid "$pid"
  rc=$?
}

MEMLEDGER_SIGNAL=USR1 start_wait usr1 wait
kill -USR1 "$pid"
wait_for 30 test -e "$d/memledger.$pid.1.dump"
finish
tap_eq "SIGNAL=USR1: kill -USR1 writes a signal dump, the program goes on and exits 0" "signal|0|bye" \
  "$(dump_header "$d/memledger.$pid.1.dump" trigger 2>/dev/null)|$rc|$(tail -n1 "$d/out")"

MEMLEDGER_SIGNAL=0 start_wait nosig wait
kill -USR2 "$pid"
finish
tap_eq "SIGNAL=0: SIGUSR2 kills the program as usual (status 128+12), no dump" "140|0" \
  "$rc|$(count_dumps "$d")"

MEMLEDGER_SIGNAL=USR2 start_wait usr2default wait
kill -USR2 "$pid"
wait_for 30 test -e "$d/memledger.$pid.1.dump"
finish
tap_eq "SIGNAL=USR2 (the default, by name): a signal dump, then the exit dump" "signal exit 0" \
  "$(dump_header "$d/memledger.$pid.1.dump" trigger 2>/dev/null) $(dump_header "$d/memledger.$pid.2.dump" trigger 2>/dev/null) $rc"

# ---- the program's own handler for the dump signal ------------------------------------------------
for how in signal sigaction; do
  start_wait "own-$how" "$how"
  kill -USR2 "$pid"
  wait_for 30 grep -q '^handler ran' "$d/out"
  finish
  tap_eq "own SIGUSR2 handler via $how(): the program's handler runs, exit 0" "handler ran 1|0" \
    "$(grep '^handler ran' "$d/out")|$rc"
  tap_eq "own SIGUSR2 handler via $how(): one warning saying the program wins" 1 \
    "$(grep -c '^memledger: warning: .*the program wins' "$d/err")"
  tap_eq "own SIGUSR2 handler via $how(): no signal dump, just the exit dump" "1 exit" \
    "$(count_dumps "$d") $(dump_header "$(only_dump "$d")" trigger 2>/dev/null)"
done
MEMLEDGER_SIGNAL=USR1 start_wait own-other signal
kill -USR2 "$pid"
wait_for 30 grep -q '^handler ran' "$d/out"
finish
tap_eq "SIGNAL=USR1 and the program's own SIGUSR2 handler: no warning, handler runs" "|handler ran 1|0" \
  "$(grep '^memledger: warning' "$d/err")|$(grep '^handler ran' "$d/out")|$rc"
exit 0

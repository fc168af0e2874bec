#!/bin/bash
# SPDX-License-Identifier: MIT
# run_tree.sh - memledger run and the program's process tree: programs exec'd
# by the program's children write no dumps unless --trace-children=yes (a
# program the program itself execs keeps tracking: same process); --children
# reports the dumps of the program's own tree only, even when another
# `memledger run` writes into the same --dir at the same time.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

LEAK=$ML_BUILDDIR/examples/leak_basic
FORK=$IT_BIN/prog_fork
need_file "$LEAK" "$FORK"
tap_plan 8

exes() { # the exe: of every dump in $1, sorted, basenames
  local f
  for f in "$1"/memledger.*.dump; do
    [ -e "$f" ] && sed -n 's|^exe: .*/||p' "$f" | head -n 1
  done | sort | tr '\n' ' '
}

d=$(fresh_dir notrace)
$ML_TIMEOUT "$ML" run -q --dir "$d" -- bash -c "$LEAK; $LEAK; true" >/dev/null 2>&1
tap_eq "exec'd helpers write no dumps: only the shell's" "bash " "$(exes "$d")"

d=$(fresh_dir trace)
$ML_TIMEOUT "$ML" run -q --dir "$d" --trace-children=yes -- bash -c "$LEAK; $LEAK; true" \
  >/dev/null 2>&1
tap_eq "--trace-children=yes: the shell and both helpers" "bash leak_basic leak_basic " \
  "$(exes "$d")"

d=$(fresh_dir trace_rep)
$ML_TIMEOUT "$ML" run --children --dir "$d" --trace-children=yes -- \
  bash -c "$LEAK; $LEAK; true" >/dev/null 2>"$d/err"
tap_eq "--trace-children=yes --children: three reports (shell, two helpers)" 3 \
  "$(grep -c '^  remaining:' "$d/err")"

d=$(fresh_dir selfexec)
$ML_TIMEOUT "$ML" run -q --dir "$d" -- bash -c "true; exec $LEAK" >/dev/null 2>&1
tap_eq "a program the program execs itself (same process) still tracks" "leak_basic " \
  "$(exes "$d")"

# Two runs in parallel on one directory: B starts first and ends last, so A's
# dumps are new to it; each reports its program and its program's child.
d=$(fresh_dir parallel)
$ML_TIMEOUT "$ML" run --children --dir "$d" -- \
  sh -c "sleep 1.5; exec $FORK" >/dev/null 2>"$d/b" &
b=$!
sleep 0.2
$ML_TIMEOUT "$ML" run --children --dir "$d" -- sh -c "exec $FORK" >/dev/null 2>"$d/a"
wait "$b"
tap_eq "four dumps in the directory (two programs, two forked children)" 4 \
  "$(count_dumps "$d")"
tap_eq "each run reports its own two dumps only" "2 2" \
  "$(grep -c '^  remaining:' "$d/a") $(grep -c '^  remaining:' "$d/b")"

# The library side alone: MEMLEDGER_TRACE_PID names the process that tracks.
d=$(fresh_dir tracepid)
env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d" MEMLEDGER_QUIET=1 MEMLEDGER_TRACE_PID=1 \
  "$LEAK" >/dev/null 2>&1
tap_eq "MEMLEDGER_TRACE_PID of another process: no tracking, no dump" 0 "$(count_dumps "$d")"
env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d" MEMLEDGER_QUIET=1 \
  sh -c 'MEMLEDGER_TRACE_PID=$$ exec "$0"' "$LEAK" >/dev/null 2>&1
tap_eq "MEMLEDGER_TRACE_PID of the process itself: its exit dump" "leak_basic " "$(exes "$d")"

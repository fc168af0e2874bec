#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_live.sh - memledger dump PID against a running program (prog_wait,
# which waits on a FIFO): the new dump's path is printed, the dump holds
# the blocks leaked so far; MEMLEDGER_SIGNAL and a relative MEMLEDGER_DIR are
# read from the process; clear errors for a missing process, a process
# without memledger, and a bad pid.  A relative MEMLEDGER_DIR is taken at
# start: a shell that changes directory afterwards still dumps there, and
# `memledger dump` finds it.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

PROG=$TT_BIN/prog_wait
need_file "$PROG"
tap_plan 10
d=$(fresh_dir live)
mkdir -p "$d/cwd/dumps"
mkfifo "$d/in"
(cd "$d/cwd" && exec env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR=dumps MEMLEDGER_SIGNAL=USR1 \
  "$PROG" <"$d/in" >"$d/out" 2>"$d/err") &
pid=$!
exec 3>"$d/in"
wait_for 20 grep -q ready "$d/out" || bail "prog_wait did not start"

path=$($ML_TIMEOUT "$ML" dump "$pid" 2>"$d/derr")
tap_eq "dump prints the new file in the process's MEMLEDGER_DIR (relative to its cwd)" \
  "$d/cwd/dumps/memledger.$pid.1.dump" "$path"
tap_check "the dump is complete and consistent" dump_complete "$path"
tap_eq "it holds the 2 blocks of 5000 bytes leaked so far" "2 10000" "$(dump_unfreed "$path")"
"$ML" report "$path" >"$d/rep" 2>&1
tap_check "its report names wait_leak_early" grep -q "in wait_leak_early at" "$d/rep"

echo more >&3
sleep 0.2
path2=$($ML_TIMEOUT "$ML" dump --timeout 20 "$pid" 2>>"$d/derr")
tap_eq "a second dump: sequence 2, 3 blocks" "$d/cwd/dumps/memledger.$pid.2.dump 3 17000" \
  "$path2 $(dump_unfreed "$path2" 2>/dev/null)"
exec 3>&-
wait "$pid"

"$ML" dump "$pid" >/dev/null 2>"$d/e1"
tap_eq "a process that is gone: exit 1, no such process" "1 1" "$? $(grep -c 'no such process' "$d/e1")"
sleep 30 </dev/null &
spid=$!
"$ML" dump "$spid" >/dev/null 2>"$d/e2"
tap_eq "a process without memledger: exit 1, says so" "1 1" \
  "$? $(grep -c 'does not run memledger' "$d/e2")"
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
"$ML" dump 1x >/dev/null 2>&1
tap_eq "not a pid: exit 2" 2 "$?"

# bash started in start/ with MEMLEDGER_DIR=dumps, then cd elsewhere/
mkdir -p "$d/start/dumps" "$d/elsewhere/dumps"
(cd "$d/start" && exec env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR=dumps MEMLEDGER_QUIET=1 \
  bash -c 'cd "$0" && echo moved >"$0/moved" && while :; do sleep 0.2; done' "$d/elsewhere" \
  </dev/null >/dev/null 2>&1) &
bpid=$!
wait_for 20 test -s "$d/elsewhere/moved" || bail "bash did not change directory"
out=$("$ML" dump --timeout 10 "$bpid" 2>"$d/e4")
tap_eq "relative dir, then chdir: the dump in the start directory's dumps/" \
  "$d/start/dumps/memledger.$bpid.1.dump 0" "$out $(count_dumps "$d/elsewhere/dumps")"
kill "$bpid" 2>/dev/null
wait "$bpid" 2>/dev/null
if [ "$(id -u)" != 0 ] && [ -d /proc/1 ]; then
  "$ML" dump 1 >/dev/null 2>"$d/e3"
  tap_eq "another user's process: exit 1 with EPERM" "1 1" "$? $(grep -c 'EPERM\|not permitted\|Permission denied' "$d/e3")"
else
  tap_skip "running as root: no EPERM to test"
fi

#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_signals.sh - memledger dump PID reads MEMLEDGER_SIGNAL and
# MEMLEDGER_ENABLED (or MEMLEDGER_OPTIONS) with the library's own grammar and
# never kills or misses:
# for nine settings of a sleeping program (off, none, 0, ENABLED=0: nothing
# sent, exit 1 with a reason; RTMAX, SIGRTMIN, RTMAX-2: that signal; KILL,
# SEGV: refused by the library, so SIGUSR2) the program is still running
# afterwards, and a dump appears exactly where dumps are on.  A zombie is
# called one; a `memledger run` process is dumped through its program.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

tap_plan 15
d=$(fresh_dir dsig)

# term_caught PID: the library has installed its handlers (SIGTERM's, for
# the dump before a fatal signal, comes with the dump signal's).
term_caught() {
  local m
  m=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
  [ -n "$m" ] && (( 0x$m & 0x4000 ))
}

# start_sleeper DIR VAR=VALUE: a `sleep 60` with the library, once it has
# initialised (its handlers are installed, or with tracking off, mapped).
start_sleeper() {
  mkdir -p "$1"
  env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$1" MEMLEDGER_QUIET=1 "$2" sleep 60 \
    </dev/null >/dev/null 2>"$1/err" &
  spid=$!
  wait_for 20 grep -q libmemledger "/proc/$spid/maps" || bail "sleep did not start"
  case $2 in
  MEMLEDGER_ENABLED=0 | MEMLEDGER_TRACE_PID=*) sleep 0.3 ;; # no handlers to wait for
  *) wait_for 20 term_caught "$spid" || bail "the library did not start in sleep ($2)" ;;
  esac
}

# case NAME VAR=VALUE EXPECT(on|off)
check_case() {
  local sd="$d/$1" out rc alive n
  start_sleeper "$sd" "$2"
  out=$($ML_TIMEOUT "$ML" dump --timeout 10 "$spid" 2>"$sd/derr")
  rc=$?
  sleep 0.2
  kill -0 "$spid" 2>/dev/null && alive=alive || alive=dead
  n=$(count_dumps "$sd")
  kill "$spid" 2>/dev/null
  wait "$spid" 2>/dev/null
  if [ "$3" = on ]; then
    tap_eq "$2: the dump is written, the program still runs" \
      "0 alive 1 $sd/memledger.$spid.1.dump" "$rc $alive $n $out"
  else
    tap_eq "$2: exit 1 with a reason, nothing sent, the program still runs" \
      "1 alive 0 1" "$rc $alive $n $(grep -c 'nothing sent' "$sd/derr")"
  fi
}

check_case off MEMLEDGER_SIGNAL=off off
check_case none MEMLEDGER_SIGNAL=none off
check_case zero MEMLEDGER_SIGNAL=0 off
check_case disabled MEMLEDGER_ENABLED=0 off
check_case rtmax MEMLEDGER_SIGNAL=RTMAX on
check_case sigrtmin MEMLEDGER_SIGNAL=SIGRTMIN on
check_case rtmax2 MEMLEDGER_SIGNAL=RTMAX-2 on
check_case kill MEMLEDGER_SIGNAL=KILL on
check_case segv MEMLEDGER_SIGNAL=SEGV on
# the same from MEMLEDGER_OPTIONS
check_case listoff MEMLEDGER_OPTIONS=max_frames=8:signal=off off
check_case listrtmax MEMLEDGER_OPTIONS=signal=RTMAX-1,max_frames=8 on

# A program exec'd with the library but tracking off through
# MEMLEDGER_TRACE_PID naming another process (no handler either) is not
# signalled: the library's beacon says tracking is off.
start_sleeper "$d/other" MEMLEDGER_TRACE_PID=1
"$ML" dump "$spid" >/dev/null 2>"$d/other/derr"
rc=$?
kill -0 "$spid" 2>/dev/null && alive=alive || alive=dead
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
tap_eq "tracking off through MEMLEDGER_TRACE_PID: exit 1, says so, the program still runs" \
  "1 alive 1" "$rc $alive $(grep -c 'tracking off (a program that another process' "$d/other/derr")"

# A forked child that does not follow forks (MEMLEDGER_FOLLOW_FORK=0: a
# bash subshell) keeps the inherited handler but neither records nor
# dumps: refused at once, not signalled in vain.
mkdir -p "$d/fork"
env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d/fork" MEMLEDGER_FOLLOW_FORK=0 MEMLEDGER_QUIET=1 \
  bash -c '(while :; do sleep 0.2; done) & echo $! >"$0/kid"; wait' "$d/fork" </dev/null >/dev/null 2>&1 &
fpid=$!
wait_for 20 test -s "$d/fork/kid" || bail "no forked child"
kid=$(cat "$d/fork/kid")
wait_for 20 grep -q libmemledger "/proc/$kid/maps" || bail "the forked child has no library"
"$ML" dump --timeout 3 "$kid" >/dev/null 2>"$d/fork/derr"
rc=$?
kill -0 "$kid" 2>/dev/null && alive=alive || alive=dead
tap_eq "a forked child with follow_fork=0: exit 1, 'tracking off', nothing sent, still runs" \
  "1 1 alive 0" "$rc $(grep -c 'tracking off (a forked child with follow_fork=0)' "$d/fork/derr") $alive $(count_dumps "$d/fork")"
kill "$kid" "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null

# A zombie: a child that exited, not yet reaped by its parent (a shell that
# execs sleep keeps its exited child unreaped).
mkdir -p "$d/z"
env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d/z" MEMLEDGER_QUIET=1 \
  sh -c 'sleep 0.3 & echo $! >"$0/zpid"; exec sleep 30' "$d/z" </dev/null >/dev/null 2>&1 &
ppid=$!
wait_for 20 test -s "$d/z/zpid" || bail "no zombie"
zpid=$(cat "$d/z/zpid")
wait_for 20 grep -q '^State:.*Z' "/proc/$zpid/status" || bail "$zpid is not a zombie"
"$ML" dump "$zpid" >/dev/null 2>"$d/z/derr"
tap_eq "a zombie: exit 1, 'is a zombie (exited)'" "1 1" \
  "$? $(grep -c "process $zpid is a zombie (exited)" "$d/z/derr")"
kill "$ppid" 2>/dev/null
wait "$ppid" 2>/dev/null

# memledger run's own pid: the program under it is dumped.
mkdir -p "$d/run"
"$ML" run -q --dir "$d/run" -- sleep 60 </dev/null >/dev/null 2>&1 &
rpid=$!
cpid=$(run_program "$rpid") || bail "memledger run did not start its program"
wait_for 20 term_caught "$cpid" || bail "the library did not start in the program"
out=$("$ML" dump "$rpid" 2>"$d/run/derr")
rc=$?
tap_eq "dump of a memledger run process: the program's dump, and it says so" "0 1 1" \
  "$rc $(echo "$out" | grep -c "^$d/run/memledger\.$cpid\.1\.dump\$") $(grep -c "is 'memledger run': dumping its program" "$d/run/derr")"
kill "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null || true

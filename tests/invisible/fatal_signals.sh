#!/bin/bash
# SPDX-License-Identifier: MIT
# fatal_signals.sh - a program that dies by a signal left at its default
# action dies the same way under the preload (the shell sees 128+N as
# without it), and memledger writes a dump first: "trigger: fatal-signal"
# for SIGTERM from outside, raise(SIGINT), SIGHUP and SIGQUIT (core dumps
# off), "trigger: crash" for a NULL write (SIGSEGV) and abort().  And
# "memledger run" on a program killed by SIGTERM prints the leak report and
# exits 143.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_fatal
ML=$ML_BUILDDIR/memledger
need_file "$PROG" "$ML"
tap_plan 14

# run_mode MODE [ENV...]: prints the status of the program (raising its
# own signal), core dumps off, run in a subshell; called as $(run_mode ...
# 2>/dev/null), so that bash's job messages ("Hangup", "Quit") are dropped.
run_mode() {
  local mode=$1
  shift
  (ulimit -c 0; exec timeout -k 5 30 env "$@" "$PROG" $mode) </dev/null >/dev/null 2>&1
  echo $?
}

# (a) SIGTERM from outside
d=$(fresh_dir term)
(ulimit -c 0; exec "$PROG" wait) </dev/null >"$d/base.out" 2>&1 &
bp=$!
wait_for 20 grep -q '^ready' "$d/base.out" && kill -TERM $bp
wait_pid $bp 20
b=$?
ml_bg "$d" /dev/null "$d/out" "$d/err" "$PROG" wait
pp=$BG_PID
wait_for 20 grep -q '^ready' "$d/out" && kill -TERM $pp
wait_pid $pp 20
rc=$?
tap_eq "kill -TERM from outside: status as without the preload ($b)" "$b" "$rc"
wait_for 5 test "$(dumps_with_trigger "$d" fatal-signal)" -ge 1
tap_eq "kill -TERM: a dump with trigger: fatal-signal" 1 "$(dumps_with_trigger "$d" fatal-signal)"

# (b)-(f) the program's own signal
for m in int:fatal-signal hup:fatal-signal quit:fatal-signal segv:crash abort:crash; do
  mode=${m%%:*} trig=${m#*:}
  d=$(fresh_dir $mode)
  b=$(run_mode $mode 2>/dev/null)
  rc=$(run_mode $mode LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d" 2>/dev/null)
  tap_eq "$mode: status as without the preload ($b)" "$b" "$rc"
  wait_for 5 test "$(dumps_with_trigger "$d" $trig)" -ge 1
  tap_eq "$mode: a dump with trigger: $trig" 1 "$(dumps_with_trigger "$d" $trig)"
done

# memledger run -- prog, prog killed by SIGTERM
d=$(fresh_dir run)
export MEMLEDGER_LIB=$ML_LIB
"$ML" run --dir "$d" -- "$PROG" wait </dev/null >"$d/out" 2>"$d/err" &
rp=$!
pid=
wait_for 20 grep -q '^ready' "$d/out" && pid=$(sed -n 's/^ready //p' "$d/out")
[ -n "$pid" ] && kill -TERM "$pid"
wait_pid $rp 60
rc=$?
tap_eq "memledger run: the program killed by SIGTERM, exit status 143" 143 "$rc"
if grep -q '^  remaining: ' "$d/err"; then
  tap_ok "memledger run: the leak report is printed"
else
  tap_fail "memledger run: the leak report is printed" "$(head -20 "$d/err")"
fi
exit 0

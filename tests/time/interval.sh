#!/bin/bash
# SPDX-License-Identifier: MIT
# interval.sh - MEMLEDGER_INTERVAL: periodic dumps (trigger interval) from a
# kernel timer that sends the dump signal, through the snapshot path: the
# dumps grow with the program's leak, nanosleep sees EINTR (the one thing a
# program observes, as with the dump signal), a program that installs its
# own handler for the dump signal never gets the timer's signals, a forked
# child gets a timer of its own, a bad value is refused with a warning, no
# dump signal means no timer, and `memledger dump` is not fooled by them.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

. "$ML_SRCDIR/tests/time/lib_time.sh" || bail "cannot read lib_time.sh"
tap_plan 11

d=$(fresh_dir grow)
worst=$(MEMLEDGER_INTERVAL=500ms ml_run "$d" "$PROG" grow 26 100 2>"$d/err")
n=$(trigger_count "$d" interval)
if [ "$n" -ge 3 ] && [ "$n" -le 6 ]; then
  tap_ok "2.6 s at MEMLEDGER_INTERVAL=500ms: $n interval dumps"
else
  tap_fail "2.6 s at MEMLEDGER_INTERVAL=500ms: 3 to 6 interval dumps" "triggers: $(triggers "$d")" "$(cat "$d/err")"
fi
tap_diag "longest stall the program saw in its busy loop: ${worst:-?} us"
ok=1 prev=-1
for f in $(dumps_in "$d"); do dump_consistent "$f" >/dev/null || ok=0; done
while read -r trig _ bytes; do
  [ "$trig" = interval ] || continue
  [ "$bytes" -gt "$prev" ] || ok=0
  prev=$bytes
done < <(dump_series "$d")
if [ $ok = 1 ]; then tap_ok "the interval dumps are complete and grow with the leak"; else
  tap_fail "the interval dumps are complete and grow with the leak" "$(for f in $(dumps_in "$d"); do sed -n 2p "$f"; done)"; fi
tap_eq "the exit dump comes last" exit "$(triggers "$d" | awk '{ print $NF }')"

d=$(fresh_dir off)
ml_run "$d" "$PROG" grow 10 100 >/dev/null 2>"$d/err"
tap_eq "without MEMLEDGER_INTERVAL: the exit dump only" "exit " "$(triggers "$d")"

d=$(fresh_dir sleep)
eintr=$(MEMLEDGER_INTERVAL=300ms ml_run "$d" "$PROG" sleep 1000 2>"$d/err")
n=$(trigger_count "$d" interval)
if [ "${eintr:-0}" -ge 1 ] && [ "$n" -ge 2 ]; then
  tap_ok "nanosleep is interrupted (EINTR, $eintr times) and resumed; $n interval dumps"
else
  tap_fail "nanosleep is interrupted and resumed" "EINTR: ${eintr:-?}" "triggers: $(triggers "$d")"
fi

d=$(fresh_dir own)
got=$(MEMLEDGER_INTERVAL=200ms ml_run "$d" "$PROG" own 1000 2>"$d/err")
tap_eq "a program with its own SIGUSR2 handler never gets the timer's signals" 0 "$got"
tap_eq "... and no interval dump is written meanwhile" "exit " "$(triggers "$d")"

d=$(fresh_dir fork)
child=$(MEMLEDGER_INTERVAL=400ms ml_run "$d" "$PROG" fork 1500 2>"$d/err")
n=0
[ -n "$child" ] && n=$(trigger_count "$d" interval "$child")
if [ "$n" -ge 2 ]; then tap_ok "a forked child writes interval dumps under its own pid ($n)"; else
  tap_fail "a forked child writes interval dumps under its own pid" "child ${child:-?}: $n" "$(ls "$d")"; fi

d=$(fresh_dir bad)
MEMLEDGER_INTERVAL=soon ml_run "$d" "$PROG" grow 1 10 >/dev/null 2>"$d/err"
if grep -q 'MEMLEDGER_INTERVAL="soon" is not valid' "$d/err"; then tap_ok "a bad MEMLEDGER_INTERVAL is refused with a warning"; else
  tap_fail "a bad MEMLEDGER_INTERVAL is refused with a warning" "$(cat "$d/err")"; fi

d=$(fresh_dir nosig)
MEMLEDGER_SIGNAL=0 MEMLEDGER_INTERVAL=200ms ml_run "$d" "$PROG" grow 6 100 >/dev/null 2>"$d/err"
if grep -q "MEMLEDGER_INTERVAL needs the dump signal" "$d/err" && [ "$(triggers "$d")" = "exit " ]; then
  tap_ok "MEMLEDGER_SIGNAL=0: one warning, no periodic dumps"
else
  tap_fail "MEMLEDGER_SIGNAL=0: one warning, no periodic dumps" "$(triggers "$d")" "$(cat "$d/err")"
fi

# memledger dump PID prints the dump its signal asked for, not a periodic
# one written meanwhile.
d=$(fresh_dir cmd)
: >"$d/in"
MEMLEDGER_INTERVAL=100ms ml_bg "$d" "$d/in" "$d/out" "$d/err" "$PROG" grow 30 100
sleep 0.5
p=$("$ML_BUILDDIR/memledger" dump "$BG_PID" 2>"$d/derr")
wait_pid "$BG_PID" >/dev/null
got=$([ -n "$p" ] && dump_header "$p" trigger)
if [ "$got" = signal ]; then tap_ok "memledger dump PID among interval dumps: the signal's dump"; else
  tap_fail "memledger dump PID among interval dumps: the signal's dump" "got '$got' from '$p'" \
    "$(cat "$d/derr")"; fi
[ "$T_FAILED" = 0 ]

#!/bin/bash
# SPDX-License-Identifier: MIT
# signal_threads.sh - dump signals while 4 threads allocate, free, and free
# each other's blocks: every signal gives a complete, consistent dump, the
# program is not disturbed, and the exit dump counts what the program says
# it still holds.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_threads
need_file "$PROG"
NSIG=20
NBURST=50

tap_plan 16

d=$(fresh_dir sig)
mkfifo "$d/ctl" || bail "mkfifo failed"
ml_bg "$d" "$d/ctl" "$d/out" "$d/err" "$PROG" 4 20000
pid=$BG_PID
exec 3>"$d/ctl" # the program runs until this is closed

if wait_for 60 grep -q '^ready$' "$d/out"; then
  tap_ok "prog_threads started its 4 threads under the preload"
else
  tap_fail "prog_threads started its 4 threads under the preload" "$(cat "$d/out" "$d/err")"
fi

# One signal at a time: wait (bounded) for its dump, then 20 ms.
sent=0
for i in $(seq 1 $NSIG); do
  kill -USR2 "$pid" 2>/dev/null || break
  sent=$i
  wait_for 30 test -e "$d/memledger.$pid.$i.dump" || break
  sleep 0.02
done
got=0
for i in $(seq 1 $NSIG); do
  [ -e "$d/memledger.$pid.$i.dump" ] && got=$((got + 1))
done
tap_eq "$NSIG signals sent 20 ms apart gave $NSIG dumps" "$NSIG $NSIG" "$sent $got"

bad= ntrig=0 nseq=0
for i in $(seq 1 $NSIG); do
  f=$d/memledger.$pid.$i.dump
  [ -e "$f" ] || continue
  r=$(dump_consistent "$f") || bad="$bad$f: $r
"
  [ "$(dump_header "$f" trigger)" = signal ] && [ "$(dump_header "$f" pid)" = "$pid" ] && ntrig=$((ntrig + 1))
  [ "$(dump_header "$f" sequence)" = "$i" ] && nseq=$((nseq + 1))
done
if [ -z "$bad" ] && [ $got -gt 0 ]; then
  tap_ok "every signal dump is complete ([end]) and its unfreed line equals the sums of [unfreed]"
else
  tap_fail "every signal dump is complete ([end]) and its unfreed line equals the sums of [unfreed]" "$bad"
fi
tap_eq "every signal dump says trigger: signal and the program's pid" "$NSIG" "$ntrig"
tap_eq "signal dump n says sequence: n" "$NSIG" "$nseq"

# A burst without waiting: requests may merge, none may be lost entirely,
# and the program must not notice.
before=$(count_dumps "$d" "$pid")
for i in $(seq 1 $NBURST); do kill -USR2 "$pid" 2>/dev/null || break; done
more_dumps() { [ "$(count_dumps "$d" "$pid")" -gt "$before" ]; }
if wait_for 30 more_dumps; then
  tap_ok "a burst of $NBURST signals gives at least one more dump"
else
  tap_fail "a burst of $NBURST signals gives at least one more dump" "dumps: $(count_dumps "$d" "$pid")"
fi
# let the dumper drain the burst before the exit (bounded)
sleep 0.3

exec 3>&- # end of input: the program stops its threads and exits
wait_pid "$pid"
rc=$?
tap_eq "the program exits 0" 0 "$rc"

live=$(sed -n 's/^live: \([0-9]*\) blocks, \([0-9]*\) bytes$/\1 \2/p' "$d/out")
last=$(dumps_in "$d" "$pid" | tail -n1)
tap_eq "the last dump is the exit dump" exit "$(dump_header "$last" trigger 2>/dev/null)"
r=$(dump_consistent "$last" 2>&1) && tap_ok "the exit dump is complete and consistent" ||
  tap_fail "the exit dump is complete and consistent" "$r"
if [ -n "$live" ] && [ "$(dump_unfreed "$last")" = "$live" ]; then
  tap_ok "the exit dump counts what the program still holds ($live)"
else
  tap_fail "the exit dump counts what the program still holds" "program: ${live:-<no live line>}" \
    "dump: $(dump_unfreed "$last" 2>/dev/null)"
fi
tap_eq "tracked_live_blocks/bytes of the exit dump agree" "${live:-?}" \
  "$(dump_header "$last" tracked_live_blocks 2>/dev/null) $(dump_header "$last" tracked_live_bytes 2>/dev/null)"

bad=
for f in $(dumps_in "$d" "$pid"); do
  dump_consistent "$f" >/dev/null || bad="$bad $f"
done
tap_eq "every dump of the run, burst ones included, is consistent" "" "$bad"
if [ "$(grep -c '' "$d/err")" = 1 ] && grep -q '^memledger: [0-9]* unfreed blocks' "$d/err"; then
  tap_ok "stderr holds the summary line only"
else
  tap_fail "stderr holds the summary line only" "$(head -20 "$d/err")"
fi

# ---- exit() while the threads still allocate and free ----------------------------
for round in 1 2; do
  d=$(fresh_dir "exit$round")
  mkfifo "$d/ctl" || bail "mkfifo failed"
  ml_bg "$d" "$d/ctl" "$d/out" "$d/err" "$PROG" 4 20000 exit
  pid=$BG_PID
  exec 3>"$d/ctl"
  wait_for 60 grep -q '^ready$' "$d/out"
  sleep 0.1
  exec 3>&-
  wait_pid "$pid"
  echo $? >"$d/rc"
done
tap_eq "exit() while 4 threads run: exit status 0 (twice)" "0 0" "$(cat "$T_TMP/exit1/rc") $(cat "$T_TMP/exit2/rc")"
bad=
for round in 1 2; do
  f=$(only_dump "$T_TMP/exit$round")
  r=$(dump_consistent "$f" 2>&1) && [ "$(dump_header "$f" trigger)" = exit ] || bad="$bad round $round: ${r:-trigger?} "
done
tap_eq "exit() while 4 threads run: one exit dump, complete and consistent" "" "$bad"
tap_eq "exit() while 4 threads run: the summary line only on stderr" "1 1" \
  "$(grep -c '' "$T_TMP/exit1/err") $(grep -c '' "$T_TMP/exit2/err")"
exit 0

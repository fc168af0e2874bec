#!/bin/bash
# SPDX-License-Identifier: MIT
# fork_variants.sh - process creation beyond fork.sh: repeated forks while
# threads allocate; fork+exec, posix_spawn and vfork+exec (the exec'd program
# writes its own dump, the child side none before exec); daemon() (the
# daemon dumps under its own pid; the original process leaves by _exit in
# glibc's daemon(), so it writes none); threads that exit, are cancelled or
# are detached holding tracked blocks; pthread_atfork handlers of the
# program that allocate and free (no deadlock).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$ML_BUILDDIR/tests/hardening/fork_prog
need_file "$PROG"
TRUE=$(command -v true)
case $TRUE in /*) ;; *) TRUE=/bin/true ;; esac
TRUE_REAL=$(readlink -f "$TRUE")

tap_plan 20

# ---- repeated forks while 3 threads allocate -----------------------------------
d=$(fresh_dir forks)
ml_run "$d" "$PROG" forks 5 >"$d/out" 2>"$d/err"
rc=$?
kids=$(sed -n 's/^child \([0-9]*\)$/\1/p' "$d/out")
tap_eq "5 forks while 3 threads allocate: exit 0, 5 children, done" "0 5 done" \
  "$rc $(printf '%s\n' "$kids" | grep -c .) $(tail -n1 "$d/out")"
bad=
for k in $kids; do
  f=$(only_dump "$d" "$k")
  [ -n "$f" ] || { bad="$bad child $k: no dump or several;"; continue; }
  r=$(dump_consistent "$f") || bad="$bad $f: $r;"
  [ "$(dump_header "$f" pid) $(dump_header "$f" trigger)" = "$k exit" ] || bad="$bad $f: pid/trigger;"
  [ "$(unfreed_by_size "$f" 5003 | awk '{ print $2 }')" = 1 ] || bad="$bad $f: no 5003 leak;"
done
tap_eq "each child writes one consistent exit dump under its own pid with its 5003-byte leak" "" "$bad"
kl=" $(echo $kids) "
pd=$(for f in $(dumps_in "$d"); do
  case $kl in *" $(dump_header "$f" pid) "*) ;; *) echo "$f" ;; esac
done)
tap_eq "the parent: one dump, without the children's leaks" "1|" \
  "$(printf '%s\n' "$pd" | grep -c .)|$(unfreed_by_size "$(printf '%s\n' "$pd" | head -n1)" 5003 2>/dev/null)"
tap_eq "6 summary lines on stderr and nothing else" "6|6" \
  "$(grep -c '' "$d/err")|$(grep -c '^memledger: [0-9]* unfreed blocks' "$d/err")"

# ---- fork+exec, posix_spawn, vfork+exec ----------------------------------------------
for how in forkexec spawn vfork; do
  d=$(fresh_dir "$how")
  ml_run "$d" "$PROG" "$how" "$TRUE" >"$d/out" 2>"$d/err"
  rc=$?
  k=$(sed -n 's/^child \([0-9]*\)$/\1/p' "$d/out")
  kd=$(dumps_in "$d" "${k:-none}")
  exe=$(dump_header "$(printf '%s\n' "$kd" | head -n1)" exe 2>/dev/null)
  tap_eq "$how: exit 0; the child pid has exactly one dump, written by the exec'd $TRUE" \
    "0|1|$TRUE_REAL|exit" \
    "$rc|$(printf '%s\n' "$kd" | grep -c .)|$exe|$(dump_header "$(printf '%s\n' "$kd" | head -n1)" trigger 2>/dev/null)"
  pdump=$(dumps_in "$d" | grep -v "memledger\.${k:-none}\.")
  tap_eq "$how: the parent writes one dump, with its own 4001-byte leak" "1|1 4001" \
    "$(printf '%s\n' "$pdump" | grep -c .)|$(unfreed_by_size "$(printf '%s\n' "$pdump" | head -n1)" 4001 2>/dev/null | awk '{ print $2, $3 }')"
done

# ---- daemon() --------------------------------------------------------------------------
d=$(fresh_dir daemon)
ml_run "$d" "$PROG" daemon "$d/pidfile" >"$d/out" 2>"$d/err"
rc=$?
wait_for 30 test -s "$d/pidfile"
dp=$(cat "$d/pidfile" 2>/dev/null)
dpdump=$d/memledger.${dp:-none}.1.dump
wait_for 30 test -e "$dpdump"
tap_eq "daemon(): the launcher exits 0 and the daemon writes its pid file" "0 1" \
  "$rc $([ -n "$dp" ] && echo 1)"
r=$(dump_consistent "$dpdump" 2>&1) && tap_ok "daemon(): the daemon's exit dump is in MEMLEDGER_DIR, complete and consistent" ||
  tap_fail "daemon(): the daemon's exit dump is in MEMLEDGER_DIR, complete and consistent" "$r" "$(ls -A "$d")"
tap_eq "daemon(): that dump has the daemon's pid and its 4099-byte leak" "${dp:-?} 1 4099" \
  "$(dump_header "$dpdump" pid 2>/dev/null) $(unfreed_by_size "$dpdump" 4099 2>/dev/null | awk '{ print $2, $3 }')"
tap_eq "daemon(): no other dump (the launcher leaves by _exit inside daemon())" 1 "$(count_dumps "$d")"

# ---- threads that exit, are cancelled, are detached -------------------------------------
d=$(fresh_dir threads)
ml_run "$d" "$PROG" threads >"$d/out" 2>"$d/err"
rc=$?
f=$(only_dump "$d")
tap_eq "threads exiting/cancelled/detached with tracked blocks: exit 0, done" "0 done" "$rc $(cat "$d/out")"
r=$(dump_consistent "$f" 2>&1) && tap_ok "threads: the exit dump is complete and consistent" ||
  tap_fail "threads: the exit dump is complete and consistent" "$r"
got=
for s in 3001 3002 3003 3004; do got="$got$(unfreed_by_size "$f" $s 2>/dev/null | awk '{ print $2 }'),"; done
tap_eq "threads: the blocks of the exited (3001), cancelled (3002), detached (3003) and main (3004) threads are unfreed" \
  "1,1,1,1," "$got"
tap_eq "threads: stderr holds the summary line only" "1" "$(grep -c '' "$d/err")"

# ---- pthread_atfork handlers of the program that allocate -----------------------------------
d=$(fresh_dir atfork)
ml_run "$d" "$PROG" atfork 20 >"$d/out" 2>"$d/err"
rc=$?
tap_eq "20 forks with the program's allocating atfork handlers: no deadlock, exit 0" "0 done" "$rc $(cat "$d/out")"
f=$(only_dump "$d")
r=$(dump_consistent "$f" 2>&1) && tap_ok "atfork: one exit dump (children leave by _exit), complete and consistent" ||
  tap_fail "atfork: one exit dump (children leave by _exit), complete and consistent" "$r" "$(ls -A "$d")"
exit 0

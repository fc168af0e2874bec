#!/bin/bash
# SPDX-License-Identifier: MIT
# fork.sh - a threaded program forks: parent and child each dump under their
# own pid; the child's dump has the parent's pre-fork blocks plus its own
# leak, the parent's has not the child's; MEMLEDGER_FOLLOW_FORK=0 silences
# the child; the dump signal works in the child.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_fork
need_file "$PROG"

tap_plan 17

# sizes: 7001 x 2 leaked before the fork, 6007 leaked by the child, 2048
# blocks of the parent's threads (live in the child: the threads are gone)
others() { dump_section "$1" unfreed | awk '!($5 == 7001 && $6 == 7001) && !($5 == 6007 && $6 == 6007)'; }

# ---- follow_fork=1 (default) --------------------------------------------------
d=$(fresh_dir follow)
ml_run "$d" "$PROG" >"$d/out" 2>"$d/err"
rc=$?
cpid=$(sed -n 's/^child \([0-9]*\) ok$/\1/p' "$d/out")
ppid=$(sed -n 's/^parent \([0-9]*\) child-status .*/\1/p' "$d/out")
tap_eq "the program and its child run normally (exit 0, child ok, child status 0)" \
  "0|child-status 0|1" \
  "$rc|$(grep -o 'child-status [0-9]*' "$d/out")|$([ -n "$cpid" ] && echo 1)"
pd=$(only_dump "$d" "${ppid:-none}")
cd_=$(only_dump "$d" "${cpid:-none}")
tap_eq "one exit dump per process, named with its own pid (2 in all)" "2|1|1" \
  "$(count_dumps "$d")|$([ -n "$pd" ] && echo 1)|$([ -n "$cd_" ] && echo 1)"
bad=
for f in "$pd" "$cd_"; do r=$(dump_consistent "$f" 2>&1) || bad="$bad${f:-<missing>}: $r "; done
tap_eq "both dumps complete and consistent" "" "$bad"
tap_eq "the child's dump: pid and ppid are the child's, trigger exit" "${cpid:-?} ${ppid:-?} exit" \
  "$(dump_header "$cd_" pid 2>/dev/null) $(dump_header "$cd_" ppid 2>/dev/null) $(dump_header "$cd_" trigger 2>/dev/null)"
tap_eq "the child's dump has the 2 pre-fork blocks of 7001 bytes" "2 14002" \
  "$(unfreed_by_size "$cd_" 7001 2>/dev/null | awk '{ print $2, $3 }')"
tap_eq "the child's dump has its own leak of 6007 bytes" "1 6007" \
  "$(unfreed_by_size "$cd_" 6007 2>/dev/null | awk '{ print $2, $3 }')"
tap_eq "the rest of the child's dump: only the threads' 2048-byte blocks live at the fork" "" \
  "$(others "$cd_" 2>/dev/null | awk '$5 != 2048 || $6 != 2048')"
tap_eq "the parent's dump: exactly the 2 pre-fork blocks (unfreed: 2 blocks, 14002 bytes)" "2 14002|2 14002" \
  "$(dump_unfreed "$pd" 2>/dev/null)|$(unfreed_by_size "$pd" 7001 2>/dev/null | awk '{ print $2, $3 }')"
tap_eq "the parent's dump does not have the child's leak" "" "$(unfreed_by_size "$pd" 6007 2>/dev/null)"

# ---- follow_fork=0 ---------------------------------------------------------------
d=$(fresh_dir nofollow)
MEMLEDGER_FOLLOW_FORK=0 ml_run "$d" "$PROG" >"$d/out" 2>"$d/err"
rc=$?
cpid=$(sed -n 's/^child \([0-9]*\) ok$/\1/p' "$d/out")
ppid=$(sed -n 's/^parent \([0-9]*\) child-status .*/\1/p' "$d/out")
tap_eq "FOLLOW_FORK=0: the child still runs correctly (exit 0, child ok, status 0)" \
  "0|child-status 0|1" \
  "$rc|$(grep -o 'child-status [0-9]*' "$d/out")|$([ -n "$cpid" ] && echo 1)"
pd=$(only_dump "$d" "${ppid:-none}")
tap_eq "FOLLOW_FORK=0: the child writes no dump, the parent its usual one" "1|0|2 14002" \
  "$(count_dumps "$d")|$(count_dumps "$d" "${cpid:-none}")|$(dump_unfreed "$pd" 2>/dev/null)"
tap_eq "FOLLOW_FORK=0: one summary line (the parent's)" 1 "$(grep -c '^memledger: [0-9]* unfreed' "$d/err")"

# ---- the dump signal sent to the child -------------------------------------------------
d=$(fresh_dir sigchild)
mkfifo "$d/ctl" || bail "mkfifo failed"
ml_bg "$d" "$d/ctl" "$d/out" "$d/err" "$PROG" wait
ppid=$BG_PID
exec 3>"$d/ctl"
wait_for 60 grep -q '^child waiting$' "$d/out"
cpid=$(sed -n 's/^child \([0-9]*\) ok$/\1/p' "$d/out")
if [ -n "$cpid" ]; then
  kill -USR2 "$cpid"
  wait_for 30 test -e "$d/memledger.$cpid.1.dump"
fi
sd=$d/memledger.${cpid:-none}.1.dump
tap_eq "SIGUSR2 to the waiting child: a dump named with the child's pid" "signal ${cpid:-?}" \
  "$(dump_header "$sd" trigger 2>/dev/null) $(dump_header "$sd" pid 2>/dev/null)"
r=$(dump_consistent "$sd" 2>&1) && tap_ok "the child's signal dump is complete and consistent" ||
  tap_fail "the child's signal dump is complete and consistent" "$r"
tap_eq "the child's signal dump has its leak and the pre-fork blocks" "1 6007|2 14002" \
  "$(unfreed_by_size "$sd" 6007 2>/dev/null | awk '{ print $2, $3 }')|$(unfreed_by_size "$sd" 7001 2>/dev/null | awk '{ print $2, $3 }')"
exec 3>&-
wait_pid "$ppid"
rc=$?
tap_eq "then both exit normally" "0|child-status 0" "$rc|$(grep -o 'child-status [0-9]*' "$d/out")"
tap_eq "the child's exit dump is its second; the parent has only its exit dump" "exit|exit|1" \
  "$(dump_header "$d/memledger.${cpid:-none}.2.dump" trigger 2>/dev/null)|$(dump_header "$d/memledger.$ppid.1.dump" trigger 2>/dev/null)|$(count_dumps "$d" "$ppid")"
exit 0

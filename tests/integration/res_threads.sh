#!/bin/bash
# SPDX-License-Identifier: MIT
# res_threads.sh - [threads]: the program's threads with their creation
# stacks.  prog_res threads makes one thread of each fate in a function of
# its own and dumps twice: joined threads and ended detached ones are
# absent; a thread that ended unjoined (by return, pthread_exit or
# cancellation) is `ended` with id 0 and the stack it was created from; a
# running joinable one is `running` with its tid, its stack size plus guard
# and its pthread_setname_np name; a detached running one `detached`.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$(dirname "$0")/lib_res.sh" || bail "cannot read lib_res.sh"

tap_plan 13

res_run threads threads
d=$D d1=${DUMPS[0]:-none} d2=${DUMPS[1]:-none}
tap_eq "the program runs and writes its two dumps" "0|1|1" \
  "$RC|$([ -f "$d1" ] && echo 1)|$([ -f "$d2" ] && echo 1)"

page=$(getconf PAGESIZE)
lines=$(res_lines "$d1" threads | awk '{ print $2 }' | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
tap_eq "first dump: 1 running, 1 detached, 3 ended threads (joined and ended detached ones absent)" \
  "detached=1 ended=3 running=1 " "$lines"

tid_r=$(sed -n 's/^tid running //p' "$d/out")
tid_d=$(sed -n 's/^tid detached //p' "$d/out")
tap_eq "running: its tid, 256 KiB of stack plus a guard page, its name" \
  "running $((256 * 1024 + page)) ${tid_r:-?} ml-worker" \
  "$(res_lines "$d1" threads | awk '$2 == "running" { print $2, $5 / $4, $1, $7 }')"
tap_eq "detached: its tid, the default stack (RLIMIT_STACK) plus a guard page, the name it gave itself" \
  "detached $((8192 * 1024 + page)) ${tid_d:-?} ml-self" \
  "$(res_lines "$d1" threads | awk '$2 == "detached" { print $2, $5 / $4, $1, $7 }')"
tap_eq "ended threads have id 0, hold their stacks, have no name" "0 $((8192 * 1024 + page)) -" \
  "$(res_lines "$d1" threads | awk '$2 == "ended" { print $1, $5 / $4, $7 }' | sort -u)"

# The function that created each listed thread, from its stack's frames.
creators() { # DUMP KIND
  res_lines "$1" threads | awk -v k="$2" '$2 == k' | while read -r line; do
    printf '%s\n' "$line" | res_funcs | grep -m1 '^make_'
  done | sort | tr '\n' ' '
}
tap_eq "ended: created by make_cancelled_thread, make_exiting_thread (pthread_exit), make_leaked_thread" \
  "make_cancelled_thread make_exiting_thread make_leaked_thread " "$(creators "$d1" ended)"
tap_eq "running and detached threads: created by their functions" \
  "make_running_thread |make_detached_thread " "$(creators "$d1" running)|$(creators "$d1" detached)"
tap_eq "the creating function's caller (threads) is in the stacks too" "5" \
  "$(res_lines "$d1" threads | res_funcs | grep -c '^threads$')"
tap_eq "every stack of [threads] is listed in [stacks] (the command reads the dump, each thread's stack symbolized)" \
  "" "$(res_unlisted_stacks "$d1" threads)"

tap_eq "second dump (after joining the running one and the pthread_exit one, the detached one ended): two ended threads" \
  "make_cancelled_thread make_leaked_thread |" "$(creators "$d2" ended)|$(res_lines "$d2" threads | awk '$2 != "ended"')"
d3=$(ls "$d"/memledger.*.3.dump 2>/dev/null)
tap_eq "the exit dump lists the same two" "2|exit" \
  "$(res_lines "$d3" threads | awk '$2 == "ended"' | grep -c .)|$(dump_header "$d3" trigger)"

# 4 threads at once create 2000 threads each, detaching or joining each
# (glibc gives a detached thread's pthread_t to the next one at once), and
# map and unmap around them.
res_run race race
tap_eq "threads made, joined and detached by 4 threads at once: none left, the 4 kept mappings of 2 pages" \
  "0||$((2 * page)) $((2 * page)) $((2 * page)) $((2 * page)) " \
  "$RC|$(res_lines "${DUMPS[0]:-none}" threads)|$(res_lines "${DUMPS[0]:-none}" mappings | awk '{ printf "%s ", $5 / $4 }')"

res_run disabled threads MEMLEDGER_ENABLED=0
tap_eq "MEMLEDGER_ENABLED=0: the program runs the same, nothing written" "0|0" \
  "$RC|$(ls "$D" | grep -c '\.dump$')"

exit 0

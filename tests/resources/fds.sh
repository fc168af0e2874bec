#!/bin/bash
# SPDX-License-Identifier: MIT
# fds.sh - every dump's [fds] lists the program's descriptors with the call
# and the stack that made them (res_fds.c, checked by fds_check.py; the
# dumps are read through `memledger report --format json`, dump_json.py):
#  - one from each hooked entry point, kept: listed with its kind, its call
#    and a stack through the program's make_* function, in the snapshot
#    dump (memledger_dump) and in the exit dump; the records of closed
#    ones end (close, fclose, closedir, pclose, close_range, closefrom):
#    their numbers, filled again by raw dup3 calls, are "unseen";
#    dup2 onto an open descriptor replaces its record; a raw openat is
#    "unseen"; a descriptor the shell opened (exec 5<) is "inherited";
#  - fork: the child lists the parent's records, but the one it closed,
#    and its own; the parent does not list the child's;
#  - exec: a descriptor without O_CLOEXEC is "inherited" in the new image,
#    one with O_CLOEXEC is gone;
#  - MEMLEDGER_TRACK_FDS=0: [fds] is empty;
#  - MEMLEDGER_ENABLED=0: the program's calls still work (no dump).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
PROG=$ML_BUILDDIR/tests/resources/res_fds
CHECK="python3 $ML_SRCDIR/tests/resources/fds_check.py"
need_file "$PROG"
tap_plan 13

# check_fds NAME DUMP OUT [EXPECT...]: one TAP line from fds_check.py
check_fds() {
  local name=$1 dump=$2 out=$3 r
  shift 3
  if [ -z "$dump" ]; then
    tap_fail "$name" "no dump"
    return
  fi
  r=$($CHECK "$dump" "$out" "$@" 2>&1)
  if [ $? = 0 ] && [ -z "$r" ]; then
    tap_ok "$name"
  else
    tap_fail "$name" "$r"
  fi
}

# ---- every entry point ------------------------------------------------------------
d=$(fresh_dir all)
(exec 5</etc/hostname; ml_run "$d" "$PROG" all </dev/null >"$d/out" 2>"$d/err")
rc=$?
snap=$(sed -n 's/^dumped //p' "$d/out")
tap_eq "the program runs (exit 0, a snapshot dump and an exit dump)" "0 2 1" \
  "$rc $(count_dumps "$d") $([ -f "$snap" ] && echo 1)"
[ "$rc" = 0 ] || tap_diag_file "$d/err"
exitd=$(dumps_in "$d" | grep -vxF "$snap" | tail -n1)
tap_eq "the program kept a descriptor from each of 36 entry points" 36 \
  "$(awk '$1 == "leak" { print $2 }' "$d/out" | sort -u | wc -l)"
check_fds "snapshot dump: kept ones listed (kind, call, stack in make_*), closed ones not, fd 5 inherited" \
  "$snap" "$d/out" fd=5:file:inherited:/etc/hostname
check_fds "exit dump: the same" "$exitd" "$d/out" fd=5:file:inherited:/etc/hostname
# (an id "+N" stands for N descriptors the report left out of a group)
tap_eq "the dumps list each descriptor once, the dump's own file not at all" "0 0" \
  "$($DUMP_JSON fds "$snap" | awk '$1 !~ /^\+/ { print $1 }' | sort | uniq -d | wc -l) \
$({ $DUMP_JSON fds "$snap"; $DUMP_JSON fds "$exitd"; } | grep -cF -e "$d/#" -e "$d/.memledger" -e "$d/memledger")"

# ---- fork ---------------------------------------------------------------------------
d=$(fresh_dir fork)
ml_run "$d" "$PROG" fork </dev/null >"$d/out" 2>"$d/err"
rc=$?
cpid=$(sed -n 's/^child \([0-9]*\) closed.*/\1/p' "$d/out")
ppid=$(sed -n 's/^parent \([0-9]*\)$/\1/p' "$d/out")
closed=$(sed -n 's/^child [0-9]* closed \([0-9]*\)$/\1/p' "$d/out")
sock=$(sed -n 's/^child [0-9]* socket \([0-9]*\)$/\1/p' "$d/out")
kept=$(awk '$1 == "leak" && $4 == "file" { print $3 }' "$d/out")
tap_eq "fork: parent and child run (exit 0, one dump each)" "0 1 1" \
  "$rc $(count_dumps "$d" "${ppid:-none}") $(count_dumps "$d" "${cpid:-none}")"
[ "$rc" = 0 ] || tap_diag_file "$d/err"
check_fds "fork: the parent lists its two, not the child's socket" \
  "$(only_dump "$d" "${ppid:-none}")" "$d/out"
grep -v '^leak' "$d/out" >"$d/out.child"
check_fds "fork: the child lists the parent's kept one, not the one it closed, and its own socket" \
  "$(only_dump "$d" "${cpid:-none}")" "$d/out.child" "fd=${kept:-x}:file:open" \
  "fd=${sock:-x}:socket:socket"
[ "$closed" = "$sock" ] || tap_diag "the child's socket did not reuse the closed number"

# ---- exec ----------------------------------------------------------------------------
d=$(fresh_dir exec)
ml_run "$d" "$PROG" exec </dev/null >"$d/out" 2>"$d/err"
rc=$?
keep=$(sed -n 's/^exec kept //p' "$d/out")
gone=$(sed -n 's/^exec cloexec //p' "$d/out")
tap_eq "exec: the new image runs (exit 0, one dump, from the new image)" "0 1" \
  "$rc $(count_dumps "$d")"
[ "$rc" = 0 ] || tap_diag_file "$d/err"
check_fds "exec: the descriptor without O_CLOEXEC is inherited, the other one is gone" \
  "$(dumps_in "$d" | tail -n1)" /dev/null "fd=${keep:-x}:file:inherited:/etc/hostname" "gone=${gone:-x}"

# ---- off ------------------------------------------------------------------------------
d=$(fresh_dir nofds)
MEMLEDGER_TRACK_FDS=0 ml_run "$d" "$PROG" fork </dev/null >"$d/out" 2>"$d/err"
rc=$?
n=0
for f in $(dumps_in "$d"); do
  n=$((n + $($DUMP_JSON fds "$f" | wc -l)))
done
tap_eq "MEMLEDGER_TRACK_FDS=0: exit 0, two dumps, no descriptor listed" "0 2 0" "$rc $(count_dumps "$d") $n"
d=$(fresh_dir off)
MEMLEDGER_ENABLED=0 ml_run "$d" "$PROG" all </dev/null >"$d/out" 2>"$d/err"
rc=$?
tap_eq "MEMLEDGER_ENABLED=0: the program runs (exit 0, no dump)" "0 0" "$rc $(count_dumps "$d")"
bare=$(fresh_dir bare)
$ML_TIMEOUT "$PROG" all </dev/null >"$bare/out" 2>"$bare/err"
tap_eq "without the preload: the same descriptors, by number" \
  "$(grep -v '^dumped' "$bare/out" | sed 's/\.[A-Za-z0-9]*\//./')" \
  "$(grep -v '^dumped' "$d/out" | sed 's/\.[A-Za-z0-9]*\//./')"
exit 0

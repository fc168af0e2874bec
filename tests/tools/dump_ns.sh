#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_ns.sh - `memledger dump PID` of a process in other namespaces: its
# dump directory is a tmpfs mounted in its own mount namespace only (the
# command finds the dump under /proc/PID/root and prints that path), and,
# in a pid namespace too, its files are named with the pid it sees (1),
# not the command's view of it.  Skipped where unshare cannot make the
# namespaces (not root, no user namespaces).
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }
command -v unshare >/dev/null || { echo "1..0 # SKIP no unshare"; exit 0; }
d=$(fresh_dir ns)
mkdir -p "$d/mnt"
unshare -m --propagation private true 2>/dev/null ||
  { echo "1..0 # SKIP unshare -m does not work here"; exit 0; }
tap_plan 4

# start NAME UNSHARE_FLAGS...: a sleep with the library in new namespaces,
# dumping into a tmpfs on $d/mnt that only it sees; sets tpid (as we see it)
start() {
  local name=$1
  shift
  unshare "$@" --propagation private bash -c \
    'mount -t tmpfs none "$0" && exec env LD_PRELOAD="$1" MEMLEDGER_DIR="$0" MEMLEDGER_QUIET=1 sleep 60' \
    "$d/mnt" "$ML_LIB" </dev/null >/dev/null 2>"$d/$name.err" &
  upid=$!
  tpid=$upid
  case " $* " in *" -f "*) tpid=$(run_program "$upid") || bail "$name: no process under unshare" ;; esac
  wait_for 20 grep -q ' /memfd:memledger:' "/proc/$tpid/maps" ||
    bail "$name: the library did not start: $(cat "$d/$name.err")"
}

start mnt -m
out=$("$ML" dump --timeout 10 "$tpid" 2>"$d/mnt.derr")
tap_eq "another mount namespace: exit 0, the path under /proc/PID/root" \
  "0 /proc/$tpid/root$d/mnt/memledger.$tpid.1.dump" "$? $out"
tap_eq "the file is not in this namespace's $d/mnt" 0 "$(count_dumps "$d/mnt")"
kill "$tpid" 2>/dev/null
wait "$upid" 2>/dev/null

if unshare -m -p -f true 2>/dev/null; then
  start pid -m -p -f
  out=$("$ML" dump --timeout 10 "$tpid" 2>"$d/pid.derr")
  tap_eq "a pid namespace too: exit 0, the file named with pid 1" \
    "0 /proc/$tpid/root$d/mnt/memledger.1.1.dump" "$? $out"
  [ -n "$out" ] && [ -f "$out" ] && tap_ok "the dump is there" || tap_fail "the dump is there" "$(cat "$d/pid.derr")"
  kill "$tpid" 2>/dev/null
  wait "$upid" 2>/dev/null
else
  tap_skip "unshare -p does not work here"
  tap_skip "unshare -p does not work here"
fi
exit 0

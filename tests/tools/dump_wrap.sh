#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_wrap.sh - `memledger dump PID` of a program linked with the link-time
# flavour (-Wl,--wrap=..., libmemledger-wrap.so; no preload), with its
# environment intact and with its environment strings zeroed in place (as
# redis-server's process title does): the dump is written in its
# MEMLEDGER_DIR, not in the working directory, and has the program's 2
# blocks of 5000 bytes.  The second directory's name has ':', '%' and a
# space, which the library's beacon percent-encodes.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }
PROG=$TT_BIN/prog_wrap_wait # a libtool wrapper script: it execs the program
need_file "$PROG"

tap_plan 6
d=$(fresh_dir wrap)

for mode in keep wipe; do
  dumps=$d/$mode/dumps
  [ $mode = wipe ] && dumps="$d/$mode/dumps: 100%"
  mkdir -p "$dumps" "$d/$mode/cwd" && mkfifo "$d/$mode/in" || bail "mkfifo"
  (cd "$d/$mode/cwd" && exec env -u LD_PRELOAD MEMLEDGER_DIR="$dumps" MEMLEDGER_QUIET=1 \
    "$PROG" $mode <"$d/$mode/in" >"$d/$mode/out" 2>"$d/$mode/err") &
  pid=$!
  exec 7>"$d/$mode/in"
  wait_for 20 grep -q ready "$d/$mode/out" || bail "$mode: the program did not start"
  grep -q libmemledger-wrap "/proc/$pid/maps" || bail "$mode: no libmemledger-wrap.so in $pid"
  out=$("$ML" dump --timeout 10 "$pid" 2>"$d/$mode/derr")
  rc=$?
  tap_eq "$mode: exit 0 and the path in MEMLEDGER_DIR" \
    "0 $dumps/memledger.$pid.1.dump" "$rc $out"
  [ "$rc" = 0 ] || tap_diag_file "$d/$mode/derr"
  tap_eq "$mode: a dump of the signal with 2 blocks of 5000 bytes" "signal 2 10000" \
    "$(dump_header "$out" trigger 2>/dev/null) $(dump_unfreed "$out" 2>/dev/null)"
  exec 7>&-
  wait_pid "$pid" 30 >/dev/null 2>&1
  tap_eq "$mode: the program exits 0, nothing in its working directory" "0 0" \
    "$? $(count_dumps "$d/$mode/cwd")"
done
exit 0

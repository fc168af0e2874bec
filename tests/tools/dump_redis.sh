#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_redis.sh - a real redis-server under `memledger run --dir D` rewrites
# its environment and argv area (its process title): `memledger dump` of the
# memledger run pid still finds the dump signal and D (from the library's
# beacon in /proc/PID/maps, not the environment), writes the dump there and
# prints its path, although it runs from another directory; redis keeps
# running.  Skipped without redis-server ("1..0 # SKIP" and status 0: the
# TAP driver takes status 77 for an error).
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }
REDIS=$(command -v redis-server || echo /usr/bin/redis-server)
[ -x "$REDIS" ] || { echo "1..0 # SKIP redis-server is not installed"; exit 0; }

tap_plan 5
d=$(fresh_dir redis)
mkdir -p "$d/dumps" "$d/cwd"

# A free TCP port: one the kernel hands out for port 0 (python3), else a
# random high one.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)))

cd "$d/cwd" || bail "cannot cd"
"$ML" run -q --dir "$d/dumps" -- "$REDIS" --port "$port" --bind 127.0.0.1 --save '' \
  --appendonly no --daemonize no </dev/null >"$d/redis.out" 2>"$d/redis.err" &
rpid=$!
cpid=$(run_program "$rpid") || bail "memledger run did not start redis-server"
wait_for 20 grep -q "Ready to accept connections" "$d/redis.out" ||
  bail "redis-server did not become ready: $(tail -n 5 "$d/redis.out" "$d/redis.err")"

# The premise: the environment as /proc shows it no longer names the
# directory (redis-server's setproctitle moved it away).
if tr '\0' '\n' <"/proc/$cpid/environ" | grep -q "^MEMLEDGER_DIR="; then
  tap_fail "redis-server rewrote its environment (/proc/$cpid/environ has no MEMLEDGER_DIR)"
else
  tap_ok "redis-server rewrote its environment (/proc/$cpid/environ has no MEMLEDGER_DIR)"
fi

out=$("$ML" dump --timeout 10 "$rpid" 2>"$d/derr")
rc=$?
tap_eq "memledger dump of the memledger run pid: exit 0" 0 "$rc"
[ "$rc" = 0 ] || tap_diag_file "$d/derr"
tap_eq "it prints the dump's path in --dir" "$d/dumps/memledger.$cpid.1.dump" "$out"
if [ -f "$out" ] && [ "$(dump_header "$out" trigger 2>/dev/null)" = signal ]; then
  tap_ok "the file is there, a dump of the signal"
else
  tap_fail "the file is there, a dump of the signal" "$(ls -la "$d/dumps" "$d/cwd")"
fi
kill -0 "$cpid" 2>/dev/null && alive=alive || alive=dead
tap_eq "redis-server still runs" alive "$alive"
kill -TERM "$rpid" 2>/dev/null
wait_pid "$rpid" 30 >/dev/null 2>&1
exit 0

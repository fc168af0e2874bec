#!/bin/bash
# SPDX-License-Identifier: MIT
# redis.sh - a real server under the preload (only when redis-server,
# redis-benchmark and redis-cli are installed; nothing is installed here):
# redis-server on 127.0.0.1 and a random high port, redis-benchmark -n 20000,
# `memledger dump <pid>` while it runs (readable, consistent), then
# `redis-cli shutdown nosave` and its exit dump (complete and consistent).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

ML=$ML_BUILDDIR/memledger
tap_plan 5
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null ||
  ! command -v redis-cli >/dev/null; then
  for i in 1 2 3 4 5; do tap_skip "redis-server, redis-benchmark or redis-cli not installed"; done
  exit 0
fi
need_file "$ML"

d=$(fresh_dir redis)
port=$((20000 + RANDOM % 30000))
env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d" redis-server --bind 127.0.0.1 --port $port \
  --save '' --appendonly no --dir "$d" --daemonize no >"$d/out" 2>"$d/err" &
pid=$!
up() { redis-cli -h 127.0.0.1 -p $port ping 2>/dev/null | grep -q PONG; }
if wait_for 30 up; then tap_ok "redis-server answers under the preload (port $port)"; else
  tap_fail "redis-server answers under the preload (port $port)" "$(tail -20 "$d/out")"
fi
$ML_TIMEOUT redis-benchmark -h 127.0.0.1 -p $port -n 20000 -q >"$d/bench" 2>&1
tap_eq "redis-benchmark -n 20000 -q succeeds" 0 "$?"
"$ML" dump "$pid" >"$d/dump.out" 2>"$d/dump.err"
f=$(dumps_in "$d" "$pid" | tail -n1)
r=$(dump_consistent "$f" 2>&1) && tap_ok "memledger dump <pid>: a complete, consistent dump" ||
  tap_fail "memledger dump <pid>: a complete, consistent dump" "$r" "$(cat "$d/dump.err")"
redis-cli -h 127.0.0.1 -p $port shutdown nosave >/dev/null 2>&1
wait_pid "$pid" 60
tap_eq "redis-cli shutdown nosave: redis-server exits 0" 0 "$?"
last=$(dumps_in "$d" "$pid" | tail -n1)
r=$(dump_consistent "$last" 2>&1) && [ "$(dump_header "$last" trigger)" = exit ] &&
  tap_ok "redis-server's exit dump is complete and consistent" ||
  tap_fail "redis-server's exit dump is complete and consistent" "$r" "$(ls -A "$d")"
exit 0

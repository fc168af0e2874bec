#!/bin/bash
# SPDX-License-Identifier: MIT
# api.sh - memledger_dump(), memledger_stats() and memledger_version() as a
# program finds them with dlsym: dumps on request (trigger: api) with the
# path returned, counters that follow the program's allocations, EAGAIN when
# tracking is off, errno from a failed dump, "not loaded" without the preload.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_api
need_file "$PROG"

tap_plan 16

val() { sed -n "s/^$1=//p" "$2"; }

d=$(fresh_dir api)
ml_run "$d" "$PROG" >"$d/out" 2>"$d/err"
rc=$?
tap_eq "prog_api exits 0 under the preload" 0 "$rc"
tap_eq "memledger_version() is 0.1.0, memledger_stats() returns 0, threshold 1024" "0.1.0|0 errno=0|1024" \
  "$(val version "$d/out")|$(val stats0_rc "$d/out")|$(val threshold "$d/out")"
tap_eq "stats after 3 x 5000 tracked + 10 x 100 untracked: +3 allocs, +0 frees, +3 live, +15000 bytes" \
  "3 0 3 15000 1 0" \
  "$(val allocs_delta "$d/out") $(val frees_delta "$d/out") $(val live_blocks_delta "$d/out") $(val live_bytes_delta "$d/out") $(val stacks_ge_1 "$d/out") $(val dropped "$d/out")"
tap_eq "stats after a free and a realloc to 12000: +1 alloc, +2 frees, live +2 blocks +17000 bytes" \
  "1 2 2 17000" \
  "$(val allocs_delta2 "$d/out") $(val frees_delta2 "$d/out") $(val live_blocks_delta2 "$d/out") $(val live_bytes_delta2 "$d/out")"
tap_eq "the gate is the usable size: the smallest request reaching 1024 usable is tracked, one less is not" \
  "1|1 0" "$(val cutoff_below_threshold "$d/out")|$(val cutoff_delta "$d/out")"
tap_eq "aligned_alloc, posix_memalign, memalign: tracked exactly when the usable size reaches the threshold" \
  "648 cases, 0 disagree with malloc_usable_size" "$(val aligned_grid "$d/out")"
path=$(val dump_path "$d/out")
tap_eq "memledger_dump() returns 0 and a path in MEMLEDGER_DIR that exists" "0|$d/|yes" \
  "$(val dump_rc "$d/out")|${path%/memledger.*}/|$([ -f "$path" ] && echo yes)"
r=$(dump_consistent "$path" 2>&1) && tap_ok "that dump is complete and consistent" ||
  tap_fail "that dump is complete and consistent" "$r"
tap_eq "that dump: trigger api, and the live 5000 and 12000 blocks" "api|1 5000|1 12000" \
  "$(dump_header "$path" trigger 2>/dev/null)|$(unfreed_by_size "$path" 5000 2>/dev/null | awk '{ print $2, $3 }')|$(unfreed_by_size "$path" 12000 2>/dev/null | awk '{ print $2, $3 }')"
tap_eq "memledger_dump(buf, 8): 0, the path cut to 7 chars and NUL-terminated, nothing written past" \
  "0 len=7 untouched_after=1|${path:0:7}" "$(val dump_short_rc "$d/out")|$(val dump_short "$d/out")"
tap_eq "memledger_dump(NULL, 0) returns 0: 3 API dumps and the exit dump" "0|api api api exit" \
  "$(val dump_null_rc "$d/out")|$(for f in $(dumps_in "$d"); do dump_header "$f" trigger; done | tr '\n' ' ' | sed 's/ $//')"
tap_eq "the exit dump: nothing unfreed (the program freed everything)" "0 0" \
  "$(dump_unfreed "$(dumps_in "$d" | tail -n1)" 2>/dev/null)"

# ---- without the preload ------------------------------------------------------------------
"$PROG" >"$d/plain" 2>&1
tap_eq "without the preload: 'memledger: not loaded', exit 0" "memledger: not loaded|0" "$(cat "$d/plain")|$?"

# ---- tracking off ---------------------------------------------------------------------------------
d=$(fresh_dir off)
MEMLEDGER_ENABLED=0 ml_run "$d" "$PROG" >"$d/out" 2>&1
tap_eq "ENABLED=0: stats returns -1 with zero fields, dump -1 with EAGAIN, no file" \
  "-1 errno=0|1|-1 errno=EAGAIN path=untouched|0" \
  "$(val stats0_rc "$d/out")|$(val stats0_zero "$d/out")|$(val dump_rc "$d/out")|$(count_dumps "$d")"

# ---- a dump that fails ---------------------------------------------------------------------------
d=$(fresh_dir fail)
printf 'x\n' >"$d/file"
ml_run "$d/file" "$PROG" >"$d/out" 2>"$d/err"
rc=$?
tap_eq "DIR=<a file>: memledger_dump() returns -1 with errno ENOTDIR, buffer untouched" \
  "-1|Not a directory|-1 len=8 untouched_after=1|-1" \
  "$(val dump_rc "$d/out")|$(val dump_path "$d/out")|$(val dump_short_rc "$d/out")|$(val dump_null_rc "$d/out")"
tap_eq "DIR=<a file>: the program goes on (exit 0), one error line" "0|1" \
  "$rc|$(grep -c '^memledger: error: dump failed' "$d/err")"
exit 0

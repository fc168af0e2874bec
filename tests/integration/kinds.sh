#!/bin/bash
# SPDX-License-Identifier: MIT
# kinds.sh - the leak scan classifies unfreed blocks as memcheck does
# (prog_kinds.c says which size has which kind): at exit and on the dump
# signal, at the default threshold and with MEMLEDGER_MIN_SIZE=0; blocks held
# by globals, another thread's stack while it is blocked, thread-local
# variables, untracked small blocks and (x86_64) only a callee-saved register
# of the thread calling memledger_dump() are still reachable; the per-kind
# block counts equal memcheck's LEAK SUMMARY on the same program (skipped
# without valgrind); the report's LEAK SUMMARY and --kinds; --fail-on-leak
# fails on definitely and indirectly lost blocks only.  The marking runs in
# a helper child when another thread lives at exit, in the snapshot on the
# signal, and in the program's process itself when its one thread dumps
# (leak_scan_process); the kinds are the same in each.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_kinds
need_file "$PROG"
MEMLEDGER=$ML_BUILDDIR/memledger
tap_plan 41

# kind_of FILE SIZE: the kinds of the [unfreed] lines of blocks of SIZE
kind_of() {
  dump_section_raw "$1" unfreed | awk -v s="$2" '$5 == s && $6 == s { print $8 }' | sort | tr '\n' ' ' |
    sed 's/ $//'
}
# kind_blocks FILE KIND: blocks of that kind
kind_blocks() {
  dump_section_raw "$1" unfreed | awk -v k="$2" '$8 == k { b += $2 } END { print b + 0 }'
}

# check_kinds LABEL FILE: the blocks every mode has
check_kinds() {
  local f=$2 got
  got="1100=$(kind_of "$f" 1100) 2100=$(kind_of "$f" 2100) 2200=$(kind_of "$f" 2200)"
  got="$got 3200=$(kind_of "$f" 3200) 4100=$(kind_of "$f" 4100)"
  tap_eq "$1: global reachable, overwritten definite, lost list head definite and tail indirect, interior possible" \
    "1100=reachable 2100=definite 2200=definite 3200=indirect 4100=possible" "$got"
  got="$(kind_of "$f" 2300) $(kind_of "$f" 3300)"
  case $got in
  "definite indirect" | "indirect definite") tap_ok "$1: a lost cycle of two: one definite, one indirect" ;;
  *) tap_fail "$1: a lost cycle of two: one definite, one indirect" "got: $got" ;;
  esac
}

# check_held LABEL FILE: the blocks held by threads, TLS and a small block
check_held() {
  local got
  got="1200=$(kind_of "$2" 1200) 1300=$(kind_of "$2" 1300) 1400=$(kind_of "$2" 1400) 1500=$(kind_of "$2" 1500)"
  tap_eq "$1: blocked thread's stack, untracked small holder, main and thread TLS: reachable" \
    "1200=reachable 1300=reachable 1400=reachable 1500=reachable" "$got"
}

# ---- at exit, default threshold ------------------------------------------------
d=$(fresh_dir kinds-exit)
ml_run "$d" "$PROG" all >"$d/out" 2>"$d/err"
tap_eq "prog_kinds all exits 0 under the preload" 0 "$?"
f=$(only_dump "$d")
if why=$(dump_consistent "$f") && grep -qx 'leak_scan: done' "$f"; then
  tap_ok "exit dump: consistent, leak scan done"
else
  tap_fail "exit dump: consistent, leak scan done" "$why" "$(grep '^leak_scan' "$f")"
fi
check_kinds "exit" "$f"
check_held "exit" "$f"
tap_eq "exit: a block whose only pointer was in a freed block (jemalloc's free memory) is definitely lost" \
  definite "$(kind_of "$f" 2400)"
tap_eq "exit with a second thread alive: marked in a helper child" helper \
  "$(sed -n 's/^leak_scan_process: //p' "$f")"

# ---- at exit, one thread: marked in the program's process --------------------------
d=$(fresh_dir kinds-one)
ml_run "$d" "$PROG" basic >"$d/out" 2>"$d/err"
f=$(only_dump "$d")
tap_eq "exit with one thread: marked in the process itself" self \
  "$(sed -n 's/^leak_scan_process: //p' "$f")"
check_kinds "exit, one thread" "$f"
tap_eq "exit, one thread: the block whose only pointer was in freed memory is definitely lost" \
  definite "$(kind_of "$f" 2400)"

# ---- on the dump signal, while the thread is blocked ------------------------------
d=$(fresh_dir kinds-signal)
ml_run "$d" "$PROG" signal >"$d/out" 2>"$d/err"
tap_eq "prog_kinds signal exits 0" 0 "$?"
f=$(dumps_in "$d" | head -n1)
tap_eq "the first dump is the signal's" "signal" "$(sed -n 's/^trigger: //p' "$f")"
check_kinds "signal" "$f"
check_held "signal" "$f"
tap_eq "signal: marked in the snapshot" snapshot "$(sed -n 's/^leak_scan_process: //p' "$f")"

# ---- MEMLEDGER_MIN_SIZE=0: every block tracked ---------------------------------------
d=$(fresh_dir kinds-all)
MEMLEDGER_MIN_SIZE=0 ml_run "$d" "$PROG" all >"$d/out" 2>"$d/err"
tap_eq "prog_kinds all with MIN_SIZE=0 exits 0" 0 "$?"
f=$(only_dump "$d")
check_kinds "MIN_SIZE=0" "$f"
got="64=$(kind_of "$f" 64) 1300=$(kind_of "$f" 1300) 1200=$(kind_of "$f" 1200)"
tap_eq "MIN_SIZE=0: the small holder (a global's) and its block, the thread's block: reachable" \
  "64=reachable 1300=reachable 1200=reachable" "$got"

# ---- the report ----------------------------------------------------------------------------
d=$(fresh_dir kinds-basic)
ml_run "$d" "$PROG" basic >"$d/out" 2>"$d/err"
f=$(only_dump "$d")
"$MEMLEDGER" report --no-default-suppressions "$f" >"$d/report" 2>&1
tap_eq "report exits 0" 0 "$?"
summary=$(sed -n '/^LEAK SUMMARY:$/,$p' "$d/report")
# summary_has REGEX: a line of the LEAK SUMMARY matches REGEX (whole line)
summary_has() { grep -qx "$1" <<<"$summary"; }
tap_check "the text report ends with memcheck's LEAK SUMMARY" \
  summary_has '   definitely lost: [0-9,]* bytes in 4 blocks'
if summary_has '   indirectly lost: [0-9,]* bytes in 2 blocks' &&
  summary_has '     possibly lost: 4,100 bytes in 1 blocks'; then
  tap_ok "LEAK SUMMARY: indirectly and possibly lost"
else
  tap_fail "LEAK SUMMARY: indirectly and possibly lost" "$summary"
fi
if summary_has '   still reachable: 1,100 bytes in 1 blocks' &&
  summary_has '        suppressed: 0 bytes in 0 blocks'; then
  tap_ok "LEAK SUMMARY: still reachable and suppressed"
else
  tap_fail "LEAK SUMMARY: still reachable and suppressed" "$summary"
fi
tap_check "each stack says its kind; reachable stacks are not shown by default" \
  bash -c "grep -q '(2100 bytes each), definitely lost, stack' '$d/report' && ! grep -q '(1100 bytes each), still reachable' '$d/report'"
"$MEMLEDGER" report --kinds all --no-default-suppressions "$f" >"$d/all" 2>&1
tap_check "--kinds all shows the still reachable stack" grep -q '(1100 bytes each), still reachable, stack' "$d/all"
"$MEMLEDGER" report --kinds possible --no-default-suppressions "$f" >"$d/possible" 2>&1
tap_eq "--kinds possible shows only the possibly lost stack" "possibly lost" \
  "$(sed -n 's/.* bytes each), \(.*\), stack .*/\1/p' "$d/possible" | sort -u | tr '\n' ' ' | sed 's/ $//')"
"$MEMLEDGER" report -f json --no-default-suppressions "$f" >"$d/json" 2>&1
tap_check "JSON: leak_kinds totals and a kind per stack" \
  python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
k = d['leak_kinds']
assert k['definite']['blocks'] == 4 and k['indirect']['blocks'] == 2, k
assert k['possible'] == {'blocks': 1, 'bytes': 4100, 'shown': True}, k
assert k['reachable']['shown'] is False, k
assert all(s['kind'] in ('definite', 'indirect', 'possible') for s in d['stacks']), d['stacks']
" "$d/json"
fold() { "$MEMLEDGER" report -f folded --no-default-suppressions "$@" "$f" 2>/dev/null | grep -c ' 1100$'; }
tap_eq "folded: the still reachable stack (1100 bytes) only with --kinds all" "0 1" \
  "$(fold) $(fold --kinds all)"
"$MEMLEDGER" report --kinds bogus "$f" >/dev/null 2>&1
tap_eq "--kinds bogus is a usage error" 2 "$?"

# ---- a pointer only in a register of the thread that asks for the dump --------------------
d=$(fresh_dir kinds-reg)
ml_run "$d" "$PROG" register >/dev/null 2>"$d/err"
rc=$?
if [ "$rc" = 5 ]; then
  tap_skip "a pointer only in a callee-saved register (x86_64 only)"
else
  got="$(kind_of "$(dumps_in "$d" | head -n1)" 3700) $(kind_of "$(dumps_in "$d" | tail -n1)" 3700)"
  tap_eq "a pointer only in r12 during memledger_dump(): reachable there, definite at exit" \
    "0 reachable definite" "$rc $got"
fi

# ---- memledger run --fail-on-leak: definitely and indirectly lost only --------------------
d=$(fresh_dir kinds-fail)
(cd "$d" && "$MEMLEDGER" run --lib "$ML_LIB" --fail-on-leak -q -- "$PROG" basic >/dev/null 2>&1)
tap_eq "--fail-on-leak: lost blocks fail the run (99)" 99 "$?"
(cd "$d" && "$MEMLEDGER" run --lib "$ML_LIB" --fail-on-leak -q -- "$PROG" reachable >/dev/null 2>&1)
tap_eq "--fail-on-leak: a block still reachable from a global does not (0)" 0 "$?"
# The gate tracks every block unless told otherwise, as LeakSanitizer does.
(cd "$d" && "$MEMLEDGER" run --lib "$ML_LIB" --fail-on-leak -q -- "$PROG" small >/dev/null 2>&1)
tap_eq "--fail-on-leak: 1000 lost 100-byte blocks fail the run (99): every block is tracked" 99 "$?"
(cd "$d" && "$MEMLEDGER" run --lib "$ML_LIB" --fail-on-leak --min-size 1024 -q -- "$PROG" small \
  >/dev/null 2>&1)
tap_eq "--fail-on-leak --min-size 1024: the same blocks are not tracked (0)" 0 "$?"

# ---- addresses: MEMLEDGER_ADDRESSES=1 writes [blocks], report --addresses shows them ----------
d=$(fresh_dir kinds-addr)
MEMLEDGER_ADDRESSES=1 MEMLEDGER_DUMP_AT_EXIT=1 ml_run "$d" "$PROG" basic >/dev/null 2>&1
dump=$(only_dump "$d")
got=$("$MEMLEDGER" report --addresses --kinds all --format json --quiet "$dump" 2>&1 | python3 -c '
import json, sys
r = json.load(sys.stdin)
ok = r["stacks"] and all(len(s["addresses"]) == s["blocks"] for s in r["stacks"])
a = [int(x, 16) for s in r["stacks"] for x in s["addresses"]]
print("ok" if ok and len(set(a)) == len(a) and all(x % 16 == 0 for x in a) else "bad", len(a))
')
tap_eq "--addresses (json): every stack lists its blocks' addresses, distinct and aligned" \
  "ok $(dump_unfreed "$dump" | awk '{print $1}')" "$got"
"$MEMLEDGER" report --addresses --kinds all "$dump" >"$d/text" 2>&1
tap_eq "--addresses (text): an 'at 0x...' line under each stack" \
  "$(grep -c '^[0-9,]* blocks\?, .*stack [0-9]*:$' "$d/text")" "$(grep -c '^    at 0x[0-9a-f]*' "$d/text")"
# A [blocks] section that disagrees with [unfreed] is refused.
awk 'f && /^[0-9a-f]+ / && !done { done = 1; next } /^\[blocks\]$/ { f = 1 } /^\[unfreed\]$/ { f = 0 } { print }' \
  "$dump" >"$d/cut.dump"
"$MEMLEDGER" report --quiet "$d/cut.dump" >/dev/null 2>"$d/cut.err"
tap_eq "a [blocks] section missing a block: exit 2, which stack says so" "2 1" \
  "$? $(grep -c 'lists [0-9]* blocks, \[unfreed\] [0-9]*' "$d/cut.err")"

# ---- memcheck on the same program ------------------------------------------------------------
if ! command -v valgrind >/dev/null; then
  tap_skip "valgrind is not installed"
  tap_skip "valgrind is not installed"
else
  valgrind --leak-check=full --leak-check-heuristics=none --show-leak-kinds=all \
    "$PROG" basic >/dev/null 2>"$d/vg"
  vg=$(awk '/definitely lost:/ { d = $(NF-1) } /indirectly lost:/ { i = $(NF-1) }
            /possibly lost:/ { p = $(NF-1) } /still reachable:/ { r = $(NF-1) }
            END { print d + 0, i + 0, p + 0, r + 0 }' "$d/vg")
  tap_diag "memcheck: definite indirect possible reachable = $vg"
  d0=$(fresh_dir kinds-memcheck)
  MEMLEDGER_MIN_SIZE=0 ml_run "$d0" "$PROG" basic >/dev/null 2>&1
  f0=$(only_dump "$d0")
  ml="$(kind_blocks "$f0" definite) $(kind_blocks "$f0" indirect) $(kind_blocks "$f0" possible) $(kind_blocks "$f0" reachable)"
  tap_eq "MIN_SIZE=0: block counts per kind equal memcheck's LEAK SUMMARY" "$vg" "$ml"
  ml="$(kind_blocks "$f" definite) $(kind_blocks "$f" indirect) $(kind_blocks "$f" possible)"
  tap_eq "default threshold: lost block counts per kind equal memcheck's" "${vg% *}" "$ml"
fi
exit 0

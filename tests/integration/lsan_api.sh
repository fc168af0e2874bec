#!/bin/bash
# SPDX-License-Identifier: MIT
# lsan_api.sh - the LeakSanitizer-like interface (prog_lsan_api.c says which
# size is what): memledger_leak_check's verdict and per-kind counts (and its
# dump, trigger leak-check; no verdict with MEMLEDGER_LEAK_SCAN=0),
# memledger_ignore_object (the block and what it holds reachable; not a
# block later allocated at its address), memledger_disable/enable (nested;
# frees in the region seen), root regions (a shared mapping made a root,
# counted registrations), and memledger_default_suppressions: written into
# the dump's header and applied by `memledger report` (LSan's leak: syntax),
# not with --no-default-suppressions.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_lsan_api
need_file "$PROG"
MEMLEDGER=$ML_BUILDDIR/memledger
tap_plan 22

val() { sed -n "s/^$1=//p" "$2"; }
# kind_of FILE SIZE: the kinds of the [unfreed] lines of blocks of SIZE
kind_of() {
  dump_section_raw "$1" unfreed | awk -v s="$2" '$5 == s && $6 == s { print $2 "x" $8 }' |
    sort | tr '\n' ' ' | sed 's/ $//'
}

# ---- memledger_leak_check -----------------------------------------------------------
d=$(fresh_dir lsan-check)
ml_run "$d" "$PROG" check >"$d/out" 2>"$d/err"
tap_eq "prog_lsan_api check exits 0" 0 "$?"
tap_eq "nothing lost: returns 0, checked, no definitely or indirectly lost block" \
  "0 checked=1 definite=0/0 indirect=0/0 possible=0 reachable=1" "$(val clean "$d/out")"
tap_eq "two blocks lost, one held by a lost one: 1, definite 2 (18100 bytes), indirect 1 (9200)" \
  "1 checked=1 definite=2/18100 indirect=1/9200 possible=0 reachable=2" "$(val lost "$d/out")"
tap_eq "memledger_leak_check(NULL) returns the verdict too" 1 "$(val null_rc "$d/out")"
f=$(val lost_dump "$d/out")
if why=$(dump_consistent "$f"); then
  tap_eq "its dump: trigger leak-check, 9100 definite, 9200 indirect" \
    "leak-check|1xdefinite|1xindirect" \
    "$(dump_header "$f" trigger)|$(kind_of "$f" 9100)|$(kind_of "$f" 9200)"
else
  tap_fail "its dump: trigger leak-check, 9100 definite, 9200 indirect" "$why"
fi
tap_check "one line on stderr when something is lost" \
  grep -q '^memledger: leak check: definitely lost: 18100 bytes in 2 blocks, indirectly lost: 9200 bytes in 1 blocks; dump: ' "$d/err"
tap_eq "no line when nothing is lost (two checks found leaks)" 2 "$(grep -c 'leak check:' "$d/err")"

d=$(fresh_dir lsan-noscan)
MEMLEDGER_LEAK_SCAN=0 ml_run "$d" "$PROG" check >"$d/out" 2>"$d/err"
tap_eq "MEMLEDGER_LEAK_SCAN=0: no verdict (0, checked 0), the dump still written" \
  "0 checked=0 definite=0/0 indirect=0/0 possible=0 reachable=0|yes" \
  "$(val lost "$d/out")|$([ -f "$(val lost_dump "$d/out")" ] && echo yes)"

# ---- memledger_ignore_object ------------------------------------------------------------
d=$(fresh_dir lsan-ignore)
ml_run "$d" "$PROG" ignore >"$d/out" 2>"$d/err"
tap_eq "prog_lsan_api ignore exits 0" 0 "$?"
tap_eq "an ignored lost block and the block it holds: not lost" \
  "0 checked=1 definite=0/0 indirect=0/0 possible=0 reachable=3" "$(val ignored "$d/out")"
f=$(val ignored_dump "$d/out")
tap_eq "in the dump both are still reachable" "1xreachable|1xreachable" \
  "$(kind_of "$f" 5100)|$(kind_of "$f" 5200)"
if [ "$(val reused "$d/out")" = 1 ]; then
  tap_eq "a block allocated where an ignored one was freed is not ignored" \
    "1 checked=1 definite=1/5300 indirect=0/0 possible=0 reachable=4" "$(val reused_check "$d/out")"
else
  tap_skip "jemalloc did not hand the freed address out again"
fi

# ---- memledger_disable / memledger_enable ------------------------------------------------
d=$(fresh_dir lsan-disable)
ml_run "$d" "$PROG" disable >"$d/out" 2>"$d/err"
tap_eq "prog_lsan_api disable exits 0" 0 "$?"
tap_eq "in a nested region: no allocation recorded, the free of a tracked block seen" \
  "disabled_allocs=0 disabled_frees=1" "$(grep '^disabled_allocs=' "$d/out")"
tap_eq "after the region, allocations are tracked again (one 6100-byte block lost)" \
  "1 checked=1 definite=1/6100 indirect=0/0 possible=0 reachable=2" "$(val after_disable "$d/out")"
f=$(dumps_in "$d" | tail -n1)
tap_eq "the exit dump: one 6100-byte block, the 6200-byte block freed in the region gone" \
  "exit|1xdefinite|" "$(dump_header "$f" trigger)|$(kind_of "$f" 6100)|$(kind_of "$f" 6200)"
tap_check "an enable without a disable: one warning" \
  grep -q 'warning: memledger_enable() without memledger_disable()' "$d/err"

# ---- root regions ----------------------------------------------------------------------------
d=$(fresh_dir lsan-roots)
ml_run "$d" "$PROG" roots >"$d/out" 2>"$d/err"
tap_eq "held only from a shared mapping: lost; registered: not; registered twice and unregistered once: not; unregistered: lost" \
  "1 1/7100|0 0/0|0 0/0|1 1/7100" \
  "$(for k in shared registered registered_twice unregistered; do val $k "$d/out" | awk '{ sub("definite=", "", $3); printf "%s %s|", $1, $3 }'; done | sed 's/|$//')"
tap_check "unregistering a region that is not registered: a warning" \
  grep -q 'warning: memledger_unregister_root_region: .* was not registered' "$d/err"

# ---- memledger_default_suppressions -------------------------------------------------------------
d=$(fresh_dir lsan-supp)
ml_run "$d" "$PROG" supp >"$d/out" 2>"$d/err"
f=$(val supp_dump "$d/out")
tap_eq "the program's text is in the dump's header, a line each" \
  "# compiled into prog_lsan_api|leak:lose_for_supp" \
  "$(sed -n 's/^suppression: //p' "$f" | tr '\n' '|' | sed 's/|$//')"
# summary FILE: the definitely lost and suppressed lines of its LEAK SUMMARY
summary() {
  sed -n '/^LEAK SUMMARY:$/,$p' "$1" | grep -E '^ *(definitely lost|suppressed):' | tr '\n' '|' |
    sed 's/|$//'
}
"$MEMLEDGER" report "$f" >"$d/report" 2>&1
tap_eq "report applies it: 8100 suppressed, 9000 definitely lost" \
  "   definitely lost: 9,000 bytes in 1 blocks|        suppressed: 8,100 bytes in 1 blocks" \
  "$(summary "$d/report")"
"$MEMLEDGER" report --no-default-suppressions "$f" >"$d/report0" 2>&1
tap_eq "not with --no-default-suppressions" \
  "   definitely lost: 17,100 bytes in 2 blocks|        suppressed: 0 bytes in 0 blocks" \
  "$(summary "$d/report0")"
exit 0

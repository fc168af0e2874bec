#!/bin/bash
# SPDX-License-Identifier: MIT
# capture_cache.sh - the per-thread cache of eh walks (src/capture.h) gives
# every block the stack a fresh walk gives it.  prog_capcache (-O2, no
# frame pointers) allocates from pairs of paths that reach malloc at the
# same stack pointer through the same innermost frames and differ only
# further out (the second frame, the fourth, one below 20 identical ones),
# with a loop counter in %rbp under a %rbp-framed function, across longjmp,
# and on a second thread (every block stays reachable through a global:
# the report shows all kinds).  A cache keyed on the stack pointer or the first
# return addresses would merge each pair; the report must count every path
# exactly, and MEMLEDGER_UNWIND_CHECK=1 (each capture compared: hits with a
# fresh walk, and every walk with libunwind) must find no difference.
# prog_capcache_fp is the same program with frame pointers: there a saved
# %rbp and its return address sit side by side, and the cache compares
# them as one 16-byte pair (src/capture.c), which the look-alike paths
# must not pass either.  "deep" (both builds, MEMLEDGER_MAX_FRAMES=128):
# pairs of paths that differ only below 45 and 46 (with frame pointers) or
# 80 and 81 identical frames, or only in the return address into main,
# more words than the cache's unrolled compares take
# (src/capture.c, ml_cap_words_same).
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

tap_plan 12

need_file "$IT_BIN/prog_capcache" "$IT_BIN/prog_capcache_fp" "$ML_BUILDDIR/memledger"
N=400

# check_prog NAME: the four checks on tests/integration/NAME.
check_prog() {
local prog=$1
local d
d=$(fresh_dir "$prog")

out=$(MEMLEDGER_UNWIND_CHECK=1 MEMLEDGER_DUMP_AT_EXIT=0 ml_run "$d" "$IT_BIN/$prog" \
  2>"$d/check.err")
tap_eq "$prog runs under the check" "0|done" "$?|$out"
line=$(grep 'unwind check:' "$d/check.err")
read -r compared bad cached differ <<<"$(printf '%s\n' "$line" | sed -n \
  's/.*check: \([0-9]*\) stacks compared with libunwind, \([0-9]*\) mismatches.*; \([0-9]*\) cached stacks compared with a fresh walk, \([0-9]*\) differed.*/\1 \2 \3 \4/p')"
# 16 paths of N blocks, nearly all from the cache.
if [ "${bad:-x}" = 0 ] && [ "${differ:-x}" = 0 ] && [ "${cached:-0}" -ge $((10 * N)) ]; then
  tap_ok "$prog: check: $compared walks agree with libunwind, $cached cached stacks equal a fresh walk"
else
  tap_fail "$prog: check: no mismatch, no cached stack differs, >= $((10 * N)) hits" "$line" \
    "$(head -20 "$d/check.err")"
fi

rm -f "$d"/*.dump
out=$(ml_run "$d" "$IT_BIN/$prog" 2>"$d/run.err")
tap_eq "$prog runs" "0|done" "$?|$out"
dump=$(only_dump "$d")
got=$("$ML_BUILDDIR/memledger" report --kinds all --format json --quiet "$dump" 2>"$d/report.err" | python3 -c '
import json, sys
paths = ["near_a", "near_b", "far_a", "far_b", "deep_a", "deep_b", "rbp_a", "rbp_b",
         "jump_deep", "jump_other"]
count = {p: 0 for p in paths}
for s in json.load(sys.stdin)["stacks"]:
    names = {f.get("function") for f in s["frames"]}
    for p in paths:
        if p in names:
            count[p] += s["blocks"]
print(" ".join("%s=%d" % (p, count[p]) for p in paths))
')
want="near_a=$((2 * N)) near_b=$((2 * N)) far_a=$((2 * N)) far_b=$N deep_a=$((2 * N)) deep_b=$N rbp_a=$N rbp_b=$N jump_deep=$N jump_other=$N"
tap_eq "$prog: every path's blocks are on its own stack" "$want" "$got"
}

check_prog prog_capcache
check_prog prog_capcache_fp

# check_deep NAME: the vdeep pair, each hit compared with a fresh walk.
check_deep() {
  local prog=$1 d out line cached differ got
  d=$(fresh_dir "$prog-deep")
  out=$(MEMLEDGER_MAX_FRAMES=128 MEMLEDGER_UNWIND_CHECK=1 ml_run "$d" "$IT_BIN/$prog" deep \
    2>"$d/check.err")
  tap_eq "$prog deep runs under the check" "0|done" "$?|$out"
  line=$(grep 'unwind check:' "$d/check.err")
  read -r cached differ <<<"$(printf '%s\n' "$line" | sed -n \
    's/.*; \([0-9]*\) cached stacks compared with a fresh walk, \([0-9]*\) differed.*/\1 \2/p')"
  got=$("$ML_BUILDDIR/memledger" report --kinds all --format json --quiet "$(only_dump "$d")" \
    2>/dev/null | python3 -c '
import json, sys
count = {"vdeep_a": 0, "vdeep_b": 0, "vdeep_c": 0, "vdeep_d": 0}
for s in json.load(sys.stdin)["stacks"]:
    names = {f.get("function") for f in s["frames"]}
    for p in count:
        if p in names:
            count[p] += s["blocks"]
print(" ".join("%s=%d" % kv for kv in sorted(count.items())))
')
  if [ "${differ:-x}" = 0 ] && [ "${cached:-0}" -ge $((2 * N)) ] &&
    [ "$got" = "vdeep_a=$((2 * N)) vdeep_b=$N vdeep_c=$((2 * N)) vdeep_d=$N" ]; then
    tap_ok "$prog deep: $cached cached stacks equal a fresh walk; each path's blocks on its own stack"
  else
    tap_fail "$prog deep: no cached stack differs, each path's blocks on its own stack" "$line" "$got"
  fi
}

check_deep prog_capcache
check_deep prog_capcache_fp

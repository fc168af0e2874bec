#!/bin/bash
# SPDX-License-Identifier: MIT
# exact_counts.sh - the exit dump counts exactly the known leaks of
# prog_leaks (and of examples/leak_basic), per threshold and unwinder.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_leaks
BASIC=$ML_BUILDDIR/examples/leak_basic
need_file "$PROG" "$BASIC"

tap_plan 23

# run_leaks NAME [ARG]: prog_leaks under the preload (extra MEMLEDGER_*
# settings from the caller's environment); sets $dump to its only dump.
run_leaks() {
  local dir
  dir=$(fresh_dir "$1")
  ml_run "$dir" "$PROG" ${2:+"$2"} >"$dir/out" 2>"$dir/err"
  echo $? >"$dir/rc"
  dump=$(only_dump "$dir")
  last_dir=$dir
}

# the [unfreed] lines as "<blocks> <bytes> <min> <max>", sorted
shape() { dump_section "$1" unfreed | awk '{ print $2, $3, $5, $6 }' | sort -n -k4; }

# ---- the default threshold (1024) ------------------------------------------
run_leaks default
tap_eq "prog_leaks runs normally under the preload" "0|prog_leaks: done" \
  "$(cat "$last_dir/rc")|$(cat "$last_dir/out")"
if [ -n "$dump" ] && r=$(dump_consistent "$dump"); then
  tap_ok "one exit dump, complete and consistent"
else
  tap_fail "one exit dump, complete and consistent" "${r:-no single dump}" "$(ls -la "$last_dir")"
fi
tap_eq "unfreed: 7 blocks, 124480 bytes" "7 124480" "$(dump_unfreed "$dump" 2>/dev/null)"
expect_shape="2 4000 2000 2000
3 12288 4096 4096
1 8192 8192 8192
1 100000 100000 100000"
tap_eq "[unfreed]: one line per leaking stack, with its counts" "$expect_shape" "$(shape "$dump" 2>/dev/null)"
tap_eq "trigger: exit, threshold: 1024" "exit 1024" \
  "$(dump_header "$dump" trigger 2>/dev/null) $(dump_header "$dump" threshold 2>/dev/null)"
# freed blocks (3000, 50000 freed by another thread, 1500 allocated by
# another thread, 9000, the realloc chain, 16384 aligned, 2048 freed by
# realloc(p, 0)) and the small ones never show
tap_eq "tracked_live_blocks/bytes agree with the unfreed line" "7 124480" \
  "$(dump_header "$dump" tracked_live_blocks 2>/dev/null) $(dump_header "$dump" tracked_live_bytes 2>/dev/null)"
sum=$(awk '/^tracked_allocs:/ { a = $2 } /^tracked_frees:/ { f = $2 } END { print a - f }' "$dump" 2>/dev/null)
tap_eq "tracked_allocs - tracked_frees = 7" 7 "$sum"
tap_eq "the summary line on stderr" "memledger: 7 unfreed blocks, 124480 bytes, from 4 stacks" \
  "$(grep -o '^memledger: 7 unfreed blocks, 124480 bytes, from [0-9]* stacks' "$last_dir/err")"

# every leaking stack has a frame in prog_leaks itself
r=$(module_range "$dump" /prog_leaks)
if [ -n "$r" ]; then
  set -- $r
  nin=0
  for id in $(dump_section "$dump" unfreed | awk '{ print $1 }'); do
    stack_in_range "$dump" "$id" "$1" "$2" && nin=$((nin + 1))
  done
  tap_eq "each of the 4 leaking stacks has a frame inside prog_leaks" 4 "$nin"
else
  tap_fail "each of the 4 leaking stacks has a frame inside prog_leaks" "prog_leaks not in [modules]"
fi

# ---- MEMLEDGER_MIN_SIZE=0: the 50 small leaks too ------------------------------
MEMLEDGER_MIN_SIZE=0 run_leaks zero
z_with=$dump
MEMLEDGER_MIN_SIZE=0 run_leaks zero_nosmall nosmall
z_without=$dump
ok_dumps=1
for f in "$z_with" "$z_without"; do dump_consistent "$f" >/dev/null || ok_dumps=0; done
tap_eq "MIN_SIZE=0: both dumps complete and consistent, threshold 0" "1 0" \
  "$ok_dumps $(dump_header "$z_with" threshold 2>/dev/null)"
set -- $(dump_unfreed "$z_with" 2>/dev/null) x x
w_blocks=$1 w_bytes=$2
set -- $(dump_unfreed "$z_without" 2>/dev/null) x x
n_blocks=$1 n_bytes=$2
if [ "$w_blocks" != x ] && [ "$n_blocks" != x ] &&
  [ $((w_blocks - n_blocks)) = 50 ] && [ $((w_bytes - n_bytes)) = 5000 ]; then
  tap_ok "MIN_SIZE=0: the 50 small leaks add exactly 50 blocks, 5000 bytes"
else
  tap_fail "MIN_SIZE=0: the 50 small leaks add exactly 50 blocks, 5000 bytes" \
    "with: $w_blocks $w_bytes, without: $n_blocks $n_bytes"
fi
tap_eq "MIN_SIZE=0: one [unfreed] line holds them: 50 blocks of 100 bytes" "50 5000" \
  "$(unfreed_by_size "$z_with" 100 2>/dev/null | awk '{ print $2, $3 }')"
tap_eq "MIN_SIZE=0: the tracked leaks are still there, stack by stack" "$expect_shape" \
  "$(shape "$z_with" 2>/dev/null | grep -E '^(3 12288|2 4000|1 100000|1 8192) ')"
tap_eq "MIN_SIZE=0: the block shrunk by realloc to 203 bytes is there, once" "1 203" \
  "$(unfreed_by_size "$z_with" 203 2>/dev/null | awk '{ print $2, $3 }')"
tap_eq "MIN_SIZE=0: at least the 58 program leaks" 1 "$([ "$w_blocks" != x ] && [ "$w_blocks" -ge 58 ] && echo 1)"

# ---- MEMLEDGER_MIN_SIZE=8K --------------------------------------------------------
MEMLEDGER_MIN_SIZE=8K run_leaks k8
tap_eq "MIN_SIZE=8K: threshold 8192" 8192 "$(dump_header "$dump" threshold 2>/dev/null)"
tap_eq "MIN_SIZE=8K: unfreed: 2 blocks, 108192 bytes (8192 and 100000 only)" "2 108192" \
  "$(dump_unfreed "$dump" 2>/dev/null)"
tap_eq "MIN_SIZE=8K: [unfreed] lines" "1 8192 8192 8192
1 100000 100000 100000" "$(shape "$dump" 2>/dev/null)"

# ---- unwinders -------------------------------------------------------------------
MEMLEDGER_UNWIND=fp run_leaks fp
tap_eq "UNWIND=fp: same totals and per-stack counts" "fp|7 124480|$expect_shape" \
  "$(dump_header "$dump" unwind 2>/dev/null)|$(dump_unfreed "$dump" 2>/dev/null)|$(shape "$dump" 2>/dev/null)"
MEMLEDGER_UNWIND=none run_leaks none
tap_eq "UNWIND=none: same totals" "none|7 124480" \
  "$(dump_header "$dump" unwind 2>/dev/null)|$(dump_unfreed "$dump" 2>/dev/null)"
r=$(dump_consistent "$dump" 2>&1) && tap_ok "UNWIND=none: dump consistent" || tap_fail "UNWIND=none: dump consistent" "$r"

# ---- examples/leak_basic ------------------------------------------------------------
dir=$(fresh_dir basic)
ml_run "$dir" "$BASIC" >"$dir/out" 2>"$dir/err"
rc=$?
dump=$(only_dump "$dir")
tap_eq "leak_basic: exit 0, unfreed: 4 blocks, 22288 bytes" "0|4 22288" \
  "$rc|$(dump_unfreed "$dump" 2>/dev/null)"
if grep -q '^memledger: 4 unfreed blocks, 22288 bytes, from 2 stacks' "$dir/err" &&
  [ "$(grep -c '^memledger: ' "$dir/err")" = 1 ]; then
  tap_ok "leak_basic: one stderr line 'memledger: 4 unfreed blocks, 22288 bytes, from 2 stacks'"
else
  tap_fail "leak_basic: one stderr line 'memledger: 4 unfreed blocks, 22288 bytes, from 2 stacks'" "$(cat "$dir/err")"
fi
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# diff.sh - memledger diff on two dumps of a growing program (prog_grow):
# grow_cache grew by 4 blocks, late_table is new, temp_buffer went away.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

PROG=$TT_BIN/prog_grow
need_file "$PROG"
tap_plan 6
d=$(fresh_dir diff)
mkfifo "$d/in"
ml_bg "$d" "$d/in" "$d/out" "$d/err" "$PROG"
pid=$BG_PID
exec 3>"$d/in"
echo step >&3
wait_for 20 grep -q 'step 1' "$d/out" || bail "prog_grow did not step"
old=$($ML_TIMEOUT "$ML" dump "$pid")
echo step >&3
wait_for 20 grep -q 'step 2' "$d/out" || bail "prog_grow did not step"
echo step >&3
wait_for 20 grep -q 'step 3' "$d/out" || bail "prog_grow did not step"
new=$($ML_TIMEOUT "$ML" dump "$pid")
exec 3>&-
wait_pid "$pid" 20

"$ML" diff "$old" "$new" >"$d/diff" 2>"$d/diff.err"
tap_eq "diff exits 0 without a warning (same process)" "0 0" "$? $(grep -c . "$d/diff.err")"
tap_eq "growth: +5 blocks, +13384 bytes (+4 grow_cache, +2 late_table, -1 temp_buffer)" 1 \
  "$(grep -c '^  growth:  +5 blocks, +13384 bytes$' "$d/diff")"
first=$(grep -m1 -A1 '^[+-][0-9]' "$d/diff")
tap_check "grow_cache grew 2 -> 6 blocks and comes first" \
  eval "printf '%s\n' \"\$first\" | grep -q '^+4 blocks, +8192 bytes (2 -> 6 blocks, 4096 -> 12288 bytes), grew' &&
    printf '%s\n' \"\$first\" | grep -q 'in grow_cache at'"
tap_eq "late_table is a new stack of 2 blocks, 8192 bytes" 1 \
  "$(grep -A1 '^+2 blocks, +8192 bytes (0 -> 2 blocks, 0 -> 8192 bytes), new, stack' "$d/diff" | grep -c 'in late_table at')"
tap_eq "temp_buffer went away" 1 \
  "$(grep -A1 '^-1 blocks, -3000 bytes (1 -> 0 blocks, 3000 -> 0 bytes), gone, stack' "$d/diff" | grep -c 'in temp_buffer at')"
"$ML" diff -f json "$old" "$new" >"$d/diff.json"
tap_eq "json: growth and a new stack" "1 1" \
  "$(grep -c '"growth": {"blocks": 5, "bytes": 13384}' "$d/diff.json") $(grep -c '"status": "new"' "$d/diff.json")"

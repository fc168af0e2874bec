#!/bin/bash
# SPDX-License-Identifier: MIT
# xallocx.sh - a block that jemalloc's xallocx() grows in place across the
# tracking threshold is recorded, even when xallocx reports the old size
# (jemalloc 5.3 does, with some sizes and extras): memledger takes the size
# from sallocx.  Skipped when no block grew in place in 2000 tries.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_xallocx
need_file "$PROG"
tap_plan 2

d=$(fresh_dir xallocx)
MEMLEDGER_MIN_SIZE=32768 ml_run "$d" "$PROG" >"$d/out" 2>"$d/err"
rc=$?
out=$(cat "$d/out")
tap_eq "prog_xallocx exits 0 under the preload" 0 "$rc"
grown=$(sed -n 's/^grown=\([0-9]*\) .*/\1/p' "$d/out")
if [ "${grown:-0}" = 0 ]; then
  tap_skip "no block grew in place across the threshold in 2000 tries ($out)"
else
  tap_diag "$out"
  tap_eq "every block grown past the threshold in place is tracked (untracked=0)" 0 \
    "$(sed -n 's/.* untracked=\([0-9]*\)$/\1/p' "$d/out")"
fi
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# clean_programs.sh - programs without leaks report 0 remaining blocks
# under memledger run: libc's and libstdc++'s one-time allocations are
# counted as suppressed by the built-in rules (and shown), and reappear
# with --no-default-suppressions.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

tap_plan 8
d=$(fresh_dir clean)
for p in /bin/true "$TT_BIN/prog_clean_c" "$TT_BIN/prog_clean_cxx"; do
  $ML_TIMEOUT "$ML" run --dir "$d" --fail-on-leak -- "$p" >/dev/null 2>"$d/err"
  rc=$?
  tap_eq "$(basename "$p"): exit 0 with --fail-on-leak, 0 blocks remain" "0 1" \
    "$rc $(grep -c '^  remaining:  0 blocks, 0 bytes in 0 stacks$' "$d/err")"
  case $p in
  *clean_c) c_err=$(cat "$d/err") ;;
  *clean_cxx) cxx_err=$(cat "$d/err") ;;
  esac
done
tap_eq "C: libc's stdio buffer is shown as suppressed" 1 \
  "$(printf '%s\n' "$c_err" | grep -c '^      1 block, 4096 bytes in 1 stack: libc stdio buffers$')"
tap_check "C: the suppressed line counts blocks" \
  eval "printf '%s\n' \"\$c_err\" | grep -q '^  suppressed: [1-9][0-9]* blocks\\?, '"
tap_eq "C++: libstdc++'s emergency exception pool is shown as suppressed" 1 \
  "$(printf '%s\n' "$cxx_err" | grep -c 'in 1 stack: libstdc++ emergency exception pool$')"
dump=$(dumps_in "$d" | tail -n1)
# (still reachable blocks, as these are, are shown with --kinds all)
"$ML" report --no-default-suppressions --kinds all "$dump" >"$d/raw" 2>&1
tap_check "--no-default-suppressions: the same blocks remain" \
  eval "grep -q '^  suppressed: 0 blocks, 0 bytes in 0 stacks$' '$d/raw' && ! grep -q '^  remaining:  0 blocks' '$d/raw'"
"$ML" report -f json "$dump" >"$d/json"
tap_check "json: remaining is 0 blocks, suppressed rules listed" \
  eval "grep -q '\"remaining\": {\"blocks\": 0, \"bytes\": 0, \"stacks\": 0}' '$d/json' && grep -q '\"name\": \"libstdc++ emergency exception pool\"' '$d/json'"

#!/bin/bash
# SPDX-License-Identifier: MIT
# big.sh - a dump of 59,049 stacks (tests/tools/gen_dump.py, addresses in
# the memledger command, libmemledger.so and libc): the HTML page stays under
# 10 MB (its table has the 500 largest stacks and says how many it left out;
# the flame graph data has every stack); slow steps say so on stderr even
# when it is not a terminal (MEMLEDGER_PROGRESS_AFTER=0 makes every step
# "slow"), quick ones say nothing; report reads "-" (standard input) and
# gzip-compressed dumps.  With tools/memledger.c's part (report --quiet,
# --html-rows; skipped without it): --quiet silences the progress, the
# writing step has its line, --html-rows 0 keeps every row.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
tap_plan 12
d=$(fresh_dir big)
synthetic_dump "$d/big.dump" 59049 118098 20000 "$(readlink -f "$ML_LIB")"

start=$(date +%s.%N)
MEMLEDGER_PROGRESS_AFTER=0 $ML_TIMEOUT "$ML" report -f html --no-default-suppressions \
  "$d/big.dump" >"$d/big.html" 2>"$d/big.err"
rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null)
size=$(stat -c %s "$d/big.html")
tap_diag "59049 stacks: html page of $size bytes in ${secs:-?} s"
tap_eq "59049 stacks: exit 0" 0 $rc
tap_check "59049 stacks: the html page is under 10 MB ($size bytes)" test "$size" -lt 10000000
tap_eq "the table has 500 rows and says that 58549 were left out" "500 1" \
  "$(grep -c '^<tr id="stack-' "$d/big.html") $(grep -c '<p class="more">58549 more stacks (.*) left out of this table (--html-rows)' "$d/big.html")"
tap_eq "the flame graph data has all 59049 stacks" 59049 \
  "$(grep -c '^\[[0-9]*,[0-9]*,[0-9]*,"[0-9a-z]*"\]' "$d/big.html")"

# Progress: one line per step on a file, "... done in N s".
tap_eq "progress on a non-terminal: one line for reading, one for symbolizing" \
  "memledger: reading $d/big.dump... done in S s|memledger: symbolizing 59049 stacks... done in S s" \
  "$(grep -v '^memledger: writing' "$d/big.err" | sed 's/done in [0-9]*\.[0-9] s$/done in S s/' | paste -sd'|')"
"$ML" report "$DATA/golden_basic.dump" >"$d/golden.txt" 2>"$d/golden.err"
tap_eq "quick steps: nothing on stderr" "" "$(cat "$d/golden.err")"

# "-" and .gz give the report of the file itself (but for the name in its first line).
"$ML" report - <"$DATA/golden_basic.dump" >"$d/stdin.txt" 2>&1
tap_eq "report - reads standard input" "$(tail -n +2 "$d/golden.txt")" "$(tail -n +2 "$d/stdin.txt")"
gzip -c "$DATA/golden_basic.dump" >"$d/golden_basic.dump.gz"
"$ML" report "$d/golden_basic.dump.gz" >"$d/gz.txt" 2>&1
tap_eq "report FILE.gz decompresses" "$(tail -n +2 "$d/golden.txt")" "$(tail -n +2 "$d/gz.txt")"
head -c 300 "$d/golden_basic.dump.gz" >"$d/cut.dump.gz"
"$ML" report "$d/cut.dump.gz" >/dev/null 2>"$d/cut.err"
tap_eq "a cut .gz file: exit 2, one line" "2 1" "$? $(grep -c "^memledger: $d/cut.dump.gz" "$d/cut.err")"

# report --quiet, --html-rows and the writing step (tools/memledger.c)
if ! "$ML" report --help | grep -q -- '--quiet'; then
  for i in 10 11 12; do tap_skip "tools/memledger.c has no report --quiet yet"; done
  exit 0
fi
MEMLEDGER_PROGRESS_AFTER=0 "$ML" report --quiet -f html --html-rows 0 --no-default-suppressions \
  "$d/big.dump" >"$d/all.html" 2>"$d/all.err"
tap_eq "--quiet: no progress on stderr" "" "$(cat "$d/all.err")"
tap_eq "--html-rows 0: a row for each of the 59049 stacks, none left out" "59049 0" \
  "$(grep -c '^<tr id="stack-' "$d/all.html") $(grep -c '<p class="more">' "$d/all.html")"
MEMLEDGER_PROGRESS_AFTER=0 "$ML" report "$DATA/golden_basic.dump" 2>&1 >/dev/null |
  sed 's/done in [0-9]*\.[0-9] s$/done in S s/' >"$d/steps.err"
tap_eq "three steps, a line each: reading, symbolizing, writing" \
  "memledger: reading $DATA/golden_basic.dump... done in S s|memledger: symbolizing 8 stacks... done in S s|memledger: writing the text report... done in S s" \
  "$(paste -sd'|' "$d/steps.err")"

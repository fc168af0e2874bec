#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/tools-formats/html_big.sh - the html page of a dump of 59,049
# stacks (tests/tools/gen_dump.py, as tests/tools/big.sh makes it) opens in
# headless chromium in seconds: the DOM after the page's scripts ran has
# the table (500 rows) and the drawn flame graph, within
# ML_BROWSER_SECONDS (default 30) of wall time and, where `perf stat` can
# count chromium's processes, ML_BROWSER_CPU_SECONDS (default 8) of CPU
# time for all of them (the wall time depends on the machine's load; a
# trivial page takes about 1.2 s of CPU).  Skipped without chromium (or
# when it cannot start here), python3 or the command.
. "$ML_SRCDIR/tests/tools-formats/lib.sh"

command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
[ -x "$MEMLEDGER" ] || { echo "1..0 # SKIP the memledger command is not built"; exit 0; }
chrome_works || { echo "1..0 # SKIP chromium not installed or not working here"; exit 0; }
tap_plan 4

d=$(fresh_dir html_big)
libc=$(ldd "$MEMLEDGER" | awk '/libc\.so/ { print $3 }')
python3 "$ML_SRCDIR/tests/tools/gen_dump.py" "$d/big.dump" 59049 118098 20000 \
  "$(readlink -f "$MEMLEDGER")" "$(readlink -f "$ML_LIB")" "$libc" || bail "gen_dump.py failed"
"$MEMLEDGER" report --quiet -f html --no-default-suppressions "$d/big.dump" >"$d/big.html" 2>"$d/err" ||
  bail "report -f html failed: $(head -c 300 "$d/err")"

PERF=
if command -v perf >/dev/null && perf stat -x, -e task-clock -o "$d/probe.perf" true 2>/dev/null &&
  grep -q task-clock "$d/probe.perf"; then
  PERF="perf stat -x, -e task-clock -o $d/chrome.perf --"
fi
start=$(date +%s.%N)
CHROME_WRAP=$PERF chrome_dom "file://$d/big.html" "$d/dom"
rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
cpu=$( [ -n "$PERF" ] && awk -F, '$3 == "task-clock" { printf "%.1f", $1 / 1000 }' "$d/chrome.perf")
tap_diag "59049 stacks: $(stat -c %s "$d/big.html")-byte page rendered in $secs s (CPU: ${cpu:-not measured} s), load: $(cut -d' ' -f1-3 /proc/loadavg)"

tap_eq "the DOM has the table, 500 rows" "0 1 500" \
  "$rc $(grep -c '<table class="stacks">' "$d/dom") $(grep -c '<tr id="stack-' "$d/dom")"
tap_check "the DOM has the flame graph drawn (its nodes)" \
  test "$(sed 's/<div class="fg-node/\n&/g' "$d/dom" | grep -c '^<div class="fg-node')" -gt 10
tap_check "rendered within ${ML_BROWSER_SECONDS:-30} s ($secs s)" \
  sh -c "echo '$secs <= ${ML_BROWSER_SECONDS:-30}' | bc | grep -q 1"
if [ -n "$cpu" ]; then
  tap_check "chromium's CPU time within ${ML_BROWSER_CPU_SECONDS:-8} s ($cpu s)" \
    sh -c "echo '$cpu <= ${ML_BROWSER_CPU_SECONDS:-8}' | bc | grep -q 1"
else
  tap_skip "perf stat cannot count chromium's CPU time here"
fi
exit 0

#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/tools-formats/html_big.sh - the html page of a dump of 59,049
# stacks (tests/tools/gen_dump.py, as tests/tools/big.sh makes it) opens in
# headless chromium: the DOM after the page's scripts ran has the table
# (500 rows) and the drawn flame graph.  How long that takes is measured by
# bench/html_render.sh (make bench-html), against its budget; here the
# time is only printed (a shared machine's load moves it by half).
# Chromium is stopped after 120 s (ML_TIMEOUT).  Skipped without chromium
# (or when it cannot start here), python3 or the command.
. "$ML_SRCDIR/tests/tools-formats/lib.sh"

command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
[ -x "$MEMLEDGER" ] || { echo "1..0 # SKIP the memledger command is not built"; exit 0; }
chrome_works || { echo "1..0 # SKIP chromium not installed or not working here"; exit 0; }
tap_plan 2

d=$(fresh_dir html_big)
libc=$(ldd "$MEMLEDGER" | awk '/libc\.so/ { print $3 }')
python3 "$ML_SRCDIR/tests/tools/gen_dump.py" "$d/big.dump" 59049 118098 20000 \
  "$(readlink -f "$MEMLEDGER")" "$(readlink -f "$ML_LIB")" "$libc" || bail "gen_dump.py failed"
"$MEMLEDGER" report --quiet -f html --no-default-suppressions "$d/big.dump" >"$d/big.html" 2>"$d/err" ||
  bail "report -f html failed: $(head -c 300 "$d/err")"

start=$(date +%s.%N)
chrome_dom "file://$d/big.html" "$d/dom"
rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
tap_diag "59049 stacks: $(stat -c %s "$d/big.html")-byte page rendered in $secs s, load: $(cut -d' ' -f1-3 /proc/loadavg) (not a check: bench/html_render.sh measures it)"

tap_eq "the DOM has the table, 500 rows" "0 1 500" \
  "$rc $(grep -c '<table class="stacks">' "$d/dom") $(grep -c '<tr id="stack-' "$d/dom")"
tap_check "the DOM has the flame graph drawn (its nodes)" \
  test "$(sed 's/<div class="fg-node/\n&/g' "$d/dom" | grep -c '^<div class="fg-node')" -gt 10
exit 0

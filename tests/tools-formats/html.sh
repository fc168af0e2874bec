#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/tools-formats/html.sh - `--format html`: one self-contained page.
# Static checks on the file, then the DOM that headless chromium builds
# (flame graph nodes, search, zoom, weight; skipped without chromium).
. "$ML_SRCDIR/tests/tools-formats/lib.sh"

tap_plan 24
page=$T_TMP/sample.html
"$FMT_DRIVER" html "$page" 2>"$T_TMP/err"
tap_eq "fmt_driver html: exit status" 0 $?
tap_eq "an HTML5 document" "<!DOCTYPE html>" "$(head -n1 "$page")"
tap_check "a Content-Security-Policy that forbids every fetch" \
  grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$page"
tap_check "nothing external: no src=, href=, url(), @import or http(s)://" \
  sh -c "! grep -Eiq '(src|href)=|url\\(|@import|https?://' '$page'"
tap_eq "two scripts (data, code), each closed once: no </script> inside the data" \
  "2 2" "$(grep -o '<script' "$page" | wc -l | tr -d ' ') $(grep -o '</script' "$page" | wc -l | tr -d ' ')"
tap_check "names in the JSON data are escaped (\\u003c, \\u0026)" \
  grep -q 'tricky\\u003cint\\u003e\\u003c/script\\u003e\\u003c!--\\u0026\\"' "$page"
tap_check "names in the table are escaped" \
  grep -q 'tricky&lt;int&gt;&lt;/script&gt;&lt;!--&amp;&quot;&#39;' "$page"
tap_check "summary: shown bytes, blocks and stacks" \
  grep -q '28.7 KiB</div><div class="s">8 blocks in 4 stacks' "$page"
tap_check "summary: suppressed totals and their rule" \
  sh -c "grep -q '2.00 KiB</div><div class=\"s\">1 block in 1 stack' '$page' && grep -q '<td>glibc-tls</td>' '$page'"
tap_check "summary: the header (pid, trigger) and a warning for stack_table_full" \
  sh -c "grep -q '<dt>pid</dt><dd>4242</dd>' '$page' && grep -q '<dt>trigger</dt><dd>signal</dd>' '$page' && grep -q 'class=\"warn\">2 allocations had no room' '$page'"
tap_eq "table: every shown stack, ranked" "1 2 0 3" \
  "$(sed -n 's/^<tr id="stack-\([0-9]*\)">.*/\1/p' "$page" | paste -sd' ')"
"$FMT_DRIVER" --top 2 --title '<i>t</i>' html "$T_TMP/top.html"
tap_eq "table: --top 2 keeps the first two" "1 2" \
  "$(sed -n 's/^<tr id="stack-\([0-9]*\)">.*/\1/p' "$T_TMP/top.html" | paste -sd' ')"
tap_check "the title is escaped" grep -q '<title>&lt;i&gt;t&lt;/i&gt;</title>' "$T_TMP/top.html"
"$FMT_DRIVER" --many 3000 --html-rows 0 html "$T_TMP/many.html"
tap_eq "3000 more stacks, html_rows 0 (all): a row each" 3004 "$(grep -c '^<tr id="stack-' "$T_TMP/many.html")"
"$FMT_DRIVER" --many 3000 html "$T_TMP/many1000.html"
tap_eq "3000 more stacks by default: 500 rows, the 2504 others counted" "500 1" \
  "$(grep -c '^<tr id="stack-' "$T_TMP/many1000.html") $(grep -c '<p class="more">2504 more stacks (.*) left out of this table' "$T_TMP/many1000.html")"

# ---- rendered --------------------------------------------------------------------
# nodes DOM: "<name>[ class]" of every flame graph node, in document order.
nodes() {
  sed 's/<div class="fg-node/\n&/g' "$1" |
    sed -n 's/^<div class="fg-node\([^"]*\)" data-name="\([^"]*\)".*/\2\1/p' | paste -sd'|'
}
# width DOM NAME: the style width of node NAME
width() {
  sed 's/<div class="fg-node/\n&/g' "$1" | sed -n "s/^<div class=\"fg-node[^\"]*\" data-name=\"$2\".* width: \\([0-9.]*%\\).*/\\1/p"
}
if ! chrome_works; then
  for i in $(seq 15 23); do tap_skip "chromium not installed or not working here"; done
  exit 0
fi
chrome_dom "file://$page" "$T_TMP/dom"
tap_eq "flame graph: callers on top, inlined frames marked, names escaped" \
  "all|__libc_start_call_main|main|make_session_cache|cache_alloc fg-inl|load_config|[stack table full]|tricky&lt;int&gt;&lt;/script&gt;&lt;!--&amp;&quot;'|0x1234|libnoid.so+0x1a2b" \
  "$(nodes "$T_TMP/dom")"
tap_eq "flame graph: widths by bytes (12288 of 29384)" "41.8187%" "$(width "$T_TMP/dom" make_session_cache)"
tap_check "no element came out of a function name" sh -c "! grep -q '<int>' '$T_TMP/dom'"

chrome_dom "file://$page#search=load_config" "$T_TMP/dom-search"
tap_check "search: the matching node is highlighted" \
  grep -q 'class="fg-node fg-match" data-name="load_config"' "$T_TMP/dom-search"
tap_check "search: matched bytes and share" \
  grep -q '<span id="fg-status" class="count">matched: 9.77 KiB (34.0%)</span>' "$T_TMP/dom-search"

chrome_dom "file://$page#zoom=make_session_cache" "$T_TMP/dom-zoom"
tap_eq "zoom: ancestors dimmed, the node at full width, other branches gone" \
  "main fg-anc|__libc_start_call_main fg-anc|all fg-anc|make_session_cache fg-zoom|cache_alloc fg-inl" \
  "$(nodes "$T_TMP/dom-zoom")"

chrome_dom "file://$page#weight=blocks" "$T_TMP/dom-blocks"
tap_eq "weight=blocks: widths by blocks (3 of 8)" "37.5%" "$(width "$T_TMP/dom-blocks" make_session_cache)"

"$FMT_DRIVER" --empty html "$T_TMP/empty.html"
chrome_dom "file://$T_TMP/empty.html" "$T_TMP/dom-empty"
tap_check "no stacks: a message instead of a graph" grep -q 'No unfreed blocks to show' "$T_TMP/dom-empty"

if have_memledger_format html; then
  dump=$(leak_dump)
  [ -n "$dump" ] || bail "examples/leak_basic left no dump"
  "$MEMLEDGER" report --format html -o "$T_TMP/cmd.html" "$dump" 2>"$T_TMP/cmd.err"
  chrome_dom "file://$T_TMP/cmd.html" "$T_TMP/dom-cmd"
  tap_check "memledger report --format html: flame graph nodes for the leaking functions" \
    sh -c "grep -q 'data-name=\"make_session_cache\"' '$T_TMP/dom-cmd' && grep -q 'data-name=\"load_config\"' '$T_TMP/dom-cmd'"
else
  tap_skip "memledger report --format html not available"
fi
exit 0

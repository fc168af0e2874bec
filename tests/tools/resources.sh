#!/bin/bash
# SPDX-License-Identifier: MIT
# resources.sh - descriptors, threads and mappings ([fds], [threads],
# [mappings]) and the blocks newer than the previous dump ([newer]) in
# report, diff and trend, from hand-written dumps (tests/data/res_*.dump,
# modules that do not exist: output is machine-independent).  Malformed
# lines of these sections are in bad_input.sh (tests/data/bad_res_*.dump).
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

tap_plan 23
cd "$DATA" || bail "no $DATA"
o=$T_TMP

check_expected res_basic.json report --format json res_basic.dump
check_expected res_basic.text report res_basic.dump
check_expected res_diff.text diff res_old.dump res_basic.dump
check_expected res_diff.json diff --format json res_old.dump res_basic.dump
check_expected res_basic.top.text report --top 1 res_basic.dump
check_expected res_trend.text trend res_old.dump res_basic.dump res_later.dump
check_expected res_trend.json trend --format json res_old.dump res_basic.dump res_later.dump

if command -v python3 >/dev/null; then
  for j in res_basic.json res_diff.json res_trend.json; do
    tap_check "$j parses" python3 -c "import json; json.load(open('$o/$j'))"
  done
else
  for j in 1 2 3; do tap_skip "no python3 to parse JSON"; done
fi

# A dump without the sections: no resource lines, no newer counts.
"$ML" report golden_basic.dump >"$o/plain" 2>&1
tap_eq "a dump without [fds], [threads], [mappings], [newer]: none of their lines" 0 \
  "$(grep -c -e '^  fds:' -e '^Open descriptors' -e 'newer than' -e '^  newer:' "$o/plain")"

# The html page: a table per section (10 rows: 4 + 3 + 3 groups), capped by --html-rows.
"$ML" report --format html res_basic.dump >"$o/page.html" 2>&1
tap_eq "html: a section per resource with a row per (stack, kind)" "1 1 1 10" \
  "$(grep -c '<section id="fds">' "$o/page.html") $(grep -c '<section id="threads">' "$o/page.html") $(grep -c '<section id="mappings">' "$o/page.html") $(grep -o '<tr><td class="n">[0-9]*</td><td class="n">[0-9,]*</td>' "$o/page.html" | wc -l)"
tap_eq "html: cards for descriptors, threads, mappings and newer blocks; a newer column" "4 1" \
  "$(grep -c '<div class="card"><div class="k">\(open descriptors\|threads\|mappings\|newer\)</div>' "$o/page.html") $(grep -c '<th title="[^"]*">newer</th>' "$o/page.html")"
"$ML" report --format html --html-rows 1 res_basic.dump >"$o/page1.html" 2>&1
tap_eq "html: --html-rows 1 keeps one row per table and says how many are left out" "3 4" \
  "$(grep -o '<tr><td class="n">[0-9]*</td><td class="n">[0-9,]*</td>' "$o/page1.html" | wc -l) $(grep -c 'left out of this table' "$o/page1.html")"

# The trend page: charts of memory and of descriptors/threads, a table per section.
"$ML" trend --format html res_old.dump res_basic.dump res_later.dump >"$o/trend.html" 2>&1
tap_eq "trend html: memory and descriptors/threads charts, a table per section" "1 1 3" \
  "$(grep -c '<section id="memory">' "$o/trend.html") $(grep -c '<section id="process">' "$o/trend.html") $(grep -c '<section id="trend-\(fds\|threads\|mappings\)">' "$o/trend.html")"

# Hostile details: control characters escaped in text, markup in html, valid JSON.
sed 's|^4 file 0 10 open /var/log/server log$|4 file 0 10 open /tmp/\x1b[31m<b>x|' res_basic.dump >"$o/hostile.dump"
"$ML" report "$o/hostile.dump" >"$o/hostile.txt" 2>&1
tap_eq "text: a control character in a detail is escaped" "1 0" \
  "$(grep -c 'open /tmp/\\x1b\[31m<b>x' "$o/hostile.txt") $(grep -c $'\x1b' "$o/hostile.txt")"
"$ML" report --format html "$o/hostile.dump" >"$o/hostile.html" 2>&1
tap_eq "html: markup in a detail is escaped" "0 1" \
  "$(grep -c '<b>x' "$o/hostile.html") $(grep -c '&lt;b&gt;x' "$o/hostile.html")"

# --hide removes frames of creation stacks too (a dump whose frames are
# symbolized: tests/tools/gen_dump.py's, with the sections added).
if command -v python3 >/dev/null; then
  synthetic_dump "$o/sym.dump" 2 2 40
  python3 - "$o/sym.dump" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("[end]\n", "[fds]\n1 socket 0 3 socket socket:[1]\n[threads]\n2 running 8192 77 w\n"
              "[mappings]\n1 anon-private 4096 7f9000000000 rw- mmap\n[end]\n")
open(p, "w").write(s)
PY
  "$ML" report --format json --hide '.' "$o/sym.dump" >"$o/hide.json" 2>"$o/hide.err"
  tap_eq "--hide applies to creation stacks (hidden_frames in fds, threads, mappings)" 3 \
    "$(python3 -c "
import json; d = json.load(open('$o/hide.json'))
print(sum(1 for k in ('fds', 'threads', 'mappings') for g in d[k] if g.get('hidden_frames', 0) > 0))")"
else
  tap_skip "no python3 for a symbolized synthetic dump"
fi
"$ML" report --function nothing_matches res_basic.dump >"$o/filter.txt" 2>&1
tap_eq "--function filters creation stacks too" "1 0" \
  "$(grep -c '^  fds:        none$' "$o/filter.txt") $(grep -c '^Open descriptors' "$o/filter.txt")"

# [newer] of a process's first dump (newer_since 0) counts from the start:
# in the JSON, not in the text (every block is newer than the start);
# a stack id listed once per kind carries the id's count on each line.
"$ML" report res_old.dump >"$o/old.txt" 2>&1
"$ML" report --format json res_old.dump >"$o/old.json" 2>&1
tap_eq "newer_since 0: counted since the start in the JSON, not shown in the text" "1 0 0" \
  "$(grep -c '"newer": {"since_unix_ns": 0, "blocks": 2, "bytes": 8192}' "$o/old.json") $(grep -c '^  newer:' "$o/old.txt") $(grep -c 'newer than' "$o/old.txt")"
"$ML" report --kinds all res_basic.dump >"$o/all.txt" 2>&1
tap_eq "a stack with two kinds: the id's newer count on both lines" 2 \
  "$(grep -c 'stack 1, 2 of all its kinds newer than the previous dump:$' "$o/all.txt")"

# Empty sections (a program with nothing to list): one line each, "none".
awk '/^\[fds\]$/ { print; print "[threads]"; print "[mappings]"; skip = 1; next }
     /^\[end\]$/ { skip = 0 } !skip' res_basic.dump >"$o/empty.dump"
"$ML" report "$o/empty.dump" >"$o/empty.txt" 2>&1
tap_eq "empty sections: a summary line saying none, no section" "3 0" \
  "$(grep -c -e '^  fds:        none$' -e '^  threads:    none$' -e '^  mappings:   none$' "$o/empty.txt") $(grep -c -e '^Open descriptors' -e '^Threads' -e '^Mappings' "$o/empty.txt")"

# A thread created and not started yet has tid 0 (running or detached).
sed 's/^5 running 8388608 6002 worker-2$/5 running 8388608 0 worker-2/' res_basic.dump >"$o/tid0.dump"
"$ML" report "$o/tid0.dump" >"$o/tid0.txt" 2>&1
tap_eq "a running thread with tid 0 (not started yet) is read" "0 1" "$? $(grep -c '^    tid 6001, 0$' "$o/tid0.txt")"

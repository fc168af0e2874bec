#!/bin/bash
# SPDX-License-Identifier: MIT
# trim.sh - --alloc-fn and --hide on the dump of prog_wrappers: the wrapper
# frames go, the caller becomes frame #0, stacks that became identical are
# merged; in report (every format), diff and run; bad expressions refused.
# (Each stack's header names its kind: prog_wrappers loses its blocks.)
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

PROG=$TT_BIN/prog_wrappers
need_file "$PROG"
tap_plan 16
dump=$(dump_of trim "$PROG") || bail "prog_wrappers wrote no dump"
o=$T_TMP

# frame0 FILE: the function of frame #0 of every stack, in report order
frame0() { sed -n 's/^    #0  0x[0-9a-f]* in \([^ ]*\) .*/\1/p' "$1" | paste -sd' '; }

"$ML" report "$dump" >"$o/plain" 2>&1
tap_eq "without options: 4 stacks, each with xmalloc_wrap as frame #0" \
  "xmalloc_wrap xmalloc_wrap xmalloc_wrap xmalloc_wrap" "$(frame0 "$o/plain")"

"$ML" report --alloc-fn '^xmalloc_wrap$' "$dump" >"$o/alloc" 2>"$o/alloc.err"
tap_eq "--alloc-fn: exit 0, the callers are frame #0" "0 alloc_loop handler_b handler_a" \
  "$? $(frame0 "$o/alloc")"
tap_eq "--alloc-fn: no xmalloc_wrap frame is left" 0 "$(grep -c 'in xmalloc_wrap' "$o/alloc")"
tap_check "--alloc-fn: the two alloc_loop stacks are merged (1501 + 1600 bytes)" \
  grep -q '^2 blocks, 3101 bytes (sizes 1501 to 1600 bytes), definitely lost, stack [0-9]* and 1 more merged by --alloc-fn/--hide:$' "$o/alloc"
tap_check "--alloc-fn: the summary counts 3 stacks, the same blocks" \
  grep -q '^  unfreed:    4 blocks, 8101 bytes in 3 stacks$' "$o/alloc"

"$ML" report --hide 'handler_' "$dump" >"$o/hide" 2>&1
tap_eq "--hide: handler frames removed anywhere, xmalloc_wrap stays frame #0" \
  "0 xmalloc_wrap" "$(grep -c 'in handler_' "$o/hide") $(frame0 "$o/hide" | cut -d' ' -f1)"
tap_check "--hide: the two dispatch stacks are merged; dispatch follows the wrapper" \
  eval "grep -A2 '^2 blocks, 5000 bytes (sizes 2000 to 3000 bytes), definitely lost, stack [0-9]* and 1 more merged' '$o/hide' | grep -q '#1  0x[0-9a-f]* in dispatch at'"

"$ML" report --alloc-fn xmalloc_wrap --alloc-fn '^alloc_loop$' --hide '^handler_a$' --hide '^handler_b$' \
  "$dump" >"$o/both" 2>&1
tap_eq "repeated --alloc-fn and --hide: dispatch (5000 bytes), then main" "dispatch main" "$(frame0 "$o/both")"

"$ML" report -f json --alloc-fn xmalloc_wrap "$dump" >"$o/json"
tap_check "json: frames[0] is the caller, merged and hidden_frames are given" python3 -c "
import json
r = json.load(open('$o/json'))
f0 = sorted(s['frames'][0]['function'] for s in r['stacks'])
assert f0 == ['alloc_loop', 'handler_a', 'handler_b'], f0
m = [s for s in r['stacks'] if s['frames'][0]['function'] == 'alloc_loop'][0]
assert (m['merged'], m['hidden_frames'], m['blocks'], m['bytes']) == (1, 1, 2, 3101), m
assert r['unfreed']['stacks'] == 3"
"$ML" report -f folded --alloc-fn xmalloc_wrap "$dump" >"$o/folded"
tap_eq "folded: 3 lines, none with the wrapper, alloc_loop last on its line" "3 0 1" \
  "$(grep -c . "$o/folded") $(grep -c xmalloc_wrap "$o/folded") $(grep -c ';alloc_loop 3101$' "$o/folded")"
"$ML" report -f jeprof "$dump" >"$o/jeprof0"
"$ML" report -f jeprof --alloc-fn xmalloc_wrap "$dump" >"$o/jeprof"
# addrs FILE BYTES: the number of addresses on the jeprof line of BYTES bytes
addrs() { grep "^ *[0-9]*: *$2 \\[" "$1" | head -n1 | grep -o ' 0x[0-9a-f]*' | grep -c .; }
tap_eq "jeprof: 3 stacks; one raw address fewer (the wrapper's) on each" "3 1 1" \
  "$(grep -c '^ *[0-9]*: *[0-9]* \[' "$o/jeprof") $(($(addrs "$o/jeprof0" 3000) - $(addrs "$o/jeprof" 3000))) $(($(addrs "$o/jeprof0" 1600) - $(addrs "$o/jeprof" 3101)))"

printf 'name: handler a\nfunction: handler_a\n' >"$o/a.supp"
"$ML" report --suppress "$o/a.supp" --hide 'handler_' "$dump" >"$o/supp" 2>&1
tap_check "suppressions match the stack before --hide: handler_a suppressed, not merged" \
  eval "grep -q '^      1 block, 2000 bytes in 1 stack: handler a\$' '$o/supp' && grep -q '^1 block, 3000 bytes (3000 bytes each), definitely lost, stack [0-9]*:\$' '$o/supp'"

"$ML" diff --alloc-fn xmalloc_wrap "$dump" "$dump" >"$o/diff" 2>&1
tap_check "diff: --alloc-fn applies to both dumps (3 stacks, unchanged)" \
  grep -q '^  stacks:  0 grew, 0 new, 0 shrank, 0 gone, 3 unchanged$' "$o/diff"

rd=$(fresh_dir trim_run)
"$ML" run --dir "$rd" --alloc-fn xmalloc_wrap -- "$PROG" >/dev/null 2>"$o/run"
tap_eq "run: --alloc-fn applies to the exit report" "0 alloc_loop handler_b handler_a" \
  "$? $(frame0 "$o/run")"

"$ML" report --alloc-fn '(' "$dump" >"$o/bad" 2>&1
tap_eq "a bad expression: exit 2, one line naming the option, before reading the dump" \
  "2 1" "$? $(grep -c "^memledger: --alloc-fn '(': " "$o/bad")"
"$ML" diff --hide '' "$dump" "$dump" >"$o/bad2" 2>&1
tap_eq "an empty expression is refused" "2 1" \
  "$? $(grep -c "^memledger: --hide: expected a regular expression, not ''" "$o/bad2")"

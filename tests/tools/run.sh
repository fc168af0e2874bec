#!/bin/bash
# SPDX-License-Identifier: MIT
# run.sh - memledger run: the live report of examples/leak_basic names
# make_session_cache (3 blocks, 12288 bytes) and load_config (1 block, 10000
# bytes); the program's exit status passes through (and 128+N when killed,
# 127/126 when it cannot be started); --fail-on-leak exits 99 only when more
# than N blocks remain; options reach the library; formats and -o.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

LEAK=$ML_BUILDDIR/examples/leak_basic
need_file "$LEAK"
tap_plan 17

d=$(fresh_dir run)
$ML_TIMEOUT "$ML" run --dir "$d" -- "$LEAK" >"$d/out" 2>"$d/err"
rc=$?
tap_eq "leak_basic exits 0 under memledger run, prints its own output" "0 leak_basic: done" \
  "$rc $(cat "$d/out")"
tap_eq "the report says 4 blocks, 22288 bytes in 2 stacks remain" 1 \
  "$(grep -c '^  remaining:  4 blocks, 22288 bytes in 2 stacks$' "$d/err")"
tap_eq "3 blocks, 12288 bytes from make_session_cache" 1 \
  "$(grep -E -A1 '^3 blocks, 12288 bytes \(4096 bytes each\)(, definitely lost)?, stack [0-9]*:$' "$d/err" |
    grep -c '#0  0x[0-9a-f]* in make_session_cache at .*leak_basic.c:[0-9]* \[leak_basic\]$')"
tap_eq "1 block, 10000 bytes from load_config" 1 \
  "$(grep -E -A1 '^1 block, 10000 bytes \(10000 bytes each\)(, definitely lost)?, stack [0-9]*:$' "$d/err" |
    grep -c '#0  0x[0-9a-f]* in load_config at .*leak_basic.c:[0-9]* \[leak_basic\]$')"
tap_eq "main is a caller in both stacks; no frame of libmemledger.so" "2 0" \
  "$(grep -c '#1  0x[0-9a-f]* in main at .*leak_basic.c' "$d/err") $(grep -c 'libmemledger' "$d/err")"
tap_eq "the exit dump stays in --dir" 1 "$(count_dumps "$d")"

# --fail-on-leak tracks every block: leak_basic's 100 lost 64-byte blocks
# count too (104 in all); at the default threshold, 4.
$ML_TIMEOUT "$ML" run --dir "$d" --fail-on-leak -- "$LEAK" >/dev/null 2>"$d/err2"
tap_eq "--fail-on-leak: 104 blocks remain (every block tracked), exit 99" "99 1 1" \
  "$? $(grep -c 'exit status 99' "$d/err2") $(grep -c '^memledger: 104 blocks' "$d/err2")"
$ML_TIMEOUT "$ML" run -q --dir "$d" --fail-on-leak=4 --min-size 1024 -- "$LEAK" >/dev/null 2>&1
tap_eq "--fail-on-leak=4 --min-size 1024: not more than 4, exit 0" 0 "$?"
$ML_TIMEOUT "$ML" run -q --dir "$d" --fail-on-leak=3 --min-size 1024 -- "$LEAK" >/dev/null 2>&1
tap_eq "--fail-on-leak=3 --min-size 1024: exit 99" 99 "$?"
$ML_TIMEOUT "$ML" run -q --dir "$d" --fail-on-leak --function load_config -- "$LEAK" >/dev/null 2>&1
tap_eq "--fail-on-leak counts what the filters keep (1 block)" 99 "$?"
$ML_TIMEOUT "$ML" run -q --dir "$d" --fail-on-leak --min-size 20000 -- "$LEAK" >/dev/null 2>&1
tap_eq "--min-size 20000 reaches the library: nothing tracked, exit 0" 0 "$?"

# Without --dir, the library's dir option: here from MEMLEDGER_OPTIONS.
dl=$(fresh_dir rundir)
(cd "$d" && MEMLEDGER_OPTIONS="dir=$dl:max_frames=8" $ML_TIMEOUT "$ML" run -- "$LEAK" >/dev/null 2>"$dl.err")
tap_eq "no --dir, MEMLEDGER_OPTIONS=dir=DIR: the exit dump is in DIR and reported" "1 1" \
  "$(count_dumps "$dl") $(grep -c '^  remaining:  4 blocks, 22288 bytes in 2 stacks$' "$dl.err")"

$ML_TIMEOUT "$ML" run -q --dir "$d" -- sh -c 'exit 7' >/dev/null 2>&1
tap_eq "the program's exit status passes through" 7 "$?"
$ML_TIMEOUT "$ML" run -q --dir "$d" -- "$ML_BUILDDIR/tests/tools/prog_wait" </dev/null >/dev/null 2>&1 &
wait $!
tap_eq "a program that ends normally at EOF: 0" 0 "$?"
$ML_TIMEOUT "$ML" run -q --dir "$d" -- sh -c 'kill -KILL $$' >/dev/null 2>&1
tap_eq "killed by SIGKILL: 128+9" 137 "$?"
"$ML" run --dir "$d" -- /nonexistent/program >/dev/null 2>"$d/err3"
tap_eq "a program that does not exist: 127 and a message" "127 1" \
  "$? $(grep -c 'command not found' "$d/err3")"

$ML_TIMEOUT "$ML" run --dir "$d" -f folded -o "$d/leak.folded" -- "$LEAK" >/dev/null 2>&1
tap_eq "-f folded -o FILE: two stacks ending in make_session_cache and load_config" \
  "_start;__libc_start_main_impl;__libc_start_call_main;main;load_config 10000
_start;__libc_start_main_impl;__libc_start_call_main;main;make_session_cache 12288" \
  "$(sed 's/^.*main;//; s/^/_start;__libc_start_main_impl;__libc_start_call_main;main;/' "$d/leak.folded" | sort)"

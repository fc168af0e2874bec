#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/tools-formats/pprof.sh - `--format pprof`: a gzipped
# perftools.profiles.Profile, decoded by protoc with the schema in
# profile.proto (decode checks are skipped when protoc is not installed).
. "$ML_SRCDIR/tests/tools-formats/lib.sh"

tap_plan 21
pb=$T_TMP/sample.pb.gz
"$FMT_DRIVER" pprof "$pb" 2>"$T_TMP/err"
tap_eq "fmt_driver pprof: exit status" 0 $?
tap_eq "gzip stream" "1f8b" "$(od -An -tx1 -N2 "$pb" | tr -d ' \n')"
"$FMT_DRIVER" pprof "$T_TMP/again.pb.gz"
tap_check "the same report gives the same bytes" cmp -s "$pb" "$T_TMP/again.pb.gz"

if ! command -v protoc >/dev/null; then
  for i in $(seq 4 21); do tap_skip "protoc not installed"; done
  exit 0
fi

pprof_resolved "$pb" >"$T_TMP/sample.txt" 2>"$T_TMP/decode.err"
if [ -s "$T_TMP/sample.txt" ] && ! [ -s "$T_TMP/decode.err" ]; then
  tap_ok "protoc decodes it as perftools.profiles.Profile"
else
  tap_fail "protoc decodes it as perftools.profiles.Profile"
  tap_diag_file "$T_TMP/decode.err"
fi
r() { grep "^$1" "$T_TMP/sample.txt" | paste -sd'|'; }
tap_eq "string_table[0] is empty" "string0 []" "$(r string0)"
tap_eq "sample types: inuse_objects/count, inuse_space/bytes" \
  "sample_type inuse_objects/count|sample_type inuse_space/bytes" "$(r sample_type)"
tap_eq "samples: blocks and bytes per shown stack, leaf first, stack id label" \
  "sample 3 12288 locs 1,2,3 stack_id=1|sample 1 10000 locs 4,2,3 stack_id=2|sample 2 4096 locs 5 stack_id=0|sample 2 3000 locs 6,7,8 stack_id=3" \
  "$(r 'sample ')"
tap_eq "mappings: the main program first, build ids, symbolization flags" \
  "mapping 1 /opt/demo/bin/server build_id=aabbccddeeff00112233445566778899aabbccdd functions=1 filenames=1 lines=1|mapping 2 /lib/x86_64-linux-gnu/libc.so.6 build_id=0123456789abcdef0123456789abcdef01234567 functions=1 filenames=0 lines=0|mapping 3 /opt/demo/lib/libnoid.so build_id= functions=0 filenames=0 lines=0|mapping 4 linux-vdso.so.1 build_id=feed functions=0 filenames=0 lines=0" \
  "$(r mapping)"
# 0x555500001211 - 1 = 93823560585744
tap_eq "an inlined call: one location, inlined function first, call address" \
  "location 1 mapping=1 addr=93823560585744 lines=cache_alloc:12|make_session_cache:30" \
  "$(r 'location 1 ')"
tap_eq "one location per address: main's call site is shared by two stacks" \
  "location 2 mapping=1 addr=93823560585378 lines=main:88" "$(r 'location 2 ')"
tap_eq "unsymbolized addresses: no lines; outside every module: no mapping" \
  "location 6 mapping=3 addr=139706696210986 lines=|location 7 mapping=0 addr=4659 lines=" \
  "$(r 'location [67] ')"
tap_eq "a stack without frames gets a pseudo-location" \
  "location 5 mapping=0 addr=0 lines=[stack table full]:0" "$(r 'location 5 ')"
tap_eq "functions: name, file; deduplicated" \
  "function 1 cache_alloc /src/demo/cache.h|function 2 make_session_cache /src/demo/server.c|function 3 main /src/demo/server.c|function 4 __libc_start_call_main |function 5 load_config /src/demo/config.c|function 6 [stack table full] |function 7 tricky<int></script><!--&\"' /src/demo/t.cc" \
  "$(r function)"
tap_eq "time_nanos from the dump header" "time_nanos 1795387202131082517" "$(r time_nanos)"
tap_eq "comments: pid and suppressed totals" \
  "comment pid: 4242|comment suppressed (not in the samples): 1 stack, 1 blocks, 2048 bytes" \
  "$(r 'comment \(pid\|supp\)')"
tap_eq "default sample type follows --weight (bytes)" "default_sample_type inuse_space" \
  "$(r default_sample_type)"
"$FMT_DRIVER" --weight count pprof "$T_TMP/count.pb.gz"
tap_eq "default sample type follows --weight (count)" "default_sample_type inuse_objects" \
  "$(pprof_resolved "$T_TMP/count.pb.gz" | grep '^default_sample_type')"

"$FMT_DRIVER" --many 3000 pprof "$T_TMP/many.pb.gz"
tap_eq "3000 more stacks with a function each: samples, locations, functions" \
  "3004 3008 3007" \
  "$(pprof_resolved "$T_TMP/many.pb.gz" | awk '{ n[$1]++ } END { print n["sample"], n["location"], n["function"] }')"

# ---- a real dump ----------------------------------------------------------------
dump=$(leak_dump)
[ -n "$dump" ] || bail "examples/leak_basic left no dump"
exe_bid=$(module_range "$dump" /examples/leak_basic | awk '{ print $3 }')
"$FMT_DRIVER" --dump "$dump" pprof "$T_TMP/real.pb.gz"
pprof_resolved "$T_TMP/real.pb.gz" >"$T_TMP/real.txt"
tap_eq "a real dump: the sums of the samples are the dump's unfreed line" \
  "$(dump_unfreed "$dump")" \
  "$(awk '/^sample / { b += $2; y += $3 } END { print b, y }' "$T_TMP/real.txt")"
tap_eq "a real dump: mapping 1 is the program, with its build id" \
  "$LEAK_BASIC $exe_bid" "$(awk '/^mapping 1 / { sub(/build_id=/, "", $4); print $3, $4 }' "$T_TMP/real.txt")"

if have_memledger_format pprof; then
  "$MEMLEDGER" report --format pprof -o "$T_TMP/cmd.pb.gz" "$dump" 2>"$T_TMP/cmd.err"
  pprof_resolved "$T_TMP/cmd.pb.gz" >"$T_TMP/cmd.txt"
  tap_eq "memledger report --format pprof: the leaking functions, symbolized" \
    "make_session_cache:29 3 12288|load_config:33 1 10000" \
    "$(awk 'NR == FNR { if (/^location /) { split($5, a, "="); split(a[2], l, "|"); loc[$2] = l[1] }; next }
            /^sample / { split($5, ids, ","); print loc[ids[1]], $2, $3 }' "$T_TMP/cmd.txt" "$T_TMP/cmd.txt" |
      paste -sd'|')"
else
  tap_skip "memledger report --format pprof not available"
fi
exit 0

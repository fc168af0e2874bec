#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/tools-formats/jeprof.sh - `--format jeprof`: the legacy heap profile
# text.  Checks the lines against the syntax jeprof and google-pprof parse
# (ReadHeapProfile), then lets both tools symbolize a real dump of
# examples/leak_basic (skipped when they are not installed).
. "$ML_SRCDIR/tests/tools-formats/lib.sh"

tap_plan 16
out=$T_TMP/sample.heap
"$FMT_DRIVER" jeprof "$out" 2>"$T_TMP/err"
tap_eq "header: in-use and allocated pairs, unsampled type" \
  "heap profile:      8:    29384 [     8:    29384] @ heapprofile" "$(head -n1 "$out")"

# The regular expressions of jeprof's ReadHeapProfile (header and entries).
if command -v perl >/dev/null; then
  bad=$(perl -ne '
    if ($. == 1) { chomp; print "header: $_\n" unless m"^heap profile:\s*(\d+):\s+(\d+)\s+\[\s*(\d+):\s+(\d+)\](\s*@\s*([^/]*)(/(\d+))?)?" && $6 eq "heapprofile"; next }
    last if /^MAPPED_LIBRARIES:/;
    next if /^$/;
    s/^\s*//; s/\s*$//;
    print "entry: $_\n" unless m/^\s*(\d+):\s+(\d+)\s+\[\s*(\d+):\s+(\d+)\]\s+@\s+(.*)$/;' "$out")
  tap_eq "every line parses with jeprof's expressions" "" "$bad"
else
  tap_skip "perl not installed"
fi

tap_eq "one line per shown stack, largest first" \
  "3 12288|1 10000|2 4096|2 3000" \
  "$(sed -n '2,/^$/p' "$out" | awk 'NF { sub(/:/, "", $1); printf "%s%s %s", sep, $1, $2; sep = "|" }')"
tap_eq "the first address is the call (return address - 1), the others raw (jeprof subtracts 1)" \
  "0x0000555500001210 0x00005555000010a3 0x00007f000002724a" \
  "$(sed -n 2p "$out" | sed 's/.*@ //')"
tap_eq "a stack without frames keeps its blocks at address 0" \
  "0x0000000000000000" "$(sed -n 4p "$out" | sed 's/.*@ //')"
tap_eq "MAPPED_LIBRARIES: maps lines for every file-backed module, no vDSO" \
  "7f0000000000-7f00001d0000 r-xp 00000000 00:00 0 /lib/x86_64-linux-gnu/libc.so.6|555500000000-555500010000 r-xp 00000000 00:00 0 /opt/demo/bin/server|7f1000000000-7f1000004000 r-xp 00000000 00:00 0 /opt/demo/lib/libnoid.so" \
  "$(sed -n '/^MAPPED_LIBRARIES:$/,$p' "$out" | sed 1d | paste -sd'|')"

"$FMT_DRIVER" --empty jeprof "$T_TMP/empty.heap"
tap_eq "no stacks: a valid empty profile" \
  "heap profile:      0:        0 [     0:        0] @ heapprofile" "$(head -n1 "$T_TMP/empty.heap")"

"$FMT_DRIVER" --many 3000 jeprof "$T_TMP/many.heap"
tap_eq "3000 more stacks: one line each" 3004 "$(grep -c ' @ 0x' "$T_TMP/many.heap")"
# full_disk FORMAT: "<status> <message>" of a report written to /dev/full
full_disk() {
  local msg st
  msg=$("$FMT_DRIVER" "$1" /dev/full 2>&1)
  st=$?
  echo "$st $msg"
}
if [ -w /dev/full ]; then
  tap_eq "a write error is reported, for every format" \
    "1 fmt_driver: writing the jeprof report: No space left on device|1 fmt_driver: writing the pprof report: No space left on device|1 fmt_driver: writing the html report: No space left on device" \
    "$(for f in jeprof pprof html; do full_disk $f; done | paste -sd'|')"
else
  tap_skip "no /dev/full"
fi

# ---- a real dump, symbolized by jeprof / google-pprof ---------------------------
dump=$(leak_dump)
[ -n "$dump" ] || bail "examples/leak_basic left no dump"
"$FMT_DRIVER" --dump "$dump" jeprof "$T_TMP/real.heap"

# profile_top TOOL HEAP: "<objects> <function> <file:line>" of the flat
# entries with objects, as TOOL --text --inuse_objects --lines prints them.
profile_top() {
  $ML_TIMEOUT "$1" --text --inuse_objects --lines "$LEAK_BASIC" "$2" 2>"$2.$(basename "$1").err" |
    awk '$1 ~ /^[0-9]+$/ && $1 > 0 { sub(/.*\//, "", $7); print $1, $6, $7 }'
}
expect_top="3 make_session_cache leak_basic.c:29|1 load_config leak_basic.c:33"
for tool in jeprof google-pprof; do
  if command -v $tool >/dev/null; then
    got=$(profile_top "$(command -v $tool)" "$T_TMP/real.heap" | paste -sd'|')
    tap_eq "$tool symbolizes a real dump (objects, function, line of the malloc call)" "$expect_top" "$got"
    [ "$got" = "$expect_top" ] || tap_diag_file "$T_TMP/real.heap.$tool.err"
    total=$($ML_TIMEOUT $tool --text --show_bytes "$LEAK_BASIC" "$T_TMP/real.heap" 2>/dev/null | sed -n 's/^Total: //p')
    tap_eq "$tool: total bytes as in the dump" "22288 B" "$total"
  else
    tap_skip "$tool not installed"
    tap_skip "$tool not installed"
  fi
done

# ---- the command --------------------------------------------------------------
if have_memledger_format jeprof && command -v jeprof >/dev/null; then
  "$MEMLEDGER" report --format jeprof -o "$T_TMP/cmd.heap" "$dump" 2>"$T_TMP/cmd.err"
  tap_eq "memledger report --format jeprof: exit status" 0 $?
  tap_eq "memledger report --format jeprof, read by jeprof" "$expect_top" \
    "$(profile_top "$(command -v jeprof)" "$T_TMP/cmd.heap" | paste -sd'|')"
  # The caller's line, from a return address that jeprof adjusts itself.
  tap_check "jeprof finds main's call sites (lines 51 and 52)" \
    sh -c "$ML_TIMEOUT jeprof --text --inuse_objects --lines '$LEAK_BASIC' '$T_TMP/cmd.heap' 2>/dev/null | grep -q 'main .*leak_basic.c:51' && $ML_TIMEOUT jeprof --text --inuse_objects --lines '$LEAK_BASIC' '$T_TMP/cmd.heap' 2>/dev/null | grep -q 'main .*leak_basic.c:52'"
else
  tap_skip "memledger report --format jeprof or jeprof not available"
  tap_skip "memledger report --format jeprof or jeprof not available"
  tap_skip "memledger report --format jeprof or jeprof not available"
fi
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# diff_time.sh - memledger diff: the time between the two dumps (header
# unix_time_ns, else time) and the growth rate in text and json, and the
# warnings when the dumps were taken with different thresholds or unwind
# settings, or NEW is older than OLD.  Variants of tests/data/golden_*.dump
# are made with sed.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

tap_plan 12
o=$T_TMP
old=$DATA/golden_old.dump
new=$DATA/golden_new.dump

"$ML" diff "$old" "$new" >"$o/text" 2>"$o/text.err"
tap_eq "text: exit 0, no warning for dumps taken alike" "0 0" "$? $(grep -c . "$o/text.err")"
tap_check "text: 10 minutes from old to new" \
  grep -qx '  time:    10 min 0.0 s from old to new (600.000 s)' "$o/text"
tap_check "text: +9288 bytes in 10 minutes = +928.8 bytes/min, +55728 bytes/hour" \
  grep -qx '  rate:    +928.8 bytes/min, +55728 bytes/hour; +0.40 blocks/min, +24.0 blocks/hour' "$o/text"

"$ML" diff -f json "$old" "$new" >"$o/json"
tap_check "json: interval_seconds and growth_rate" python3 -c "
import json
d = json.load(open('$o/json'))
assert d['interval_seconds'] == 600, d['interval_seconds']
r = d['growth_rate']
assert (r['bytes_per_minute'], r['bytes_per_hour'], r['blocks_per_minute'], r['blocks_per_hour']) == (928.8, 55728, 0.4, 24), r"

# Without unix_time_ns the ISO time is used; without either, no rate.
sed '/^unix_time_ns: /d; s/^time: .*/time: 2026-01-02T04:10:00.500Z/' "$new" >"$o/iso.dump"
"$ML" diff "$old" "$o/iso.dump" >"$o/iso" 2>&1
tap_check "the ISO 8601 time when unix_time_ns is missing: 1 h 10 min 0.5 s" \
  grep -qx '  time:    1 h 10 min 0 s from old to new (4200.500 s)' "$o/iso"
sed '/^unix_time_ns: /d; /^time: /d' "$new" >"$o/notime.dump"
"$ML" diff -f json "$old" "$o/notime.dump" >"$o/notime.json"
"$ML" diff "$old" "$o/notime.dump" >"$o/notime" 2>&1
tap_eq "no time in a header: time unknown, no rate line, json nulls" "1 0 2" \
  "$(grep -cx '  time:    unknown (a dump.s header has no time)' "$o/notime") $(grep -c '^  rate:' "$o/notime") $(grep -cE '"(interval_seconds|growth_rate)": null' "$o/notime.json")"

"$ML" diff "$new" "$old" >"$o/swapped" 2>"$o/swapped.err"
tap_eq "NEW older than OLD: a warning, a negative time, no rate" "1 1 0" \
  "$(grep -c '^memledger: warning: NEW (.*golden_old.dump) was taken 600.000 s before OLD' "$o/swapped.err") $(grep -c '^  time:    -10 min 0.0 s from old to new (-600.000 s)$' "$o/swapped") $(grep -c '^  rate:' "$o/swapped")"

sed 's/^threshold: 1024$/threshold: 4096/' "$new" >"$o/thr.dump"
"$ML" diff "$old" "$o/thr.dump" >"$o/thr" 2>"$o/thr.err"
tap_eq "different thresholds: exit 0 and one warning on stderr" "0 1" \
  "$? $(grep -c '^memledger: warning: the dumps were taken with different thresholds (MEMLEDGER_MIN_SIZE: 1024 and 4096 bytes)' "$o/thr.err")"
tap_eq "the warning is not in the report" 0 "$(grep -c warning "$o/thr")"

sed 's/^unwind: libunwind$/unwind: fp/' "$new" >"$o/unw.dump"
"$ML" diff -f json "$old" "$o/unw.dump" >/dev/null 2>"$o/unw.err"
tap_eq "different unwinders: a warning (json too)" 1 \
  "$(grep -c '^memledger: warning: the dumps were taken with different unwind settings (unwind: libunwind and fp)' "$o/unw.err")"
sed 's/^max_frames: 32$/max_frames: 8/' "$new" >"$o/mf.dump"
"$ML" diff "$old" "$o/mf.dump" >/dev/null 2>"$o/mf.err"
tap_eq "different max_frames: a warning" 1 \
  "$(grep -c '^memledger: warning: the dumps were taken with different unwind settings (max_frames: 32 and 8)' "$o/mf.err")"
"$ML" diff "$old" "$old" >"$o/same" 2>&1
tap_eq "a dump against itself: time 0, no rate, no warning" "1 0 0" \
  "$(grep -cx '  time:    0.000 s from old to new (0.000 s)' "$o/same") $(grep -c '^  rate:' "$o/same") $(grep -c warning "$o/same")"

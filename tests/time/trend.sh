#!/bin/bash
# SPDX-License-Identifier: MIT
# trend.sh - memledger trend over the interval dumps of a program that leaks
# 64 KiB every 100 ms from leak_more() and keeps 256 KiB from keep_const():
# the growing stack ranks first with a positive slope (about 38 MiB/min)
# and a good fit, the constant one has a slope of about 0; text and JSON
# agree; a directory and the files given in any order give the same
# series; fewer than two dumps, a bad dump or format is a usage error;
# --quiet silences the progress line; the html page has its four charts.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/time/lib_time.sh" || bail "cannot read lib_time.sh"
need_trend
tap_plan 13

interval_series series grow 30 100
d=$D n=$(count_dumps "$D")

"$ML" trend "$d" >"$d/text" 2>"$d/terr"
tap_eq "trend DIR exits 0" 0 $?
first=$(awk '/^#1 /{ on = 1; next } on && /^ *#0 /{ print; exit }' "$d/text")
case $first in
  *leak_more*) tap_ok "text: the leaking stack ranks first" ;;
  *) tap_fail "text: the leaking stack ranks first" "$(head -n 30 "$d/text")" ;;
esac

"$ML" trend --format json "$d" >"$d/json" 2>>"$d/terr"
check=$(python3 - "$d/json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
def fn(s):
    return [f["function"] for f in s["frames"] if f["function"]]
st = t["stacks"]
leak = [s for s in st if "leak_more" in fn(s)]
keep = [s for s in st if "keep_const" in fn(s)]
out = []
out.append("first" if st and "leak_more" in fn(st[0]) else "not-first")
if leak:
    s = leak[0]["slope_bytes_per_minute"]
    # 64 KiB per 100 ms = 37.5 MiB/min; the interval timer and the busy loop
    # on a loaded machine stretch it; any clear growth will do.
    out.append("growing" if s > 5e6 else "slope=%g" % s)
    out.append("fit" if leak[0]["r2"] > 0.9 else "r2=%g" % leak[0]["r2"])
if keep:
    s = keep[0]["slope_bytes_per_minute"]
    out.append("flat" if abs(s) < 1e3 else "keep-slope=%g" % s)
ts = [x["unix_time_ns"] for x in t["dumps"]]
out.append("ordered" if ts == sorted(ts) else "unordered")
print(" ".join(out))
PY
)
tap_eq "json: leak_more first, growing, fitting well; keep_const flat; dumps in time order" \
  "first growing fit flat ordered" "$check"

"$ML" trend --format html -o "$d/page.html" "$d" 2>>"$d/terr"
tap_eq "html: exit 0, an HTML5 page" "0 <!DOCTYPE html>" "$? $(head -n1 "$d/page.html")"
svgs=$(grep -c '^<svg class="chart"' "$d/page.html")
first=$(sed -n 's/.*<tr id="trend-1">.*<summary>\([^<]*\)<.*/\1/p' "$d/page.html")
# four charts: remaining bytes, memory (tracked and VmRSS), descriptors and
# threads, the steepest stacks
if [ "$svgs" = 4 ] && [ "$first" = leak_more ] && ! grep -q '<script' "$d/page.html"; then
  tap_ok "html: four charts, leak_more first in the table, no script"
else
  tap_fail "html: four charts, leak_more first in the table, no script" "charts $svgs, first '$first'"
fi

# Frames come from a cache across the series: the same as a report of the
# last dump gives (every kind: trend shows all, as diff does).
"$ML" report --kinds all --format json "$(dumps_in "$d" | tail -n1)" >"$d/last.json" 2>>"$d/terr"
same=$(python3 - "$d/json" "$d/last.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))
rf = [s["frames"] for s in r["stacks"]]
print("same" if t["stacks"] and all(s["frames"] in rf for s in t["stacks"]) else "differ")
PY
)
tap_eq "the trend's frames are those of a report of the last dump" same "$same"

# The same files in reverse order give the same ranking.
"$ML" trend --format json $(dumps_in "$d" | sort -r) >"$d/json2" 2>>"$d/terr"
if cmp -s "$d/json" "$d/json2"; then tap_ok "files in any order give the same series"; else
  tap_fail "files in any order give the same series" "$(diff "$d/json" "$d/json2" | head -n 20)"; fi

"$ML" trend "$(dumps_in "$d" | head -n1)" >/dev/null 2>"$d/one"
rc=$?
if [ $rc = 2 ] && grep -q "two dumps or more" "$d/one"; then tap_ok "one dump: exit 2 with a message"; else
  tap_fail "one dump: exit 2 with a message" "rc $rc" "$(cat "$d/one")"; fi

"$ML" trend "$(dumps_in "$d" | head -n1)" "$ML_SRCDIR/tests/data/bad_truncated.dump" >/dev/null 2>"$d/bad"
rc=$?
if [ $rc = 2 ] && grep -q "bad_truncated.dump" "$d/bad"; then tap_ok "a bad dump in the series: exit 2 naming it"; else
  tap_fail "a bad dump in the series: exit 2 naming it" "rc $rc" "$(cat "$d/bad")"; fi
"$ML" trend -f folded "$d" >/dev/null 2>"$d/fmt"
tap_eq "an unknown trend format: exit 2" 2 $?

MEMLEDGER_PROGRESS_AFTER=0 "$ML" trend "$d" >/dev/null 2>"$d/prog"
if grep -q "reading $n dumps" "$d/prog"; then tap_ok "a progress line on stderr"; else
  tap_fail "a progress line on stderr" "$(cat "$d/prog")"; fi
MEMLEDGER_PROGRESS_AFTER=0 "$ML" trend --quiet "$d" >/dev/null 2>"$d/quiet"
tap_eq "--quiet: nothing on stderr" "" "$(cat "$d/quiet")"
[ "$T_FAILED" = 0 ]

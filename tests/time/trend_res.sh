#!/bin/bash
# SPDX-License-Identifier: MIT
# trend_res.sh - memledger trend over the interval dumps of a program that
# opens a descriptor from leak_fd() and starts a thread that ends unjoined
# from leak_thread() every 100 ms, and keeps 4 descriptors from keep_fds()
# and 256 KiB from keep_const() the whole time: among descriptor series
# leak_fd's ranks first, growing with a good fit, keep_fds's is flat; among
# threads leak_thread's ("ended") ranks first; the steady heap stack stays
# a flat heap series (no descriptor or thread series carries a heap
# function, no heap series a descriptor's); the dumps' fds_open grows.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/time/lib_time.sh" || bail "cannot read lib_time.sh"
need_trend
tap_plan 6

interval_series series fdgrow 30 100
d=$D

"$ML" trend --format json "$d" >"$d/json" 2>"$d/terr"
tap_eq "trend --format json DIR exits 0" 0 $?
[ -s "$d/terr" ] && tap_diag_file "$d/terr"

# check.py WHAT: one word per fact of the JSON trend, in a fixed order
check() {
  python3 - "$d/json" "$1" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
what = sys.argv[2]
def fn(s):
    return [f["function"] for f in s.get("frames", []) if f.get("function")]
def find(v, name):
    return [s for s in v if name in fn(s)]
out = []
if what == "fds":
    v = t.get("fds", [])
    out.append("first" if v and "leak_fd" in fn(v[0]) else
               "first=%s" % (",".join(fn(v[0])[:2]) if v else "none"))
    leak, keep = find(v, "leak_fd"), find(v, "keep_fds")
    if leak:
        s = leak[0]
        # one per 100 ms = 600 a minute; a loaded machine stretches it
        out.append("growing" if s["slope_count_per_minute"] > 60 else
                   "slope=%g" % s["slope_count_per_minute"])
        out.append("fit" if s["r2"] > 0.9 else "r2=%g" % s["r2"])
        out.append("%s/%d" % (s["kind"], s["bytes"]))
    else:
        out.append("no-leak_fd")
    if keep:
        s = keep[0]
        out.append("flat" if abs(s["slope_count_per_minute"]) < 1e-6 else
                   "keep-slope=%g" % s["slope_count_per_minute"])
        out.append("count=%d" % s["count"])
    else:
        out.append("no-keep_fds")
elif what == "threads":
    v = t.get("threads", [])
    out.append("first" if v and "leak_thread" in fn(v[0]) else
               "first=%s" % (",".join(fn(v[0])[:2]) if v else "none"))
    leak = find(v, "leak_thread")
    if leak:
        s = leak[0]
        out.append(s["kind"])
        out.append("growing" if s["slope_count_per_minute"] > 60 else
                   "slope=%g" % s["slope_count_per_minute"])
    else:
        out.extend(["no-leak_thread", "-"])
elif what == "apart":
    res = [s for k in ("fds", "threads", "mappings") for s in t.get(k, [])]
    heap = t.get("stacks", [])
    out.append("res-clean" if not any(set(fn(s)) & {"keep_const", "leak_more"} for s in res)
               else "heap-in-res")
    out.append("heap-clean" if not any(set(fn(s)) & {"leak_fd", "keep_fds", "leak_thread"}
                                       for s in heap) else "res-in-heap")
    keep = find(heap, "keep_const")
    out.append("keep_const-flat" if keep and abs(keep[0]["slope_bytes_per_minute"]) < 1e3
               else "keep_const=%s" % (keep[0]["slope_bytes_per_minute"] if keep else "none"))
elif what == "dumps":
    f = [x.get("fds_open") for x in t["dumps"]]
    th = [x.get("threads") for x in t["dumps"]]
    ok = None not in f and f == sorted(f) and f[-1] > f[0]
    out.append("fds_open-grows" if ok else "fds_open=%s" % f)
    out.append("threads-known" if None not in th else "threads=%s" % th)
print(" ".join(out))
PY
}

tap_eq "fds: leak_fd's series first, growing, fitting well, a descriptor of 0 bytes; keep_fds's flat at 4" \
  "first growing fit device/0 flat count=4" "$(check fds)"
tap_eq "threads: leak_thread's series first, ended (never joined), growing" \
  "first ended growing" "$(check threads)"
tap_eq "the steady heap stack stays a flat heap series, apart from the descriptor and thread series" \
  "res-clean heap-clean keep_const-flat" "$(check apart)"
tap_eq "the dumps' fds_open grows over the series" \
  "fds_open-grows threads-known" "$(check dumps)"
exit 0

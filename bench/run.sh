#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/run.sh - run one benchmark binary (bm_hotpath, bm_mixed, bm_table,
# bm_dump) and print medians and the budgets of DESIGN.md that its cases
# are about.  Builds nothing: `make bench` builds and calls this per binary.
#
#   bench/run.sh [--bin PATH] [--out FILE] [--repetitions N] [--min-time S]
#                [--quick] [--cpu N] [--filter REGEX] [--no-interleave]
#                [-- EXTRA GOOGLE BENCHMARK FLAGS]
#   bench/run.sh --table FILE       # the table of an earlier run's JSON
#
# Every case runs N repetitions (default 5) of at least S seconds (default
# 0.2; --quick: 0.02), repetitions of all cases randomly interleaved so that
# a slow spell of a shared machine does not land on one side of a ratio.
# The JSON (--benchmark_out) keeps every repetition, for compare.py; the
# table shows per case the median, min and max ns per iteration (cpu time;
# for the threaded cases wall time divided by the pairs of all threads) and
# the ratios the budgets are about.
set -eu

bin=bench/bm_hotpath
out=bench/hotpath.json
reps=5
min_time=0.2
cpu=
filter=
interleave=true
table_only=

usage() { sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --repetitions) reps=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --quick) min_time=0.02; shift ;;
    --cpu) cpu=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --no-interleave) interleave=false; shift ;;
    --table) table_only=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
  esac
done

table() {
  python3 - "$1" <<'EOF'
import json, statistics, sys

doc = json.load(open(sys.argv[1]))
ctx = doc.get("context", {})
scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
runs, errors, counters, extras = {}, {}, {}, {}
STD = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
       "threads", "iterations", "real_time", "cpu_time", "items_per_second",
       "bytes_per_second", "leaked"}
# Registration order (repetitions may have run interleaved).
order = lambda b: (b.get("family_index", 0), b.get("per_family_instance_index", 0))
for b in sorted(doc.get("benchmarks", []), key=order):
    name = b.get("run_name", b["name"])
    if b.get("error_occurred"):
        errors[name] = b.get("error_message", "error")
        continue
    if b.get("run_type", "iteration") != "iteration":
        continue  # aggregates: recomputed here from the repetitions
    t = b["real_time"] if "/real_time" in name else b["cpu_time"]
    runs.setdefault(name, []).append(t * scale[b.get("time_unit", "ns")])
    for k in ("frames", "kept"):
        if k in b:
            counters.setdefault(name, {})[k] = int(b[k])
    for k, v in b.items():  # other user counters (mixed, table, dump cases)
        if k not in STD and k not in ("frames", "kept") and isinstance(v, (int, float)):
            extras.setdefault(name, {}).setdefault(k, []).append(float(v))

med = {n: statistics.median(v) for n, v in runs.items()}
print("memledger benchmarks: %s, %s CPUs at %s MHz, load %s" % (
    ctx.get("date", "?"), ctx.get("num_cpus", "?"), ctx.get("mhz_per_cpu", "?"),
    " ".join("%.2f" % x for x in ctx.get("load_avg", [])) or "?"))
print("jemalloc %s, threshold %s bytes, call depth %s; median of %d repetition(s)\n" % (
    ctx.get("jemalloc", "?"), ctx.get("memledger_threshold", "?"),
    ctx.get("chain_depth", "?"), max((len(v) for v in runs.values()), default=0)))
w = max([len(n) for n in runs] + [len(n) for n in errors] + [4])
print("%-*s %10s %10s %10s  %s" % (w, "case", "median ns", "min", "max", "frames walked/kept"))
for n in runs:
    v = runs[n]
    c = counters.get(n, {})
    fr = "%s/%s" % (c.get("frames", "-"), c.get("kept", "-")) if c else ""
    print("%-*s %10.1f %10.1f %10.1f  %s" % (w, n, med[n], min(v), max(v), fr))
for n, e in errors.items():
    print("%-*s  ERROR: %s" % (w, n, e))

lo = {n: min(v) for n, v in runs.items()}

def ratio(label, a, b, budget=None):
    if a in med and b in med:
        r = med[a] / med[b]
        verdict = "" if budget is None else ("  budget <= %.2fx: %s" % (budget, "within" if r <= budget else "OVER"))
        print("  %-42s %8.2fx %8.2fx%s" % (label, r, lo[a] / lo[b], verdict))

def extra(label, a, b, budget=None, minus=None):
    if a in med and b in med and (minus is None or minus in med):
        d = med[a] - med[b] - (med[minus] if minus else 0.0)
        m = lo[a] - lo[b] - (lo[minus] if minus else 0.0)
        verdict = "" if budget is None else ("  budget <= +%g ns: %s" % (budget, "within" if d <= budget else "OVER"))
        print("  %-42s %+7.1fns %+7.1fns%s" % (label, d, m, verdict))

if any(n.startswith("pair_") for n in med):
    print("\n  %-42s %9s %9s" % ("budgets (DESIGN.md)", "medians", "minima"))
ratio("untracked pair 64 B / jemalloc pair", "pair_ml/64", "pair_je/64", 1.25)
extra("tracked pair, shadow - jemalloc pair 4096 B", "pair_ml_shadow/4096", "pair_je/4096", 10)
extra("tracked pair, fp - jemalloc pair 4096 B", "pair_ml_fp/4096", "pair_je/4096", 25)
ratio("tracked pair, libunwind / libunwind unwind", "pair_ml_libunwind/4096", "unwind_libunwind", 1.2)
# Issue "exact tracking at a sampling profiler's cost": the default capture
# (eh) of a stack seen before, and no stack at all.
extra("tracked pair, eh (seen stack) - jemalloc 4096 B", "pair_ml_eh/4096", "pair_je/4096", 25)
extra("tracked pair, no stack - jemalloc 4096 B", "pair_ml_none/4096", "pair_je/4096", 10)
if any(n.startswith("pair_ml_") for n in med):
    print("where the tracked cost goes:")
extra("tracked pair, no stack - jemalloc pair", "pair_ml_none/4096", "pair_je/4096")
extra("tracked pair, fp - jemalloc - fp unwind", "pair_ml_fp/4096", "pair_je/4096", minus="unwind_fp")
extra("tracked pair, libunwind - jemalloc pair", "pair_ml_libunwind/4096", "pair_je/4096")
extra("tracked, libunwind - jemalloc - unwind", "pair_ml_libunwind/4096", "pair_je/4096", minus="unwind_libunwind")
mt = [n for n in med if "/threads:" in n and n.startswith("pair_")]
if mt:
    print("2 threads (wall time per pair, both threads together; informational):")
    for n in mt:
        if n.startswith("pair_ml/64/"):
            ratio("untracked pair 64 B / jemalloc pair", n, n.replace("pair_ml/", "pair_je/"))
        if n.startswith("pair_ml_fp/4096/"):
            extra("tracked pair, fp - jemalloc pair 4096 B", n, n.replace("pair_ml_fp/", "pair_je/"))

# ---- issue #5: counters, the mixed workload, tables, dumps ----
if extras:
    print("\ncounters (median over the repetitions; *_ns in ns):")
    for n, ks in extras.items():
        print("  %-*s %s" % (w, n, "  ".join(
            "%s=%s" % (k, ("%.1f" % statistics.median(v)) if statistics.median(v) < 1000
                       else "%.0f" % statistics.median(v)) for k, v in sorted(ks.items()))))

def xmed(n, k):
    v = extras.get(n, {}).get(k)
    return statistics.median(v) if v else None

def budget(label, value, limit, unit, le=True):
    if value is None:
        return
    ok = value <= limit if le else value >= limit
    print("  %-54s %10.2f %-3s budget %s %g: %s" % (label, value, unit, "<=" if le else ">=",
          limit, "within" if ok else "OVER"))

mixed = [n for n in med if n.startswith("mixed_")]
if mixed:
    print("\nmixed workload (ns per pair, wall time over all threads; budgets printed, not gated):")
    t1 = lambda side, th: med.get("mixed_%s/real_time/threads:%d" % (side, th))
    budget("mixed, memledger libunwind, 1 thread", t1("ml_libunwind", 1), 90, "ns")
    budget("mixed, memledger fp, 1 thread", t1("ml_fp", 1), 40, "ns")
    if t1("je", 1):
        budget("mixed, memledger default (eh) / jemalloc, 1 thread",
               t1("ml_eh", 1) / t1("je", 1) if t1("ml_eh", 1) else None, 1.3, "x")
        budget("mixed, track everything (MIN_SIZE=0) / jemalloc, 1 thread",
               t1("ml_eh_all", 1) / t1("je", 1) if t1("ml_eh_all", 1) else None, 2.0, "x")
    if t1("je", 1):
        print("  %-54s %10.2f ns (reference ~32 ns on the budgets' machine)" % (
            "mixed, jemalloc alone, 1 thread", t1("je", 1)))
    # bm_mixed's sides: jemalloc alone, memledger's, and the floor's (not memledger)
    sides = ("je", "ml_eh", "ml_fp", "ml_libunwind", "ml_shadow", "ml_none", "ml_eh_all",
             "floor_bits", "floor", "floor_all", "floor_deferred")
    for side in sides[1:]:
        if t1(side, 1) and t1("je", 1):
            print("  %-54s %10.2fx jemalloc" % ("mixed_%s / mixed_je, 1 thread" % side,
                  t1(side, 1) / t1("je", 1)))
    for side in sides:
        if t1(side, 1) and t1(side, 2) and side.startswith("floor"):  # not memledger: no budget
            print("  %-54s %10.2fx" % ("scaling t1/t2, %s" % side, t1(side, 1) / t1(side, 2)))
        elif t1(side, 1) and t1(side, 2):
            budget("scaling t1/t2, %s" % side, t1(side, 1) / t1(side, 2), 1.8, "x", le=False)
        if t1(side, 1) and t1(side, 4):
            print("  %-54s %10.2fx" % ("scaling t1/t4, %s (2 CPUs here)" % side,
                  t1(side, 1) / t1(side, 4)))
meta = [n for n in extras if n.startswith("metadata/")]
if meta:
    print("\ntables:")
    for n in meta:
        budget("metadata bytes per tracked block, %s" % n.split("/")[1],
               xmed(n, "bytes_per_block"), 64, "B")
dumps = [n for n in extras if n.startswith("dump/")]
if dumps:
    print("\ndumps (blocks/churning threads/heap MiB/snapshot):")
    for n in dumps:
        tag = "/".join(n.split("/")[1:5])
        snap = n.split("/")[4] == "1"
        budget("%s longest wait of an allocating thread" % tag, xmed(n, "wait_max_ns") / 1e6,
               1.0, "ms")
        if snap:  # the fork: the signalled thread's pause, no budget of its own
            print("  %-54s %10.2f ms" % ("%s fork seen by the requesting thread" % tag,
                  xmed(n, "pause_ns") / 1e6))
        else:
            budget("%s longest arena lock hold (pause_ns)" % tag, xmed(n, "pause_ns") / 1e6,
                   1.0, "ms")
        print("  %-54s %10.2f" % ("%s throughput during / between dumps" % tag,
              xmed(n, "ops_during_per_s") / max(xmed(n, "ops_idle_per_s"), 1)))
        if n.startswith("dump/1000000/"):
            budget("%s dump complete (total_ns)" % tag, xmed(n, "total_ns") / 1e9, 2.0, "s")
sys.exit(1 if errors else 0)
EOF
}

if [ -n "$table_only" ]; then
  table "$table_only"
  exit $?
fi

if [ ! -x "$bin" ]; then
  echo "run.sh: $bin is not built (make bench/bm_hotpath)" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
set -- --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
  --benchmark_enable_random_interleaving="$interleave" \
  --benchmark_display_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json "$@"
[ -n "$filter" ] && set -- --benchmark_filter="$filter" "$@"
if [ -n "$cpu" ]; then
  set -- taskset -c "$cpu" "$bin" "$@"
  set -- "$@" --benchmark_context=pinned_cpu="$cpu"
else
  set -- "$bin" "$@"
fi
echo "+ $*" >&2
"$@" >&2
echo >&2
table "$out"

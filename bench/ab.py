# SPDX-License-Identifier: MIT
"""ab.py - two (or more) builds of one Google Benchmark program, alternating.

Usage: python3 bench/ab.py [--rounds N] [--cpu C] [--min-time S] BIN FILTER DIR...

Each round runs DIR/BIN once per build, in the order given, with
--benchmark_filter=FILTER, pinned to CPU C (taskset), and takes every case's
ratio to the case named *_je* of the same run; the table shows per build and
case the median and the fastest wall time, the median ratio and the median
difference to jemalloc.  On a shared machine a ratio taken within one run,
medians over rounds that alternate the builds, and the fastest runs (load
only ever adds time) say more than a single long run.  Example, the build in
/work/before against this one:

    python3 bench/ab.py --rounds 15 bench/bm_mixed \\
        'mixed_(je|ml_eh|ml_none)/real_time/threads:1$' /work/before .
"""
import argparse
import json
import statistics
import subprocess
import sys


# Google Benchmark's JSON (its CSV reporter aborts when one case has user
# counters and another has none: bm_hotpath's eh cases beside jemalloc's).
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def run_once(path, flt, cpu, min_time):
    """Wall time per iteration (ns) of every case FILTER selects, one run."""
    cmd = [path, "--benchmark_filter=" + flt, "--benchmark_format=json",
           "--benchmark_min_time=%g" % min_time]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    try:
        cases = json.loads(out)["benchmarks"]
    except (ValueError, KeyError):
        return {}
    times = {}
    for b in cases:
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        times[b["name"]] = float(b["real_time"]) * UNIT_NS.get(b.get("time_unit", "ns"), 1.0)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--cpu", type=int, default=1)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("bin")
    ap.add_argument("filter")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    res = {d: {} for d in a.dirs}
    for r in range(a.rounds):
        for d in a.dirs:
            t = run_once(d.rstrip("/") + "/" + a.bin, a.filter, a.cpu, a.min_time)
            je = [v for k, v in t.items() if "_je" in k.split("/")[0]]
            if not t or not je:
                sys.exit("ab.py: %s/%s gave no jemalloc case for %r" % (d, a.bin, a.filter))
            for k, v in t.items():
                res[d].setdefault(k, []).append((v, v / je[0]))
        print("round %d/%d" % (r + 1, a.rounds), file=sys.stderr)
    for d in a.dirs:
        print(d)
        for k, l in res[d].items():
            print("  %-40s median %8.2f ns  fastest %8.2f  ratio %.3f  diff %+7.2f ns" % (
                k, statistics.median(x for x, _ in l), min(x for x, _ in l),
                statistics.median(y for _, y in l), statistics.median(x - x / y for x, y in l)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scaling.py - how bm_mixed's throughput grows with threads, per setup.

Usage: python3 bench/scaling.py [--rounds N] [--threads 2,4] [--min-time S]
                                [--setups je,ml_eh,ml_none] DIR...

Each round runs DIR/bench/bm_mixed once per build (in the order given,
unpinned: the threads need the CPUs) for jemalloc alone, memledger with
the default capture (eh) and with no stack (--setups: any of bm_mixed's
sides, e.g. the floor), at 1 thread and at each count in --threads.  bm_mixed's threads hand their blocks to each other through
a shared ring, so about (T-1)/T of the frees are cross-thread.  With
threads Google Benchmark's real time is the wall time per operation of all
threads together, so t1/tN (one thread's time over N threads') is the
throughput gained.  Per build and setup the table shows the median time
at each thread count and the median of the rounds' t1/tN; the issue's
budget: memledger's t1/tN no worse than jemalloc's.  On a shared machine
a round that another tenant slowed shows as one far-off time: medians of
several rounds, and builds taken in turn, say more than one long run.
"""
import argparse
import statistics
import sys

import ab  # bench/ab.py: one run of a Google Benchmark program, its times

SETUPS = ("je", "ml_eh", "ml_none")


def run_once(path, threads, min_time, setups=SETUPS):
    """{(setup, threads): ns per operation} of one run (unpinned)."""
    flt = "mixed_(%s)/real_time/threads:(%s)$" % ("|".join(setups),
                                                  "|".join(str(t) for t in threads))
    res = {}
    for case, ns in ab.run_once(path, flt, None, min_time).items():
        name, _, t = case.partition("/real_time/threads:")
        res[(name[len("mixed_"):], int(t))] = ns
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", default="2,4")
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--setups", default=",".join(SETUPS),
                    help="bm_mixed's sides, jemalloc's (je) first; e.g. je,ml_none,floor")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    setups = [x for x in a.setups.split(",") if x]
    if not setups or setups[0] != "je":
        sys.exit("scaling.py: --setups starts with je (the ratios' reference)")
    try:
        many = [int(t) for t in a.threads.split(",") if t]
    except ValueError:
        sys.exit("scaling.py: --threads takes counts separated by commas, e.g. 2,4")
    if not many or min(many) < 2:
        sys.exit("scaling.py: --threads takes counts of 2 and more")
    threads = [1] + many
    res = {d: [] for d in a.dirs}
    for r in range(a.rounds):
        for d in a.dirs:
            t = run_once(d.rstrip("/") + "/bench/bm_mixed", threads, a.min_time, setups)
            missing = [(s, n) for s in setups for n in threads if (s, n) not in t]
            if missing:
                sys.exit("scaling.py: %s/bench/bm_mixed gave no time for %s (built? make bench/bm_mixed)"
                         % (d, ", ".join("%s at %d threads" % m for m in missing)))
            res[d].append(t)
        print("round %d/%d" % (r + 1, a.rounds), file=sys.stderr)
    for d in a.dirs:
        print(d)
        head = "  %-8s" % "setup" + "".join("%10s" % ("t%d ns" % n) for n in threads) + \
            "".join("%9s" % ("t1/t%d" % n) for n in many)
        print(head)
        gain = {}
        for s in setups:
            med = [statistics.median(r[(s, n)] for r in res[d]) for n in threads]
            g = [statistics.median(r[(s, 1)] / r[(s, n)] for r in res[d]) for n in many]
            gain[s] = g
            print("  %-8s" % s + "".join("%10.2f" % m for m in med) + "".join("%9.3f" % x for x in g))
        for s in setups[1:]:
            for n, x, j in zip(many, gain[s], gain["je"]):
                print("  %s: t1/t%d %.3f against jemalloc's %.3f: %s" % (
                    s, n, x, j, "within" if x >= j else "OVER (scales worse)"))


if __name__ == "__main__":
    main()

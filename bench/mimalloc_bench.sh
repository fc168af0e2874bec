#!/bin/bash
# SPDX-License-Identifier: MIT
# mimalloc_bench.sh - memledger against jemalloc alone on mimalloc-bench, the
# allocator community's standard suite (github.com/daanx/mimalloc-bench),
# from a local copy of its sources: nothing is downloaded.
#
# Inputs:
#   --src DIR      a mimalloc-bench checkout, or any tree holding its bench/
#                  directory (DIR may also be that bench/ directory itself)
#   --reps N       repetitions per program and side (default 3)
#   --only a,b,c   programs to run, by program (larson-sized, alloc-test) or
#                  run name (alloc-test1, cache-thrashN); default: all built
#   --procs P      concurrency as bench.sh's --procs (default: nproc)
#   --lib PATH     libmemledger.so (default: .libs/libmemledger.so of the
#                  build directory, the current one)
#   --build DIR    where the programs are built (default: a temp directory)
#   --json FILE    also write every run (raw) to FILE
#   --timeout S    kill a run after S seconds (default 300; status 124)
# Sides, run interleaved in one session (the side order rotates with each
# repetition; the three sides of one program run back to back):
#   je      LD_PRELOAD=Debian's libjemalloc.so.2 (jemalloc alone)
#   ml      LD_PRELOAD=libmemledger.so at its defaults, MEMLEDGER_DIR a temp
#           directory (emptied after each run)
#   ml_all  the same with MEMLEDGER_MIN_SIZE=0 (every block tracked)
# The programs are built with gcc/g++ -O2 from the suite's own sources, with
# the flags of its bench/CMakeLists.txt (its cmake configure fails on a plain
# checkout: sh6bench/sh8bench sources are downloaded by build-bench-env.sh;
# those two are built only when bench/shbench/sh*bench-new.c exist).  Each
# program runs with bench.sh's arguments, under nice -n 0 and /usr/bin/time.
# Outputs: a progress line per run on stderr; on stdout the load average at
# start and end, and a table: per program the median wall time per side,
# ml/je and ml_all/je, the throughput ratio je/ml (and je/ml_all) for the
# programs printing one (larson, rptest, glibc-thread, xmalloc-test), the
# geometric means, and the verdicts against the budgets:
#   default (ml):    larson, rptest, glibc-thread throughput within 1.15x of
#                    jemalloc alone, and no program over 1.2x wall
#   MIN_SIZE=0:      geometric mean of the wall ratios at most 2x
# Exit status: 0 (whatever the verdicts; a failed run is reported in the
# table, never dropped), 1 if some run failed, 2 on a usage error or a
# missing tool, source tree or library.
set -u

me=mimalloc_bench.sh
die() { echo "$me: $*" >&2; exit 2; }

src="" reps=3 only="" procs="" lib="" build="" json="" tmo=300
while [ $# -gt 0 ]; do
  case "$1" in
    --src) src=${2:-}; shift ;;
    --reps) reps=${2:-}; shift ;;
    --only) only=${2:-}; shift ;;
    --procs) procs=${2:-}; shift ;;
    --lib) lib=${2:-}; shift ;;
    --build) build=${2:-}; shift ;;
    --json) json=${2:-}; shift ;;
    --timeout) tmo=${2:-}; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

# --- inputs and tools -------------------------------------------------------
[ -n "$src" ] || die "--src DIR is required (a mimalloc-bench checkout)"
[ -d "$src" ] || die "--src '$src' is not a directory"
if [ -f "$src/bench/larson/larson.cpp" ]; then S=$(cd "$src/bench" && pwd)
elif [ -f "$src/larson/larson.cpp" ]; then S=$(cd "$src" && pwd)
else die "--src '$src' holds no mimalloc-bench sources (no bench/larson/larson.cpp)"; fi
case "$reps" in ''|*[!0-9]*|0) die "--reps wants a positive integer, not '$reps'" ;; esac
[ -n "$procs" ] || procs=$(nproc 2>/dev/null || echo 2)
case "$procs" in ''|*[!0-9]*|0) die "--procs wants a positive integer, not '$procs'" ;; esac
case "$tmo" in ''|*[!0-9]*|0) die "--timeout wants a positive integer, not '$tmo'" ;; esac
for t in gcc g++ python3 timeout nice; do
  command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
done
[ -x /usr/bin/time ] || die "missing tool: /usr/bin/time (Debian package 'time')"
[ -n "$lib" ] || lib=$(pwd)/.libs/libmemledger.so
[ -f "$lib" ] || die "no memledger library at '$lib' (build it, or pass --lib)"
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
sides="je ml ml_all"
if [ ! -f "$JE" ]; then
  echo "$me: $JE absent (Debian package libjemalloc2): side 'je' skipped, no ratios" >&2
  sides="ml ml_all"
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -n "$build" ] || build=$T/build
mkdir -p "$build" || die "cannot create build directory '$build'"
build=$(cd "$build" && pwd)
mkdir -p "$T/dumps" "$T/out"

# --- the runs, as bench.sh's run_test gives them -------------------------------
# "<run name>|<program>|<arguments>|<stdin>"
p=$procs
runs="cfrac|cfrac|17545186520507317056371138836327483792789528|
espresso|espresso|$S/espresso/largest.espresso|
barnes|barnes||$S/barnes/input
larsonN-sized|larson-sized|5 8 1000 5000 100 4141 $p|
mstressN|mstress|$p 50 25|
rptestN|rptest|$p 0 1 2 500 1000 100 8 16000|
alloc-test1|alloc-test|1|"
[ "$p" = 1 ] || runs="$runs
alloc-testN|alloc-test|$((p > 16 ? 16 : p))|"
runs="$runs
sh6benchN|sh6bench|$((p * 2))|
sh8benchN|sh8bench|$((p * 2))|
xmalloc-testN|xmalloc-test|-w $p -t 5 -s 64|
cache-thrash1|cache-thrash|1 1000 1 2000000 $p|"
[ "$p" = 1 ] || runs="$runs
cache-thrashN|cache-thrash|$p 1000 1 2000000 $p|"
runs="$runs
cache-scratch1|cache-scratch|1 1000 1 2000000 $p|"
[ "$p" = 1 ] || runs="$runs
cache-scratchN|cache-scratch|$p 1000 1 2000000 $p|"
runs="$runs
malloc-large|malloc-large||
glibc-simple|glibc-simple||
glibc-thread|glibc-thread|$p|
mleak10|mleak|5|
mleak100|mleak|50|"

# --- build ------------------------------------------------------------------
# Flags as bench/CMakeLists.txt gives them (warnings off, gnu89 for the old C).
CW="-w -Wno-implicit-function-declaration -Wno-implicit-int -Wno-int-conversion -Wno-incompatible-pointer-types"
XW="-w"
OPT="-O2 -DNDEBUG"
skipped=""   # "name: reason" lines
bld() {  # <program> <compiler and arguments...>: build $build/<program>
  local p=$1; shift
  [ -z "$only" ] || want_build "$p" || return 0
  if ( cd "$S" && "$@" -o "$build/$p" ) >"$T/out/build-$p.log" 2>&1; then
    echo "$me: built $p" >&2
  else
    skipped="$skipped$p: build failed (see the compiler output below)"$'\n'
    echo "$me: building $p failed:" >&2; tail -n 20 "$T/out/build-$p.log" >&2
  fi
}
want_prog() {  # <program> [<run name>]: selected by --only?
  [ -z "$only" ] && return 0
  local x
  for x in ${only//,/ }; do
    [ "$x" = "$1" ] || [ "$x" = "${2:-}" ] && return 0
    # larson is run as larson-sized, glibc-thread and so on by short names too
    [ "$x" = "${1%-sized}" ] && return 0
  done
  return 1
}
want_build() {  # <program>: is one of its runs selected?
  local name prog rest
  while IFS='|' read -r name prog rest; do
    [ "$prog" = "$1" ] && want_prog "$prog" "$name" && return 0
  done <<<"$runs"
  return 1
}
pre() { local d=$1; shift; local f; for f in "$@"; do printf '%s/%s ' "$d" "$f"; done; }

bld cfrac gcc $OPT $CW -std=gnu89 -DNOMEMOPT=1 $(pre cfrac cfrac.c pops.c pconst.c \
  pio.c pabs.c pneg.c pcmp.c podd.c phalf.c padd.c psub.c pmul.c pdivmod.c psqrt.c \
  ppowmod.c atop.c ptoa.c itop.c utop.c ptou.c errorp.c pfloat.c pidiv.c pimod.c \
  picmp.c primes.c pcfrac.c pgcd.c) -lm
bld espresso gcc $OPT $CW -std=gnu89 $(pre espresso cofactor.c cols.c compl.c \
  contain.c cubestr.c cvrin.c cvrm.c cvrmisc.c cvrout.c dominate.c equiv.c espresso.c \
  essen.c exact.c expand.c gasp.c getopt.c gimpel.c globals.c hack.c indep.c irred.c \
  main.c map.c matrix.c mincov.c opo.c pair.c part.c primes.c reduce.c rows.c set.c \
  setc.c sharp.c sminterf.c solution.c sparse.c unate.c utility.c verify.c) -lm
bld barnes gcc $OPT $CW -std=gnu89 $(pre barnes code.c code_io.c load.c grav.c \
  getparam.c util.c) -lm
bld larson-sized g++ $OPT $XW -std=c++17 -fsized-deallocation -DCPP=1 -DSIZED=1 \
  larson/larson.cpp -lpthread
bld mstress gcc $OPT $CW mstress/mstress.c -lpthread
bld rptest g++ $OPT $XW -std=c++17 -fpermissive -Irptest rptest/rptest.c \
  rptest/thread.c rptest/timer.c -lpthread -lm
bld alloc-test g++ $OPT $XW -std=c++17 -DBENCH=4 alloc-test/test_common.cpp \
  alloc-test/allocator_tester.cpp -lpthread
for v in sh6bench sh8bench; do
  if [ -f "$S/shbench/$v-new.c" ]; then
    bld $v gcc $OPT $CW -DBENCH=1 -DSYS_MULTI_THREAD=1 shbench/$v-new.c -lpthread
  else
    want_prog $v && skipped="$skipped$v: source not in the suite (build-bench-env.sh downloads it from microquill.com)"$'\n'
  fi
done
bld xmalloc-test gcc $OPT $CW xmalloc-test/xmalloc-test.c -lpthread
bld cache-scratch g++ $OPT $XW -std=c++17 cache-scratch/cache-scratch.cpp -lpthread
bld cache-thrash g++ $OPT $XW -std=c++17 cache-thrash/cache-thrash.cpp -lpthread
bld glibc-simple gcc $OPT $CW glibc-bench/bench-malloc-simple.c -lpthread
bld glibc-thread gcc $OPT $CW glibc-bench/bench-malloc-thread.c -lpthread
bld malloc-large g++ $OPT $XW -std=c++17 malloc-large/malloc-large.cpp -lpthread
bld mleak gcc $OPT $CW mleak/mleak.c -lpthread
for v in redis lean lean-mathlib gs lua linux rocksdb z3 rbstress spec security; do
  want_prog $v || continue
  case $v in
    z3) r="runs an installed z3 (not built from the suite)" ;;
    rbstress) r="runs an installed ruby (not built from the suite)" ;;
    security) r="not a benchmark (a hardening checklist, no timing)" ;;
    spec) r="needs SPEC CPU 2017 (licensed)" ;;
    *) r="its sources are downloaded by build-bench-env.sh" ;;
  esac
  skipped="$skipped$v: $r"$'\n'
done

sel=""
while IFS='|' read -r name prog args in; do
  want_prog "$prog" "$name" || continue
  [ -x "$build/$prog" ] || continue
  sel="$sel$name|$prog|$args|$in"$'\n'
done <<<"$runs"
[ -n "$sel" ] || die "no program to run (--only '$only' matches none that built)"

raw=$T/raw.tsv   # side, run, rep, status, wall_s, maxrss_kb, output file
: >"$raw"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "$me: load average at start: $load_start; procs $procs; reps $reps; sides $sides" >&2
nruns=$(( $(printf '%s' "$sel" | grep -c .) * reps * $(set -- $sides; echo $#) ))
k=0
for ((r = 1; r <= reps; r++)); do
  # rotate the side order with each repetition
  set -- $sides
  order=""
  for ((i = 0; i < $#; i++)); do
    j=$(( (i + r - 1) % $# + 1 ))
    order="$order ${!j}"
  done
  while IFS='|' read -r name prog args in; do
    [ -n "$name" ] || continue
    for side in $order; do
      k=$((k + 1))
      case $side in
        je) envs=("LD_PRELOAD=$JE") ;;
        ml) envs=("LD_PRELOAD=$lib" "MEMLEDGER_DIR=$T/dumps") ;;
        ml_all) envs=("LD_PRELOAD=$lib" "MEMLEDGER_DIR=$T/dumps" "MEMLEDGER_MIN_SIZE=0") ;;
      esac
      out=$T/out/$name.$side.$r.txt
      # /usr/bin/time itself is not preloaded: env sets the allocator
      (cd "$build" && /usr/bin/time -f '%e %M' -o "$T/time" \
        timeout -k 5 "$tmo" nice -n 0 env "${envs[@]}" "./$prog" $args \
        <"${in:-/dev/null}" >"$out" 2>&1)
      st=$?
      read -r wall rss <"$T/time" 2>/dev/null || { wall=nan; rss=0; }
      # /usr/bin/time writes "Command exited with non-zero status" first
      case "$wall" in Command*) read -r wall rss < <(tail -n 1 "$T/time") ;; esac
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$name" "$r" "$st" "$wall" "$rss" "$out" >>"$raw"
      echo "$me: [$k/$nruns] rep $r $name $side: ${wall}s exit $st" >&2
      rm -rf "$T/dumps" && mkdir "$T/dumps"
    done
  done <<<"$sel"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table ----------------------------------------------------------------
python3 - "$raw" "$load_start" "$load_end" "$reps" "$procs" "$json" "$skipped" "$lib" <<'EOF'
import json, math, re, statistics, sys
raw, load_start, load_end, reps, procs, jpath, skipped, lib = sys.argv[1:9]
# Each program's own metric: (regex, kind); throughput = higher is better.
METRIC = {
    "larson": (r"Throughput =\s*([0-9.]+) operations per second", "ops/s"),
    "rptest": (r"\.\.\.([0-9]+) memory ops/CPU second", "memops/cpu-s"),
    "glibc-thread": (r"^([0-9.]+) iterations", "iterations"),
    "xmalloc-test": (r"free/sec:\s*([0-9.]+) M", "Mfree/s"),
}
def metric_of(run, text):
    for key, (rx, unit) in METRIC.items():
        if run.startswith(key):
            m = re.search(rx, text, re.M)
            return (float(m.group(1)) if m else None), unit
    return None, None
runs, order = [], []
for line in open(raw):
    side, run, rep, st, wall, rss, out = line.rstrip("\n").split("\t")
    try:
        text = open(out, errors="replace").read()
    except OSError:
        text = ""
    tp, unit = metric_of(run, text)
    runs.append(dict(side=side, run=run, rep=int(rep), status=int(st),
                     wall_s=float(wall), maxrss_kb=int(rss or 0),
                     throughput=tp, throughput_unit=unit,
                     output_tail=text[-300:] if int(st) else None))
    if run not in order:
        order.append(run)
sides = [s for s in ("je", "ml", "ml_all") if any(r["side"] == s for r in runs)]
def med(run, side, key):
    v = [r[key] for r in runs if r["run"] == run and r["side"] == side
         and r["status"] == 0 and r[key] is not None]
    return statistics.median(v) if v else None
def fails(run, side):
    return sum(1 for r in runs if r["run"] == run and r["side"] == side and r["status"])
def ratio(a, b):
    return a / b if a is not None and b else None
f2 = lambda x: "-" if x is None else f"{x:.2f}"
f3 = lambda x: "-" if x is None else f"{x:.3f}"
print(f"mimalloc-bench: {len(order)} programs, reps {reps}, procs {procs}, lib {lib}")
print(f"load average at start: {load_start}   at end: {load_end}")
hdr = f"{'program':<15}" + "".join(f"{s + ' s':>9}" for s in sides)
hdr += f"{'ml/je':>8}{'all/je':>8}{'tp je/ml':>10}{'je/all':>8}  failed"
print(hdr); print("-" * len(hdr))
wr = {"ml": {}, "ml_all": {}}; tr = {"ml": {}, "ml_all": {}}
for run in order:
    w = {s: med(run, s, "wall_s") for s in sides}
    t = {s: med(run, s, "throughput") for s in sides}
    for s in ("ml", "ml_all"):
        wr[s][run] = ratio(w.get(s), w.get("je"))
        tr[s][run] = ratio(t.get("je"), t.get(s))
    nf = ",".join(f"{s}:{fails(run, s)}" for s in sides if fails(run, s))
    print(f"{run:<15}" + "".join(f"{f2(w[s]):>9}" for s in sides)
          + f"{f3(wr['ml'][run]):>8}{f3(wr['ml_all'][run]):>8}"
          + f"{f3(tr['ml'][run]):>10}{f3(tr['ml_all'][run]):>8}  {nf or '-'}")
def gmean(d):
    v = [x for x in d.values() if x]
    return math.exp(sum(map(math.log, v)) / len(v)) if v else None
g = {s: gmean(wr[s]) for s in ("ml", "ml_all")}
print("-" * len(hdr))
print(f"geomean wall ratio over {len(order)} programs: ml/je {f3(g['ml'])}   ml_all/je {f3(g['ml_all'])}")
print("(larson, xmalloc-test, glibc-thread run for a fixed time, rptest mostly sleeps:")
print(" their wall ratio is ~1 by construction; their throughput ratio is the measure)")
nfail = sum(1 for r in runs if r["status"])
if "je" in sides:
    print("verdicts:")
    ok = True
    for key in ("larson", "rptest", "glibc-thread"):
        v = [tr["ml"][r] for r in order if r.startswith(key)]
        for x in v:
            good = x is not None and x <= 1.15
            ok &= good
            print(f"  ml {key} throughput je/ml {f3(x)} <= 1.15: {'PASS' if good else 'FAIL'}")
    over = [f"{r} {wr['ml'][r]:.3f}" for r in order if wr["ml"][r] and wr["ml"][r] > 1.2]
    missing = [r for r in order if wr["ml"][r] is None]
    print(f"  ml no program over 1.2x wall: {'PASS' if not over and not missing else 'FAIL'}"
          + (f" (over: {', '.join(over)})" if over else "")
          + (f" (no ratio: {', '.join(missing)})" if missing else ""))
    good = g["ml_all"] is not None and g["ml_all"] <= 2.0
    print(f"  ml_all geomean wall {f3(g['ml_all'])} <= 2: {'PASS' if good else 'FAIL'}")
if nfail:
    print(f"FAILED RUNS: {nfail}")
    for r in runs:
        if r["status"]:
            print(f"  {r['run']} {r['side']} rep {r['rep']}: exit {r['status']}: "
                  + (r["output_tail"] or "").strip().replace("\n", " | ")[-200:])
if skipped.strip():
    print("not run:")
    for s in skipped.strip().splitlines():
        print("  " + s)
if jpath:
    with open(jpath, "w") as f:
        json.dump(dict(load_start=load_start, load_end=load_end, reps=int(reps),
                       procs=int(procs), lib=lib, sides=sides, runs=runs,
                       skipped=skipped.strip().splitlines()), f, indent=1)
sys.exit(1 if nfail else 0)
EOF

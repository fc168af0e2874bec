#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/compare.sh - whole programs under each allocator setup (issue #5):
# wall time, CPU time and peak RSS of real programs run
#   glibc       no preload
#   jemalloc    LD_PRELOAD=libjemalloc.so.2 (the reference)
#   memledger   LD_PRELOAD=libmemledger.so, default threshold
#   ml_min0     memledger with MEMLEDGER_MIN_SIZE=0 (every block tracked)
#   heaptrack   heaptrack PROG           (when installed)
#   memcheck    valgrind --tool=memcheck (when installed)
# on
#   python      python3 bench/alloc_workload.py (dicts, lists, strings)
#   pymalloc0   the same with PYTHONMALLOC=malloc (every object a malloc)
#   sqlite3     sqlite3 :memory: < bench/workload.sql (200k rows, indexes)
#   redis       redis-server + redis-benchmark -n N on 127.0.0.1 (when
#               installed; the time is redis-benchmark's, the CPU time and
#               the RSS the server's)
# Runs are interleaved (every repetition runs each program under each setup,
# in a rotating order); the table shows medians, the ratios to jemalloc
# (wall and CPU: the median of each repetition's ratio), and the budget of
# DESIGN.md (memledger at the default threshold within 5% of
# jemalloc alone; printed, not gated).  Nothing is installed.
#
#   bench/compare.sh [--quick] [--repetitions N] [--tool-repetitions N]
#                    [--lib PATH/libmemledger.so] [--jemalloc PATH]
#                    [--only python,pymalloc0,sqlite3,redis] [--no-tools]
#                    [--cpu N] [--callgrind] [--before PATH/libmemledger.so]
#                    [--setups glibc,jemalloc,memledger,ml_min0,before]
#
# --callgrind: instead of wall time, instructions (valgrind --tool=callgrind,
# one run per program and setup: deterministic, so one is enough) of the
# programs but redis (a server under a client: not one process's count),
# under jemalloc, memledger and ml_min0, with the ratio to jemalloc: the
# noise-free view of the same comparison on a shared machine.
#
# --cpu N: every run pinned to CPU N (taskset; redis: the server, not the
# client).  On a shared virtual machine this is what makes runs comparable:
# sqlite3 under jemalloc alone took 1.43-2.05 s unpinned, 1.34-1.68 s
# pinned, in alternating runs of the same minutes.
#
# --before PATH: one more setup, `before`, another build of the library at
# the default threshold, run in turn with the others (an A/B of two builds
# in the same minutes).  --setups: only these (jemalloc always runs: the
# ratios are to it).  `--repetitions 15 --no-tools --cpu 1 --setups
# memledger,before --before OLD/.libs/libmemledger.so --only sqlite3`
# measures a change to the recorder.
#
# --quick: 3 repetitions (default 5).  heaptrack and memcheck are 10-50x
# slower; they run --tool-repetitions times (default 1; 0 with --no-tools).
# `make bench-compare COMPARE_ARGS=--quick` builds the library and runs this.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
reps=5
tool_reps=1
lib=
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
only=python,pymalloc0,sqlite3,redis
callgrind=0
cpu=
before=
want_setups=glibc,jemalloc,memledger,ml_min0,before
usage() { sed -n '3,37p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) reps=3; shift ;;
    --repetitions) reps=$2; shift 2 ;;
    --tool-repetitions) tool_reps=$2; shift 2 ;;
    --no-tools) tool_reps=0; shift ;;
    --lib) lib=$2; shift 2 ;;
    --jemalloc) jemalloc=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --callgrind) callgrind=1; shift ;;
    --cpu) cpu=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    --setups) want_setups=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "compare.sh: unknown option $1" >&2; usage ;;
  esac
done
if [ -z "$lib" ]; then
  for f in .libs/libmemledger.so "$here/../.libs/libmemledger.so"; do
    [ -f "$f" ] && { lib=$f; break; }
  done
fi
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
  echo "compare.sh: libmemledger.so not found (build it; or --lib PATH)" >&2
  exit 1
fi
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
[ -f "$jemalloc" ] || { echo "compare.sh: $jemalloc not found (package libjemalloc2)" >&2; exit 1; }
if [ -n "$before" ]; then
  [ -f "$before" ] || { echo "compare.sh: --before $before: no such file" >&2; exit 1; }
  before=$(cd "$(dirname "$before")" && pwd)/$(basename "$before")
fi

if [ "$callgrind" = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
  echo "compare.sh: --callgrind needs valgrind (package valgrind)" >&2
  exit 1
fi
if [ -n "$cpu" ] && ! taskset -c "$cpu" true 2>/dev/null; then
  echo "compare.sh: --cpu $cpu: taskset cannot run a program there (package util-linux)" >&2
  exit 1
fi

exec python3 - "$here" "$lib" "$jemalloc" "$reps" "$tool_reps" "$only" "$callgrind" "$cpu" \
  "$before" "$want_setups" <<'PY'
import os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

here, lib, jemalloc, reps, tool_reps, only, callgrind, cpu, before, want = sys.argv[1:11]
pin = ["taskset", "-c", cpu] if cpu else []
reps, tool_reps, only, callgrind = int(reps), int(tool_reps), set(only.split(",")), callgrind == "1"
tmp = tempfile.mkdtemp(prefix="memledger-compare.")
gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

# The real interpreter (not a pyenv shim, a shell script).
py = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"],
                    capture_output=True, text=True).stdout.strip()

# ---- setups ------------------------------------------------------------------
ml_env = {"MEMLEDGER_DIR": tmp, "MEMLEDGER_QUIET": "1"}
setups = [
    ("glibc", [], {}),
    ("jemalloc", [], {"LD_PRELOAD": jemalloc}),
    ("memledger", [], dict(ml_env, LD_PRELOAD=lib)),
    ("ml_min0", [], dict(ml_env, LD_PRELOAD=lib, MEMLEDGER_MIN_SIZE="0")),
]
if before:
    setups.append(("before", [], dict(ml_env, LD_PRELOAD=before)))
want = set(want.split(",")) | {"jemalloc"}
unknown = want - {"glibc", "jemalloc", "memledger", "ml_min0", "before"}
if unknown:
    sys.exit("compare.sh: --setups: unknown setup(s) %s" % ",".join(sorted(unknown)))
setups = [s for s in setups if s[0] in want]
tools = []
if shutil.which("heaptrack"):
    tools.append(("heaptrack", ["heaptrack", "-o", os.path.join(tmp, "ht")], {}))
else:
    print("heaptrack: not installed, skipped")
if shutil.which("valgrind"):
    tools.append(("memcheck", ["valgrind", "--tool=memcheck", "-q",
                               "--log-file=" + os.path.join(tmp, "vg.%p")], {}))
else:
    print("valgrind: not installed, memcheck skipped")
if tool_reps == 0:
    tools = []

# ---- programs ----------------------------------------------------------------
def cpu_of(ru):
    return ru.ru_utime + ru.ru_stime

def run_simple(argv, stdin_path, wrap, env):
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system, the
    program's and its children's) of one run."""
    full_env = dict(os.environ, **env)
    rss_file = os.path.join(tmp, "rss")
    # LD_PRELOAD only for the program: `env` execs it under GNU time/the tool.
    # No `env` without variables: a tool must run the program itself.
    pre = ["env"] + ["%s=%s" % kv for kv in env.items()] if env else []
    cmd = pin + wrap + pre + argv
    if gnu_time:
        cmd = [gnu_time, "-f", "%M", "-o", rss_file] + cmd
    stdin = open(stdin_path) if stdin_path else subprocess.DEVNULL
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=dict(os.environ))
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode, err[-500:]))
    if gnu_time:
        try:
            rss = int(open(rss_file).read().split()[-1])
        except Exception:
            rss = ru.ru_maxrss
    else:
        rss = ru.ru_maxrss  # wait4: the child's (and its waited-for children's) peak
    return dt, rss, cpu_of(ru)

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def run_redis(wrap, env):
    n = "20000" if reps <= 3 else "50000"
    port = str(free_port())
    pre = ["env"] + ["%s=%s" % kv for kv in env.items()] if env else []
    server = subprocess.Popen(pin + wrap + pre +
                              ["redis-server", "--port", port, "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):  # up to 60 s (memcheck starts slowly)
            if subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True,
                              text=True).stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("redis-server did not start")
        t0 = time.perf_counter()
        subprocess.run(["redis-benchmark", "-p", port, "-h", "127.0.0.1", "-n", n, "-q",
                        "-t", "set,get,lpush,lpop,incr"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dt = time.perf_counter() - t0
        rss = 0
        pid = server.pid
        # The server is `env`'s exec, or the tool's child: the largest VmHWM
        # among the server's process tree.
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                st = open("/proc/%s/status" % d).read()
                ppid = int(st.split("PPid:")[1].split()[0])
                if int(d) == pid or ppid == pid:
                    for line in st.splitlines():
                        if line.startswith("VmHWM:"):
                            rss = max(rss, int(line.split()[1]))
            except Exception:
                pass
        subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True)
        for _ in range(600):  # up to 60 s
            pid, status, ru = os.wait4(server.pid, os.WNOHANG)
            if pid:
                server.returncode = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("redis-server did not stop")
        return dt, rss, cpu_of(ru)  # CPU: the server's, over its whole life
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGKILL)
            server.wait()

def run_ir(argv, stdin_path, env):
    """Instructions of one run under callgrind (the program's own process)."""
    # The variables in valgrind's own environment: it hands LD_PRELOAD on to
    # the program (with its own preload added), and does not follow an exec.
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + argv
    stdin = open(stdin_path) if stdin_path else subprocess.DEVNULL
    p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, errors="replace", env=dict(os.environ, **env))
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr[-500:]))
    counts = re.findall(r"Collected : (\d+)", p.stderr)
    if not counts:
        raise RuntimeError("no instruction count from callgrind: %s" % p.stderr[-300:])
    return int(counts[-1])

programs = []
pyargs = [py, os.path.join(here, "alloc_workload.py")]
if "python" in only:
    programs.append(("python", lambda w, e: run_simple(pyargs, None, w, e)))
if "pymalloc0" in only:
    programs.append(("pymalloc0", lambda w, e: run_simple(pyargs, None, w, dict(e, PYTHONMALLOC="malloc"))))
if "sqlite3" in only:
    if shutil.which("sqlite3"):
        programs.append(("sqlite3", lambda w, e: run_simple(["sqlite3", ":memory:"], os.path.join(here, "workload.sql"), w, e)))
    else:
        print("sqlite3: not installed, skipped")
if "redis" in only:
    if shutil.which("redis-server") and shutil.which("redis-benchmark") and shutil.which("redis-cli"):
        programs.append(("redis", run_redis))
    else:
        print("redis: redis-server/redis-benchmark not installed (package redis-server), skipped")

# ---- --callgrind: instructions, one run each -------------------------------------
if callgrind:
    plain = {"python": (pyargs, None, {}), "pymalloc0": (pyargs, None, {"PYTHONMALLOC": "malloc"}),
             "sqlite3": (["sqlite3", ":memory:"], os.path.join(here, "workload.sql"), {})}
    print("\nwhole programs: instructions under callgrind (one run each; deterministic)")
    print("%-10s %-10s %16s %9s" % ("program", "setup", "instructions", "/ je"))
    bad = False
    for prog, _ in programs:
        if prog not in plain:
            print("%-10s (not measured under callgrind: a server under a client)" % prog)
            continue
        argv, stdin_path, penv = plain[prog]
        je = None
        for name, _, env in [s for s in setups if s[0] != "glibc"]:
            try:
                n = run_ir(argv, stdin_path, dict(env, **penv))
            except Exception as e:
                print("%-10s %-10s  FAILED: %s" % (prog, name, str(e)[:200]))
                bad = True
                continue
            je = n if name == "jemalloc" else je
            print("%-10s %-10s %16d %s" % (prog, name, n, "%8.3fx" % (n / je) if je else "%9s" % "-"))
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if bad else 0)

# ---- interleaved runs ----------------------------------------------------------
results = {}  # (program, setup) -> [(wall, rss)]
failed = {}
all_setups = setups + tools
for rep in range(max(reps, tool_reps)):
    order = all_setups[rep % len(all_setups):] + all_setups[:rep % len(all_setups)]
    for prog, fn in programs:
        for name, wrap, env in order:
            is_tool = (name, wrap, env) in tools
            if rep >= (tool_reps if is_tool else reps) or (prog, name) in failed:
                continue
            try:
                results.setdefault((prog, name), []).append(fn(wrap, env))
            except Exception as e:
                failed[(prog, name)] = str(e)
            for f in os.listdir(tmp):  # dumps and tool outputs
                if f != "rss":
                    p = os.path.join(tmp, f)
                    (shutil.rmtree if os.path.isdir(p) else os.remove)(p)
    print("repetition %d done" % (rep + 1), file=sys.stderr)

# ---- the table ----------------------------------------------------------------
# Ratios are taken per repetition (a setup's run over jemalloc's run of the
# same repetition, which ran beside it), then their median: a slow spell of
# a shared machine falls on both sides of a ratio.  CPU time (user + system)
# beside wall time: on a virtual machine it leaves out the time the CPU was
# given to other guests, which wall time counts.
def median_ratio(r, je, k):
    return statistics.median(a[k] / b[k] for a, b in zip(r, je))

print("\nwhole programs: median of %d repetition(s) (heaptrack/memcheck: %d), "
      "load %s%s" % (reps, tool_reps, " ".join("%.2f" % x for x in os.getloadavg()),
                     ", pinned to CPU %s" % cpu if cpu else ""))
print("%-8s %-10s %10s %9s %9s %9s %12s  %s" % ("program", "setup", "wall s", "/ je", "CPU s",
                                               "/ je", "peak RSS MiB", "wall of each run"))
verdicts = []
for prog, _ in programs:
    je = results.get((prog, "jemalloc"))
    for name, _, _ in all_setups:
        r = results.get((prog, name))
        if (prog, name) in failed:
            print("%-8s %-10s  FAILED: %s" % (prog, name, failed[(prog, name)][:200]))
            continue
        if not r:
            continue
        w = statistics.median(x[0] for x in r)
        c = statistics.median(x[2] for x in r)
        m = statistics.median(x[1] for x in r) / 1024.0
        rw = median_ratio(r, je, 0) if je else None
        rc = median_ratio(r, je, 2) if je else None
        print("%-8s %-10s %10.3f %s %9.3f %s %12.1f  %s" % (
            prog, name, w, "%8.3fx" % rw if rw else "%9s" % "-", c,
            "%8.3fx" % rc if rc else "%9s" % "-", m, " ".join("%.3f" % x[0] for x in r)))
        if name == "memledger" and rw:
            verdicts.append((prog, rw, rc))
print("\nbudget (DESIGN.md): memledger at the default threshold within 5% of jemalloc alone")
print("(medians of the repetitions' ratios; redis: wall of redis-benchmark, CPU of the server)")
for prog, rw, rc in verdicts:
    print("  %-8s wall %.3fx  %-6s  CPU %.3fx  %s" % (prog, rw, "within" if rw <= 1.05 else "OVER",
                                                    rc, "within" if rc <= 1.05 else "OVER"))
shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failed else 0)
PY

#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/callgrind.sh - instructions per iteration of each hot-path case,
# under valgrind's callgrind: noise-free, machine-independent counts to put
# beside bench/run.sh's timings.  Builds nothing (`make bench-callgrind`).
#
#   bench/callgrind.sh [PATH/TO/bm_callgrind [SCALE]]
#
# bm_callgrind dumps callgrind's counters once per case (a client request
# after the case's loop), so every dump holds exactly one case; SCALE
# multiplies the iteration counts.
set -eu

bin=${1:-bench/bm_callgrind}
scale=${2:-1}
if ! command -v valgrind >/dev/null 2>&1; then
  echo "callgrind.sh: valgrind is not installed (Debian package valgrind)" >&2
  exit 1
fi
if [ ! -x "$bin" ]; then
  echo "callgrind.sh: $bin is not built (make bench/bm_callgrind)" >&2
  exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/memledger-cg.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin" "$scale" \
  >"$dir/cases.txt" 2>"$dir/valgrind.log" || {
  cat "$dir/valgrind.log" >&2
  exit 1
}
PYTHONPATH="$(dirname "$0")" python3 - "$dir" <<'EOF'
import sys
from cg_counts import load

cases, order, ir = load(sys.argv[1])

print("instructions per iteration (callgrind Ir; loop and call included)\n")
print("%-24s %10s  %s" % ("case", "Ir", "frames walked/kept"))
for n in order:
    if n in ir:
        _, w, k = cases[n]
        print("%-24s %10.1f  %s" % (n, ir[n], "%d/%d" % (w, k) if w or k else ""))

def show(label, v, fmt):
    print("  %-44s " % label + fmt % v)

g = lambda n: ir.get(n)
print()
if g("pair_ml/64") and g("pair_je/64"):
    show("untracked pair 64 B / jemalloc pair", g("pair_ml/64") / g("pair_je/64"), "%.2fx")
    show("untracked pair 64 B - jemalloc pair", g("pair_ml/64") - g("pair_je/64"), "%+.1f Ir")
if g("pair_ml_marked/64") and g("pair_je/64"):
    show("untracked pair 64 B, leaf mapped / jemalloc", g("pair_ml_marked/64") / g("pair_je/64"), "%.2fx")
for mode in ("none", "shadow", "fp", "eh", "libunwind"):
    a, b = g("pair_ml_%s/4096" % mode), g("pair_je/4096")
    if a and b:
        show("tracked pair, %s - jemalloc pair" % mode, a - b, "%+.1f Ir")
a, b = g("pair_ml_none_aligned/4096"), g("pair_je_aligned/4096")
if a and b:
    show("tracked aligned pair, none - jemalloc's", a - b, "%+.1f Ir")
def verdict(ok):
    return "within" if ok else "OVER"
# Issue budgets on these (instructions here; the issue states the mixed
# workload's in wall time, which bm_mixed measures).
if g("smallmix_ml") and g("smallmix_je"):
    d = g("smallmix_ml") - g("smallmix_je")
    show("untracked mix (calloc, realloc, aligned) - jemalloc", d,
         "%%+.1f Ir per operation (budget <= +15: %s)" % verdict(d <= 15))
for side, budget in (("eh", 1.3), ("none", None), ("eh_all", 2.0)):
    a, b = g("mixed_ml_%s" % side), g("mixed_je")
    if a and b:
        note = " (budget <= %.1fx: %s)" % (budget, verdict(a / b <= budget)) if budget else ""
        show("mixed workload, %s / jemalloc" % side, a / b, "%.2fx" + note)
if g("part_capture_hit/0"):
    show("capture answered by the cache (part_capture_hit)", g("part_capture_hit/0"), "%.1f Ir")
for mode in ("fp", "eh", "libunwind"):
    a, u = g("pair_ml_%s/4096" % mode), g("unwind_%s" % mode)
    if a and u:
        show("tracked pair, %s / %s unwind" % (mode, mode), a / u, "%.2fx")
        show("tracked pair, %s - jemalloc - unwind" % mode, a - g("pair_je/4096") - u, "%+.1f Ir")
EOF

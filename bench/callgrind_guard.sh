#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/callgrind_guard.sh - the deterministic CI guard of the hot path:
# instructions per malloc+free pair under valgrind's callgrind, memledger's
# front against jemalloc alone in the same run (bm_callgrind), checked
# against fixed budgets.  Exit 0 within, 1 over budget or on failure,
# 77 when valgrind is not installed (skip).  Well under a minute.
#
#   bench/callgrind_guard.sh [PATH/TO/bm_callgrind]
#
# Budgets (bench/README.md; measured when set: untracked 92.5 vs 82.6 Ir,
# 100.6 where the page map has a leaf, tracked fp 1288 vs 116.9 Ir with 21
# frames walked):
#   pair_ml/64        <= 1.25 x pair_je/64             (untracked pair)
#   pair_ml_marked/64 <= 1.25 x pair_je/64             (the same, page-map
#                                                       leaf present)
#   pair_ml_fp/4096   <= pair_je/4096 + 1400 Ir        (tracked, frame pointers)
#   pair_ml_eh/4096   <= pair_je/4096 + 800 Ir         (tracked, eh, the stack
#                        seen before: the per-thread cache answers; measured
#                        +620 Ir with 23 frames walked, 45 stack words
#                        compared; a walk would be about +2000)
#   smallmix_ml       <= smallmix_je + 15 Ir per operation (the untracked
#                        mix: calloc, realloc growth and shrink,
#                        aligned_alloc, frees of every size below the
#                        threshold; the issue's budget; measured +13.4,
#                        +22.1 before the fronts' fast paths were trimmed)
set -eu

bin=${1:-bench/bm_callgrind}
UNTRACKED_RATIO=${ML_GUARD_UNTRACKED_RATIO:-1.25}
FP_EXTRA_IR=${ML_GUARD_FP_EXTRA_IR:-1400}
EH_EXTRA_IR=${ML_GUARD_EH_EXTRA_IR:-800}
MIX_EXTRA_IR=${ML_GUARD_MIX_EXTRA_IR:-15}
if ! command -v valgrind >/dev/null 2>&1; then
  echo "callgrind_guard.sh: valgrind is not installed: skipped" >&2
  exit 77
fi
if [ ! -x "$bin" ]; then
  echo "callgrind_guard.sh: $bin is not built (make bench/bm_callgrind)" >&2
  exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/memledger-cgg.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
# SCALE 1: 100 000 pairs per case, a few seconds under callgrind.
valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin" 1 \
  pair_je/64 pair_ml/64 pair_je/4096 pair_ml_fp/4096 pair_ml_marked/64 pair_ml_eh/4096 \
  smallmix_je smallmix_ml \
  >"$dir/cases.txt" 2>"$dir/valgrind.log" || {
  cat "$dir/valgrind.log" >&2
  echo "callgrind_guard.sh: bm_callgrind failed" >&2
  exit 1
}
PYTHONPATH="$(dirname "$0")" python3 - "$dir" "$UNTRACKED_RATIO" "$FP_EXTRA_IR" "$EH_EXTRA_IR" \
  "$MIX_EXTRA_IR" <<'PY'
import sys
from cg_counts import load

d, ratio_max, fp_extra, eh_extra, mix_extra = (sys.argv[1], float(sys.argv[2]), float(sys.argv[3]),
                                               float(sys.argv[4]), float(sys.argv[5]))
cases, _, ir = load(d)
need = ["pair_je/64", "pair_ml/64", "pair_je/4096", "pair_ml_fp/4096", "pair_ml_marked/64",
        "pair_ml_eh/4096", "smallmix_je", "smallmix_ml"]
missing = [n for n in need if n not in ir]
if missing:
    print("callgrind_guard: no count for %s" % ", ".join(missing))
    sys.exit(1)
ok = True
for case, what in (("pair_ml/64", "untracked pair 64 B"),
                   ("pair_ml_marked/64", "untracked pair 64 B, page-map leaf present")):
    r = ir[case] / ir["pair_je/64"]
    ok &= r <= ratio_max
    print("callgrind guard: %s %.1f Ir vs jemalloc %.1f Ir: %.2fx (budget <= %.2fx): %s"
          % (what, ir[case], ir["pair_je/64"], r, ratio_max, "within" if r <= ratio_max else "OVER"))
for mode, budget in (("fp", fp_extra), ("eh", eh_extra)):
    case = "pair_ml_%s/4096" % mode
    extra = ir[case] - ir["pair_je/4096"]
    ok &= extra <= budget
    w, k = cases[case][1:]
    print("callgrind guard: tracked %s pair 4 KiB %.1f Ir vs jemalloc %.1f Ir: %+.1f Ir "
          "(budget <= +%g Ir; %d frames walked, %d kept): %s"
          % (mode, ir[case], ir["pair_je/4096"], extra, budget, w, k,
             "within" if extra <= budget else "OVER"))
extra = ir["smallmix_ml"] - ir["smallmix_je"]
ok &= extra <= mix_extra
print("callgrind guard: untracked mix %.1f Ir vs jemalloc %.1f Ir per operation: %+.1f Ir "
      "(budget <= +%g Ir): %s" % (ir["smallmix_ml"], ir["smallmix_je"], extra, mix_extra,
                                  "within" if extra <= mix_extra else "OVER"))
sys.exit(0 if ok else 1)
PY

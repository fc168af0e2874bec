#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/html_render.sh - how long headless chromium takes to open the html
# report of a dump of 59,049 stacks (tests/tools/gen_dump.py, as
# tests/tools/big.sh and tests/tools-formats/html_big.sh make it): wall
# time, and chromium's CPU time for all its processes where `perf stat`
# can count it, over N runs (median, fastest, slowest), with the budget of
# doc/report-formats.md (30 s of wall time, 8 s of CPU; a trivial page,
# measured the same way first, takes about 1.2 s of CPU).  The test
# (html_big.sh) checks what the page shows, not its time: timings on a
# shared machine belong here.  From the build directory:
#   bench/html_render.sh [RUNS]      (default 5; make bench-html)
# Needs chromium (or chromium-browser, google-chrome), python3 and the
# memledger command (make memledger); exit 2 when one is missing.
set -u
B=${ML_BUILDDIR:-$(pwd)}
SRC=${ML_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
runs=${1:-5}
ML=$B/memledger
LIB=$B/.libs/libmemledger.so
CHROMIUM=
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then CHROMIUM=$(command -v "$c"); break; fi
done
[ -n "$CHROMIUM" ] || { echo "html_render.sh: chromium is not installed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "html_render.sh: python3 is not installed" >&2; exit 2; }
[ -x "$ML" ] || { echo "html_render.sh: $ML is not built (make memledger)" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

libc=$(ldd "$ML" | awk '/libc\.so/ { print $3 }')
python3 "$SRC/tests/tools/gen_dump.py" "$T/big.dump" 59049 118098 20000 \
  "$(readlink -f "$ML")" "$(readlink -f "$LIB")" "$libc" || exit 1
"$ML" report --quiet -f html --no-default-suppressions "$T/big.dump" >"$T/big.html" || exit 1
printf '<!DOCTYPE html><p id="x"></p><script>document.getElementById("x").textContent = "ran" + "-ok";</script>\n' \
  >"$T/trivial.html"

PERF=
if command -v perf >/dev/null && perf stat -x, -e task-clock -o "$T/probe.perf" true 2>/dev/null &&
  grep -q task-clock "$T/probe.perf"; then
  PERF="perf stat -x, -e task-clock -o $T/chrome.perf --"
fi

# render PAGE: "wall cpu" seconds of one headless --dump-dom of PAGE (cpu:
# "-" without perf); exit 1 when chromium fails or the page shows nothing.
render() {
  rm -rf "$T/profile" && mkdir "$T/profile"
  start=$(date +%s.%N)
  $PERF "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-quic --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --user-data-dir="$T/profile" --dump-dom "file://$1" \
    >"$T/dom" 2>"$T/dom.err" || return 1
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  cpu=-
  [ -n "$PERF" ] && cpu=$(awk -F, '$3 == "task-clock" { printf "%.2f", $1 / 1000 }' "$T/chrome.perf")
  echo "$wall $cpu"
}

# stats LABEL VALUES...: median, fastest and slowest of the values.
stats() {
  label=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v l="$label" '{ v[NR] = $1 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%-22s median %6.2f s   fastest %6.2f   slowest %6.2f\n", l, m, v[1], v[NR] }'
}

echo "html report of 59,049 stacks: $(stat -c %s "$T/big.html") bytes; $runs runs" \
  "(load $(cut -d' ' -f1-3 /proc/loadavg))"
walls= cpus= twalls= tcpus=
for i in $(seq "$runs"); do
  r=$(render "$T/trivial.html") && grep -q ran-ok "$T/dom" ||
    { echo "html_render.sh: chromium failed on a trivial page: $(head -c 300 "$T/dom.err")" >&2; exit 1; }
  twalls="$twalls ${r% *}" tcpus="$tcpus ${r#* }"
  r=$(render "$T/big.html") && grep -q '<tr id="stack-' "$T/dom" ||
    { echo "html_render.sh: the page did not render: $(head -c 300 "$T/dom.err")" >&2; exit 1; }
  walls="$walls ${r% *}" cpus="$cpus ${r#* }"
done
# shellcheck disable=SC2086
{
  stats "trivial page, wall" $twalls
  [ -n "$PERF" ] && stats "trivial page, CPU" $tcpus
  stats "report, wall" $walls
  [ -n "$PERF" ] && stats "report, CPU" $cpus
}
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# shellcheck disable=SC2086
w=$(printf '%.2f' "$(med $walls)")
verdict() { if [ "$(echo "$1 <= $2" | bc)" = 1 ]; then echo within; else echo OVER; fi; }
echo "budget (doc/report-formats.md): wall <= 30 s: $w s $(verdict "$w" 30)"
if [ -n "$PERF" ]; then
  # shellcheck disable=SC2086
  c=$(printf '%.2f' "$(med $cpus)")
  echo "budget (doc/report-formats.md): chromium's CPU <= 8 s: $c s $(verdict "$c" 8)"
else
  echo "chromium's CPU time: not measured (perf stat cannot count it here)"
fi

#!/bin/bash
# SPDX-License-Identifier: MIT
# pause.sh - how long one allocation call can stop its thread: a loop of
# N mallocs of blocks kept live, then their frees, each call timed
# (bench/pause_prog.c), under jemalloc alone and under memledger with every
# block tracked (MEMLEDGER_MIN_SIZE=0) and at the default threshold.  A
# record cache that grows, a drain of the old one, a resize of the shared
# tables show here as the slowest calls.  Usage, from the build directory:
#   bench/pause.sh [N]        (N: blocks, default 2000000)
# Prints one line per setup and phase: calls, total ms, the slowest call
# (ms, at which index) and how many calls took over 1 ms.
set -u
B=${ML_BUILDDIR:-$(pwd)}
LIB=$B/.libs/libmemledger.so
SRC=${ML_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
N=${1:-2000000}
JE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n1)
[ -f "$LIB" ] || { echo "pause.sh: $LIB is not built (make)" >&2; exit 1; }
[ -n "$JE" ] || { echo "pause.sh: libjemalloc.so.2 not found (Debian package libjemalloc2)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cc -O2 -o "$T/pause_prog" "$SRC/bench/pause_prog.c" || exit 1
run() { # setup size env...
  local name=$1 size=$2
  shift 2
  env "$@" "$T/pause_prog" "$N" "$size" | sed "s/^/$name size $size /"
}
run jemalloc 32 LD_PRELOAD="$JE"
run memledger_all 32 LD_PRELOAD="$LIB" MEMLEDGER_MIN_SIZE=0 MEMLEDGER_DUMP_AT_EXIT=0
run jemalloc 1024 LD_PRELOAD="$JE"
run memledger 1024 LD_PRELOAD="$LIB" MEMLEDGER_DUMP_AT_EXIT=0

#!/bin/bash
# SPDX-License-Identifier: MIT
# delete.sh - what C++ new and delete cost under memledger against jemalloc
# alone, in instructions (callgrind: noise-free): bench/delete_prog.cc, a
# million 64-byte objects (untracked) and 100,000 of 4 KiB (tracked), every
# delete a sized one.  Usage, from the build directory:
#   bench/delete.sh [N]        (N objects of 64 bytes, default 1000000)
# Prints the instructions of each setup and memledger's over jemalloc's.
set -u
B=${ML_BUILDDIR:-$(pwd)}
LIB=$B/.libs/libmemledger.so
SRC=${ML_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
N=${1:-1000000}
JE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n1)
[ -f "$LIB" ] || { echo "delete.sh: $LIB is not built (make)" >&2; exit 1; }
[ -n "$JE" ] || { echo "delete.sh: libjemalloc.so.2 not found (Debian package libjemalloc2)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "delete.sh: valgrind is not installed" >&2; exit 1; }
command -v g++ >/dev/null || { echo "delete.sh: g++ is not installed" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
g++ -O2 -std=c++17 -o "$T/delete_prog" "$SRC/bench/delete_prog.cc" || exit 1
ir() { # lib
  env LD_PRELOAD="$1" MEMLEDGER_DUMP_AT_EXIT=0 valgrind --tool=callgrind \
    --callgrind-out-file="$T/cg.out" "$T/delete_prog" "$N" 2>&1 >/dev/null |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
je=$(ir "$JE")
ml=$(ir "$LIB")
[ -n "$je" ] && [ -n "$ml" ] || { echo "delete.sh: a run under callgrind failed" >&2; exit 1; }
awk -v je="$je" -v ml="$ml" 'BEGIN {
  printf "jemalloc   %12d instructions\nmemledger  %12d instructions  %.3fx jemalloc'"'"'s\n", je, ml, ml / je }'

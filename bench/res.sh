#!/bin/bash
# SPDX-License-Identifier: MIT
# res.sh - what recording threads and mappings costs ([threads],
# [mappings]; issue 12): bench/res_prog.c's pthread_create+join pairs and
# mmap+munmap pairs, without the preload, under it with MEMLEDGER_ENABLED=0
# (hooks pass through), and under it recording (the default), RUNS times
# each (interleaved), medians printed.  Usage, from the build directory:
#   bench/res.sh [RUNS [N_THREADS [N_MAPS]]]
set -u
B=${ML_BUILDDIR:-$(pwd)}
LIB=$B/.libs/libmemledger.so
SRC=${ML_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
RUNS=${1:-7} NT=${2:-20000} NM=${3:-200000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cc -O2 -o "$T/res_prog" "$SRC/bench/res_prog.c" -lpthread || exit 1
run() { # NAME ENV...
  local name=$1
  shift
  env "$@" MEMLEDGER_DIR="$T" MEMLEDGER_DUMP_AT_EXIT=0 MEMLEDGER_QUIET=1 \
    "$T/res_prog" "$NT" "$NM" | sed "s/^/$name /"
}
for i in $(seq "$RUNS"); do
  run none
  run disabled LD_PRELOAD="$LIB" MEMLEDGER_ENABLED=0
  run recording LD_PRELOAD="$LIB"
done >"$T/all"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-10s %-16s %s\n' setup thread_pair_ns map_pair_ns
for s in none disabled recording; do
  printf '%-10s %-16s %s\n' "$s" \
    "$(awk -v s="$s" '$1 == s { sub(/thread_ns=/, "", $2); print $2 }' "$T/all" | median)" \
    "$(awk -v s="$s" '$1 == s { sub(/map_ns=/, "", $3); print $3 }' "$T/all" | median)"
done

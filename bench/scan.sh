#!/bin/bash
# SPDX-License-Identifier: MIT
# scan.sh - the leak scan's benchmark (issue 11): how long the program waits
# for a signal-triggered dump (the snapshot's fork only) and how long the
# scan takes in the snapshot process, for heaps of 100 MB and 1 GB, with
# blocks tracked (1 KiB at the default threshold, or 64 bytes with
# MEMLEDGER_MIN_SIZE=0) or untracked (64 bytes at the default threshold:
# then the heap is scanned as roots).  Every word of every block points at
# a block (the slowest case; SCAN_FILL=zero: zeroed blocks).  Usage, from
# the build directory:
#   bench/scan.sh [--quick]        (--quick: the 100 MB cases only)
# Prints one line per case: heap, block size, threshold, blocks, the
# signalled thread's pause, the scan's time, the time until the file exists.
set -u
B=${ML_BUILDDIR:-$(pwd)}
LIB=$B/.libs/libmemledger.so
SRC=${ML_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cc -O2 -o "$T/scan_prog" "$SRC/bench/scan_prog.c" || exit 1
cases="100:1024:1024 100:64:1024 100:64:0"
[ "${1:-}" = --quick ] || cases="$cases 1024:1024:1024 1024:64:1024 1024:64:0"
printf '%-6s %-6s %-9s %-9s %-10s %-9s %-10s %s\n' heap block threshold blocks pause_us scan_ms written_ms kinds
for c in $cases; do
  IFS=: read -r mb bs th <<<"$c"
  d=$T/d$mb.$bs.$th
  mkdir -p "$d"
  out=$(env LD_PRELOAD="$LIB" MEMLEDGER_DIR="$d" MEMLEDGER_MIN_SIZE="$th" \
    MEMLEDGER_DUMP_AT_EXIT=0 MEMLEDGER_QUIET=1 "$T/scan_prog" "$mb" "$bs" "${SCAN_FILL:-ptr}")
  f=$(ls "$d"/memledger.*.dump 2>/dev/null | head -n1)
  scan=$(sed -n 's/^leak_scan_ms: //p' "$f" 2>/dev/null)
  kinds=$(awk '/^\[unfreed\]$/ { on = 1; next } /^\[/ { on = 0 } on { n[$8] += $2 }
    END { for (k in n) printf "%s=%d ", k, n[k] }' "$f" 2>/dev/null)
  blocks=$(sed -n 's/.*blocks=\([0-9]*\).*/\1/p' <<<"$out")
  printf '%-6s %-6s %-9s %-9s %-10s %-9s %-10s %s\n' "${mb}M" "$bs" "$th" "$blocks" \
    "$(sed -n 's/.*pause_us=\([0-9]*\).*/\1/p' <<<"$out")" "${scan:-?}" \
    "$(sed -n 's/.*written_ms=\([0-9]*\).*/\1/p' <<<"$out")" "$kinds"
  rm -rf "$d"
done

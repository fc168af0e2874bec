#!/bin/bash
# SPDX-License-Identifier: MIT
# memory_limit.sh - under ulimit -v 65536 (64 MiB of address space), a
# program that mallocs 64 KiB blocks until malloc fails gets at least 90% of
# what it gets from jemalloc alone (Debian's libjemalloc.so.2 preloaded: the
# budget of DESIGN.md; glibc's malloc, which reserves less, is shown for
# information); after freeing everything it can still write a dump
# through memledger_dump(), and the exit dump is written.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_memlimit
need_file "$PROG"
tap_plan 5

lim() { (ulimit -v 65536 && exec timeout -k 5 60 "$@"); }
d=$(fresh_dir limit)
JE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)
[ -n "$JE" ] || skip_all "Debian's libjemalloc.so.2 is not installed (package libjemalloc2)"
lim "$PROG" >"$d/glibc.out" 2>&1
tap_diag "glibc's malloc alone gets $(sed -n 's/^got //p' "$d/glibc.out") KiB"
# Medians of 5 runs: near the limit jemalloc itself gets 12% less in about
# one run of ten (address-space layout), with or without memledger.
median() { sort -n | sed -n 3p; }
b=0
for i in 1 2 3 4 5; do
  lim env LD_PRELOAD="$JE" "$PROG" >"$d/base.out" 2>"$d/base.err" || b=$?
  sed -n 's/^got //p' "$d/base.out"
done >"$d/base.all"
base=$(median <"$d/base.all")
[ "$b" = 0 ] && [ -n "$base" ] && [ "$base" -gt 0 ] ||
  skip_all "the program gets nothing under ulimit -v 65536 even with jemalloc alone (status $b)"
lim env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d" "$PROG" >"$d/out" 2>"$d/err"
rc=$?
for i in 2 3 4 5; do
  e=$(fresh_dir limit$i)
  lim env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$e" "$PROG" 2>/dev/null | sed -n 's/^got //p'
done >"$d/ml.all"
sed -n 's/^got //p' "$d/out" >>"$d/ml.all"
got=$(median <"$d/ml.all")
tap_eq "under ulimit -v 65536 the program runs and exits 0 under the preload" 0 "$rc"
[ "$rc" = 0 ] || tap_diag_file "$d/err" 10
if [ -n "$got" ] && [ $((got * 10)) -ge $((base * 9)) ]; then
  tap_ok "it gets at least 90% of the memory it gets from jemalloc alone ($got KiB of $base KiB)"
else
  tap_fail "it gets at least 90% of the memory it gets from jemalloc alone" "jemalloc alone: $base KiB" "with: ${got:-nothing} KiB"
fi
tap_eq "memledger_dump() succeeds after the memory ran out" "api rc=0" "$(grep '^api' "$d/out")"
tap_eq "the API dump was written" 1 "$(dumps_with_trigger "$d" api)"
tap_eq "the exit dump was written" 1 "$(dumps_with_trigger "$d" exit)"
exit 0

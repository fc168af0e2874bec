#!/bin/bash
# SPDX-License-Identifier: MIT
# ulimit.sh - memledger reserves address space in proportion to use: under
# `ulimit -v 65536` a program that mallocs 64 KiB blocks until malloc fails
# gets at least 90% of the heap it gets from jemalloc alone (the same
# Debian jemalloc, preloaded by itself: the allocator memledger delegates
# to).  The page map's former 8 MiB root and the stack table's id array
# mapped for its whole capacity (8 MiB) left it about 68% (33 of 49 MB).
# Also: the address space memledger adds to a small program with tracking
# on, over the same program with MEMLEDGER_ENABLED=0 (what is mapped lazily:
# first tables, a page-map leaf, the dumper's stack, libunwind's pool),
# stays under 2 MiB.  glibc's own figure is printed for information only.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$ML_BUILDDIR/tests/hardening/ulimit_prog
need_file "$PROG"
JE=$(ldconfig -p 2>/dev/null | sed -n 's/.*libjemalloc\.so\.2 (.*x86-64.*) => //p' | head -n1)
[ -n "$JE" ] || JE=$(ls /usr/lib/*/libjemalloc.so.2 /lib/*/libjemalloc.so.2 2>/dev/null | head -n1)
tap_plan 5
LIMIT_KB=65536

d=$(fresh_dir ulimit)
# eat PRELOAD EXTRA-ENV...: bytes obtained under the limit (empty on failure)
eat_once() {
  local pre=$1
  shift
  (ulimit -v $LIMIT_KB && exec env LD_PRELOAD="$pre" MEMLEDGER_DIR="$d" \
    MEMLEDGER_DUMP_AT_EXIT=0 MEMLEDGER_SIGNAL=0 "$@" $ML_TIMEOUT "$PROG" eat) 2>>"$d/err"
}
# The median of 5 runs: near the limit, jemalloc itself gets 12% less in
# about one run of ten (where address-space layout makes its aligned
# mappings fail early), with or without memledger.
eat() {
  local i
  for i in 1 2 3 4 5; do eat_once "$@"; done | sort -n | sed -n 3p
}

glibc=$(eat "")
ml=$(eat "$ML_LIB")
if [ -n "$JE" ] && [ -e "$JE" ]; then
  je=$(eat "$JE")
else
  je=
fi
tap_diag "ulimit -v $LIMIT_KB: glibc ${glibc:-?} B, jemalloc alone ${je:-?} B, memledger ${ml:-?} B"

case $ml in
  '' | *[!0-9]*) tap_fail "the program runs under the preload and the limit" "$(cat "$d/err")" ;;
  *) tap_ok "the program runs under the preload and the limit" ;;
esac
if [ -z "$je" ]; then
  tap_skip "libjemalloc.so.2 not found: no reference to compare with"
else
  case $je in
    '' | *[!0-9]*) tap_fail "heap under memledger >= 90% of jemalloc alone" "jemalloc alone: no result" ;;
    *)
      if [ -n "$ml" ] && [ $((ml * 10)) -ge $((je * 9)) ]; then
        tap_ok "heap under memledger >= 90% of jemalloc alone ($((ml * 100 / je))%)"
      else
        tap_fail "heap under memledger >= 90% of jemalloc alone" \
          "memledger ${ml:-?} B, jemalloc alone $je B"
      fi
      ;;
  esac
fi
# Tracking everything (every block tracked, one record and page-map mark
# each) is held to the same bound.
ml0=$(eat "$ML_LIB" MEMLEDGER_MIN_SIZE=0)
if [ -n "$je" ] && [ -n "$ml0" ] && [ $((ml0 * 10)) -ge $((je * 9)) ]; then
  tap_ok "the same with MEMLEDGER_MIN_SIZE=0 ($((ml0 * 100 / je))%)"
elif [ -z "$je" ]; then
  tap_skip "libjemalloc.so.2 not found"
else
  tap_fail "the same with MEMLEDGER_MIN_SIZE=0" "memledger ${ml0:-?} B, jemalloc alone $je B"
fi

on=$(MEMLEDGER_DUMP_AT_EXIT=0 ml_run "$d" "$PROG" vmsize 2>>"$d/err")
off=$(MEMLEDGER_ENABLED=0 ml_run "$d" "$PROG" vmsize 2>>"$d/err")
tap_diag "VmSize of a small program: ${on:-?} kB tracking, ${off:-?} kB with MEMLEDGER_ENABLED=0"
case "$on|$off" in
  *[!0-9\|]* | '|'* | *'|') tap_fail "VmSize measured" "on '$on' off '$off'" "$(cat "$d/err")" ;;
  *) tap_ok "VmSize measured" ;;
esac
if [ -n "$on" ] && [ -n "$off" ] && [ $((on - off)) -le 2048 ] 2>/dev/null; then
  tap_ok "tracking adds at most 2 MiB of address space to a small program ($((on - off)) kB)"
else
  tap_fail "tracking adds at most 2 MiB of address space to a small program" "on ${on:-?} kB, off ${off:-?} kB"
fi
exit 0

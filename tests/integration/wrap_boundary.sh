#!/bin/bash
# SPDX-License-Identifier: MIT
# wrap_boundary.sh - blocks crossing the boundary of a wrapped library
# (wrap_boundary_lib.c, linked with -Wl,--wrap and libmemledger-wrap) and a
# program that is not wrapped (wrap_boundary_prog.c): freed outside and the
# address handed out again inside (replaced_records), allocated outside and
# freed inside (foreign_frees), realloc inside of an outside block, churn
# inside; the exit dump has exactly the library's 3 leaks.  The same with
# the static flavour (libmemledger-wrap.a linked into the library).  Also
# realloc(NULL, n) / reallocarray(NULL, ...) inside the library are malloc.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$(dirname "$0")/wrap_common.sh" || bail "cannot read wrap_common.sh"

PROG_SHARED=$IT_BIN/wrap_boundary_prog        # libtool wrapper scripts: run as is
PROG_STATIC=$IT_BIN/wrap_boundary_prog_static
LIB_STATIC=$IT_BIN/.libs/libwrap_boundary_static.so
need_file "$PROG_SHARED" "$PROG_STATIC" "$LIB_STATIC"

tap_plan 30

# run_prog NAME PROG [ARG]: sets $dir, $rc, $dump
run_prog() {
  dir=$(fresh_dir "$1")
  MEMLEDGER_DIR=$dir $ML_TIMEOUT "$2" ${3:+"$3"} >"$dir/out" 2>"$dir/err"
  rc=$?
  dump=$(only_dump "$dir")
}
# SIZE...: "<size>=<blocks>" for each size (0 when absent)
sizes() {
  local f=$1 s n out=
  shift
  for s in "$@"; do
    n=$(unfreed_by_size "$f" "$s" 2>/dev/null | awk '{ n += $2 } END { print n + 0 }')
    out="$out$s=$n "
  done
  printf '%s\n' "${out% }"
}

flavour() {
  local fl=$1 prog=$2 out
  run_prog "$fl" "$prog"
  out=$(grep -E '^(a: .* same=|c: |d: |done)' "$dir/out" | sed 's/^a: .* same=/a: same=/')
  tap_eq "$fl: the program runs; glibc hands the freed 5000-byte block's address out again; realloc keeps the data; churn ok" \
    "0|a: same=yes
c: realloc ok
d: churn failures=0
done" "$rc|$out"
  [ "$rc" = 0 ] || tap_diag_file "$dir/err"
  if [ -n "$dump" ] && r=$(dump_consistent "$dump"); then
    tap_ok "$fl: one exit dump, complete and consistent"
  else
    tap_fail "$fl: one exit dump, complete and consistent" "${r:-no single dump}" "$(ls -la "$dir")"
  fi
  tap_eq "$fl: unfreed: 3 blocks, 32000 bytes (5000 + 20000 + 7000, the library's)" "3 32000" \
    "$(dump_unfreed "$dump" 2>/dev/null)"
  tap_eq "$fl: tracked_live_blocks/bytes agree" "3 32000" \
    "$(dump_total "$dump" tracked_live_blocks) $(dump_total "$dump" tracked_live_bytes)"
  tap_eq "$fl: the 5000-byte block is counted once; 20000 and 7000 once each" \
    "5000=1 20000=1 7000=1" "$(sizes "$dump" 5000 20000 7000)"
  local rep
  rep=$(dump_total "$dump" replaced_records)
  if [ "$rep" != missing ] && [ "$rep" -ge 1 ]; then
    tap_ok "$fl: replaced_records >= 1 (the 5000-byte record replaced, $rep)"
  else
    tap_fail "$fl: replaced_records >= 1" "replaced_records: $rep"
  fi
  tap_eq "$fl: foreign_frees = 1 (the program's 6000-byte block freed inside)" 1 \
    "$(dump_total "$dump" foreign_frees)"
  tap_eq "$fl: nothing of the program's own is tracked (9000 leak, 6000, 2000) nor the churn (8000, 50000, 10000)" \
    "9000=0 6000=0 2000=0 8000=0 50000=0 10000=0" "$(sizes "$dump" 9000 6000 2000 8000 50000 10000)"
  tap_sym "$fl: the 7000-byte leak's stack is wb_leak_inner <- wb_lib_leak <- main" \
    "wb_leak_inner wb_lib_leak main" "$dump" size=7000
  tap_sym "$fl: the 20000-byte realloc's stack is wb_lib_realloc <- main" \
    "wb_lib_realloc main" "$dump" size=20000
  tap_sym "$fl: the 5000-byte block's stack is wb_lib_alloc <- main" \
    "wb_lib_alloc main" "$dump" size=5000

  # realloc(NULL, n) is malloc(n): tracked, and freeing it is not foreign
  run_prog "$fl-null" "$prog" reallocnull
  tap_eq "$fl: realloc(NULL, 4321) inside the library is tracked: 4 blocks, 36321 bytes, 4321=1" \
    "0|4 36321|4321=1" "$rc|$(dump_unfreed "$dump" 2>/dev/null)|$(sizes "$dump" 4321)"
  tap_eq "$fl: blocks from realloc(NULL) / reallocarray(NULL) freed inside are not foreign (foreign_frees = 1)" \
    1 "$(dump_total "$dump" foreign_frees)"
  tap_sym "$fl: the realloc(NULL, 4321) block's stack is wb_lib_realloc_null <- main" \
    "wb_lib_realloc_null main" "$dump" size=4321
}

flavour shared "$PROG_SHARED"
# Modules are named by the file that is mapped (the symlink's target).
set -- $(module_range "$dump" /libmemledger-wrap.so.0.0.0 2>/dev/null) -
tap_eq "shared: [modules] lists libmemledger-wrap.so.0.0.0" yes "$([ "$1" != - ] && echo yes || echo no)"

flavour static "$PROG_STATIC"
if command -v readelf >/dev/null; then
  needed=$(readelf -d "$LIB_STATIC" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  case $needed in
  *memledger*) tap_fail "static: the library does not need libmemledger-wrap.so" "NEEDED: $needed" ;;
  *) tap_ok "static: the library does not need libmemledger-wrap.so" ;;
  esac
else
  tap_skip "static: the library does not need libmemledger-wrap.so (no readelf)"
fi
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# wrap_example.sh - examples/wrap: a library linked with the link-time
# flavour and -finstrument-functions, used by a program that is not.  The
# exit dump has the example's leak, exactly: 8 entries of sizeof(entry_t) +
# 4096 bytes from one stack, cache_entry_new (inlined) <- cache_put <-
# load_entries, under MEMLEDGER_UNWIND=auto, shadow and libunwind.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$(dirname "$0")/wrap_common.sh" || bail "cannot read wrap_common.sh"

APP=$ML_BUILDDIR/examples/wrap/cache_app # a libtool wrapper script: run as is
need_file "$APP"

tap_plan 19

# entry_t of examples/wrap/cache.c: next (8) + key[64] + size (8), then the
# 4096-byte value: 4176 bytes per entry, 8 entries.
ENTRY=4176
BLOCKS=8
BYTES=$((ENTRY * BLOCKS))
# the reindex buffer: calloc(8 + 1024, sizeof(entry_t *)), freed at once
REINDEX=$(((8 + 1024) * 8))

# run_app NAME [UNWIND]: sets $dir, $rc, $dump
run_app() {
  dir=$(fresh_dir "$1")
  if [ -n "${2:-}" ]; then
    MEMLEDGER_UNWIND=$2 MEMLEDGER_DIR=$dir $ML_TIMEOUT "$APP" >"$dir/out" 2>"$dir/err"
  else
    MEMLEDGER_DIR=$dir $ML_TIMEOUT "$APP" >"$dir/out" 2>"$dir/err"
  fi
  rc=$?
  dump=$(only_dump "$dir")
}

# ---- the default (auto) ------------------------------------------------------------
run_app auto
tap_eq "cache_app runs normally" "0|cache_app: 8 entries, page-3 starts with 'd'" "$rc|$(cat "$dir/out")"
if [ -n "$dump" ] && r=$(dump_consistent "$dump"); then
  tap_ok "one exit dump, complete and consistent"
else
  tap_fail "one exit dump, complete and consistent" "${r:-no single dump}" "$(ls -la "$dir")" "$(cat "$dir/err")"
fi
tap_eq "unfreed: 8 blocks, $BYTES bytes" "$BLOCKS $BYTES" "$(dump_unfreed "$dump" 2>/dev/null)"
tap_eq "[unfreed]: one stack, 8 blocks of $ENTRY bytes" "1|$BLOCKS $BYTES $ENTRY $ENTRY" \
  "$(unfreed_stacks "$dump" 2>/dev/null)|$(dump_section "$dump" unfreed 2>/dev/null | awk '{ print $2, $3, $5, $6 }')"
tap_eq "the summary line on stderr" "memledger: 8 unfreed blocks, $BYTES bytes, from 1 stacks" \
  "$(grep -o "^memledger: 8 unfreed blocks, $BYTES bytes, from [0-9]* stacks" "$dir/err")"
tap_eq "header: trigger exit, unwind auto" "exit auto" \
  "$(dump_header "$dump" trigger 2>/dev/null) $(dump_header "$dump" unwind 2>/dev/null)"
# the reindex buffer was tracked and freed: 9 allocations, 1 free, no block
# of its size unfreed, nothing foreign or replaced
tap_eq "the reindex buffer ($REINDEX bytes) was tracked and freed: allocs 9, frees 1, none unfreed" \
  "9 1 $REINDEX 0" \
  "$(dump_total "$dump" tracked_allocs) $(dump_total "$dump" tracked_frees) $(dump_total "$dump" tracked_bytes_freed) $(unfreed_by_size "$dump" "$REINDEX" | grep -c .)"
tap_eq "foreign_frees 0, replaced_records 0, shadow_overflows 0" "0 0 0" \
  "$(dump_total "$dump" foreign_frees) $(dump_total "$dump" replaced_records) $(dump_total "$dump" shadow_overflows)"
set -- $(module_range "$dump" /libcache.so 2>/dev/null) - - -
tap_eq "[modules] lists libcache.so with a build id" "yes" \
  "$(printf '%s' "$3" | grep -qE '^[0-9a-f]{16,}$' && echo yes || echo "no: $*")"

# The shadow stack holds the instrumented frames: the malloc call in
# cache_put (where cache_entry_new is inlined) and the call site of cache_put
# in cache_app (load_entries, itself maybe inlined into main).
check_shadow_stack() {
  local mode=$1 names frames
  if [ "$HAVE_SYM" = 0 ]; then
    tap_skip "$mode: stack symbolized (no python3 or addr2line)"
    tap_skip "$mode: the frames (no python3 or addr2line)"
    return
  fi
  names=$(sym_names "$dump" "size=$ENTRY")
  frames=$(sym_frames "$dump" "size=$ENTRY")
  # what follows load_entries can only be main, into which it was inlined
  if [ "$(sym_first 3 "$dump" "size=$ENTRY")" = "cache_entry_new cache_put load_entries" ] &&
    [ -z "$(sym_names "$dump" "size=$ENTRY" | cut -d' ' -f4- -s | tr ' ' '\n' | grep -vx main)" ]; then
    tap_ok "$mode: the stack is cache_entry_new <- cache_put <- load_entries"
  else
    tap_fail "$mode: the stack is cache_entry_new <- cache_put <- load_entries" "names: $names" "$frames"
  fi
  # cache_entry_new is inlined into cache_put with the default CFLAGS (-O2);
  # at -O1 or -O0 it keeps its own frame
  local lib
  lib=$(printf '%s\n' "$frames" | grep -c '	libcache.so$')
  if { [ "$(printf '%s\n' "$frames" | head -n1)" = "cache_entry_new < cache_put	libcache.so" ] && [ "$lib" = 1 ]; } ||
    { [ "$(printf '%s\n' "$frames" | head -n2 | tr '\n' '|')" = "cache_entry_new	libcache.so|cache_put	libcache.so|" ] && [ "$lib" = 2 ]; }; then
    if [ "$(printf '%s\n' "$frames" | grep -c .)" = $((lib + 1)) ] &&
      printf '%s\n' "$frames" | tail -n1 | grep -q '	cache_app$'; then
      tap_ok "$mode: the frames are the malloc call in libcache.so (cache_entry_new inlined into cache_put) and the call in cache_app"
    else
      tap_fail "$mode: the frames are the malloc call in libcache.so (cache_entry_new inlined into cache_put) and the call in cache_app" "$frames"
    fi
    [ "$lib" = 1 ] || tap_diag "(cache_entry_new not inlined: built without -O2?)"
  else
    tap_fail "$mode: the frames are the malloc call in libcache.so (cache_entry_new inlined into cache_put) and the call in cache_app" "$frames"
  fi
}
check_shadow_stack auto

# ---- MEMLEDGER_UNWIND=shadow -----------------------------------------------------------
run_app shadow shadow
tap_eq "shadow: exit 0, unwind shadow, unfreed: 8 blocks, $BYTES bytes, one stack" "0 shadow $BLOCKS $BYTES 1" \
  "$rc $(dump_header "$dump" unwind 2>/dev/null) $(dump_unfreed "$dump" 2>/dev/null) $(unfreed_stacks "$dump" 2>/dev/null)"
check_shadow_stack shadow
r=$(dump_consistent "$dump" 2>&1) && tap_ok "shadow: dump consistent" || tap_fail "shadow: dump consistent" "$r"
tap_eq "shadow: allocs 9, frees 1 (the reindex buffer)" "9 1" \
  "$(dump_total "$dump" tracked_allocs) $(dump_total "$dump" tracked_frees)"

# ---- MEMLEDGER_UNWIND=libunwind ------------------------------------------------------------
run_app libunwind libunwind
tap_eq "libunwind: exit 0, unwind libunwind, unfreed: 8 blocks, $BYTES bytes, one stack" \
  "0 libunwind $BLOCKS $BYTES 1" \
  "$rc $(dump_header "$dump" unwind 2>/dev/null) $(dump_unfreed "$dump" 2>/dev/null) $(unfreed_stacks "$dump" 2>/dev/null)"
tap_sym "libunwind: the stack starts with cache_entry_new <- cache_put <- load_entries" \
  "cache_entry_new cache_put load_entries" "$dump" "size=$ENTRY" 3
# libunwind walks on through main into libc's start code
if [ "$HAVE_SYM" = 0 ]; then
  tap_skip "libunwind: the stack goes on through main (no python3 or addr2line)"
else
  names=$(sym_names "$dump" "size=$ENTRY")
  if [ "$(stack_len "$dump" "size=$ENTRY")" -gt 2 ] && printf '%s\n' $names | grep -qx main; then
    tap_ok "libunwind: the stack goes on through main"
  else
    tap_fail "libunwind: the stack goes on through main" "$names"
  fi
fi
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# wrap_linkers.sh - a user's own build of examples/wrap, by hand: the
# library compiled with -finstrument-functions (CFLAGS -O2 -g, as
# examples/wrap/Makefile) and linked with the flags of memledger-wrap.pc
# (shared flavour) or memledger-wrap-static.pc (static archive), with GNU ld
# (bfd), gold and lld when the compiler can use them, and with -Wl,-z,now.
# The program is not wrapped (-rpath-link only because libmemledger-wrap.so
# is not installed).  Each build must leak exactly the example's 8 entries,
# with the shadow stack cache_entry_new <- cache_put <- load_entries in two
# frames (so the hooks were wrapped too).
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$(dirname "$0")/wrap_common.sh" || bail "cannot read wrap_common.sh"

CC=${ML_CC:-cc}
EX=$ML_SRCDIR/examples/wrap
SHARED_SO=$ML_BUILDDIR/.libs/libmemledger-wrap.so
ARCHIVE=$ML_BUILDDIR/libmemledger-wrap.a
need_file "$EX/cache.c" "$EX/cache_app.c" "$SHARED_SO" "$ARCHIVE"

# The flags of memledger-wrap.pc / memledger-wrap-static.pc, with the build
# directory as libdir.
WRAP_SYMS=-Wl,--wrap=malloc,--wrap=free,--wrap=calloc,--wrap=realloc,--wrap=reallocarray,--wrap=posix_memalign,--wrap=aligned_alloc,--wrap=memalign,--wrap=valloc,--wrap=pvalloc,--wrap=malloc_usable_size,--wrap=__cyg_profile_func_enter,--wrap=__cyg_profile_func_exit
WRAP_SHARED="$WRAP_SYMS -Wl,-z,nodelete -L$ML_BUILDDIR/.libs -lmemledger-wrap"
WRAP_STATIC="$WRAP_SYMS -Wl,-z,nodelete $ARCHIVE -lpthread"

ENTRY=4176 # sizeof(entry_t) + 4096, see wrap_example.sh

tap_plan 23

# ---- the flags are those of the .pc files --------------------------------------------
if command -v pkg-config >/dev/null && [ -f "$ML_BUILDDIR/memledger-wrap.pc" ]; then
  got=$(PKG_CONFIG_PATH=$ML_BUILDDIR pkg-config --define-variable=libdir="$ML_BUILDDIR/.libs" \
    --libs memledger-wrap 2>&1 | sed 's/ *$//')
  tap_eq "memledger-wrap.pc gives these flags" "$WRAP_SHARED" "$got"
  got=$(PKG_CONFIG_PATH=$ML_BUILDDIR pkg-config --define-variable=libdir="$ML_BUILDDIR" \
    --libs memledger-wrap-static 2>&1 | sed 's/ *$//')
  tap_eq "memledger-wrap-static.pc gives these flags (with -lpthread; no libunwind)" \
    "$WRAP_STATIC" "$got"
else
  tap_skip "memledger-wrap.pc gives these flags (no pkg-config or .pc)"
  tap_skip "memledger-wrap-static.pc gives these flags (no pkg-config or .pc)"
fi

# can_link LINKER: the compiler links a trivial program with -fuse-ld=LINKER
can_link() {
  local d
  d=$(fresh_dir "probe-$1")
  printf 'int main(void) { return 0; }\n' >"$d/t.c"
  "$CC" -fuse-ld="$1" -o "$d/t" "$d/t.c" >/dev/null 2>&1 && "$d/t"
}

# try NAME LINKER FLAVOUR [EXTRA_LDFLAGS]: build, run (unwind=shadow), check;
# three checks.
try() {
  local name=$1 ld=$2 flavour=$3 extra=${4:-} d wrap rc dump
  if ! can_link "$ld"; then
    tap_skip "$name: build (-fuse-ld=$ld does not work here)"
    tap_skip "$name: exact leak"
    tap_skip "$name: shadow stack"
    return
  fi
  d=$(fresh_dir "$name")
  [ "$flavour" = static ] && wrap=$WRAP_STATIC || wrap=$WRAP_SHARED
  # what a user would type
  if (cd "$d" &&
    $CC -O2 -g -fPIC -finstrument-functions -shared -fuse-ld="$ld" $extra -o libcache.so \
      "$EX/cache.c" $wrap &&
    $CC -O2 -g -fuse-ld="$ld" $extra -I"$EX" -o cache_app "$EX/cache_app.c" -L. -lcache \
      -Wl,-rpath,"$d" -Wl,-rpath-link,"$ML_BUILDDIR/.libs") >"$d/build.log" 2>&1; then
    tap_ok "$name: build with -fuse-ld=$ld $extra ($flavour flavour)"
  else
    tap_fail "$name: build with -fuse-ld=$ld $extra ($flavour flavour)" "$(head -n 20 "$d/build.log")"
  fi
  mkdir -p "$d/dumps"
  LD_LIBRARY_PATH=$ML_BUILDDIR/.libs MEMLEDGER_DIR=$d/dumps MEMLEDGER_UNWIND=shadow \
    $ML_TIMEOUT "$d/cache_app" >"$d/out" 2>"$d/err"
  rc=$?
  dump=$(only_dump "$d/dumps")
  tap_eq "$name: runs, exit dump unfreed: 8 blocks, 33408 bytes, one stack of $ENTRY-byte blocks" \
    "0|8 33408|8 33408 $ENTRY $ENTRY" \
    "$rc|$(dump_unfreed "$dump" 2>/dev/null)|$(dump_section "$dump" unfreed 2>/dev/null | awk '{ print $2, $3, $5, $6 }')"
  [ "$rc" = 0 ] || tap_diag_file "$d/err"
  local frames
  frames=$(sym_frames "$dump" "size=$ENTRY" 2>/dev/null | grep -c .)
  if [ "$HAVE_SYM" = 0 ]; then
    tap_skip "$name: shadow stack (no python3 or addr2line)"
  # lld packs a small object's segments into the first page of its file:
  # the library records the object once per segment in [modules], each line
  # with a load bias of its own; the command's symbolizer takes the lowest.
  elif [ "$(sym_first 3 "$dump" "size=$ENTRY")" = "cache_entry_new cache_put load_entries" ] &&
    [ "$frames" = 2 ]; then
    tap_ok "$name: the shadow stack is cache_entry_new <- cache_put <- load_entries, 2 frames"
  else
    tap_fail "$name: the shadow stack is cache_entry_new <- cache_put <- load_entries, 2 frames" \
      "$(sym_frames "$dump" "size=$ENTRY")"
  fi
}

try bfd bfd shared
try gold gold shared
try lld lld shared
try bfd-now bfd shared "-Wl,-z,now"
try bfd-static bfd static
try gold-static gold static
try gold-now-static gold static "-Wl,-z,now"
exit 0

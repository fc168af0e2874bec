#!/bin/bash
# SPDX-License-Identifier: MIT
# cmake_package.sh - memledger as CMake projects see it once installed:
# `make install DESTDIR=` into a private directory, then CMake projects built
# against that tree with the README's two snippets (taken from README.md
# itself, so that the README stays right): pkg-config's IMPORTED_TARGET and
# find_package(memledger).  Each builds examples/wrap's libcache with the
# link-time flavour and shadow stacks; cache_app must run and its leak (8
# blocks, 33408 bytes from cache_put) be reported.  The find_package project
# also builds the other targets: memledger::memledger linked into
# examples/leak_basic (4 blocks, 22288 bytes) and memledger-wrap-static.
# Skipped (TAP "1..0 # SKIP": this suite's form of exit status 77) when
# cmake or pkg-config is not installed.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

command -v cmake >/dev/null || { echo "1..0 # SKIP cmake is not installed (Debian package cmake)"; exit 0; }
command -v pkg-config >/dev/null || { echo "1..0 # SKIP pkg-config is not installed"; exit 0; }
need_file "$ML_SRCDIR/README.md" "$ML_SRCDIR/examples/wrap/cache.c" "$ML_SRCDIR/examples/leak_basic.c"

tap_plan 13

# ---- install -----------------------------------------------------------------------
root=$T_TMP/root
# a make of its own: not a sub-make of the one running the tests
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s -C "$ML_BUILDDIR" install \
  DESTDIR="$root" >"$T_TMP/install.log" 2>&1; then
  tap_diag_file "$T_TMP/install.log"
  bail "make install DESTDIR=$root failed"
fi
prefix=$(sed -n 's/^prefix=//p' "$ML_BUILDDIR/memledger.pc")
libdir=$(sed -n 's/^libdir=//p' "$ML_BUILDDIR/memledger.pc" | sed "s|\${exec_prefix}|$prefix|; s|\${prefix}|$prefix|")
cfg=$root$libdir/cmake/memledger
tap_eq "make install puts memledgerConfig.cmake and memledgerConfigVersion.cmake in \$(libdir)/cmake/memledger" \
  "memledgerConfig.cmake memledgerConfigVersion.cmake" "$(cd "$cfg" 2>/dev/null && echo memledgerConfig*.cmake)"
ML_CMD=$root$prefix/bin/memledger
need_file "$ML_CMD"

# snippet TITLE: the first ```cmake block after the README line starting
# with TITLE
snippet() {
  awk -v t="$1" 'index($0, t) == 1 { on = 1; next }
    on == 1 && /^```cmake$/ { on = 2; next }
    on == 2 && /^```$/ { exit }
    on == 2 { print }' "$ML_SRCDIR/README.md"
}
pc_snippet=$(snippet '**CMake**, with pkg-config')
fp_snippet=$(snippet '**CMake**, with `find_package`')
[ -n "$pc_snippet" ] && [ -n "$fp_snippet" ] || bail "README.md: the CMake snippets were not found"

# project NAME SNIPPET EXTRA: a CMake project building libcache (the snippet
# links it) and cache_app; EXTRA is appended
project() {
  local p=$T_TMP/$1
  mkdir -p "$p"
  cat >"$p/CMakeLists.txt" <<EOC
cmake_minimum_required(VERSION 3.13)
project(ml_$1 C)
add_library(cache SHARED "$ML_SRCDIR/examples/wrap/cache.c")
target_compile_options(cache PRIVATE -g -O1)
$2
add_executable(cache_app "$ML_SRCDIR/examples/wrap/cache_app.c")
target_include_directories(cache_app PRIVATE "$ML_SRCDIR/examples/wrap")
target_link_libraries(cache_app PRIVATE cache)
$3
EOC
}

# build NAME: configure and build in $T_TMP/NAME/build against the staged
# install (the prefix on CMAKE_PREFIX_PATH, pkg-config looking there)
build() {
  local p=$T_TMP/$1
  (cd "$p" && env PKG_CONFIG_PATH="$root$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
    PKG_CONFIG_LIBDIR="$root$libdir/pkgconfig" \
    cmake -S . -B build -DCMAKE_PREFIX_PATH="$root$prefix" -DCMAKE_BUILD_TYPE=Debug &&
    cmake --build build) >"$p/build.log" 2>&1
}

# run_leak NAME PROG BLOCKS BYTES FUNCTION: PROG runs (exit 0) with dumps in
# a fresh directory; the summary line and the installed memledger report
# name the leak
run_leak() {
  local name=$1 prog=$2 blocks=$3 bytes=$4 fn=$5 dd dump
  dd=$(fresh_dir "$name-dumps")
  (cd "$dd" && MEMLEDGER_DIR=$dd $ML_TIMEOUT "$prog") >"$dd.out" 2>"$dd.err"
  rc=$?
  dump=$(only_dump "$dd")
  tap_eq "$name: runs, exit 0, one exit dump, summary: $blocks unfreed blocks, $bytes bytes" \
    "0|yes|1" \
    "$rc|$([ -n "$dump" ] && echo yes)|$(grep -c "^memledger: $blocks unfreed blocks, $bytes bytes" "$dd.err")"
  if [ -n "$dump" ] && "$ML_CMD" report --kinds all "$dump" >"$dd.report" 2>&1 &&
    grep -q "^  remaining:  $blocks blocks, $bytes bytes" "$dd.report" && grep -q " in $fn " "$dd.report"; then
    tap_ok "$name: the installed memledger report shows $blocks blocks, $bytes bytes from $fn"
  else
    tap_fail "$name: the installed memledger report shows $blocks blocks, $bytes bytes from $fn" \
      "$(head -n 20 "$dd.report" 2>/dev/null)" "$(cat "$dd.err")"
  fi
}

# ---- pkg-config, IMPORTED_TARGET -----------------------------------------------------
project pc "$pc_snippet" ""
if build pc; then tap_ok "pkg-config snippet: configures and builds"; else
  tap_fail "pkg-config snippet: configures and builds" "$(tail -n 30 "$T_TMP/pc/build.log")"; fi
tap_eq "pkg-config snippet: libcache.so needs libmemledger-wrap.so and wraps malloc" "1 yes" \
  "$(readelf -d "$T_TMP/pc/build/libcache.so" 2>/dev/null | grep -c 'NEEDED.*libmemledger-wrap\.so') $(nm -D "$T_TMP/pc/build/libcache.so" 2>/dev/null | grep -q ' U __wrap_malloc\| U __real_malloc' && echo yes || echo no)"
run_leak pkg-config "$T_TMP/pc/build/cache_app" 8 33408 cache_put

# ---- find_package --------------------------------------------------------------------
project fp "$fp_snippet" "
# the preload library linked into a program
add_executable(leak_basic \"$ML_SRCDIR/examples/leak_basic.c\")
target_compile_options(leak_basic PRIVATE -g -fno-omit-frame-pointer)
target_link_libraries(leak_basic PRIVATE memledger::memledger)
# the static link-time flavour
add_library(cache_static SHARED \"$ML_SRCDIR/examples/wrap/cache.c\")
target_compile_options(cache_static PRIVATE -g -O1)
target_link_libraries(cache_static PRIVATE memledger::memledger-wrap-static memledger::memledger-instrument)
add_executable(cache_app_static \"$ML_SRCDIR/examples/wrap/cache_app.c\")
target_link_libraries(cache_app_static PRIVATE cache_static)
# the variables
file(WRITE \"\${CMAKE_BINARY_DIR}/vars\" \"\${memledger_VERSION} \${memledger_COMMAND}\\n\")
# a version from another minor release (0.x) is refused
find_package(memledger 0.99 QUIET)
file(APPEND \"\${CMAKE_BINARY_DIR}/vars\" \"0.99:\${memledger_FOUND}\\n\")
"
if build fp; then tap_ok "find_package snippet: configures and builds"; else
  tap_fail "find_package snippet: configures and builds" "$(tail -n 30 "$T_TMP/fp/build.log")"; fi
version=$(sed -n 's/^Version: //p' "$ML_BUILDDIR/memledger.pc")
tap_eq "find_package: memledger_VERSION, memledger_COMMAND; find_package(memledger 0.99) is not found" \
  "$version $ML_CMD|0.99:0" "$(head -n1 "$T_TMP/fp/build/vars" 2>/dev/null)|$(sed -n 2p "$T_TMP/fp/build/vars" 2>/dev/null)"
run_leak find_package "$T_TMP/fp/build/cache_app" 8 33408 cache_put
run_leak memledger::memledger "$T_TMP/fp/build/leak_basic" 4 22288 make_session_cache
run_leak memledger::memledger-wrap-static "$T_TMP/fp/build/cache_app_static" 8 33408 cache_put
exit 0

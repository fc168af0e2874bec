#!/bin/bash
# SPDX-License-Identifier: MIT
# symbolize_clang.sh - file:line for programs without .debug_aranges: clang
# -g writes none, so the symbolizer must find the compilation unit from the
# units' own ranges (DW_AT_low_pc/high_pc, DW_AT_ranges).  Builds
# tests/tools/sym_leak.c + sym_main.c with clang -g at -O0 and -O2 (DWARF 5:
# .debug_rnglists, .debug_addr, .debug_line_str), with -gdwarf-4, with
# -gsplit-dwarf, and mixed with a gcc-built unit (aranges that cover main
# but not the leaking unit); with gcc -gdwarf-5 -O2 whose .debug_aranges
# was removed (objcopy, as some toolchains' post-processing does) and gcc
# -gdwarf-5 -gsplit-dwarf (functions in .dwo units); with clang -fuse-ld=lld
# (segments that share file pages: the dump must list the program once,
# and the symbolizer copes with older dumps that list it once per segment,
# shifted, by using the lowest line); runs each under the preload and checks that
# `memledger report` shows leak_here at sym_leak.c:LINE and its caller at
# sym_main.c:LINE.  Skipped without clang (Debian: clang).
# (The leaked block stays reachable through a global: reports ask for
# every kind.)
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

command -v clang >/dev/null || { echo "1..0 # SKIP no clang"; exit 0; }
command -v readelf >/dev/null || { echo "1..0 # SKIP no readelf"; exit 0; }
SRC=$ML_SRCDIR/tests/tools
need_file "$SRC/sym_leak.c" "$SRC/sym_main.c"
leak_line=$(grep -n 'SYM-LEAK-LINE' "$SRC/sym_leak.c" | cut -d: -f1)
call_line=$(grep -n 'SYM-CALL-LINE' "$SRC/sym_main.c" | cut -d: -f1)
have_gcc=0
command -v gcc >/dev/null && have_gcc=1
tap_plan 20

# no_aranges PROG: true when PROG has no .debug_aranges section
no_aranges() { ! readelf -SW "$1" | grep -q '\.debug_aranges'; }

# check_prog NAME WHAT: run $d/NAME under the preload, report, and check the
# leaking frame and its caller.
check_prog() {
  local name=$1 what=$2 dump
  dump=$(dump_of "run_$name" "$d/$name")
  if [ -z "$dump" ]; then
    tap_fail "$what: leak_here at sym_leak.c:$leak_line" "no dump of $name"
    tap_fail "$what: the caller at sym_main.c:$call_line" "no dump of $name"
    return
  fi
  "$ML" report --kinds all "$dump" >"$d/$name.txt" 2>&1
  if grep -q "in leak_here at .*sym_leak\.c:$leak_line \[$name\]\$" "$d/$name.txt"; then
    tap_ok "$what: leak_here at sym_leak.c:$leak_line"
  else
    tap_fail "$what: leak_here at sym_leak.c:$leak_line" "$(head -n 12 "$d/$name.txt")"
  fi
  if grep -q "in sym_outer at .*sym_main\.c:$call_line \[$name\]\$" "$d/$name.txt"; then
    tap_ok "$what: the caller at sym_main.c:$call_line"
  else
    tap_fail "$what: the caller at sym_main.c:$call_line" "$(head -n 12 "$d/$name.txt")"
  fi
}

d=$(fresh_dir symclang)
CFL="-fno-omit-frame-pointer"

for opt in O0 O2; do
  clang -g -$opt $CFL -o "$d/clang_$opt" "$SRC/sym_leak.c" "$SRC/sym_main.c" ||
    bail "clang -g -$opt failed"
  tap_check "clang -g -$opt writes no .debug_aranges" no_aranges "$d/clang_$opt"
  check_prog "clang_$opt" "clang -g -$opt"
done

clang -g -gdwarf-4 -O0 $CFL -o "$d/clang_dwarf4" "$SRC/sym_leak.c" "$SRC/sym_main.c" ||
  bail "clang -gdwarf-4 failed"
check_prog clang_dwarf4 "clang -gdwarf-4 (.debug_ranges)"

# Split DWARF: the .dwo files stay beside the objects, where the skeleton
# units name them (DW_AT_comp_dir).
(cd "$d" && clang -g -gsplit-dwarf -O0 $CFL -o clang_split "$SRC/sym_leak.c" "$SRC/sym_main.c") ||
  bail "clang -gsplit-dwarf failed"
check_prog clang_split "clang -gsplit-dwarf (.dwo units)"

if command -v ld.lld >/dev/null; then
  clang -g -O0 -fuse-ld=lld $CFL -o "$d/clang_lld" "$SRC/sym_leak.c" "$SRC/sym_main.c" ||
    bail "clang -fuse-ld=lld failed"
  check_prog clang_lld "clang -fuse-ld=lld"
  # The library lists the object once, not once per mapping of its first
  # file page (prim_linux.c).
  lines=$(grep -cE "^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ .* $d/clang_lld\$" \
    "$(only_dump "$T_TMP/run_clang_lld")")
  tap_eq "clang -fuse-ld=lld: the dump's [modules] lists the program once" 1 "$lines"
else
  tap_skip "no ld.lld: clang -fuse-ld=lld"
  tap_skip "no ld.lld: clang -fuse-ld=lld"
  tap_skip "no ld.lld: clang -fuse-ld=lld"
fi

if [ $have_gcc = 1 ]; then
  # main's unit by gcc (with .debug_aranges), the leaking one by clang
  # (without): the aranges exist but do not cover leak_here.
  gcc -g -O0 $CFL -c -o "$d/main_gcc.o" "$SRC/sym_main.c" &&
    clang -g -O0 $CFL -c -o "$d/leak_clang.o" "$SRC/sym_leak.c" &&
    gcc -o "$d/mixed" "$d/main_gcc.o" "$d/leak_clang.o" || bail "mixed build failed"
  tap_check "gcc + clang: .debug_aranges present (main's unit only)" eval "! no_aranges '$d/mixed'"
  check_prog mixed "gcc + clang"
  gcc -g -gdwarf-5 -O2 $CFL -o "$d/gcc_noaranges" "$SRC/sym_leak.c" "$SRC/sym_main.c" &&
    objcopy --remove-section .debug_aranges "$d/gcc_noaranges" || bail "gcc -gdwarf-5 build failed"
  check_prog gcc_noaranges "gcc -gdwarf-5 -O2, .debug_aranges removed"
  (cd "$d" && gcc -g -gdwarf-5 -gsplit-dwarf -O0 $CFL -o gcc_split "$SRC/sym_leak.c" "$SRC/sym_main.c") ||
    bail "gcc -gsplit-dwarf failed"
  check_prog gcc_split "gcc -gdwarf-5 -gsplit-dwarf"
else
  for i in 1 2 3 4 5 6 7; do tap_skip "no gcc: gcc + clang, gcc without aranges, gcc split DWARF"; done
fi

#!/bin/bash
# SPDX-License-Identifier: MIT
# symbolize_changed.sh - a module without build id whose file changed since
# the dump is not symbolized from the new file: its frames show as
# module+offset with the note "changed since the dump", and one warning on
# stderr names the module.  Builds tests/tools/sym_leak.c + sym_main.c with
# -Wl,--build-id=none, dumps, then: the same file reports file:line; a
# rebuild with a function added before the leaking one (its load segments
# differ) gives the note and no function name; the same bytes copied later
# (modified after the dump) give the note; a copy that keeps the mtime, or
# one under --sysroot (copies there are newer than the dump by nature), is
# symbolized again.  The dump records the file's size and mtime
# ([module_files]), so a rebuild with the same load segments whose mtime
# was set back before the dump (as package installs keep build times) gets
# the note too, not the new file's names.
# (The leaked block stays reachable through a global: reports ask for
# every kind.)
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

CC=${ML_CC:-cc}
command -v "${CC%% *}" >/dev/null || { echo "1..0 # SKIP no C compiler ($CC)"; exit 0; }
command -v readelf >/dev/null || { echo "1..0 # SKIP no readelf"; exit 0; }
SRC=$ML_SRCDIR/tests/tools
need_file "$SRC/sym_leak.c" "$SRC/sym_main.c"
leak_line=$(grep -n 'SYM-LEAK-LINE' "$SRC/sym_leak.c" | cut -d: -f1)
tap_plan 14

d=$(fresh_dir symchanged)
# build OUT [CFLAGS...]: the test program without build id
build() {
  local out=$1
  shift
  $CC -g -O0 -fno-omit-frame-pointer -Wl,--build-id=none "$@" -o "$out" \
    "$SRC/sym_leak.c" "$SRC/sym_main.c"
}
build "$d/prog" || bail "$CC -Wl,--build-id=none failed"
cp -p "$d/prog" "$d/prog.orig"
tap_check "the program has no build id" eval "! readelf -n '$d/prog' | grep -q 'Build ID'"

dump=$(dump_of run "$d/prog")
[ -n "$dump" ] || bail "no dump of the program"
tap_eq "the dump records no build id for it" "-" \
  "$(dump_section "$dump" modules | awk -v p="$d/prog" '$5 == p { print $4 }')"

# no_names FILE: no frame of prog carries a function name
no_names() { ! grep -q ' in [^?][^ ]* .*\[prog\]' "$1"; }

"$ML" report --kinds all "$dump" >"$d/same.txt" 2>"$d/same.err"
tap_check "unchanged file: leak_here at sym_leak.c:$leak_line" \
  grep -q "in leak_here at .*sym_leak\.c:$leak_line \[prog\]\$" "$d/same.txt"
tap_check "unchanged file: no warning" test ! -s "$d/same.err"

# Rebuilt with a function before leak_here: its old addresses now fall in
# other code (added_before, or leak_here at the wrong line).
sleep 0.05
build "$d/prog" -DSYM_ADD_BEFORE || bail "rebuild failed"
"$ML" report --kinds all "$dump" >"$d/rebuilt.txt" 2>"$d/rebuilt.err"
tap_check "rebuilt: frames as module+offset with the note" \
  grep -q 'in ?? \[prog+0x[0-9a-f]*\] (changed since the dump)$' "$d/rebuilt.txt"
tap_check "rebuilt: no function name from the new file" no_names "$d/rebuilt.txt"
tap_check "rebuilt: no added_before, no leak_here" \
  eval "! grep -q 'added_before\|leak_here' '$d/rebuilt.txt'"
tap_check "rebuilt: one warning naming the module" \
  grep -q "^memledger: warning: module $d/prog changed since the dump (its size differs): frames not symbolized\$" \
  "$d/rebuilt.err"
"$ML" report --kinds all -f json "$dump" >"$d/rebuilt.json" 2>/dev/null
tap_check "rebuilt: the note in JSON" grep -q '"note": "changed since the dump"' "$d/rebuilt.json"

# The same bytes, written after the dump: not trusted either.
cp "$d/prog.orig" "$d/prog"
"$ML" report --kinds all "$dump" >"$d/copied.txt" 2>"$d/copied.err"
tap_check "copied after the dump: the note, no name" \
  eval "grep -q '(changed since the dump)' '$d/copied.txt' && no_names '$d/copied.txt' &&
        grep -q '(its mtime differs)' '$d/copied.err'"

cp -p "$d/prog.orig" "$d/prog"
"$ML" report --kinds all "$dump" >"$d/kept.txt" 2>&1
tap_check "copy that keeps the mtime: symbolized" \
  grep -q "in leak_here at .*sym_leak\.c:$leak_line \[prog\]\$" "$d/kept.txt"

mkdir -p "$d/root$d" && cp "$d/prog.orig" "$d/root$d/prog"
"$ML" report --kinds all --sysroot "$d/root" "$dump" >"$d/sysroot.txt" 2>&1
tap_check "--sysroot copy (newer than the dump, same segments): symbolized" \
  grep -q "in leak_here at .*sym_leak\.c:$leak_line \[prog\]\$" "$d/sysroot.txt"

lo=$(dump_section "$dump" modules | awk -v p="$d/prog" '$5 == p { print $1 }')
tap_eq "[module_files]: the program's size and mtime in ns as the dump saw them" \
  "$lo $(stat -c %s "$d/prog.orig") $(date -r "$d/prog.orig" +%s%N)" \
  "$(dump_section "$dump" module_files | awk -v l="$lo" '$1 == l')"

# The same code under another name (same load segments), its mtime set back
# before the dump: only the recorded mtime tells.
build "$d/prog" -Dleak_here=leak_hare || bail "rebuild failed"
touch -d '2001-01-01 00:00:00' "$d/prog"
"$ML" report --kinds all "$dump" >"$d/backdated.txt" 2>"$d/backdated.err"
tap_check "rebuilt with its mtime set back: the note, not the new name" \
  eval "grep -q '(changed since the dump)' '$d/backdated.txt' && ! grep -q leak_hare '$d/backdated.txt' &&
        grep -q '(its mtime differs)' '$d/backdated.err'"

#!/bin/bash
# SPDX-License-Identifier: MIT
# symbolize.sh - the symbolizer on a real dump of examples/leak_basic and
# on copies of the binary: full DWARF (function and file:line), debug info
# stripped (ELF symbol table: names without lines), fully stripped (a "no
# symbols" note), separate debug info found by build id (--debug-dir), a
# build id that differs from the dump's (a note, not a wrong name), and a
# missing file (a note).
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

LEAK=$ML_BUILDDIR/examples/leak_basic
need_file "$LEAK"
tap_plan 6
d=$(fresh_dir sym)
ml_run "$d" "$LEAK" >/dev/null 2>&1
dump=$(only_dump "$d")
[ -n "$dump" ] || bail "no dump of leak_basic"

# with_binary FILE: the dump with leak_basic's module path replaced by FILE
with_binary() {
  sed "s|^\([0-9a-f]* [0-9a-f]* [0-9a-f]* [0-9a-f-]*\) $LEAK\$|\1 $1|" "$dump"
}

"$ML" report "$dump" >"$d/full" 2>&1
tap_check "full DWARF: make_session_cache with file:line" \
  grep -q 'in make_session_cache at .*leak_basic.c:[0-9]* \[leak_basic\]$' "$d/full"

cp "$LEAK" "$d/nodebug" && strip --strip-debug "$d/nodebug"
with_binary "$d/nodebug" >"$d/nodebug.dump"
"$ML" report "$d/nodebug.dump" >"$d/nodebug.txt" 2>&1
tap_check "debug info stripped: the symbol table still names make_session_cache (no line)" \
  grep -q 'in make_session_cache \[nodebug\]$' "$d/nodebug.txt"

cp "$LEAK" "$d/stripped" && strip --strip-all "$d/stripped"
with_binary "$d/stripped" >"$d/stripped.dump"
"$ML" report "$d/stripped.dump" >"$d/stripped.txt" 2>&1
tap_check "fully stripped: a note, no name" \
  eval "grep -q 'in ?? \[stripped+0x[0-9a-f]*\] (no symbols)' '$d/stripped.txt' && ! grep -q make_session_cache '$d/stripped.txt'"

bid=$(dump_section "$dump" modules | awk -v p="$LEAK" '$5 == p { print $4 }')
mkdir -p "$d/debug/.build-id/${bid:0:2}"
objcopy --only-keep-debug "$LEAK" "$d/debug/.build-id/${bid:0:2}/${bid:2}.debug"
"$ML" report --debug-dir "$d/debug" "$d/stripped.dump" >"$d/sep.txt" 2>&1
tap_check "fully stripped with separate debug info by build id: file:line again" \
  grep -q 'in make_session_cache at .*leak_basic.c:[0-9]* \[stripped\]$' "$d/sep.txt"

sed "s|^\([0-9a-f]* [0-9a-f]* [0-9a-f]*\) $bid $LEAK\$|\1 0123456789abcdef $LEAK|" "$dump" >"$d/otherbid.dump"
"$ML" report "$d/otherbid.dump" >"$d/otherbid.txt" 2>&1
tap_check "a different build id: a note, not a wrong name" \
  eval "grep -q '(build id differs' '$d/otherbid.txt' && ! grep -q make_session_cache '$d/otherbid.txt'"

with_binary "$d/gone" >"$d/gone.dump"
"$ML" report "$d/gone.dump" >"$d/gone.txt" 2>&1
tap_check "a missing file: a note" grep -q 'in ?? \[gone+0x[0-9a-f]*\] (module file missing)' "$d/gone.txt"

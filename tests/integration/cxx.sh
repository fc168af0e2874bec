#!/bin/bash
# SPDX-License-Identifier: MIT
# cxx.sh - C++ under the preload: new/delete, new[]/delete[], containers,
# strings and exceptions work as without it, and among the blocks allocated
# from the program's own code exactly the one leak (new char[5000]) is
# reported, its stack starting in the program (operator new is the
# preload's: no libstdc++ frame above it).  When no block can be had,
# operator new behaves as without the preload (the new-handler's calls,
# std::bad_alloc, NULL from the nothrow forms), also in a C program that
# loads libstdc++ with dlopen; over-aligned new is aligned.  A C++ program
# linked with jemalloc itself (whose library defines operator new too) has
# its blocks tracked all the same.  And a C program does not get libstdc++
# from the preload.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_cxx
JEPROG=$IT_BIN/prog_cxx_je
CPROG=$IT_BIN/prog_semantics
need_file "$PROG" "$JEPROG" "$CPROG"

tap_plan 13

d=$(fresh_dir cxx)
"$PROG" >"$d/plain.out" 2>"$d/plain.err"
rc0=$?
ml_run "$d" "$PROG" >"$d/ml.out" 2>"$d/ml.err"
rc1=$?
tap_eq "prog_cxx exits 0 with and without the preload" "0 0" "$rc0 $rc1"
if [ -s "$d/plain.out" ] && cmp -s "$d/plain.out" "$d/ml.out"; then
  tap_ok "prog_cxx prints the same with and without the preload"
else
  tap_fail "prog_cxx prints the same with and without the preload" "$(diff "$d/plain.out" "$d/ml.out")"
fi
tap_eq "the exceptions were caught (3 x 3001-char messages)" "3" "$(grep -c '^exception: 3001$' "$d/ml.out")"

dump=$(only_dump "$d")
r=$(dump_consistent "$dump" 2>&1) && tap_ok "one exit dump, complete and consistent" ||
  tap_fail "one exit dump, complete and consistent" "$r"
mine=$(unfreed_in_module "$dump" /prog_cxx 2>/dev/null)
tap_eq "from the program's own stacks: exactly the new char[5000] leak" "1 5000 5000 5000" \
  "$(printf '%s\n' "$mine" | awk 'NF { print $2, $3, $5, $6 }')"
r=$(module_range "$dump" /prog_cxx)
set -- $r - - -
id=$(printf '%s\n' "$mine" | awk 'NF { print $1; exit }')
tap_check "that stack has at least 2 frames inside prog_cxx (leak_5000 and main)" \
  test "$(for fr in $(stack_frames "$dump" "${id:-0}"); do
    [ "$1" != - ] && [ $((16#$fr)) -ge $((16#$1)) ] && [ $((16#$fr)) -lt $((16#$2)) ] && echo x
  done | grep -c x)" -ge 2
first=$(stack_frames "$dump" "${id:-0}" | awk '{ print $1; exit }')
tap_check "that stack's first frame is in prog_cxx (no operator new frame above it)" \
  test "$1" != - -a -n "$first" -a $((16#${first:-0})) -ge $((16#${1/-/0})) -a \
  $((16#${first:-0})) -lt $((16#${2/-/0}))
tap_eq "the summary line is on stderr, nothing else" 1 "$(grep -c '' "$d/ml.err")"

# ---- operator new without memory -------------------------------------------------------
"$PROG" oom >"$d/oom.plain" 2>&1
MEMLEDGER_DUMP_ON_FAILURE=0 ml_run "$d" "$PROG" oom >"$d/oom.ml" 2>"$d/oom.err"
tap_eq "out of memory: operator new as without the preload (handler, bad_alloc, NULL)" \
  "new: bad_alloc after 2 handler calls
nothrow new: null after 2 handler calls
aligned new[]: bad_alloc after 2 handler calls
aligned nothrow new: null after 2 handler calls
aligned to 256: yes|same" \
  "$(cat "$d/oom.ml")|$(cmp -s "$d/oom.plain" "$d/oom.ml" && echo same || diff "$d/oom.plain" "$d/oom.ml")"

# ---- a C++ program linked with libjemalloc.so -----------------------------------------
dj=$(fresh_dir cxx-je)
ml_run "$dj" "$JEPROG" >"$dj/ml.out" 2>"$dj/ml.err"
rc=$?
djump=$(only_dump "$dj")
tap_eq "linked with libjemalloc.so: exits 0, prints the same, and the new char[5000] leak is reported" \
  "0|same|1 5000 5000 5000" \
  "$rc|$(cmp -s "$d/plain.out" "$dj/ml.out" && echo same || echo differs)|$(unfreed_in_module "$djump" /prog_cxx_je 2>/dev/null | awk 'NF { print $2, $3, $5, $6 }')"

# ---- a C++ runtime loaded late (a C program's plugin) ------------------------------------
"$CPROG" cxx-late >"$d/late.plain" 2>&1
MEMLEDGER_DUMP_ON_FAILURE=0 ml_run "$d" "$CPROG" cxx-late >"$d/late.ml" 2>"$d/late.err"
rc=$?
tap_eq "libstdc++ dlopen'ed by a C program: operator new's failures reach it (as without the preload)" \
  "0|cxx-late: operator new(huge, nothrow): null
cxx-late: operator new(100, nothrow): a block|same" \
  "$rc|$(cat "$d/late.ml")|$(cmp -s "$d/late.plain" "$d/late.ml" && echo same || echo differs)"

# ---- libstdc++ is not brought in by the preload -----------------------------------------
"$PROG" maps >"$d/maps.cxx" 2>&1
ml_run "$d" "$PROG" maps >"$d/maps.cxx.ml" 2>/dev/null
tap_eq "the probe sees libstdc++ in a C++ program (with and without the preload)" \
  "libstdc++ mapped: yes|libstdc++ mapped: yes" "$(cat "$d/maps.cxx")|$(cat "$d/maps.cxx.ml")"
ml_run "$d" "$CPROG" maps >"$d/maps.c" 2>/dev/null
tap_eq "a C program under the preload has memledger but no libstdc++ mapped" \
  "libstdc++ mapped: no
libmemledger mapped: yes" "$(cat "$d/maps.c")"
exit 0

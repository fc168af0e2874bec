#!/bin/bash
# SPDX-License-Identifier: MIT
# unwind_owner.sh - the library lends the program no symbol: a C program
# that dlopens libstdc++.so.6 finds _Unwind_RaiseException in libgcc_s (as
# without the preload), not in a libunwind the preloaded library brought
# into the global scope, where C++ exceptions would then be thrown through.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_unwind_owner
need_file "$PROG"
tap_plan 2

d=$(fresh_dir owner)
base_run 20 "$PROG" >"$d/base.out" 2>"$d/base.err"
b=$?
[ "$b" = 0 ] && grep -q '^owner .*libgcc_s' "$d/base.out" ||
  skip_all "without the preload _Unwind_RaiseException is not from libgcc_s here (status $b: $(cat "$d/base.out" "$d/base.err" | head -c 200))"
inv_run "$d" 20 "$PROG" >"$d/out" 2>"$d/err"
rc=$?
tap_eq "the program exits 0 under the preload" 0 "$rc"
if grep -q '^owner .*libgcc_s' "$d/out" && ! grep -q '^owner .*libunwind' "$d/out"; then
  tap_ok "_Unwind_RaiseException comes from libgcc_s ($(sed -n 's/^owner //p' "$d/out"))"
else
  tap_fail "_Unwind_RaiseException comes from libgcc_s" "without: $(cat "$d/base.out")" "with:    $(cat "$d/out")"
fi
exit 0

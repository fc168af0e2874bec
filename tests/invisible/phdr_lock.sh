#!/bin/bash
# SPDX-License-Identifier: MIT
# phdr_lock.sh - one thread allocates inside a dl_iterate_phdr callback
# (holding the loader's lock) for 200 ms while another allocates beside it:
# no deadlock between the loader's lock and the library's own (30 s limit),
# five rounds, with the default unwinder and with libunwind.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_phdr
need_file "$PROG"
tap_plan 2

for uw in auto libunwind; do
  d=$(fresh_dir $uw)
  MEMLEDGER_UNWIND=$uw inv_run "$d" 30 "$PROG" 5 >"$d/out" 2>"$d/err"
  rc=$?
  tap_eq "MEMLEDGER_UNWIND=$uw: allocating inside dl_iterate_phdr beside another thread ends (124 = deadlock)" \
    "0 done" "$rc $(cat "$d/out")"
  [ "$rc" = 0 ] || tap_diag_file "$d/err" 10
done
exit 0

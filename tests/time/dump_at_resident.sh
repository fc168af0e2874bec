#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_at_resident.sh - MEMLEDGER_DUMP_AT on the resident size: a program
# that fills anonymous mappings of its own (no tracked block grows) gets a
# limit dump (limit_reason: resident) when its resident size first reaches
# the limit, and again at each further step; the dumps' VmHWM shows it.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

. "$ML_SRCDIR/tests/time/lib_time.sh" || bail "cannot read lib_time.sh"
tap_plan 5

# reasons DIR: "<limit_reason> <VmHWM in KiB>" of each limit dump, in order
reasons() { limit_series "$1" | awk '{ print $1, $3 }'; }

d=$(fresh_dir resident)
MEMLEDGER_DUMP_AT=32M ml_run "$d" "$PROG" mapped 12 2>"$d/err"
rc=$?
r=$(reasons "$d")
tap_eq "12 x 8 MiB filled, MEMLEDGER_DUMP_AT=32M: three limit dumps, all for the resident size" \
  "0|resident resident resident " "$rc|$(printf '%s\n' "$r" | awk 'NF { printf "%s ", $1 }')"
tap_eq "their peak resident sizes have reached 32, 64 and 96 MiB, in order" "1 1 1 " \
  "$(printf '%s\n' "$r" | awk 'NF { printf "%d ", ($2 >= NR * 32768 && $2 < (NR + 1) * 32768) }')"
ok=1
for f in $(dumps_in "$d"); do dump_consistent "$f" >/dev/null || ok=0; done
tap_eq "every dump is complete and consistent" 1 $ok
tap_eq "the dumps list the program's mappings" "12" \
  "$(awk '/^\[mappings\]$/ { on = 1; next } /^\[/ { on = 0 } on && $3 == 8388608' "$(dumps_in "$d" | tail -n 1)" | grep -c .)"

d=$(fresh_dir off)
ml_run "$d" "$PROG" mapped 12 2>"$d/err"
tap_eq "without MEMLEDGER_DUMP_AT: no limit dump" "" "$(reasons "$d")"
[ "$T_FAILED" = 0 ]

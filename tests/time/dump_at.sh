#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_at.sh - MEMLEDGER_DUMP_AT: a dump with trigger limit when the tracked
# live bytes first reach the limit, and again at each further step of it;
# a percentage of RLIMIT_AS (ulimit -v), and a warning when no limit is set.
# And the resident size: a program that fills anonymous mappings of its own
# (no tracked block grows) gets a limit dump (limit_reason: resident) when
# its resident size first reaches the limit, and again at each further
# step; the dumps' VmHWM shows it.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

. "$ML_SRCDIR/tests/time/lib_time.sh" || bail "cannot read lib_time.sh"
tap_plan 10

# limit_dumps DIR: the unfreed bytes of each limit dump for the tracked
# bytes, on one line (the resident size's own: below)
limit_dumps() { limit_series "$1" | awk '$1 == "tracked" { printf "%s ", $2 }'; }

d=$(fresh_dir size)
MEMLEDGER_DUMP_AT=3M ml_run "$d" "$PROG" limit 10 2>"$d/err"
# 1 MiB blocks: each step is reached exactly (the check comes every 64 KiB
# of tracked allocation per thread).
tap_eq "MEMLEDGER_DUMP_AT=3M, 10 MiB allocated: dumps at 3, 6 and 9 MiB" \
  "3145728 6291456 9437184 " "$(limit_dumps "$d")"
ok=1
for f in $(dumps_in "$d"); do dump_consistent "$f" >/dev/null || ok=0; done
tap_eq "every dump is complete and consistent" 1 $ok

d=$(fresh_dir pct)
(ulimit -v 204800 && MEMLEDGER_DUMP_AT=10% ml_run "$d" "$PROG" limit 45) 2>"$d/err"
tap_eq "MEMLEDGER_DUMP_AT=10% under ulimit -v 200 MiB: dumps at 20 and 40 MiB" \
  "20971520 41943040 " "$(limit_dumps "$d")"

d=$(fresh_dir off)
ml_run "$d" "$PROG" limit 10 2>"$d/err"
tap_eq "without MEMLEDGER_DUMP_AT: no limit dump" "" "$(limit_dumps "$d")"

d=$(fresh_dir nolimit)
(ulimit -v unlimited 2>/dev/null; [ "$(ulimit -v)" = unlimited ] || exit 3
  MEMLEDGER_DUMP_AT=50% ml_run "$d" "$PROG" limit 4) 2>"$d/err"
rc=$?
if [ $rc = 3 ] ||
  [ -n "$(grep -v max "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/memory.max" 2>/dev/null)" ]; then
  tap_skip "this test runs under an address-space limit or in a cgroup with a memory.max"
elif grep -q "MEMLEDGER_DUMP_AT=50%: neither RLIMIT_AS nor a cgroup memory.max is set" "$d/err"; then
  tap_ok "a percentage without any memory limit: one warning, no limit dumps ($(limit_dumps "$d"))"
else
  tap_fail "a percentage without any memory limit: one warning" "$(cat "$d/err")"
fi

# ---- the resident size ------------------------------------------------------
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
tap_eq "every dump of that run is complete and consistent" 1 $ok
# (one group, made in mapped(): its 12 of 8 MiB and the last one of a page)
tap_eq "the dumps list the program's mappings" "13 $((12 * 8388608 + $(getconf PAGESIZE)))" \
  "$($DUMP_JSON mappings "$(dumps_in "$d" | tail -n 1)" | awk '$6 ~ /^mapped,/ { print $4, $5; exit }')"

d=$(fresh_dir resident-off)
ml_run "$d" "$PROG" mapped 12 2>"$d/err"
tap_eq "without MEMLEDGER_DUMP_AT, 96 MiB filled: no limit dump" "" "$(reasons "$d")"
[ "$T_FAILED" = 0 ]

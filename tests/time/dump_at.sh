#!/bin/bash
# SPDX-License-Identifier: MIT
# dump_at.sh - MEMLEDGER_DUMP_AT: a dump with trigger limit when the tracked
# live bytes first reach the limit, and again at each further step of it;
# a percentage of RLIMIT_AS (ulimit -v), and a warning when no limit is set.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

. "$ML_SRCDIR/tests/time/lib_time.sh" || bail "cannot read lib_time.sh"
tap_plan 5

# limit_dumps DIR: the unfreed bytes of each limit dump for the tracked
# bytes, on one line (the resident size's own: dump_at_resident.sh)
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
[ "$T_FAILED" = 0 ]

#!/bin/bash
# SPDX-License-Identifier: MIT
# secure.sh - secure-execution mode: a set-uid copy of prog_secure (owned by
# nobody, run by root: the kernel sets AT_SECURE) takes no option from the
# environment, MEMLEDGER_OPTIONS included: no dump file anywhere (not in
# MEMLEDGER_DIR, not in the working directory, both writable by anyone),
# MEMLEDGER_LEAK_EXITCODE has no effect, one warning says why; `memledger
# dump` on it says that tracking is off there and sends nothing.  The same
# program without the set-uid bit, in the same environment, does all that.
# Needs root and a kernel/container that honours set-uid bits (no
# NoNewPrivs, no nosuid mount); otherwise those checks are skipped, and
# the unit tests (test_options: test_options_secure_*) cover the policy
# through their secure-mode hook.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_secure
need_file "$PROG"

tap_plan 7

# the program and the dump directories must be reachable by nobody
chmod 755 "$T_TMP"
d=$(fresh_dir secure)
chmod 1777 "$d"
mkdir -m 1777 "$d/dumps" "$d/list" "$d/cwd"
cp "$PROG" "$d/prog_plain"
cp "$PROG" "$d/prog_setuid"
chmod 755 "$d/prog_plain"

# run NAME PROG: in $d/cwd, with every option pointing somewhere writable
run() {
  (cd "$d/cwd" && $ML_TIMEOUT env MEMLEDGER_DIR="$d/dumps" MEMLEDGER_LEAK_EXITCODE=7 \
    MEMLEDGER_MIN_SIZE=1K MEMLEDGER_OPTIONS="dir=$d/list:leak_exitcode=9" "$2") \
    >"$d/$1.out" 2>"$d/$1.err"
  rc=$?
}
all_dumps() { find "$d" -name 'memledger.*.dump' | sort; }

# ---- the reference: not set-uid ---------------------------------------------------
run plain "$d/prog_plain"
tap_eq "not set-uid: secure=0, MEMLEDGER_LEAK_EXITCODE=7 applies, one dump in MEMLEDGER_DIR" \
  "secure=0|7|$d/dumps" "$(cat "$d/plain.out")|$rc|$(all_dumps | xargs -r -n1 dirname)"
find "$d" -name 'memledger.*.dump' -delete

# ---- set-uid nobody -------------------------------------------------------------------
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
  for i in 1 2 3 4 5 6; do tap_skip "set-uid checks need root and a user 'nobody'"; done
  exit 0
fi
chown nobody "$d/prog_setuid" && chmod 4755 "$d/prog_setuid" || bail "cannot make a set-uid copy"
run setuid "$d/prog_setuid"
if [ "$(cat "$d/setuid.out")" != "secure=1" ]; then
  for i in 1 2 3 4 5 6; do
    tap_skip "the kernel gave no AT_SECURE to a set-uid program here ($(cat "$d/setuid.out"); NoNewPrivs or a nosuid mount?)"
  done
  exit 0
fi
tap_eq "set-uid: the program runs (secure=1) and exits 0: MEMLEDGER_LEAK_EXITCODE and leak_exitcode ignored" \
  "0" "$rc"
tap_eq "set-uid: no dump file anywhere (MEMLEDGER_DIR, MEMLEDGER_OPTIONS' dir, the working directory)" \
  "" "$(all_dumps)"
tap_eq "set-uid: exactly one warning, saying the variables are ignored" \
  "1 1" \
  "$(grep -c '^memledger: warning: secure-execution mode (set-uid, set-gid or capabilities): the MEMLEDGER_\* variables are ignored; options come from /.* only$' "$d/setuid.err") $(grep -c . "$d/setuid.err")"
tap_eq "set-uid: no summary line (no exit dump)" 0 "$(grep -c 'unfreed blocks' "$d/setuid.err")"
# without any MEMLEDGER_* variable: silent
(cd "$d/cwd" && $ML_TIMEOUT "$d/prog_setuid") >"$d/quiet.out" 2>"$d/quiet.err"
tap_eq "set-uid without MEMLEDGER_* variables: exit 0, nothing on stderr, no dump" \
  "0||" "$?|$(cat "$d/quiet.err")|$(all_dumps)"
# memledger dump reads the process as the library does: secure, so the
# environment's MEMLEDGER_SIGNAL does not count and tracking is off
mkfifo "$d/ctl" || bail "mkfifo failed"
(cd "$d/cwd" && exec env MEMLEDGER_SIGNAL=USR1 MEMLEDGER_DIR="$d/dumps" "$d/prog_setuid" wait) \
  <"$d/ctl" >"$d/wait.out" 2>"$d/wait.err" &
pid=$!
exec 3>"$d/ctl"
wait_for 30 grep -q '^ready$' "$d/wait.out"
"$ML_BUILDDIR/memledger" dump --timeout 2 "$pid" >/dev/null 2>"$d/dump.err"
drc=$?
kill -0 "$pid" 2>/dev/null && alive=alive || alive=dead
exec 3>&-
wait_pid "$pid" >/dev/null
tap_eq "memledger dump on it: exit 1, 'tracking off (secure-execution mode ...)', nothing sent, no dump" \
  "1 1 alive|" \
  "$drc $(grep -c 'has tracking off (secure-execution mode and no dir in the configuration file)' "$d/dump.err") $alive|$(all_dumps)"
exit 0

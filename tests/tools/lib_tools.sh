# SPDX-License-Identifier: MIT
# tests/tools/lib_tools.sh - shared helpers of the memledger command's tests.
# Sourced by tests/tools/*.sh after tests/integration/lib.sh (TAP, temporary
# directory, ml_run, dump readers).  Sets ML (the command) and DATA
# (tests/data in the source tree).
. "$(dirname "$0")/../integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
ML=$ML_BUILDDIR/memledger
DATA=$ML_SRCDIR/tests/data
TT_BIN=$ML_BUILDDIR/tests/tools
need_file "$ML"
# No network symbol server, whatever the caller's environment says.
unset DEBUGINFOD_URLS MEMLEDGER_LIB
export MEMLEDGER_LIB=$ML_LIB

# same_output DESCRIPTION EXPECTED_FILE ACTUAL_FILE
same_output() {
  if cmp -s "$2" "$3"; then
    tap_ok "$1"
  else
    tap_fail "$1" "$(diff -u "$2" "$3" | head -n 40)"
  fi
}

# check_expected NAME ARGS...: memledger ARGS > $T_TMP/NAME, exit 0, the
# same bytes as $DATA/NAME.expected (one TAP line).
check_expected() {
  local name=$1
  shift
  "$ML" "$@" >"$T_TMP/$name" 2>"$T_TMP/$name.err"
  local rc=$?
  if [ $rc -ne 0 ]; then
    tap_fail "$name: memledger $* exits 0" "exit status $rc" "$(cat "$T_TMP/$name.err")"
    return
  fi
  same_output "$name: memledger $*" "$DATA/$name.expected" "$T_TMP/$name"
}

# synthetic_dump OUT NSTACKS NBLOCKS NADDRS [ELF...]: tests/tools/gen_dump.py
# with addresses in the command, each ELF and libc; bails out when it fails.
# pre: python3 (callers skip without it, before their plan).
synthetic_dump() {
  local out=$1 nstacks=$2 nblocks=$3 naddrs=$4 libc
  shift 4
  libc=$(ldd "$ML" | awk '/libc\.so/ { print $3 }')
  need_file "$libc"
  python3 "$ML_SRCDIR/tests/tools/gen_dump.py" "$out" "$nstacks" "$nblocks" "$naddrs" \
    "$(readlink -f "$ML")" "$@" "$libc" || bail "gen_dump.py failed"
}

# dump_of NAME PROG [ARGS...]: run PROG under the library with dumps into a
# fresh directory NAME; prints the path of its one dump, fails when none.
dump_of() {
  local d
  d=$(fresh_dir "$1") || return 1
  shift
  ml_run "$d" "$@" >/dev/null 2>&1
  only_dump "$d"
}

# child_of PID: the pids of PID's children (through /proc: no pgrep)
child_of() {
  local s
  for s in /proc/[0-9]*/status; do
    grep -q "^PPid:[[:space:]]*$1\$" "$s" 2>/dev/null && { s=${s#/proc/}; echo "${s%/status}"; }
  done
}

# run_program PID: the program of the `memledger run` process PID, once it
# has started (up to 10 s); fails when there is none.
run_program() {
  local c
  for _ in $(seq 100); do
    c=$(child_of "$1")
    [ -n "$c" ] && { echo "$c"; return 0; }
    sleep 0.1
  done
  return 1
}

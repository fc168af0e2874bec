# SPDX-License-Identifier: MIT
# tests/invisible/lib_invisible.sh - helpers of the tests/invisible/ scripts,
# sourced after tests/integration/lib.sh (TAP, temporary directory, dump
# readers).  Every run is bounded by timeout(1); programs run with the
# preload (inv_run) and, where that makes the expectation exact, without it
# (base_run) as the reference.
INV_BIN=$ML_BUILDDIR/tests/invisible

# skip_all REASON: the whole script is skipped (TAP "1..0 # SKIP").
skip_all() {
  echo "1..0 # SKIP $*"
  exit 0
}
# need_cmd CMD...: skip the script when a command is missing.
need_cmd() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_all "$c is not installed"; done
}
need_cmd timeout

# inv_run DIR SECONDS COMMAND...: COMMAND with the preload, dumps into DIR,
# killed after SECONDS (status 124, or 137 when it ignores SIGTERM).
inv_run() {
  local dir=$1 t=$2
  shift 2
  timeout -k 5 "$t" env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$dir" "$@"
}
# base_run SECONDS COMMAND...: the same without the preload.
base_run() {
  local t=$1
  shift
  timeout -k 5 "$t" "$@"
}

# only_std_fds COMMAND...: exec COMMAND with every descriptor above 2 closed
# (whatever make or the test driver left open), in a subshell.
only_std_fds() {
  (
    for f in /proc/self/fd/*; do
      n=${f##*/}
      [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"
    done
    exec "$@"
  )
}

# inv_run_clean DIR SECONDS COMMAND...: inv_run with only descriptors 0-2
# open, so that the library's own descriptors (if any) get the numbers a
# program started from a shell expects to be free.
inv_run_clean() {
  local dir=$1 t=$2
  shift 2
  only_std_fds timeout -k 5 "$t" env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$dir" "$@"
}

# dumps_with_trigger DIR TRIGGER: number of dump files in DIR whose header
# says "trigger: TRIGGER".
dumps_with_trigger() {
  local n=0 f
  for f in "$1"/memledger.*.dump; do
    [ -f "$f" ] && grep -q "^trigger: $2\$" "$f" && n=$((n + 1))
  done
  echo $n
}

# SPDX-License-Identifier: MIT
# tests/integration/lib.sh - shared helpers of the process-level tests.
# Sourced (not run) by every tests/integration/*.sh script.  Provides TAP
# output, a private temporary directory removed at exit, runs under the
# preload, and readers of dumps (through the memledger command).
#
# Environment (exported by AM_TESTS_ENVIRONMENT; defaults for a run by hand
# from the build directory): ML_LIB, ML_BUILDDIR, ML_SRCDIR.
set -u

: "${ML_BUILDDIR:=$(pwd)}"
: "${ML_LIB:=$ML_BUILDDIR/.libs/libmemledger.so}"
: "${ML_SRCDIR:=$ML_BUILDDIR}"
IT_BIN=$ML_BUILDDIR/tests/integration

# Nothing from the caller's environment may change what memledger does.
for v in $(env | sed -n 's/^\(MEMLEDGER_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD
export LC_ALL=C

# ---- TAP ------------------------------------------------------------------
T_NUM=0
T_FAILED=0

tap_plan() { echo "1..$1"; }

# tap_ok DESCRIPTION / tap_fail DESCRIPTION [DIAGNOSTIC...]
tap_ok() {
  T_NUM=$((T_NUM + 1))
  echo "ok $T_NUM - $1"
}
tap_fail() {
  T_NUM=$((T_NUM + 1))
  T_FAILED=$((T_FAILED + 1))
  echo "not ok $T_NUM - $1"
  shift
  local d
  for d in "$@"; do printf '%s\n' "$d" | sed 's/^/# /'; done
}
tap_skip() {
  T_NUM=$((T_NUM + 1))
  echo "ok $T_NUM # SKIP $1"
}
# tap_diag TEXT...: diagnostics (each line prefixed by "# ")
tap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# tap_diag_file FILE [MAXLINES]
tap_diag_file() {
  [ -f "$1" ] || { echo "# ($1: no such file)"; return; }
  head -n "${2:-40}" "$1" | sed 's/^/# /'
}

# tap_check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
tap_check() {
  local desc=$1
  shift
  if "$@"; then tap_ok "$desc"; else tap_fail "$desc" "command failed: $*"; fi
}

# tap_eq DESCRIPTION EXPECTED ACTUAL
tap_eq() {
  if [ "$2" = "$3" ]; then
    tap_ok "$1"
  else
    tap_fail "$1" "expected: $2" "actual:   $3"
  fi
}

bail() {
  echo "Bail out! $*"
  exit 1
}

# ---- temporary directory --------------------------------------------------
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ml-it.XXXXXXXX") || bail "mktemp failed"
t_cleanup() {
  local pids
  pids=$(jobs -p)
  [ -n "$pids" ] && kill $pids 2>/dev/null
  rm -rf "$T_TMP"
}
trap t_cleanup EXIT

# fresh_dir NAME: a new empty directory under the private temp dir.
fresh_dir() {
  local d=$T_TMP/$1
  rm -rf "$d" && mkdir -p "$d" && printf '%s\n' "$d"
}

# ---- programs ---------------------------------------------------------------
# need_file PATH...: bail out when a setup file is missing.
need_file() {
  local f
  for f in "$@"; do [ -e "$f" ] || bail "missing $f (build with make check)"; done
}
need_file "$ML_LIB"

# A run that hangs is killed (then fails its checks) instead of hanging the
# suite.
ML_TIMEOUT=
command -v timeout >/dev/null && ML_TIMEOUT="timeout -k 5 120"

# ml_run DIR COMMAND...: run COMMAND with the preload, dumps into DIR.
# Extra MEMLEDGER_* settings go in the environment of the call, e.g.
#   MEMLEDGER_MIN_SIZE=0 ml_run "$d" prog
ml_run() {
  local dir=$1
  shift
  $ML_TIMEOUT env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$dir" "$@"
}

# ml_bg DIR IN OUT ERR COMMAND...: start COMMAND in the background with the
# preload, its standard streams redirected from/to the given files (a FIFO as
# IN is opened by the child, so this does not block); sets BG_PID to the pid
# of COMMAND itself (env execs it).
ml_bg() {
  local dir=$1 in=$2 out=$3 err=$4
  shift 4
  env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$dir" "$@" <"$in" >"$out" 2>"$err" &
  BG_PID=$!
}

# wait_pid PID [SECONDS]: wait for a background child (default 120 s), kill it
# (SIGKILL) when it takes longer; returns its status.
wait_pid() {
  local pid=$1 limit=$((${2:-120} * 20)) i=0 st
  while [ $i -lt $limit ]; do
    st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$pid/stat" 2>/dev/null)
    [ -z "$st" ] || [ "$st" = Z ] && break
    sleep 0.05
    i=$((i + 1))
  done
  [ $i -ge $limit ] && kill -KILL "$pid" 2>/dev/null
  wait "$pid"
}

# wait_for SECONDS COMMAND...: poll (every 10 ms) until COMMAND succeeds;
# fails after SECONDS.
wait_for() {
  local limit=$(($1 * 100)) i=0
  shift
  while ! "$@"; do
    i=$((i + 1))
    [ $i -ge $limit ] && return 1
    sleep 0.01
  done
  return 0
}

# ---- dumps --------------------------------------------------------------------
# dumps_in DIR [PID]: the dump files of DIR (of PID only when given), sorted
# by pid then sequence number, one per line.
dumps_in() {
  local pat="memledger.${2:-*}.*.dump"
  (cd "$1" && ls -1 $pat 2>/dev/null) | sort -t. -k2,2n -k3,3n | sed "s|^|$1/|"
}
count_dumps() { dumps_in "$@" | grep -c . ; }

# the one dump of DIR, or nothing when there are none or several
only_dump() {
  local l
  l=$(dumps_in "$@")
  [ "$(printf '%s' "$l" | grep -c .)" = 1 ] && printf '%s\n' "$l"
}

# The readers below ask the command (`memledger report --format json`,
# through dump_json.py), not the dump format: the format is read in one
# place, tools/report_read.c.  A dump the command refuses gives nothing (and
# fails dump_complete/dump_consistent).
ML_MEMLEDGER=$ML_BUILDDIR/memledger
ML_DUMP_JSON_CACHE=$T_TMP/.dump-json
export ML_MEMLEDGER ML_DUMP_JSON_CACHE
need_file "$ML_MEMLEDGER"
DUMP_JSON="python3 $ML_SRCDIR/tests/integration/dump_json.py"

# dump_complete FILE: the command reads FILE as a whole dump (version line,
# every section, [end]).
dump_complete() {
  [ -f "$1" ] && "$ML_MEMLEDGER" report --quiet --format json "$1" >/dev/null 2>&1
}

# dump_unfreed FILE: "<blocks> <bytes>" of its unfreed line
dump_unfreed() { $DUMP_JSON unfreed "$1"; }

# dump_header FILE KEY: the value of "KEY: value" in [header] or [totals].
# The keys of the JSON's "dump" object (pid, ppid, exe, cmdline, time,
# trigger, sequence, threshold, unwind) come from the command; the command
# shows no other header or totals value in a form a test can read (the text
# report words some of them, JSON has none), so the others (max_frames,
# signal, unix_time_ns, dropped_records, alloc_failures, tracked_*, ...)
# are read from the file's own "KEY: value" lines.
dump_header() {
  local v rc
  v=$($DUMP_JSON header "$1" "$2")
  rc=$?
  if [ $rc = 3 ]; then
    awk -v k="$2:" '/^\[(resources|modules)\]$/ { exit } $1 == k { sub(/^[^:]*: /, ""); print; exit }' "$1"
  elif [ $rc = 0 ]; then
    printf '%s\n' "$v"
  fi
}

# dump_section_raw FILE NAME: the lines of section [NAME].  For unfreed,
# from the command: a line per stack and leak kind, "id blocks bytes usable
# min max oldest kind" (kind "-" when the dump has no leak scan).  The
# command shows no module table ([modules], [unloaded]: address ranges,
# load bias and build ids), which tests of the library check, so those
# sections are read from the file.  The resource sections are not: the
# command reads them (dump_json.py fds|threads|mappings).
dump_section_raw() {
  case $2 in
    fds | threads | mappings)
      echo "dump_section_raw: read [$2] through the command: $DUMP_JSON $2 FILE" >&2
      return 2
      ;;
  esac
  if [ "$2" = unfreed ]; then
    $DUMP_JSON stacks-kinds "$1"
  else
    awk -v s="[$2]" '$0 == s { on = 1; next } /^\[[a-z_]+\]$/ { on = 0 } on' "$1"
  fi
}
# dump_section FILE NAME: the same, but unfreed merged per stack in the
# shape of format 1 (7 numbers: "id blocks bytes usable min max oldest"),
# stacks in id order
dump_section() {
  if [ "$2" = unfreed ]; then
    $DUMP_JSON stacks "$1"
  else
    dump_section_raw "$@"
  fi
}

# dump_consistent FILE: the command reads it (complete; its stacks are well
# formed, listed and add up to the unfreed line), and each stack and leak
# kind is listed once with min <= max, blocks*min <= bytes <= blocks*max,
# usable >= bytes.  Prints the reason when not.
dump_consistent() { $DUMP_JSON consistent "$1"; }

# unfreed_by_size FILE SIZE: the unfreed lines (dump_section) whose min and
# max are SIZE
unfreed_by_size() {
  dump_section "$1" unfreed | awk -v s="$2" '$5 == s && $6 == s'
}
# unfreed_stacks FILE: number of stacks with unfreed blocks
unfreed_stacks() { dump_section "$1" unfreed | grep -c . ; }

# module_range FILE PATH_SUFFIX: "lo hi buildid" of the first [modules] line
# whose path ends with PATH_SUFFIX (from the file: see dump_section_raw)
module_range() {
  dump_section "$1" modules | awk -v s="$2" '
    { p = $5; for (i = 6; i <= NF; i++) p = p " " $i }
    length(p) >= length(s) && substr(p, length(p) - length(s) + 1) == s {
      print $1, $2, $4; exit
    }'
}

# stack_frames FILE ID: the frames (return addresses, hex) of stack ID, but
# memledger's own (the command drops them, e.g. the library's dlopen hook)
stack_frames() { $DUMP_JSON frames "$1" "$2"; }

# stack_in_range FILE ID LO HI: some frame of stack ID lies in [LO, HI) (hex)
stack_in_range() {
  local fr lo=$((16#$3)) hi=$((16#$4))
  for fr in $(stack_frames "$1" "$2"); do
    fr=$((16#$fr))
    [ "$fr" -ge "$lo" ] && [ "$fr" -lt "$hi" ] && return 0
  done
  return 1
}

# unfreed_in_module FILE MODULE_SUFFIX: the unfreed lines (dump_section) whose
# stack has a frame inside the module
unfreed_in_module() { $DUMP_JSON in-module "$1" "$2"; }

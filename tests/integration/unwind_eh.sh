#!/bin/bash
# SPDX-License-Identifier: MIT
# unwind_eh.sh - the default stack capture (eh, memledger's .eh_frame
# unwinder) under the preload.  It never takes the loader's lock on an
# allocation path (prog_dliter: allocations inside a dl_iterate_phdr
# callback while another thread allocates finish; with libunwind as the
# unwinder they deadlock), it opens no descriptor (the program's first open
# returns 3, no pipe after many tracked allocations), libunwind never enters
# the global scope (a C program that loads C++ support gets libgcc_s's
# _Unwind_RaiseException, with the default and with MEMLEDGER_UNWIND=
# libunwind, which loads it privately), libmemledger has no DT_NEEDED on
# libunwind, and MEMLEDGER_UNWIND_CHECK=1 (every stack compared with
# libunwind's) finds no mismatch in prog_ehdiff (-O2 -fomit-frame-pointer:
# signals, longjmp, exceptions, threads, a plugin) nor in python3, sqlite3,
# perl and git (skipped when not installed).
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

tap_plan 18

need_file "$IT_BIN/prog_dliter" "$IT_BIN/prog_unwind_scope" "$IT_BIN/prog_ehdiff"
PLUGIN=$ML_BUILDDIR/tests/unit/.libs/ehframe_plugin.so
d=$(fresh_dir eh)

# ---- the loader's lock --------------------------------------------------------
# Three runs each: with libunwind as the unwinder, most runs hang.
for mode in auto eh; do
  res=
  for run in 1 2 3; do
    out=$(MEMLEDGER_UNWIND=$mode MEMLEDGER_DUMP_AT_EXIT=0 timeout 20 env LD_PRELOAD="$ML_LIB" \
      "$IT_BIN/prog_dliter" 2>"$d/dliter.err")
    res="$res $?|$out"
  done
  tap_eq "unwind=$mode: allocations inside dl_iterate_phdr beside an allocating thread finish" \
    " 0|done 1 0|done 1 0|done 1" "$res"
done

# ---- no descriptor, libunwind out of the global scope ----------------------------
if readelf -d "$ML_LIB" | grep -q 'NEEDED.*libunwind'; then
  tap_fail "libmemledger.so has no DT_NEEDED on libunwind" "$(readelf -d "$ML_LIB" | grep NEEDED)"
else
  tap_ok "libmemledger.so has no DT_NEEDED on libunwind"
fi
WRAPLIB=$(dirname "$ML_LIB")/libmemledger-wrap.so
if [ -f "$WRAPLIB" ] && readelf -d "$WRAPLIB" | grep -q 'NEEDED.*libunwind'; then
  tap_fail "libmemledger-wrap.so has no DT_NEEDED on libunwind"
else
  tap_ok "libmemledger-wrap.so has no DT_NEEDED on libunwind"
fi

CXXSUP=libstdc++.so.6
for mode in default libunwind; do
  set -- env
  [ $mode = libunwind ] && set -- env MEMLEDGER_UNWIND=libunwind
  out=$(MEMLEDGER_DUMP_AT_EXIT=0 ml_run "$d" "$@" "$IT_BIN/prog_unwind_scope" $CXXSUP 2>"$d/scope.err")
  rc=$?
  tap_eq "unwind=$mode: _Unwind_RaiseException after dlopen($CXXSUP) is libgcc_s's" \
    "0|_Unwind_RaiseException: libgcc_s.so.1" "$rc|$(printf '%s\n' "$out" | grep '^_Unwind')"
done

# Descriptors: the program starts with 0, 1 and 2 only (the others this
# shell holds are closed), its output goes to a file.  MEMLEDGER_SIGNAL=0:
# the dump trigger's own pipe (dumper.c, being replaced) is not the
# unwinder's business; libunwind's pipe appeared at its first walk.
fds_run() {
  (
    for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
    exec "$@" >"$d/fds.out" 2>/dev/null </dev/null
  )
  grep -E '^(first fd|pipes)' "$d/fds.out" | paste -sd'|'
}
plain=$(fds_run "$IT_BIN/prog_unwind_scope")
tap_eq "without the preload: the first open() returns 3, no pipe" "first fd: 3|pipes: 0" "$plain"
tap_eq "unwind=default: the first open() returns 3 and no pipe is open after 1000 tracked allocations" \
  "first fd: 3|pipes: 0" \
  "$(fds_run env LD_PRELOAD="$ML_LIB" MEMLEDGER_DUMP_AT_EXIT=0 MEMLEDGER_SIGNAL=0 \
    "$IT_BIN/prog_unwind_scope")"
out=$(MEMLEDGER_DUMP_AT_EXIT=0 ml_run "$d" "$IT_BIN/prog_unwind_scope" libgcc_s.so.1 2>/dev/null)
tap_eq "unwind=default: _Unwind_RaiseException after dlopen(libgcc_s.so.1) is libgcc_s's" \
  "_Unwind_RaiseException: libgcc_s.so.1" "$(printf '%s\n' "$out" | grep '^_Unwind')"

# ---- the fp walk: %rbp = -8 made it read address -8 ------------------------------
if command -v as >/dev/null 2>&1; then
  printf '.text\n.globl f\nf: ret\n' >"$d/a.s"
  MEMLEDGER_UNWIND=fp MEMLEDGER_DUMP_AT_EXIT=0 ml_run "$d" as -o "$d/a.o" "$d/a.s" >"$d/as.out" 2>&1
  tap_eq "unwind=fp: as (built without frame pointers) runs" "0" "$?"
else
  tap_skip "as not installed"
fi

# ---- eh against libunwind -------------------------------------------------------------
# check_out NAME FILE [CACHED]: every "unwind check" line of FILE (one per
# process) reports 0 mismatches, at least one stack was compared, and no
# stack from the per-thread capture cache differed from a fresh walk (with
# CACHED, at least one was compared: the program repeats its stacks).
check_out() {
  local name=$1 f=$2 want_cached=${3:-} lines compared bad frames cached differ
  lines=$(grep 'unwind check: [0-9]* stacks compared' "$f")
  sum() { printf '%s\n' "$lines" | sed -n "s/$1/\1/p" | awk '{s += $1} END {print s + 0}'; }
  compared=$(sum '.*unwind check: \([0-9]*\) stacks.*')
  bad=$(sum '.*, \([0-9]*\) mismatches.*')
  frames=$(sum '.*(\([0-9]*\) frames agreed.*')
  cached=$(sum '.*; \([0-9]*\) cached stacks compared.*')
  differ=$(sum '.*fresh walk, \([0-9]*\) differed.*')
  if [ -n "$lines" ] && [ "$bad" = 0 ] && [ "$compared" -gt 0 ] && [ "$differ" = 0 ] &&
    { [ -z "$want_cached" ] || [ "$cached" -gt 0 ]; }; then
    tap_ok "$name: eh and libunwind agree on all $compared stacks compared ($frames frames); $cached cached stacks equal a fresh walk"
  else
    tap_fail "$name: eh and libunwind agree (compared: $compared, mismatches: $bad; cached: $cached, differed: $differ)" \
      "$(grep memledger "$f" | head -20)"
  fi
}

[ -f "$PLUGIN" ] || PLUGIN=
out=$(MEMLEDGER_UNWIND_CHECK=1 MEMLEDGER_DUMP_AT_EXIT=0 ml_run "$d" "$IT_BIN/prog_ehdiff" \
  $PLUGIN 2>"$d/ehdiff.err")
tap_eq "prog_ehdiff runs under the check" "0|done" "$?|$out"
check_out prog_ehdiff "$d/ehdiff.err" cached

HOME=$T_TMP/home
mkdir -p "$HOME"
export HOME GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null PYTHONDONTWRITEBYTECODE=1
# real NAME PROGRAM CACHED COMMAND...: COMMAND under the check (CACHED: see
# check_out), standard input from
# $d/NAME.in when it exists.
real() {
  local name=$1 need=$2 cached=$3 in=/dev/null
  shift 3
  if ! command -v "$need" >/dev/null 2>&1; then
    tap_skip "$name: $need not installed"
    return
  fi
  [ -f "$d/$name.in" ] && in=$d/$name.in
  (cd "$d" && MEMLEDGER_UNWIND_CHECK=1 MEMLEDGER_DUMP_AT_EXIT=0 ml_run "$d" "$@") \
    <"$in" >"$d/$name.out" 2>"$d/$name.err"
  check_out "$name" "$d/$name.err" "$cached"
}
real python3 python3 cached "$(command -v python3)" -c '
import json, decimal, sqlite3, re, collections
d = {str(i): [i] * 300 for i in range(3000)}
s = json.dumps(d)
db = sqlite3.connect(":memory:")
db.execute("create table t(a, b)")
db.executemany("insert into t values (?, ?)", [(i, "x" * 2000) for i in range(500)])
print(len(s), db.execute("select count(*) from t").fetchone()[0], decimal.Decimal(1) / 7)
'
cat >"$d/sqlite3.in" <<'SQL'
create table t(a integer primary key, b text);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000)
insert into t select x, printf('%.3000c', 'y') from c;
create index ib on t(b);
select count(*), sum(length(b)) from t;
SQL
real sqlite3 sqlite3 cached sqlite3
real as as "" as -o "$d/a2.o" "$d/a.s"
real perl perl cached perl -e 'my %h; $h{$_} = "x" x (1000 + $_) for 1..3000; my @s = sort keys %h; print scalar(@s), "\n"'
git init -q "$d/repo" 2>/dev/null
for i in 1 2 3 4 5 6 7 8; do head -c 20000 /dev/urandom | base64 >"$d/repo/f$i"; done
real git git "" git -C "$d/repo" -c user.name=t -c user.email=t@t add -A
real git-commit git "" git -C "$d/repo" -c user.name=t -c user.email=t@t commit -q -m one

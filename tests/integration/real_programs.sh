#!/bin/bash
# SPDX-License-Identifier: MIT
# real_programs.sh - real programs under the preload (python3, perl, bash,
# sqlite3, git, gcc, cmake -P, jq, xz and zstd with threads): same standard
# output and exit status as without it, the same standard error too with
# MEMLEDGER_QUIET=1, and readable dumps.  A program that is not installed is
# skipped.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

tap_plan 30

HOME=$T_TMP/home
mkdir -p "$HOME"
export HOME GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_DATE='2020-01-02T03:04:05Z' GIT_COMMITTER_DATE='2020-01-02T03:04:05Z'
export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
TIMEOUT=
command -v timeout >/dev/null && TIMEOUT="timeout 120"

# run_case NAME PROGRAM COMMAND...: three checks.  COMMAND runs in a work
# directory that is emptied before each run; standard input from $NAME.in
# when it exists.
run_case() {
  local name=$1 need=$2 d w i
  shift 2
  if ! command -v "$need" >/dev/null 2>&1; then
    for i in 1 2 3; do tap_skip "$name: $need not installed"; done
    return
  fi
  d=$(fresh_dir "$name")
  w=$T_TMP/work-$name
  local in=/dev/null
  [ -f "$T_TMP/$name.in" ] && in=$T_TMP/$name.in

  rm -rf "$w" && mkdir -p "$w"
  (cd "$w" && $TIMEOUT "$@") <"$in" >"$d/plain.out" 2>"$d/plain.err"
  echo $? >"$d/plain.rc"
  rm -rf "$w" && mkdir -p "$w"
  (cd "$w" && $TIMEOUT env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d" "$@") <"$in" >"$d/ml.out" 2>"$d/ml.err"
  echo $? >"$d/ml.rc"
  rm -rf "$w" && mkdir -p "$w"
  (cd "$w" && $TIMEOUT env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d" MEMLEDGER_QUIET=1 "$@") <"$in" \
    >"$d/q.out" 2>"$d/q.err"
  echo $? >"$d/q.rc"

  if [ -s "$d/plain.out" ] && cmp -s "$d/plain.out" "$d/ml.out" && cmp -s "$d/plain.rc" "$d/ml.rc"; then
    tap_ok "$name: same stdout and exit status ($(cat "$d/plain.rc")) with the preload"
  else
    tap_fail "$name: same stdout and exit status with the preload" \
      "status $(cat "$d/plain.rc") vs $(cat "$d/ml.rc")" "$(diff "$d/plain.out" "$d/ml.out" | head -20)" \
      "stderr: $(head -5 "$d/ml.err")"
  fi
  if cmp -s "$d/plain.out" "$d/q.out" && cmp -s "$d/plain.err" "$d/q.err" && cmp -s "$d/plain.rc" "$d/q.rc"; then
    tap_ok "$name: with MEMLEDGER_QUIET=1 stdout, stderr and status are all the same"
  else
    tap_fail "$name: with MEMLEDGER_QUIET=1 stdout, stderr and status are all the same" \
      "$(diff "$d/plain.err" "$d/q.err" | head -20)" "$(diff "$d/plain.out" "$d/q.out" | head -10)"
  fi
  local n=0 bad=
  for f in $(dumps_in "$d"); do
    n=$((n + 1))
    dump_consistent "$f" >/dev/null || bad="$bad $f"
  done
  if [ $n -ge 2 ] && [ -z "$bad" ]; then
    tap_ok "$name: each run wrote readable dumps ($n, all complete and consistent)"
  else
    tap_fail "$name: each run wrote readable dumps" "dumps: $n, bad: ${bad:-none}"
  fi
}

# ---- python3 ------------------------------------------------------------------
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
cat >"$T_TMP/py.py" <<'EOF'
import sys
d = {}
for i in range(50000):
    d["key%d" % i] = [i, str(i) * 3, {"n": i}]
big = ["x" * (i % 5000) for i in range(3000)]
s = "".join(str(i) for i in range(100000))
t = sorted(d.keys())[:3]
blob = bytearray(2 << 20)
del d["key7"]
print(len(d), sum(len(x) for x in big), len(s), t, len(blob))
print(sum(v[0] for v in d.values()), s[1000:1010])
sys.exit(0)
EOF
run_case python3 "$PY" "$PY" "$T_TMP/py.py"

# ---- perl -------------------------------------------------------------------------
run_case perl perl perl -e '
  my %h; for my $i (1..50000) { $h{"k$i"} = "v" x ($i % 3000) }
  my $n = 0; $n += length($h{$_}) for keys %h;
  my @big = map { "y" x 5000 } 1..200;
  delete $h{"k$_"} for 1..1000;
  print scalar(keys %h), " $n ", scalar(@big), "\n";
  print join(",", (sort keys %h)[0..4]), "\n"; exit 0'

# ---- bash -------------------------------------------------------------------------------
run_case bash bash bash -c '
  s=""; declare -A m
  for i in $(seq 1 3000); do s="$s$i,"; m[k$i]=${s:0:$((i % 200))}; done
  a=(); for i in $(seq 1 500); do a+=("${s:i:1500}"); done
  u=${s^^}; r=${s//,/;}
  echo "${#s} ${#m[@]} ${#a[@]} ${#u} ${r:0:20}"
  exit 3'

# ---- sqlite3 ----------------------------------------------------------------------------------
cat >"$T_TMP/sqlite3.in" <<'EOF'
create table t(a integer primary key, b text, c real);
with recursive r(i) as (select 1 union all select i + 1 from r where i < 1000)
  insert into t select i, printf('row-%04d-%s', i, substr('abcdefghij', 1 + i % 10)), i * 1.5 from r;
create index tb on t(b);
select count(*), sum(a), sum(length(b)), sum(c) from t;
select b from t order by a desc limit 3;
select count(*), min(b), max(b) from t where b like 'row-09%';
select group_concat(a, ' ') from (select a from t where a % 97 = 0);
EOF
run_case sqlite3 sqlite3 sqlite3 :memory:

# ---- git ------------------------------------------------------------------------------------
run_case git git bash -c '
  set -e
  G="git -c init.defaultBranch=main -c user.name=Tester -c user.email=tester@example.com"
  $G init -q repo && cd repo
  for i in $(seq 1 30); do seq 1 $((i * 50)) >"f$i.txt"; done
  $G add . && $G commit -q -m "first commit"
  seq 1 1000 >>f1.txt && $G commit -q -a -m "second commit"
  $G log --format="%H %an %s"
  $G rev-list --count HEAD
  $G diff --stat HEAD~1 HEAD'

# ---- gcc: compile, link and run a file ---------------------------------------------
cat >"$T_TMP/gcc.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  char *p = malloc(100000);
  memset(p, 'z', 99999);
  p[99999] = 0;
  printf("%zu\n", strlen(p));
  free(p);
  return 0;
}
EOF
run_case gcc gcc bash -c "gcc -O2 -Wall -o prog '$T_TMP/gcc.c' && ./prog && gcc -O0 -S -o - '$T_TMP/gcc.c' | grep -c call"

# ---- cmake in script mode -------------------------------------------------------------
cat >"$T_TMP/cmake.cmake" <<'EOF'
set(acc "")
foreach(i RANGE 1 2000)
  string(APPEND acc "item${i};")
endforeach()
list(LENGTH acc n)
list(REVERSE acc)
list(GET acc 1 second)
string(LENGTH "${acc}" len)
message(STATUS "items=${n} second=${second} length=${len}")
EOF
run_case cmake cmake cmake -P "$T_TMP/cmake.cmake"

# ---- jq ---------------------------------------------------------------------------------
run_case jq jq bash -c "seq 1 20000 | jq -s -c '[.[] | {n: ., s: (tostring * 3)}] | map(select(.n % 7 == 0)) | {count: length, last: .[-1], total: (map(.n) | add)}'"

# ---- xz and zstd, several threads ---------------------------------------------------------
run_case xz xz bash -c "seq 1 400000 | xz -T2 -6 | xz -d | sha256sum"
run_case zstd zstd bash -c "seq 1 400000 | zstd -q -T2 -9 | zstd -q -d | sha256sum"
exit 0

# SPDX-License-Identifier: MIT
# tests/integration/wrap_common.sh - helpers shared by wrap_*.sh and
# shadow_*.sh, sourced after lib.sh: symbolized stacks of a dump (through
# wrap_symbolize.py, i.e. python3 and addr2line).

WRAP_SYM=$ML_SRCDIR/tests/integration/wrap_symbolize.py
need_file "$WRAP_SYM"
HAVE_SYM=1
command -v python3 >/dev/null && command -v addr2line >/dev/null || HAVE_SYM=0

# sym_names FILE STACK_ID|size=N: the function names of that stack,
# innermost first, inlined functions expanded, space-separated.
sym_names() {
  python3 "$WRAP_SYM" "$1" "$2" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}
# sym_frames FILE STACK_ID|size=N: one line per frame, "f1 < f2" when f1 was
# inlined into f2, then a tab and the module name.
sym_frames() { python3 "$WRAP_SYM" -f "$1" "$2" 2>/dev/null; }
# sym_first N FILE KEY: the first N names
sym_first() {
  local n=$1
  shift
  sym_names "$@" | tr ' ' '\n' | head -n "$n" | tr '\n' ' ' | sed 's/ $//'
}
# stack_len FILE KEY: number of frames (not names) of that stack
stack_len() { sym_frames "$1" "$2" | grep -c . ; }

# tap_sym DESCRIPTION EXPECTED FILE KEY [N]: the stack's names (or its first
# N names) are EXPECTED; skipped when python3/addr2line are missing.
tap_sym() {
  local desc=$1 want=$2 f=$3 key=$4 got
  if [ "$HAVE_SYM" = 0 ]; then tap_skip "$desc (no python3 or addr2line)"; return; fi
  if [ -n "${5:-}" ]; then got=$(sym_first "$5" "$f" "$key"); else got=$(sym_names "$f" "$key"); fi
  if [ "$got" = "$want" ]; then
    tap_ok "$desc"
  else
    tap_fail "$desc" "expected: $want" "actual:   $got" "$(sym_frames "$f" "$key")"
  fi
}

# dump_total FILE KEY: a [totals] value, or "missing"
dump_total() {
  local v
  v=$(dump_header "$1" "$2" 2>/dev/null)
  printf '%s\n' "${v:-missing}"
}

# sym_all FILE OUT: symbolize every [unfreed] line of FILE into OUT, one line
# per [unfreed] line: "<smallest size><TAB><names>" (wrap_symbolize.py -a)
sym_all() { python3 "$WRAP_SYM" -a "$1" >"$2" 2>/dev/null || : >"$2"; }
# names_of SYMS SIZE: the names of the blocks of SIZE in a sym_all output
names_of() { awk -F '\t' -v s="$2" '$1 == s { print $2; exit }' "$1"; }
# first_names N NAMES...: the first N words
first_names() {
  local n=$1
  shift
  printf '%s\n' "$*" | tr ' ' '\n' | head -n "$n" | tr '\n' ' ' | sed 's/ $//'
}

# tap_todo_eq DESCRIPTION REASON EXPECTED ACTUAL: a known limitation: "not ok
# ... # TODO REASON" while it holds (an expected failure), "ok ... # TODO"
# (an unexpected pass, which fails the test) once it is lifted.
tap_todo_eq() {
  T_NUM=$((T_NUM + 1))
  if [ "$3" = "$4" ]; then
    echo "ok $T_NUM - $1 # TODO $2"
  else
    echo "not ok $T_NUM - $1 # TODO $2"
    tap_diag "expected: $3" "actual:   $4"
  fi
}

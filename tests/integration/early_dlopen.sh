#!/bin/bash
# SPDX-License-Identifier: MIT
# early_dlopen.sh - allocations in the program's constructor and in a
# dlopen'ed module (constructor and function) are tracked with their stacks
# and the module is listed with its build id; dlclose leaves a readable dump;
# blocks freed by atexit handlers and destructors (the module's, at dlclose
# or at exit, and the program's) are not unfreed in the exit dump.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_early
PLUGIN=$IT_BIN/.libs/plugin_leak.so
need_file "$PROG" "$PLUGIN"

tap_plan 16

blocks_of() { unfreed_by_size "$1" "$2" 2>/dev/null | awk '{ s = s $2 " " } END { print s "" }'; }
# SIZE...: "<size>=<blocks>" for each size (0 when absent)
sizes() {
  local f=$1 s n out=
  shift
  for s in "$@"; do
    n=$(unfreed_by_size "$f" "$s" 2>/dev/null | awk '{ n += $2 } END { print n + 0 }')
    out="$out$s=$n "
  done
  printf '%s\n' "${out% }"
}
# stack_of FILE SIZE: the stack id of the [unfreed] line of blocks of SIZE
stack_of() { unfreed_by_size "$1" "$2" 2>/dev/null | awk '{ print $1; exit }'; }
# in_module FILE SIZE MODULE_SUFFIX: that stack has a frame in the module
in_module() {
  local r id
  r=$(module_range "$1" "$3") && [ -n "$r" ] || return 1
  id=$(stack_of "$1" "$2") && [ -n "$id" ] || return 1
  set -- "$1" $r
  stack_in_range "$1" "$id" "$2" "$3"
}

# ---- with dlclose -----------------------------------------------------------------
d=$(fresh_dir close)
ml_run "$d" "$PROG" "$PLUGIN" close >"$d/out" 2>"$d/err"
rc=$?
api=$(sed -n 's/^api-dump: //p' "$d/out")
tap_eq "prog_early runs normally (dlopen, plugin call, API dump, dlclose)" "0|closed|done" \
  "$rc|$(grep -x closed "$d/out")|$(grep -x done "$d/out")"
r=$(dump_consistent "$api" 2>&1) && [ "$(dump_header "$api" trigger)" = api ] &&
  tap_ok "the API dump (plugin loaded) is complete and consistent, trigger api" ||
  tap_fail "the API dump (plugin loaded) is complete and consistent, trigger api" "${r:-trigger?}" "$(cat "$d/out" "$d/err")"
set -- $(module_range "$api" /plugin_leak.so 2>/dev/null) - - -
tap_eq "[modules] lists plugin_leak.so with a build id" "yes" \
  "$(printf '%s' "$3" | grep -qE '^[0-9a-f]{16,}$' && echo yes || echo "no: $*")"
tap_eq "API dump: the blocks live then are tracked (3333 4444 5555 6666 7777 8888)" \
  "3333=1 4444=1 5555=1 6666=1 7777=1 8888=1" "$(sizes "$api" 3333 4444 5555 6666 7777 8888)"
tap_check "the plugin's constructor leak (4444) has a stack inside the plugin" in_module "$api" 4444 /plugin_leak.so
tap_check "the plugin function's leak (5555) has a stack inside the plugin" in_module "$api" 5555 /plugin_leak.so
tap_check "the program constructor's leak (3333) has a stack inside prog_early" in_module "$api" 3333 /prog_early

exitd=$(dumps_in "$d" | tail -n1)
r=$(dump_consistent "$exitd" 2>&1) && [ "$(dump_header "$exitd" trigger)" = exit ] &&
  tap_ok "after dlclose the exit dump is complete and consistent" ||
  tap_fail "after dlclose the exit dump is complete and consistent" "${r:-trigger?}"
tap_eq "exit dump: the three leaks, nothing freed by the plugin's destructor, atexit or destructors" \
  "3333=1 4444=1 5555=1 6666=0 7777=0 8888=0 9999=0 19999=0" \
  "$(sizes "$exitd" 3333 4444 5555 6666 7777 8888 9999 19999)"
tap_eq "the dumps are the API one and the exit one" 2 "$(count_dumps "$d")"

# ---- without dlclose: the module's destructor runs at exit, before the dump -----------------
d=$(fresh_dir noclose)
ml_run "$d" "$PROG" "$PLUGIN" noclose >"$d/out" 2>"$d/err"
rc=$?
exitd=$(dumps_in "$d" | tail -n1)
tap_eq "without dlclose: runs normally" "0|done" "$rc|$(grep -x done "$d/out")"
r=$(dump_consistent "$exitd" 2>&1) && tap_ok "without dlclose: exit dump complete and consistent" ||
  tap_fail "without dlclose: exit dump complete and consistent" "$r"
tap_eq "without dlclose: the plugin's destructor (6666), atexit (7777) and the program's destructor (8888) ran before the exit dump" \
  "3333=1 4444=1 5555=1 6666=0 7777=0 8888=0 9999=0 19999=0" \
  "$(sizes "$exitd" 3333 4444 5555 6666 7777 8888 9999 19999)"
tap_check "without dlclose: the exit dump still places 5555 inside the plugin" in_module "$exitd" 5555 /plugin_leak.so
tap_eq "stderr: the summary line only" 1 "$(grep -c '' "$d/err")"

# ---- without the preload ---------------------------------------------------------
"$PROG" "$PLUGIN" close >"$d/plain.out" 2>&1
tap_eq "without the preload: runs, and says the API is not there" "0|api-dump: not loaded" \
  "$?|$(grep '^api-dump' "$d/plain.out")"
exit 0

# SPDX-License-Identifier: MIT
# tests/integration/lib_res.sh - readers of the resource sections ([threads],
# [mappings]) for res_threads.sh and res_maps.sh; sourced after lib.sh.
# The lines are read from the file (doc/dump-format.md: "<stack|-> <kind>
# <bytes> <id> <detail>"); a stack's frames are symbolized here with
# addr2line against the program's own module as [modules] places it, so
# that these tests do not depend on the command's support for the sections.

PROG=$IT_BIN/prog_res
need_file "$PROG"

# res_run NAME MODE [VAR=VALUE...]: prog_res MODE under the preload (with
# the variables given) in a fresh directory, with an 8 MiB RLIMIT_STACK
# (the default thread stack size); sets D (the directory), RC (the exit
# status) and DUMPS (the dumps it printed, in order); stdout in $D/out.
res_run() {
  local name=$1 mode=$2
  shift 2
  D=$(fresh_dir "$name")
  (ulimit -s 8192 && ml_run "$D" env "$@" "$PROG" "$mode") >"$D/out" 2>"$D/err"
  RC=$?
  mapfile -t DUMPS < <(sed -n 's/^dump //p' "$D/out")
}

# res_lines DUMP SECTION: the section's lines
res_lines() { [ -f "$1" ] && dump_section_raw "$1" "$2"; }

# res_stack_funcs DUMP ID PROG: the functions of PROG among stack ID's
# frames, innermost first, inlined ones included (frames in other objects
# are left out)
res_stack_funcs() {
  local dump=$1 id=$2 prog=$3 lo hi base
  read -r lo hi base < <(awk -v p="/$(basename "$prog")" '
    /^\[modules\]$/ { on = 1; next } /^\[/ { on = 0 }
    on && substr($5, length($5) - length(p) + 1) == p { print $1, $2, $3; exit }' "$dump")
  [ -n "$base" ] || return 0
  awk -v id="$id" '/^\[stacks\]$/ { on = 1; next } /^\[/ { on = 0 }
    on && $1 == id { for (i = 3; i <= NF; i++) print $i }' "$dump" |
    while read -r a; do
      if (( 0x$a >= 0x$lo && 0x$a < 0x$hi )); then printf '%x\n' $((0x$a - 0x$base - 1)); fi
    done | addr2line -f -i -p -e "$prog" | sed -E 's/^ \(inlined by\) //; s/ at .*//'
}

# res_unlisted_stacks DUMP SECTION: the stack ids of SECTION's lines that
# [stacks] does not list ("-" lines have none)
res_unlisted_stacks() {
  awk -v s="[$2]" '/^\[stacks\]$/ { st = 1; next } $0 == s { on = 1; next }
    /^\[/ { st = 0; on = 0 } st { have[$1] = 1 }
    on && $1 != "-" && !($1 in have) { print $1 }' "$1"
}

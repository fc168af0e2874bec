# SPDX-License-Identifier: MIT
# tests/integration/lib_res.sh - readers of the resource sections ([threads],
# [mappings]) for res_threads.sh and res_maps.sh; sourced after lib.sh.
# The lines are read from the file (doc/dump-format.md: "<stack|-> <kind>
# <bytes> <id> <detail>"); a stack's frames are symbolized here with
# addr2line against the program's own module as [modules] places it, so
# that these tests do not depend on the command's support for the sections.

# res_lines DUMP SECTION: the section's lines
res_lines() { [ -f "$1" ] && dump_section_raw "$1" "$2"; }

# res_stack_funcs DUMP ID PROG: the functions of PROG among stack ID's
# frames, innermost first (frames in other objects are left out)
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
    done | addr2line -f -e "$prog" | awk 'NR % 2 == 1'
}

# res_unlisted_stacks DUMP SECTION: the stack ids of SECTION's lines that
# [stacks] does not list ("-" lines have none)
res_unlisted_stacks() {
  awk -v s="[$2]" '/^\[stacks\]$/ { st = 1; next } $0 == s { on = 1; next }
    /^\[/ { st = 0; on = 0 } st { have[$1] = 1 }
    on && $1 != "-" && !($1 in have) { print $1 }' "$1"
}

#!/bin/bash
# SPDX-License-Identifier: MIT
# res_maps.sh - [mappings]: the program's own anonymous mappings with their
# creation stacks.  prog_res maps makes them in functions of their own:
# a whole one, one cut at the head, the tail and in the middle, a shared
# one, one unmapped, one grown by mremap (moved), one replaced in the
# middle by a MAP_FIXED mmap, one moved onto a reserved place by
# mremap(MREMAP_FIXED), a file mapping (not listed), and a large malloc
# (jemalloc's mapping: not listed, nor memledger's own).  prog_res fork: the
# child keeps the parent's mappings, not its threads.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$(dirname "$0")/lib_res.sh" || bail "cannot read lib_res.sh"

tap_plan 14

res_run maps maps
d=$D d1=${DUMPS[0]:-none}
tap_eq "the program runs and writes its dump" "0|1" "$RC|$([ -f "$d1" ] && echo 1)"

# expected "kind bytes address detail" of a name printed by the program
want() { awk -v n="$1" -v k="$2" -v t="$3" '$1 == n { print k, $3, $2, t }' "$d/out"; }
# the line (res_lines) of the address the program printed for a name
line_of() { res_lines "$d1" mappings | awk -v a="0x$(awk -v n="$1" '$1 == n { print $2 }' "$d/out")" '$1 == a'; }
# "kind bytes address detail" of the name's mapping, alone in its group
# (one creation stack), with the group's count when there are more
got() {
  line_of "$1" | awk '{ d = $7; for (i = 8; i <= NF; i++) d = d " " $i
    print $2, $5, substr($1, 3), d ($4 == 1 ? "" : " (" $4 " in the group)") }'
}

tap_eq "a whole mapping: anon-private, its length, its address, rw- mmap" \
  "$(want whole anon-private 'rw- mmap')" "$(got whole)"
# the two parts come from one call: one group (one stack and kind), its
# bytes their lengths added up
tap_eq "cut at the head, the middle and the tail: the two parts left" \
  "$(awk '$1 == "cut-a" { a = $2; n += $3 } $1 == "cut-b" { b = $2; n += $3 }
    END { print "0x" a, "anon-private", 2, n, "rw- mmap|0x" b, "anon-private", 2, n, "rw- mmap" }' "$d/out")" \
  "$(line_of cut-a | awk '{ print $1, $2, $4, $5, $7, $8 }')|$(line_of cut-b | awk '{ print $1, $2, $4, $5, $7, $8 }')"
tap_eq "a shared anonymous mapping made with mmap64: anon-shared, r--" \
  "$(want shared anon-shared 'r-- mmap')" "$(got shared)"
tap_eq "grown by mremap (moved): the new range, detail mremap" \
  "$(want grown anon-private 'rw- mremap')" "$(got grown)"
tap_eq "MAP_FIXED over the middle: the new one, and the old one's tail" \
  "$(want fixed-new anon-private 'r-- mmap')|$(want fixed-b anon-private 'rw- mmap')" \
  "$(got fixed-new)|$(got fixed-b)"
tap_eq "moved by mremap(MREMAP_FIXED) onto a reserved range: the new range replaces the reservation" \
  "$(want moved anon-private 'rw- mremap')" "$(got moved)"
tap_eq "nothing else: unmapped, moved-away, file, jemalloc's and memledger's own mappings are not listed" \
  "8" "$(res_lines "$d1" mappings | awk '{ n++ } $1 ~ /^\+/ { n += substr($1, 2) - 1 } END { print n + 0 }')"

funcs() { line_of "$1" | res_funcs | head -2 | tr '\n' ' '; }
tap_eq "each mapping's stack: the function that made it, then its caller" \
  "map_whole maps |map_to_cut maps |map_to_cut maps |map_shared maps |grow_mapping maps |replace_fixed maps |map_to_replace maps |move_fixed maps " \
  "$(funcs whole)|$(funcs cut-a)|$(funcs cut-b)|$(funcs shared)|$(funcs grown)|$(funcs fixed-new)|$(funcs fixed-b)|$(funcs moved)"
tap_eq "every stack of [mappings] is listed in [stacks] (the command reads the dump, each mapping's stack symbolized)" \
  "" "$(res_unlisted_stacks "$d1" mappings)"
tap_eq "results and errno are the system calls' (unaligned munmap, zero-length mmap, MREMAP_FIXED alone)" \
  "munmap-unaligned -1 1|mmap-zero 1 1|mremap-fixed-alone 1 1" \
  "$(grep -E '^(munmap-unaligned|mmap-zero|mremap-fixed-alone) ' "$d/out" | paste -sd'|')"

# ---- fork -----------------------------------------------------------------------
res_run fork fork
d=$D pre=${DUMPS[0]:-none} child=${DUMPS[1]:-none}
tap_eq "the program and its child run (3 dumps: parent, child, parent)" "0|3" "$RC|${#DUMPS[@]}"
before=$(awk '$1 == "before" { print $2 }' "$d/out")
cmap=$(awk '$1 == "child-map" { print $2 }' "$d/out")
tap_eq "before the fork the parent has its running thread and its mapping" "running|$before" \
  "$(res_lines "$pre" threads | awk '{ print $2 }')|$(res_lines "$pre" mappings | awk '{ print substr($1, 3) }')"
tap_eq "the child: no thread (only the forking one is left), the parent's mapping and its own" \
  "|$(printf '%s\n' "$before anon-private" "$cmap anon-shared" | sort | tr '\n' ' ')" \
  "$(res_lines "$child" threads)|$(res_lines "$child" mappings | awk '{ print substr($1, 3), $2 }' | sort | tr '\n' ' ')"
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# newer.sh - each stack says how many of its blocks were allocated since the
# previous dump ([newer], read through `memledger report --format json`):
# all of them in the first dump, only the later ones in the next, none at
# exit; a block that a thread allocates after the dump from sequence
# numbers it took before counts as newer.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_newer
need_file "$PROG"
tap_plan 6

d=$(fresh_dir newer)
ml_run "$d" "$PROG" >"$d/out" 2>"$d/err"
tap_eq "prog_newer runs (two API dumps, then exit)" "0 ok" "$? $(cat "$d/out")"
pid=$(ls "$d" | sed -n 's/^memledger\.\([0-9]*\)\.1\.dump$/\1/p')
# per stack, by block size: "size blocks newer_blocks newer_bytes"
newer() { $DUMP_JSON newer "$d/memledger.$pid.$1.dump" | grep -E '^(3|5|6)001 ' | tr '\n' ';'; }
tap_eq "three dumps" "3" "$(ls "$d"/memledger.*.dump | wc -l)"
tap_eq "dump 1: every block is newer (since the start)" \
  "3001 3 3 9003;5001 1 1 5001;" "$(newer 1)"
tap_eq "dump 2: only the blocks allocated after dump 1, the worker's second included" \
  "3001 2 0 0;5001 2 1 5001;6001 2 2 12002;" "$(newer 2)"
tap_eq "dump 3 (exit): nothing since dump 2" \
  "3001 2 0 0;5001 2 0 0;6001 2 0 0;" "$(newer 3)"
tap_eq "dump 2 counts from dump 1's time" \
  "$($DUMP_JSON header "$d/memledger.$pid.1.dump" time)" \
  "$($DUMP_JSON newer-since "$d/memledger.$pid.2.dump")"
exit 0

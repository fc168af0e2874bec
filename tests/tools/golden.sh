#!/bin/bash
# SPDX-License-Identifier: MIT
# golden.sh - memledger report and diff on hand-written dumps (tests/data)
# whose modules do not exist on disk, so that the output (frames with a
# "module file missing" note) is the same on every machine: compared byte
# for byte with tests/data/*.expected.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

tap_plan 13
cd "$DATA" || bail "no $DATA"
o=$T_TMP

check_expected golden_basic.text report golden_basic.dump
check_expected golden_basic.json report --format json golden_basic.dump
check_expected golden_basic.folded report --format folded golden_basic.dump
check_expected golden_basic.count.folded report -f folded --weight count golden_basic.dump
check_expected golden_basic.sorted.text report --sort count --top 3 golden_basic.dump
check_expected golden_basic.supp.text report --no-default-suppressions --suppress golden.supp golden_basic.dump
check_expected golden_basic.filter.text report --module 'libc\.so' golden_basic.dump
check_expected golden_diff.text diff golden_old.dump golden_new.dump
check_expected golden_diff.json diff --format json golden_old.dump golden_new.dump

"$ML" report -o "$o/out.json" -f json golden_basic.dump >"$o/stdout" 2>&1
tap_check "-o FILE writes the report to FILE, nothing to stdout" \
  eval "cmp -s '$DATA/golden_basic.json.expected' '$o/out.json' && ! [ -s '$o/stdout' ]"

"$ML" diff golden_basic.dump golden_new.dump >/dev/null 2>"$o/warn"
tap_eq "diff warns when the dumps come from different programs" 1 \
  "$(grep -c 'warning: the dumps come from different programs' "$o/warn")"

if command -v python3 >/dev/null; then
  tap_check "the JSON report parses" python3 -c "import json,sys; json.load(open('$o/golden_basic.json'))"
  tap_check "the JSON diff parses" python3 -c "import json,sys; json.load(open('$o/golden_diff.json'))"
else
  tap_skip "no python3 to parse JSON"
  tap_skip "no python3 to parse JSON"
fi

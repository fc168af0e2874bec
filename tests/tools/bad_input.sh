#!/bin/bash
# SPDX-License-Identifier: MIT
# bad_input.sh - truncated, corrupt, empty, wrong-version, binary and
# non-dump files (tests/data/bad_*.dump): one line "memledger: FILE:LINE:
# message" on stderr (as in bad_input.expected), nothing on stdout, exit
# status 2; never a crash or a hang.  Also bad suppression files and usage.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

cd "$DATA" || bail "no $DATA"
files=$(ls bad_*.dump)
tap_plan $(($(echo "$files" | wc -l) + 7))

for f in $files; do
  $ML_TIMEOUT "$ML" report "$f" >"$T_TMP/out" 2>"$T_TMP/err"
  rc=$?
  want=$(grep "^memledger: $f:" bad_input.expected)
  got=$(cat "$T_TMP/err")
  if [ $rc -eq 2 ] && [ "$got" = "$want" ] && ! [ -s "$T_TMP/out" ]; then
    tap_ok "$f: exit 2, $got"
  else
    tap_fail "$f: exit 2 and one line" "exit $rc" "want: $want" "got:  $got"
  fi
done

$ML_TIMEOUT "$ML" report /dev/zero >/dev/null 2>"$T_TMP/err"
tap_eq "/dev/zero: exit 2 without reading forever" \
  "2 memledger: /dev/zero:1: binary data (NUL byte): not a memledger dump" "$? $(cat "$T_TMP/err")"
"$ML" report "$T_TMP/missing.dump" >/dev/null 2>"$T_TMP/err"
tap_eq "a missing file: exit 2" "2 1" "$? $(grep -c 'missing.dump: No such file' "$T_TMP/err")"

printf 'name: x\nfunktion: foo\n' >"$T_TMP/bad.supp"
"$ML" report --suppress "$T_TMP/bad.supp" golden_basic.dump >/dev/null 2>"$T_TMP/err"
tap_eq "a bad suppression file: exit 2 with file:line" "2 1" \
  "$? $(grep -c 'bad.supp:2: unknown key "funktion"' "$T_TMP/err")"
"$ML" report --function '(' golden_basic.dump >/dev/null 2>"$T_TMP/err"
tap_eq "a bad regular expression: exit 2" "2" "$?"
"$ML" report --format nope golden_basic.dump >/dev/null 2>"$T_TMP/err"
tap_eq "an unknown format: exit 2" "2" "$?"
"$ML" frobnicate >/dev/null 2>&1
tap_eq "an unknown command: exit 2" "2" "$?"
ok=0
for c in "" run dump report diff trend; do
  "$ML" $c --help | grep -q '^Usage: memledger' || ok=1
done
"$ML" --version | grep -q '^memledger [0-9]' || ok=1
tap_eq "--help for the tool and every command, --version" 0 $ok

#!/bin/bash
# SPDX-License-Identifier: MIT
# resources.sh - descriptors, threads and mappings ([fds], [threads],
# [mappings]) and the blocks newer than the previous dump ([newer]) in
# report, diff and trend, from hand-written dumps (tests/data/res_*.dump,
# modules that do not exist: output is machine-independent).  Malformed
# lines of these sections are in bad_input.sh (tests/data/bad_res_*.dump).
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

tap_plan 4
cd "$DATA" || bail "no $DATA"
o=$T_TMP

# check NAME ARGS...: memledger ARGS > $o/NAME, exit 0, same as NAME.expected
check() {
  local name=$1
  shift
  "$ML" "$@" >"$o/$name" 2>"$o/$name.err"
  local rc=$?
  if [ $rc -ne 0 ]; then
    tap_fail "$name: memledger $* exits 0" "exit status $rc" "$(cat "$o/$name.err")"
    return
  fi
  same_output "$name: memledger $*" "$DATA/$name.expected" "$o/$name"
}

check res_basic.json report --format json res_basic.dump
check res_basic.text report res_basic.dump
check res_diff.text diff res_old.dump res_basic.dump
check res_diff.json diff --format json res_old.dump res_basic.dump

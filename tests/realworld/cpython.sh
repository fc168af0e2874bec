#!/bin/bash
# SPDX-License-Identifier: MIT
# cpython.sh - run by make check-realworld.  CPython's regression tests for
# threads, fork, subprocesses, descriptors and signals, once without and
# once with LD_PRELOAD=$ML_LIB (MEMLEDGER_DIR a temporary directory,
# MEMLEDGER_QUIET=1).  Per test case (regrtest --junit-xml) and per module
# (regrtest's progress lines), prints a table of what differs and fails when
# something that passes without the preload fails (or times out) under it.
# Exit 77 (skip) when the Python or its test package is missing.
set -u
: "${ML_LIB:?}" "${RW_PYTHON:=/usr/bin/python3.11}" "${RW_JOBS:=2}" "${RW_TIMEOUT:=300}"
: "${RW_MODULES:=test_threading test_subprocess test_posix test_signal test_threadsignals test_os test_multiprocessing_fork test_asyncio}"
: "${RW_OUT:=$(pwd)/realworld-logs}"
here=$(cd "$(dirname "$0")" && pwd)

[ -f "$ML_LIB" ] || { echo "missing $ML_LIB (run make first)"; exit 1; }
if ! "$RW_PYTHON" -c 'import test.regrtest, test.test_os' 2>/dev/null; then
  echo "SKIP: $RW_PYTHON or its test suite (Debian: libpython3.11-testsuite) is missing"
  exit 77
fi
for v in $(env | sed -n 's/^\(MEMLEDGER_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset LD_PRELOAD

rm -rf "$RW_OUT" && mkdir -p "$RW_OUT/dumps" "$RW_OUT/tmp-base" "$RW_OUT/tmp-preload" || exit 1
# some tests drop privileges (setuid to nobody) before their exit dump
chmod 1777 "$RW_OUT/dumps"
# Each run gets its own working directory (regrtest creates its build dir in cwd).
run_suite() { # NAME [env assignments...]
  local name=$1 t0 t1
  shift
  t0=$(date +%s)
  (cd "$RW_OUT/tmp-$name" && env "$@" timeout -k 30 7200 "$RW_PYTHON" -m test -j"$RW_JOBS" \
    --timeout "$RW_TIMEOUT" --junit-xml "$RW_OUT/$name.xml" $RW_MODULES) \
    >"$RW_OUT/$name.log" 2>&1
  echo "$name: regrtest exit status $?, $(($(date +%s) - t0)) s (log $RW_OUT/$name.log)"
}
start=$(date +%s)
run_suite base
run_suite preload LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$RW_OUT/dumps" MEMLEDGER_QUIET=1
echo "total: $(($(date +%s) - start)) s"
"$RW_PYTHON" "$here/compare_regrtest.py" "$RW_OUT/base.log" "$RW_OUT/base.xml" \
  "$RW_OUT/preload.log" "$RW_OUT/preload.xml"

#!/bin/bash
# SPDX-License-Identifier: MIT
# seccomp.sh - a program in a strict seccomp sandbox (read, write, exit,
# exit_group, brk, mmap, munmap, mremap, madvise, rt_sigreturn,
# rt_sigprocmask, futex; anything else kills the process) that prints
# through buffered stdio, allocates tracked blocks and exits normally: under
# the preload its exit status and complete stdout are as without, and
# memledger says once on stderr that dumps are skipped.  The filter is
# installed with prctl(PR_SET_SECCOMP) and with the seccomp() system call
# (as libseccomp does).  Skipped where the kernel refuses the filter.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_seccomp
need_file "$PROG"
tap_plan 6

for mode in prctl seccomp; do
  d=$(fresh_dir $mode)
  base_run 30 "$PROG" $mode </dev/null >"$d/base.out" 2>"$d/base.err"
  b=$?
  if [ "$b" = 77 ] || [ "$b" != 0 ]; then
    for i in 1 2 3; do tap_skip "$mode: the sandbox does not work here without the preload (status $b: $(head -c 200 "$d/base.err"))"; done
    continue
  fi
  inv_run "$d" 30 "$PROG" $mode </dev/null >"$d/out" 2>"$d/err"
  rc=$?
  tap_eq "$mode: exit status as without the preload ($b; 159 = killed by the filter)" "$b" "$rc"
  if cmp -s "$d/base.out" "$d/out"; then
    tap_ok "$mode: complete stdout as without the preload"
  else
    tap_fail "$mode: complete stdout as without the preload" "$(diff "$d/base.out" "$d/out" | head -20)"
  fi
  tap_eq "$mode: one 'memledger:' line on stderr, saying dumps are skipped" "1 1" \
    "$(grep -c '^memledger:' "$d/err") $(grep '^memledger:' "$d/err" | grep -ic 'skip')"
  tap_diag_file "$d/err" 5
done
exit 0

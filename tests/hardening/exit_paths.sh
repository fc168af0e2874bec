#!/bin/bash
# SPDX-License-Identifier: MIT
# exit_paths.sh - how a process ends decides its exit dump.  exit() from a
# non-main thread while others allocate, and return from main: one exit dump.
# _exit and quick_exit: no exit dump (documented in README.md, "The exit
# dump").  abort() and SIGSEGV: the process dies of that signal (the same
# status), does not hang, and leaves one crash dump (trigger crash, the
# signal named) and one line on stderr.  atexit handlers that allocate and free,
# and a linked library whose destructor frees what its constructor
# allocated: not reported (the exit dump runs after them).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$ML_BUILDDIR/tests/hardening/exit_prog
need_file "$PROG"
ulimit -c 0 2>/dev/null

tap_plan 14

# run MODE: fresh dir, run, sets d rc f (the only dump, or empty)
run() {
  d=$(fresh_dir "$1")
  ml_run "$d" "$PROG" "$1" >"$d/out" 2>"$d/err"
  rc=$?
  f=$(only_dump "$d")
}
leak_only() { [ "$(dump_unfreed "$1")" = "1 4001" ] && [ "$(unfreed_by_size "$1" 4001 | awk '{ print $2 }')" = 1 ]; }

run return
tap_eq "return from main: exit 0, one exit dump" "0|exit" "$rc|$(dump_header "$f" trigger 2>/dev/null)"
if r=$(dump_consistent "$f" 2>&1) && leak_only "$f"; then
  tap_ok "return from main: the dump has exactly the 4001-byte leak (the linked library's destructor freed its 6007 bytes first)"
else
  tap_fail "return from main: the dump has exactly the 4001-byte leak (the linked library's destructor freed its 6007 bytes first)" \
    "$r" "unfreed: $(dump_unfreed "$f" 2>/dev/null)" "$(dump_section "$f" unfreed 2>/dev/null)"
fi

for i in 1 2 3; do
  run thread
  echo "$rc|$(dump_header "$f" trigger 2>/dev/null)|$(dump_consistent "$f" >/dev/null 2>&1 && echo consistent)|$(grep -c '' "$d/err")" >>"$T_TMP/thread.res"
done
tap_eq "exit() from a non-main thread while 3 threads allocate (3 runs): exit 0, one consistent exit dump, one summary line" \
  "0|exit|consistent|1 0|exit|consistent|1 0|exit|consistent|1" "$(tr '\n' ' ' <"$T_TMP/thread.res" | sed 's/ $//')"
tap_eq "exit() from a non-main thread: the 4001-byte leak is there" "1" \
  "$(unfreed_by_size "$f" 4001 2>/dev/null | awk '{ print $2 }')"

for m in _exit quick_exit; do
  run $m
  tap_eq "$m: exit 0, no dump written, nothing on stderr (documented: $m writes no exit dump)" "0|0|" \
    "$rc|$(count_dumps "$d")|$(cat "$d/err")"
done

# a crash: the shell sees 128 + signal; the timeout would give 124/137
run abort
tap_eq "abort(): the process dies of SIGABRT (status 134), no hang, one crash dump (signal 6)" \
  "134|1|crash|6" "$rc|$(count_dumps "$d")|$(dump_header "$f" trigger 2>/dev/null)|$(dump_header "$f" signal 2>/dev/null)"
tap_eq "abort(): no .tmp file, one line from memledger on stderr naming the signal and the dump" "|1" \
  "$(ls -A "$d" | grep tmp)|$(grep -c "^memledger: killed by signal 6: .*dump: " "$d/err")"
run segv
tap_eq "SIGSEGV: the process dies of SIGSEGV (status 139), no hang, one crash dump (signal 11)" \
  "139|1|crash|11" "$rc|$(count_dumps "$d")|$(dump_header "$f" trigger 2>/dev/null)|$(dump_header "$f" signal 2>/dev/null)"
tap_eq "SIGSEGV: no .tmp file, one line from memledger on stderr naming the signal and the dump" "|1" \
  "$(ls -A "$d" | grep tmp)|$(grep -c "^memledger: killed by signal 11: .*dump: " "$d/err")"

run atexit
tap_eq "atexit handlers that allocate and free: exit 0, one exit dump" "0|exit" "$rc|$(dump_header "$f" trigger 2>/dev/null)"
if r=$(dump_consistent "$f" 2>&1) && leak_only "$f"; then
  tap_ok "atexit: neither the handler's blocks (8009, 8011) nor the block it freed (8013) are reported"
else
  tap_fail "atexit: neither the handler's blocks (8009, 8011) nor the block it freed (8013) are reported" \
    "$r" "$(dump_section "$f" unfreed 2>/dev/null)"
fi
tap_eq "atexit: the handlers' allocations were tracked (tracked_allocs counts them; frees seen)" "ok" \
  "$(awk '/^tracked_frees:/ { if ($2 >= 3) print "ok" }' "$f" 2>/dev/null)"
tap_eq "atexit: stderr holds the summary line only" "1|1" "$(grep -c '^memledger: 1 unfreed blocks, 4001 bytes' "$d/err")|$(grep -c '' "$d/err")" 
exit 0

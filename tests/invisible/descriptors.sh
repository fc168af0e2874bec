#!/bin/bash
# SPDX-License-Identifier: MIT
# descriptors.sh - the library holds no descriptor between dumps:
#  - bash opens fd 3 itself, sends itself the dump signal and then reads fd 3:
#    it reads its own file (a library pipe on fd 3 would be replaced by the
#    program's file, and the library would then read from it), and the
#    signal dump is written;
#  - cat with stdin closed fails at once as without the preload (a library
#    descriptor on fd 0 would be read from, and block);
#  - a program's first open() returns 3, also after tracked allocations and
#    after a dump on the dump signal.
# Every run has only descriptors 0-2 open, as from an interactive shell.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_self
need_file "$PROG" /etc/passwd
tap_plan 6

d=$(fresh_dir bash3)
first=$(head -n1 /etc/passwd)
inv_run_clean "$d" 20 bash -c 'exec 3</etc/passwd; kill -USR2 $$; sleep 0.5; read l <&3; echo "$l"' \
  >"$d/out" 2>"$d/err"
rc=$?
tap_eq "bash: exec 3</etc/passwd, dump signal, read <&3: exit status 0" 0 "$rc"
[ "$rc" = 0 ] || tap_diag_file "$d/err"
tap_eq "bash reads the first line of /etc/passwd from its fd 3" "$first" "$(cat "$d/out")"
wait_for 10 test "$(dumps_with_trigger "$d" signal)" -ge 1
n=$(dumps_with_trigger "$d" signal)
if [ "$n" -ge 1 ]; then
  tap_ok "the dump signal wrote a dump (trigger: signal)"
else
  tap_fail "the dump signal wrote a dump (trigger: signal)" "$(ls "$d")"
fi

d=$(fresh_dir cat)
only_std_fds timeout -k 5 5 cat <&- >/dev/null 2>&1
b=$?
inv_run_clean "$d" 5 cat <&- >/dev/null 2>"$d/err"
rc=$?
tap_eq "cat <&- returns at once with the status it has without the preload ($b; 124 = hung)" "$b" "$rc"

d=$(fresh_dir open)
inv_run_clean "$d" 30 "$PROG" open \
  </dev/null >"$d/out" 2>"$d/err"
rc=$?
tap_eq "first open(\"/dev/null\") is 3 at start, after 4 tracked 4 KiB blocks, after a signal dump" \
  "open: 3 3 3" "$(grep '^open:' "$d/out")"
[ "$rc" = 0 ] || { tap_diag "status $rc"; tap_diag_file "$d/err" 10; }
tap_eq "the program saw its dump written" "dump ok" "$(grep dump "$d/out")"
exit 0

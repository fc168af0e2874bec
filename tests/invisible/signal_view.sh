#!/bin/bash
# SPDX-License-Identifier: MIT
# signal_view.sh - the program sees its own signal dispositions: for
# SIGUSR2 (the dump signal), SIGTERM, SIGINT and SIGSEGV (memledger may
# handle fatal signals itself), sigaction() and signal() report SIG_DFL at
# start and always the program's own previous action afterwards, never a
# handler inside libmemledger.so (named with dladdr): line for line as
# without the preload.  And Python: signal.getsignal(SIGUSR2) is SIG_DFL,
# and setting it back works.
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
PROG=$INV_BIN/inv_sigview
need_file "$PROG"
tap_plan 6

d=$(fresh_dir view)
base_run 20 "$PROG" >"$d/base.out" 2>&1 || bail "inv_sigview fails without the preload"
inv_run "$d" 20 "$PROG" >"$d/out" 2>"$d/err"
rc=$?
[ "$rc" = 0 ] || { tap_diag "status $rc"; tap_diag_file "$d/err" 10; }
for s in SIGUSR2 SIGTERM SIGINT SIGSEGV; do
  tap_eq "$s: sigaction/signal report the program's own actions (as without the preload)" \
    "$(grep "^$s " "$d/base.out")" "$(grep "^$s " "$d/out")"
done

PY=
for p in /usr/bin/python3 "$(command -v python3)"; do
  [ -n "$p" ] && [ -x "$p" ] && { PY=$p; break; }
done
if [ -z "$PY" ]; then
  tap_skip "python3 is not installed"
  tap_skip "python3 is not installed"
else
  PYC='import signal; h=signal.getsignal(signal.SIGUSR2); signal.signal(signal.SIGUSR2, h); print(h)'
  base_run 30 "$PY" -c "$PYC" >"$d/py.base" 2>&1
  b=$?
  inv_run "$d" 30 "$PY" -c "$PYC" >"$d/py.out" 2>"$d/py.err"
  rc=$?
  tap_eq "python3: getsignal(SIGUSR2) then signal(SIGUSR2, h) exits as without the preload ($b)" "$b" "$rc"
  [ "$rc" = "$b" ] || tap_diag_file "$d/py.err" 10
  # Handlers.SIG_DFL prints as 0 from Python 3.11 on (IntEnum.__str__).
  tap_eq "python3: getsignal(SIGUSR2) prints SIG_DFL, as without the preload" \
    "$(cat "$d/py.base")" "$(cat "$d/py.out")"
  case "$(cat "$d/py.base")" in 0|Handlers.SIG_DFL) ;; *) tap_diag "without the preload: $(cat "$d/py.base")" ;; esac
fi
exit 0

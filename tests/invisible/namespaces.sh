#!/bin/bash
# SPDX-License-Identifier: MIT
# namespaces.sh - programs that change their credentials or namespaces work
# under the preload exactly as without: unshare -Ur (the kernel refuses
# CLONE_NEWUSER in a multithreaded process, so a resident thread of the
# library breaks it) and setpriv --reuid/--regid/--clear-groups (setuid in
# every thread).  Each part is skipped where it does not work without the
# preload either (no user namespaces, not root).
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$ML_SRCDIR/tests/invisible/lib_invisible.sh" || bail "cannot read lib_invisible.sh"
need_cmd unshare setpriv
tap_plan 3

d=$(fresh_dir unshare)
base_run 20 unshare -Ur true >"$d/base.out" 2>&1
b=$?
if [ "$b" != 0 ]; then
  tap_skip "unshare -Ur true does not work here without the preload (status $b: $(head -c 200 "$d/base.out"))"
else
  inv_run "$d" 20 unshare -Ur true >"$d/out" 2>"$d/err"
  rc=$?
  tap_eq "unshare -Ur true under the preload: status as without" "$b" "$rc"
  [ "$rc" = "$b" ] || tap_diag_file "$d/err"
fi

d=$(fresh_dir setpriv)
SP="setpriv --reuid=65534 --regid=65534 --clear-groups id"
base_run 20 $SP >"$d/base.out" 2>"$d/base.err"
b=$?
if [ "$b" != 0 ]; then
  tap_skip "setpriv does not work here without the preload (status $b: $(head -c 200 "$d/base.err"))"
  tap_skip "setpriv output (see above)"
else
  chmod 0777 "$d" 2>/dev/null # the process may write its exit dump as uid 65534
  inv_run "$d" 20 $SP >"$d/out" 2>"$d/err"
  rc=$?
  tap_eq "$SP under the preload: status as without" "$b" "$rc"
  [ "$rc" = "$b" ] || tap_diag_file "$d/err"
  tap_eq "$SP under the preload: output as without" "$(cat "$d/base.out")" "$(cat "$d/out")"
fi
exit 0

#!/bin/bash
# SPDX-License-Identifier: MIT
# dlclose.sh - a dlopen'ed module leaks, then is dlclosed before the exit
# dump.  The dump's [modules] is written at dump time, so the unloaded
# module is not in it; the library records it at dlclose in [unloaded], and
# each stack's epoch in [stack_epochs], so `memledger report` still names the
# module's functions -- also when the loader has since mapped another library
# at the same addresses ("reuse"), which must never get the frames.  Control:
# without dlclose the module's frames are symbolized.  (early_dlopen.sh checks
# that the dump after dlclose is readable; this checks what the report makes
# of it.)
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$ML_BUILDDIR/tests/hardening/dlclose_prog
PLUGIN=$ML_BUILDDIR/tests/hardening/.libs/ht_plugin.so
OTHER=$ML_BUILDDIR/tests/hardening/.libs/libht_exitdso.so
ML=$ML_BUILDDIR/memledger
need_file "$PROG" "$PLUGIN" "$OTHER" "$ML"

tap_plan 9

# frames_of REPORT: the frame lines of the 7777-byte stack of a text report
frames_of() { sed -n '/^1 block, 7777 bytes/,/^$/p' "$1" | grep '^ *#'; }
# the two innermost frames are the module's (ht_plugin_inner, ht_plugin_leak)
plugin_frames() { frames_of "$1" | sed -n '1,2p'; }

# ---- control: the module stays loaded ----------------------------------------------
d=$(fresh_dir keep)
ml_run "$d" "$PROG" "$PLUGIN" keep >"$d/out" 2>"$d/err"
f=$(only_dump "$d")
"$ML" report --kinds all --color never "$f" >"$d/report" 2>"$d/rerr"
tap_eq "kept loaded: the two module frames are symbolized in ht_plugin.so" \
  "ht_plugin_inner ht_plugin_leak" \
  "$(plugin_frames "$d/report" | grep 'ht_plugin.so' | sed -n 's/.* in \([a-z_]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//')"

# ---- dlclose before the exit dump ------------------------------------------------------
d=$(fresh_dir unload)
ml_run "$d" "$PROG" "$PLUGIN" >"$d/out" 2>"$d/err"
rc=$?
f=$(only_dump "$d")
tap_eq "dlopen, leak, dlclose: exit 0, one exit dump" "0|unloaded|exit" "$rc|$(cat "$d/out")|$(dump_header "$f" trigger 2>/dev/null)"
r=$(dump_consistent "$f" 2>&1) && tap_ok "the dump is complete and consistent" || tap_fail "the dump is complete and consistent" "$r"
tap_eq "the 7777-byte leak of the unloaded module is still unfreed" "1 7777" \
  "$(unfreed_by_size "$f" 7777 2>/dev/null | awk '{ print $2, $3 }')"
# [modules] lists what is loaded at dump time; [unloaded] what went before.
tap_eq "[modules] has no line for the unloaded module, [unloaded] has one" "|1" \
  "$(dump_section "$f" modules 2>/dev/null | grep 'ht_plugin\.so')|$(dump_section "$f" unloaded 2>/dev/null | grep -c 'ht_plugin\.so')"
"$ML" report --kinds all --color never "$f" >"$d/report" 2>"$d/rerr"
rrc=$?
tap_eq "memledger report reads it (status 0)" 0 "$rrc"
pf=$(plugin_frames "$d/report")
tap_eq "report: the unloaded module's frames are symbolized in ht_plugin.so" \
  "ht_plugin_inner ht_plugin_leak" "$(printf '%s\n' "$pf" | awk '{ print $4 }' | tr '\n' ' ' | sed 's/ $//')"

# ---- dlclose, then another library loaded at the same addresses --------------------------
d=$(fresh_dir reuse)
ml_run "$d" "$PROG" "$PLUGIN" reuse "$OTHER" >"$d/out" 2>"$d/err"
rc=$?
f=$(only_dump "$d")
"$ML" report --kinds all --color never "$f" >"$d/report" 2>"$d/rerr"
pf=$(plugin_frames "$d/report")
tap_eq "reuse: exit 0, one dump, the 7777-byte leak there" "0|1 7777" \
  "$rc|$(unfreed_by_size "$f" 7777 2>/dev/null | awk '{ print $2, $3 }')"
if ! grep -q '^reused$' "$d/out"; then
  tap_skip "reuse: the loader did not map the other library where the module was"
elif printf '%s\n' "$pf" | grep -q 'libht_exitdso'; then
  tap_fail "reuse: the unloaded module's frames are not attributed to the library loaded later at the same addresses" \
    "report frames:" "$pf"
else
  tap_eq "reuse: the unloaded module's frames are symbolized in ht_plugin.so, not the library loaded later" \
    "ht_plugin_inner ht_plugin_leak" "$(printf '%s\n' "$pf" | awk '{ print $4 }' | tr '\n' ' ' | sed 's/ $//')"
fi
exit 0

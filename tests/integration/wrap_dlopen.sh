#!/bin/bash
# SPDX-License-Identifier: MIT
# wrap_dlopen.sh - wrapped plugins loaded with dlopen by a program that is
# neither wrapped nor preloaded: wrap_plugin_shared.so (shared flavour: pulls
# in libmemledger-wrap.so) and wrap_plugin_static.so (libmemledger-wrap.a
# linked in), both -z nodelete.  dlopen succeeds (their initial-exec TLS
# fits in the loader's static TLS reserve), the plugin's leak is in the exit
# dump with its stack wplug_leaf <- wplug_mid <- wplug_run <- main, and a
# dlclose before exit changes nothing (the plugins stay mapped).
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$(dirname "$0")/wrap_common.sh" || bail "cannot read wrap_common.sh"

PROG=$IT_BIN/wrap_dlopen_prog
need_file "$PROG" "$IT_BIN/.libs/wrap_plugin_shared.so" "$IT_BIN/.libs/wrap_plugin_static.so"

tap_plan 20

one() {
  local flavour=$1 close=$2 name="$1/$2" plugin=$IT_BIN/.libs/wrap_plugin_$1.so d rc dump want
  d=$(fresh_dir "$flavour-$close")
  MEMLEDGER_DIR=$d $ML_TIMEOUT "$PROG" "$plugin" 7777 "$close" >"$d/out" 2>"$d/err"
  rc=$?
  dump=$(only_dump "$d")
  want="0|dlopen ok|run=1"
  [ "$close" = close ] && want="$want|dlclose=0"
  tap_eq "$name: dlopen succeeds, the plugin runs${close:+, $close}" "$want" \
    "$rc|$(grep -v '^dlclose' "$d/out" | tr '\n' '|' | sed 's/|$//')$(grep '^dlclose' "$d/out" | sed 's/^/|/')"
  [ "$rc" = 0 ] || tap_diag_file "$d/err"
  if [ -n "$dump" ] && r=$(dump_consistent "$dump") &&
    [ "$(dump_unfreed "$dump")" = "1 7777" ]; then
    tap_ok "$name: one exit dump, consistent, unfreed: 1 blocks, 7777 bytes"
  else
    tap_fail "$name: one exit dump, consistent, unfreed: 1 blocks, 7777 bytes" "${r:-}" \
      "unfreed: $(dump_unfreed "$dump" 2>/dev/null)" "$(ls -la "$d")" "$(cat "$d/err")"
  fi
  tap_eq "$name: the plugin's calloc(1, 12345) was tracked and freed (allocs 2, frees 1, foreign 0)" \
    "2 1 0" "$(dump_total "$dump" tracked_allocs) $(dump_total "$dump" tracked_frees) $(dump_total "$dump" foreign_frees)"
  set -- $(module_range "$dump" "/wrap_plugin_$flavour.so" 2>/dev/null) - - -
  tap_eq "$name: [modules] lists wrap_plugin_$flavour.so with a build id" "yes" \
    "$(printf '%s' "$3" | grep -qE '^[0-9a-f]{16,}$' && echo yes || echo "no: $*")"
  tap_sym "$name: the leak's stack is wplug_leaf <- wplug_mid <- wplug_run <- main" \
    "wplug_leaf wplug_mid wplug_run main" "$dump" size=7777
}

one shared close
one shared noclose
one static close
one static noclose
exit 0

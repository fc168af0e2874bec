#!/bin/bash
# SPDX-License-Identifier: MIT
# lsan_supp.sh - LeakSanitizer's suppression lines (leak:PATTERN) in
# suppression files, on tests/data/golden_basic.dump: a substring of a
# module's path, '*' wildcards, '^' and '$' anchors, a rule of their own
# beside memledger's rules, an empty pattern refused; and the program's own
# rules carried in a dump's header ("suppression:" lines), applied unless
# --no-default-suppressions, refused with exit 2 when they do not parse.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

tap_plan 10
cd "$DATA" || bail "no $DATA"
o=$T_TMP

# suppressed ARGS...: the report's "suppressed" header and per-rule lines
suppressed() {
  "$ML" report "$@" 2>&1 | sed -n '/^  suppressed:/,/^  remaining:/p' | grep -v '^  remaining:' |
    sed 's/^ *//' | tr '\n' '|' | sed 's/|$//'
}
# leak PATTERN: a file with the one line leak:PATTERN; prints its path
leak() {
  printf 'leak:%s\n' "$1" >"$o/leak.supp"
  echo "$o/leak.supp"
}

tap_eq "leak:libplugin.so: a substring of a module's path (the rule is named after its line)" \
  "suppressed: 2 blocks, 30000 bytes in 1 stack|2 blocks, 30000 bytes in 1 stack: leak:libplugin.so" \
  "$(suppressed --no-default-suppressions -S "$(leak libplugin.so)" golden_basic.dump)"
tap_eq "leak:lib*plugin: '*' matches anything" \
  "suppressed: 2 blocks, 30000 bytes in 1 stack|2 blocks, 30000 bytes in 1 stack: leak:lib*plugin" \
  "$(suppressed --no-default-suppressions -S "$(leak 'lib*plugin')" golden_basic.dump)"
tap_eq "leak:^/nonexistent/bin/golden\$: anchored at both ends, any frame of the stack" \
  "suppressed: 8 blocks, 148808 bytes in 5 stacks|8 blocks, 148808 bytes in 5 stacks: leak:^/nonexistent/bin/golden\$" \
  "$(suppressed --no-default-suppressions -S "$(leak '^/nonexistent/bin/golden$')" golden_basic.dump)"
tap_eq "leak:^golden: anchored at the start, so no path matches" \
  "suppressed: 0 blocks, 0 bytes in 0 stacks" \
  "$(suppressed --no-default-suppressions -S "$(leak '^golden')" golden_basic.dump)"

printf 'name: the plugin\nmodule: libplugin.so\nleak:ld-linux\n# a comment\n  leak: vdso' >"$o/mixed.supp"
tap_eq "beside memledger's rules: a leak: line ends the rule above it; indented, no final newline" \
  "suppressed: 5 blocks, 36048 bytes in 3 stacks|2 blocks, 30000 bytes in 1 stack: the plugin|2 blocks, 4000 bytes in 1 stack: leak:ld-linux|1 block, 2048 bytes in 1 stack: leak: vdso" \
  "$(suppressed --no-default-suppressions -S "$o/mixed.supp" golden_basic.dump)"

"$ML" report -S "$(leak '')" golden_basic.dump >/dev/null 2>"$o/err"
tap_eq "leak: without a pattern: exit 2, the file and line named" \
  "2|memledger: $o/leak.supp:1: leak: without a pattern" "$?|$(cat "$o/err")"

# ---- the program's own rules in the dump ------------------------------------------
sed 's/^\[header\]$/[header]\nsuppression: # from the program\nsuppression: leak:libplugin.so/' \
  golden_basic.dump >"$o/own.dump"
tap_eq "the dump's suppression lines apply with the built-in rules" \
  "2 blocks, 30000 bytes in 1 stack: leak:libplugin.so" \
  "$(suppressed "$o/own.dump" | tr '|' '\n' | grep 'leak:')"
tap_eq "not with --no-default-suppressions" \
  "suppressed: 0 blocks, 0 bytes in 0 stacks" \
  "$(suppressed --no-default-suppressions "$o/own.dump")"
printf 'name: mine\nmodule: libplugin.so\n' >"$o/mine.supp"
tap_eq "rules of --suppress files match before the dump's" \
  "2 blocks, 30000 bytes in 1 stack: mine" \
  "$(suppressed -S "$o/mine.supp" "$o/own.dump" | tr '|' '\n' | grep -E ': (mine|leak:libplugin.so)$')"
sed 's/^\[header\]$/[header]\nsuppression: bogus/' golden_basic.dump >"$o/bad.dump"
"$ML" report "$o/bad.dump" >/dev/null 2>"$o/err"
tap_eq "rules that do not parse: exit 2, named after the dump" \
  "2|memledger: $o/bad.dump: memledger_default_suppressions:1: expected \"key: value\"" \
  "$?|$(cat "$o/err")"
exit 0

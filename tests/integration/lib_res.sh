# SPDX-License-Identifier: MIT
# tests/integration/lib_res.sh - readers of the resource sections ([threads],
# [mappings]) for res_threads.sh and res_maps.sh; sourced after lib.sh.
# The dumps are read through the command (dump_json.py threads|mappings:
# the report's groups per creation stack and kind, one line per id), whose
# frames come symbolized: "id kind stack count bytes funcs details".

PROG=$IT_BIN/prog_res
need_file "$PROG"

# res_run NAME MODE [VAR=VALUE...]: prog_res MODE under the preload (with
# the variables given) in a fresh directory, with an 8 MiB RLIMIT_STACK
# (the default thread stack size); sets D (the directory), RC (the exit
# status) and DUMPS (the dumps it printed, in order); stdout in $D/out.
res_run() {
  local name=$1 mode=$2
  shift 2
  D=$(fresh_dir "$name")
  (ulimit -s 8192 && ml_run "$D" env "$@" "$PROG" "$mode") >"$D/out" 2>"$D/err"
  RC=$?
  mapfile -t DUMPS < <(sed -n 's/^dump //p' "$D/out")
}

# res_lines DUMP SECTION: the section as the report groups it, one line per
# id: "id kind stack count bytes funcs details" (dump_json.py); nothing when
# DUMP is missing
res_lines() { [ -f "$1" ] && $DUMP_JSON "$2" "$1"; }

# res_funcs LINE...: the functions of a res_lines line's creation stack,
# innermost first, one a line
res_funcs() { awk '{ n = split($6, f, ","); for (i = 1; i <= n; i++) if (f[i] != "-") print f[i] }'; }

# res_unlisted_stacks DUMP SECTION: the command's message when it refuses
# the dump (a stack of SECTION not in [stacks] is one reason), else the
# lines of SECTION without a symbolized creation stack
res_unlisted_stacks() {
  local out
  out=$($DUMP_JSON "$2" "$1" 2>&1) || { printf '%s\n' "$out"; return; }
  printf '%s\n' "$out" | awk '$3 == "-" || $6 == "-" || $6 ~ /^\?(,\?)*$/'
}

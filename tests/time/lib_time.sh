# SPDX-License-Identifier: MIT
# tests/time/lib_time.sh - sourced by the tests/time/*.sh scripts after
# tests/integration/lib.sh: the program and the series of dumps it writes.
PROG=$ML_BUILDDIR/tests/time/prog_time
need_file "$PROG"

# dump_series DIR [PID]: "<trigger> <unfreed blocks> <unfreed bytes>" of
# every dump, in the order of their header's unix_time_ns (the snapshots'
# instants: the sequence numbers of snapshots taken in quick succession
# need not follow it)
dump_series() {
  local f
  for f in $(dumps_in "$@"); do
    printf '%s %s %s\n' "$(dump_header "$f" unix_time_ns)" "$(dump_header "$f" trigger)" \
      "$(dump_unfreed "$f")"
  done | sort -n -k1,1 | cut -d' ' -f2-
}
# triggers DIR [PID]: the triggers of the dumps on one line
triggers() { dump_series "$@" | awk '{ printf "%s ", $1 }'; }
# trigger_count DIR TRIGGER [PID]: how many dumps have that trigger
trigger_count() { dump_series "$1" ${3:-} | awk -v t="$2" '$1 == t { n++ } END { print n + 0 }'; }
# limit_series DIR: "<limit_reason> <unfreed bytes> <VmHWM in KiB>" of each
# limit dump, in the order of their unix_time_ns
limit_series() {
  local f
  for f in $(dumps_in "$1"); do
    [ "$(dump_header "$f" trigger)" = limit ] || continue
    printf '%s %s %s %s\n' "$(dump_header "$f" unix_time_ns)" "$(dump_header "$f" limit_reason)" \
      "$(dump_unfreed "$f" | cut -d' ' -f2)" "$(awk '$1 == "VmHWM:" { print $2; exit }' "$f")"
  done | sort -n | cut -d' ' -f2-
}

# interval_series NAME ARGS...: prog_time ARGS under the preload with
# MEMLEDGER_INTERVAL=500ms in a fresh directory NAME, set in D; one TAP
# line: the program exits 0 having written a series of at least 4 dumps.
interval_series() {
  local name=$1 rc n
  shift
  D=$(fresh_dir "$name")
  MEMLEDGER_INTERVAL=500ms ml_run "$D" "$PROG" "$@" </dev/null >/dev/null 2>"$D/err"
  rc=$?
  n=$(count_dumps "$D")
  if [ "$rc" = 0 ] && [ "$n" -ge 4 ]; then tap_ok "the program wrote a series of $n dumps"; else
    tap_fail "the program wrote a series of dumps" "exit $rc" "$(ls "$D")" "$(cat "$D/err")"; fi
}

# need_trend: sets ML (the command) for the trend tests; bails out without
# it, skips the whole script (exit 0, before the plan) without python3.
need_trend() {
  ML=$ML_BUILDDIR/memledger
  need_file "$ML"
  command -v python3 >/dev/null || { echo "1..0 # SKIP python3 not found"; exit 0; }
}

#!/bin/bash
# SPDX-License-Identifier: MIT
# res_real.sh - descriptors, threads and mappings in report and diff, from
# real dumps (resources.sh has the hand-written ones): prog_res_leak leaks a
# descriptor (open_log), a thread that ends unjoined (start_worker) and a
# 64 KiB mapping (map_cache) a round, 2 rounds before a memledger_dump()
# and 5 after, before its exit dump.  The report's text has the three
# sections, each with its creating function and the amounts; `memledger
# diff OLD NEW` shows +5 per creation stack (text and JSON), matched as
# "grew".
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }
PROG=$TT_BIN/prog_res_leak
need_file "$PROG"
tap_plan 9

d=$(fresh_dir real)
(ulimit -s 8192 && ml_run "$d" "$PROG" 2 5) </dev/null >"$d/out" 2>"$d/err"
rc=$?
old=$(sed -n 's/^dump //p' "$d/out")
new=$(dumps_in "$d" | grep -vxF "${old:-none}" | tail -n1)
tap_eq "the program runs (exit 0, an api dump and an exit dump)" "0 2 api exit" \
  "$rc $(count_dumps "$d") $(dump_header "${old:-none}" trigger) $(dump_header "${new:-none}" trigger)"
[ "$rc" = 0 ] || tap_diag_file "$d/err"

# sections FILE: "<section>: <#0 function> <group line>" for each group of
# the resource sections of a report's or a diff's text
sections() {
  awk '/^Open descriptors/ { s = "fds"; next } /^Threads/ { s = "threads"; next }
    /^Mappings/ { s = "mappings"; next } /^LEAK SUMMARY/ { s = "" }
    s && /^[+0-9-]/ { g = $0; next }
    s && g != "" && /^ *#0 / { for (i = 1; i < NF; i++) if ($i == "in") { print s ": " $(i + 1) " " g; break }
      g = "" }' "$1"
}

"$ML" report "$old" >"$d/report" 2>"$d/report.err"
tap_eq "report: exit 0, the three sections' headers" \
  "0|Open descriptors: |Threads: 2 in 1 stack|Mappings: 2 in 1 stack" \
  "$?|$(grep -o '^Open descriptors: ' "$d/report")|$(grep '^Threads: ' "$d/report")|$(grep '^Mappings: ' "$d/report")"
tap_eq "report: the descriptors' group, created by open_log" \
  "fds: open_log 2 device descriptors, stack" \
  "$(sections "$d/report" | grep -F ' open_log ' | sed 's/ [0-9]*:$//')"
tap_eq "report: the threads' group, created by start_worker, ended and never joined" \
  "threads: start_worker 2 ended-not-joined threads" \
  "$(sections "$d/report" | grep -F ' start_worker ' | sed 's/, [0-9]* bytes of stack, stack [0-9]*:$//')"
tap_eq "report: the mappings' group, created by map_cache, 2 x 64 KiB" \
  "mappings: map_cache 2 anon-private mappings, 131072 bytes, stack" \
  "$(sections "$d/report" | grep -F ' map_cache ' | sed 's/ [0-9]*:$//')"

"$ML" diff "$old" "$new" >"$d/diff" 2>"$d/diff.err"
rc=$?
tap_eq "diff: exit 0, +5 of each in the summary" "0|+5 (|+5 (|+5 (, +327680 bytes" \
  "$rc|$(sed -n 's/^  fds: *\(+5 (\).*/\1/p' "$d/diff")|$(sed -n 's/^  threads: *\(+5 (\).*/\1/p' "$d/diff")|$(sed -n 's/^  mappings: *\(+5 (\)[0-9]* -> [0-9]*)\(, +327680 bytes\)$/\1\2/p' "$d/diff")"
tap_eq "diff: growth per creation stack (open_log, start_worker, map_cache), each grew by 5" \
  "fds: open_log +5 device descriptors (2 -> 7), grew|threads: start_worker +5 ended-not-joined threads (2 -> 7)|mappings: map_cache +5 anon-private mappings (2 -> 7), +327680 bytes (131072 -> 458752), grew" \
  "$(sections "$d/diff" | sed 's/, stack [0-9]*:$//; /^threads:/ s/, +[0-9]* bytes ([0-9]* -> [0-9]*), grew$//' | paste -sd'|')"

"$ML" diff --format json "$old" "$new" >"$d/diff.json" 2>"$d/diff.json.err"
rc=$?
tap_eq "diff --format json: exit 0" 0 "$rc"
tap_eq "diff --format json: one changed group per section, its creating function, +5 (threads: 5 more thread stacks of bytes)" \
  "fds grew device 5 0 open_log|threads grew ended 5 ok start_worker|mappings grew anon-private 5 327680 map_cache" \
  "$(python3 - "$d/diff.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for k in ("fds", "threads", "mappings"):
    v = d.get(k, [])
    if len(v) != 1:
        out.append("%s: %d groups" % (k, len(v)))
        continue
    g = v[0]
    fn = [f["function"] for f in g["frames"] if f.get("function")]
    b = g["dbytes"]
    if k == "threads":  # each ended thread holds the same stack size
        b = "ok" if g["old"] and b == 5 * g["old"]["bytes"] // g["old"]["count"] else b
    out.append("%s %s %s %d %s %s" % (k, g["status"], g["kind"], g["dcount"], b,
                                      fn[0] if fn else "-"))
print("|".join(out))
PY
)"
exit 0

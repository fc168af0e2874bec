# SPDX-License-Identifier: MIT
# tests/tools-formats/lib.sh - shared helpers of the output-format tests.
# Sourced by tests/tools-formats/*.sh after tests/integration/lib.sh (TAP,
# temporary directory, ml_run, dump readers).
#
# FMT_DRIVER runs a format on a hand-made report or on a real dump
# (fmt_driver.c); MEMLEDGER is the command, which may not be built yet
# (its checks are skipped then).
. "$ML_SRCDIR/tests/integration/lib.sh"

FMT_DRIVER=$ML_BUILDDIR/tests/tools-formats/fmt_driver
need_file "$FMT_DRIVER"
MEMLEDGER=$ML_BUILDDIR/memledger
LEAK_BASIC=$ML_BUILDDIR/examples/leak_basic

# have_memledger_format FMT: the command exists and knows --format FMT.
have_memledger_format() {
  [ -x "$MEMLEDGER" ] && "$MEMLEDGER" report --help 2>&1 | grep -q -- "--format.*$1"
}

# leak_dump: run examples/leak_basic under the library (4 blocks, 22288
# bytes unfreed); prints the path of its dump, or nothing.
leak_dump() {
  local d
  [ -x "$LEAK_BASIC" ] || return 1
  d=$(fresh_dir leak_basic) || return 1
  ml_run "$d" "$LEAK_BASIC" >/dev/null 2>&1
  only_dump "$d"
}

# ---- chromium -----------------------------------------------------------------
CHROMIUM=
for c in chromium chromium-browser google-chrome; do
  if command -v "$c" >/dev/null 2>&1; then CHROMIUM=$(command -v "$c"); break; fi
done

# chrome_dom URL OUT: the DOM after the page's scripts ran, headless, with
# no network, no profile and no background services.  CHROME_WRAP, when
# set, is a command put before chromium (e.g. perf stat).
chrome_dom() {
  local profile
  profile=$(mktemp -d "$T_TMP/chrome.XXXXXX") || return 1
  $ML_TIMEOUT ${CHROME_WRAP:-} "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-quic --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --user-data-dir="$profile" --dump-dom "$1" \
    >"$2" 2>"$2.err"
}

# chrome_works: chromium is installed and renders a trivial page here.
chrome_works() {
  [ -n "$CHROMIUM" ] || return 1
  printf '<!DOCTYPE html><p id="x"></p><script>document.getElementById("x").textContent = "ran" + "-ok";</script>\n' \
    >"$T_TMP/probe.html"
  chrome_dom "file://$T_TMP/probe.html" "$T_TMP/probe.dom" && grep -q 'ran-ok' "$T_TMP/probe.dom"
}

# ---- protoc ---------------------------------------------------------------------
# pprof_decode FILE.pb.gz: the profile as protoc's text format.
pprof_decode() {
  gzip -dc "$1" | protoc -I"$ML_SRCDIR/tests/tools-formats" \
    --decode=perftools.profiles.Profile profile.proto
}

# pprof_resolved FILE.pb.gz: one line per record of the decoded profile, with
# string indices replaced by the strings (the string table comes last in
# protoc's output, so records are kept until the end):
#   sample_type <type>/<unit>
#   sample <value>... locs <id>,<id>... stack_id=<n>
#   mapping <id> <filename> build_id=<s> functions=<0|1> filenames=<0|1> lines=<0|1>
#   location <id> mapping=<id> addr=<decimal> lines=<function>:<line>|...
#   function <id> <name> <filename>
#   time_nanos <n> / period_type <type>/<unit> / period <n>
#   default_sample_type <type> / comment <text> / string0 <first string>
pprof_resolved() {
  pprof_decode "$1" | awk '
    function q(s) { s = substr(s, 2, length(s) - 2); gsub(/\\"/, "\"", s); gsub(/\\'"'"'/, "'"'"'", s); gsub(/\\\\/, "\\", s); return s }
    function S(i) { return "\001" i "\002" }
    function flush() { if (rec != "") out[n++] = rec; rec = "" }
    /^string_table: / { sub(/^string_table: /, ""); strs[ns++] = q($0); next }
    /^[a-z_]+ \{$/ { flush(); top = $1; nvals = ""; locs = ""; lines = ""; lbl = ""
      m_id = m_file = m_bid = ""; m_fn = m_fl = m_ln = 0; next }
    /^  [a-z_]+ \{$/ { sub_ = $1; next }
    /^  \}$/ { if (sub_ == "line") lines = lines (lines == "" ? "" : "|") S(l_fn) ":" l_line
               if (sub_ == "label") lbl = lbl " " S(lb_key) "=" lb_num
               sub_ = ""; l_fn = ""; l_line = 0; lb_num = 0; next }
    /^\}$/ {
      if (top == "sample_type") rec = "sample_type " S(vt_type) "/" S(vt_unit)
      else if (top == "period_type") rec = "period_type " S(vt_type) "/" S(vt_unit)
      else if (top == "sample") rec = "sample" nvals " locs " locs lbl
      else if (top == "mapping") rec = "mapping " m_id " " S(m_file) " build_id=" (m_bid == "" ? "" : S(m_bid)) " functions=" m_fn " filenames=" m_fl " lines=" m_ln
      else if (top == "location") rec = "location " loc_id " mapping=" loc_map " addr=" loc_addr " lines=" lines
      else if (top == "function") rec = "function " f_id " " S(f_name) " " S(f_file)
      flush(); top = ""; vt_type = vt_unit = 0; loc_id = loc_map = 0; loc_addr = 0; f_file = 0; next }
    {
      k = $1; sub(/:$/, "", k); v = $2
      if (top == "sample_type" || top == "period_type") { if (k == "type") vt_type = v; else if (k == "unit") vt_unit = v }
      else if (top == "sample" && sub_ == "label") { if (k == "key") lb_key = v; else if (k == "num") lb_num = v }
      else if (top == "sample") { if (k == "value") nvals = nvals " " v; else if (k == "location_id") locs = locs (locs == "" ? "" : ",") v }
      else if (top == "mapping") { if (k == "id") m_id = v; else if (k == "filename") m_file = v; else if (k == "build_id") m_bid = v
        else if (k == "has_functions") m_fn = (v == "true"); else if (k == "has_filenames") m_fl = (v == "true"); else if (k == "has_line_numbers") m_ln = (v == "true") }
      else if (top == "location" && sub_ == "line") { if (k == "function_id") l_fn = "f" v; else if (k == "line") l_line = v }
      else if (top == "location") { if (k == "id") loc_id = v; else if (k == "mapping_id") loc_map = v; else if (k == "address") loc_addr = v }
      else if (top == "function") { if (k == "id") f_id = v; else if (k == "name") f_name = v; else if (k == "filename") f_file = v }
      else if (top == "" && k == "default_sample_type") { flush(); rec = "default_sample_type " S(v) }
      else if (top == "" && k == "comment") { flush(); rec = "comment " S(v) }
      else if (top == "" && (k == "time_nanos" || k == "period")) { flush(); rec = k " " v }
    }
    END {
      flush()
      # function ids in location lines -> names (functions are known by now)
      for (i = 0; i < n; i++) if (out[i] ~ /^function /) { split(out[i], w, " "); fname["f" w[2]] = w[3] }
      print "string0 [" strs[0] "]"
      for (i = 0; i < n; i++) {
        r = out[i]
        while (match(r, /\001f[0-9]+\002/)) { id = substr(r, RSTART + 1, RLENGTH - 2); r = substr(r, 1, RSTART - 1) fname[id] substr(r, RSTART + RLENGTH) }
        while (match(r, /\001[0-9]+\002/)) { id = substr(r, RSTART + 1, RLENGTH - 2) + 0; r = substr(r, 1, RSTART - 1) strs[id] substr(r, RSTART + RLENGTH) }
        print r
      }
    }'
}

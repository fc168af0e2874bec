#!/bin/bash
# SPDX-License-Identifier: MIT
# ci_formats.sh - `memledger report --format junit` (JUnit XML, parsed with
# python3's xml.etree) and `--format sarif` (SARIF 2.1.0, parsed with
# python3's json): one testcase / result per remaining stack, with blocks,
# bytes and the stack; the innermost frame with file:line as the SARIF
# location; well-formed UTF-8 whatever names and paths the dump holds.
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

PROG=$TT_BIN/prog_wrappers
need_file "$PROG"
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3 to parse the output"; exit 0; }
tap_plan 14
o=$T_TMP
dump=$(dump_of ci "$PROG") || bail "prog_wrappers wrote no dump"

# py DESCRIPTION SCRIPT FILE: ok when the python3 SCRIPT passes on FILE
# (sys.argv[1]); its error is the diagnostic.
py() {
  local out
  if out=$(python3 -c "$2" "$3" 2>&1); then tap_ok "$1"; else tap_fail "$1" "$out"; fi
}

"$ML" report -f junit "$dump" >"$o/j.xml" 2>"$o/j.err"
tap_eq "junit: exit 0, nothing on stderr" "0 0" "$? $(grep -c . "$o/j.err")"
py "junit: a testsuite with 4 failing testcases, blocks and bytes in the messages" '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites" and root.get("tests") == "4" and root.get("failures") == "4", root.attrib
suite = root.find("testsuite")
assert suite.get("tests") == "4" and suite.get("failures") == "4", suite.attrib
assert suite.get("timestamp") and "T" in suite.get("timestamp"), suite.attrib
props = {p.get("name"): p.get("value") for p in suite.iter("property")}
assert props["remaining_bytes"] == "8101" and props["remaining_blocks"] == "4", props
cases = suite.findall("testcase")
assert len(cases) == 4, len(cases)
msgs = [c.find("failure").get("message") for c in cases]
assert msgs[0].startswith("1 block, 3000 bytes (3000 bytes each) unfreed, stack "), msgs
for c in cases:
    assert c.get("classname") == "memledger.leaks.prog_wrappers", c.attrib
    assert c.get("name").startswith("unfreed memory from xmalloc_wrap (prog_wrappers.c:"), c.get("name")
    f = c.find("failure")
    assert f.get("type") == "memledger.leak"
    assert "#0  0x" in f.text and "in main at" in f.text, f.text
' "$o/j.xml"

"$ML" report -f junit --alloc-fn xmalloc_wrap --top 1 "$dump" >"$o/j1.xml"
py "junit: --alloc-fn names the caller; --top 1 keeps one testcase" '
import sys, xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
assert len(cases) == 1, len(cases)
n = cases[0].get("name")
assert n.startswith("unfreed memory from alloc_loop (prog_wrappers.c:") and " called from main (prog_wrappers.c:" in n, n
assert "2 blocks, 3101 bytes" in cases[0].find("failure").get("message")
' "$o/j1.xml"

"$ML" report -f junit --function '^no_such_function$' "$dump" >"$o/j0.xml"
py "junit: no leaks left gives one passing testcase" '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = list(root.iter("testcase"))
assert root.get("failures") == "0" and len(cases) == 1 and cases[0].find("failure") is None, ET.tostring(root)
' "$o/j0.xml"

"$ML" report -f sarif "$dump" >"$o/s.json" 2>"$o/s.err"
tap_eq "sarif: exit 0, nothing on stderr" "0 0" "$? $(grep -c . "$o/s.err")"
py "sarif: version 2.1.0, the memledger driver and its rule" '
import sys, json
s = json.load(open(sys.argv[1], encoding="utf-8"))
assert s["version"] == "2.1.0" and "sarif-2.1.0" in s["$schema"], s.get("version")
assert len(s["runs"]) == 1
drv = s["runs"][0]["tool"]["driver"]
assert drv["name"] == "memledger" and drv["version"], drv
assert [r["id"] for r in drv["rules"]] == ["memledger/leak"], drv["rules"]
assert drv["rules"][0]["defaultConfiguration"]["level"] == "warning"
' "$o/s.json"
py "sarif: one result per stack, blocks and bytes adding up to the report" '
import sys, json
res = json.load(open(sys.argv[1]))["runs"][0]["results"]
assert len(res) == 4, len(res)
for r in res:
    assert r["ruleId"] == "memledger/leak" and r["ruleIndex"] == 0 and r["level"] == "warning", r["ruleId"]
    assert "unfreed, allocated in xmalloc_wrap (prog_wrappers.c:" in r["message"]["text"], r["message"]
assert sum(r["properties"]["bytes"] for r in res) == 8101
assert sum(r["properties"]["blocks"] for r in res) == 4
assert res[0]["properties"]["bytes"] == 3000 and "3000 bytes" in res[0]["message"]["text"]
assert len({r["partialFingerprints"]["memledgerStack/v1"] for r in res}) == 4
' "$o/s.json"
py "sarif: the location is the innermost frame, with file and line" '
import sys, json
for r in json.load(open(sys.argv[1]))["runs"][0]["results"]:
    loc = r["locations"][0]
    pl = loc["physicalLocation"]
    assert pl["artifactLocation"]["uri"].endswith("tests/tools/prog_wrappers.c"), pl
    assert isinstance(pl["region"]["startLine"], int) and pl["region"]["startLine"] > 0, pl
    assert loc["logicalLocations"][0]["fullyQualifiedName"] == "xmalloc_wrap", loc
' "$o/s.json"
py "sarif: the whole stack in stacks, codeFlows (outermost first) and properties" '
import sys, json
r = json.load(open(sys.argv[1]))["runs"][0]["results"][0]
frames = r["stacks"][0]["frames"]
names = [f["location"].get("logicalLocations", [{}])[0].get("fullyQualifiedName") for f in frames]
assert names[:4] == ["xmalloc_wrap", "handler_b", "dispatch", "main"], names
flow = r["codeFlows"][0]["threadFlows"][0]["locations"]
assert len(flow) == len(frames) and flow[-1]["location"] == frames[0]["location"], len(flow)
assert [f["executionOrder"] for f in flow] == list(range(1, len(flow) + 1))
st = r["properties"]["stack"]
assert len(st) == len(frames) and st[0].startswith("#0 xmalloc_wrap (prog_wrappers.c:"), st
' "$o/s.json"

"$ML" report -f sarif --alloc-fn xmalloc_wrap "$dump" >"$o/s2.json"
py "sarif: --alloc-fn moves the location to the caller" '
import sys, json
res = json.load(open(sys.argv[1]))["runs"][0]["results"]
assert len(res) == 3, len(res)
assert res[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "alloc_loop", res[0]["locations"]
assert res[0]["properties"]["mergedStacks"] == 1
' "$o/s2.json"

# A dump whose exe and module paths hold markup, quotes, ESC and a byte
# that is not UTF-8; its modules do not exist (frames unsymbolized).
BAD="$(printf '<x&y>"q'"'"'\033[31m\377')"
BAD_SED=${BAD//&/\\&}
sed -e "s|/nonexistent/bin/golden|/nonexistent/bin/gold${BAD_SED}|" \
    -e "s|/nonexistent/lib/libc.so.6|/nonexistent/lib/lib${BAD_SED}c.so.6|" \
    "$DATA/golden_basic.dump" >"$o/hostile.dump"
"$ML" report -f junit "$o/hostile.dump" >"$o/h.xml" 2>"$o/h.err"
py "junit: hostile names give well-formed XML in valid UTF-8" '
import sys, xml.etree.ElementTree as ET
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")
root = ET.fromstring(raw)
cases = list(root.iter("testcase"))
assert cases and all(c.get("classname").startswith("memledger.leaks.gold<x&y>\"q\x27\\x1b[31m\\xff") for c in cases), cases[0].attrib
' "$o/h.xml"
"$ML" report -f sarif "$o/hostile.dump" >"$o/h.json" 2>>"$o/h.err"
py "sarif: hostile names give valid JSON in UTF-8, percent-encoded URIs" '
import sys, json
raw = open(sys.argv[1], "rb").read()
s = json.loads(raw.decode("utf-8"))
run = s["runs"][0]
assert run["properties"]["exe"].startswith("/nonexistent/bin/gold<x&y>\"q\x27\x1b[31m\ufffd"), run["properties"]["exe"]
uris = [l["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] for l in r["locations"] if "artifactLocation" in l["physicalLocation"]]
assert uris and all(u.isascii() and " " not in u for u in uris), uris
assert any("%3Cx%26y%3E%22q%27%1B%5B31m%FF" in u for u in uris), uris
' "$o/h.json"

"$ML" report -f junitx "$dump" >/dev/null 2>"$o/bad"
tap_eq "an unknown format: exit 2, the message lists junit and sarif" "2 1" \
  "$? $(grep -c "^memledger: --format: expected text, json, folded, jeprof, pprof, html, junit or sarif, not 'junitx'" "$o/bad")"
"$ML" diff -f sarif "$dump" "$dump" >/dev/null 2>"$o/bad2"
tap_eq "diff refuses sarif (text or json only)" "2 1" \
  "$? $(grep -c "^memledger: --format: diff writes text or json, not 'sarif'" "$o/bad2")"

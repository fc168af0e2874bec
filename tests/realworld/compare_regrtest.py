#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compare_regrtest.py BASE.log BASE.xml PRELOAD.log PRELOAD.xml

Compares two runs of CPython's regrtest (without and with the preload):
per module from the progress lines ("[3/8/1] test_os failed (2 errors)"),
per test case from the --junit-xml files.  Prints a table of the modules
and of every test case whose result differs, and exits 1 when something
that passed without the preload did not pass under it (including a module
that timed out or crashed, whose cases are then missing from the XML)."""
import re
import sys
import xml.etree.ElementTree as ET

PROGRESS = re.compile(r"\[\s*\d+/\d+(?:/\d+)?\] (test_[\w.]+)(?: (.*))?$")


def modules(log):
    res = {}
    try:
        lines = open(log, errors="replace").read().splitlines()
    except OSError:
        return res
    for line in lines:
        m = PROGRESS.search(line)
        if not m:
            continue
        what = (m.group(2) or "passed").strip()
        # "passed", "passed (1 min 2 sec)", "failed (1 error)", "skipped",
        # "failed (env changed)", "timed out (...)", "crashed (Exit code -9)"
        word = what.split()[0] if what else "passed"
        if "env changed" in what:
            word = "env-changed"
        elif what.startswith("timed out") or "Timeout" in what:
            word = "timeout"
        elif word not in ("passed", "failed", "skipped", "crashed"):
            word = what[:30]
        res[m.group(1)] = word
    return res


def cases(xml):
    res = {}
    try:
        root = ET.parse(xml).getroot()
    except (OSError, ET.ParseError):
        return res
    for tc in root.iter("testcase"):
        name = "%s.%s" % (tc.get("classname", "?"), tc.get("name", "?"))
        kind = "passed"
        for child in tc:
            if child.tag in ("failure", "error"):
                kind = child.tag
                break
            if child.tag == "skipped":
                kind = "skipped"
        res[name] = kind
    return res


def main():
    blog, bxml, plog, pxml = sys.argv[1:5]
    bm, pm = modules(blog), modules(plog)
    bc, pc = cases(bxml), cases(pxml)
    bad = 0
    print("%-34s %-14s %-14s" % ("module", "without", "with preload"))
    for mod in sorted(set(bm) | set(pm)):
        b, p = bm.get(mod, "missing"), pm.get(mod, "missing")
        flag = ""
        if b == "passed" and p != "passed":
            flag, bad = "  <-- REGRESSION", bad + 1
        print("%-34s %-14s %-14s%s" % (mod, b, p, flag))
    diff = [(n, bc.get(n, "missing"), pc.get(n, "missing"))
            for n in sorted(set(bc) | set(pc)) if bc.get(n) != pc.get(n)]
    print()
    print("test cases: %d without the preload, %d with; %d differ"
          % (len(bc), len(pc), len(diff)))
    if diff:
        print("%-90s %-9s %-9s" % ("test case", "without", "with"))
    for n, b, p in diff:
        flag = ""
        if b == "passed" and p != "passed" and p != "skipped":
            flag, bad = "  <-- REGRESSION", bad + 1
        print("%-90s %-9s %-9s%s" % (n, b, p, flag))
    print()
    print("FAIL: %d regressions under the preload" % bad if bad
          else "PASS: nothing that passes without the preload fails under it")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

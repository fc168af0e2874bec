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


HUNG = re.compile(r'File ".*/test/(test_\w+)(?:/\w+)*\.py", line \d+ in (test\w*)$')


def hung_tests(log):
    """The test functions running when regrtest's --timeout fired: the
    innermost test_* frame of each "Timeout (...)!" traceback."""
    res = []
    try:
        lines = open(log, errors="replace").read().splitlines()
    except OSError:
        return res
    for i, line in enumerate(lines):
        if line.startswith("Timeout ("):
            for tb in lines[i + 1:i + 200]:
                m = HUNG.search(tb)
                if m:
                    res.append("%s %s" % (m.group(1), m.group(2)))
                    break
    return res


def module_of(case):
    parts = [p for p in case.split(".") if p.startswith("test_")]
    return parts[0] if parts else "?"


def cases(xml):
    res = {}
    try:
        root = ET.parse(xml).getroot()
    except (OSError, ET.ParseError):
        return res
    for tc in root.iter("testcase"):
        name = tc.get("name", "?")
        if tc.get("classname"):
            name = "%s.%s" % (tc.get("classname"), name)
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
    for h in hung_tests(plog):
        print("  timed out under the preload in: %s" % h)
    # Cases of a module that did not finish under the preload are missing
    # from its XML: counted per module (already a regression above).
    unfinished = {m for m, r in pm.items() if r not in ("passed", "failed", "skipped", "env-changed")}
    lost = {}
    diff = []
    for n in sorted(set(bc) | set(pc)):
        b, p = bc.get(n, "missing"), pc.get(n, "missing")
        if b == p:
            continue
        if p == "missing" and module_of(n) in unfinished:
            lost[module_of(n)] = lost.get(module_of(n), 0) + 1
            continue
        diff.append((n, b, p))
    print()
    print("test cases: %d without the preload, %d with; %d differ"
          % (len(bc), len(pc), len(diff) + sum(lost.values())))
    for mod, k in sorted(lost.items()):
        print("  %d test cases of %s not reported under the preload (%s)" % (k, mod, pm[mod]))
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

# SPDX-License-Identifier: MIT
"""cg_counts.py - reads what bench/bm_callgrind left in a directory: the cases
it ran (cases.txt: name, iterations, frames walked, frames kept) and one
callgrind output file per case (a client-request dump named after it).
Used by bench/callgrind.sh and bench/callgrind_guard.sh."""
import glob
import os
import re


def load(d):
    """Return (cases, order, ir): cases maps a name to (iterations, walked,
    kept), order lists the names as run, ir maps a name to instructions per
    iteration."""
    cases, order = {}, []
    for line in open(os.path.join(d, "cases.txt")):
        name, n, walked, kept = line.split()
        cases[name] = (int(n), int(walked), int(kept))
        order.append(name)
    ir = {}
    for f in glob.glob(os.path.join(d, "cg.out.*")):
        trig = tot = None
        for line in open(f):
            m = re.match(r"desc: Trigger: Client Request: (\S+)", line)
            if m:
                trig = m.group(1)
            m = re.match(r"(?:summary|totals): (\d+)", line)
            if m:
                tot = int(m.group(1))
        if trig in cases and tot is not None:
            ir[trig] = tot / cases[trig][0]
    return cases, order, ir

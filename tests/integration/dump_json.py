#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""dump_json.py - read a memledger dump through the command, for the tests.

The tests do not parse the dump format themselves: this runs
`memledger report --format json --kinds all --no-default-suppressions FILE`
(every stack of the dump, still-reachable ones and the ones the built-in
rules would suppress included; schema in doc/report-json.md) and answers
from that JSON.  A dump the command refuses (incomplete, inconsistent, not a
dump) gives exit status 1 and the command's message on stderr.

Usage: dump_json.py unfreed FILE          "<blocks> <bytes>" of the dump
       dump_json.py header FILE KEY       a value of the JSON's "dump" object
                                          (exit 3 when the JSON has no KEY)
       dump_json.py stacks FILE           per stack id, ascending:
                                          "id blocks bytes usable min max oldest"
                                          (the kinds of a stack added up)
       dump_json.py stacks-kinds FILE     the same per stack and leak kind, then
                                          the kind ("-" when unclassified)
       dump_json.py frames FILE ID        the return addresses of stack ID
                                          (hex, no 0x), innermost first, but
                                          memledger's own frames (the
                                          command drops them)
       dump_json.py in-module FILE SUFFIX the "stacks" lines of the stacks with
                                          a frame in a module whose path ends
                                          with SUFFIX
       dump_json.py newer FILE            per block size (stacks whose blocks
                                          all have one size, added up):
                                          "size blocks newer_blocks
                                          newer_bytes"
       dump_json.py newer-since FILE      the previous dump's time, as the
                                          header's "time" writes it
       dump_json.py fds FILE              the dump's descriptors, threads or
       dump_json.py threads FILE          mappings (the report's groups per
       dump_json.py mappings FILE         creation stack and kind), one line
                                          per id the report lists:
                                          "id kind stack count bytes funcs
                                          details" (the group's stack id or
                                          "-", its count and bytes, its
                                          frames' functions innermost first
                                          joined by "," ("?" unknown, "-"
                                          none), its details joined by ";"
                                          ("-" none)); a group whose ids
                                          were cut (16 kept) adds a line
                                          with id "+N", N the ids left out
       dump_json.py consistent FILE       the command reads the dump, and its
                                          stacks add up to its unfreed line
                                          (min <= max, blocks*min <= bytes <=
                                          blocks*max, usable >= bytes); prints
                                          the reason when not (exit 1)

Environment: ML_MEMLEDGER, the command (default: $ML_BUILDDIR/memledger, else
./memledger); ML_DUMP_JSON_CACHE, a directory where each dump's JSON is kept
(keyed by path, size and modification time) so that a test asking many
questions of one dump runs the command once.
"""
import datetime
import hashlib
import json
import os
import subprocess
import sys


class DumpError(Exception):
    pass


def _tool():
    t = os.environ.get("ML_MEMLEDGER")
    if t:
        return t
    return os.path.join(os.environ.get("ML_BUILDDIR", "."), "memledger")


def report(path):
    """The JSON report of the dump at path (a dict); DumpError when the
    command refuses it."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise DumpError("%s: %s" % (path, e.strerror))
    cache = os.environ.get("ML_DUMP_JSON_CACHE")
    cfile = None
    if cache:
        key = "%s\0%d\0%d\0%d" % (os.path.abspath(path), st.st_ino, st.st_size, st.st_mtime_ns)
        cfile = os.path.join(cache, hashlib.sha1(key.encode()).hexdigest() + ".json")
        try:
            with open(cfile, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            pass
    args = [_tool(), "report", "--format", "json", "--kinds", "all",
            "--no-default-suppressions", "--quiet", path]
    try:
        p = subprocess.run(args, capture_output=True, check=False)
    except OSError as e:
        raise DumpError("%s: %s" % (args[0], e.strerror))
    if p.returncode != 0:
        raise DumpError(p.stderr.decode("utf-8", "replace").strip() or
                        "memledger report exited with status %d" % p.returncode)
    try:
        doc = json.loads(p.stdout.decode("utf-8"))
    except ValueError as e:
        raise DumpError("memledger report --format json: not JSON: %s" % e)
    if cfile:
        try:
            os.makedirs(cache, exist_ok=True)
            tmp = "%s.%d" % (cfile, os.getpid())
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            os.rename(tmp, cfile)
        except OSError:
            pass
    return doc


def all_stacks(doc):
    """Every stack of the report, one entry per stack and kind, in stack id
    order (the order of the dump's [unfreed] section)."""
    order = {"definite": 0, "indirect": 1, "possible": 2, "reachable": 3}
    v = list(doc.get("stacks", [])) + list(doc.get("suppressed_stacks", []))
    v.sort(key=lambda s: (s["id"], order.get(s.get("kind"), 4)))
    return v


def merged_stacks(doc):
    """all_stacks with the kinds of each stack added up: [(id, dict)]."""
    out = {}
    for s in all_stacks(doc):
        m = out.get(s["id"])
        if m is None:
            out[s["id"]] = dict(s)
            continue
        for k in ("blocks", "bytes", "usable"):
            m[k] += s[k]
        m["min_size"] = min(m["min_size"], s["min_size"])
        m["max_size"] = max(m["max_size"], s["max_size"])
        m["oldest_seq"] = min(m["oldest_seq"], s["oldest_seq"])
    return sorted(out.items())


def stack_line(s):
    return "%d %d %d %d %d %d %d" % (s["id"], s["blocks"], s["bytes"], s["usable"],
                                     s["min_size"], s["max_size"], s["oldest_seq"])


def frame_groups(stack):
    """The stack's frames grouped by return address, innermost first: an
    address symbolized with inlined calls gives several frames, the inlined
    ones first ("inlined": true) and the containing function last."""
    groups, cur = [], []
    for f in stack.get("frames", []):
        cur.append(f)
        if not f.get("inlined"):
            groups.append(cur)
            cur = []
    if cur:
        groups.append(cur)
    return groups


def find_stack(doc, key):
    """The stack of id key, or with key "size=N" the first one (by id) whose
    blocks all have N bytes; None when there is none."""
    want = None
    if key.startswith("size="):
        n = key[5:]
        for s in all_stacks(doc):
            if str(s["min_size"]) == n and str(s["max_size"]) == n:
                return s
        return None
    try:
        want = int(key)
    except ValueError:
        return None
    for s in all_stacks(doc):
        if s["id"] == want:
            return s
    return None


RES_SECTIONS = ("fds", "threads", "mappings")


def res_groups(doc, section):
    """The report's groups of a resource section ("fds", "threads",
    "mappings"), in the report's order."""
    return list(doc.get(section, []))


def frame_functions(group):
    """The function names of a group's (or a stack's) frames, innermost
    first, inlined ones included; "?" where unknown."""
    return [f.get("function") or "?" for f in group.get("frames", [])]


def res_rows(doc, section):
    """One row per id the report lists for the section: (id, kind, stack,
    count, bytes, functions, details, group); a group whose ids were cut
    adds a row with id "+N" (N ids left out).  id is the report's (a number,
    or an "0x..." string for mappings); stack None when the creation was not
    seen."""
    rows = []
    for g in res_groups(doc, section):
        ids = list(g.get("ids", []))
        if g["count"] > len(ids):
            ids.append("+%d" % (g["count"] - len(ids)))
        for i in ids:
            rows.append((i, g["kind"], g.get("stack"), g["count"], g["bytes"],
                         frame_functions(g), list(g.get("details", [])), g))
    return rows


def res_line(row):
    i, kind, stack, count, nbytes, funcs, details, _ = row
    return "%s %s %s %d %d %s %s" % (
        i, kind, "-" if stack is None else stack, count, nbytes,
        ",".join(f.replace(" ", "_") for f in funcs) or "-",
        ";".join(details) or "-")


def check_consistent(doc):
    """The reasons the report's stacks do not add up to its unfreed line."""
    bad = []
    blocks = nbytes = 0
    seen = set()
    for s in all_stacks(doc):
        line = stack_line(s) + " " + s.get("kind", "-")
        if (s["id"], s.get("kind")) in seen:
            bad.append("stack and kind twice: " + line)
        seen.add((s["id"], s.get("kind")))
        b, y = s["blocks"], s["bytes"]
        if (s["min_size"] > s["max_size"] or b * s["min_size"] > y or
                y > b * s["max_size"] or s["usable"] < y or b < 1):
            bad.append("inconsistent stack: " + line)
        blocks += b
        nbytes += y
    u = doc["unfreed"]
    if (u["blocks"], u["bytes"]) != (blocks, nbytes):
        bad.append("unfreed line says %d %d, the stacks sum to %d %d" %
                   (u["blocks"], u["bytes"], blocks, nbytes))
    return bad


def _main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, path = argv[0], argv[1]
    try:
        doc = report(path)
    except DumpError as e:
        if cmd == "consistent":
            print(e)
        else:
            sys.stderr.write("%s\n" % e)
        return 1
    if cmd == "unfreed" and len(argv) == 2:
        print("%d %d" % (doc["unfreed"]["blocks"], doc["unfreed"]["bytes"]))
    elif cmd == "header" and len(argv) == 3:
        d = doc.get("dump", {})
        if argv[2] not in d or argv[2] == "path":
            return 3
        if d[argv[2]] is not None:
            print(d[argv[2]])
    elif cmd == "stacks" and len(argv) == 2:
        for _, s in merged_stacks(doc):
            print(stack_line(s))
    elif cmd == "stacks-kinds" and len(argv) == 2:
        for s in all_stacks(doc):
            print(stack_line(s) + " " + s.get("kind", "-"))
    elif cmd == "frames" and len(argv) == 3:
        s = find_stack(doc, argv[2])
        for g in frame_groups(s) if s else []:
            print(g[-1]["address"][2:])
    elif cmd == "in-module" and len(argv) == 3:
        for _, s in merged_stacks(doc):
            if any((f.get("module") or "").endswith(argv[2]) for f in s.get("frames", [])):
                print(stack_line(s))
    elif cmd == "newer" and len(argv) == 2:
        rows = {}
        for _, s in merged_stacks(doc):
            if s["min_size"] != s["max_size"]:
                continue
            r = rows.setdefault(s["min_size"], [0, 0, 0])
            r[0] += s["blocks"]
            r[1] += s.get("newer_blocks", 0)
            r[2] += s.get("newer_bytes", 0)
        for size in sorted(rows):
            print("%d %d %d %d" % tuple([size] + rows[size]))
    elif cmd == "newer-since" and len(argv) == 2:
        ns = doc.get("newer", {}).get("since_unix_ns")
        if ns is None:
            return 3
        t = datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc)
        print(t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ns // 10**6 % 1000))
    elif cmd in RES_SECTIONS and len(argv) == 2:
        for r in res_rows(doc, cmd):
            print(res_line(r))
    elif cmd == "consistent" and len(argv) == 2:
        bad = check_consistent(doc)
        for b in bad:
            print(b)
        return 1 if bad else 0
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(_main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(0)

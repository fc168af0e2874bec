#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wrap_symbolize.py - symbolize one stack of a memledger dump.

Usage: wrap_symbolize.py [-f] DUMP STACK_ID
       wrap_symbolize.py [-f] DUMP size=N      (the stack of the [unfreed]
                                                line whose min = max = N)
       wrap_symbolize.py -a DUMP               (every [unfreed] line)

Each frame of the stack is mapped to its module with the dump's [modules]
lines (lo hi base build-id path) and looked up with
`addr2line -i -f -C -e MODULE OFFSET`, OFFSET = frame - base - 1 (frames are
return addresses).  Prints one function name per line, innermost first; a
frame whose code was inlined gives several lines (addr2line -i prints the
inlined function first, then the functions it was inlined into, which is the
stack order).  A frame outside every module, or that addr2line cannot name,
prints "??".  With -f, prints one line per frame instead: the names of that
frame joined by " < ", then a tab and the module's base name.
With -a, prints one line per [unfreed] line: its smallest size, a tab, and
the names of its stack, space-separated (one addr2line run per module).
Exit status: 0, or 2 when the dump or the stack is not found.
"""
import os
import subprocess
import sys


def read_dump(path):
    sections = {}
    cur = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("[") and line.endswith("]") and " " not in line:
                cur = line[1:-1]
                sections.setdefault(cur, [])
                continue
            if cur is not None:
                sections[cur].append(line)
    return sections


def parse_modules(lines):
    mods = []
    for l in lines:
        p = l.split(" ", 4)
        if len(p) < 5:
            continue
        try:
            lo, hi, base = (int(x, 16) for x in p[:3])
        except ValueError:
            continue
        mods.append((lo, hi, base, p[3], p[4]))
    return mods


def find_stack(sections, key):
    if key.startswith("size="):
        n = key[5:]
        for l in sections.get("unfreed", []):
            p = l.split()
            if len(p) in (7, 8) and p[4] == n and p[5] == n:
                key = p[0]
                break
        else:
            return None
    for l in sections.get("stacks", []):
        p = l.split()
        if p and p[0] == key:
            return [int(x, 16) for x in p[2:]]
    return None


def symbolize(mods, frames):
    """[(names, module basename)] per frame."""
    where = []
    for fr in frames:
        m = None
        for mod in mods:
            if mod[0] <= fr < mod[1]:
                m = mod
                break
        where.append(m)
    # one addr2line per module, -a delimits the answers
    per_mod = {}
    for i, (fr, m) in enumerate(zip(frames, where)):
        if m is not None and os.path.exists(m[4]):
            per_mod.setdefault(m[4], []).append((i, fr - m[2] - 1))
    names = [["??"] for _ in frames]
    for path, items in per_mod.items():
        args = ["addr2line", "-a", "-i", "-f", "-C", "-e", path]
        args += ["0x%x" % off for _, off in items]
        try:
            out = subprocess.run(args, capture_output=True, text=True, check=False).stdout
        except OSError:
            continue
        # "0x<addr>" then (function, file:line) pairs, per address
        blocks = []
        lines = out.splitlines()
        k = 0
        while k < len(lines):
            if _is_addr_line(lines[k]):
                blocks.append([])
                k += 1
            elif blocks:
                blocks[-1].append(lines[k])
                k += 2
            else:
                k += 1
        for (i, _), b in zip(items, blocks):
            names[i] = b if b else ["??"]
    return [(n, os.path.basename(m[4]) if m else "?") for n, m in zip(names, where)]


def _is_addr_line(l):
    if not l.startswith("0x"):
        return False
    try:
        int(l, 16)
        return True
    except ValueError:
        return False


def all_unfreed(path):
    sections = read_dump(path)
    mods = parse_modules(sections.get("modules", []))
    rows = []
    for l in sections.get("unfreed", []):
        p = l.split()
        if len(p) not in (7, 8):  # format 2 adds the leak kind
            continue
        rows.append((p[4], find_stack(sections, p[0]) or []))
    # one symbolize call for all frames: one addr2line run per module
    flat = [fr for _, frames in rows for fr in frames]
    syms = symbolize(mods, flat)
    k = 0
    for size, frames in rows:
        names = []
        for n, _ in syms[k:k + len(frames)]:
            names.extend(n)
        k += len(frames)
        print("%s\t%s" % (size, " ".join(names)))
    return 0


def main(argv):
    if len(argv) == 2 and argv[0] == "-a":
        try:
            return all_unfreed(argv[1])
        except OSError as e:
            sys.stderr.write("%s\n" % e)
            return 2
    per_frame = False
    if argv and argv[0] == "-f":
        per_frame = True
        argv = argv[1:]
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    try:
        sections = read_dump(argv[0])
    except OSError as e:
        sys.stderr.write("%s\n" % e)
        return 2
    frames = find_stack(sections, argv[1])
    if frames is None:
        sys.stderr.write("no stack %s in %s\n" % (argv[1], argv[0]))
        return 2
    mods = parse_modules(sections.get("modules", []))
    for names, mod in symbolize(mods, frames):
        if per_frame:
            print("%s\t%s" % (" < ".join(names), mod))
        else:
            for n in names:
                print(n)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(0)

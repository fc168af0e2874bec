#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wrap_symbolize.py - symbolize one stack of a memledger dump.

Usage: wrap_symbolize.py [-f] DUMP STACK_ID
       wrap_symbolize.py [-f] DUMP size=N      (the stack of the [unfreed]
                                                line whose min = max = N)
       wrap_symbolize.py -a DUMP               (every [unfreed] line)

The dump is read through the command (dump_json.py: `memledger report
--format json`): each frame's module and offset (return address minus the
module's load bias) come from it, and the frame is looked up with
`addr2line -i -f -C -e MODULE OFFSET-1` (frames are return addresses), so
that the names do not come from memledger's own symbolizer.  Prints one function name per line, innermost first; a
frame whose code was inlined gives several lines (addr2line -i prints the
inlined function first, then the functions it was inlined into, which is the
stack order).  A frame outside every module, or that addr2line cannot name,
prints "??".  With -f, prints one line per frame instead: the names of that
frame joined by " < ", then a tab and the module's base name.
With -a, prints one line per unfreed stack and leak kind, in stack id order:
its smallest size, a tab, and the names of its stack, space-separated (one
addr2line run per module).
Exit status: 0, or 2 when the dump or the stack is not found.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dump_json  # noqa: E402


def raw_frames(stack):
    """The stack's return addresses, innermost first: [(module, offset)],
    module None when the address lies outside every module."""
    out = []
    for g in dump_json.frame_groups(stack):
        f = g[-1]
        off = f.get("offset")
        out.append((f.get("module"), int(off, 16) if off else None))
    return out


def symbolize(frames):
    """[(names, module basename)] per frame of raw_frames."""
    # one addr2line per module, -a delimits the answers
    per_mod = {}
    for i, (mod, off) in enumerate(frames):
        if mod is not None and off is not None and os.path.exists(mod):
            per_mod.setdefault(mod, []).append((i, off - 1))
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
    return [(n, os.path.basename(mod) if mod else "?") for n, (mod, _) in zip(names, frames)]


def _is_addr_line(l):
    if not l.startswith("0x"):
        return False
    try:
        int(l, 16)
        return True
    except ValueError:
        return False


def all_unfreed(path):
    doc = dump_json.report(path)
    rows = [(s["min_size"], raw_frames(s)) for s in dump_json.all_stacks(doc)]
    # one symbolize call for all frames: one addr2line run per module
    flat = [fr for _, frames in rows for fr in frames]
    syms = symbolize(flat)
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
        except dump_json.DumpError as e:
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
        doc = dump_json.report(argv[0])
    except dump_json.DumpError as e:
        sys.stderr.write("%s\n" % e)
        return 2
    stack = dump_json.find_stack(doc, argv[1])
    if stack is None:
        sys.stderr.write("no stack %s in %s\n" % (argv[1], argv[0]))
        return 2
    for names, mod in symbolize(raw_frames(stack)):
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

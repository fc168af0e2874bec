#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fds_check.py - check a dump's [fds] section against what res_fds said.

Usage: fds_check.py DUMP PROG OUT [EXPECT...]
  DUMP    the dump file (read raw: [modules], [stacks], [fds])
  PROG    the program, for its make_* functions (nm -S)
  OUT     the program's output: "leak <call> <fd> <kind>" lines must be
          listed with that kind and call and a stack through a make_*
          function; "unseen <fd> <kind>" lines with that kind, call unseen
          and no stack; "closed <how> <fd>" lines must not be listed
  EXPECT  more: "fd=N:kind:call" (listed so; call inherited/unseen means no
          stack), "gone=N" (not listed)
Prints one line per problem (nothing when all hold); exit 1 on problems.
"""
import subprocess
import sys


def sections(path):
    out, cur = {}, None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("[") and line.endswith("]") and " " not in line:
                cur = line[1:-1]
                out.setdefault(cur, [])
            elif cur:
                out[cur].append(line)
    return out


def make_ranges(prog):
    r = []
    nm = subprocess.run(["nm", "-S", "--defined-only", prog], capture_output=True, text=True)
    for line in nm.stdout.splitlines():
        p = line.split()
        if len(p) == 4 and p[3].startswith("make_"):
            a = int(p[0], 16)
            r.append((a, a + int(p[1], 16), p[3]))
    return r


def main():
    dump, prog, out = sys.argv[1:4]
    s = sections(dump)
    if "fds" not in s or "end" not in s:
        print("no [fds] section or incomplete dump")
        return 1
    fds = {}
    for line in s["fds"]:
        p = line.split(" ", 4)
        fds[int(p[3])] = {"stack": p[0], "kind": p[1], "bytes": p[2], "detail": p[4]}
    stacks = {}
    for line in s.get("stacks", []):
        p = line.split()
        stacks[p[0]] = [int(x, 16) for x in p[2:]]
    bias = None
    rp = subprocess.run(["readlink", "-f", prog], capture_output=True, text=True).stdout.strip()
    for line in s.get("modules", []):
        p = line.split(" ", 4)
        if len(p) == 5 and p[4] == rp:
            bias = int(p[2], 16)
    ranges = make_ranges(prog)
    problems = []

    def check(fd, kind, call, need_stack):
        l = fds.get(fd)
        if not l:
            problems.append("fd %d (%s %s) not listed" % (fd, call, kind))
            return
        if l["kind"] != kind or not l["detail"].startswith(call + " ") or l["bytes"] != "0":
            problems.append("fd %d: want %s %s, got: %s %s %s" % (fd, kind, call, l["kind"], l["bytes"], l["detail"]))
        if not need_stack:
            if l["stack"] != "-":
                problems.append("fd %d (%s): stack %s, want -" % (fd, call, l["stack"]))
            return
        fr = stacks.get(l["stack"])
        if fr is None:
            problems.append("fd %d (%s): stack %s not in [stacks]" % (fd, call, l["stack"]))
            return
        if bias is None:
            problems.append("the program is not in [modules]")
            return
        if not any(lo <= f - 1 - bias < hi for f in fr for lo, hi, _ in ranges):
            problems.append("fd %d (%s): stack %s has no frame in a make_* function" % (fd, call, l["stack"]))

    with open(out) as f:
        for line in f:
            p = line.split()
            if len(p) == 4 and p[0] == "leak":
                check(int(p[2]), p[3], p[1], True)
            elif len(p) == 3 and p[0] == "unseen":
                check(int(p[1]), p[2], "unseen", False)
            elif len(p) == 3 and p[0] == "closed":
                if int(p[2]) in fds:
                    problems.append("fd %s closed by %s is listed: %s" % (p[2], p[1], fds[int(p[2])]))
    for e in sys.argv[4:]:
        if e.startswith("gone="):
            if int(e[5:]) in fds:
                problems.append("fd %s is listed: %s" % (e[5:], fds[int(e[5:])]))
        elif e.startswith("fd="):
            n, kind, call = e[3:].split(":")
            check(int(n), kind, call, call not in ("inherited", "unseen"))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

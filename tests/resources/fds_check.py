#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""fds_check.py - check a dump's descriptors against what res_fds said.

Usage: fds_check.py DUMP OUT [EXPECT...]
  DUMP    the dump, read through the command (dump_json.py: the report's
          "fds" groups, per creation stack and kind, with their ids,
          details and symbolized frames)
  OUT     the program's output: "leak <call> <fd> <kind>" lines must be
          listed with that kind, in a group whose details all come from
          that call and whose frames go through a make_* function;
          "unseen <fd> <kind>" lines in a group of that kind without a
          stack whose details have an "unseen" one; "closed <how> <fd>"
          lines must not be listed
  EXPECT  more: "fd=N:kind:call[:target]" (listed so; call inherited or
          unseen means no stack, and the group has the detail "call target",
          or one starting with "call " without a target), "gone=N" (not
          listed)
A descriptor of a group whose ids the report cut (it keeps 16, in number
order) counts as listed when its number is above the group's last kept id.
Prints one line per problem (nothing when all hold); exit 1 on problems.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import dump_json  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    dump, out = sys.argv[1:3]
    try:
        doc = dump_json.report(dump)
    except dump_json.DumpError as e:
        print("the command does not read the dump: %s" % e)
        return 1
    groups = dump_json.res_groups(doc, "fds")
    problems = []

    def group_of(fd):
        """The group listing fd, else one that may hold it among its cut ids."""
        for g in groups:
            if fd in g["ids"]:
                return g
        for g in groups:
            if g["count"] > len(g["ids"]) and g["ids"] and fd > g["ids"][-1]:
                return g
        return None

    def show(g):
        return "%s %s count %d bytes %d %s [%s]" % (
            g.get("stack"), g["kind"], g["count"], g["bytes"], g["details"],
            ",".join(dump_json.frame_functions(g)))

    def check(fd, kind, call, need_stack, target=None):
        g = group_of(fd)
        if not g:
            problems.append("fd %d (%s %s) not listed" % (fd, call, kind))
            return
        if g["kind"] != kind or g["bytes"] != 0:
            problems.append("fd %d: want %s %s, got: %s" % (fd, kind, call, show(g)))
        if not need_stack:
            if g.get("stack") is not None or g.get("frames"):
                problems.append("fd %d (%s): has a stack, want none: %s" % (fd, call, show(g)))
            want = call + " " + target if target else None
            if not any(d == want if want else d.startswith(call + " ") for d in g["details"]):
                problems.append("fd %d: no detail %s in its group: %s" % (fd, want or call, show(g)))
            return
        if g.get("stack") is None:
            problems.append("fd %d (%s): no stack: %s" % (fd, call, show(g)))
            return
        if not g["details"] or any(not d.startswith(call + " ") for d in g["details"]):
            problems.append("fd %d: want call %s: %s" % (fd, call, show(g)))
        if not any(f.startswith("make_") for f in dump_json.frame_functions(g)):
            problems.append("fd %d (%s): stack %s has no frame in a make_* function: %s" %
                            (fd, call, g.get("stack"), show(g)))

    with open(out) as f:
        for line in f:
            p = line.split()
            if len(p) == 4 and p[0] == "leak":
                check(int(p[2]), p[3], p[1], True)
            elif len(p) == 3 and p[0] == "unseen":
                check(int(p[1]), p[2], "unseen", False)
            elif len(p) == 3 and p[0] == "closed":
                g = group_of(int(p[2]))
                if g:
                    problems.append("fd %s closed by %s is listed: %s" % (p[2], p[1], show(g)))
    for e in sys.argv[3:]:
        if e.startswith("gone="):
            g = group_of(int(e[5:]))
            if g:
                problems.append("fd %s is listed: %s" % (e[5:], show(g)))
        elif e.startswith("fd="):
            v = e[3:].split(":", 3)
            n, kind, call = v[:3]
            check(int(n), kind, call, call not in ("inherited", "unseen"),
                  v[3] if len(v) > 3 else None)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

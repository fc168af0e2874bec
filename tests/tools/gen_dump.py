#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# gen_dump.py - write a valid synthetic memledger dump (format 1) whose
# stacks point into real ELF files, for measuring the symbolizer:
#   gen_dump.py OUT NSTACKS NBLOCKS NADDRS ELF...
# Each ELF is "loaded" at a made-up base; NADDRS distinct return addresses
# are drawn at random from the .text sections; every stack has 8..32 frames.
import random, re, subprocess, sys

out, nstacks, nblocks, naddrs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
elfs = sys.argv[5:]
random.seed(42)
mods, texts = [], []
base = 0x7f0000000000
for i, path in enumerate(elfs):
    notes = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", notes)
    bid = m.group(1) if m else "-"
    secs = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True).stdout
    t = re.search(r"\.text\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", secs)
    lo, size = int(t.group(1), 16), int(t.group(2), 16)
    b = base + i * 0x10000000
    mods.append("%x %x %x %s %s" % (b, b + lo + size + 0x1000, b, bid, path))
    texts.append((b + lo, size))
addrs = []
for k in range(naddrs):
    start, size = texts[k % len(texts)]
    addrs.append(start + random.randrange(1, size))
per = max(1, nblocks // nstacks)
with open(out, "w") as f:
    blocks = per * nstacks
    f.write("memledger-dump 1\nunfreed: %d blocks, %d bytes\nusable: %d bytes\n" % (blocks, blocks * 2048, blocks * 2048))
    f.write("[header]\npid: 1\nppid: 0\nexe: %s\ncmdline: synthetic\ntime: 2026-01-01T00:00:00.000Z\n"
            "unix_time_ns: 0\ntrigger: api\nsequence: 1\nthreshold: 1024\nunwind: libunwind\nmax_frames: 32\n"
            "options: synthetic=1\n" % elfs[0])
    f.write("[totals]\n[resources]\n[modules]\n" + "\n".join(mods) + "\n[stacks]\n")
    for s in range(1, nstacks + 1):
        n = random.randint(8, 32)
        f.write("%d %d %s\n" % (s, n, " ".join("%x" % random.choice(addrs) for _ in range(n))))
    f.write("[unfreed]\n")
    for s in range(1, nstacks + 1):
        f.write("%d %d %d %d 2048 2048 %d\n" % (s, per, per * 2048, per * 2048, s))
    f.write("[end]\n")

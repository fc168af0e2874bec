# SPDX-License-Identifier: MIT
# bench/alloc_workload.py - an allocation-heavy interpreter workload for
# bench/compare.sh: builds and drops dicts, lists, strings and bytes of many
# sizes (CPython's small objects come from pymalloc arenas; larger strings,
# lists' item arrays, dict tables and bytes come from malloc).
# Deterministic; prints a checksum.  Usage: alloc_workload.py [ROUNDS]
import sys

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
check = 0
for r in range(rounds):
    table = {}
    for i in range(40000):
        key = "key-%d-%d" % (r, i)
        table[key] = [i, str(i) * (1 + i % 40), {"n": i, "s": key}]
    rows = [v[1] for v in table.values() if len(v[1]) > 20]
    blob = "".join(rows)  # one large string (tracked at any threshold)
    chunks = [bytes(64 + (i % 64) * 64) for i in range(20000)]  # 64 B..4 KiB
    words = blob.split("1")
    check = (check + len(blob) + len(words) + sum(map(len, chunks))) % 1000000007
    del table, rows, blob, chunks, words
print(check)

#!/bin/bash
# SPDX-License-Identifier: MIT
# syscalls.sh - bm_syscalls without memledger, with it at its default
# (every descriptor recorded with its stack) and with MEMLEDGER_ENABLED=0.
# In each run the program's calls (memledger's hooks when preloaded) and
# glibc's own functions alternate batch by batch in one process, so the
# ratio is immune to the machine's slow spells; without the preload it
# shows the method's noise (both sides are glibc).
# Usage: bench/syscalls.sh [BATCHES [PAIRS_PER_BATCH]]  (from the build directory)
b=$(cd "$(dirname "$0")/.." && pwd)
prog=$b/bench/bm_syscalls
lib=$b/.libs/libmemledger.so
[ -x "$prog" ] && [ -e "$lib" ] || { echo "build first (make bench/bm_syscalls)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== no preload"
"$prog" "$@"
echo "== memledger (default)"
(cd "$tmp" && MEMLEDGER_QUIET=1 MEMLEDGER_DUMP_AT_EXIT=0 LD_PRELOAD=$lib "$prog" "$@")
echo "== memledger, MEMLEDGER_ENABLED=0"
(cd "$tmp" && MEMLEDGER_ENABLED=0 LD_PRELOAD=$lib "$prog" "$@")

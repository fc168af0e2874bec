#!/bin/bash
# SPDX-License-Identifier: MIT
# stream.sh - report, diff and trend read a dump as a stream: their memory
# is bounded by the stacks, not by the size of the file.  A dump of 500
# stacks (tests/tools/gen_dump.py) grown by a 48 MB section this reader does
# not know (a later version may add one, one line per block: readers skip
# it) is reported within 8 MiB of the peak RSS of the same dump without it
# (plain, gzip-compressed and from a pipe), and under an address-space limit
# (ulimit -v) 16 MB above the one the small dump needs.  Input that is not
# a dump fails at once with "memledger: FILE:LINE: message" and exit 2, not
# after reading it: an endless `yes`, 200 MB of it through a pipe, a line
# over 64 KiB, an endless [header].
. "$(dirname "$0")/lib_tools.sh" || { echo "Bail out! cannot read lib_tools.sh"; exit 1; }

command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }
tap_plan 12
d=$(fresh_dir stream)
synthetic_dump "$d/small.dump" 500 1000 2000
# The same dump with 48 MB of lines of a section it does not know before
# [end] (not [blocks], which it reads: MEMLEDGER_ADDRESSES).
{
  head -n -1 "$d/small.dump"
  echo "[later_section]"
  awk 'BEGIN { for (i = 0; i < 1500000; i++)
                 printf "%x %d %d %d definite\n", 94000000000000 + i * 2048, 2048, i, i % 500 + 1 }'
  echo "[end]"
} >"$d/big.dump"
gzip -1 -c "$d/big.dump" >"$d/big.dump.gz"
tap_diag "dumps of $(stat -c %s "$d/small.dump") and $(stat -c %s "$d/big.dump") bytes"

# peak_kb COMMAND...: the largest peak RSS (KiB) of the processes COMMAND ran
# (a shell command line); its exit status in $T_TMP/rc, stderr in $T_TMP/err.
peak_kb() {
  python3 -c '
import resource, subprocess, sys
r = subprocess.run(["bash", "-c", sys.argv[1]], stdout=subprocess.DEVNULL,
                   stderr=open(sys.argv[2], "w"))
open(sys.argv[3], "w").write("%d\n" % r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$1" "$T_TMP/err" "$T_TMP/rc"
}
# within8 DESCRIPTION BASE_KB KB: ok when exit 0 and KB <= BASE_KB + 8 MiB
# (a reader that holds the text needs 20 MiB more: its peak comes before the
# symbolizer's).
within8() {
  local rc
  rc=$(cat "$T_TMP/rc")
  if [ "$rc" = 0 ] && [ "$3" -le $(($2 + 8192)) ]; then
    tap_ok "$1 ($3 KiB, $2 KiB without the section)"
  else
    tap_fail "$1" "exit $rc, peak $3 KiB, $2 KiB without the section" "$(head -n 3 "$T_TMP/err")"
  fi
}

r="\"$ML\" report --quiet --no-default-suppressions"
base=$(peak_kb "$r '$d/small.dump'")
within8 "report: a 48 MB section takes no memory" "$base" "$(peak_kb "$r '$d/big.dump'")"
within8 "report FILE.gz: the same" "$base" "$(peak_kb "$r '$d/big.dump.gz'")"
within8 "report - from a pipe: the same" "$base" "$(peak_kb "cat '$d/big.dump' | $r -")"
base=$(peak_kb "\"$ML\" diff --quiet '$d/small.dump' '$d/small.dump'")
within8 "diff: the same" "$base" "$(peak_kb "\"$ML\" diff --quiet '$d/small.dump' '$d/big.dump'")"
mkdir "$d/s" "$d/b"
cp "$d/small.dump" "$d/s/memledger.1.1.dump"
cp "$d/small.dump" "$d/s/memledger.1.2.dump"
cp "$d/small.dump" "$d/b/memledger.1.1.dump"
cp "$d/big.dump" "$d/b/memledger.1.2.dump"
base=$(peak_kb "\"$ML\" trend --quiet '$d/s'")
within8 "trend: the same" "$base" "$(peak_kb "\"$ML\" trend --quiet '$d/b'")"

# The smallest address-space limit (in steps of 8 MiB) under which the small
# dump is reported; the big one must be reported with 16 MiB more.
# The same limit keeps a reader that would hold an endless input from taking
# the machine's memory in the tests after this one.
limited() { (ulimit -v "$1" && exec "$ML" report --quiet "$2") >/dev/null 2>&1; }
lo=8192 hi=$((4096 * 1024))
if limited $hi "$d/small.dump"; then
  while [ $((hi - lo)) -gt 8192 ]; do
    mid=$(((lo + hi) / 2))
    if limited $mid "$d/small.dump"; then hi=$mid; else lo=$mid; fi
  done
  lim=$((hi + 16384))
  (ulimit -v $lim && exec "$ML" report --quiet "$d/big.dump") >/dev/null 2>"$T_TMP/err"
  tap_eq "ulimit -v $lim KiB (16 MiB above the small dump's need): the big dump reports" \
    "0 " "$? $(head -n 1 "$T_TMP/err")"
else
  lim=unlimited # AddressSanitizer reserves terabytes of address space
  tap_skip "report does not run under ulimit -v $hi (a sanitizer build?)"
fi

# Not a dump: refused from its first bytes, whatever follows.
to="timeout -k 5 60"
want="2 memledger: <stdin>:1: not a memledger dump (the first line is not \"memledger-dump 1\")"
kb=$(peak_kb "yes | head -c 200M | $to \"$ML\" report -")
tap_eq "200 MB of yes through a pipe: exit 2 at line 1" "$want" "$(cat "$T_TMP/rc") $(cat "$T_TMP/err")"
tap_check "... without reading it into memory ($kb KiB)" test "$kb" -lt 65536
# An endless stream.
(ulimit -v $lim && yes | $to "$ML" report -) >/dev/null 2>"$T_TMP/err"
tap_eq "an endless yes: exit 2 at line 1" "$want" "$? $(cat "$T_TMP/err")"

# Garbage after a good start.
(ulimit -v $lim && { head -n 4 "$d/small.dump"; printf 'exe: '; yes x | tr -d '\n'; } |
  $to "$ML" report -) >/dev/null 2>"$T_TMP/err"
tap_eq "an endless line: exit 2 once it is over 64 KiB" \
  "2 memledger: <stdin>:5: line longer than 65536 bytes: not a memledger dump" "$? $(cat "$T_TMP/err")"
(ulimit -v $lim && { head -n 4 "$d/small.dump"; yes 'key: value'; } |
  $to "$ML" report -) >/dev/null 2>"$T_TMP/err"
tap_eq "an endless [header]: exit 2 after 4096 lines" \
  "2 memledger: <stdin>:4101: more than 4096 lines in [header]: not a memledger dump" \
  "$? $(cat "$T_TMP/err")"

# trend orders its dumps by their headers first: reading one stops after
# [header], and a file that is not a dump is refused there.
(ulimit -v $lim && timeout -k 5 20 "$ML" trend "$d/small.dump" <(yes)) >/dev/null 2>"$T_TMP/err"
tap_eq "trend with an endless yes: exit 2 at line 1" "2 1" \
  "$? $(grep -c '^memledger: /dev/fd/[0-9]*:1: not a memledger dump' "$T_TMP/err")"

#!/bin/bash
# SPDX-License-Identifier: MIT
# semantics.sh - every malloc entry point behaves as glibc's under the
# preload: prog_semantics prints one observation per check, and the run with
# the preload must print what the run on plain glibc prints.  Then jemalloc's
# API through the preload: it resolves, works, and its blocks are tracked.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$IT_BIN/prog_semantics
need_file "$PROG"
d=$(fresh_dir sem)

"$PROG" >"$d/glibc.out" 2>"$d/glibc.err"
rc0=$?
MEMLEDGER_QUIET=1 ml_run "$d" "$PROG" >"$d/ml.out" 2>"$d/ml.err"
rc1=$?
[ -s "$d/glibc.out" ] || bail "prog_semantics printed nothing on plain glibc"

checks=$(grep -c '' "$d/glibc.out")
# + exit status, stderr, exit dump, and 10 on the jemalloc API
tap_plan $((checks + 3 + 10))

tap_eq "exit status with the preload equals plain glibc's" "$rc0" "$rc1"

# glibc before 2.38 rounds aligned_alloc's non-power-of-two alignment up
# like memalign; 2.38 and later refuse it with EINVAL, which is what
# memledger does (front.h) whatever the installed glibc.
glibc_ver=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }')
glibc_new=0
case $glibc_ver in
  2.3[89]* | 2.[4-9][0-9]* | [3-9].*) glibc_new=1 ;;
esac

while IFS= read -r line; do
  name=${line%%:*}
  got=$(awk -v n="$name:" 'index($0, n) == 1 { print; exit }' "$d/ml.out")
  case $name in
    x-*)
      # memledger's own promise, beyond glibc
      tap_eq "$name (memledger's promise)" "$name: yes" "$got"
      ;;
    aligned_alloc_npot)
      if [ $glibc_new = 1 ]; then
        tap_eq "$name matches glibc" "$line" "$got"
      else
        if [ "$got" = "$name: null errno=EINVAL" ]; then
          tap_ok "$name: NULL + EINVAL as glibc >= 2.38 (installed glibc $glibc_ver rounds up)"
        else
          tap_fail "$name: NULL + EINVAL as glibc >= 2.38" "got: $got" "glibc $glibc_ver: $line"
        fi
      fi
      ;;
    *)
      tap_eq "$name matches glibc" "$line" "$got"
      ;;
  esac
done <"$d/glibc.out"

if [ -s "$d/ml.err" ]; then
  tap_fail "nothing on stderr with MEMLEDGER_QUIET=1" "$(head -5 "$d/ml.err")"
else
  tap_ok "nothing on stderr with MEMLEDGER_QUIET=1"
fi

# Every block the checks allocate is freed, by free or by realloc(p, 0):
# the exit dump of the run has nothing unfreed, after tracking some.  (The
# first huge request that jemalloc refuses wrote an alloc-failure dump
# before it: the exit dump is the last one.)
sd=$(dumps_in "$d" | tail -n1)
tap_eq "the checks leave nothing unfreed (realloc(p, 0) freed its block); allocs = frees > 0" \
  "0 0|yes" "$(dump_unfreed "$sd" 2>/dev/null)|$(awk '/^tracked_allocs:/ { a = $2 } /^tracked_frees:/ { f = $2 }
    END { print (a > 0 && a == f) ? "yes" : "no: " a " allocs, " f " frees" }' "${sd:-/dev/null}")"

# ---- jemalloc's API ----------------------------------------------------------
"$PROG" je >"$d/je0.out" 2>&1
tap_eq "without the preload jemalloc's API does not resolve" "je_resolved: 0 0 0 0 0 0 0 0 0" \
  "$(head -n1 "$d/je0.out")"

jd=$(fresh_dir je)
MEMLEDGER_QUIET=1 ml_run "$jd" "$PROG" je >"$d/je.out" 2>"$d/je.err"
rc=$?
tap_eq "prog_semantics je exits 0 under the preload" 0 "$rc"
expect_je="je_resolved: 1 1 1 1 1 1 1 1 1
je_mallctl_version: rc=0 starts_with_digit=1
je_nallocx: 1
je_mallocx: non-null=1 aligned=1 zeroed=1 sallocx_eq_nallocx=1
je_xallocx_same: 1
je_dump1: rc=0
je_rallocx: non-null=1 kept=1 usable_ge=1
je_dump2: rc=0
je_xallocx_grow: usable_ok=1
je_dump4: rc=0
je_dump3: rc=0"
got_je=$(grep -v '^x-' "$d/je.out")
tap_eq "mallocx/rallocx/xallocx/sallocx/nallocx/mallctl resolve and work" "$expect_je" "$got_je"

d1=$(sed -n 's/^x-je_dump1_path: //p' "$d/je.out")
d2=$(sed -n 's/^x-je_dump2_path: //p' "$d/je.out")
d3=$(sed -n 's/^x-je_dump3_path: //p' "$d/je.out")
bad=
for f in "$d1" "$d2" "$d3"; do
  r=$(dump_consistent "$f") || bad="$bad${bad:+
}${f:-<no path>}: $r"
done
if [ -z "$bad" ]; then tap_ok "the three API dumps are complete and consistent"; else tap_fail "the three API dumps are complete and consistent" "$bad"; fi

tap_eq "a mallocx block is tracked (dump: 1 block of 5003 bytes)" "1 5003" "$(dump_unfreed "$d1" 2>/dev/null)"
tap_eq "its [unfreed] line: 1 block, 5003 bytes" "1 5003" \
  "$(unfreed_by_size "$d1" 5003 2>/dev/null | awk '{ print $2, $3 }')"
tap_eq "after rallocx the block is tracked at its new size (20011)" "1 20011|" \
  "$(dump_unfreed "$d2" 2>/dev/null)|$(unfreed_by_size "$d2" 5003 2>/dev/null)"
d4=$(sed -n 's/^x-je_dump4_path: //p' "$d/je.out")
xs=$(sed -n 's/^x-je_xallocx_size: //p' "$d/je.out")
tap_eq "after xallocx the block keeps its record, at its new size when it grew in place (${xs:-?})" \
  "1 ${xs:-?}|1 ${xs:-?}|consistent" \
  "$(dump_unfreed "$d4" 2>/dev/null)|$(unfreed_by_size "$d4" "${xs:-0}" 2>/dev/null | awk '{ print $2, $3 }')|$(dump_consistent "$d4" >/dev/null 2>&1 && echo consistent)"
tap_eq "after sdallocx (and mallocx+dallocx pairs) nothing is unfreed" "0 0" \
  "$(dump_unfreed "$d3" 2>/dev/null)"
tap_eq "the exit dump after sdallocx/dallocx has nothing unfreed" "0 0" \
  "$(dump_unfreed "$(dumps_in "$jd" | tail -n1)" 2>/dev/null)"
exit 0

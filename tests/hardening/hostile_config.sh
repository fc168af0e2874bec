#!/bin/bash
# SPDX-License-Identifier: MIT
# hostile_config.sh - hostile settings and environments never change what
# the program does.  Every option of src/options.def given garbage, negative,
# huge, empty, padded and float values: exit 0, same output, only
# "memledger:" lines on stderr, at most a few warnings.  MEMLEDGER_DIR
# nonexistent, on a full disk (RLIMIT_FSIZE with SIGXFSZ ignored: EFBIG; a
# full tmpfs when mount works): one "memledger: error:" line, no file left,
# the program unaffected.  No descriptor left when a dump is due: one error,
# and a later dump has everything.  The table capacity exhausted: dropped
# records counted, the counters stay exact.  The dump signal ignored by the
# parent.  A set-uid program run by another user (AT_SECURE).  The same
# hostile values, and malformed lists, in MEMLEDGER_OPTIONS.
# (options.sh checks one bad value, an unknown name, DIR=<a file> and the
# program's own handler for the dump signal.)
. "$ML_SRCDIR/tests/integration/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

PROG=$ML_BUILDDIR/tests/hardening/hostile_prog
need_file "$PROG" "$ML_SRCDIR/src/options.def"
OPTS=$(sed -n 's/^ML_OPTION(\([A-Z_]*\),.*/\1/p' "$ML_SRCDIR/src/options.def")
NOPT=$(printf '%s\n' $OPTS | grep -c .)
LONG=$(head -c 5000 /dev/zero | tr '\0' 9)

tap_plan $((NOPT + 18))

# stderr_ok FILE MAXWARN: every line is a memledger line, at most MAXWARN of
# them warnings or errors
stderr_ok() {
  [ "$(grep -vc '^memledger: ' "$1")" = 0 ] &&
    [ "$(grep -cE '^memledger: (warning|error):' "$1")" -le "$2" ]
}

# ---- every option, hostile values ------------------------------------------------
for o in $OPTS; do
  bad=
  i=0
  for v in 'zz!' -7 99999999999999999999999 '' ' 12 ' 1e400 -0x10 "$LONG" $'1\n2'; do
    i=$((i + 1))
    d=$(fresh_dir "opt-$o-$i")
    mkdir "$d/cwd"
    (cd "$d/cwd" && env "MEMLEDGER_$o=$v" $ML_TIMEOUT env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="${DIRV:-$d}" "$PROG" plain) \
      >"$d/out" 2>"$d/err"
    rc=$?
    if [ "$o" = DIR ]; then extra=1; else extra=0; fi
    if [ "$rc" != 0 ] || [ "$(cat "$d/out")" != ok ] || ! stderr_ok "$d/err" $((2 + extra)); then
      bad="$bad
MEMLEDGER_$o='${v:0:40}': rc=$rc out=$(cat "$d/out") err: $(head -c 600 "$d/err")"
    fi
    # nothing may appear in the working directory but a dump (DIR=relative)
    stray=$(ls -A "$d/cwd" | grep -v '^memledger\.[0-9]*\.[0-9]*\.dump$')
    [ -z "$stray" ] || bad="$bad
MEMLEDGER_$o='${v:0:40}': stray files: $stray"
  done
  tap_eq "MEMLEDGER_$o hostile values (garbage, -7, 1e23, empty, padded, 1e400, -0x10, 5000 digits, newline): exit 0, same output, only memledger lines on stderr" "" "$bad"
done

# ---- MEMLEDGER_OPTIONS: the same values for every option at once, and malformed lists -----------
# (leak_exitcode and abort_on_bad_option left out: blanks around values are
# ignored in a list, so " 12 " is a valid exit status there, and a bare
# abort_on_bad_option is true: both then change the exit status on purpose)
# list_bad LIST: the program's run with MEMLEDGER_OPTIONS=LIST, as above;
# appends to $bad
list_bad() {
  i=$((i + 1))
  d=$(fresh_dir "list-$i")
  mkdir "$d/cwd"
  (cd "$d/cwd" && $ML_TIMEOUT env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d" MEMLEDGER_OPTIONS="$1" "$PROG" plain) \
    >"$d/out" 2>"$d/err"
  rc=$?
  # at most one warning per option in the list (a hostile max_errors may
  # lift the cap of 16), and the line saying more were dropped
  if [ "$rc" != 0 ] || [ "$(cat "$d/out")" != ok ] || ! stderr_ok "$d/err" $((NLOPTS + 1)); then
    bad="$bad
MEMLEDGER_OPTIONS='${1:0:60}': rc=$rc out=$(cat "$d/out") err: $(head -c 600 "$d/err")"
  fi
  stray=$(ls -A "$d/cwd" | grep -v '^memledger\.[0-9]*\.[0-9]*\.dump$')
  [ -z "$stray" ] || bad="$bad
MEMLEDGER_OPTIONS='${1:0:60}': stray files: $stray"
}
LOPTS=$(printf '%s\n' $OPTS | grep -vxE 'LEAK_EXITCODE|ABORT_ON_BAD_OPTION' | tr 'A-Z' 'a-z')
NLOPTS=$(printf '%s\n' $LOPTS | grep -c .)
[ "$NLOPTS" -ge 16 ] || NLOPTS=16
bad=
i=0
for v in 'zz!' -7 99999999999999999999999 '' ' 12 ' 1e400 -0x10 "$LONG" $'1\n2'; do
  list=
  for o in $LOPTS; do list="$list$o=$v:"; done
  list_bad "$list"
done
tap_eq "MEMLEDGER_OPTIONS with every option set to each hostile value: exit 0, same output, only memledger lines on stderr" "" "$bad"
bad=
for list in "'" '"' '=' ':::,,,' '=:=,=' "dir='/a:b" 'min_size' "max_frames=\"8" "min_size=1K'x'" \
  '#:#,#' "$LONG=1" "dir=$LONG$LONG" "$(printf 'a\001b\377=\033[31m:c=\t\r')" \
  "$(printf 'max_frames=%.0s8,' $(seq 1 2000))"; do
  list_bad "$list"
done
tap_eq "malformed MEMLEDGER_OPTIONS (lone quotes, empty names, unclosed quotes, 10000-byte values, control bytes, 2000 items): exit 0, same output, only memledger lines on stderr" "" "$bad"

# run NAME [MODE [ARGS]]: fresh dir, run the program with dumps in $DUMPDIR
# (default: the dir); sets d rc out err
run() {
  local name=$1
  shift
  d=$(fresh_dir "$name")
  ml_run "${DUMPDIR:-$d}" "$PROG" "$@" >"$d/out" 2>"$d/err"
  rc=$?
  out=$(cat "$d/out")
  err=$d/err
}

# ---- MEMLEDGER_DIR does not exist ---------------------------------------------------------
DUMPDIR=$T_TMP/no/such/dir run nodir plain
tap_eq "DIR nonexistent: exit 0, output unchanged, one 'memledger: error:' line, nothing else but memledger lines" \
  "0|ok|1|0" "$rc|$out|$(grep -c '^memledger: error:' "$err")|$(grep -vc '^memledger: ' "$err")"
tap_eq "DIR nonexistent: the directory was not created" "" "$(ls -d "$T_TMP/no" 2>/dev/null)"

# ---- RLIMIT_FSIZE: the write fails with EFBIG -----------------------------------------------
d=$(fresh_dir fsize)
mkdir "$d/dumps"
(trap '' XFSZ; ulimit -f 1 && ml_run "$d/dumps" "$PROG" plain) >"$d/out" 2>"$d/err"
rc=$?
tap_eq "RLIMIT_FSIZE 1 KiB (SIGXFSZ ignored): exit 0, output unchanged, one 'memledger: error:' line" "0|ok|1" \
  "$rc|$(cat "$d/out")|$(grep -c '^memledger: error:' "$d/err")"
tap_eq "RLIMIT_FSIZE: the error names EFBIG" 1 "$(grep -c '^memledger: error:.*EFBIG' "$d/err")"
tap_eq "RLIMIT_FSIZE: no dump and no .tmp file left" "" "$(ls -A "$d/dumps")"

# ---- a full tmpfs --------------------------------------------------------------------------------
d=$(fresh_dir tmpfs)
mkdir "$d/mnt"
if mount -t tmpfs -o size=64k tmpfs "$d/mnt" 2>/dev/null; then
  dd if=/dev/zero of="$d/mnt/fill" bs=4096 2>/dev/null
  ml_run "$d/mnt" "$PROG" plain >"$d/out" 2>"$d/err"
  rc=$?
  left=$(ls -A "$d/mnt" | grep -v '^fill$')
  umount "$d/mnt"
  tap_eq "full tmpfs: exit 0, output unchanged, one 'memledger: error:' line (ENOSPC), no file left" "0|ok|1|" \
    "$rc|$(cat "$d/out")|$(grep -c '^memledger: error:.*ENOSPC' "$d/err")|$left"
else
  tap_skip "full tmpfs: mount -t tmpfs not permitted here"
fi

# ---- no descriptor left when a dump is due --------------------------------------------------------
run nofile nofile
api2=$(sed -n 's/^api2 0 //p' "$d/out")
tap_eq "RLIMIT_NOFILE exhausted: memledger_dump() fails with EMFILE, the program goes on (exit 0, ok)" \
  "0|api1 -1 EMFILE|ok" "$rc|$(sed -n 1p "$d/out")|$(tail -n1 "$d/out")"
tap_eq "RLIMIT_NOFILE: one 'memledger: error:' line naming EMFILE (the API and the signal dump both failed)" "1|1" \
  "$(grep -c '^memledger: error:' "$err")|$(grep -c '^memledger: error:.*EMFILE' "$err")"
tap_eq "RLIMIT_NOFILE: no .tmp file; the dumps written: the later API dump and the exit dump" "|2" \
  "$(ls -A "$d" | grep tmp)|$(count_dumps "$d")"
r=$(dump_consistent "$api2" 2>&1)
# 2001, 3001 and 4001 share one stack (one [unfreed] line); 5003 has its own
tap_eq "after raising the limit, a dump succeeds with everything recorded before and since" \
  "4 14006|3 9003 2001 4001|1 5003|" \
  "$(dump_unfreed "$api2" 2>/dev/null)|$(dump_section "$api2" unfreed 2>/dev/null | awk '$5 == 2001 { print $2, $3, $5, $6 }')|$(unfreed_by_size "$api2" 5003 2>/dev/null | awk '{ print $2, $3 }')|$r"

# ---- table capacity exhausted --------------------------------------------------------------------
MEMLEDGER_MAX_RECORDS=1024 run records records 5000
api1=$(sed -n 's/^api1 0 //p' "$d/out")
last=$(dumps_in "$d" | tail -n1)
tap_eq "MAX_RECORDS=1024, 5000 live tracked blocks: exit 0, output unchanged" "0|ok" "$rc|$(tail -n1 "$d/out")"
# 5000 blocks + the vector of pointers (40000 bytes) are tracked
tap_eq "MAX_RECORDS: the API dump: recorded (unfreed) + dropped_records = 5001, unfreed = tracked_live_blocks" \
  "5001|yes" \
  "$(( $(dump_unfreed "$api1" | cut -d' ' -f1) + $(dump_header "$api1" dropped_records) ))|$([ "$(dump_unfreed "$api1" | cut -d' ' -f1)" = "$(dump_header "$api1" tracked_live_blocks)" ] && echo yes)"
tap_eq "MAX_RECORDS: after freeing them all, the exit dump has exactly the 10 later blocks (counters not skewed by the dropped frees)" \
  "10 30010|10|10 30010|$(dump_header "$api1" dropped_records)" \
  "$(dump_unfreed "$last")|$(dump_header "$last" tracked_live_blocks)|$(unfreed_by_size "$last" 3001 | awk '{ print $2, $3 }')|$(dump_header "$last" dropped_records)"
tap_check "MAX_RECORDS: stderr has memledger lines only, at most 2 warnings" stderr_ok "$err" 2

# ---- the dump signal ignored by the parent (SIG_IGN inherited through exec) ----------------------
d=$(fresh_dir sigign)
(trap '' USR2; ml_run "$d" "$PROG" sigign) >"$d/out" 2>"$d/err"
rc=$?
tap_eq "SIGUSR2 ignored at start, the program raises it: not killed (exit 0, ok)" "0|ok" "$rc|$(cat "$d/out")"
tap_diag "with SIGUSR2 ignored at exec, memledger wrote $(count_dumps "$d") dump(s) (the signal dump is taken over from SIG_IGN)"

# ---- AT_SECURE: a set-uid copy run by another user ---------------------------------------------------
d=$(fresh_dir secure)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 &&
  cp "$PROG" "$d/prog_suid" && chmod 4755 "$d/prog_suid" && chmod 755 "$T_TMP" "$d" &&
  mkdir -m 777 "$d/dumps" && setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
  $ML_TIMEOUT setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env LD_PRELOAD="$ML_LIB" MEMLEDGER_DIR="$d/dumps" "$d/prog_suid" plain >"$d/out" 2>"$d/err"
  rc=$?
  if [ "$(findmnt -n -o OPTIONS -T "$d" 2>/dev/null | grep -c nosuid)" != 0 ]; then
    tap_skip "AT_SECURE: $d is on a nosuid mount"
  else
    # ld.so ignores an LD_PRELOAD with a '/' in a secure-exec program:
    # memledger is not loaded at all; the program must run as usual.
    tap_eq "set-uid program run by nobody (AT_SECURE): exit 0, output unchanged, no dump, no stray file" \
      "0|ok|0" "$rc|$(cat "$d/out")|$(ls -A "$d/dumps" | grep -c .)"
  fi
else
  tap_skip "AT_SECURE: needs root, setpriv and the users nobody/nogroup"
fi
exit 0

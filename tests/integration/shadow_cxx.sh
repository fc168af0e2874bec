#!/bin/bash
# SPDX-License-Identifier: MIT
# shadow_cxx.sh - shadow stacks in C++ (shadow_cxx.cc, -finstrument-functions,
# linked with libmemledger): after an exception thrown through 20
# instrumented frames and caught in main, a leak from another chain has no
# stale frame; a std::vector grown in an instrumented function is tracked
# with that function on its stack, and only its last buffer is unfreed.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }
. "$(dirname "$0")/wrap_common.sh" || bail "cannot read wrap_common.sh"

PROG=$IT_BIN/shadow_cxx
need_file "$PROG"
[ "$HAVE_SYM" = 1 ] || { echo "1..0 # SKIP python3 or addr2line missing"; exit 0; }

tap_plan 10

for u in shadow auto; do
  dir=$(fresh_dir "$u")
  MEMLEDGER_UNWIND=$u ml_run "$dir" "$PROG" >"$dir/out" 2>"$dir/err"
  rc=$?
  dump=$(only_dump "$dir")
  syms=$dir/syms
  sym_all "$dump" "$syms"
  if [ "$rc" = 0 ] && [ "$(cat "$dir/out")" = "caught=1
vector=8192 capacity=8192" ] && [ -n "$dump" ] && r=$(dump_consistent "$dump") &&
    [ "$(dump_header "$dump" unwind)" = "$u" ]; then
    tap_ok "$u: runs (exception caught, vector grown), one consistent exit dump, unwind $u"
  else
    tap_fail "$u: runs (exception caught, vector grown), one consistent exit dump, unwind $u" \
      "rc $rc ${r:-}" "$(cat "$dir/out" "$dir/err")"
  fi
  got=$(names_of "$syms" 33333)
  tap_eq "$u: after the exception, the leak's stack is fresh_inner() <- fresh_outer() <- main" \
    "fresh_inner() fresh_outer() main" "$(first_names 3 $got)"
  case " $got " in
  *thrower*) tap_fail "$u: no stale thrower frame on it" "$got" ;;
  *) tap_ok "$u: no stale thrower frame on it" ;;
  esac
  # operator new <- (std::vector internals) <- grow_vec <- main
  got=$(names_of "$syms" 32768)
  if printf '%s\n' $got | grep -qx grow_vec &&
    [ "$(printf '%s\n' $got | sed -n '/^grow_vec$/{n;p;q}')" = main ] &&
    ! printf '%s\n' $got | grep -q thrower; then
    tap_ok "$u: the vector's last buffer (32768 bytes) has grow_vec <- main on its stack"
  else
    tap_fail "$u: the vector's last buffer (32768 bytes) has grow_vec <- main on its stack" "${got:-no such block}"
  fi
  n=0
  for s in 2048 8192 16384; do n=$((n + $(unfreed_by_size "$dump" $s | grep -c .))); done
  tap_eq "$u: the vector's earlier buffers (2048, 8192, 16384) were freed; 33333 and 32768 unfreed once" \
    "0 1 1" "$n $(unfreed_by_size "$dump" 33333 | awk '{ print $2 }') $(unfreed_by_size "$dump" 32768 | awk '{ print $2 }')"
done
exit 0

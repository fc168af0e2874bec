#!/bin/bash
# SPDX-License-Identifier: MIT
# exports.sh - libmemledger.so exports the malloc family, jemalloc's API,
# glibc's __libc_* aliases, the signal hooks (sigaction, signal, signalfd,
# sigwait, sigwaitinfo, sigtimedwait), the seccomp hooks (prctl, syscall),
# dlopen, dlclose, the descriptor hooks (src/hooks_fd.def and preload_fd.c's
# own), the thread and mapping hooks (pthread_create and the
# join/detach/setname family, mmap, mmap64, munmap, mremap), the
# -finstrument-functions hooks, operator new and delete (src/hooks_cxx.def)
# and memledger_* only, all of them, and does not depend on libstdc++.
. "$(dirname "$0")/lib.sh" || { echo "Bail out! cannot read lib.sh"; exit 1; }

command -v nm >/dev/null || bail "nm not installed"
command -v readelf >/dev/null || bail "readelf not installed"

tap_plan 7

STD="malloc free calloc realloc reallocarray posix_memalign aligned_alloc memalign valloc
  pvalloc malloc_usable_size"
JE="mallocx rallocx xallocx sallocx dallocx sdallocx nallocx mallctl mallctlnametomib
  mallctlbymib malloc_stats_print"
LIBC="__libc_malloc __libc_free __libc_calloc __libc_realloc __libc_memalign __libc_valloc
  __libc_pvalloc"
SIG="sigaction signal signalfd sigwait sigwaitinfo sigtimedwait"
SECCOMP="prctl syscall"
SHADOW="__cyg_profile_func_enter __cyg_profile_func_exit"
CXX=$(sed -n 's/^ML_\(NEW\|DELETE\)(\([A-Za-z0-9_]*\),.*/\2/p' "$ML_SRCDIR/src/hooks_cxx.def")
DLHOOK="dlopen dlclose"
FDHOOK="$(sed -n 's/^ML_FD_HOOK([A-Z]*, [^,]*, \([a-z_0-9]*\),.*/\1/p' "$ML_SRCDIR/src/hooks_fd.def")
  open open64 openat openat64 fcntl fcntl64 dup2 dup3 fdopen fdopendir freopen freopen64
  close fclose pclose closedir close_range closefrom"
RES="pthread_create pthread_join pthread_tryjoin_np pthread_timedjoin_np pthread_clockjoin_np
  pthread_detach pthread_setname_np mmap mmap64 munmap mremap"
# memledger_* : whatever include/memledger.h declares with MEMLEDGER_API
API=$(sed -n 's/^MEMLEDGER_API [^(]*[ *]\(memledger_[a-z_0-9]*\)(.*/\1/p' "$ML_SRCDIR/include/memledger.h")
ALLOW=$(printf '%s\n' $STD $JE $LIBC $SIG $SECCOMP $SHADOW $CXX $DLHOOK $FDHOOK $RES $API | sort -u)

nm -D --defined-only "$ML_LIB" >"$T_TMP/nm" 2>&1 || bail "nm -D failed on $ML_LIB"
names=$(awk 'NF >= 3 { print $3 }' "$T_TMP/nm" | sed 's/@.*//' | sort -u)

extra=$(comm -13 <(printf '%s\n' "$ALLOW") <(printf '%s\n' "$names"))
tap_eq "every exported symbol is on the allowlist (extras listed)" "" "$extra"
missing=$(comm -23 <(printf '%s\n' "$ALLOW") <(printf '%s\n' "$names"))
tap_eq "every allowlisted symbol is exported (missing listed)" "" "$missing"
tap_eq "include/memledger.h declares the dump, stats, version and LSan-like functions" \
  "memledger_disable memledger_dump memledger_enable memledger_ignore_object memledger_leak_check memledger_register_root_region memledger_stats memledger_unregister_root_region memledger_version" \
  "$(printf '%s\n' $API | sort | tr '\n' ' ' | sed 's/ $//')"
tap_eq "all exports are functions in .text (nm type T)" "" \
  "$(awk 'NF >= 3 && $2 != "T" { print $3 " " $2 }' "$T_TMP/nm")"
tap_eq "no internal name leaks (ml_*, je_*, _ml*, jemalloc internals)" "" \
  "$(printf '%s\n' "$names" | grep -E '^(ml_|je_|_ml|ml_je|opt_|arena|tcache|extent)' )"

# libgcc_s is allowed: jemalloc's profiling backtrace (_Unwind_Backtrace)
# binds there, and its _Unwind_* are the ones C++ code needs; libunwind's
# (a NEEDED before MEMLEDGER_UNWIND=libunwind was loaded privately) are not.
tap_eq "readelf -d: no NEEDED libstdc++ (nor libunwind)" "" \
  "$(readelf -d "$ML_LIB" | grep NEEDED | grep -E 'libstdc\+\+|libunwind')"
if command -v ldd >/dev/null; then
  tap_eq "ldd: libstdc++ is not among the loaded dependencies" "" "$(ldd "$ML_LIB" 2>&1 | grep 'libstdc++')"
else
  tap_skip "ldd not installed"
fi
exit 0

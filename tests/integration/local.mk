# SPDX-License-Identifier: MIT
# tests/integration/local.mk - process-level tests; included by Makefile.am.
# The scripts (TAP by hand, helpers in lib.sh) run the test programs below
# under LD_PRELOAD=$(ML_LIB).  The programs are NOT linked with memledger:
# they get it by the preload, and run without it as the glibc reference.
IT_CFLAGS = -std=gnu11 -Wall -Wextra -O1 -g -fno-omit-frame-pointer
IT_CXXFLAGS = -std=c++17 -Wall -Wextra -O1 -g -fno-omit-frame-pointer

IT_PROGS = tests/integration/prog_semantics tests/integration/prog_leaks \
	tests/integration/prog_threads tests/integration/prog_fork \
	tests/integration/prog_early tests/integration/prog_cxx tests/integration/prog_cxx_je \
	tests/integration/prog_api tests/integration/prog_opts \
	tests/integration/prog_dliter tests/integration/prog_unwind_scope \
	tests/integration/prog_ehdiff tests/integration/prog_xallocx tests/integration/prog_capcache \
	tests/integration/prog_capcache_fp \
	tests/integration/prog_kinds tests/integration/prog_lsan_api \
	tests/integration/prog_newer
check_PROGRAMS += $(IT_PROGS)

# lsan_api.sh: the program defines memledger_default_suppressions and
# exports it, as a program run under the preload must (memledger.h).
tests_integration_prog_lsan_api_SOURCES = tests/integration/prog_lsan_api.c
tests_integration_prog_lsan_api_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_lsan_api_LDFLAGS = -Wl,--export-dynamic-symbol=memledger_default_suppressions
tests_integration_prog_lsan_api_LDADD = $(DL_LIBS)

tests_integration_prog_newer_SOURCES = tests/integration/prog_newer.c
tests_integration_prog_newer_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_newer_LDADD = -lpthread $(DL_LIBS)
# kinds.sh: blocks of every leak kind (no frame-pointer needs; -O1 keeps
# the noinline helpers).
tests_integration_prog_kinds_SOURCES = tests/integration/prog_kinds.c
tests_integration_prog_kinds_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_kinds_LDADD = -lpthread $(DL_LIBS)

tests_integration_prog_xallocx_SOURCES = tests/integration/prog_xallocx.c
tests_integration_prog_xallocx_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_xallocx_LDADD = $(DL_LIBS)

tests_integration_prog_semantics_SOURCES = tests/integration/prog_semantics.c
tests_integration_prog_semantics_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_semantics_LDADD = $(DL_LIBS)
tests_integration_prog_leaks_SOURCES = tests/integration/prog_leaks.c
tests_integration_prog_leaks_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_leaks_LDADD = -lpthread
tests_integration_prog_threads_SOURCES = tests/integration/prog_threads.c
tests_integration_prog_threads_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_threads_LDADD = -lpthread
tests_integration_prog_fork_SOURCES = tests/integration/prog_fork.c
tests_integration_prog_fork_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_fork_LDADD = -lpthread
tests_integration_prog_early_SOURCES = tests/integration/prog_early.c
tests_integration_prog_early_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_early_LDADD = $(DL_LIBS)
tests_integration_prog_cxx_SOURCES = tests/integration/prog_cxx.cc
tests_integration_prog_cxx_CXXFLAGS = $(IT_CXXFLAGS)
# The same, linked with Debian's libjemalloc.so, whose operator new would
# otherwise take the program's C++ blocks past the preload (cxx.sh).
tests_integration_prog_cxx_je_SOURCES = tests/integration/prog_cxx.cc
tests_integration_prog_cxx_je_CXXFLAGS = $(IT_CXXFLAGS)
tests_integration_prog_cxx_je_LDADD = -ljemalloc
tests_integration_prog_api_SOURCES = tests/integration/prog_api.c
tests_integration_prog_api_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_api_LDADD = $(DL_LIBS)
tests_integration_prog_opts_SOURCES = tests/integration/prog_opts.c
tests_integration_prog_opts_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_dliter_SOURCES = tests/integration/prog_dliter.c
tests_integration_prog_dliter_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_dliter_LDADD = -lpthread
tests_integration_prog_unwind_scope_SOURCES = tests/integration/prog_unwind_scope.c
tests_integration_prog_unwind_scope_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_unwind_scope_LDADD = $(DL_LIBS)
# unwind_eh.sh: code without frame pointers, for the eh unwinder.
tests_integration_prog_ehdiff_SOURCES = tests/integration/prog_ehdiff.cc
tests_integration_prog_ehdiff_CXXFLAGS = -std=c++17 -Wall -Wextra -O2 -g -fomit-frame-pointer
tests_integration_prog_ehdiff_LDADD = -lpthread $(DL_LIBS)

# capture_cache.sh: look-alike stacks for the capture cache, no frame pointers.
tests_integration_prog_capcache_SOURCES = tests/integration/prog_capcache.c
tests_integration_prog_capcache_CFLAGS = -std=gnu11 -Wall -Wextra -O2 -g -fomit-frame-pointer
tests_integration_prog_capcache_LDADD = -lpthread
# The same with frame pointers: saved %rbp next to each return address.
tests_integration_prog_capcache_fp_SOURCES = tests/integration/prog_capcache.c
tests_integration_prog_capcache_fp_CFLAGS = -std=gnu11 -Wall -Wextra -O2 -g -fno-omit-frame-pointer \
	-DCAPCACHE_FP=1
tests_integration_prog_capcache_fp_LDADD = -lpthread

# secure.sh: linked with the preload library itself (a set-uid program
# ignores LD_PRELOAD paths), with its path in the program (-no-install: no
# libtool wrapper script, which could not be made set-uid).
check_PROGRAMS += tests/integration/prog_secure
tests_integration_prog_secure_SOURCES = tests/integration/prog_secure.c
tests_integration_prog_secure_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_secure_LDFLAGS = -no-install
tests_integration_prog_secure_LDADD = libmemledger.la

# A dlopen'able module for early_dlopen.sh (found under .libs/).
check_LTLIBRARIES += tests/integration/plugin_leak.la
tests_integration_plugin_leak_la_SOURCES = tests/integration/plugin_leak.c
tests_integration_plugin_leak_la_CFLAGS = $(IT_CFLAGS)
tests_integration_plugin_leak_la_LDFLAGS = -module -avoid-version -rpath /nowhere

IT_TESTS = tests/integration/semantics.sh tests/integration/exact_counts.sh \
	tests/integration/kinds.sh tests/integration/lsan_api.sh tests/integration/newer.sh \
	tests/integration/xallocx.sh \
	tests/integration/signal_threads.sh tests/integration/fork.sh \
	tests/integration/early_dlopen.sh tests/integration/cxx.sh \
	tests/integration/real_programs.sh tests/integration/options.sh \
	tests/integration/api.sh tests/integration/exports.sh \
	tests/integration/unwind_eh.sh tests/integration/capture_cache.sh \
	tests/integration/secure.sh tests/integration/cmake_package.sh
TESTS += $(IT_TESTS)
EXTRA_DIST += $(IT_TESTS) tests/integration/lib.sh tests/integration/dump_json.py

# ---- the link-time flavour (wrap_*.sh) and shadow stacks (shadow_*.sh) ------
# Wrapped libraries are built like examples/wrap/libcache.la:
# -finstrument-functions, $(ML_WRAP_FLAGS), and libmemledger-wrap, either the
# shared flavour (libmemledger-wrap.la) or the static archive linked in.
WRAPT_CFLAGS = -std=gnu11 -Wall -Wextra -g -O1 -finstrument-functions
WRAPT_STATIC_LIBADD = $(top_builddir)/libmemledger-wrap.a $(UNWIND_LIBS) -lpthread

check_LTLIBRARIES += tests/integration/libwrap_boundary.la \
	tests/integration/libwrap_boundary_static.la
tests_integration_libwrap_boundary_la_SOURCES = tests/integration/wrap_boundary_lib.c \
	tests/integration/wrap_boundary_lib.h
tests_integration_libwrap_boundary_la_CFLAGS = $(WRAPT_CFLAGS)
tests_integration_libwrap_boundary_la_LDFLAGS = -rpath /nowhere -avoid-version $(ML_WRAP_FLAGS)
tests_integration_libwrap_boundary_la_LIBADD = libmemledger-wrap.la
tests_integration_libwrap_boundary_static_la_SOURCES = tests/integration/wrap_boundary_lib.c \
	tests/integration/wrap_boundary_lib.h
tests_integration_libwrap_boundary_static_la_CFLAGS = $(WRAPT_CFLAGS)
tests_integration_libwrap_boundary_static_la_LDFLAGS = -rpath /nowhere -avoid-version \
	$(ML_WRAP_FLAGS) -Wl,-z,nodelete
tests_integration_libwrap_boundary_static_la_LIBADD = $(WRAPT_STATIC_LIBADD)
# The programs are not wrapped: their malloc and free are glibc's.
check_PROGRAMS += tests/integration/wrap_boundary_prog tests/integration/wrap_boundary_prog_static
tests_integration_wrap_boundary_prog_SOURCES = tests/integration/wrap_boundary_prog.c
tests_integration_wrap_boundary_prog_CFLAGS = $(IT_CFLAGS)
tests_integration_wrap_boundary_prog_LDADD = tests/integration/libwrap_boundary.la
tests_integration_wrap_boundary_prog_static_SOURCES = tests/integration/wrap_boundary_prog.c
tests_integration_wrap_boundary_prog_static_CFLAGS = $(IT_CFLAGS)
tests_integration_wrap_boundary_prog_static_LDADD = tests/integration/libwrap_boundary_static.la

# Wrapped plugins for dlopen (nodelete, as memledger-wrap.pc links them).
check_LTLIBRARIES += tests/integration/wrap_plugin_shared.la \
	tests/integration/wrap_plugin_static.la
tests_integration_wrap_plugin_shared_la_SOURCES = tests/integration/wrap_plugin.c
tests_integration_wrap_plugin_shared_la_CFLAGS = $(WRAPT_CFLAGS)
tests_integration_wrap_plugin_shared_la_LDFLAGS = -module -avoid-version -rpath /nowhere \
	$(ML_WRAP_FLAGS) -Wl,-z,nodelete
tests_integration_wrap_plugin_shared_la_LIBADD = libmemledger-wrap.la
tests_integration_wrap_plugin_static_la_SOURCES = tests/integration/wrap_plugin.c
tests_integration_wrap_plugin_static_la_CFLAGS = $(WRAPT_CFLAGS)
tests_integration_wrap_plugin_static_la_LDFLAGS = -module -avoid-version -rpath /nowhere \
	$(ML_WRAP_FLAGS) -Wl,-z,nodelete
tests_integration_wrap_plugin_static_la_LIBADD = $(WRAPT_STATIC_LIBADD)
check_PROGRAMS += tests/integration/wrap_dlopen_prog
tests_integration_wrap_dlopen_prog_SOURCES = tests/integration/wrap_dlopen_prog.c
tests_integration_wrap_dlopen_prog_CFLAGS = $(IT_CFLAGS)
tests_integration_wrap_dlopen_prog_LDADD = $(DL_LIBS)

# Shadow-stack programs: instrumented, linked with libmemledger itself (its
# hooks come before glibc's no-op ones); run under the preload of the same
# library.  -no-install: a real executable, not a libtool wrapper script
# (the preload would follow the script's own commands).
SHADOWT_LINK = -L$(top_builddir)/.libs -lmemledger
check_PROGRAMS += tests/integration/shadow_prog tests/integration/shadow_cxx
tests_integration_shadow_prog_SOURCES = tests/integration/shadow_prog.c
tests_integration_shadow_prog_CFLAGS = $(IT_CFLAGS) -finstrument-functions
tests_integration_shadow_prog_LDFLAGS = -no-install
tests_integration_shadow_prog_LDADD = $(SHADOWT_LINK) -lpthread
EXTRA_tests_integration_shadow_prog_DEPENDENCIES = libmemledger.la
tests_integration_shadow_cxx_SOURCES = tests/integration/shadow_cxx.cc
tests_integration_shadow_cxx_CXXFLAGS = $(IT_CXXFLAGS) -finstrument-functions
tests_integration_shadow_cxx_LDFLAGS = -no-install
tests_integration_shadow_cxx_LDADD = $(SHADOWT_LINK)
EXTRA_tests_integration_shadow_cxx_DEPENDENCIES = libmemledger.la

# wrap_linkers.sh links a wrapped library by hand, with this compiler.
AM_TESTS_ENVIRONMENT += ML_CC='$(CC)'; export ML_CC;

WRAPT_TESTS = tests/integration/wrap_example.sh tests/integration/wrap_boundary.sh \
	tests/integration/wrap_linkers.sh tests/integration/wrap_dlopen.sh \
	tests/integration/shadow_stacks.sh tests/integration/shadow_cxx.sh
TESTS += $(WRAPT_TESTS)
EXTRA_DIST += $(WRAPT_TESTS) tests/integration/wrap_symbolize.py \
	tests/integration/wrap_common.sh

# ---- threads and anonymous mappings ([threads], [mappings]; issue 12) --------
check_PROGRAMS += tests/integration/prog_res
tests_integration_prog_res_SOURCES = tests/integration/prog_res.c
tests_integration_prog_res_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_res_LDADD = -lpthread $(DL_LIBS)
RES_TESTS = tests/integration/res_threads.sh tests/integration/res_maps.sh
TESTS += $(RES_TESTS)
EXTRA_DIST += $(RES_TESTS) tests/integration/lib_res.sh

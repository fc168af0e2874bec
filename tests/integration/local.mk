# SPDX-License-Identifier: MIT
# tests/integration/local.mk - process-level tests; included by Makefile.am.
# The scripts (TAP by hand, helpers in lib.sh) run the test programs below
# under LD_PRELOAD=$(ML_LIB).  The programs are NOT linked with memledger:
# they get it by the preload, and run without it as the glibc reference.
IT_CFLAGS = -std=gnu11 -Wall -Wextra -O1 -g -fno-omit-frame-pointer
IT_CXXFLAGS = -std=c++17 -Wall -Wextra -O1 -g -fno-omit-frame-pointer

IT_PROGS = tests/integration/prog_semantics tests/integration/prog_leaks \
	tests/integration/prog_threads tests/integration/prog_fork \
	tests/integration/prog_early tests/integration/prog_cxx \
	tests/integration/prog_api tests/integration/prog_opts
check_PROGRAMS += $(IT_PROGS)

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
tests_integration_prog_api_SOURCES = tests/integration/prog_api.c
tests_integration_prog_api_CFLAGS = $(IT_CFLAGS)
tests_integration_prog_api_LDADD = $(DL_LIBS)
tests_integration_prog_opts_SOURCES = tests/integration/prog_opts.c
tests_integration_prog_opts_CFLAGS = $(IT_CFLAGS)

# A dlopen'able module for early_dlopen.sh (found under .libs/).
check_LTLIBRARIES += tests/integration/plugin_leak.la
tests_integration_plugin_leak_la_SOURCES = tests/integration/plugin_leak.c
tests_integration_plugin_leak_la_CFLAGS = $(IT_CFLAGS)
tests_integration_plugin_leak_la_LDFLAGS = -module -avoid-version -rpath /nowhere

IT_TESTS = tests/integration/semantics.sh tests/integration/exact_counts.sh \
	tests/integration/signal_threads.sh tests/integration/fork.sh \
	tests/integration/early_dlopen.sh tests/integration/cxx.sh \
	tests/integration/real_programs.sh tests/integration/options.sh \
	tests/integration/api.sh tests/integration/exports.sh
TESTS += $(IT_TESTS)
EXTRA_DIST += $(IT_TESTS) tests/integration/lib.sh

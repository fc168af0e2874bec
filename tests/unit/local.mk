# SPDX-License-Identifier: MIT
# tests/unit/local.mk - CMocka unit tests; included by Makefile.am.
# Unit tests link the core only (libcore_test.la: libcore with ML_TESTING
# seams), never a front.
UNIT_LDADD = libcore_test.la $(CMOCKA_LIBS) $(UNWIND_LIBS) -lpthread $(DL_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -DML_TESTING -Wno-missing-prototypes
EXTRA_DIST += tests/unit/ml_test.h

UNIT_TESTS = tests/unit/test_fmt tests/unit/test_log tests/unit/test_prim \
	tests/unit/test_options tests/unit/test_table tests/unit/test_stacks \
	tests/unit/test_pagemap \
	tests/unit/test_unwind tests/unit/test_track tests/unit/test_dump \
	tests/unit/test_ehframe tests/unit/test_scan tests/unit/test_backend
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
tests_unit_test_fmt_SOURCES = tests/unit/test_fmt.c
tests_unit_test_fmt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fmt_LDADD = $(UNIT_LDADD)
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_log_LDADD = $(UNIT_LDADD)
tests_unit_test_prim_SOURCES = tests/unit/test_prim.c
tests_unit_test_prim_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_prim_LDADD = $(UNIT_LDADD)
tests_unit_test_options_SOURCES = tests/unit/test_options.c
tests_unit_test_options_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_options_LDADD = $(UNIT_LDADD)
tests_unit_test_table_SOURCES = tests/unit/test_table.c
tests_unit_test_table_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_table_LDADD = $(UNIT_LDADD)
tests_unit_test_stacks_SOURCES = tests/unit/test_stacks.c
tests_unit_test_stacks_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_stacks_LDADD = $(UNIT_LDADD)
tests_unit_test_pagemap_SOURCES = tests/unit/test_pagemap.c
tests_unit_test_pagemap_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pagemap_LDADD = $(UNIT_LDADD)
# The call chain is named with dladdr: export the test's own symbols.
tests_unit_test_unwind_SOURCES = tests/unit/test_unwind.c
tests_unit_test_unwind_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_unwind_LDFLAGS = -export-dynamic
tests_unit_test_unwind_LDADD = $(UNIT_LDADD)
# test_track and test_dump pull in track.c/init.c/dump.c and define their
# own fake ml_backend.
tests_unit_test_track_SOURCES = tests/unit/test_track.c
tests_unit_test_track_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_track_LDADD = $(UNIT_LDADD)
tests_unit_test_scan_SOURCES = tests/unit/test_scan.c
tests_unit_test_scan_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_scan_LDADD = $(UNIT_LDADD)
# test_backend includes backend.c, over a fake jemalloc of its own.
tests_unit_test_backend_SOURCES = tests/unit/test_backend.c
tests_unit_test_backend_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_backend_LDADD = $(CMOCKA_LIBS)
tests_unit_test_dump_SOURCES = tests/unit/test_dump.c
tests_unit_test_dump_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_dump_LDADD = $(UNIT_LDADD)
# The .eh_frame unwinder against libunwind, on code without frame pointers
# (the flags come after ML_CFLAGS' -fno-omit-frame-pointer); a C++ part for
# the exception path, and a plugin to load and unload.
tests_unit_test_ehframe_SOURCES = tests/unit/test_ehframe.c tests/unit/ehframe_cxx.cc
tests_unit_test_ehframe_CFLAGS = $(UNIT_CFLAGS) -O2 -fomit-frame-pointer
tests_unit_test_ehframe_CXXFLAGS = $(AM_CXXFLAGS) -O2 -fomit-frame-pointer
tests_unit_test_ehframe_LDFLAGS = -export-dynamic
tests_unit_test_ehframe_LDADD = $(UNIT_LDADD)
check_LTLIBRARIES += tests/unit/ehframe_plugin.la
tests_unit_ehframe_plugin_la_SOURCES = tests/unit/ehframe_plugin.c
tests_unit_ehframe_plugin_la_CFLAGS = -O2 -fomit-frame-pointer
tests_unit_ehframe_plugin_la_LDFLAGS = -module -avoid-version -rpath /nowhere

# SPDX-License-Identifier: MIT
# tests/unit/local.mk - CMocka unit tests; included by Makefile.am.
# Unit tests link the core only (libcore_test.la: libcore with ML_TESTING
# seams), never a front.
UNIT_LDADD = libcore_test.la $(CMOCKA_LIBS) $(UNWIND_LIBS) -lpthread $(DL_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -Wno-missing-prototypes

UNIT_TESTS = tests/unit/test_fmt tests/unit/test_log tests/unit/test_prim \
	tests/unit/test_options
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

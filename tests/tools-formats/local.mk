# SPDX-License-Identifier: MIT
# tests/tools-formats/local.mk - tests of the jeprof, pprof and html output
# formats (tools/report_{jeprof,pprof,html}.c); included by Makefile.am.
# fmt_driver runs the formats on hand-built reports (and on real dumps read
# by the command's reader, tools/report_read.c), so these tests do not wait
# for the symbolizer or the report builder; the scripts also run
# `memledger report --format ...` when the command has been built.
check_PROGRAMS += tests/tools-formats/fmt_driver
tests_tools_formats_fmt_driver_SOURCES = tests/tools-formats/fmt_driver.c $(MLR_CORE_SOURCES) \
	$(MLR_FORMAT_SOURCES)
tests_tools_formats_fmt_driver_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools $(ZLIB_CFLAGS)
tests_tools_formats_fmt_driver_LDADD = $(MLR_FORMAT_LIBS)

FMT_TESTS = tests/tools-formats/jeprof.sh tests/tools-formats/pprof.sh tests/tools-formats/html_big.sh \
	tests/tools-formats/html.sh
TESTS += $(FMT_TESTS)
EXTRA_DIST += $(FMT_TESTS) tests/tools-formats/lib.sh tests/tools-formats/profile.proto

# SPDX-License-Identifier: MIT
# tests/time/local.mk - dumps over time (issue 12): the interval timer, the
# live-bytes limit, the failed allocation, and `memledger trend`; included
# by Makefile.am.  TAP scripts over tests/integration/lib.sh; the program is
# preloaded, not linked with memledger.
check_PROGRAMS += tests/time/prog_time
tests_time_prog_time_SOURCES = tests/time/prog_time.c
tests_time_prog_time_CFLAGS = -std=gnu11 -Wall -Wextra -O1 -g -fno-omit-frame-pointer
tests_time_prog_time_LDADD = -lpthread

TIME_TESTS = tests/time/interval.sh tests/time/dump_at.sh tests/time/alloc_failure.sh \
	tests/time/trend.sh tests/time/trend_res.sh
TESTS += $(TIME_TESTS)
EXTRA_DIST += $(TIME_TESTS) tests/time/lib_time.sh

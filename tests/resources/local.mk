# SPDX-License-Identifier: MIT
# tests/resources/local.mk - the resources besides the heap ([fds],
# [threads], [mappings]); included by Makefile.am.  Process-level TAP
# scripts (they source tests/integration/lib.sh) running programs that are
# not linked with memledger: they get it by the preload.
RES_CFLAGS = -std=gnu11 -Wall -Wextra -O1 -g -fno-omit-frame-pointer

# fds.sh: a descriptor from every hooked entry point (make_* functions).
check_PROGRAMS += tests/resources/res_fds
tests_resources_res_fds_SOURCES = tests/resources/res_fds.c
tests_resources_res_fds_CFLAGS = $(RES_CFLAGS)
tests_resources_res_fds_LDADD = $(DL_LIBS)

RES_FD_TESTS = tests/resources/fds.sh
TESTS += $(RES_FD_TESTS)
EXTRA_DIST += $(RES_FD_TESTS) tests/resources/fds_check.py

# SPDX-License-Identifier: MIT
# tests/hardening/local.mk - hardening tests (issue 6); included by Makefile.am.
# Process-level TAP scripts like tests/integration/ (they source its lib.sh):
# stress with dump signals, fork/exec/spawn/daemon variants, exit paths,
# dlclose and symbolization, hostile configuration.  The programs are not
# linked with memledger: they get it by the preload.
HT_CFLAGS = -std=gnu11 -Wall -Wextra -O1 -g -fno-omit-frame-pointer

HT_PROGS = tests/hardening/stress_prog tests/hardening/fork_prog \
	tests/hardening/exit_prog tests/hardening/dlclose_prog \
	tests/hardening/hostile_prog tests/hardening/deepbind_prog \
	tests/hardening/ulimit_prog
check_PROGRAMS += $(HT_PROGS)

tests_hardening_ulimit_prog_SOURCES = tests/hardening/ulimit_prog.c
tests_hardening_ulimit_prog_CFLAGS = $(HT_CFLAGS)

tests_hardening_deepbind_prog_SOURCES = tests/hardening/deepbind_prog.c
tests_hardening_deepbind_prog_CFLAGS = $(HT_CFLAGS)
tests_hardening_deepbind_prog_LDADD = $(DL_LIBS)

tests_hardening_stress_prog_SOURCES = tests/hardening/stress_prog.c
tests_hardening_stress_prog_CFLAGS = $(HT_CFLAGS)
tests_hardening_stress_prog_LDADD = -lpthread
tests_hardening_fork_prog_SOURCES = tests/hardening/fork_prog.c
tests_hardening_fork_prog_CFLAGS = $(HT_CFLAGS)
tests_hardening_fork_prog_LDADD = -lpthread
# Linked with libht_exitdso (constructor allocates, destructor frees);
# -no-install: a real executable, not a libtool wrapper script.
tests_hardening_exit_prog_SOURCES = tests/hardening/exit_prog.c
tests_hardening_exit_prog_CFLAGS = $(HT_CFLAGS)
tests_hardening_exit_prog_LDFLAGS = -no-install
tests_hardening_exit_prog_LDADD = tests/hardening/libht_exitdso.la -lpthread
tests_hardening_dlclose_prog_SOURCES = tests/hardening/dlclose_prog.c
tests_hardening_dlclose_prog_CFLAGS = $(HT_CFLAGS)
tests_hardening_dlclose_prog_LDADD = $(DL_LIBS)
tests_hardening_hostile_prog_SOURCES = tests/hardening/hostile_prog.c
tests_hardening_hostile_prog_CFLAGS = $(HT_CFLAGS)
tests_hardening_hostile_prog_LDADD = $(DL_LIBS)

check_LTLIBRARIES += tests/hardening/libht_exitdso.la tests/hardening/ht_plugin.la \
	tests/hardening/deepbind_lib.la
tests_hardening_deepbind_lib_la_SOURCES = tests/hardening/deepbind_lib.c
tests_hardening_deepbind_lib_la_CFLAGS = $(HT_CFLAGS)
tests_hardening_deepbind_lib_la_LDFLAGS = -module -avoid-version -rpath /nowhere
tests_hardening_libht_exitdso_la_SOURCES = tests/hardening/exitdso.c
tests_hardening_libht_exitdso_la_CFLAGS = $(HT_CFLAGS)
tests_hardening_libht_exitdso_la_LDFLAGS = -avoid-version -rpath /nowhere
tests_hardening_ht_plugin_la_SOURCES = tests/hardening/ht_plugin.c
tests_hardening_ht_plugin_la_CFLAGS = $(HT_CFLAGS)
tests_hardening_ht_plugin_la_LDFLAGS = -module -avoid-version -rpath /nowhere

HT_TESTS = tests/hardening/stress.sh tests/hardening/fork_variants.sh \
	tests/hardening/exit_paths.sh tests/hardening/dlclose.sh \
	tests/hardening/hostile_config.sh tests/hardening/redis.sh \
	tests/hardening/deepbind.sh tests/hardening/ulimit.sh
TESTS += $(HT_TESTS)
EXTRA_DIST += $(HT_TESTS)

# ---- make check-sanitizers (not part of make check) ------------------------
# The unit tests (tests/unit/test_*.c with the core sources, as
# libcore_test.la) and the memledger command under ASan+UBSan, and the core's
# concurrency tests (test_table, test_stacks, test_track) under TSan.  ASan
# cannot run with the preload library (both replace malloc), so only units
# and the tools (units linked -rdynamic: test_unwind names frames with
# dladdr).  Built by hand in san-build/ so that no object of the normal
# build changes; the command is run over every dump in tests/data in every
# output format.  Logs: san-build/<kind>-<name>.log.
SAN_DIR = $(abs_builddir)/san-build
SAN_UNITS = test_fmt test_log test_prim test_options test_table test_stacks \
	test_pagemap test_unwind test_track test_dump
SAN_TSAN_UNITS = test_table test_stacks test_pagemap test_track
SAN_FLAGS_asan = -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_FLAGS_tsan = -fsanitize=thread
SAN_CC = $(CC) -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE \
	-I$(abs_builddir) -I$(abs_srcdir)/src -I$(abs_srcdir)/include
SAN_UNIT_CC = $(SAN_CC) -DML_TESTING $(CMOCKA_CFLAGS) -I$(abs_srcdir)/tests/unit
SAN_LIBS = $(UNWIND_LIBS) -lpthread $(DL_LIBS) -lm
SAN_ENV = ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1 CMOCKA_MESSAGE_OUTPUT=TAP

check-sanitizers: memledger
	@rm -rf $(SAN_DIR) && mkdir -p $(SAN_DIR) && fail=0; \
	for kind in asan tsan; do \
	  if [ $$kind = asan ]; then f='$(SAN_FLAGS_asan)'; units='$(SAN_UNITS)'; \
	  else f='$(SAN_FLAGS_tsan)'; units='$(SAN_TSAN_UNITS)'; fi; \
	  mkdir -p $(SAN_DIR)/$$kind-core; \
	  for s in $(filter %.c,$(libcore_la_SOURCES)); do \
	    o=$(SAN_DIR)/$$kind-core/$$(basename $$s .c).o; \
	    $(SAN_UNIT_CC) $$f -c -o $$o $(abs_srcdir)/$$s >>$(SAN_DIR)/$$kind-core.build 2>&1 || \
	      { echo "BUILD FAILED: $$kind $$s"; fail=1; }; \
	  done; \
	  rm -f $(SAN_DIR)/$$kind-libcore.a; \
	  $(AR) rcs $(SAN_DIR)/$$kind-libcore.a $(SAN_DIR)/$$kind-core/*.o; \
	  for u in $$units; do \
	    b=$(SAN_DIR)/$$kind-$$u; \
	    if ! $(SAN_UNIT_CC) $$f -o $$b $(abs_srcdir)/tests/unit/$$u.c $(SAN_DIR)/$$kind-libcore.a \
	        -rdynamic $(CMOCKA_LIBS) $(SAN_LIBS) >$$b.build 2>&1; then \
	      echo "BUILD FAILED: $$kind $$u"; head -30 $$b.build; fail=1; continue; fi; \
	    $(SAN_ENV) timeout -k 5 600 $$b >$$b.log 2>&1; rc=$$?; \
	    if [ $$rc != 0 ] || grep -q 'Sanitizer\|runtime error' $$b.log; then \
	      echo "FAIL: $$kind $$u (status $$rc; log $$b.log)"; \
	      grep -A14 'ERROR: \|WARNING: ThreadSanitizer\|runtime error\|^not ok' $$b.log | head -60; fail=1; \
	    else echo "PASS: $$kind $$u"; fi; \
	  done; \
	done; \
	b=$(SAN_DIR)/asan-memledger; \
	if ! $(SAN_CC) $(SAN_FLAGS_asan) -fvisibility=default -I$(abs_srcdir) -I$(abs_srcdir)/tools \
	    -I$(abs_builddir)/tools -DMLR_LIBDIR='"$(libdir)"' -DMLR_VERSION='"$(PACKAGE_VERSION)"' \
	    $(LIBDW_CFLAGS) $(ZLIB_CFLAGS) -o $$b \
	    $$(for s in $(filter %.c,$(memledger_SOURCES)); do \
	         if [ -f $(abs_builddir)/$$s ]; then echo $(abs_builddir)/$$s; else echo $(abs_srcdir)/$$s; fi; done) \
	    $(LIBDW_LIBS) $(ZLIB_LIBS) $(MLR_FORMAT_LIBS) -lstdc++ >$$b.build 2>&1; then \
	  echo "BUILD FAILED: asan memledger"; head -30 $$b.build; fail=1; \
	else \
	  : >$$b.log; n=0; \
	  for d in $(abs_srcdir)/tests/data/*.dump; do \
	    for fmt in text json folded jeprof pprof html; do \
	      n=$$((n + 1)); \
	      $(SAN_ENV) timeout -k 5 120 $$b report --format $$fmt -o /dev/null $$d >>$$b.log 2>&1; rc=$$?; \
	      [ $$rc -lt 124 ] || echo "status $$rc for report --format $$fmt $$d" >>$$b.log; \
	    done; \
	  done; \
	  if grep -q 'Sanitizer\|runtime error\|^status' $$b.log; then \
	    echo "FAIL: asan memledger ($$n runs; log $$b.log)"; \
	    grep -A14 'ERROR: \|runtime error\|^status' $$b.log | head -60; fail=1; \
	  else echo "PASS: asan memledger ($$n report runs over tests/data/*.dump)"; fi; \
	fi; \
	exit $$fail
.PHONY: check-sanitizers

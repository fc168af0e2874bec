# SPDX-License-Identifier: MIT
# tests/realworld/local.mk - make check-realworld (NOT part of make check).
# CPython's own test suite (Debian package libpython3.11-testsuite) for the
# modules that exercise threads, fork, subprocesses, descriptors and signals,
# run once without and once with the preload; fails when a test passes
# without memledger but not under it.  Logs and JUnit files in
# realworld-logs/.  RW_PY and RW_MODULES may be overridden.
RW_PY = /usr/bin/python3.11
RW_MODULES = test_threading test_subprocess test_posix test_signal \
	test_threadsignals test_os test_multiprocessing_fork test_asyncio
RW_JOBS = 2
RW_TIMEOUT = 300
EXTRA_DIST += tests/realworld/cpython.sh tests/realworld/compare_regrtest.py

check-realworld: libmemledger.la
	@ML_LIB='$(abs_builddir)/.libs/libmemledger.so' \
	RW_PYTHON='$(RW_PY)' RW_MODULES='$(RW_MODULES)' RW_JOBS='$(RW_JOBS)' \
	RW_TIMEOUT='$(RW_TIMEOUT)' RW_OUT='$(abs_builddir)/realworld-logs' \
	$(SHELL) $(abs_srcdir)/tests/realworld/cpython.sh
.PHONY: check-realworld
clean-realworld:
	rm -rf realworld-logs
.PHONY: clean-realworld

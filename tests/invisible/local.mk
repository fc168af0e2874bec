# SPDX-License-Identifier: MIT
# tests/invisible/local.mk - "memledger is invisible in the host"; included
# by Makefile.am.  Process-level TAP scripts (they source
# tests/integration/lib.sh and tests/invisible/lib_invisible.sh): between
# dumps the library keeps no thread, no descriptor and no borrowed symbol,
# the program sees its own signal dispositions, and dumps are written by a
# short-lived child the program cannot see.  The programs are not linked
# with memledger: they get it by the preload, and run without it as the
# reference where that makes the expectation exact.
INV_CFLAGS = -std=gnu11 -Wall -Wextra -O1 -g -fno-omit-frame-pointer

INV_PROGS = tests/invisible/inv_main_exit tests/invisible/inv_daemon \
	tests/invisible/inv_self tests/invisible/inv_dump_child \
	tests/invisible/inv_fork_storm tests/invisible/inv_sigview \
	tests/invisible/inv_restart tests/invisible/inv_sigwait \
	tests/invisible/inv_fatal tests/invisible/inv_memlimit \
	tests/invisible/inv_seccomp tests/invisible/inv_unwind_owner \
	tests/invisible/inv_phdr tests/invisible/inv_snaplock
check_PROGRAMS += $(INV_PROGS)

tests_invisible_inv_main_exit_SOURCES = tests/invisible/inv_main_exit.c tests/invisible/inv_util.h
tests_invisible_inv_main_exit_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_main_exit_LDADD = -lpthread
tests_invisible_inv_daemon_SOURCES = tests/invisible/inv_daemon.c tests/invisible/inv_util.h
tests_invisible_inv_daemon_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_self_SOURCES = tests/invisible/inv_self.c tests/invisible/inv_util.h
tests_invisible_inv_self_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_dump_child_SOURCES = tests/invisible/inv_dump_child.c tests/invisible/inv_util.h
tests_invisible_inv_dump_child_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_fork_storm_SOURCES = tests/invisible/inv_fork_storm.c tests/invisible/inv_util.h
tests_invisible_inv_fork_storm_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_fork_storm_LDADD = -lpthread
tests_invisible_inv_sigview_SOURCES = tests/invisible/inv_sigview.c
tests_invisible_inv_sigview_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_sigview_LDADD = $(DL_LIBS)
tests_invisible_inv_restart_SOURCES = tests/invisible/inv_restart.c tests/invisible/inv_util.h
tests_invisible_inv_restart_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_restart_LDADD = -lpthread
tests_invisible_inv_sigwait_SOURCES = tests/invisible/inv_sigwait.c tests/invisible/inv_util.h
tests_invisible_inv_sigwait_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_sigwait_LDADD = -lpthread
tests_invisible_inv_fatal_SOURCES = tests/invisible/inv_fatal.c
tests_invisible_inv_fatal_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_memlimit_SOURCES = tests/invisible/inv_memlimit.c
tests_invisible_inv_memlimit_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_memlimit_LDADD = $(DL_LIBS)
tests_invisible_inv_seccomp_SOURCES = tests/invisible/inv_seccomp.c
tests_invisible_inv_seccomp_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_unwind_owner_SOURCES = tests/invisible/inv_unwind_owner.c
tests_invisible_inv_unwind_owner_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_unwind_owner_LDADD = $(DL_LIBS)
tests_invisible_inv_phdr_SOURCES = tests/invisible/inv_phdr.c
tests_invisible_inv_phdr_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_phdr_LDADD = -lpthread
tests_invisible_inv_snaplock_SOURCES = tests/invisible/inv_snaplock.c tests/invisible/inv_util.h
tests_invisible_inv_snaplock_CFLAGS = $(INV_CFLAGS)
tests_invisible_inv_snaplock_LDADD = -lpthread $(DL_LIBS)

INV_TESTS = tests/invisible/namespaces.sh tests/invisible/main_thread_exit.sh \
	tests/invisible/descriptors.sh tests/invisible/daemon_fds.sh \
	tests/invisible/self_view.sh tests/invisible/dump_child.sh \
	tests/invisible/fork_storm.sh tests/invisible/signal_view.sh \
	tests/invisible/restart.sh tests/invisible/signal_owner.sh \
	tests/invisible/fatal_signals.sh tests/invisible/memory_limit.sh \
	tests/invisible/seccomp.sh tests/invisible/unwind_owner.sh \
	tests/invisible/phdr_lock.sh tests/invisible/snapshot_locks.sh
TESTS += $(INV_TESTS)
EXTRA_DIST += $(INV_TESTS) tests/invisible/lib_invisible.sh

# SPDX-License-Identifier: MIT
# bench/local.mk - benchmarks; included by Makefile.am.
# Benchmarks are measured by people (make bench, make bench-callgrind,
# make bench-compare) and only smoke-run by CI (make bench-smoke), except
# the deterministic instruction guard (make bench-callgrind-guard, run by
# .ci/run when valgrind is installed); none is in TESTS.  They link the
# core and the renamed jemalloc statically, with the front compiled into
# bench/libbmfront.la: memledger and jemalloc alone side by side in one
# process.  Benchmarks are C (bench/bm.h); bm_gbench.cc, the one C++ file,
# puts that API over Google Benchmark, so bm_hotpath links with CXX.
BENCH_CFLAGS = $(AM_CFLAGS) -O2 -fno-omit-frame-pointer
# The benchmarks themselves (not the front: bm_front.c) also feed the
# shadow stack, as a program built for it would (-O2, sibling calls on: the
# exit hook may then be a tail call, which the shadow stack handles).
BENCH_INSTR_CFLAGS = $(BENCH_CFLAGS) -finstrument-functions
BENCH_LDADD = bench/libbmfront.la libcore.la libjemalloc_ml.a $(UNWIND_LIBS) \
	-lpthread -lm $(DL_LIBS)

noinst_LTLIBRARIES += bench/libbmfront.la
bench_libbmfront_la_SOURCES = bench/bm_front.h bench/bm_front.c src/backend.c
bench_libbmfront_la_CPPFLAGS = $(AM_CPPFLAGS) -DML_BACKEND_TEXT_IS_OURS=0
bench_libbmfront_la_CFLAGS = $(BENCH_CFLAGS)

noinst_PROGRAMS += bench/bm_hotpath bench/bm_callgrind bench/bm_mixed bench/bm_table \
	bench/bm_dump
bench_bm_hotpath_SOURCES = bench/bm.h bench/bm_gbench.cc bench/bm_hotpath.c \
	bench/bm_stack.h bench/bm_stack.c
bench_bm_hotpath_CFLAGS = $(BENCH_INSTR_CFLAGS)
bench_bm_hotpath_LDADD = $(BENCH_LDADD) $(BENCHMARK_LIBS)
EXTRA_bench_bm_hotpath_DEPENDENCIES = libjemalloc_ml.a
bench_bm_callgrind_SOURCES = bench/bm_callgrind.c bench/bm_stack.h bench/bm_stack.c
bench_bm_callgrind_CFLAGS = $(BENCH_INSTR_CFLAGS)
bench_bm_callgrind_LDADD = $(BENCH_LDADD)
EXTRA_bench_bm_callgrind_DEPENDENCIES = libjemalloc_ml.a
# Issue #5: the mixed workload, the tables alone, dumps under load.
bench_bm_mixed_SOURCES = bench/bm.h bench/bm_gbench.cc bench/bm_mixed.c \
	bench/bm_stack.h bench/bm_stack.c
bench_bm_mixed_CFLAGS = $(BENCH_INSTR_CFLAGS)
bench_bm_mixed_LDADD = $(BENCH_LDADD) $(BENCHMARK_LIBS)
EXTRA_bench_bm_mixed_DEPENDENCIES = libjemalloc_ml.a
bench_bm_table_SOURCES = bench/bm.h bench/bm_gbench.cc bench/bm_table.c
bench_bm_table_CFLAGS = $(BENCH_CFLAGS)
bench_bm_table_LDADD = $(BENCH_LDADD) $(BENCHMARK_LIBS)
EXTRA_bench_bm_table_DEPENDENCIES = libjemalloc_ml.a
bench_bm_dump_SOURCES = bench/bm.h bench/bm_gbench.cc bench/bm_dump.c
bench_bm_dump_CFLAGS = $(BENCH_CFLAGS)
bench_bm_dump_LDADD = $(BENCH_LDADD) $(BENCHMARK_LIBS)
EXTRA_bench_bm_dump_DEPENDENCIES = libjemalloc_ml.a

EXTRA_DIST += bench/README.md bench/run.sh bench/scan.sh bench/mimalloc_bench.sh bench/scan_prog.c bench/res.sh bench/res_prog.c bench/callgrind.sh bench/callgrind_guard.sh bench/cg_counts.py bench/ab.py \
	bench/compare.sh bench/alloc_workload.py bench/workload.sql bench/scaling.py bench/pause.sh \
	bench/pause_prog.c bench/delete.sh bench/delete_prog.cc
CLEANFILES += bench/hotpath.json bench/smoke.json bench/mixed.json bench/table.json \
	bench/dump.json bench/smoke-mixed.json bench/smoke-table.json bench/smoke-dump.json

# make bench BENCH_ARGS='--repetitions 9 --cpu 1'
BENCH_ARGS =
BENCH_BINS = bench/bm_hotpath$(EXEEXT) bench/bm_mixed$(EXEEXT) bench/bm_table$(EXEEXT) \
	bench/bm_dump$(EXEEXT)
bench: $(BENCH_BINS)
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_hotpath$(EXEEXT) \
	  --out bench/hotpath.json $(BENCH_ARGS)
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_mixed$(EXEEXT) \
	  --out bench/mixed.json $(BENCH_ARGS)
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_table$(EXEEXT) \
	  --out bench/table.json $(BENCH_ARGS)
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_dump$(EXEEXT) \
	  --out bench/dump.json $(BENCH_ARGS)

# CI: proves the benchmarks still run (one short repetition of each case).
# The dump case only at 100 k blocks with one churning thread.
bench-smoke: $(BENCH_BINS)
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_hotpath$(EXEEXT) \
	  --out bench/smoke.json --quick --repetitions 1
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_mixed$(EXEEXT) \
	  --out bench/smoke-mixed.json --quick --repetitions 1
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_table$(EXEEXT) \
	  --out bench/smoke-table.json --quick --repetitions 1 --filter '/(10000|1000)($$|/)'
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_dump$(EXEEXT) \
	  --out bench/smoke-dump.json --quick --repetitions 1 --filter 'dump/100000/1/'

# Instructions per pair under callgrind (noise-free; needs valgrind).
bench-callgrind: bench/bm_callgrind$(EXEEXT)
	$(SHELL) $(srcdir)/bench/callgrind.sh bench/bm_callgrind$(EXEEXT)

# CI guard (deterministic): instruction budgets under callgrind; exit 1 over.
bench-callgrind-guard: bench/bm_callgrind$(EXEEXT)
	$(SHELL) $(srcdir)/bench/callgrind_guard.sh bench/bm_callgrind$(EXEEXT)

# Whole programs (python3, sqlite3, redis) under glibc, jemalloc, memledger,
# heaptrack, memcheck.  make bench-compare COMPARE_ARGS=--quick
COMPARE_ARGS =
bench-compare: libmemledger.la
	$(SHELL) $(srcdir)/bench/compare.sh --lib .libs/libmemledger.so $(COMPARE_ARGS)

# mimalloc-bench (the allocator community's suite) from a local copy of its
# sources: memledger (default and MIN_SIZE=0) against jemalloc alone (bash).
# make bench-mimalloc MIMALLOC_BENCH_DIR=/path/to/mimalloc-bench MIMALLOC_BENCH_ARGS='--reps 3'
MIMALLOC_BENCH_DIR =
MIMALLOC_BENCH_ARGS =
bench-mimalloc: libmemledger.la
	@if test -z "$(MIMALLOC_BENCH_DIR)"; then \
	  echo "bench-mimalloc: set MIMALLOC_BENCH_DIR to a mimalloc-bench checkout (or a tree holding its bench/)," >&2; \
	  echo "  e.g. make bench-mimalloc MIMALLOC_BENCH_DIR=\$$HOME/mimalloc-bench MIMALLOC_BENCH_ARGS='--reps 3'" >&2; \
	  exit 2; \
	fi
	bash $(srcdir)/bench/mimalloc_bench.sh --src "$(MIMALLOC_BENCH_DIR)" \
	  --lib .libs/libmemledger.so $(MIMALLOC_BENCH_ARGS)

# The html report of 59,049 stacks in headless chromium: wall and CPU time
# against doc/report-formats.md's budget.  make bench-html HTML_RUNS=5
HTML_RUNS = 5
bench-html: memledger$(EXEEXT) libmemledger.la
	ML_BUILDDIR=$(abs_builddir) ML_SRCDIR=$(abs_srcdir) $(SHELL) $(srcdir)/bench/html_render.sh $(HTML_RUNS)

.PHONY: bench bench-smoke bench-callgrind bench-callgrind-guard bench-compare bench-mimalloc bench-html

# Issue 12: descriptors under the preload, a plain program run with and
# without LD_PRELOAD by bench/syscalls.sh (not part of make bench).
noinst_PROGRAMS += bench/bm_syscalls
bench_bm_syscalls_SOURCES = bench/bm_syscalls.c
bench_bm_syscalls_CFLAGS = $(BENCH_CFLAGS)
bench_bm_syscalls_LDADD = $(DL_LIBS)
EXTRA_DIST += bench/syscalls.sh bench/html_render.sh

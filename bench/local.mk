# SPDX-License-Identifier: MIT
# bench/local.mk - benchmarks; included by Makefile.am.
# Benchmarks are measured by people (make bench, make bench-callgrind) and
# only smoke-run by CI (make bench-smoke); none is in TESTS.  They link the
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
bench_libbmfront_la_SOURCES = bench/bm_front.h bench/bm_front.c
bench_libbmfront_la_CFLAGS = $(BENCH_CFLAGS)

noinst_PROGRAMS += bench/bm_hotpath bench/bm_callgrind
bench_bm_hotpath_SOURCES = bench/bm.h bench/bm_gbench.cc bench/bm_hotpath.c \
	bench/bm_stack.h bench/bm_stack.c
bench_bm_hotpath_CFLAGS = $(BENCH_INSTR_CFLAGS)
bench_bm_hotpath_LDADD = $(BENCH_LDADD) $(BENCHMARK_LIBS)
EXTRA_bench_bm_hotpath_DEPENDENCIES = libjemalloc_ml.a
bench_bm_callgrind_SOURCES = bench/bm_callgrind.c bench/bm_stack.h bench/bm_stack.c
bench_bm_callgrind_CFLAGS = $(BENCH_INSTR_CFLAGS)
bench_bm_callgrind_LDADD = $(BENCH_LDADD)
EXTRA_bench_bm_callgrind_DEPENDENCIES = libjemalloc_ml.a

EXTRA_DIST += bench/README.md bench/run.sh bench/callgrind.sh
CLEANFILES += bench/hotpath.json bench/smoke.json

# make bench BENCH_ARGS='--repetitions 9 --cpu 1'
BENCH_ARGS =
bench: bench/bm_hotpath$(EXEEXT)
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_hotpath$(EXEEXT) \
	  --out bench/hotpath.json $(BENCH_ARGS)

# CI: proves the benchmarks still run (one short repetition of each case).
bench-smoke: bench/bm_hotpath$(EXEEXT)
	$(SHELL) $(srcdir)/bench/run.sh --bin bench/bm_hotpath$(EXEEXT) \
	  --out bench/smoke.json --quick --repetitions 1

# Instructions per pair under callgrind (noise-free; needs valgrind).
bench-callgrind: bench/bm_callgrind$(EXEEXT)
	$(SHELL) $(srcdir)/bench/callgrind.sh bench/bm_callgrind$(EXEEXT)

.PHONY: bench bench-smoke bench-callgrind

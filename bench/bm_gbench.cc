// SPDX-License-Identifier: MIT
/*
 * bm_gbench.cc - bm.h over Google Benchmark: the one C++ file of bench/.
 *
 * A bm_state is built on the stack of each run (and each thread of a run)
 * around the benchmark::State that Google Benchmark hands the case, plus the
 * case's udata; a bm_bench is a benchmark::internal::Benchmark.  Nothing here
 * runs inside the timed loop: bm_keep_running_batch() asks for the whole run
 * as one batch (State::KeepRunningBatch(max_iterations)), so the C loop is the
 * only code between the two timer calls.
 */
#include "bm.h"

#include <benchmark/benchmark.h>

#include <string>

struct bm_state {
  benchmark::State *s; // the run's state (this thread's)
  void *udata;         // from bm_register
};

static benchmark::internal::Benchmark *bm_b(bm_bench *b) {
  return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

static bm_bench *bm_c(benchmark::internal::Benchmark *b) {
  return reinterpret_cast<bm_bench *>(b);
}

extern "C" {

// ---- registration ---------------------------------------------------------------

bm_bench *bm_register(const char *name, bm_fn fn, void *udata) {
  return bm_c(benchmark::RegisterBenchmark(name, [fn, udata](benchmark::State &s) {
    bm_state st{&s, udata};
    fn(&st);
  }));
}

bm_bench *bm_bench_arg(bm_bench *b, int64_t x) { return bm_c(bm_b(b)->Arg(x)); }

bm_bench *bm_bench_args(bm_bench *b, const int64_t *xs, int n) {
  return bm_c(bm_b(b)->Args(std::vector<int64_t>(xs, xs + n)));
}

bm_bench *bm_bench_range(bm_bench *b, int64_t lo, int64_t hi) {
  return bm_c(bm_b(b)->Range(lo, hi));
}

bm_bench *bm_bench_range_multiplier(bm_bench *b, int mult) {
  return bm_c(bm_b(b)->RangeMultiplier(mult));
}

bm_bench *bm_bench_dense_range(bm_bench *b, int64_t lo, int64_t hi, int step) {
  return bm_c(bm_b(b)->DenseRange(lo, hi, step));
}

bm_bench *bm_bench_arg_name(bm_bench *b, const char *name) {
  return bm_c(bm_b(b)->ArgName(name));
}

bm_bench *bm_bench_threads(bm_bench *b, int n) { return bm_c(bm_b(b)->Threads(n)); }

bm_bench *bm_bench_thread_range(bm_bench *b, int lo, int hi) {
  return bm_c(bm_b(b)->ThreadRange(lo, hi));
}

bm_bench *bm_bench_use_real_time(bm_bench *b) { return bm_c(bm_b(b)->UseRealTime()); }

bm_bench *bm_bench_min_time(bm_bench *b, double seconds) {
  return bm_c(bm_b(b)->MinTime(seconds));
}

bm_bench *bm_bench_iterations(bm_bench *b, uint64_t n) {
  return bm_c(bm_b(b)->Iterations(static_cast<benchmark::IterationCount>(n)));
}

bm_bench *bm_bench_repetitions(bm_bench *b, int n) {
  return bm_c(bm_b(b)->Repetitions(n));
}

bm_bench *bm_bench_unit(bm_bench *b, bm_unit_t unit) {
  static const benchmark::TimeUnit units[] = {
      benchmark::kNanosecond, benchmark::kMicrosecond, benchmark::kMillisecond,
      benchmark::kSecond};
  return bm_c(bm_b(b)->Unit(units[unit]));
}

void bm_add_context(const char *key, const char *value) {
  benchmark::AddCustomContext(key, value);
}

// ---- the timed loop -----------------------------------------------------------------

int bm_keep_running_batch(bm_state *st, uint64_t *n) {
  benchmark::IterationCount k = st->s->max_iterations;
  if (st->s->KeepRunningBatch(k)) {
    *n = static_cast<uint64_t>(k);
    return 1;
  }
  *n = 0;
  return 0;
}

int bm_keep_running(bm_state *st) { return st->s->KeepRunning(); }

uint64_t bm_iterations(const bm_state *st) {
  return static_cast<uint64_t>(st->s->iterations());
}

void bm_pause_timing(bm_state *st) { st->s->PauseTiming(); }
void bm_resume_timing(bm_state *st) { st->s->ResumeTiming(); }
void bm_skip_with_error(bm_state *st, const char *msg) { st->s->SkipWithError(msg); }

// ---- parameters and results ----------------------------------------------------------

int64_t bm_range(const bm_state *st, int i) {
  return st->s->range(static_cast<std::size_t>(i));
}
void *bm_udata(const bm_state *st) { return st->udata; }
int bm_thread_index(const bm_state *st) { return st->s->thread_index(); }
int bm_threads(const bm_state *st) { return st->s->threads(); }

void bm_set_items_processed(bm_state *st, int64_t items) {
  st->s->SetItemsProcessed(items);
}
void bm_set_bytes_processed(bm_state *st, int64_t bytes) {
  st->s->SetBytesProcessed(bytes);
}
void bm_set_label(bm_state *st, const char *label) { st->s->SetLabel(label); }

void bm_counter_set(bm_state *st, const char *name, double value, unsigned flags) {
  st->s->counters[name] =
      benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(flags));
}

// ---- running
// ----------------------------------------------------------------------------

int bm_main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

} // extern "C"

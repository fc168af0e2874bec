/* SPDX-License-Identifier: MIT */
/*
 * bm.h - a small C API over Google Benchmark, so that memledger's benchmarks
 * are written in C like the rest of the project.  bm_gbench.cc is the only
 * C++ file: it wraps benchmark::State and benchmark::internal::Benchmark
 * behind opaque pointers.
 *
 * Register cases before bm_main(), which parses Google Benchmark's own flags
 * (--benchmark_filter, --benchmark_repetitions, --benchmark_out,
 * --benchmark_context, ...) and runs them.  Timed loops are written in C as
 *
 *   uint64_t n;
 *   while (bm_keep_running_batch(st, &n))
 *     for (uint64_t i = 0; i < n; i++) { ...one iteration... }
 *
 * which crosses into C++ twice per measurement, not once per iteration: a
 * call per iteration would be a large part of a 3 ns malloc+free pair.
 * bm_keep_running() (one call per iteration) is there for slow bodies only.
 * Nothing here is for signal handlers.  Registration is not thread-safe;
 * the state functions are called by the thread that owns the state.
 */
#ifndef BM_H
#define BM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bm_state bm_state; // one thread's view of a running case
typedef struct bm_bench bm_bench; // a registered case (for the modifiers)
typedef void (*bm_fn)(bm_state *st);

// ---- registration (before bm_main) ------------------------------------------

/* Register fn under name (copied); udata is handed back by bm_udata().
 * Returns the case, for the bm_bench_* modifiers (each returns b). */
bm_bench *bm_register(const char *name, bm_fn fn, void *udata);

bm_bench *bm_bench_arg(bm_bench *b, int64_t x); // one run with range(0) = x
bm_bench *bm_bench_args(bm_bench *b, const int64_t *xs, int n); // one run, ranges 0..n-1
bm_bench *bm_bench_range(bm_bench *b, int64_t lo, int64_t hi);  // lo..hi, powers of 8
bm_bench *bm_bench_range_multiplier(bm_bench *b, int mult); // pre: before bm_bench_range
bm_bench *bm_bench_dense_range(bm_bench *b, int64_t lo, int64_t hi, int step);
bm_bench *bm_bench_arg_name(bm_bench *b, const char *name); // "name:x" in results
bm_bench *bm_bench_threads(bm_bench *b, int n);             // may be given several times
bm_bench *bm_bench_thread_range(bm_bench *b, int lo, int hi); // lo..hi, powers of 2
bm_bench *bm_bench_use_real_time(bm_bench *b);            // wall clock (threaded runs)
bm_bench *bm_bench_min_time(bm_bench *b, double seconds); // overrides the flag
bm_bench *bm_bench_iterations(bm_bench *b, uint64_t n);   // fixed count, no estimation
bm_bench *bm_bench_repetitions(bm_bench *b, int n);       // overrides the flag

typedef enum bm_unit_e { BM_NS, BM_US, BM_MS, BM_S } bm_unit_t;
bm_bench *bm_bench_unit(bm_bench *b, bm_unit_t unit);

/* A key=value line in the results' "context" (as --benchmark_context=). */
void bm_add_context(const char *key, const char *value);

// ---- the timed loop -------------------------------------------------------------

/* First call: starts the timer, stores in *n the whole iteration count of
 * this run and returns 1.  Second call: stops the timer and returns 0 (and
 * *n = 0).  Also 0 at once after bm_skip_with_error(). */
int bm_keep_running_batch(bm_state *st, uint64_t *n);

/* One iteration per call; for bodies that take microseconds. */
int bm_keep_running(bm_state *st);

/* Iterations completed so far by this thread (after the loop: all). */
uint64_t bm_iterations(const bm_state *st);

/* Not counted in the time; expensive (a clock read each); single-thread or
 * per-thread use only. */
void bm_pause_timing(bm_state *st);
void bm_resume_timing(bm_state *st);

/* Report an error for this run and make the next keep_running return 0. */
void bm_skip_with_error(bm_state *st, const char *msg);

// ---- the run's parameters ---------------------------------------------------------

int64_t bm_range(const bm_state *st, int i); // pre: i < number of args
void *bm_udata(const bm_state *st);
int bm_thread_index(const bm_state *st); // 0..bm_threads()-1
int bm_threads(const bm_state *st);

// ---- results ----------------------------------------------------------------------

void bm_set_items_processed(bm_state *st, int64_t items); // items_per_second
void bm_set_bytes_processed(bm_state *st, int64_t bytes); // bytes_per_second
void bm_set_label(bm_state *st, const char *label);

/* Counter flags: benchmark::Counter's, bit for bit. */
#define BM_COUNTER_DEFAULT             0u
#define BM_COUNTER_RATE                (1u << 0)  // value / seconds
#define BM_COUNTER_AVG_THREADS         (1u << 1)  // value / threads
#define BM_COUNTER_ITERATION_INVARIANT (1u << 2)  // value * iterations
#define BM_COUNTER_AVG_ITERATIONS      (1u << 3)  // value / iterations
#define BM_COUNTER_INVERT              (1u << 31) // 1 / value (after the others)
void bm_counter_set(bm_state *st, const char *name, double value, unsigned flags);

// ---- running ----------------------------------------------------------------------

/* benchmark::Initialize, reject unknown flags (returns 1), run the cases
 * selected by the flags, benchmark::Shutdown.  Returns 0 on success. */
int bm_main(int argc, char **argv);

// ---- keeping the compiler honest ------------------------------------------------

/* Never instrumented: benchmarks compiled with -finstrument-functions
 * (the shadow-stack cases) must not call the hooks in their loops. */
#define BM_INLINE static inline __attribute__((always_inline, no_instrument_function))

/* The value of p is used, and any memory may have been read or written
 * (Google Benchmark's DoNotOptimize). */
BM_INLINE void bm_do_not_optimize(const void *p) {
  __asm__ __volatile__("" : : "r"(p) : "memory");
}
/* Same, for a scalar lvalue the compiler must also assume was changed. */
#define BM_DO_NOT_OPTIMIZE(x) __asm__ __volatile__("" : "+r,m"(x) : : "memory")

/* Pending writes are done (Google Benchmark's ClobberMemory). */
BM_INLINE void bm_clobber_memory(void) { __asm__ __volatile__("" : : : "memory"); }

#ifdef __cplusplus
}
#endif

#endif /* BM_H */

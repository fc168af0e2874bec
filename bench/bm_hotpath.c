/* SPDX-License-Identifier: MIT */
/*
 * bm_hotpath.c - the hot path (issue #2): a malloc+free pair through
 * memledger's front against the same pair through jemalloc alone, in one
 * process, on one jemalloc heap, so that both sides see the same machine
 * state.  The budgets (DESIGN.md, "Performance budgets") compare:
 *
 *   pair_ml/64                  untracked pair    <= 1.25 x pair_je/64
 *   pair_ml_fp/4096             tracked, fp       <= pair_je/4096 + 25 ns
 *   pair_ml_libunwind/4096      tracked, libunwind <= 1.2 x unwind_libunwind
 *   pair_ml_shadow/4096         tracked, shadow stack <= pair_je/4096 + 10 ns
 *   pair_ml_none/4096           tracked, no stack: the table's cost alone
 *   unwind_fp, unwind_libunwind the raw unwinder walking the same number of
 *                               frames as the tracked capture does
 *   part_*                      pieces of the tracked path alone: a lock and
 *                               unlock, a table insert and remove, hashing
 *                               and interning a stack of 0 or 20 frames,
 *                               a capture answered by the per-thread cache
 *                               (part_capture_hit); part_hooks: one call of
 *                               an instrumented function (the shadow
 *                               stack's price per call)
 *
 * One iteration is one pair, so the time per iteration is ns per pair and
 * items_per_second is pairs per second.  Each side is called through a
 * function pointer re-read every call (volatile), as a program calls malloc
 * through its PLT.  Every case runs its loop at the bottom of a call chain of
 * BM_CHAIN_DEPTH frames, so that the unwinders walk a realistic stack; the
 * chain is entered once per run, not per iteration.  Each case checks after
 * its loop that the front recorded exactly the pairs it should have (all of
 * them or none), so a gate that silently stops tracking fails the run.
 * The threads:2 variants are for information (2 shared cores here).
 */
#include "bm.h"
#include "bm_stack.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef enum bm_kind_e { BM_PAIR, BM_RAW, BM_PART, BM_HOOKS } bm_kind_t;

typedef struct bm_case_s {
  bm_kind_t kind;
  void *(*volatile alloc)(size_t); // re-read on every call, like a GOT slot
  void (*volatile release)(void *);
  bm_unwind_t mode; // tracked and raw cases: the unwinder
  bm_part_t part;   // BM_PART cases
  int tracked;      // the front records every pair
  int calibrated;   // cal is valid (thread 0's stack)
  bm_calib_t cal;
  unsigned depth;   // frames of the chain under the loop (0: BM_CHAIN_DEPTH)
  int nofp;         // the chain has no frame pointers (bm_chain_run_nofp)
} bm_case_t;

typedef struct bm_run_s {
  bm_state *st;
  bm_case_t *c;
  size_t size;
  unsigned frames; // raw cases: frames walked by the last unwind
} bm_run_t;

// ---- the timed loops --------------------------------------------------------------

static void bm_pair_loop(void *arg) {
  bm_run_t *r = arg;
  bm_case_t *c = r->c;
  size_t size = r->size;
  uint64_t n;
  while (bm_keep_running_batch(r->st, &n))
    for (uint64_t i = 0; i < n; i++) {
      void *p = c->alloc(size);
      bm_do_not_optimize(p);
      c->release(p);
    }
}

static void bm_raw_loop(void *arg) {
  bm_run_t *r = arg;
  bm_unwind_t mode = r->c->mode;
  /* the whole chain for the per-depth cases, else what a capture asks for */
  unsigned want = r->c->depth ? 150 : bm_front_want(r->c->cal.skip, 0);
  uintptr_t frames[160];
  unsigned k = 0;
  uint64_t n;
  while (bm_keep_running_batch(r->st, &n))
    for (uint64_t i = 0; i < n; i++) {
      k = bm_raw_unwind(mode, frames, want);
      BM_DO_NOT_OPTIMIZE(k);
    }
  r->frames = k;
}

static void bm_part_run(bm_state *st) {
  bm_case_t *c = bm_udata(st);
  uint64_t n;
  while (bm_keep_running_batch(st, &n))
    if (c->kind == BM_HOOKS)
      bm_hooks_loop(n);
    else
      bm_part_loop(c->part, n, (unsigned)bm_range(st, 0));
  bm_set_items_processed(st, (int64_t)bm_iterations(st));
}

// ---- one run of a case ---------------------------------------------------------------

static void bm_case_run(bm_state *st) {
  bm_case_t *c = bm_udata(st);
  bm_run_t r = {
      .st = st, .c = c, .size = c->kind == BM_PAIR ? (size_t)bm_range(st, 0) : 0};
  int lead = bm_thread_index(st) == 0;
  unsigned depth = c->depth ? c->depth : BM_CHAIN_DEPTH;
  uint64_t before = 0, hits_before = 0;
  /* Thread 0 sets the front up before its first bm_keep_running_batch; the
   * other threads wait in theirs until it gets there. */
  if (lead) {
    if (c->mode && !c->calibrated) {
      if (bm_calibrate(c->mode, depth, &c->cal)) {
        bm_skip_with_error(st, "calibration failed");
        return;
      }
      c->calibrated = 1;
    }
    if (c->mode) bm_front_set_unwind(c->mode, c->cal.skip, 0);
    before = bm_front_tracked_allocs();
    hits_before = bm_front_capture_hits();
  }
  if (c->kind == BM_RAW)
    bm_chain_run(depth + (c->depth ? 0 : c->cal.pad), bm_raw_loop, &r);
  else if (c->nofp)
    bm_chain_run_nofp(depth, bm_pair_loop, &r);
  else
    bm_chain_run(depth, bm_pair_loop, &r);

  uint64_t iters = bm_iterations(st);
  bm_set_items_processed(st, (int64_t)iters);
  if (!lead) return;
  uint64_t got = bm_front_tracked_allocs() - before;
  uint64_t want = c->tracked ? iters * (uint64_t)bm_threads(st) : 0;
  if (got != want) {
    static char msg[128];
    snprintf(msg, sizeof msg, "%" PRIu64 " tracked allocations, expected %" PRIu64, got,
             want);
    bm_skip_with_error(st, msg);
    return;
  }
  if (bm_threads(st) > 1 || !c->mode) return;
  if (c->kind == BM_RAW) {
    bm_counter_set(st, "frames", r.frames, BM_COUNTER_DEFAULT);
  } else if (c->mode != BM_UNWIND_NONE) {
    if (c->mode != BM_UNWIND_SHADOW)
      bm_counter_set(st, "frames", c->cal.walked, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "kept", c->cal.kept, BM_COUNTER_DEFAULT);
    if (c->mode == BM_UNWIND_EH)
      bm_counter_set(st, "hit", (double)(bm_front_capture_hits() - hits_before) / (double)iters,
                     BM_COUNTER_DEFAULT);
  }
}

// ---- the cases ----------------------------------------------------------------------

static bm_case_t bm_je = {.kind = BM_PAIR, .alloc = bm_je_malloc, .release = bm_je_free};
static bm_case_t bm_ml = {.kind = BM_PAIR, .alloc = bm_ml_malloc, .release = bm_ml_free};
static bm_case_t bm_ml_none = {.kind = BM_PAIR,
                               .alloc = bm_ml_malloc,
                               .release = bm_ml_free,
                               .mode = BM_UNWIND_NONE,
                               .tracked = 1};
static bm_case_t bm_ml_fp = {.kind = BM_PAIR,
                             .alloc = bm_ml_malloc,
                             .release = bm_ml_free,
                             .mode = BM_UNWIND_FP,
                             .tracked = 1};
static bm_case_t bm_ml_lu = {.kind = BM_PAIR,
                             .alloc = bm_ml_malloc,
                             .release = bm_ml_free,
                             .mode = BM_UNWIND_LIBUNWIND,
                             .tracked = 1};
static bm_case_t bm_ml_eh = {.kind = BM_PAIR,
                             .alloc = bm_ml_malloc,
                             .release = bm_ml_free,
                             .mode = BM_UNWIND_EH,
                             .tracked = 1};
static bm_case_t bm_ml_shadow = {.kind = BM_PAIR,
                                 .alloc = bm_ml_malloc,
                                 .release = bm_ml_free,
                                 .mode = BM_UNWIND_SHADOW,
                                 .tracked = 1};
/* The other entry points, untracked (issue 5's list). */
static bm_case_t bm_je_calloc = {.kind = BM_PAIR, .alloc = bm_je_calloc1, .release = bm_je_free};
static bm_case_t bm_ml_calloc = {.kind = BM_PAIR, .alloc = bm_ml_calloc1, .release = bm_ml_free};
static bm_case_t bm_je_aligned = {.kind = BM_PAIR, .alloc = bm_je_aligned64, .release = bm_je_free};
static bm_case_t bm_ml_aligned = {.kind = BM_PAIR, .alloc = bm_ml_aligned64, .release = bm_ml_free};
static bm_case_t bm_je_realloc = {.kind = BM_PAIR, .alloc = bm_je_realloc_grow, .release = bm_je_free};
static bm_case_t bm_ml_realloc = {.kind = BM_PAIR, .alloc = bm_ml_realloc_grow, .release = bm_ml_free};
static bm_case_t bm_raw_fp = {.kind = BM_RAW, .mode = BM_UNWIND_FP};
static bm_case_t bm_raw_lu = {.kind = BM_RAW, .mode = BM_UNWIND_LIBUNWIND};
static bm_case_t bm_raw_eh = {.kind = BM_RAW, .mode = BM_UNWIND_EH};
/* Raw walks of the whole chain at 8, 32 and 128 frames. */
#define BM_RAW_DEPTH_CASE(m, d) {.kind = BM_RAW, .mode = m, .depth = d}
static bm_case_t bm_raw_depth[] = {
    BM_RAW_DEPTH_CASE(BM_UNWIND_EH, 8),         BM_RAW_DEPTH_CASE(BM_UNWIND_EH, 32),
    BM_RAW_DEPTH_CASE(BM_UNWIND_EH, 128),       BM_RAW_DEPTH_CASE(BM_UNWIND_FP, 8),
    BM_RAW_DEPTH_CASE(BM_UNWIND_FP, 32),        BM_RAW_DEPTH_CASE(BM_UNWIND_FP, 128),
    BM_RAW_DEPTH_CASE(BM_UNWIND_LIBUNWIND, 8),  BM_RAW_DEPTH_CASE(BM_UNWIND_LIBUNWIND, 32),
    BM_RAW_DEPTH_CASE(BM_UNWIND_LIBUNWIND, 128)};
static bm_case_t bm_part_lock = {.kind = BM_PART, .part = BM_PART_LOCK};
static bm_case_t bm_part_hash = {.kind = BM_PART, .part = BM_PART_HASH};
static bm_case_t bm_part_intern = {.kind = BM_PART, .part = BM_PART_INTERN};
static bm_case_t bm_part_table = {.kind = BM_PART, .part = BM_PART_TABLE};
static bm_case_t bm_part_capture = {.kind = BM_PART, .part = BM_PART_CAPTURE};
static bm_case_t bm_part_young = {.kind = BM_PART, .part = BM_PART_YOUNG};
static bm_case_t bm_part_hooks = {.kind = BM_HOOKS};
/* Tracked pairs under chains of 8, 32 and 128 frames (issue 3's depths). */
#define BM_DEPTH_CASE(m, d)                                                               \
  {.kind = BM_PAIR, .alloc = bm_ml_malloc, .release = bm_ml_free, .mode = m, .tracked = 1, \
   .depth = d}
static bm_case_t bm_ml_shadow_depth[] = {BM_DEPTH_CASE(BM_UNWIND_SHADOW, 8),
                                         BM_DEPTH_CASE(BM_UNWIND_SHADOW, 32),
                                         BM_DEPTH_CASE(BM_UNWIND_SHADOW, 128)};
static bm_case_t bm_ml_fp_depth[] = {BM_DEPTH_CASE(BM_UNWIND_FP, 8),
                                     BM_DEPTH_CASE(BM_UNWIND_FP, 32),
                                     BM_DEPTH_CASE(BM_UNWIND_FP, 128)};
static bm_case_t bm_ml_eh_depth[] = {BM_DEPTH_CASE(BM_UNWIND_EH, 8),
                                     BM_DEPTH_CASE(BM_UNWIND_EH, 32),
                                     BM_DEPTH_CASE(BM_UNWIND_EH, 128)};
/* The default unwinder under a chain without frame pointers. */
static bm_case_t bm_ml_eh_nofp = {.kind = BM_PAIR,
                                  .alloc = bm_ml_malloc,
                                  .release = bm_ml_free,
                                  .mode = BM_UNWIND_EH,
                                  .tracked = 1,
                                  .nofp = 1};
/* The threaded variants: the same, without the calibration counters. */
static bm_case_t bm_ml_fp_mt = {.kind = BM_PAIR,
                                .alloc = bm_ml_malloc,
                                .release = bm_ml_free,
                                .mode = BM_UNWIND_FP,
                                .tracked = 1};
static bm_case_t bm_ml_eh_mt = {.kind = BM_PAIR,
                                .alloc = bm_ml_malloc,
                                .release = bm_ml_free,
                                .mode = BM_UNWIND_EH,
                                .tracked = 1};

enum { BM_SMALL = 64, BM_LARGE = 4096 };

static void bm_pair(const char *name, bm_case_t *c, int64_t size, int threads) {
  bm_bench *b = bm_bench_arg(bm_register(name, bm_case_run, c), size);
  if (threads > 1) bm_bench_threads(bm_bench_use_real_time(b), threads);
}

int main(int argc, char **argv) {
  if (bm_front_init()) return 1;
  size_t t = bm_front_threshold();
  if (!(BM_SMALL < t && t <= BM_LARGE)) {
    fprintf(stderr,
            "bm_hotpath: needs %d bytes untracked and %d tracked; the threshold is "
            "%zu (MEMLEDGER_MIN_SIZE)\n",
            BM_SMALL, BM_LARGE, t);
    return 1;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%zu", t);
  bm_add_context("memledger_threshold", buf);
  snprintf(buf, sizeof buf, "%d", BM_CHAIN_DEPTH);
  bm_add_context("chain_depth", buf);
  bm_add_context("jemalloc", bm_front_jemalloc_version());
  bm_add_context("setup", "in-process: memledger front and jemalloc alone on one heap");

  bm_pair("pair_je", &bm_je, BM_SMALL, 1);
  bm_pair("pair_ml", &bm_ml, BM_SMALL, 1);
  bm_pair("pair_je", &bm_je, BM_LARGE, 1);
  bm_pair("pair_ml_none", &bm_ml_none, BM_LARGE, 1);
  bm_pair("pair_ml_fp", &bm_ml_fp, BM_LARGE, 1);
  bm_pair("pair_ml_libunwind", &bm_ml_lu, BM_LARGE, 1);
  bm_pair("pair_ml_eh", &bm_ml_eh, BM_LARGE, 1);
  bm_pair("pair_ml_eh_nofp", &bm_ml_eh_nofp, BM_LARGE, 1);
  bm_pair("pair_ml_shadow", &bm_ml_shadow, BM_LARGE, 1);
  /* Untracked sizes and entry points, each beside jemalloc's. */
  static const int64_t small_sizes[] = {16, 512};
  for (int i = 0; i < 2; i++) {
    bm_pair("pair_je", &bm_je, small_sizes[i], 1);
    bm_pair("pair_ml", &bm_ml, small_sizes[i], 1);
  }
  bm_pair("calloc_je", &bm_je_calloc, BM_SMALL, 1);
  bm_pair("calloc_ml", &bm_ml_calloc, BM_SMALL, 1);
  bm_pair("aligned64_je", &bm_je_aligned, BM_SMALL, 1);
  bm_pair("aligned64_ml", &bm_ml_aligned, BM_SMALL, 1);
  bm_pair("realloc_grow_je", &bm_je_realloc, BM_SMALL, 1);
  bm_pair("realloc_grow_ml", &bm_ml_realloc, BM_SMALL, 1);
  /* Tracked pairs at 1 KiB and 64 KiB for every unwinder. */
  static const int64_t tracked_sizes[] = {1024, 65536};
  for (int i = 0; i < 2; i++) {
    bm_pair("pair_je", &bm_je, tracked_sizes[i], 1);
    bm_pair("pair_ml_none", &bm_ml_none, tracked_sizes[i], 1);
    bm_pair("pair_ml_fp", &bm_ml_fp, tracked_sizes[i], 1);
    bm_pair("pair_ml_libunwind", &bm_ml_lu, tracked_sizes[i], 1);
    bm_pair("pair_ml_eh", &bm_ml_eh, tracked_sizes[i], 1);
    bm_pair("pair_ml_shadow", &bm_ml_shadow, tracked_sizes[i], 1);
  }
  for (int i = 0; i < 3; i++) {
    char name[48];
    snprintf(name, sizeof name, "pair_ml_shadow_depth%u", bm_ml_shadow_depth[i].depth);
    bm_pair(strdup(name), &bm_ml_shadow_depth[i], BM_LARGE, 1);
    snprintf(name, sizeof name, "pair_ml_fp_depth%u", bm_ml_fp_depth[i].depth);
    bm_pair(strdup(name), &bm_ml_fp_depth[i], BM_LARGE, 1);
    snprintf(name, sizeof name, "pair_ml_eh_depth%u", bm_ml_eh_depth[i].depth);
    bm_pair(strdup(name), &bm_ml_eh_depth[i], BM_LARGE, 1);
  }
  bm_register("unwind_fp", bm_case_run, &bm_raw_fp);
  bm_register("unwind_libunwind", bm_case_run, &bm_raw_lu);
  bm_register("unwind_eh", bm_case_run, &bm_raw_eh);
  for (size_t i = 0; i < sizeof bm_raw_depth / sizeof bm_raw_depth[0]; i++) {
    char name[48];
    snprintf(name, sizeof name, "unwind_%s_depth%u", bm_unwind_name(bm_raw_depth[i].mode),
             bm_raw_depth[i].depth);
    bm_register(strdup(name), bm_case_run, &bm_raw_depth[i]);
  }
  /* Parts of a tracked pair (the argument is a frame count). */
  bm_bench_arg(bm_register("part_lock", bm_part_run, &bm_part_lock), 0);
  bm_bench_arg(bm_register("part_table", bm_part_run, &bm_part_table), 0);
  bm_bench_arg(bm_register("part_young", bm_part_run, &bm_part_young), 0);
  bm_bench_arg(bm_register("part_capture_hit", bm_part_run, &bm_part_capture), 0);
  bm_bench_arg(bm_register("part_hooks", bm_part_run, &bm_part_hooks), 0);
  bm_bench_arg(bm_bench_arg(bm_register("part_hash", bm_part_run, &bm_part_hash), 0), 20);
  bm_bench_arg(bm_bench_arg(bm_register("part_intern", bm_part_run, &bm_part_intern), 0),
               20);
  bm_pair("pair_je", &bm_je, BM_SMALL, 2);
  bm_pair("pair_ml", &bm_ml, BM_SMALL, 2);
  bm_pair("pair_je", &bm_je, BM_LARGE, 2);
  bm_pair("pair_ml_fp", &bm_ml_fp_mt, BM_LARGE, 2);
  bm_pair("pair_ml_eh", &bm_ml_eh_mt, BM_LARGE, 2);
  return bm_main(argc, argv);
}

/* SPDX-License-Identifier: MIT */
/*
 * bm_callgrind.c - instructions per malloc+free pair, memledger's front
 * against jemalloc alone: the cases of bm_hotpath.c as plain loops, each
 * between CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT(case), for
 * bench/callgrind.sh.  Instruction counts do not depend on the machine's
 * load, so they show a regression the noisy timings hide; they say nothing
 * about cache misses or branch mispredictions.  Outside valgrind the client
 * requests do nothing and the program just runs the loops.
 *
 * Also the part_* cases (pieces of the tracked path).  Prints one line per
 * case: "<case> <iterations> <frames walked> <frames kept>".
 * Usage: bm_callgrind [SCALE [CASE...]]; with CASE names, only those pair
 * and unwind cases run (no part_* cases).
 */
#include "bm.h"
#include "bm_stack.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BM_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BM_HAVE_CALLGRIND
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#endif

typedef struct bm_cg_case_s {
  const char *name;
  void *(*volatile alloc)(size_t); // NULL: a raw unwind case
  void (*volatile release)(void *);
  size_t size;
  bm_unwind_t mode; // 0: untracked
  unsigned n;       // measured iterations
  bm_calib_t cal;
  unsigned frames; // raw cases: frames walked
  int nofp;        // under the chain without frame pointers
} bm_cg_case_t;

#define BM_WARMUP 1000

static void bm_cg_loop(void *arg) {
  bm_cg_case_t *c = arg;
  if (c->alloc) {
    for (unsigned i = 0; i < BM_WARMUP + c->n; i++) {
      if (i == BM_WARMUP) CALLGRIND_ZERO_STATS;
      void *p = c->alloc(c->size);
      bm_do_not_optimize(p);
      c->release(p);
    }
  } else {
    uintptr_t frames[160];
    unsigned want = bm_front_want(c->cal.skip, 0), k = 0;
    for (unsigned i = 0; i < BM_WARMUP + c->n; i++) {
      if (i == BM_WARMUP) CALLGRIND_ZERO_STATS;
      k = bm_raw_unwind(c->mode, frames, want);
      BM_DO_NOT_OPTIMIZE(k);
    }
    c->frames = k;
  }
  CALLGRIND_DUMP_STATS_AT(c->name);
}

/* Calibrate and run from the same frame, as bm_calibrate expects. */
static __attribute__((noinline)) int bm_cg_run(bm_cg_case_t *c) {
  if (c->mode) {
    if (bm_calibrate(c->mode, BM_CHAIN_DEPTH, &c->cal)) return -1;
    bm_front_set_unwind(c->mode, c->cal.skip, 0);
  }
  unsigned depth = BM_CHAIN_DEPTH + (c->alloc ? 0 : c->cal.pad);
  if (c->nofp)
    bm_chain_run_nofp(depth, bm_cg_loop, c);
  else
    bm_chain_run(depth, bm_cg_loop, c);
  __asm__ __volatile__("" : : : "memory");
  return 0;
}

/* One tracked block kept live for the rest of the run, so that the page map
 * covers the heap (pair_ml_marked/64 measures the untracked free there). */
static void bm_cg_keep_tracked(void) {
  static void *keep;
  if (!keep) keep = bm_ml_malloc(4096);
  bm_do_not_optimize(keep);
}

/* A part of the tracked path (bm_part_loop), n times. */
static void bm_cg_part(const char *name, bm_part_t part, unsigned nframes, unsigned n) {
  bm_part_loop(part, BM_WARMUP, nframes);
  CALLGRIND_ZERO_STATS;
  bm_part_loop(part, n, nframes);
  CALLGRIND_DUMP_STATS_AT(name);
  printf("%s %u 0 0\n", name, n);
}

/* ---- mixes ------------------------------------------------------------------ */

typedef struct bm_side_s {
  void *(*malloc)(size_t);
  void (*free)(void *);
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  void *(*aligned)(size_t, size_t);
} bm_side_t;

static const bm_side_t bm_side_je = {bm_je_malloc, bm_je_free, bm_je_calloc_mn, bm_je_realloc_pn,
                                     bm_je_aligned_an};
static const bm_side_t bm_side_ml = {bm_ml_malloc, bm_ml_free, bm_ml_calloc_mn, bm_ml_realloc_pn,
                                     bm_ml_aligned_an};

#define BM_MIX_SLOTS 1024

typedef struct bm_mix_case_s {
  const char *name;
  const bm_side_t *side;
  bm_unwind_t mode; // memledger's capture (0: jemalloc alone)
  int all;          // track every block (MEMLEDGER_MIN_SIZE=0)
  int small;        // 1: the untracked mix; 0: bm_mixed's mix (a fifth tracked)
  unsigned n;
} bm_mix_case_t;

/* The mixes are not instrumented: the shadow-stack hooks would add their
 * cost to both sides. */
#define BM_NO_HOOKS __attribute__((no_instrument_function))

BM_NO_HOOKS static uint64_t bm_cg_xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* A request of the mix: the untracked one stays in size classes below the
 * default threshold (up to 896 bytes), the other is bm_mixed's (80% under
 * 1 KiB, 20% 1 to 16 KiB). */
BM_NO_HOOKS static size_t bm_mix_size(uint64_t r, int small) {
  if (small) return 8 + (size_t)((r >> 20) % (896 - 8 + 1));
  if (r % 5 == 0) return 1024 + (size_t)((r >> 8) % (15 * 1024 + 1));
  return 8 + (size_t)((r >> 8) % (1000 - 8));
}

/* One operation per iteration on a ring of live blocks.  Untracked mix: 20%
 * realloc of a live block to a new size (growth and shrinking), and 80% a
 * free of a live block (of any size) and a new block from malloc (50%),
 * calloc (15%) or aligned_alloc(64) (15%).  The other mix: free and malloc. */
BM_NO_HOOKS static void bm_mix_loop(void *arg) {
  bm_mix_case_t *c = arg;
  const bm_side_t *s = c->side;
  static void *ring[BM_MIX_SLOTS];
  uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
  for (unsigned i = 0; i < BM_MIX_SLOTS; i++)
    ring[i] = s->malloc(bm_mix_size(bm_cg_xorshift(&seed), c->small));
  for (unsigned i = 0; i < BM_WARMUP + c->n; i++) {
    if (i == BM_WARMUP) CALLGRIND_ZERO_STATS;
    uint64_t r = bm_cg_xorshift(&seed);
    unsigned slot = (unsigned)(r >> 40) % BM_MIX_SLOTS, op = (unsigned)((r >> 8) % 20);
    size_t n = bm_mix_size(r, c->small);
    if (!c->small) op = 19;
    if (op < 4) {
      ring[slot] = s->realloc(ring[slot], n);
    } else {
      s->free(ring[slot]);
      ring[slot] = op < 7 ? s->calloc(1, n) : op < 10 ? s->aligned(64, n) : s->malloc(n);
    }
    bm_do_not_optimize(ring[slot]);
  }
  CALLGRIND_DUMP_STATS_AT(c->name);
  for (unsigned i = 0; i < BM_MIX_SLOTS; i++) s->free(ring[i]);
}

static __attribute__((noinline)) int bm_cg_mix(bm_mix_case_t *c) {
  bm_calib_t cal = {0};
  if (c->mode) {
    if (bm_calibrate(c->mode, BM_CHAIN_DEPTH, &cal)) return -1;
    bm_front_set_unwind(c->mode, cal.skip, 0);
  }
  bm_front_track_all(c->all);
  bm_chain_run(BM_CHAIN_DEPTH, bm_mix_loop, c);
  bm_front_track_all(0);
  __asm__ __volatile__("" : : : "memory");
  return 0;
}

/* bm_callgrind SCALE CASE...: is this case among those named (all when
 * none is)? */
static int bm_cg_named(int argc, char **argv, const char *name) {
  int named = argc <= 2;
  for (int a = 2; a < argc; a++)
    named |= strcmp(argv[a], name) == 0;
  return named;
}

/* posix_memalign's block of 16-byte alignment (a tracked 4 KiB one in the
 * aligned pairs: the path of memalign, aligned_alloc and aligned new). */
static void *bm_je_align16(size_t n) { return bm_je_aligned_an(16, n); }
static void *bm_ml_align16(size_t n) { return bm_ml_aligned_an(16, n); }

int main(int argc, char **argv) {
  unsigned scale = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1;
  if (scale == 0) scale = 1;
  if (bm_front_init()) return 1;
  bm_cg_case_t cases[] = {
      {"pair_je/64", bm_je_malloc, bm_je_free, 64, 0, 100000},
      {"pair_ml/64", bm_ml_malloc, bm_ml_free, 64, 0, 100000},
      {"pair_je/4096", bm_je_malloc, bm_je_free, 4096, 0, 100000},
      {"pair_ml_none/4096", bm_ml_malloc, bm_ml_free, 4096, BM_UNWIND_NONE, 100000},
      {"pair_ml_fp/4096", bm_ml_malloc, bm_ml_free, 4096, BM_UNWIND_FP, 100000},
      {"pair_ml_libunwind/4096", bm_ml_malloc, bm_ml_free, 4096, BM_UNWIND_LIBUNWIND,
       20000},
      {"pair_ml_eh/4096", bm_ml_malloc, bm_ml_free, 4096, BM_UNWIND_EH, 100000},
      {"pair_ml_eh_nofp/4096", bm_ml_malloc, bm_ml_free, 4096, BM_UNWIND_EH, 100000,
       .nofp = 1},
      {"pair_ml_shadow/4096", bm_ml_malloc, bm_ml_free, 4096, BM_UNWIND_SHADOW, 100000},
      {"pair_je_aligned/4096", bm_je_align16, bm_je_free, 4096, 0, 100000},
      {"pair_ml_none_aligned/4096", bm_ml_align16, bm_ml_free, 4096, BM_UNWIND_NONE, 100000},
      /* After a tracked block was made: the page map now has the levels
       * that cover the heap, so the free's bit test walks all of them. */
      {"pair_ml_marked/64", bm_ml_malloc, bm_ml_free, 64, 0, 100000},
      {"unwind_fp", NULL, NULL, 0, BM_UNWIND_FP, 100000},
      {"unwind_libunwind", NULL, NULL, 0, BM_UNWIND_LIBUNWIND, 20000},
      {"unwind_eh", NULL, NULL, 0, BM_UNWIND_EH, 100000},
  };
  /* Only the cases named (callgrind_guard.sh). */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bm_cg_case_t *c = &cases[i];
    if (!bm_cg_named(argc, argv, c->name)) continue;
    c->n *= scale;
    if (strcmp(c->name, "pair_ml_marked/64") == 0) bm_cg_keep_tracked();
    if (bm_cg_run(c)) return 1;
    unsigned walked =
        c->alloc ? (c->mode && c->mode != BM_UNWIND_NONE ? c->cal.walked : 0) : c->frames;
    unsigned kept = c->alloc && c->mode != BM_UNWIND_NONE ? c->cal.kept : 0;
    printf("%s %u %u %u\n", c->name, c->n, walked, kept);
  }
  bm_mix_case_t mixes[] = {
      {"smallmix_je", &bm_side_je, 0, 0, 1, 100000},
      {"smallmix_ml", &bm_side_ml, 0, 0, 1, 100000},
      {"mixed_je", &bm_side_je, 0, 0, 0, 100000},
      {"mixed_ml_eh", &bm_side_ml, BM_UNWIND_EH, 0, 0, 100000},
      {"mixed_ml_none", &bm_side_ml, BM_UNWIND_NONE, 0, 0, 100000},
      {"mixed_ml_eh_all", &bm_side_ml, BM_UNWIND_EH, 1, 0, 100000},
  };
  for (size_t i = 0; i < sizeof mixes / sizeof mixes[0]; i++) {
    bm_mix_case_t *c = &mixes[i];
    if (!bm_cg_named(argc, argv, c->name)) continue;
    c->n *= scale;
    uint64_t hits = bm_front_capture_hits();
    if (bm_cg_mix(c)) return 1;
    printf("%s %u 0 0\n", c->name, c->n);
    if (c->mode == BM_UNWIND_EH)
      fprintf(stderr, "%s: %llu capture cache hits\n", c->name,
              (unsigned long long)(bm_front_capture_hits() - hits));
  }
  if (argc > 2) return 0;
  bm_hooks_loop(BM_WARMUP);
  CALLGRIND_ZERO_STATS;
  bm_hooks_loop(100000 * scale);
  CALLGRIND_DUMP_STATS_AT("part_hooks/0");
  printf("part_hooks/0 %u 0 0\n", 100000 * scale);
  bm_cg_part("part_lock/0", BM_PART_LOCK, 0, 100000 * scale);
  bm_cg_part("part_table/0", BM_PART_TABLE, 0, 100000 * scale);
  bm_cg_part("part_capture_hit/0", BM_PART_CAPTURE, 0, 100000 * scale);
  bm_cg_part("part_young/0", BM_PART_YOUNG, 0, 100000 * scale);
  bm_cg_part("part_take_tables_any/64", BM_PART_TAKE_TABLES, 0, 100000 * scale);
  bm_cg_part("part_take_tables_hinted/64", BM_PART_TAKE_TABLES, 1, 100000 * scale);
  bm_cg_part("part_hash/20", BM_PART_HASH, 20, 100000 * scale);
  bm_cg_part("part_intern/0", BM_PART_INTERN, 0, 100000 * scale);
  bm_cg_part("part_intern/20", BM_PART_INTERN, 20, 100000 * scale);
  return 0;
}

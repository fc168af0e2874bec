/* SPDX-License-Identifier: MIT */
/*
 * bm_front.c - the library side of the hot-path benchmarks: memledger's
 * malloc/free bodies and jemalloc's, compiled out of line with the library's
 * flags, plus the few core knobs the benchmarks turn (see bm_front.h).
 *
 * bm_ml_malloc/bm_ml_free are exactly what src/preload.c makes of malloc and
 * free (`ML_FRONT_FN_STD ret name params { return impl args; }` over
 * front.h); bm_je_* are
 * what a program gets from libjemalloc.so.  The backend is the library's
 * own (src/backend.c, built with ML_BACKEND_TEXT_IS_OURS=0: the benchmark's
 * code shares this object).  The core is started by bm_front_init(), not by
 * the preload library's constructor (src/preload.c, not linked): that would
 * run before main() could turn dumps off.
 */
#include "bm_front.h"
#include "capture.h"
#include "front.h"
#include "young.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>


// ---- the two sides -------------------------------------------------------------

ML_NOINLINE ML_FRONT_FN_STD void *bm_ml_malloc(size_t n) { return ml_f_malloc(n); }
ML_NOINLINE ML_FRONT_FN_STD void bm_ml_free(void *p) { ml_f_free(p); }
ML_NOINLINE void *bm_je_malloc(size_t n) { return ml_je_malloc(n); }
ML_NOINLINE void *bm_ml_malloc_unanchored(size_t n) {
  return ml_f_malloc_tracked(n, 0, 0);
}

ML_STATIC_ASSERT((int)BM_UNWIND_LIBUNWIND == (int)ML_UNWIND_LIBUNWIND &&
                     (int)BM_UNWIND_FP == (int)ML_UNWIND_FP &&
                     (int)BM_UNWIND_NONE == (int)ML_UNWIND_NONE &&
                     (int)BM_UNWIND_SHADOW == (int)ML_UNWIND_SHADOW &&
                     (int)BM_UNWIND_EH == (int)ML_UNWIND_EH,
                 "bm_unwind_t follows ml_unwind_mode_t");
ML_NOINLINE void bm_je_free(void *p) { ml_je_free(p); }
/* calloc, aligned_alloc and realloc growth, each side: the "alloc" half of a
 * pair (the other half is the matching free). */
ML_NOINLINE ML_FRONT_FN_STD void *bm_ml_calloc1(size_t n) { return ml_f_calloc(1, n); }
ML_NOINLINE void *bm_je_calloc1(size_t n) { return ml_je_calloc(1, n); }
ML_NOINLINE ML_FRONT_FN_STD void *bm_ml_aligned64(size_t n) { return ml_f_aligned_alloc(64, n); }
ML_NOINLINE void *bm_je_aligned64(size_t n) { return ml_je_aligned_alloc(64, n); }
ML_NOINLINE ML_FRONT_FN_STD void *bm_ml_realloc_grow(size_t n) { return ml_f_realloc(ml_f_malloc(n / 2), n); }
ML_NOINLINE void *bm_je_realloc_grow(size_t n) { return ml_je_realloc(ml_je_malloc(n / 2), n); }
/* The whole family, each side, for the mixes of bm_callgrind. */
ML_NOINLINE ML_FRONT_FN_STD void *bm_ml_calloc_mn(size_t m, size_t n) { return ml_f_calloc(m, n); }
ML_NOINLINE void *bm_je_calloc_mn(size_t m, size_t n) { return ml_je_calloc(m, n); }
ML_NOINLINE ML_FRONT_FN_STD void *bm_ml_realloc_pn(void *p, size_t n) { return ml_f_realloc(p, n); }
ML_NOINLINE void *bm_je_realloc_pn(void *p, size_t n) { return ml_je_realloc(p, n); }
ML_NOINLINE ML_FRONT_FN_STD void *bm_ml_aligned_an(size_t a, size_t n) { return ml_f_aligned_alloc(a, n); }
ML_NOINLINE void *bm_je_aligned_an(size_t a, size_t n) { return ml_je_aligned_alloc(a, n); }

// ---- core knobs -----------------------------------------------------------------

static unsigned bm_default_max_frames;

int bm_front_init(void) {
  /* A benchmark never dumps; the other options stay the user's to set. */
  setenv("MEMLEDGER_DUMP_AT_EXIT", "0", 1);
  setenv("MEMLEDGER_SIGNAL", "0", 1);
  setenv("MEMLEDGER_QUIET", "1", 1);
  if (ml_backend.text_is_ours) { /* src/backend.c built for a library of its own */
    fprintf(stderr, "bm_front: the backend claims this program's code as memledger's\n");
    return -1;
  }
  ml_init_process(false);
  ml_unwind_load_libunwind(); /* the libunwind cases; privately, as the library does */
  if (atomic_load(&ml_core.state) != ML_STATE_READY) {
    fprintf(stderr, "bm_front: memledger is not recording (MEMLEDGER_ENABLED=0?)\n");
    return -1;
  }
  bm_default_max_frames = ml_core.max_frames;
  /* The recorder drops its own frames down to the allocation call's return
   * address; failing that, by address: the text of the object that holds
   * it (from __ehdr_start).  Linked into this program, that range is the
   * whole program, benchmark loops included, so every frame would go.
   * Empty it: bm_calibrate then sees every frame of a capture made without
   * a return address, and checks that the front's own captures start at
   * the caller. */
  ml_unwind_set_own_range(0, 0);
  return 0;
}

const char *bm_front_jemalloc_version(void) {
  const char *v = NULL;
  size_t sz = sizeof v;
  return ml_je_mallctl("version", &v, &sz, NULL, 0) == 0 && v ? v : "?";
}

size_t bm_front_threshold(void) { return ml_gate.threshold; }
size_t bm_front_cutoff(void) { return ml_gate.cutoff; }

void bm_front_track_all(int on) {
  static ml_gate_t saved;
  static int saved_ok;
  if (!saved_ok) {
    saved = ml_gate;
    saved_ok = 1;
  }
  if (on) {
    ml_gate.threshold = 0; /* MEMLEDGER_MIN_SIZE=0 */
    ml_gate.cutoff = 0;
  } else {
    ml_gate = saved;
  }
  ml_young_thread_renew(); /* a cache sized for the new threshold */
}

const char *bm_unwind_name(bm_unwind_t mode) {
  return ml_unwind_mode_name((ml_unwind_mode_t)mode);
}

void bm_front_set_unwind(bm_unwind_t mode, unsigned skip, unsigned max_frames) {
  ml_core.unwind = (ml_unwind_mode_t)mode;
  ml_core.skip_frames = skip;
  ml_core.max_frames = max_frames ? max_frames : bm_default_max_frames;
}

unsigned bm_front_want(unsigned skip, unsigned max_frames) {
  return ml_unwind_want(max_frames ? max_frames : bm_default_max_frames, skip);
}

int bm_front_stack_of(void *p, uintptr_t *out, unsigned max) {
  ml_rec_t r;
  if (!ml_track_find((uintptr_t)p, &r)) return -1;
  const ml_stack_t *s = ml_stacks_get(&ml_core.stacks, ml_rec_stack(&r));
  if (!s) return 0;
  unsigned n = s->nframes < max ? s->nframes : max;
  for (unsigned i = 0; i < n; i++)
    out[i] = s->frames[i];
  return (int)n;
}

uint64_t bm_front_tracked_allocs(void) {
  ml_counts_t c;
  ml_track_counts(&c);
  return c.allocs;
}

uint64_t bm_front_capture_hits(void) {
  ml_capture_stats_t c;
  ml_capture_stats(&c);
  return c.hits;
}

uint64_t bm_front_tracked_live(void) {
  ml_counts_t c;
  ml_track_counts(&c);
  return c.live;
}

ML_NOINLINE unsigned bm_raw_unwind(bm_unwind_t mode, uintptr_t *frames, unsigned max) {
  if (mode == BM_UNWIND_FP) return ml_unwind_fp(frames, max);
  if (mode == BM_UNWIND_EH) return ml_eh_backtrace(frames, max);
  return ml_unwind_libunwind(frames, max);
}

// ---- parts of the tracked path -----------------------------------------------------

/* BM_PART_THREADS caches, made by as many live threads (each on its own
 * stack), once. */
static pthread_barrier_t bm_caches_barrier;
static void *bm_make_cache(void *arg) {
  (void)arg;
  (void)ml_young_hint(); /* makes this thread's cache */
  pthread_barrier_wait(&bm_caches_barrier);
  return NULL;
}
static void bm_make_caches(void) {
  static int made;
  if (made) return;
  made = 1;
  pthread_t th[BM_PART_THREADS];
  pthread_barrier_init(&bm_caches_barrier, NULL, BM_PART_THREADS);
  for (int i = 0; i < BM_PART_THREADS; i++)
    if (pthread_create(&th[i], NULL, bm_make_cache, NULL)) abort();
  for (int i = 0; i < BM_PART_THREADS; i++) pthread_join(th[i], NULL);
  pthread_barrier_destroy(&bm_caches_barrier);
}

void bm_part_loop(bm_part_t part, uint64_t n, unsigned nframes) {
  static ml_lock_t lock = ML_LOCK_INITIALIZER;
  uintptr_t frames[ML_UNWIND_MAX_FRAMES];
  if (nframes > ML_UNWIND_MAX_FRAMES) nframes = ML_UNWIND_MAX_FRAMES;
  for (unsigned i = 0; i < nframes; i++) /* return addresses of a typical binary */
    frames[i] = UINT64_C(0x55d0c0de1000) + 0x1a3 * (uintptr_t)i * (i + 7);
  __asm__ __volatile__("" : : "r"(frames) : "memory");
  switch (part) {
  case BM_PART_LOCK:
    for (uint64_t i = 0; i < n; i++) {
      ml_lock(&lock);
      __asm__ __volatile__("" : : : "memory");
      ml_unlock(&lock);
    }
    break;
  case BM_PART_HASH:
    for (uint64_t i = 0; i < n; i++) {
      uint64_t h = ml_stacks_hash(frames, nframes);
      __asm__ __volatile__("" : "+r"(h) : : "memory");
    }
    break;
  case BM_PART_INTERN:
    (void)ml_stacks_intern(&ml_core.stacks, frames, nframes);
    for (uint64_t i = 0; i < n; i++) {
      uint32_t id = ml_stacks_intern(&ml_core.stacks, frames, nframes);
      __asm__ __volatile__("" : "+r"(id) : : "memory");
    }
    break;
  case BM_PART_CAPTURE:
    /* The same call site every time: after the first, the per-thread cache
     * answers (capture.h); the walk would be unwind_eh. */
    for (uint64_t i = 0; i < n; i++) {
      uint32_t id = ml_capture_eh(0);
      __asm__ __volatile__("" : "+r"(id) : : "memory");
    }
    break;
  case BM_PART_TABLE: {
    ml_rec_t r = ml_rec_make(UINT64_C(0x7f0012345000), 4096, 1, 1, 1);
    for (uint64_t i = 0; i < n; i++) {
      (void)ml_tables_insert(&ml_core.tables, &r);
      __asm__ __volatile__("" : : : "memory");
      (void)ml_tables_remove(&ml_core.tables, r.ptr, NULL);
    }
    break;
  }
  case BM_PART_YOUNG: {
    ml_rec_t r = ml_rec_make(UINT64_C(0x7f0012345000), 4096, 1, 1, 1);
    for (uint64_t i = 0; i < n; i++) {
      (void)ml_young_insert(&r);
      __asm__ __volatile__("" : : : "memory");
      (void)ml_young_take_own(r.ptr, NULL);
    }
    break;
  }
  case BM_PART_TAKE_TABLES: {
    bm_make_caches();
    ml_rec_t r = ml_rec_make(UINT64_C(0x7f0012346000), 4096, 1, 1, 1);
    /* another thread's cache (index 1: not this thread's), or none */
    if (!ml_pagemap_mark_hint((void *)r.ptr, nframes ? 2 : ML_PM_ANY)) abort();
    for (uint64_t i = 0; i < n; i++) {
      (void)ml_tables_insert(&ml_core.tables, &r);
      __asm__ __volatile__("" : : : "memory");
      if (!ml_track_take_elsewhere(r.ptr, NULL)) abort();
    }
    break;
  }
  }
}

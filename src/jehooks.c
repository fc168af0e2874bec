/* SPDX-License-Identifier: MIT */
/*
 * jehooks.c - jemalloc's mappings, as the leak scan needs to know them
 * (layer: core; used where jemalloc is linked in: libmemledger.so and the
 * benchmarks.  jemalloc's functions are weak references here, so the
 * link-time flavour, which has no jemalloc, links without them).
 *
 * The build renames two calls inside Debian's libjemalloc_pic.a (Makefile.am,
 * libjemalloc_ml.a): base.o's extent_alloc_mmap/extent_dalloc_mmap (the
 * metadata: extent descriptors, radix tree, which point at every large
 * block and must never be scanned as a root) and ehooks.o's (the heap the
 * blocks live in).  Each hook calls jemalloc's function and notes the
 * range (scan.c, lock-free).  Also tcache.o's arena_palloc: the thread
 * caches' pointer stacks keep the address of every block they handed out
 * (a pop does not clear its slot), so they are metadata too.  Runs inside jemalloc, under its locks: no
 * allocation, no lock of ours.  A new extent is also where MEMLEDGER_DUMP_AT
 * looks at the resident size (ml_core.rss_check: rate-limited; its
 * snapshot child never calls jemalloc).
 */
#include "core.h"
#include "scan.h"

/* ---- jemalloc's mappings ------------------------------------------------------ */

static ml_jemaps_t ml_jemaps[2];

const ml_jemaps_t *ml_jemaps_get(ml_jemap_t what) { return &ml_jemaps[what]; }

void ml_scan_note_map(ml_jemap_t what, void *addr, size_t size) {
  ml_jemaps_t *m = &ml_jemaps[what];
  if (!addr || !size) return;
  unsigned i = atomic_fetch_add_explicit(&m->n, 1, memory_order_relaxed);
  if (i >= ML_JEMAPS) {
    atomic_store(&m->incomplete, true);
    return;
  }
  m->r[i].hi = (uintptr_t)addr + size;
  atomic_store_explicit(&m->r[i].lo, (uintptr_t)addr, memory_order_release);
}

void ml_scan_note_unmap(ml_jemap_t what, void *addr, size_t size) {
  ml_jemaps_t *m = &ml_jemaps[what];
  uintptr_t lo = (uintptr_t)addr, hi = lo + size;
  unsigned n = atomic_load(&m->n);
  if (n > ML_JEMAPS) n = ML_JEMAPS;
  for (unsigned i = 0; i < n; i++) {
    uintptr_t a = atomic_load_explicit(&m->r[i].lo, memory_order_acquire), b = m->r[i].hi;
    if (!a || b <= lo || a >= hi) continue;
    if (a >= lo && b <= hi) atomic_store(&m->r[i].lo, 0);
    else atomic_store(&m->incomplete, true);
  }
}


void *je_extent_alloc_mmap(void *new_addr, size_t size, size_t alignment, bool *zero,
                           bool *commit) ML_HIDDEN __attribute__((weak));
bool je_extent_dalloc_mmap(void *addr, size_t size) ML_HIDDEN __attribute__((weak));
void *je_arena_palloc(void *tsdn, void *arena, size_t usize, size_t alignment, bool zero,
                      void *tcache) ML_HIDDEN __attribute__((weak));
void *ml_jehook_tcache_palloc(void *tsdn, void *arena, size_t usize, size_t alignment,
                              bool zero, void *tcache) ML_HIDDEN;

void *ml_jehook_meta_alloc(void *new_addr, size_t size, size_t alignment, bool *zero,
                           bool *commit) ML_HIDDEN;
bool ml_jehook_meta_dalloc(void *addr, size_t size) ML_HIDDEN;
void *ml_jehook_heap_alloc(void *new_addr, size_t size, size_t alignment, bool *zero,
                           bool *commit) ML_HIDDEN;
bool ml_jehook_heap_dalloc(void *addr, size_t size) ML_HIDDEN;

static void *ml_jehook_alloc(ml_jemap_t what, void *new_addr, size_t size, size_t alignment,
                             bool *zero, bool *commit) {
  void *p = je_extent_alloc_mmap(new_addr, size, alignment, zero, commit);
  if (p) {
    ml_scan_note_map(what, p, size);
    if (ml_core.rss_check) ml_core.rss_check(); /* MEMLEDGER_DUMP_AT, resident */
  }
  return p;
}

static bool ml_jehook_dalloc(ml_jemap_t what, void *addr, size_t size) {
  bool failed = je_extent_dalloc_mmap(addr, size);
  if (!failed) ml_scan_note_unmap(what, addr, size);
  return failed;
}

void *ml_jehook_meta_alloc(void *new_addr, size_t size, size_t alignment, bool *zero,
                           bool *commit) {
  return ml_jehook_alloc(ML_JEMAP_META, new_addr, size, alignment, zero, commit);
}
bool ml_jehook_meta_dalloc(void *addr, size_t size) {
  return ml_jehook_dalloc(ML_JEMAP_META, addr, size);
}
void *ml_jehook_heap_alloc(void *new_addr, size_t size, size_t alignment, bool *zero,
                           bool *commit) {
  return ml_jehook_alloc(ML_JEMAP_HEAP, new_addr, size, alignment, zero, commit);
}
bool ml_jehook_heap_dalloc(void *addr, size_t size) {
  return ml_jehook_dalloc(ML_JEMAP_HEAP, addr, size);
}

/* A thread cache's memory: when the thread exits it goes back to the heap
 * and stays noted (a tracked block there is scanned anyway; only a block
 * below the threshold reused there is not a root: a documented limit). */
void *ml_jehook_tcache_palloc(void *tsdn, void *arena, size_t usize, size_t alignment,
                              bool zero, void *tcache) {
  void *p = je_arena_palloc(tsdn, arena, usize, alignment, zero, tcache);
  if (p) ml_scan_note_map(ML_JEMAP_META, p, usize);
  return p;
}

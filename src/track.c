/* SPDX-License-Identifier: MIT */
/*
 * track.c - the recorder entry points (layer: core).
 *
 * Called by the fronts on the tracked paths only; the allocation and free
 * bodies are track_alloc.h's (these are them out of line; the fronts'
 * tracked malloc, calloc and free inline them).  Order of work for an
 * allocation: check state and guard, capture the stack with no lock held,
 * intern it (lock-free when known), then the record into the thread's
 * cache (young.h; the shared tables, under an arena lock, without one).
 * A free takes the record out before the backend frees the block, so
 * another thread cannot be handed the address and insert it first.
 * Allocates nothing through malloc.  errno is preserved: the only calls
 * here that can change it (mmap failures, a contended futex, libunwind)
 * preserve it themselves, so the common path pays nothing for it.
 */
#include "track.h"
#include "track_alloc.h"
#include "capture.h"
#include "pagemap.h"
#include "young.h"

/* A new batch of sequence numbers (track_alloc.h); on a thread's first,
 * its serial too (the allocation path then never tests for it). */
void ml_track_next_batch(unsigned epoch) {
  if (ml_unlikely(!ml_tls.serial))
    ml_tls.serial = atomic_fetch_add_explicit(&ml_core.serials, 1,
                                              memory_order_relaxed) + 1;
  ml_tls.seq_next = atomic_fetch_add_explicit(&ml_core.seq, ML_SEQ_BATCH,
                                              memory_order_relaxed) + 1;
  ml_tls.seq_end = ml_tls.seq_next + ML_SEQ_BATCH;
  ml_tls.seq_epoch = epoch;
  ml_young_drain_some(); /* a growth's moves, spread over the next allocations */
}

uint32_t ml_track_stack_id(void) { return ml_capture_stack_id(0, 0); }

void *ml_track_alloc_from(void *p, size_t size, uintptr_t ra, uintptr_t anchor) {
  return ml_track_alloc_inline(p, size, ra, anchor);
}

bool ml_track_free(void *p) { return ml_track_take(p, NULL); }

void ml_track_foreign_free(void) {
  atomic_fetch_add_explicit(&ml_core.foreign_frees, 1, memory_order_relaxed);
}

/* A record not in this thread's cache (track_alloc.h).  The cache the
 * page's hint names, then the shared tables; then, as without a hint,
 * every cache and the tables (again): a record moving from a cache the
 * hint does not name reaches the tables before it leaves its cache.  A
 * record moving from one cache to another reaches the second before it
 * leaves the first, which the caches' order may not follow: the search
 * looks again when one moved meanwhile (ml_young_drain_gen). */
static ML_NOINLINE bool ml_track_take_anywhere(uintptr_t p, ml_rec_t *out) {
  uint64_t gen = ml_young_drain_gen();
  do {
    if (ml_young_take_other(p, out) || ml_tables_remove(&ml_core.tables, p, out)) return true;
  } while (ml_young_drained_since(&gen));
  return false;
}

bool ml_track_take_elsewhere(uintptr_t p, ml_rec_t *out) {
  if (ml_young_take_draining(p, out)) return true; /* this thread's, before a growth */
  uint8_t hint = ml_pagemap_byte((const void *)p);
  if (hint != 0 && hint != ML_PM_ANY &&
      (ml_young_take_hinted(hint, p, out) || ml_tables_remove(&ml_core.tables, p, out)))
    return true;
  return ml_track_take_anywhere(p, out);
}

bool ml_track_take(void *p, ml_rec_t *out) {
  uint8_t page = ml_pagemap_byte(p);
  return ml_track_take_inline(p, &page, out);
}

bool ml_track_find(uintptr_t p, ml_rec_t *out) {
  uint64_t gen = ml_young_drain_gen(); /* as ml_track_take_elsewhere */
  do {
    /* The caches first: a record moving from one to the tables stays
     * there until the tables have it (ml_track_take_elsewhere). */
    if (ml_young_find(p, out) || ml_tables_find(&ml_core.tables, p, out)) return true;
  } while (ml_young_drained_since(&gen));
  return false;
}

void ml_track_counts(ml_counts_t *out) {
  ml_tables_counts(&ml_core.tables, out);
  ml_young_counts_add(out);
}

void ml_track_put_back(const ml_rec_t *r, size_t taken_size) {
  ml_guard_enter();
  /* Undo the removal: the counters show neither the free that did not
   * happen nor a new allocation.  A size that changed in place (xallocx)
   * moves only the allocated bytes (by the difference), never the freed
   * bytes down. */
  if (ml_pagemap_mark((void *)r->ptr) && ml_tables_insert(&ml_core.tables, r)) {
    ml_arena_t *a = ml_tables_arena(&ml_core.tables, r->ptr);
    ml_lock(&a->lock);
    a->n.allocs--;
    a->n.bytes_alloc -= taken_size; /* the insert added the new size */
    a->n.frees--;
    a->n.bytes_freed -= taken_size; /* the removal added the old size */
    ml_unlock(&a->lock);
  }
  ml_guard_leave();
}

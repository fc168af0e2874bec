/* SPDX-License-Identifier: MIT */
/*
 * track.c - the recorder entry points (layer: core).
 *
 * Called by the fronts on the tracked paths only.  Order of work for an
 * allocation: check state and guard, capture the stack with no lock held,
 * intern it (lock-free when known), then one arena lock for the insert.
 * A free takes the record out of its arena before the backend frees the
 * block, so another thread cannot be handed the address and insert it first.
 * Allocates nothing through malloc.  errno is preserved: the only calls
 * here that can change it (mmap failures, a contended futex, libunwind)
 * preserve it themselves, so the common path pays nothing for it.
 */
#include "track.h"
#include "capture.h"
#include "pagemap.h"
#include "young.h"

#define ML_SEQ_BATCH 64 /* sequence numbers a thread takes at a time */

/* A new batch of sequence numbers; on a thread's first, its serial too
 * (the allocation path then never tests for it). */
static ML_NOINLINE void ml_next_batch(unsigned epoch) {
  if (ml_unlikely(!ml_tls.serial))
    ml_tls.serial = atomic_fetch_add_explicit(&ml_core.serials, 1,
                                              memory_order_relaxed) + 1;
  ml_tls.seq_next = atomic_fetch_add_explicit(&ml_core.seq, ML_SEQ_BATCH,
                                              memory_order_relaxed) + 1;
  ml_tls.seq_end = ml_tls.seq_next + ML_SEQ_BATCH;
  ml_tls.seq_epoch = epoch;
}

/* A dump starts a new epoch: a batch taken before it would number blocks
 * allocated after it as older than the dump (ml_dump_mark). */
ML_INLINE uint64_t ml_next_seq(void) {
  unsigned epoch = atomic_load_explicit(&ml_core.seq_epoch, memory_order_relaxed);
  if (ml_unlikely(ml_tls.seq_next == ml_tls.seq_end || ml_tls.seq_epoch != epoch))
    ml_next_batch(epoch);
  return ml_tls.seq_next++;
}

uint32_t ml_track_stack_id(void) { return ml_capture_stack_id(0, 0); }

/* Recording is on and this is not the tracker's own free (a free in a
 * region of memledger_disable() is the program's: its guard levels are
 * the disabled ones only). */
static bool ml_recording(void) {
  if (ml_unlikely(atomic_load_explicit(&ml_core.state, memory_order_acquire) !=
                  ML_STATE_READY)) {
    if (!ml_init_maybe()) return false;
  }
  return ml_tls.guard == 0 || ml_tls.guard == ml_tls.disabled;
}

void *ml_track_alloc_from(void *p, size_t size, uintptr_t ra, uintptr_t anchor) {
  if (ml_unlikely(atomic_load_explicit(&ml_core.state, memory_order_acquire) !=
                  ML_STATE_READY)) {
    /* The first calls reach here with the gate still open: decide now. */
    if (!ml_init_maybe() || ml_backend.usable_size(p) < ml_gate.threshold) return p;
  }
  if (ml_tls.guard) return p;
  if (ml_unlikely(atomic_load_explicit(&ml_core.dump_children, memory_order_relaxed)))
    ml_core.reap(); /* a finished dump child is a zombie until reaped */
  ml_guard_enter();
  uint32_t stack = ml_capture_stack_id(ra, anchor);
  uint64_t seq = ml_next_seq(); /* first: it gives the thread its serial */
  ml_rec_t r = ml_rec_make((uintptr_t)p, size, ml_tls.serial, seq, stack);
  /* The page mark first: a free of p can only follow our return, but it must
   * then find the page marked. */
  if (ml_unlikely(!ml_pagemap_test(p)) && !ml_pagemap_mark(p))
    ml_tables_count_drop(&ml_core.tables, r.ptr);
  else if (!ml_young_insert(&r))
    (void)ml_tables_insert(&ml_core.tables, &r);
  if (ml_unlikely((ml_tls.limit_acc += size) >= ml_core.limit_every)) {
    ml_tls.limit_acc = 0;
    ml_core.limit_check(); /* MEMLEDGER_DUMP_AT */
  }
  ml_guard_leave();
  return p;
}

bool ml_track_free(void *p) { return ml_track_take(p, NULL); }

void ml_track_foreign_free(void) {
  atomic_fetch_add_explicit(&ml_core.foreign_frees, 1, memory_order_relaxed);
}

/* A record not in this thread's cache: in another thread's cache, or in
 * the shared tables.  In that order: a record moving from a cache to the
 * shared tables stays in the cache (marked moving) until the tables have
 * it, so a look at the cache and then at the tables cannot miss it (the
 * other order could, between the two looks).  The caches first also spares
 * a cross-thread free of a young block the tables' lock. */
static ML_NOINLINE bool ml_take_elsewhere(uintptr_t p, ml_rec_t *out) {
  return ml_young_take_other(p, out) || ml_tables_remove(&ml_core.tables, p, out);
}

bool ml_track_take(void *p, ml_rec_t *out) {
  bool found = false;
  if (ml_recording()) {
    ml_guard_enter();
    found = ml_young_take_own((uintptr_t)p, out) || ml_take_elsewhere((uintptr_t)p, out);
    ml_guard_leave();
  }
  return found;
}

bool ml_track_find(uintptr_t p, ml_rec_t *out) {
  return ml_tables_find(&ml_core.tables, p, out) || ml_young_find(p, out);
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

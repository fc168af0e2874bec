/* SPDX-License-Identifier: MIT */
/*
 * track_alloc.h - the recorder's allocation path as an inline body (layer:
 * core), and its free path: ml_track_alloc_from and ml_track_take (track.c)
 * are these bodies out of line; the fronts' tracked malloc and calloc and
 * their free (front.h) inline them, which spares each a call and a second
 * prologue (~20 instructions per tracked pair, bench/callgrind.sh).  Same
 * contracts as in track.h: never allocates through malloc, errno preserved,
 * not for signal handlers.
 */
#ifndef ML_TRACK_ALLOC_H
#define ML_TRACK_ALLOC_H

#include "capture.h"
#include "pagemap.h"
#include "track.h"
#include "young.h"

#define ML_SEQ_BATCH 64 /* sequence numbers a thread takes at a time */

void ml_track_next_batch(unsigned epoch) ML_HIDDEN;

/* A dump starts a new epoch: a batch taken before it would number blocks
 * allocated after it as older than the dump (ml_dump_mark). */
ML_INLINE uint64_t ml_next_seq(void) {
  unsigned epoch = atomic_load_explicit(&ml_core.seq_epoch, memory_order_relaxed);
  if (ml_unlikely(ml_tls.seq_next == ml_tls.seq_end || ml_tls.seq_epoch != epoch))
    ml_track_next_batch(epoch);
  return ml_tls.seq_next++;
}

/* ml_track_alloc_from (track.h). */
ML_INLINE void *ml_track_alloc_inline(void *p, size_t size, uintptr_t ra, uintptr_t anchor) {
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
  /* A block that exists is smaller than the address space (2^47 bytes):
   * no clamp to ML_REC_SIZE_MAX. */
  if (size > ML_REC_SIZE_MAX) __builtin_unreachable();
  ml_rec_t r = ml_rec_make((uintptr_t)p, size, ml_tls.serial, seq, stack);
  /* The page mark first: a free of p can only follow our return, but it must
   * then find the page marked.  The hint: whose cache the record goes to
   * (young.h). */
  ml_young_t *y = ml_young_get();
  uint8_t hint = y ? y->hint : ML_PM_ANY;
  if (ml_unlikely(ml_pagemap_byte(p) != hint) && !ml_pagemap_mark_hint(p, hint)) {
    ml_tables_count_drop(&ml_core.tables, (uintptr_t)p);
  } else if (ml_unlikely(!y)) {
    ml_rec_t c = r; /* in memory on this path only */
    (void)ml_tables_insert(&ml_core.tables, &c);
  } else {
    (void)ml_young_insert_in(y, &r);
  }
  if (ml_unlikely((ml_tls.limit_acc += size) >= ml_core.limit_every)) {
    ml_tls.limit_acc = 0;
    ml_core.limit_check(); /* MEMLEDGER_DUMP_AT */
  }
  ml_guard_leave();
  return p;
}

/* Recording is on and this is not the tracker's own free (a free in a
 * region of memledger_disable() is the program's: its guard levels are
 * the disabled ones only). */
ML_INLINE bool ml_recording(void) {
  if (ml_unlikely(atomic_load_explicit(&ml_core.state, memory_order_acquire) !=
                  ML_STATE_READY)) {
    if (!ml_init_maybe()) return false;
  }
  return ml_tls.guard == 0 || ml_tls.guard == ml_tls.disabled;
}

/* A record not in this thread's cache: in another thread's cache, or in
 * the shared tables.  In that order: a record moving from a cache to the
 * shared tables stays in the cache (marked moving) until the tables have
 * it, so a look at the cache and then at the tables cannot miss it (the
 * other order could, between the two looks).  The caches first also spares
 * a cross-thread free of a young block the tables' lock. */
bool ml_track_take_elsewhere(uintptr_t p, ml_rec_t *out) ML_HIDDEN;

/* A free's first look: this thread's cache, unless p's page-map byte (at
 * `page`, which the caller found marked) names another thread's cache,
 * which is then looked at before this thread's: a block freed by another
 * thread than the one that recorded it (a producer's block freed by its
 * consumer) skips a look at its own cache's set, a line it would read for
 * nothing (bench/README.md, "Cross-thread frees").  The byte is read here,
 * where it is compared: read at the slow path's entry, it took a saved
 * register for the whole path. */
ML_INLINE bool ml_track_take_first(uintptr_t p, const uint8_t *page, ml_rec_t *out) {
  uint8_t b = __atomic_load_n(page, __ATOMIC_RELAXED);
  if (ml_likely(b == ml_young_mine_hint)) return ml_young_take_own(p, out);
  return ml_young_take_hinted(b, p, out) || ml_young_take_own(p, out);
}

/* ml_track_take (track.h), given where p's page-map byte is. */
ML_INLINE bool ml_track_take_inline(void *p, const uint8_t *page, ml_rec_t *out) {
  bool found = false;
  if (ml_recording()) {
    ml_guard_enter();
    found = ml_track_take_first((uintptr_t)p, page, out) ||
            ml_track_take_elsewhere((uintptr_t)p, out);
    ml_guard_leave();
  }
  return found;
}

#endif /* ML_TRACK_ALLOC_H */

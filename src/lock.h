/* SPDX-License-Identifier: MIT */
/*
 * lock.h - a small spinlock for the per-arena tables and the stack table
 * (layer: platform).
 *
 * Lock is one atomic exchange; unlock is a plain release store, with no
 * atomic read-modify-write: on the virtual machines this runs on, each
 * locked instruction costs ~6 ns, and a tracked allocation and its free
 * take two locks.  A waiter spins with a pause hint, then yields the CPU
 * (sched_yield) between tries, so a thread waiting on a dump that copies its
 * arena (under a millisecond) does not burn a core.  Holders never block
 * and never call out of the tracker while holding one.  Never allocates;
 * errno is preserved.  It has no owner, so the child of a fork simply
 * re-initialises it (ml_lock_init) whatever state it was in.
 */
#ifndef ML_LOCK_H
#define ML_LOCK_H

#include "internal.h"
#include <stdatomic.h>

typedef struct ml_lock_s {
  _Atomic int state; // 0 free, 1 locked
} ml_lock_t;

#define ML_LOCK_INITIALIZER {0}

ML_INLINE void ml_lock_init(ml_lock_t *l) {
  atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

void ml_lock_slow(ml_lock_t *l) ML_HIDDEN; /* lock.c */

ML_INLINE void ml_lock(ml_lock_t *l) {
  if (ml_likely(!atomic_exchange_explicit(&l->state, 1, memory_order_acquire))) return;
  ml_lock_slow(l);
}

ML_INLINE void ml_unlock(ml_lock_t *l) {
  atomic_store_explicit(&l->state, 0, memory_order_release);
}

#endif /* ML_LOCK_H */

/* SPDX-License-Identifier: MIT */
/*
 * lock.h - a small futex mutex for the per-arena tables and the stack table
 * (layer: platform).  Uncontended lock and unlock are one atomic operation
 * each; a contended waiter sleeps in futex(FUTEX_WAIT_PRIVATE) instead of
 * spinning (Drepper, "Futexes are tricky", mutex 2).  Never allocates.
 * Unlike pthread_mutex_t it has no owner and no attributes, so the child of a
 * fork can simply re-initialise it (ml_lock_init) whatever state it was in.
 * errno is preserved.  Unlock's FUTEX_WAKE cannot fail on a valid address.
 */
#ifndef ML_LOCK_H
#define ML_LOCK_H

#include "internal.h"
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct ml_lock_s {
  _Atomic int state; // 0 free, 1 locked, 2 locked with waiters
} ml_lock_t;

#define ML_LOCK_INITIALIZER {0}

ML_INLINE void ml_lock_init(ml_lock_t *l) {
  atomic_store_explicit(&l->state, 0, memory_order_relaxed);
}

void ml_lock_slow(ml_lock_t *l) ML_HIDDEN; /* lock.c */

ML_INLINE void ml_lock(ml_lock_t *l) {
  int expected = 0;
  if (ml_likely(atomic_compare_exchange_strong_explicit(
          &l->state, &expected, 1, memory_order_acquire, memory_order_relaxed)))
    return;
  ml_lock_slow(l);
}

ML_INLINE void ml_unlock(ml_lock_t *l) {
  if (ml_unlikely(atomic_exchange_explicit(&l->state, 0, memory_order_release) == 2))
    syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

#endif /* ML_LOCK_H */

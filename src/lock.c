/* SPDX-License-Identifier: MIT */
/*
 * lock.c - contended path of the spinlock in lock.h (layer: platform).
 * Test-and-test-and-set: spin on a plain load with a pause hint, then yield
 * between tries.  Never allocates; errno is preserved (sched_yield cannot
 * fail on Linux).  Not for signal handlers that interrupted the holder.
 */
#include "lock.h"
#include <sched.h>

void ml_lock_slow(ml_lock_t *l) {
  for (unsigned spins = 0;; spins++) {
    if (!atomic_load_explicit(&l->state, memory_order_relaxed) &&
        !atomic_exchange_explicit(&l->state, 1, memory_order_acquire))
      return;
    if (spins < 64) ml_cpu_relax();
    else sched_yield();
  }
}

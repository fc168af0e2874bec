/* SPDX-License-Identifier: MIT */
/*
 * lock.c - contended path of the futex mutex in lock.h (layer: platform).
 * Spins briefly, then sleeps in the kernel.  Never allocates; safe to call
 * from any thread, not from a signal handler that interrupted the owner.
 */
#include "lock.h"
#include <errno.h>

void ml_lock_slow(ml_lock_t *l) {
  for (int i = 0; i < 100; i++) {
    int expected = 0;
    if (atomic_load_explicit(&l->state, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_weak_explicit(&l->state, &expected, 1,
                                              memory_order_acquire,
                                              memory_order_relaxed))
      return;
    ml_cpu_relax();
  }
  /* Mark the lock contended; whoever unlocks then wakes one sleeper.
   * futex() may fail with EAGAIN or EINTR: the program's errno is kept. */
  int saved = errno;
  while (atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
    syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
  errno = saved;
}

/* SPDX-License-Identifier: MIT */
/*
 * treg.h - per-thread blocks kept by the stack they serve (layer: core).
 *
 * A block belongs to the one live thread that runs on a given stack (its
 * top identifies it: live threads' stacks never overlap); a thread that
 * starts on the stack of one that ended takes over its block, and so does
 * any thread when one gave its block back at its end (ml_treg_release:
 * the preload front's pthread_create wrapper does, res_thread.c), so a
 * program that never joins its threads, whose stacks are never reused,
 * does not make a block per thread.  No pthread key and no destructor.  A registry is
 * lock-free (a block is appended by taking an index with a fetch-add, then
 * storing the pointer; readers skip an index still NULL), so a fork at any
 * instant leaves it usable in the child, and it can be read by a snapshot.
 * Blocks come from ml_prim_map and are never freed.
 */
#ifndef ML_TREG_H
#define ML_TREG_H

#include "internal.h"
#include <stdatomic.h>

#define ML_TREG_MAX 4096 /* blocks per registry; more threads get none */

typedef struct ml_treg_s {
  _Atomic unsigned n;
  _Atomic(void *) blocks[ML_TREG_MAX];
} ml_treg_t;

/* The block of the stack whose top is `top`: the one a thread that ended
 * left there, or one given back, or a new zero-filled one of `size` bytes
 * whose first word is set to top and second to size; *index (may be NULL)
 * gets its index.  Every block's first member must be its uintptr_t top,
 * its second its size_t size: a block of another size is never handed out
 * (the one a thread on this stack left is given back instead).  NULL when
 * the registry is full or memory is short. */
void *ml_treg_claim(ml_treg_t *reg, size_t size, uintptr_t top, unsigned *index) ML_HIDDEN;

/* The calling thread will not use `block` again (its top becomes 0): the
 * next thread that claims a block may take it. */
void ml_treg_release(void *block) ML_HIDDEN;

/* Blocks registered so far (indexes 0..n-1; ml_treg_get may give NULL for
 * one being appended). */
ML_INLINE unsigned ml_treg_count(ml_treg_t *reg) {
  unsigned n = atomic_load_explicit(&reg->n, memory_order_acquire);
  return n < ML_TREG_MAX ? n : ML_TREG_MAX;
}
ML_INLINE void *ml_treg_get(ml_treg_t *reg, unsigned i) {
  return atomic_load_explicit(&reg->blocks[i], memory_order_acquire);
}

#endif /* ML_TREG_H */

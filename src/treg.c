/* SPDX-License-Identifier: MIT */
/*
 * treg.c - per-thread blocks kept by the stack they serve (treg.h).  Takes
 * no lock, never allocates through malloc.
 */
#include "treg.h"
#include "prim.h"

/* A block's first word, its top (0: given back). */
ML_INLINE uintptr_t ml_treg_top(uintptr_t *b) { return __atomic_load_n(b, __ATOMIC_ACQUIRE); }

void *ml_treg_claim(ml_treg_t *reg, size_t size, uintptr_t top, unsigned *index) {
  unsigned n = ml_treg_count(reg);
  bool given_back = false;
  for (unsigned i = 0; i < n; i++) {
    uintptr_t *b = ml_treg_get(reg, i);
    if (!b) continue;
    uintptr_t t = ml_treg_top(b);
    if (t == top && b[1] != size) { /* made for other settings */
      ml_treg_release(b);
      t = 0;
    }
    given_back |= t == 0;
    if (t == top) {
      if (index) *index = i;
      return b;
    }
  }
  for (unsigned i = 0; given_back && i < n; i++) { /* one a thread gave back */
    uintptr_t *b = ml_treg_get(reg, i), zero = 0;
    if (b && b[1] == size &&
        __atomic_compare_exchange_n(b, &zero, top, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
      if (index) *index = i;
      return b;
    }
  }
  if (n >= ML_TREG_MAX) return NULL;
  uintptr_t *b = ml_prim_map(size);
  if (!b) return NULL;
  b[0] = top;
  b[1] = size;
  unsigned i = atomic_fetch_add_explicit(&reg->n, 1, memory_order_acq_rel);
  if (i >= ML_TREG_MAX) { /* filled meanwhile */
    ml_prim_unmap(b, size);
    return NULL;
  }
  atomic_store_explicit(&reg->blocks[i], b, memory_order_release);
  if (index) *index = i;
  return b;
}

void ml_treg_release(void *block) { __atomic_store_n((uintptr_t *)block, 0, __ATOMIC_RELEASE); }

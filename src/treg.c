/* SPDX-License-Identifier: MIT */
/*
 * treg.c - per-thread blocks kept by the stack they serve (treg.h).  Takes
 * no lock, never allocates through malloc.
 */
#include "treg.h"
#include "prim.h"

void *ml_treg_claim(ml_treg_t *reg, size_t size, uintptr_t top, unsigned *index) {
  unsigned n = ml_treg_count(reg);
  for (unsigned i = 0; i < n; i++) {
    uintptr_t *b = ml_treg_get(reg, i);
    if (b && *b == top) {
      if (index) *index = i;
      return b;
    }
  }
  if (n >= ML_TREG_MAX) return NULL;
  uintptr_t *b = ml_prim_map(size);
  if (!b) return NULL;
  *b = top;
  unsigned i = atomic_fetch_add_explicit(&reg->n, 1, memory_order_acq_rel);
  if (i >= ML_TREG_MAX) { /* filled meanwhile */
    ml_prim_unmap(b, size);
    return NULL;
  }
  atomic_store_explicit(&reg->blocks[i], b, memory_order_release);
  if (index) *index = i;
  return b;
}

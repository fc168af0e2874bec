/* SPDX-License-Identifier: MIT */
/*
 * pagemap.c - marking and clearing pages in the page map (layer: core).
 * See pagemap.h for why this is safe.  Leaves come from mmap and are never
 * freed (4 KiB per 128 MiB of address space that ever held a tracked block).
 * Lock-free; never calls malloc.
 */
#include "pagemap.h"
#include "prim.h"

_Atomic(uint64_t *) ml_pagemap_root[1u << ML_PM_ROOT_BITS];

#define ML_PM_LEAF_WORDS ((1u << ML_PM_LEAF_BITS) / 64)

static uint64_t *ml_pagemap_leaf(uintptr_t a, bool create) {
  uintptr_t i = a >> (ML_PM_PAGE_SHIFT + ML_PM_LEAF_BITS);
  if (i >= (1u << ML_PM_ROOT_BITS)) return NULL;
  uint64_t *leaf = atomic_load_explicit(&ml_pagemap_root[i], memory_order_acquire);
  if (leaf || !create) return leaf;
  uint64_t *fresh = ml_prim_map(ML_PM_LEAF_WORDS * sizeof(uint64_t));
  if (!fresh) return NULL;
  uint64_t *expected = NULL;
  if (atomic_compare_exchange_strong_explicit(&ml_pagemap_root[i], &expected, fresh,
                                              memory_order_acq_rel, memory_order_acquire))
    return fresh;
  ml_prim_unmap(fresh, ML_PM_LEAF_WORDS * sizeof(uint64_t)); /* lost the race */
  return expected;
}

bool ml_pagemap_mark(const void *p) {
  uintptr_t a = (uintptr_t)p;
  if ((a >> (ML_PM_PAGE_SHIFT + ML_PM_LEAF_BITS)) >= (1u << ML_PM_ROOT_BITS))
    return true; /* always "maybe" up there */
  uint64_t *leaf = ml_pagemap_leaf(a, true);
  if (!leaf) return false;
  uintptr_t g = (a >> ML_PM_PAGE_SHIFT) & ((1u << ML_PM_LEAF_BITS) - 1);
  uint64_t bit = UINT64_C(1) << (g & 63);
  if (!(__atomic_load_n(&leaf[g >> 6], __ATOMIC_RELAXED) & bit))
    __atomic_fetch_or(&leaf[g >> 6], bit, __ATOMIC_RELAXED);
  return true;
}

void ml_pagemap_clear(const void *p) {
  uintptr_t a = (uintptr_t)p;
  uint64_t *leaf = ml_pagemap_leaf(a, false);
  if (!leaf) return;
  uintptr_t g = (a >> ML_PM_PAGE_SHIFT) & ((1u << ML_PM_LEAF_BITS) - 1);
  __atomic_fetch_and(&leaf[g >> 6], ~(UINT64_C(1) << (g & 63)), __ATOMIC_RELAXED);
}

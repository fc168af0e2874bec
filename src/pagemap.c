/* SPDX-License-Identifier: MIT */
/*
 * pagemap.c - marking and clearing pages in the page map (layer: core).
 * See pagemap.h for the layout and why it is safe.  Leaves come from mmap
 * and are never freed (1 MiB of address space per 4 GiB that ever held a
 * tracked block; only the pages of the map that are written become
 * resident).  Lock-free; never calls malloc; marking maps memory, so it is
 * not for signal handlers.
 */
#include "pagemap.h"
#include "prim.h"

_Atomic(uint8_t *) ml_pagemap_root[1u << ML_PM_ROOT_BITS];
ml_pm_hot_t ml_pagemap_hot = {ML_PM_HOT_NONE, 0};

#define ML_PM_LEAF_BYTES ((size_t)1 << ML_PM_LEAF_BITS)
#define ML_PM_LEAF_MASK ((UINT64_C(1) << ML_PM_LEAF_BITS) - 1)

static _Atomic size_t ml_pagemap_bytes; // leaves mapped (winners only)

/* The first leaf becomes the hot one (pagemap.h).  Claimed with a CAS to
 * a value no address matches, so only one thread writes base; high last,
 * with release. */
static void ml_pagemap_make_hot(uintptr_t region, uint8_t *leaf) {
  uintptr_t none = ML_PM_HOT_NONE;
  if (!atomic_compare_exchange_strong_explicit(&ml_pagemap_hot.high, &none, ML_PM_HOT_CLAIMED,
                                               memory_order_relaxed, memory_order_relaxed))
    return;
  ml_pagemap_hot.base = (uintptr_t)leaf - (region << ML_PM_LEAF_BITS);
  atomic_store_explicit(&ml_pagemap_hot.high, region << ML_PM_ROOT_SHIFT, memory_order_release);
}

/* The leaf of a (pre: a < 2^47), or NULL when it has none and create is
 * false, or when mmap failed.  A new leaf is published with a CAS (release:
 * a reader that sees the pointer sees the zeros behind it); the loser of a
 * race unmaps its copy and uses the winner's. */
static uint8_t *ml_pagemap_leaf(uintptr_t a, bool create) {
  _Atomic(uint8_t *) *slot = &ml_pagemap_root[a >> ML_PM_ROOT_SHIFT];
  uint8_t *leaf = atomic_load_explicit(slot, memory_order_acquire);
  if (leaf || !create) return leaf;
  uint8_t *fresh = ml_prim_map(ML_PM_LEAF_BYTES);
  if (!fresh) return NULL;
  if (atomic_compare_exchange_strong_explicit(slot, &leaf, fresh, memory_order_acq_rel,
                                              memory_order_acquire)) {
    atomic_fetch_add_explicit(&ml_pagemap_bytes, ML_PM_LEAF_BYTES, memory_order_relaxed);
    ml_pagemap_make_hot(a >> ML_PM_ROOT_SHIFT, fresh);
    return fresh;
  }
  ml_prim_unmap(fresh, ML_PM_LEAF_BYTES); /* lost the race */
  return leaf;
}

/* Set p's page's byte to hint (keep: unless it is nonzero already). */
static bool ml_pagemap_set(const void *p, uint8_t hint, bool keep) {
  uintptr_t a = (uintptr_t)p;
  if ((a >> ML_PM_ROOT_SHIFT) >= (1u << ML_PM_ROOT_BITS))
    return false; /* never recorded up there (pagemap.h) */
  uint8_t *leaf = ml_pagemap_leaf(a, true);
  if (!leaf) return false;
  uintptr_t g = (a >> ML_PM_PAGE_SHIFT) & ML_PM_LEAF_MASK;
  if (!keep || __atomic_load_n(&leaf[g], __ATOMIC_RELAXED) == 0)
    __atomic_store_n(&leaf[g], hint, __ATOMIC_RELAXED);
  return true;
}

bool ml_pagemap_mark_hint(const void *p, uint8_t hint) { return ml_pagemap_set(p, hint, false); }

bool ml_pagemap_mark(const void *p) { return ml_pagemap_set(p, ML_PM_ANY, true); }

void ml_pagemap_clear(const void *p) {
  uintptr_t a = (uintptr_t)p;
  if ((a >> ML_PM_ROOT_SHIFT) >= (1u << ML_PM_ROOT_BITS)) return;
  uint8_t *leaf = ml_pagemap_leaf(a, false);
  if (!leaf) return;
  uintptr_t g = (a >> ML_PM_PAGE_SHIFT) & ML_PM_LEAF_MASK;
  __atomic_store_n(&leaf[g], 0, __ATOMIC_RELAXED);
}

size_t ml_pagemap_mapped(void) {
  return atomic_load_explicit(&ml_pagemap_bytes, memory_order_relaxed);
}

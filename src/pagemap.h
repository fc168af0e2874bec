/* SPDX-License-Identifier: MIT */
/*
 * pagemap.h - which 4 KiB pages may hold the start of a tracked block
 * (layer: core).  Lets free() decide "untracked" with one bit test instead
 * of asking jemalloc for the block's usable size.
 *
 * Why it is exact enough: jemalloc hands out a page as part of exactly one
 * extent, which holds blocks of one size class (a slab) or one large block;
 * so a page never holds the start of a tracked block (usable size >= the
 * threshold) and of an untracked one at the same time.  A page's bit is set
 * when a tracked block starting on it is recorded; it is cleared when a free
 * finds an untracked block on a marked page (the page has since been reused
 * for a smaller size class: no tracked block can start there while that
 * block lives).  A set bit is therefore only ever a hint to look closer; a
 * clear bit proves the block is not recorded.
 *
 * Layout: a static root of 2^20 leaf pointers (8 MiB of .bss, touched only
 * where tracked blocks live) covering 47-bit addresses; each leaf is a 4 KiB
 * mmap'd bitmap of 2^15 pages (128 MiB of address space).  Addresses above
 * 47 bits are always "maybe".  Tests are lock-free loads; marking may mmap a
 * leaf (installed with a CAS).  Never calls malloc.
 */
#ifndef ML_PAGEMAP_H
#define ML_PAGEMAP_H

#include "internal.h"
#include <stdatomic.h>

#define ML_PM_PAGE_SHIFT 12
#define ML_PM_LEAF_BITS 15
#define ML_PM_ROOT_BITS 20

extern _Atomic(uint64_t *) ml_pagemap_root[1u << ML_PM_ROOT_BITS] ML_HIDDEN;

/* May the block at p be tracked?  false proves it is not recorded. */
ML_INLINE bool ml_pagemap_test(const void *p) {
  uintptr_t a = (uintptr_t)p;
  uintptr_t i = a >> (ML_PM_PAGE_SHIFT + ML_PM_LEAF_BITS);
  if (ml_unlikely(i >= (1u << ML_PM_ROOT_BITS))) return true;
  uint64_t *leaf = atomic_load_explicit(&ml_pagemap_root[i], memory_order_acquire);
  if (ml_likely(leaf == NULL)) return false;
  uintptr_t g = (a >> ML_PM_PAGE_SHIFT) & ((1u << ML_PM_LEAF_BITS) - 1);
  return (__atomic_load_n(&leaf[g >> 6], __ATOMIC_RELAXED) >> (g & 63)) & 1;
}

/* Mark p's page (a tracked block starts there).  Returns false when the leaf
 * could not be mapped: the block must then not be recorded. */
bool ml_pagemap_mark(const void *p) ML_HIDDEN;
/* Clear p's page: pre: p is a live block whose usable size is below the
 * threshold. */
void ml_pagemap_clear(const void *p) ML_HIDDEN;

#endif /* ML_PAGEMAP_H */

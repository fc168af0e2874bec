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
 * Layout: 47-bit addresses split [14 root][21 leaf][12 page offset].  The
 * root is a static array of 2^14 leaf pointers (128 KiB of .bss); a leaf is
 * a bitmap of 2^21 pages (256 KiB, mmap'd on the first mark in its 8 GiB of
 * address space, touched page by page).  Why this split:
 *   - The former root of 2^20 pointers (4 KiB leaves) was 8 MiB of .bss,
 *     counted against RLIMIT_AS (`ulimit -v`) whether touched or not.
 *   - A third level (a small static top, mmap'd mid arrays, 4 KiB leaves)
 *     costs 8 KiB fixed but one more dependent load on every untracked
 *     free whose region holds a tracked block: measured with callgrind,
 *     the untracked pair went from 100.6 to 106.6 Ir (1.29x jemalloc's
 *     82.6, over the 1.25x budget; bench/README.md, pair_ml_marked/64).
 *   - Two levels keep today's fast path exactly (two loads, the same
 *     instructions); root + leaf for a heap inside one 8 GiB region (the
 *     usual case: jemalloc maps its extents next to each other) is 384 KiB
 *     of address space, the least over the possible splits (2^13: 64 + 512;
 *     2^15: 256 + 128; 2^16: 512 + 64 KiB).
 *
 * Addresses at or above 2^47 are always "maybe".  Tests are lock-free
 * loads, async-signal-safe.  Marking may mmap a leaf, installed with a CAS
 * (the loser unmaps its copy), so a reader - another thread, or a forked
 * snapshot child reading its copy at any instruction - sees NULL or a
 * zeroed leaf, never a torn one.  Leaves are never freed.  Never calls
 * malloc, takes no lock.
 */
#ifndef ML_PAGEMAP_H
#define ML_PAGEMAP_H

#include "internal.h"
#include <stdatomic.h>

#define ML_PM_PAGE_SHIFT 12
#define ML_PM_LEAF_BITS 21 // pages per leaf: a 256 KiB bitmap covering 8 GiB
#define ML_PM_ROOT_BITS 14 // leaves in the static root: 128 KiB, 2^47 bytes
#define ML_PM_ROOT_SHIFT (ML_PM_PAGE_SHIFT + ML_PM_LEAF_BITS)

extern _Atomic(uint64_t *) ml_pagemap_root[1u << ML_PM_ROOT_BITS] ML_HIDDEN;

/* May the block at p be tracked?  false proves it is not recorded.
 * Lock-free; async-signal-safe. */
ML_INLINE bool ml_pagemap_test(const void *p) {
  uintptr_t a = (uintptr_t)p;
  uintptr_t i = a >> ML_PM_ROOT_SHIFT;
  if (ml_unlikely(i >= (1u << ML_PM_ROOT_BITS))) return true;
  uint64_t *leaf = atomic_load_explicit(&ml_pagemap_root[i], memory_order_acquire);
  if (ml_likely(leaf == NULL)) return false;
  uintptr_t g = (a >> ML_PM_PAGE_SHIFT) & ((1u << ML_PM_LEAF_BITS) - 1);
  return (__atomic_load_n(&leaf[g >> 6], __ATOMIC_RELAXED) >> (g & 63)) & 1;
}

/* Mark p's page (a tracked block starts there).  May mmap a leaf.  Returns
 * false when it could not be mapped: the block must then not be recorded.
 * Lock-free; not for signal handlers (mmap). */
bool ml_pagemap_mark(const void *p) ML_HIDDEN;
/* Clear p's page: pre: p is a live block whose usable size is below the
 * threshold.  Never maps; lock-free. */
void ml_pagemap_clear(const void *p) ML_HIDDEN;
/* Bytes of leaves mapped so far (metadata accounting; the static root is
 * not counted).  Relaxed load: async-signal-safe. */
size_t ml_pagemap_mapped(void) ML_HIDDEN;

#endif /* ML_PAGEMAP_H */

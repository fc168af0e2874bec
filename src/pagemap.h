/* SPDX-License-Identifier: MIT */
/*
 * pagemap.h - which 4 KiB pages may hold the start of a tracked block
 * (layer: core).  Lets free() decide "untracked" with one bit test instead
 * of asking jemalloc for the block's usable size.
 *
 * Why it is exact enough: jemalloc hands out a page as part of exactly one
 * extent, which holds blocks of one size class (a slab) or one large block;
 * so a page never holds the start of a tracked block (usable size >= the
 * threshold) and of an untracked one at the same time.  A page's byte is set
 * when a tracked block starting on it is recorded; it is cleared when a free
 * finds an untracked block on a marked page (the page has since been reused
 * for a smaller size class: no tracked block can start there while that
 * block lives).  A set bit is therefore only ever a hint to look closer; a
 * clear bit proves the block is not recorded.
 *
 * Layout: 47-bit addresses split [15 root][20 leaf][12 page offset].  The
 * root is a static array of 2^15 leaf pointers (256 KiB of .bss); a leaf is
 * one byte per page for 2^20 pages (1 MiB, mmap'd on the first mark in its
 * 4 GiB of address space, touched page by page: one touched page of a leaf
 * covers 16 MiB of heap).  Why this split:
 *   - A byte per page rather than a bit: the test is one byte load after
 *     the leaf's (no shift and mask to find the bit: 3 instructions less on
 *     every free and realloc below the threshold, bench/callgrind.sh), and a
 *     mark or a clear is a plain store instead of an atomic read-modify-
 *     write (pages never share a byte).
 *   - The former root of 2^20 pointers (4 KiB leaves) was 8 MiB of .bss,
 *     counted against RLIMIT_AS (`ulimit -v`) whether touched or not.
 *   - A third level costs one more dependent load on every untracked free
 *     whose region holds a tracked block (measured: 100.6 -> 106.6
 *     instructions for the untracked pair, pair_ml_marked/64).
 *   - Two levels: root + leaf for a heap inside one 4 GiB region (the
 *     usual case: jemalloc maps its extents next to each other) is 1.25 MiB
 *     of address space, the least but one over the possible splits with
 *     byte leaves (2^14: 128 KiB + 2 MiB; 2^16: 512 KiB + 512 KiB, whose
 *     larger .bss every process pays).
 *
 * Addresses at or above 2^47 (only a program that maps memory there on
 * purpose, on a kernel with 5-level page tables, ever has any; jemalloc
 * never asks for them) are never marked: a block there is not recorded
 * (counted as dropped).  The test does not check the bound (3 instructions
 * on every free): it reads the page of the address with the top bits
 * cut, which can only answer "maybe" (then the tables and jemalloc's usable
 * size decide) or a "no" that is true, since nothing up there is recorded;
 * clearing checks the bound, so it never touches the page it aliases.  Tests are lock-free
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
#define ML_PM_LEAF_BITS 20 // pages per leaf: 1 MiB of bytes covering 4 GiB
#define ML_PM_ROOT_BITS 15 // leaves in the static root: 256 KiB, 2^47 bytes
#define ML_PM_ROOT_SHIFT (ML_PM_PAGE_SHIFT + ML_PM_LEAF_BITS)

extern _Atomic(uint8_t *) ml_pagemap_root[1u << ML_PM_ROOT_BITS] ML_HIDDEN;

/* The hot leaf: the first one mapped (normally the region of jemalloc's
 * heap), reachable without the root.  high holds the region's high address
 * bits (a & ~(4 GiB - 1) for every a in it; until there is a hot leaf, a
 * value whose high half no user address has), base the leaf's address
 * minus region << ML_PM_LEAF_BITS, so that the byte of a page in the
 * region is base + (a >> 12): one xor and a shift say "in the region", no
 * mask, no dependent load of the root.  Set once (base first, high last,
 * release), never changed: a reader that sees the region sees its base.
 * The untracked free is 11 instructions instead of 14 where its block is
 * in the hot region (bench/callgrind.sh: pair_ml_marked/64). */
#define ML_PM_HOT_NONE (UINT64_C(0xffff) << 48)     /* kernel half: no block there */
#define ML_PM_HOT_CLAIMED (UINT64_C(0xfffe) << 48)  /* being set */
/* A page's byte, read while another thread may write it (a mark or a
 * clear of the same page: either value is a correct answer, see above).
 * A relaxed atomic load is a plain load on x86-64; written as a plain
 * C load there (where no race detector watches), the compiler compares
 * it in memory: cmpb instead of movzbl and test, one instruction less on
 * every untracked free.  A byte cannot tear and is read once. */
#if defined(__SANITIZE_THREAD__) || !defined(__x86_64__)
#define ML_PM_LOAD_BYTE(b) __atomic_load_n((b), __ATOMIC_RELAXED)
#else
#define ML_PM_LOAD_BYTE(b) (*(const uint8_t *)(b))
#endif

typedef struct ml_pm_hot_s {
  _Atomic uintptr_t high;
  uintptr_t base;
} ml_pm_hot_t;
extern ml_pm_hot_t ml_pagemap_hot ML_HIDDEN;

/* p's page's byte: 0 when no tracked block can start there, else a hint
 * of where records of blocks there are (young.h: 1 + the index of the
 * thread cache that last recorded a block there, or ML_PM_ANY).  The hint
 * only orders a search; nonzero is all that "may be tracked" means.
 * Lock-free; async-signal-safe. */
#define ML_PM_ANY 255

/* Where the byte of a's page is outside the hot leaf's region (NULL
 * without a leaf). */
ML_INLINE const uint8_t *ml_pagemap_at_rooted(uintptr_t a) {
  uintptr_t r = (a >> ML_PM_ROOT_SHIFT) & ((1u << ML_PM_ROOT_BITS) - 1);
  uint8_t *leaf = atomic_load_explicit(&ml_pagemap_root[r], memory_order_acquire);
  if (ml_likely(leaf == NULL)) return NULL;
  return leaf + ((a >> ML_PM_PAGE_SHIFT) & ((1u << ML_PM_LEAF_BITS) - 1));
}

/* The byte of p's page outside the hot leaf's region (0 without a leaf). */
ML_INLINE uint8_t ml_pagemap_byte_rooted(uintptr_t a) {
  const uint8_t *b = ml_pagemap_at_rooted(a);
  if (ml_likely(b == NULL)) return 0;
  return __atomic_load_n(b, __ATOMIC_RELAXED);
}

/* Is a in the hot leaf's region (its byte at base + (a >> 12))? */
ML_INLINE bool ml_pagemap_hot_has(uintptr_t a) {
  uintptr_t high = atomic_load_explicit(&ml_pagemap_hot.high, memory_order_acquire);
  return ((a ^ high) >> ML_PM_ROOT_SHIFT) == 0;
}
#define ML_PM_HOT_AT(a) ((const uint8_t *)(ml_pagemap_hot.base + ((a) >> ML_PM_PAGE_SHIFT)))
#define ML_PM_HOT_BYTE(a) ML_PM_LOAD_BYTE(ML_PM_HOT_AT(a))

ML_INLINE uint8_t ml_pagemap_byte(const void *p) {
  uintptr_t a = (uintptr_t)p;
  if (ml_likely(ml_pagemap_hot_has(a))) return ML_PM_HOT_BYTE(a);
  return ml_pagemap_byte_rooted(a);
}

/* ml_pagemap_test, and where the byte is (*at, set when the page is
 * marked): the free compares the byte in place and hands its address to
 * its slow path, which reads it again (ml_f_free). */
ML_INLINE bool ml_pagemap_test_at(const void *p, const uint8_t **at) {
  uintptr_t a = (uintptr_t)p;
  const uint8_t *b;
  if (ml_likely(ml_pagemap_hot_has(a))) b = ML_PM_HOT_AT(a);
  else if (ml_likely((b = ml_pagemap_at_rooted(a)) == NULL)) return false;
  *at = b;
  return ML_PM_LOAD_BYTE(b) != 0;
}

/* May the block at p be tracked?  false proves it is not recorded.  (The
 * byte compared in place: one instruction less than ml_pagemap_byte(p) != 0
 * on every untracked free.) */
ML_INLINE bool ml_pagemap_test(const void *p) {
  const uint8_t *at;
  return ml_pagemap_test_at(p, &at);
}

/* Mark p's page (a tracked block starts there) with the hint `hint`
 * (1..ML_PM_ANY).  May mmap a leaf.  Returns false when it could not be
 * mapped, or p is at or above 2^47: the block must then not be recorded.
 * Lock-free; not for signal handlers (mmap). */
bool ml_pagemap_mark_hint(const void *p, uint8_t hint) ML_HIDDEN;
/* The same, keeping the page's hint if it has one (else ML_PM_ANY). */
bool ml_pagemap_mark(const void *p) ML_HIDDEN;
/* Clear p's page: pre: p is a live block whose usable size is below the
 * threshold.  Never maps; lock-free. */
void ml_pagemap_clear(const void *p) ML_HIDDEN;
/* Bytes of leaves mapped so far (metadata accounting; the static root is
 * not counted).  Relaxed load: async-signal-safe. */
size_t ml_pagemap_mapped(void) ML_HIDDEN;

#endif /* ML_PAGEMAP_H */

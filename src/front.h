/* SPDX-License-Identifier: MIT */
/*
 * front.h - bodies of the interposed functions, shared by the preload front
 * (preload.c) and the link-time front (wrap.c) (layer: front).
 *
 * Each body: the gate, the jemalloc call, one call into the recorder.  The
 * untracked paths touch no table, no lock and no thread-local: malloc-like
 * calls compare the request with ml_gate.cutoff and tail-call jemalloc; free
 * tests one byte of the page map (pagemap.h) and tail-calls jemalloc's free.
 * Asking jemalloc for the usable size instead costs ~40 instructions per
 * free, and handing that size back through sdallocx does not pay either:
 * jemalloc 5.3 built with profiling support (Debian's) sends every
 * page-aligned pointer given to sdallocx down its slow path.  Semantics
 * follow glibc: realloc(p, 0) frees p and returns NULL; calloc and
 * reallocarray overflow give NULL and ENOMEM; memalign rounds a
 * non-power-of-two alignment up; aligned_alloc and posix_memalign refuse it
 * with EINVAL.  The tracked paths are out of line (ML_NOINLINE) so that the
 * fast paths stay small.
 */
#ifndef ML_FRONT_H
#define ML_FRONT_H

#include "backend.h"
#include "pagemap.h"
#include "track.h"
#include "triggers.h"
#include <errno.h>
#include <unistd.h>

#define ML_TRACKED(u) ml_unlikely((u) >= ml_gate.threshold)

/* Where the program called us from (ML_RA, ML_FA: track.h), passed down
 * from the exported function to the out-of-line paths. */
#define ML_CALLER uintptr_t ra, uintptr_t fa
#define ML_AT ra, fa

/* ---- slow paths --------------------------------------------------------- */

/* jemalloc returned NULL: the first time a dump (triggers.h), before the
 * program gets the NULL.  Out of line and cold, called where a path tests
 * the result anyway: the tracked paths (aligned ones included), realloc
 * and jemalloc's API.  The untracked malloc, calloc and aligned calls stay
 * a compare and a jump into jemalloc: testing their result there would
 * cost the untracked pair 6 instructions of 98 (callgrind,
 * bench/callgrind_guard.sh: over its 1.25x budget where the page map has a
 * leaf), so a failed small allocation is neither dumped nor counted.
 * Under an address-space or cgroup limit a tracked-size request (a fresh
 * mapping) normally fails first. */
static ML_NOINLINE ML_COLD void *ml_f_failed(void) {
  ml_triggers_alloc_failed();
  return NULL;
}

static ML_NOINLINE void *ml_f_malloc_tracked(size_t n, ML_CALLER) {
  void *p = ml_je_malloc(n);
  if (ml_unlikely(!p)) return ml_f_failed();
  ml_track_alloc_from(p, n, ML_AT);
  return p;
}

static ML_NOINLINE void *ml_f_calloc_tracked(size_t n, ML_CALLER) {
  void *p = ml_je_calloc(1, n);
  if (ml_unlikely(!p)) return ml_f_failed();
  ml_track_alloc_from(p, n, ML_AT);
  return p;
}

/* The page map says p may be tracked: ask jemalloc.  Returns true when p
 * is tracked; otherwise clears the stale page bit. */
static ML_NOINLINE bool ml_f_is_tracked(void *p) {
  if (ML_TRACKED(ml_je_malloc_usable_size(p))) return true;
  ml_pagemap_clear(p);
  return false;
}

/* The block's page is marked: its record, if any, goes; a block without
 * one may sit on a stale page, whose bit is then cleared. */
static ML_NOINLINE void ml_f_free_slow(void *p) {
  if (!ml_track_free(p)) (void)ml_f_is_tracked(p);
  ml_je_free(p);
}

/* Take p's record out when it has one (clearing a stale page bit when not). */
static bool ml_f_take(void *p, ml_rec_t *old) {
  if (!ml_pagemap_test(p)) return false;
  if (ml_track_take(p, old)) return true;
  (void)ml_f_is_tracked(p);
  return false;
}

static ML_NOINLINE void *ml_f_realloc_tracked(void *p, size_t n, ML_CALLER) {
  ml_rec_t old;
  bool had = ml_f_take(p, &old);
  void *q = ml_je_realloc(p, n);
  if (!q) {
    if (had) ml_track_put_back(&old, ml_rec_size(&old));
    errno = ENOMEM; /* glibc sets it; jemalloc 5.3's realloc does not */
    return ml_f_failed();
  }
  if (n >= ml_gate.cutoff) ml_track_alloc_from(q, n, ML_AT);
  return q;
}

/* Track an aligned or flagged allocation by its usable size. */
static ML_NOINLINE void ml_f_track_by_usable(void *p, size_t n, ML_CALLER) {
  if (ML_TRACKED(ml_je_malloc_usable_size(p))) ml_track_alloc_from(p, n, ML_AT);
}

/* Can aligned_alloc(align, n) (align a power of two) give a tracked block?
 * jemalloc 5.3 serves an alignment up to a page from the size class of n
 * rounded up to a multiple of the alignment (sz_sa2u), so for those the
 * answer is exact without asking jemalloc: the rounded request reaches the
 * gate's cutoff or not (tests/integration/semantics.sh compares it with
 * malloc_usable_size over a grid of sizes and alignments).  Larger
 * alignments: maybe (the usable size decides). */
ML_INLINE bool ml_f_aligned_maybe_tracked(size_t align, size_t n) {
  if (ml_unlikely(align > 4096)) return true;
  size_t rounded = (n + align - 1) & ~(align - 1); /* n + align cannot wrap here: */
  return rounded >= ml_gate.cutoff || rounded < n; /* a wrap is "maybe" */
}

/* ---- the C and POSIX family --------------------------------------------- */

ML_INLINE void *ml_f_malloc(size_t n) {
  if (ml_likely(n < ml_gate.cutoff)) return ml_je_malloc(n);
  return ml_f_malloc_tracked(n, ML_RA, ML_FA);
}

ML_INLINE void ml_f_free(void *p) {
  /* NULL is on page 0, never marked: jemalloc's free(NULL) does nothing. */
  if (ml_likely(!ml_pagemap_test(p))) {
    ml_je_free(p);
    return;
  }
  ml_f_free_slow(p);
}

ML_INLINE void *ml_f_calloc(size_t nmemb, size_t size) {
  size_t n;
  if (ml_unlikely(__builtin_mul_overflow(nmemb, size, &n))) {
    errno = ENOMEM;
    return NULL;
  }
  if (ml_likely(n < ml_gate.cutoff)) return ml_je_calloc(1, n);
  return ml_f_calloc_tracked(n, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_realloc(void *p, size_t n) {
  if (p == NULL) return ml_f_malloc(n);
  if (n == 0) { /* glibc: free and return NULL */
    ml_f_free(p);
    return NULL;
  }
  if (ml_likely(n < ml_gate.cutoff && !ml_pagemap_test(p))) {
    void *q = ml_je_realloc(p, n);
    if (ml_unlikely(!q)) {
      errno = ENOMEM;
      return ml_f_failed();
    }
    return q;
  }
  return ml_f_realloc_tracked(p, n, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_reallocarray(void *p, size_t nmemb, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(nmemb, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return ml_f_realloc(p, n);
}

/* An aligned allocation that may be tracked (its usable size decides). */
static ML_NOINLINE void *ml_f_aligned_tracked(size_t align, size_t n, ML_CALLER) {
  void *p = ml_je_aligned_alloc(align, n);
  if (ml_unlikely(!p)) return ml_f_failed();
  ml_f_track_by_usable(p, n, ML_AT);
  return p;
}

ML_INLINE void *ml_f_aligned(size_t align, size_t n, ML_CALLER) {
  if (ml_likely(!ml_f_aligned_maybe_tracked(align, n))) return ml_je_aligned_alloc(align, n);
  return ml_f_aligned_tracked(align, n, ML_AT);
}

ML_INLINE int ml_f_posix_memalign(void **out, size_t align, size_t n) {
  if (!ml_is_pow2(align) || align % sizeof(void *)) return EINVAL;
  void *p = ml_f_aligned(align, n ? n : 1, ML_RA, ML_FA);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

ML_INLINE void *ml_f_aligned_alloc(size_t align, size_t n) {
  if (!ml_is_pow2(align)) {
    errno = EINVAL;
    return NULL;
  }
  return ml_f_aligned(align, n ? n : 1, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_memalign(size_t align, size_t n) {
  if (align > SIZE_MAX / 2 + 1) {
    errno = EINVAL;
    return NULL;
  }
  if (!ml_is_pow2(align)) align = ml_next_pow2(align);
  return ml_f_aligned(align, n ? n : 1, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_valloc(size_t n) {
  return ml_f_aligned((size_t)sysconf(_SC_PAGESIZE), n ? n : 1, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_pvalloc(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t rounded;
  if (__builtin_add_overflow(n, page - 1, &rounded)) {
    errno = ENOMEM;
    return NULL;
  }
  rounded &= ~(page - 1);
  return ml_f_aligned(page, rounded ? rounded : page, ML_RA, ML_FA);
}

ML_INLINE size_t ml_f_malloc_usable_size(void *p) {
  return p ? ml_je_malloc_usable_size(p) : 0;
}

/* ---- jemalloc's own API ------------------------------------------------- */

ML_INLINE void *ml_f_mallocx(size_t n, int flags) {
  void *p = ml_je_mallocx(n, flags);
  if (ml_unlikely(!p)) return ml_f_failed();
  if (ML_TRACKED(ml_je_sallocx(p, 0))) ml_track_alloc_from(p, n, ML_RA, ML_FA);
  return p;
}

ML_INLINE void *ml_f_rallocx(void *p, size_t n, int flags) {
  ml_rec_t old;
  bool had = ml_f_take(p, &old);
  void *q = ml_je_rallocx(p, n, flags);
  if (!q) {
    if (had) ml_track_put_back(&old, ml_rec_size(&old));
    return ml_f_failed();
  }
  if (ML_TRACKED(ml_je_sallocx(q, 0))) ml_track_alloc_from(q, n, ML_RA, ML_FA);
  return q;
}

ML_INLINE size_t ml_f_xallocx(void *p, size_t n, size_t extra, int flags) {
  /* Resizing in place: the block keeps its address and its record (with
   * the stack of its allocation); only its size and tracked status change. */
  ml_rec_t old;
  bool had = ml_f_take(p, &old);
  size_t ret = ml_je_xallocx(p, n, extra, flags);
  /* jemalloc 5.3's xallocx sometimes returns the old usable size although
   * the block grew (a large block, with some sizes and extras): track by
   * the size it has (tests/integration/xallocx.sh).  The caller gets
   * jemalloc's answer unchanged. */
  size_t u = ml_je_sallocx(p, 0);
  if (ML_TRACKED(u)) {
    if (had) {
      size_t was = ml_rec_size(&old);
      size_t kept = was > u ? u : was;
      size_t want = n > kept ? n : kept;
      old.size_tid = (old.size_tid & ~ML_REC_SIZE_MAX) | (want > u ? u : want);
      ml_track_put_back(&old, was);
    } else {
      ml_track_alloc_from(p, n, ML_RA, ML_FA);
    }
  }
  return ret;
}

ML_INLINE size_t ml_f_sallocx(const void *p, int flags) { return ml_je_sallocx(p, flags); }

ML_INLINE void ml_f_dallocx(void *p, int flags) {
  ml_f_take(p, NULL);
  ml_je_dallocx(p, flags);
}

ML_INLINE void ml_f_sdallocx(void *p, size_t n, int flags) {
  ml_f_take(p, NULL);
  ml_je_sdallocx(p, n, flags);
}

ML_INLINE size_t ml_f_nallocx(size_t n, int flags) { return ml_je_nallocx(n, flags); }

#endif /* ML_FRONT_H */

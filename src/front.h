/* SPDX-License-Identifier: MIT */
/*
 * front.h - bodies of the interposed functions, shared by the preload front
 * (preload.c) and the link-time front (wrap.c) (layer: front).
 *
 * Each body: the gate, the jemalloc call, the recorder (its bodies inlined
 * into the tracked malloc, calloc and free: track_alloc.h).  The
 * untracked paths touch no table, no lock and no thread-local: malloc-like
 * calls compare the request with ml_gate.cutoff and tail-call jemalloc; free
 * tests one byte of the page map (pagemap.h) and tail-calls jemalloc's free.
 * Asking jemalloc for the usable size instead costs ~40 instructions per
 * free, and handing that size back through sdallocx does not pay either:
 * jemalloc 5.3 built with profiling support (Debian's) sends every
 * page-aligned pointer given to sdallocx down its slow path.  (C++ sized
 * delete has the size without asking: below the cut-off it goes straight
 * to sdallocx, as under jemalloc's own operator delete: ml_f_delete.)  Semantics
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
#include "track_alloc.h"
#include "triggers.h"
#include <errno.h>
#include <unistd.h>

/* The exported functions of the C family (ML_FRONT_FN_STD, _LIBC: the
 * families of hooks.def) have no frame pointer of their own (the library
 * is built with them, for the fp walk through the recorder's frames):
 * every call they make is a tail call (into jemalloc, or into an out of
 * line path that has its frame), so no fp walk passes through them, and an
 * untracked realloc saves the 3 instructions (push, mov, pop) that every
 * path paid.  jemalloc's API (JE) calls the recorder from the exported
 * function itself: it keeps its frame, or an fp walk would miss the
 * program's frame that called it. */
#if defined(__GNUC__) && !defined(__clang__)
#define ML_FRONT_FN_STD __attribute__((optimize("omit-frame-pointer")))
#else
#define ML_FRONT_FN_STD
#endif
#define ML_FRONT_FN_LIBC ML_FRONT_FN_STD
#define ML_FRONT_FN_JE

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
  return ml_track_alloc_inline(p, n, ML_AT);
}

/* Errors the fronts report with errno, out of line: a call to
 * __errno_location on a fast path would make it set up a frame. */
static ML_NOINLINE ML_COLD void *ml_f_enomem(void) {
  errno = ENOMEM;
  return NULL;
}

static ML_NOINLINE ML_COLD void *ml_f_einval(void) {
  errno = EINVAL;
  return NULL;
}

/* calloc past the fast test: an overflow, or a request that may be
 * tracked. */
static ML_NOINLINE void *ml_f_calloc_slow(size_t nmemb, size_t size, ML_CALLER) {
  size_t n;
  if (__builtin_mul_overflow(nmemb, size, &n)) return ml_f_enomem();
  void *p = ml_je_calloc(1, n);
  if (ml_unlikely(!p)) return ml_f_failed();
  return ml_track_alloc_inline(p, n, ML_AT);
}

/* The page map says p may be tracked: ask jemalloc.  Returns true when p
 * is tracked; otherwise clears the stale page bit. */
static ML_NOINLINE bool ml_f_is_tracked(void *p) {
  if (ML_TRACKED(ml_je_malloc_usable_size(p))) return true;
  ml_pagemap_clear(p);
  return false;
}

/* The block's page is marked (its page-map byte at `page`): its record, if
 * any, goes; a block without one may sit on a stale page, whose bit is
 * then cleared. */
static ML_NOINLINE void ml_f_free_slow(void *p, const uint8_t *page) {
  if (!ml_track_take_inline(p, page, NULL)) (void)ml_f_is_tracked(p);
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
    /* jemalloc 5.3 leaves errno alone for a request over PTRDIFF_MAX
     * (semantics.sh: realloc_huge); glibc sets it. */
    errno = ENOMEM;
    return ml_f_failed();
  }
  if (n >= ml_gate.cutoff) ml_track_alloc_from(q, n, ML_AT);
  return q;
}

/* Is aligned_alloc(align, n) surely untracked, whatever align is?  A
 * sufficient test, two compares: a block of a small alignment comes from
 * the size class of n rounded up to it (below), which is at most
 * n + align - 1.  A huge n that wraps the sum fails in jemalloc (no block);
 * an alignment that is not a power of two is refused there with EINVAL, as
 * glibc does.  The rest go through ml_f_aligned_maybe_tracked. */
ML_INLINE bool ml_f_aligned_untracked(size_t align, size_t n) {
  return align - 1 < 4096 && n + align - 1 < ml_gate.cutoff;
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
  /* NULL is on page 0, never marked: jemalloc's free(NULL) does nothing.
   * The byte is compared in place and its address goes to the slow path,
   * which reads it again to look first in the cache it names
   * (ml_track_take_first): passing the byte itself cost every free of a
   * marked page one instruction (movzbl and test for cmpb); looking it up
   * again there, a first try, cost a tracked pair 17 instructions (now 6). */
  const uint8_t *page;
  if (ml_likely(!ml_pagemap_test_at(p, &page))) {
    ml_je_free(p);
    return;
  }
  ml_f_free_slow(p, page);
}

/* C++ delete: with the size the block was asked for (sized delete, not
 * aligned), a block below the cut-off is one the gate never tracked
 * (ml_gate: n < cutoff means a usable size below the threshold), so it
 * goes to jemalloc's sized free without a look at the page map, as
 * jemalloc's own operator delete sends it (C++14 compilers delete with the
 * size by default).  n is SIZE_MAX for the forms without a size
 * (hooks_cxx.def).  A null p, and every other form, is a free. */
ML_INLINE void ml_f_delete(void *p, size_t n, size_t align) {
  if (align == 0 && ml_likely(n < ml_gate.cutoff) && ml_likely(p != NULL)) {
    ml_je_sdallocx(p, n, 0);
    return;
  }
  ml_f_free(p);
}

/* glibc's realloc(p, 0): free p, return NULL. */
static ML_NOINLINE void *ml_f_realloc_zero(void *p);

ML_INLINE void *ml_f_calloc(size_t nmemb, size_t size) {
  size_t n;
  if (ml_likely(!__builtin_mul_overflow(nmemb, size, &n) && n < ml_gate.cutoff))
    return ml_je_calloc(nmemb, size);
  return ml_f_calloc_slow(nmemb, size, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_realloc(void *p, size_t n) {
  if (p == NULL) return ml_f_malloc(n);
  if (n == 0) return ml_f_realloc_zero(p);
  /* A tail call: jemalloc sets errno when a request this small fails (a
   * failed realloc below the threshold is not dumped, as for malloc). */
  if (ml_likely(n < ml_gate.cutoff && !ml_pagemap_test(p))) return ml_je_realloc(p, n);
  return ml_f_realloc_tracked(p, n, ML_RA, ML_FA);
}

static ML_NOINLINE void *ml_f_realloc_zero(void *p) {
  ml_f_free(p);
  return NULL;
}

ML_INLINE void *ml_f_reallocarray(void *p, size_t nmemb, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(nmemb, size, &n)) return ml_f_enomem();
  return ml_f_realloc(p, n);
}

/* An aligned allocation that may be tracked.  Up to a page of alignment
 * ml_f_aligned_maybe_tracked's answer was exact (a request that wrapped
 * got no block): tracked, without asking jemalloc for the usable size (~40
 * instructions; rptest's memalign calls, mostly tracked, paid it on each).
 * Past a page the usable size decides. */
static ML_NOINLINE void *ml_f_aligned_tracked(size_t align, size_t n, ML_CALLER) {
  void *p = ml_je_aligned_alloc(align, n);
  if (ml_unlikely(!p)) return ml_f_failed();
  if (ml_likely(align <= 4096) || ML_TRACKED(ml_je_malloc_usable_size(p)))
    ml_track_alloc_from(p, n, ML_AT);
  return p;
}

ML_INLINE void *ml_f_aligned(size_t align, size_t n, ML_CALLER) {
  if (ml_likely(!ml_f_aligned_maybe_tracked(align, n))) return ml_je_aligned_alloc(align, n);
  return ml_f_aligned_tracked(align, n, ML_AT);
}

/* posix_memalign past the fast test (jemalloc's answers it there: EINVAL
 * for a bad alignment, as here). */
static ML_NOINLINE int ml_f_posix_memalign_slow(void **out, size_t align, size_t n, ML_CALLER) {
  if (!ml_is_pow2(align) || align % sizeof(void *)) return EINVAL;
  void *p = ml_f_aligned(align, n ? n : 1, ML_AT);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

/* aligned_alloc past the fast test. */
static ML_NOINLINE void *ml_f_aligned_alloc_slow(size_t align, size_t n, ML_CALLER) {
  if (!ml_is_pow2(align)) return ml_f_einval();
  return ml_f_aligned(align, n ? n : 1, ML_AT);
}

ML_INLINE int ml_f_posix_memalign(void **out, size_t align, size_t n) {
  if (ml_likely(ml_f_aligned_untracked(align, n))) return ml_je_posix_memalign(out, align, n);
  return ml_f_posix_memalign_slow(out, align, n, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_aligned_alloc(size_t align, size_t n) {
  if (ml_likely(ml_f_aligned_untracked(align, n))) return ml_je_aligned_alloc(align, n);
  return ml_f_aligned_alloc_slow(align, n, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_memalign(size_t align, size_t n) {
  if (align > SIZE_MAX / 2 + 1) return ml_f_einval();
  if (!ml_is_pow2(align)) align = ml_next_pow2(align);
  return ml_f_aligned(align, n ? n : 1, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_valloc(size_t n) {
  return ml_f_aligned((size_t)sysconf(_SC_PAGESIZE), n ? n : 1, ML_RA, ML_FA);
}

ML_INLINE void *ml_f_pvalloc(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t rounded;
  if (__builtin_add_overflow(n, page - 1, &rounded)) return ml_f_enomem();
  rounded &= ~(page - 1);
  return ml_f_aligned(page, rounded ? rounded : page, ML_RA, ML_FA);
}

ML_INLINE size_t ml_f_malloc_usable_size(void *p) {
  return p ? ml_je_malloc_usable_size(p) : 0;
}

/* ---- C++ (the preload front's operator new) ----------------------------- */

/* Is operator new's request malloc's untracked one (align: 0, or a
 * std::align_val_t, a power of two)?  Then jemalloc's malloc serves it
 * (preload.c, without a frame). */
ML_INLINE bool ml_f_new_untracked(size_t n, size_t align) {
  return align == 0 && ml_likely(n < ml_gate.cutoff);
}

/* operator new's block for any other request: a tracked one, or an
 * aligned one; NULL when jemalloc has none (the operator then hands over
 * to the C++ runtime's own: preload.c).  pre: !ml_f_new_untracked. */
ML_INLINE void *ml_f_new_other(size_t n, size_t align) {
  if (align == 0) return ml_f_malloc_tracked(n, ML_RA, ML_FA);
  if (ml_likely(ml_f_aligned_untracked(align, n))) return ml_je_aligned_alloc(align, n);
  return ml_f_aligned_alloc_slow(align, n, ML_RA, ML_FA);
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

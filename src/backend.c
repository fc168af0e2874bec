/* SPDX-License-Identifier: MIT */
/*
 * backend.c - the ml_backend method table over the linked-in jemalloc, for
 * the core (layer: front).  The preload library and the benchmarks link
 * it; the benchmarks build it with ML_BACKEND_TEXT_IS_OURS=0, since their
 * own code shares its object.  Never allocates.
 */
#include "backend.h"
#include "core.h"

#ifndef ML_BACKEND_TEXT_IS_OURS
#define ML_BACKEND_TEXT_IS_OURS 1
#endif

/* jemalloc's size class of a request, computed: 8, multiples of 16 up to
 * 128, then four classes per doubling.  A snapshot child must not call
 * nallocx: in a thread whose jemalloc state is not set up yet (a signal
 * taken at the start of a new thread) nallocx sets it up, taking a lock
 * another thread may have held at the fork, and the child hangs. */
static size_t ml_size_class(size_t n) {
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) & ~(size_t)15;
  unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
  size_t delta = (size_t)1 << (lg - 2); /* 2^lg < n <= 2^(lg+1) */
  return (n + delta - 1) & ~(delta - 1);
}

/* Does the computation agree with this jemalloc's build (its quantum and
 * classes per doubling), for every request up to 2^40?  Both are
 * non-decreasing step functions, so they agree everywhere when jemalloc's
 * agrees at both sides of every step of ours: at each class c (its largest
 * request) and at c + 1 (the smallest of the next class); between two such
 * points a non-decreasing function that takes one value at both takes it
 * throughout.  About 300 questions to jemalloc; the check that asked about
 * every request up to 64 KiB made 65,537 and took 0.3 ms of every
 * process's start (5% of `ls`'s time: bench/README.md, "Start-up and exit
 * of short programs").  Asked once, by the first caller: the gate's
 * computation at start, in a program thread. */
static bool ml_size_classes_match(void) {
  if (ml_je_nallocx(1, 0) != ml_size_class(1)) return false;
  for (size_t c = ml_size_class(1); c < ((size_t)1 << 40); c = ml_size_class(c + 1))
    if (ml_je_nallocx(c, 0) != c || ml_je_nallocx(c + 1, 0) != ml_size_class(c + 1)) return false;
  return true;
}

static int ml_size_classes_known; /* 1: computed; -1: ask jemalloc; 0: not checked yet */

static size_t ml_backend_good_size(size_t n) {
  if (ml_likely(ml_size_classes_known > 0)) return ml_size_class(n);
  if (!ml_size_classes_known) ml_size_classes_known = ml_size_classes_match() ? 1 : -1;
  return ml_size_classes_known > 0 ? ml_size_class(n) : ml_je_nallocx(n ? n : 1, 0);
}

const ml_backend_t ml_backend = {
    .usable_size = ml_je_malloc_usable_size,
    .good_size = ml_backend_good_size,
    .ctl = ml_je_mallctl,
    .text_is_ours = ML_BACKEND_TEXT_IS_OURS,
};

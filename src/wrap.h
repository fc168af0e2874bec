/* SPDX-License-Identifier: MIT */
/*
 * wrap.h - what the link-time fronts (wrap.c, wrap_cxx.c) share (layer:
 * front): how they reach the process's own allocator, and the out-of-line
 * steps that record and unrecord a block by its usable size.  Header only
 * but for the two helpers, defined in wrap.c.  See wrap.c for the mode.
 */
#ifndef ML_WRAP_H
#define ML_WRAP_H

#include "track.h"

/* The static flavour is linked into a library built with --wrap, which
 * rewrites our own references to malloc too: it must say __real_malloc.
 * The shared flavour is built without --wrap and says malloc. */
#ifdef ML_WRAP_STATIC
#define ML_REAL(f) __real_##f
#else
#define ML_REAL(f) f
#endif

size_t ML_REAL(malloc_usable_size)(void *p);

/* Is p, a live block of the process's allocator, of tracked size? */
#define ML_W_TRACKED(p) ml_unlikely(ML_REAL(malloc_usable_size)(p) >= ml_gate.threshold)

/* Record p (request size n) when it is of tracked size. */
void ml_w_track(void *p, size_t n, uintptr_t ra, uintptr_t fa) ML_HIDDEN;
/* p, of tracked size, is about to be freed: drop its record, or count a
 * foreign free when it has none (it was allocated outside). */
void ml_w_untrack(void *p) ML_HIDDEN;

#endif /* ML_WRAP_H */

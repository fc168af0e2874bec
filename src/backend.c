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

static size_t ml_backend_good_size(size_t n) { return ml_je_nallocx(n ? n : 1, 0); }

const ml_backend_t ml_backend = {
    .usable_size = ml_je_malloc_usable_size,
    .good_size = ml_backend_good_size,
    .ctl = ml_je_mallctl,
    .text_is_ours = ML_BACKEND_TEXT_IS_OURS,
};

/* SPDX-License-Identifier: MIT */
/*
 * backend.c - the ml_backend method table over the linked-in jemalloc, for
 * the core, and the library's constructor (layer: front).  Never allocates.
 */
#include "backend.h"
#include "track.h"

static size_t ml_backend_good_size(size_t n) { return ml_je_nallocx(n ? n : 1, 0); }

const ml_backend_t ml_backend = {
    .usable_size = ml_je_malloc_usable_size,
    .good_size = ml_backend_good_size,
    .ctl = ml_je_mallctl,
    .text_is_ours = true,
};

/* Priority 101: before other constructors of this library (there are none
 * today); the first allocation may already have initialised the core.
 * Being dlopen'ed is refused by the loader itself ("cannot allocate memory
 * in static TLS block"): jemalloc's and our thread-locals are initial-exec. */
__attribute__((constructor(101))) static void ml_front_constructor(void) {
  ml_init_process(true); /* preload.c hides our signal handlers */
}

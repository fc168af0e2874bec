/* SPDX-License-Identifier: MIT */
/*
 * backend.c - the ml_backend method table over the linked-in jemalloc, for
 * the core, and the library's constructor (layer: front).  Never allocates.
 */
#include "backend.h"
#include "log.h"
#include "track.h"
#include <dlfcn.h>
#include <stdlib.h>

/* Our own malloc (a hidden alias, preload.c): its address is this
 * library's definition, not whatever the global scope resolves `malloc` to. */
extern void *ml_front_malloc(size_t n) ML_HIDDEN;

static size_t ml_backend_good_size(size_t n) { return ml_je_nallocx(n ? n : 1, 0); }

const ml_backend_t ml_backend = {
    .usable_size = ml_je_malloc_usable_size,
    .good_size = ml_backend_good_size,
    .ctl = ml_je_mallctl,
};

/* Priority 101: before other constructors of this library (there are none
 * today); the first allocation may already have initialised the core. */
__attribute__((constructor(101))) static void ml_front_constructor(void) {
  /* Loaded with dlopen, the library is not the process's allocator (the
   * program's malloc was bound before it came): say so and stay out of the
   * way.  dlsym here runs once at start, never on an allocation path. */
  void *global = dlsym(RTLD_DEFAULT, "malloc");
  if (global && global != (void *)ml_front_malloc) {
    ml_log_ready();
    ml_error("libmemledger.so was loaded with dlopen: it is not the program's "
             "allocator, so nothing is tracked; preload it (LD_PRELOAD) or link it");
    ml_init_disable();
    return;
  }
  ml_init_process();
}

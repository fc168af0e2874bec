/* SPDX-License-Identifier: MIT */
/*
 * modules.h - the history of unloaded objects (layer: core).
 *
 * A dump's module map is taken when the dump is written, but a stack's
 * addresses were captured when it was interned: after a dlclose the loader
 * may map another object at the same addresses, and a report would then
 * name the wrong functions.  So every dlclose (hooked in preload.c) records
 * the object it unloads, numbered by an epoch (the count of dlcloses so
 * far), and every stack keeps the epoch it was interned at; dumps list both
 * ([unloaded], [stack_epochs]) and the report tool picks, for a frame, the
 * first object unloaded after its stack was interned.  History memory comes
 * from mmap (up to ML_MODULES_HISTORY objects, then only the epoch moves).
 * ml_modules_epoch is a relaxed load; recording takes a small lock and
 * calls dl_iterate_phdr (never from an allocation path).
 */
#ifndef ML_MODULES_H
#define ML_MODULES_H

#include "internal.h"
#include "prim.h"
#include <stdatomic.h>

#define ML_MODULES_HISTORY 1024

typedef struct ml_unloaded_s {
  uint32_t epoch;      // this object went away with the epoch-th dlclose
  ml_module_t m;       // as dl_iterate_phdr saw it (path points into `path`)
  char path[256];
} ml_unloaded_t;

extern _Atomic uint32_t ml_modules_epoch_now ML_HIDDEN;

/* dlclose calls made so far. */
ML_INLINE uint32_t ml_modules_epoch(void) {
  return atomic_load_explicit(&ml_modules_epoch_now, memory_order_relaxed);
}

/* dlclose(handle) is about to run: record the object it may unload and
 * start the next epoch.  pre: not called with the loader lock held. */
void ml_modules_before_dlclose(void *handle) ML_HIDDEN;

/* The recorded objects (count in *n); stable memory, entries appended. */
const ml_unloaded_t *ml_modules_unloaded(size_t *n) ML_HIDDEN;

#endif /* ML_MODULES_H */

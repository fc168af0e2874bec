/* SPDX-License-Identifier: MIT */
/*
 * modules.c - the history of unloaded objects (layer: core).  See modules.h.
 * Locks: its own small lock, around appends.  Memory: one mmap'd array.
 */
#include "modules.h"
#include "fmt.h"
#include "lock.h"
#include <dlfcn.h>
#include <link.h>
#include <string.h>

_Atomic uint32_t ml_modules_epoch_now;

static struct {
  ml_lock_t lock;
  ml_unloaded_t *list; // ML_MODULES_HISTORY entries, mmap'd at first use
  _Atomic size_t n;
} ml_hist;

typedef struct ml_find_s {
  uintptr_t base;
  const char *name;
  ml_unloaded_t *out;
  bool found;
} ml_find_t;

static int ml_modules_match(const ml_module_t *m, void *arg) {
  ml_find_t *f = arg;
  if (m->base != f->base || strcmp(m->path ? m->path : "", f->name) != 0) return 0;
  f->out->m = *m;
  ml_strlcpy(f->out->path, m->path ? m->path : "", sizeof f->out->path);
  f->out->m.path = f->out->path;
  f->found = true;
  return 1;
}

void ml_modules_before_dlclose(void *handle) {
  struct link_map *lm = NULL;
  if (!handle || dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm) return;
  ml_lock(&ml_hist.lock);
  uint32_t epoch = atomic_load(&ml_modules_epoch_now) + 1;
  size_t n = atomic_load(&ml_hist.n);
  if (!ml_hist.list) ml_hist.list = ml_prim_map(ML_MODULES_HISTORY * sizeof(ml_unloaded_t));
  if (ml_hist.list && n < ML_MODULES_HISTORY) {
    ml_find_t f = {lm->l_addr, lm->l_name ? lm->l_name : "", &ml_hist.list[n], false};
    ml_prim_modules(ml_modules_match, &f);
    if (f.found) {
      ml_hist.list[n].epoch = epoch;
      atomic_store_explicit(&ml_hist.n, n + 1, memory_order_release);
    }
  }
  /* Stacks interned from now on belong to the next epoch. */
  atomic_store(&ml_modules_epoch_now, epoch);
  ml_unlock(&ml_hist.lock);
}

const ml_unloaded_t *ml_modules_unloaded(size_t *n) {
  *n = atomic_load_explicit(&ml_hist.n, memory_order_acquire);
  return ml_hist.list;
}

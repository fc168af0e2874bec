/* SPDX-License-Identifier: MIT */
/*
 * shadow.c - the -finstrument-functions hooks and shadow-stack capture
 * (layer: core).  See shadow.h.  Arrays come from mmap and go back to a
 * free list (a small lock-free stack) when their thread exits, through a
 * pthread key destructor; they are never unmapped.
 */
#include "shadow.h"
#include "prim.h"
#include "res_rec.h"
#include "stacks.h"
#include "unwind.h"
#include <pthread.h>

ML_TLS ml_shadow_t ml_shadow;
_Atomic uint64_t ml_shadow_overflows;

#define ML_SHADOW_BYTES \
  (ML_SHADOW_CAP * sizeof(ml_shadow_entry_t) + ML_SHADOW_IDCACHE * sizeof(ml_shadow_idcache_t))

/* The id cache lives after the entries, in the same mapping (thread-local
 * storage stays a few words). */
ML_INLINE ml_shadow_idcache_t *ml_shadow_idcache(void) {
  return (ml_shadow_idcache_t *)(ml_shadow.entries + ML_SHADOW_CAP);
}

/* Recycled arrays: a Treiber stack; an array's first word links it.  ABA is
 * harmless here: arrays are never unmapped, and a stale next pointer can
 * only make the list forget an array (a leak of one, not a corruption) in
 * the rare race of two exits and one start at the same instant. */
static _Atomic(ml_shadow_entry_t *) ml_shadow_free;
static pthread_key_t ml_shadow_key;
static pthread_once_t ml_shadow_once = PTHREAD_ONCE_INIT;
static bool ml_shadow_key_ok;

ML_NO_INSTRUMENT static void ml_shadow_thread_exit(void *arg) {
  ml_shadow_entry_t *e = arg;
  ml_shadow.entries = NULL;
  ml_shadow.depth = 0;
  ml_shadow_entry_t *head = atomic_load(&ml_shadow_free);
  do {
    *(ml_shadow_entry_t **)e = head;
  } while (!atomic_compare_exchange_weak(&ml_shadow_free, &head, e));
}

ML_NO_INSTRUMENT static void ml_shadow_key_init(void) {
  ml_shadow_key_ok = pthread_key_create(&ml_shadow_key, ml_shadow_thread_exit) == 0;
}

/* First call on this thread: get an array.  Returns false when none can be
 * had (the thread then only counts depth). */
ML_NO_INSTRUMENT ML_NOINLINE static bool ml_shadow_thread_init(void) {
  ml_shadow_entry_t *e = atomic_load(&ml_shadow_free);
  while (e && !atomic_compare_exchange_weak(&ml_shadow_free, &e,
                                            *(ml_shadow_entry_t **)e))
    ;
  if (!e) e = ml_prim_map(ML_SHADOW_BYTES);
  if (!e) {
    ml_shadow.disabled = 1;
    return false;
  }
  pthread_once(&ml_shadow_once, ml_shadow_key_init);
  if (ml_shadow_key_ok) pthread_setspecific(ml_shadow_key, e);
  ml_shadow.entries = e;
  /* A recycled array keeps another thread's cache: generations restart. */
  ml_shadow_idcache_t *c = ml_shadow_idcache();
  for (unsigned i = 0; i < ML_SHADOW_IDCACHE; i++) c[i].gen = 0;
  return true;
}

/* Drop the entries strictly deeper than frame that are on the same stack:
 * their exit hooks were skipped (longjmp, exception). */
ML_NO_INSTRUMENT ML_INLINE uint32_t ml_shadow_resync(uint32_t d, uintptr_t frame) {
  const ml_shadow_entry_t *e = ml_shadow.entries;
  /* Deeper than the array and its deepest stored entry is stale: every
   * unstored entry above it is stale too (a longjmp out of deep recursion). */
  if (d > ML_SHADOW_CAP) {
    uintptr_t f = e[ML_SHADOW_CAP - 1].frame;
    if (f < frame && frame - f < ML_SHADOW_SAME_STACK) d = ML_SHADOW_CAP;
  }
  while (d && d <= ML_SHADOW_CAP) {
    uintptr_t f = e[d - 1].frame;
    if (f >= frame || frame - f >= ML_SHADOW_SAME_STACK) break;
    d--;
  }
  return d;
}

ML_NO_INSTRUMENT ML_NOINLINE static void ml_shadow_enter_slow(uintptr_t site,
                                                             uintptr_t frame) {
  if (ml_unlikely(!ml_shadow.entries) && (ml_shadow.disabled || !ml_shadow_thread_init())) {
    ml_shadow.depth++;
    return;
  }
  uint32_t d = ml_shadow_resync(ml_shadow.depth, frame);
  /* At the same frame: an inlined function passes its container's call
   * site (same site: nested, keep it); a different site is a sibling whose
   * exit was skipped (pop it). */
  while (d && d <= ML_SHADOW_CAP && ml_shadow.entries[d - 1].frame == frame &&
         ml_shadow.entries[d - 1].site != site)
    d--;
  if (ml_likely(d < ML_SHADOW_CAP)) {
    ml_shadow.entries[d].site = site;
    ml_shadow.entries[d].frame = frame;
    ml_shadow.entries[d].gen = ++ml_shadow.gen;
  } else {
    atomic_fetch_add_explicit(&ml_shadow_overflows, 1, memory_order_relaxed);
  }
  ml_shadow.depth = d + 1;
}

void __cyg_profile_func_enter(void *fn, void *site) {
  (void)fn;
  uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
  ml_shadow_entry_t *e = ml_shadow.entries;
  uint32_t d = ml_shadow.depth;
  /* The usual case: called from below the function on top of the stack. */
  if (ml_likely(e != NULL && d - 1 < ML_SHADOW_CAP - 1 && e[d - 1].frame > frame)) {
    e[d].site = (uintptr_t)site;
    e[d].frame = frame;
    e[d].gen = ++ml_shadow.gen;
    ml_shadow.depth = d + 1;
    return;
  }
  ml_shadow_enter_slow((uintptr_t)site, frame);
}

/* An exit whose entry is not on top: pop down to the nearest entry of the
 * same call site (entries above it are leftovers of skipped exits).  No
 * such entry near the top: this exit's entry was already dropped by a
 * resync, and the stack stays as it is. */
ML_NO_INSTRUMENT ML_NOINLINE static void ml_shadow_exit_slow(uintptr_t site) {
  uint32_t d = ml_shadow.depth;
  if (!d) return;
  if (!ml_shadow.entries || d > ML_SHADOW_CAP) { /* not stored: only counted */
    ml_shadow.depth = d - 1;
    return;
  }
  for (uint32_t k = d; k > 0 && d - k < 64; k--)
    if (ml_shadow.entries[k - 1].site == site) {
      ml_shadow.depth = k - 1;
      return;
    }
}

/* Exits are matched by call site, not by frame address: at -O2 the exit
 * hook may be a tail call made after the function's epilogue, from its
 * caller's frame level.  Enter and exit receive the same call site. */
void __cyg_profile_func_exit(void *fn, void *site) {
  (void)fn;
  const ml_shadow_entry_t *e = ml_shadow.entries;
  uint32_t d = ml_shadow.depth;
  /* The usual case: this function's own entry is on top. */
  if (ml_likely(e != NULL && d - 1 < ML_SHADOW_CAP && e[d - 1].site == (uintptr_t)site)) {
    ml_shadow.depth = d - 1;
    return;
  }
  ml_shadow_exit_slow((uintptr_t)site);
}

unsigned ml_shadow_capture(uintptr_t *buf, unsigned max, uintptr_t ra, uintptr_t anchor) {
  unsigned n = 0;
  if (ra && n < max) buf[n++] = ra;
  uint32_t d = ml_shadow.depth;
  if (!ml_shadow.entries) return n;
  if (d > ML_SHADOW_CAP) d = ML_SHADOW_CAP; /* keep the outermost frames */
  if (anchor) d = ml_shadow_resync(d, anchor);
  /* Entries of inlined functions repeat their container's (site, frame):
   * one frame each. */
  const ml_shadow_entry_t *e = ml_shadow.entries;
  for (; d && n < max; d--)
    if (d == 1 || e[d - 1].site != e[d - 2].site || e[d - 1].frame != e[d - 2].frame)
      buf[n++] = e[d - 1].site;
  /* The outermost call from memledger's thread trampoline (res_rec.h):
   * the frame it stands for is glibc's start_thread. */
  if (n && ml_res_thread_caller && buf[n - 1] - ml_unwind_own_lo < ml_unwind_own_hi - ml_unwind_own_lo)
    buf[n - 1] = ml_res_thread_caller;
  return n;
}

uint32_t ml_shadow_stack_id(struct ml_stacks_s *stacks, uintptr_t ra, uintptr_t anchor,
                            unsigned max, unsigned skip, bool *empty) {
  uint32_t d = ml_shadow.depth;
  if (ml_likely(ml_shadow.entries != NULL)) {
    if (d > ML_SHADOW_CAP) d = ML_SHADOW_CAP;
    if (anchor) d = ml_shadow_resync(d, anchor);
  }
  ml_shadow_idcache_t *slot = NULL;
  uint64_t gen = 0;
  if (ml_likely(ml_shadow.entries != NULL && d)) {
    gen = ml_shadow.entries[d - 1].gen;
    slot = &ml_shadow_idcache()[(ra ^ gen) & (ML_SHADOW_IDCACHE - 1)];
    if (slot->gen == gen && slot->ra == ra && slot->depth == d) return slot->id;
  }
  uintptr_t buf[ML_UNWIND_BUF_FRAMES];
  unsigned n = ml_shadow_capture(buf, max + skip, ra, anchor);
  unsigned k = n > skip ? skip : n;
  if (n == k) *empty = true;
  uint32_t id = ml_stacks_intern(stacks, buf + k, n - k);
  if (slot && id) {
    slot->gen = gen;
    slot->ra = ra;
    slot->depth = d;
    slot->id = id;
  }
  return id;
}

/* glibc exports no-op hooks of the same names, and a wrapped library's
 * dependencies come after libc in the lookup order: the link-time flags
 * (memledger-wrap.pc) add --wrap for the hooks, which binds the library's
 * calls to these names, defined only here.  Preloading needs no such step
 * (a preloaded object comes before libc). */
extern __typeof__(__cyg_profile_func_enter) __wrap___cyg_profile_func_enter
    __attribute__((alias("__cyg_profile_func_enter"), visibility("default")));
extern __typeof__(__cyg_profile_func_exit) __wrap___cyg_profile_func_exit
    __attribute__((alias("__cyg_profile_func_exit"), visibility("default")));

/* SPDX-License-Identifier: MIT */
/*
 * shadow.h - per-thread shadow stacks fed by -finstrument-functions
 * (layer: core).
 *
 * Code compiled with -finstrument-functions calls __cyg_profile_func_enter
 * and __cyg_profile_func_exit around every function; each thread keeps the
 * call sites of the functions it is in, so that a tracked allocation copies
 * the top of that array instead of unwinding.  An entry also records the
 * frame address of the enter hook, which orders entries by stack depth:
 * after a longjmp or an exception skipped some exit hooks, the next enter
 * or capture drops the entries that lie below the current frame, so the
 * stack resynchronises by itself.  An exit pops down to its own entry,
 * found by call site (at -O2 the exit hook may be a tail call made from
 * the caller's frame level, so its frame address says little).  At the same frame address, an
 * inlined function repeats its container's call site (kept, and shown once)
 * while a sibling whose exit was skipped has another (dropped).  Frames on another stack (a signal
 * handler on sigaltstack) are far away and never compared.
 *
 * Thread-local state is a few words of initial-exec TLS (so that a
 * dlopen'ed library linked with the link-time flavour still fits in the
 * loader's static TLS reserve); the array itself (ML_SHADOW_CAP entries) is
 * mmap'd on a thread's first call and recycled when the thread exits.
 * Deeper calls than the capacity are counted, never stored: the stack then
 * keeps its outermost ML_SHADOW_CAP frames.  The hooks take no lock, make no
 * system call after the first one per thread, and never call malloc.  This
 * file and everything it calls are never instrumented.
 */
#ifndef ML_SHADOW_H
#define ML_SHADOW_H

#include "internal.h"
#include <stdatomic.h>

#define ML_SHADOW_CAP 1024
/* Two frame addresses further apart than this are on different stacks. */
#define ML_SHADOW_SAME_STACK ((uintptr_t)64 << 20)

typedef struct ml_shadow_entry_s {
  uintptr_t site;  // return address into the caller of the instrumented function
  uintptr_t frame; // frame address of the enter hook: orders entries by depth
  uint64_t gen;    // this thread's push count when it was pushed
} ml_shadow_entry_t;

/* Stack ids of recent captures.  Entries below the top cannot change while
 * the top entry stays, so (depth, top entry's gen, return address) names
 * the whole captured stack exactly; a hit skips copy, hash and compare. */
#define ML_SHADOW_IDCACHE 8
typedef struct ml_shadow_idcache_s {
  uint64_t gen;
  uintptr_t ra;
  uint32_t depth;
  uint32_t id;
} ml_shadow_idcache_t;

typedef struct ml_shadow_s {
  ml_shadow_entry_t *entries; // ML_SHADOW_CAP entries and the id cache (same
                              // mapping); NULL before the first call
  uint32_t depth;             // logical depth; entries beyond the capacity are not stored
  uint32_t disabled;          // the array could not be mapped: only count depth
  uint64_t gen;               // pushes so far on this thread
} ml_shadow_t;

extern ML_TLS ml_shadow_t ml_shadow ML_HIDDEN;
extern _Atomic uint64_t ml_shadow_overflows ML_HIDDEN; /* pushes beyond capacity */

/* Does the calling thread have a shadow stack (is it inside instrumented
 * code right now)? */
ML_INLINE bool ml_shadow_active(void) { return ml_shadow.depth != 0; }

/* Copy the current thread's shadow stack into buf, innermost first, after
 * `ra` (the allocation call's own return address; 0 for none), skipping
 * entries below `anchor` (a frame address at the allocating function's
 * callee level; stale entries left by a longjmp lie below it).  Returns the
 * number of frames, at most max. */
unsigned ml_shadow_capture(uintptr_t *buf, unsigned max, uintptr_t ra,
                           uintptr_t anchor) ML_HIDDEN;

struct ml_stacks_s;
/* The interned id of the current shadow stack (as ml_shadow_capture would
 * give it, after `skip` frames, at most `max`), through the per-thread id
 * cache; 0 when the stack table is full.  Counts an empty capture in
 * *empty. */
uint32_t ml_shadow_stack_id(struct ml_stacks_s *stacks, uintptr_t ra, uintptr_t anchor,
                            unsigned max, unsigned skip, bool *empty) ML_HIDDEN;

/* The hooks, exported, also as __wrap___cyg_profile_func_* (see shadow.c). */
void __cyg_profile_func_enter(void *fn, void *site) ML_EXPORT ML_NO_INSTRUMENT;
void __cyg_profile_func_exit(void *fn, void *site) ML_EXPORT ML_NO_INSTRUMENT;
void __wrap___cyg_profile_func_enter(void *fn, void *site) ML_EXPORT ML_NO_INSTRUMENT;
void __wrap___cyg_profile_func_exit(void *fn, void *site) ML_EXPORT ML_NO_INSTRUMENT;

#endif /* ML_SHADOW_H */

/* SPDX-License-Identifier: MIT */
/*
 * capture.h - the one door to stack capture (layer: core): the recorder
 * asks for the id of the current stack; this module picks the method
 * (MEMLEDGER_UNWIND, unwind_modes.h) and interns the result.
 *
 * The default (eh) is cached per thread and validated by content: a walk
 * notes every stack word its result depends on (the return-address slots,
 * the saved %rbp values that located a CFA: ehframe.h), and the next
 * capture from the same stack pointer whose noted words all still hold
 * their values returns the same stack id without walking or hashing.  The
 * check is exact, not a heuristic: the walk is a function of its starting
 * registers, the unwind rules of the listed objects (the list is part of
 * the key) and those words.  A thread keeps ML_CAPTURE_WAYS such walks in a
 * block mapped at its first tracked allocation; blocks are reused by the
 * next thread on the same stack (the stack's top identifies it: two live
 * threads never share one), never unmapped, and the thread-local state is
 * one pointer, so a library linked with the link-time flavour still fits
 * in the loader's static TLS reserve.  No key, no destructor, no lock (a
 * fork at any instant leaves the registry usable); the first capture on a
 * thread may map one block.  Never allocates through malloc; errno preserved.
 * Not for signal handlers (the recorder's guard keeps a handler that
 * allocates from re-entering a capture on its thread).
 */
#ifndef ML_CAPTURE_H
#define ML_CAPTURE_H

#include "core.h"
#include "shadow.h"

/* Walks remembered per thread, and stack words noted per walk (a walk that
 * depends on more is not cached).  16 ways: python with every object
 * tracked misses 45% of its captures with 8 (7.33G instructions against
 * jemalloc's 2.48G), few with 16 (4.74G), no fewer with 32 (4.79G: longer
 * searches); a hit tries the way of the last hit first. */
#define ML_CAPTURE_WAYS 16
#define ML_CAPTURE_WORDS 112

/* The stack id of the eh walk from the recorder (cached); ra as in
 * ml_unwind_capture. */
uint32_t ml_capture_eh(uintptr_t ra) ML_HIDDEN;

/* Cache statistics summed over every thread's block (racy reads of other
 * threads' counters: for benchmarks and the exit log). */
typedef struct ml_capture_stats_s {
  uint64_t hits, misses, uncacheable;
} ml_capture_stats_t;
void ml_capture_stats(ml_capture_stats_t *out) ML_HIDDEN;

/* This thread is ending: its block of cached walks goes to the next thread
 * that needs one (treg.h); its captures walk uncached from now on.
 * pre: not on an allocation path. */
void ml_capture_thread_release(void) ML_HIDDEN;

/* The stack id of a walk by mode (FP or LIBUNWIND; eh where those cannot
 * walk), uncached. */
uint32_t ml_capture_walk(ml_unwind_mode_t mode, uintptr_t ra) ML_HIDDEN;

/* The id of the current stack by the configured method.  ra: the
 * allocation call's return address (0 if unknown; own frames are then
 * recognised by address); anchor: the allocating function's frame address
 * (shadow stacks).  Small enough to inline into the recorder: every walk
 * is out of line and drops the tracker's frames by ra. */
ML_INLINE uint32_t ml_capture_stack_id(uintptr_t ra, uintptr_t anchor) {
  ml_unwind_mode_t mode = ml_core.unwind;
  /* auto: the shadow stack when this thread is in instrumented code and not
   * deeper than the array holds (the innermost frames would be missing). */
  if (ml_likely(mode == ML_UNWIND_AUTO || mode == ML_UNWIND_EH)) {
    if (mode == ML_UNWIND_EH || !ml_shadow_active() || ml_shadow.depth > ML_SHADOW_CAP)
      return ml_capture_eh(ra);
  } else if (mode == ML_UNWIND_NONE) {
    /* Every block shares the empty stack, interned once. */
    if (ml_unlikely(!ml_core.empty_stack))
      ml_core.empty_stack = ml_stacks_intern(&ml_core.stacks, NULL, 0);
    return ml_core.empty_stack;
  } else if (mode != ML_UNWIND_SHADOW) {
    return ml_capture_walk(mode, ra);
  }
  bool empty = false;
  uint32_t id = ml_shadow_stack_id(&ml_core.stacks, ra, anchor, ml_core.max_frames,
                                   ml_core.skip_frames, &empty);
  if (ml_unlikely(empty))
    atomic_fetch_add_explicit(&ml_core.unwind_failures, 1, memory_order_relaxed);
  return id;
}

#endif /* ML_CAPTURE_H */

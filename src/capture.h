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
 * depends on more is not cached).  16 ways, then 64: python with every
 * object tracked misses 45% of its captures with 8 (7.33G instructions
 * against jemalloc's 2.48G), few with 16 (4.74G); cfrac (mimalloc-bench),
 * whose recursion brings many paths to its allocations, missed 59% of them
 * with 16 and 0.04% with 64 (bench/README.md, "Capture caches of 64
 * ways").  A thread's block has 16 ways (24 KiB: a small program's address
 * space under a limit, tests/hardening/ulimit.sh) until one capture in 8
 * walks a stack seen before (weighed every 64 such walks), then 64 (96
 * KiB).  A hit tries the way of the last hit first, then the way that
 * followed it last time, then the ways whose tag (ml_cap_block_t) is its
 * key's; ml_cap_search compares the tags 16 at a time. */
#define ML_CAPTURE_WAYS 64       /* the most */
#define ML_CAPTURE_WAYS_FIRST 16 /* a thread's first block */
#define ML_CAPTURE_WORDS 112

/* The stack id of the eh walk from here (cached); ra as in
 * ml_unwind_capture.  ml_capture_eh_here out of line (the recorder inlines
 * that). */
uint32_t ml_capture_eh(uintptr_t ra) ML_HIDDEN;

/* Cache statistics summed over every thread's block (racy reads of other
 * threads' counters: for benchmarks and the exit log). */
typedef struct ml_capture_stats_s {
  uint64_t hits, misses, uncacheable;
} ml_capture_stats_t;
void ml_capture_stats(ml_capture_stats_t *out) ML_HIDDEN;

/* Bytes mapped for the blocks of cached walks (every thread's, and those
 * kept for the next thread on a stack; racy reads, as the statistics). */
size_t ml_capture_metadata_bytes(void) ML_HIDDEN;

/* This thread is ending: its block of cached walks goes to the next thread
 * that needs one (treg.h); its captures walk uncached from now on.
 * pre: not on an allocation path. */
void ml_capture_thread_release(void) ML_HIDDEN;

/* This thread gives its block back and gets a new one of the first size
 * on its next capture miss (tests).  pre: not on an allocation path. */
void ml_capture_thread_renew(void) ML_HIDDEN;

#if defined(__x86_64__) && defined(__linux__)
#include <emmintrin.h> /* SSE2: part of x86-64 itself */

/* One remembered walk: its key (starting sp, and fp when the walk used it;
 * the allocation call's return address only narrows the key; the object
 * list and the frame limits are the block's) and the words it depends on, by offset from
 * sp: nsingles words at off[j] with values val[j], from the arrays' start;
 * npairs pairs of adjacent words (a frame-pointer frame's saved %rbp and
 * its return address sit side by side: one 16-byte compare checks both)
 * from their end, pair i at off[ML_CAP_POFF(i)] with values
 * val[ML_CAP_PVAL(i)] and the next, so that every compare's place in the
 * entry is a constant (the hit's unrolled compares then address them from
 * the entry alone).  nsingles is a multiple of 4 and npairs even (the last
 * one repeated: a repeat compares equal when the original does), so the
 * compare loops have no remainder and the values are 16-byte aligned.  The
 * walk's log is written straight into off[] and val[] and packed there
 * (singles first: in place). */
#define ML_CAP_SLOTS (ML_CAPTURE_WORDS + 8)
#define ML_CAP_POFF(i) (ML_CAP_SLOTS - 1 - (i))
#define ML_CAP_PVAL(i) (ML_CAP_SLOTS - 2 - 2 * (i))
typedef struct ml_cap_entry_s {
  uintptr_t sp; // 0: no walk here
  uintptr_t fp, ra;
  uint32_t id;       // the interned stack
  uint16_t npairs;   // 16-byte compares
  uint16_t nsingles; // 8-byte compares
  uint8_t fp0;       // the walk used the starting %rbp
  uint8_t succ;      // the way hit after this one last time (ml_cap_search)
  int32_t off[ML_CAP_SLOTS];
  uintptr_t val[ML_CAP_SLOTS] __attribute__((aligned(16)));
} ml_cap_entry_t;

typedef struct ml_cap_block_s {
  uintptr_t top;                        // the stack's top (registry key)
  size_t bytes;                         // the block's size (treg.h)
  uint64_t hits, misses, uncacheable;   // written by the owning thread only
  uint64_t rewalks;                     // misses whose stack was interned already
  uint64_t mark_rewalks, mark_all;      // rewalks, and hits + misses, when last weighed
  unsigned ways;                        // 16 or 64 (ml_cap_block_bytes)
  unsigned last;                        // the way of the last hit
  ml_cap_entry_t *hot;                  // and its entry
  unsigned next;                        // the way the next miss replaces
  const void *list;                     // the object list every way was walked with
  uint64_t limits;                      // and the frames kept and skipped
                                        // (ml_core.frame_limits)
  uint8_t tag[ML_CAPTURE_WAYS]          // per way: ml_cap_tag of its key, 0 when
      __attribute__((aligned(16)));     // empty (ml_cap_search's first filter)
  ml_cap_entry_t e[];                   // ways of them
} ml_cap_block_t;

/* This thread's block of cached walks (NULL until its first miss). */
extern ML_TLS ml_cap_block_t *ml_cap_mine ML_HIDDEN;

/* The stack id of the eh walk from (pc, sp, fp), registers read together
 * in the caller's frame, which stays live until this returns; ra as in
 * ml_unwind_capture.  A hit returns the remembered walk's id; a miss walks
 * and remembers the walk.  Out of line: the lookup, the compare of the
 * noted words and the miss are one call from the recorder, whose
 * registers stay out of it (with the lookup inlined into the recorder and
 * the compare out of line, the recorder saved and restored 7 registers
 * around the compare's call). */
uint32_t ml_capture_eh_at(uintptr_t ra, uintptr_t pc, uintptr_t sp, uintptr_t fp) ML_HIDDEN;

#ifdef ML_TESTING
/* Do e's noted words all still hold their values (sp: the capture's)?
 * The two compares ml_capture_eh_at and its search make, out of line:
 * the one that leaves at the first change (the ways that mostly differ)
 * and the branch-free one (the way of the last hit, and the way that
 * followed it).  Async-signal-safe; read the stack only. */
bool ml_cap_words_same(const ml_cap_entry_t *e, uintptr_t sp) ML_HIDDEN;
bool ml_cap_words_same_all(const ml_cap_entry_t *e, uintptr_t sp) ML_HIDDEN;
#endif

/* The capture from the recorder's frame: pc, sp and fp come from one
 * instruction point, so the walk's rule at pc matches them whatever the
 * compiler put before it. */
ML_INLINE uint32_t ml_capture_eh_here(uintptr_t ra) {
  uintptr_t pc, sp, fp;
  __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                   : "=r"(pc), "=r"(sp), "=r"(fp));
  uint32_t id = ml_capture_eh_at(ra, pc, sp, fp);
  __asm__ volatile("" ::: "memory"); /* a walk read this frame's words */
  return id;
}

#else
#define ml_capture_eh_here ml_capture_eh
#endif

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
      return ml_capture_eh_here(ra);
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

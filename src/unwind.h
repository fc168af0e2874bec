/* SPDX-License-Identifier: MIT */
/*
 * unwind.h - call-stack capture backends (layer: core).
 *
 *   libunwind  nongnu libunwind's unw_backtrace (UNW_LOCAL_ONLY): correct on
 *              any binary with unwind tables; ~100+ ns for 15-20 frames.
 *              It does not call malloc on this path (it keeps its caches in
 *              its own mmap'd pools), so it is safe inside malloc.
 *   fp         walks the frame-pointer chain; ~10 ns, but only correct for
 *              code built with -fno-omit-frame-pointer.  Every step is
 *              bounds-checked against the current thread's stack, so a
 *              garbage frame pointer ends the walk instead of faulting.
 *   none       no stack (all blocks share one empty stack).
 *   shadow     (shadow.h) the call sites kept by -finstrument-functions.
 * The tracker's own frames are dropped from the top of the stack: every
 * frame above the allocation call's return address when the front passes
 * it (robust wherever our code is linked), else every frame inside this
 * library's text range; then skip_frames more.  Never
 * allocates itself (the fp backend may call pthread_getattr_np once per
 * thread, under the caller's recursion guard).  errno is preserved.  Not
 * for signal handlers.
 */
#ifndef ML_UNWIND_H
#define ML_UNWIND_H

#include "internal.h"

typedef enum ml_unwind_mode_e {
  ML_UNWIND_AUTO = 0,  // shadow stack when the thread has one, else libunwind
  ML_UNWIND_LIBUNWIND, // indexes match the MEMLEDGER_UNWIND enum values
  ML_UNWIND_FP,
  ML_UNWIND_NONE,
  ML_UNWIND_SHADOW,    // the -finstrument-functions shadow stack (shadow.h)
} ml_unwind_mode_t;

#define ML_UNWIND_MAX_FRAMES 128
/* Size of a capture buffer: the frames kept plus room for our own frames
 * and skipped ones, which are dropped from its top. */
#define ML_UNWIND_BUF_FRAMES (ML_UNWIND_MAX_FRAMES + 24)

/* Set the code range whose frames are dropped from the top of every stack
 * (this library's executable segment). */
void ml_unwind_set_own_range(uintptr_t lo, uintptr_t hi) ML_HIDDEN;

/* The backends, without own-frame filtering (tests and benchmarks). */
unsigned ml_unwind_libunwind(uintptr_t *frames, unsigned max) ML_HIDDEN;
unsigned ml_unwind_fp(uintptr_t *frames, unsigned max) ML_HIDDEN;
/* The frame-pointer walk from frame fp (a __builtin_frame_address(0)). */
unsigned ml_unwind_fp_from(uintptr_t fp, uintptr_t *frames, unsigned max) ML_HIDDEN;

extern uintptr_t ml_unwind_own_lo, ml_unwind_own_hi ML_HIDDEN;

/* Capture the stack of the function this is inlined into into buf
 * (ML_UNWIND_BUF_FRAMES entries), drop own frames and `skip` more from its
 * top, and point *frames at the first frame kept, innermost first.  ra is
 * the allocation call's return address (0: unknown; own frames are then
 * found by address range).  Returns the number kept, at most max
 * (<= ML_UNWIND_MAX_FRAMES); 0 on failure.  Inline, so that the walk starts
 * in the recorder's frame rather than a few calls deeper: every frame of
 * ours costs a step and a skip.  pre: mode is LIBUNWIND, FP or NONE. */
ML_INLINE unsigned ml_unwind_capture(ml_unwind_mode_t mode, uintptr_t *buf,
                                     const uintptr_t **frames, unsigned max,
                                     unsigned skip, uintptr_t ra) {
  /* Room for our own frames (a few) on top of what is kept. */
  unsigned want = max + skip + 8;
  if (want > ML_UNWIND_BUF_FRAMES) want = ML_UNWIND_BUF_FRAMES;
  unsigned n;
  *frames = buf;
  if (mode == ML_UNWIND_NONE) return 0;
  if (mode == ML_UNWIND_FP)
    n = ml_unwind_fp_from((uintptr_t)__builtin_frame_address(0), buf, want);
  else
    n = ml_unwind_libunwind(buf, want);
  unsigned i = 0;
  if (ra) {
    while (i < n && i < 16 && buf[i] != ra) i++;
    if (i == n || i == 16) i = 0; /* not among the first frames: by range */
    else goto found;
  }
  uintptr_t lo = ml_unwind_own_lo, span = ml_unwind_own_hi - lo;
  while (i < n && buf[i] - lo < span) i++;
found:
  i += skip;
  *frames = buf + i;
  if (i >= n) return 0;
  return n - i < max ? n - i : max;
}

/* Forget the per-thread stack bounds (the child after fork keeps its
 * parent's thread stack, so this is only for tests). */
void ml_unwind_thread_reset(void) ML_HIDDEN;

#endif /* ML_UNWIND_H */

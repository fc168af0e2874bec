/* SPDX-License-Identifier: MIT */
/*
 * unwind.h - call-stack capture backends (layer: core).  The modes are
 * listed once, in unwind_modes.h:
 *   eh         memledger's own .eh_frame unwinder (ehframe.h): correct on
 *              any binary with unwind tables, frame pointers or not; takes
 *              no lock, never calls the loader, opens nothing; a cached
 *              frame costs a cache probe and two loads.  The default
 *              (auto, where the thread has no shadow stack).  x86_64
 *              Linux; elsewhere captures walk frame pointers instead.
 *   libunwind  nongnu libunwind's unw_backtrace, the reference.  Loaded
 *              privately (dlopen RTLD_LOCAL at init, only when selected,
 *              so its _Unwind_* never bind in the program); until then
 *              captures use eh.  It calls dl_iterate_phdr (the loader's
 *              lock) on every walk and opens a pipe at its first use.
 *   fp         walks the frame-pointer chain; ~10 ns, but only correct for
 *              code built with -fno-omit-frame-pointer.
 *   none       no stack (all blocks share one empty stack).
 *   shadow     (shadow.h) the call sites kept by -finstrument-functions.
 * Every walk reads only stack slots inside the current thread's stack
 * (overflow-safe comparisons), so no register value makes it fault.
 * The tracker's own frames are dropped from the top of the stack: every
 * frame above the allocation call's return address when the front passes
 * it (robust wherever our code is linked), else every frame inside this
 * library's text range; then skip_frames more.  Never allocates itself
 * (the first walk on a thread may call pthread_getattr_np, under the
 * caller's recursion guard; ml_unwind_init_process and
 * ml_unwind_modules_changed allocate through the loader, never on an
 * allocation path).  errno is preserved.  Not for signal handlers.
 */
#ifndef ML_UNWIND_H
#define ML_UNWIND_H

#include "ehframe.h"
#include "internal.h"
#include "unwind_modes.h"

#define ML_UNWIND_MODE_ENUM_(id, name) ML_UNWIND_##id,
typedef enum ml_unwind_mode_e {
  ML_UNWIND_MODES(ML_UNWIND_MODE_ENUM_, ) // indexes = MEMLEDGER_UNWIND's values
  ML_UNWIND_MODE_COUNT
} ml_unwind_mode_t;

/* The mode's name as MEMLEDGER_UNWIND spells it ("?" when out of range). */
const char *ml_unwind_mode_name(ml_unwind_mode_t mode) ML_HIDDEN;

#define ML_UNWIND_MAX_FRAMES 128
/* Size of a capture buffer: the frames kept plus room for our own frames
 * and skipped ones, which are dropped from its top. */
#define ML_UNWIND_BUF_FRAMES (ML_UNWIND_MAX_FRAMES + 24)

/* Set the code range whose frames are dropped from the top of every stack
 * (this library's executable segment). */
void ml_unwind_set_own_range(uintptr_t lo, uintptr_t hi) ML_HIDDEN;

/* Process start (the constructor, where the loader may be called): list
 * the loaded objects for the eh walk and, when mode is LIBUNWIND (or
 * MEMLEDGER_UNWIND_CHECK is set), load libunwind privately. */
void ml_unwind_init_process(ml_unwind_mode_t mode) ML_HIDDEN;

/* The first initialisation (the first allocation, maybe before any
 * constructor: libstdc++'s allocates its emergency pool in its own): list
 * the loaded objects now if the process still has one thread, so that no
 * other thread can hold the loader's lock (the caller's own hold of it is
 * recursive).  Otherwise the list waits for ml_unwind_init_process. */
void ml_unwind_init_early(void) ML_HIDDEN;

/* A dlopen or dlclose has returned: refresh the object list of the eh
 * walk.  pre: not on an allocation path. */
void ml_unwind_modules_changed(void) ML_HIDDEN;

/* dlopen("libunwind.so.8", RTLD_LOCAL | RTLD_NOW) and dlsym unw_backtrace,
 * once.  Returns true when it is available.  pre: init time (tests and
 * benchmarks call it from their setup). */
bool ml_unwind_load_libunwind(void) ML_HIDDEN;

/* libunwind's unw_backtrace once loaded, else NULL. */
extern int (*ml_unwind_unw_backtrace)(void **frames, int max) ML_HIDDEN;

/* MEMLEDGER_UNWIND_CHECK: every n-th eh capture is compared with a fresh
 * libunwind walk (0 = off); the counts are printed at exit. */
extern unsigned ml_unwind_check_period ML_HIDDEN;
/* This capture is the n-th: compare it (and libunwind is loaded). */
bool ml_unwind_check_due(void) ML_HIDDEN;
/* Compare frames[0..n), an eh walk from the caller's frame for want
 * frames, with libunwind's walk from here; count the result. */
void ml_unwind_check(const uintptr_t *frames, unsigned n, unsigned want) ML_HIDDEN;
/* Count a cached stack compared with a fresh walk (same: they agreed). */
void ml_unwind_check_cached(bool same) ML_HIDDEN;

/* This thread's stack bounds [*lo, *hi) (learnt on the first call; *hi <=
 * 1 when unknown). */
void ml_unwind_stack_bounds(uintptr_t *lo, uintptr_t *hi) ML_HIDDEN;

/* The backends, without own-frame filtering (tests and benchmarks).
 * ml_unwind_libunwind returns 0 frames until libunwind is loaded. */
unsigned ml_unwind_libunwind(uintptr_t *frames, unsigned max) ML_HIDDEN;
unsigned ml_unwind_fp(uintptr_t *frames, unsigned max) ML_HIDDEN;
/* The frame-pointer walk from frame fp (a __builtin_frame_address(0)). */
unsigned ml_unwind_fp_from(uintptr_t fp, uintptr_t *frames, unsigned max) ML_HIDDEN;

extern uintptr_t ml_unwind_own_lo, ml_unwind_own_hi ML_HIDDEN;

/* The frames of a walk buf[0..n) (innermost first, from inside the
 * tracker) that belong to the program: drop own frames and `skip` more from
 * the top, point *frames at the first kept, return how many are kept (at
 * most max).  ra: the allocation call's return address, or 0 (own frames
 * are then found by address range). */
ML_INLINE unsigned ml_unwind_keep(const uintptr_t *buf, unsigned n, const uintptr_t **frames,
                                  unsigned max, unsigned skip, uintptr_t ra) {
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

/* How many frames a capture walks: the frames kept plus room for our own
 * frames (a few) and the skipped ones. */
ML_INLINE unsigned ml_unwind_want(unsigned max, unsigned skip) {
  unsigned want = max + skip + 8;
  return want > ML_UNWIND_BUF_FRAMES ? ML_UNWIND_BUF_FRAMES : want;
}

/* Capture the stack of the function this is inlined into into buf
 * (ML_UNWIND_BUF_FRAMES entries), drop own frames and `skip` more from its
 * top, and point *frames at the first frame kept, innermost first.  ra is
 * the allocation call's return address (0: unknown; own frames are then
 * found by address range).  Returns the number kept, at most max
 * (<= ML_UNWIND_MAX_FRAMES); 0 on failure.  Inline, so that the walk starts
 * in the recorder's frame rather than a few calls deeper: every frame of
 * ours costs a step and a skip.  mode: FP, LIBUNWIND or NONE; any other
 * mode walks with eh. */
ML_INLINE unsigned ml_unwind_capture(ml_unwind_mode_t mode, uintptr_t *buf,
                                     const uintptr_t **frames, unsigned max,
                                     unsigned skip, uintptr_t ra) {
  unsigned want = ml_unwind_want(max, skip);
  unsigned n;
  *frames = buf;
  if (mode == ML_UNWIND_NONE) return 0;
  if (mode == ML_UNWIND_FP) {
    n = ml_unwind_fp_from((uintptr_t)__builtin_frame_address(0), buf, want);
  } else if (mode == ML_UNWIND_LIBUNWIND && ml_unwind_unw_backtrace) {
    n = ml_unwind_libunwind(buf, want);
  } else { /* eh; also libunwind until it is loaded */
#if defined(__x86_64__) && defined(__linux__)
    uintptr_t pc, sp, fp;
    /* This frame's registers, read together: the rule at pc matches them. */
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(pc), "=r"(sp), "=r"(fp));
    n = ml_eh_walk(pc, sp, fp, buf, want);
    if (ml_unlikely(ml_unwind_check_period) && ml_unwind_check_due()) ml_unwind_check(buf, n, want);
#else
    /* No eh walk on this architecture yet: frame pointers. */
    n = ml_unwind_fp_from((uintptr_t)__builtin_frame_address(0), buf, want);
#endif
  }
  return ml_unwind_keep(buf, n, frames, max, skip, ra);
}

/* Forget the per-thread stack bounds (the child after fork keeps its
 * parent's thread stack, so this is only for tests). */
void ml_unwind_thread_reset(void) ML_HIDDEN;

#endif /* ML_UNWIND_H */

/* SPDX-License-Identifier: MIT */
/*
 * unwind.c - stack capture: libunwind, frame pointers, none (layer: core).
 * See unwind.h for the trade-offs.  Own frames are recognised by address
 * (this library's text range, set at init), which is robust to inlining.
 */
#define UNW_LOCAL_ONLY
#include "unwind.h"
#include "prim.h"
#include <errno.h>
#include <libunwind.h>
#include <pthread.h>
#include <sys/resource.h>

extern void *__libc_stack_end; /* ld.so: top of the main thread's stack */

uintptr_t ml_unwind_own_lo, ml_unwind_own_hi;

/* Per-thread stack bounds for the frame-pointer walk; 0 = not known yet. */
static ML_TLS uintptr_t ml_stack_lo, ml_stack_hi;

void ml_unwind_set_own_range(uintptr_t lo, uintptr_t hi) {
  ml_unwind_own_lo = lo;
  ml_unwind_own_hi = hi;
}

void ml_unwind_thread_reset(void) { ml_stack_lo = ml_stack_hi = 0; }

ML_NOINLINE unsigned ml_unwind_libunwind(uintptr_t *frames, unsigned max) {
  int saved = errno; /* libunwind may probe memory with failing syscalls */
  int n = unw_backtrace((void **)frames, (int)max);
  errno = saved;
  return n > 0 ? (unsigned)n : 0;
}

/* Learn this thread's stack bounds once.  The main thread's top is
 * __libc_stack_end (pthread_getattr_np would read /proc/self/maps through
 * stdio for it); other threads ask pthread_getattr_np, whose small
 * allocation goes straight to the backend under the caller's guard. */
static void ml_stack_bounds(uintptr_t sp) {
  (void)sp;
  if (ml_prim_gettid() == ml_prim_getpid()) {
    /* The main stack can grow down to its rlimit below its top. */
    struct rlimit rl;
    uintptr_t hi = (uintptr_t)__libc_stack_end, size = 8u << 20;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
      size = (uintptr_t)rl.rlim_cur;
    else if (rl.rlim_cur == RLIM_INFINITY)
      size = (uintptr_t)1 << 30;
    ml_stack_lo = hi > size ? hi - size : 0;
    ml_stack_hi = hi;
    return;
  }
  pthread_attr_t attr;
  void *addr;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      ml_stack_lo = (uintptr_t)addr;
      ml_stack_hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&attr);
  }
  if (!ml_stack_hi) ml_stack_hi = 1; /* unknown: walk nothing, do not retry */
}

ML_NOINLINE unsigned ml_unwind_fp(uintptr_t *frames, unsigned max) {
  return ml_unwind_fp_from((uintptr_t)__builtin_frame_address(0), frames, max);
}

unsigned ml_unwind_fp_from(uintptr_t fp, uintptr_t *frames, unsigned max) {
  if (ml_unlikely(!ml_stack_hi)) ml_stack_bounds(fp);
  uintptr_t lo = fp, hi = ml_stack_hi;
  /* On an alternate signal stack the thread's bounds do not apply. */
  if (fp < ml_stack_lo || fp >= hi) return 0;
  unsigned n = 0;
  while (n < max) {
    if (fp < lo || fp + 2 * sizeof(uintptr_t) > hi || (fp & (sizeof(uintptr_t) - 1)))
      break;
    uintptr_t next = ((uintptr_t *)fp)[0];
    uintptr_t ret = ((uintptr_t *)fp)[1];
    if (!ret) break;
    frames[n++] = ret;
    if (next <= fp) break; /* frames must move towards the stack's top */
    lo = fp + 2 * sizeof(uintptr_t);
    fp = next;
  }
  return n;
}

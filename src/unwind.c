/* SPDX-License-Identifier: MIT */
/*
 * unwind.c - stack capture: mode names, eh (ehframe.c) set-up, libunwind
 * loaded privately, frame pointers, the per-thread stack bounds every walk
 * checks against, and the MEMLEDGER_UNWIND_CHECK comparison (layer: core).
 * See unwind.h for the trade-offs.  Own frames are recognised by address
 * (this library's text range, set at init), which is robust to inlining.
 * dlopen/dlsym/dl_iterate_phdr run only at init and from the dlopen/dlclose
 * hooks, never on an allocation path.  Never allocates (the stack bounds of
 * a new thread come from pthread_getattr_np, once, under the caller's
 * guard).
 */
#include "unwind.h"
#include "log.h"
#include "options.h"
#include "prim.h"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#ifdef __GLIBC__
#include <sys/single_threaded.h>
#endif

extern void *__libc_stack_end; /* ld.so: top of the main thread's stack */

uintptr_t ml_unwind_own_lo, ml_unwind_own_hi;

/* Per-thread stack bounds for the frame-pointer walk; 0 = not known yet. */
static ML_TLS uintptr_t ml_stack_lo, ml_stack_hi;

void ml_unwind_set_own_range(uintptr_t lo, uintptr_t hi) {
  ml_unwind_own_lo = lo;
  ml_unwind_own_hi = hi;
}

void ml_unwind_thread_reset(void) { ml_stack_lo = ml_stack_hi = 0; }

#define ML_UNWIND_MODE_NAME_ENTRY_(id, name) [ML_UNWIND_##id] = name,
static const char *const ml_unwind_mode_names[] = {ML_UNWIND_MODES(ML_UNWIND_MODE_NAME_ENTRY_, )};

const char *ml_unwind_mode_name(ml_unwind_mode_t mode) {
  return (unsigned)mode < ML_ARRAY_SIZE(ml_unwind_mode_names) ? ml_unwind_mode_names[mode] : "?";
}

/* ---- libunwind, private ------------------------------------------------------ */

int (*ml_unwind_unw_backtrace)(void **frames, int max);

bool ml_unwind_load_libunwind(void) {
  static bool tried;
  if (tried) return ml_unwind_unw_backtrace != NULL;
  tried = true;
  int saved = errno;
  /* RTLD_LOCAL: its _Unwind_* stay out of the global scope, so a program
   * that later loads C++ code binds libgcc_s's.  Deliberately never closed. */
  void *h = dlopen("libunwind.so.8", RTLD_LOCAL | RTLD_NOW);
  if (h) *(void **)&ml_unwind_unw_backtrace = dlsym(h, "unw_backtrace");
  ml_eh_refresh(); /* the objects it brought in */
  errno = saved;
  return ml_unwind_unw_backtrace != NULL;
}

ML_NOINLINE unsigned ml_unwind_libunwind(uintptr_t *frames, unsigned max) {
  int (*bt)(void **, int) = ml_unwind_unw_backtrace;
  if (!bt) return 0;
  int saved = errno; /* libunwind may probe memory with failing syscalls */
  int n = bt((void **)frames, (int)max);
  errno = saved;
  return n > 0 ? (unsigned)n : 0;
}

/* ---- set-up ---------------------------------------------------------------- */

unsigned ml_unwind_check_period;
static _Atomic unsigned long long ml_unwind_check_count, ml_unwind_checked,
    ml_unwind_mismatches, ml_unwind_eh_empty, ml_unwind_check_frames, ml_unwind_cached_checked,
    ml_unwind_cached_differ;

extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

static void ml_unwind_check_report(void *arg) {
  (void)arg;
  ml_log(ML_LOG_INFO,
         "unwind check: %llu stacks compared with libunwind, %llu mismatches (%llu frames "
         "agreed, %llu eh stacks empty); %llu cached stacks compared with a fresh walk, "
         "%llu differed",
         (unsigned long long)atomic_load(&ml_unwind_checked),
         (unsigned long long)atomic_load(&ml_unwind_mismatches),
         (unsigned long long)atomic_load(&ml_unwind_check_frames),
         (unsigned long long)atomic_load(&ml_unwind_eh_empty),
         (unsigned long long)atomic_load(&ml_unwind_cached_checked),
         (unsigned long long)atomic_load(&ml_unwind_cached_differ));
}

void ml_unwind_init_process(ml_unwind_mode_t mode) {
  ml_eh_refresh();
  long long check = ml_option_get(ML_OPT_UNWIND_CHECK);
  if (mode == ML_UNWIND_LIBUNWIND || check > 0) {
    if (!ml_unwind_load_libunwind())
      ml_warning("MEMLEDGER_UNWIND%s: libunwind.so.8 cannot be loaded: using eh",
                 mode == ML_UNWIND_LIBUNWIND ? "=libunwind" : "_CHECK");
    else if (check > 0) {
      ml_unwind_check_period = (unsigned)check;
      __cxa_atexit(ml_unwind_check_report, NULL, NULL);
    }
  }
}

void ml_unwind_init_early(void) {
#ifdef __GLIBC__
  if (__libc_single_threaded) ml_eh_refresh();
#endif
}

void ml_unwind_modules_changed(void) { ml_eh_refresh(); }

/* ---- MEMLEDGER_UNWIND_CHECK ---------------------------------------------------- */

/* frames[0..n) is an eh walk from our caller's frame (want asked for);
 * walk again with libunwind from here and compare, frame for frame, from
 * the eh walk's first frame on. */
bool ml_unwind_check_due(void) {
  unsigned long long k = atomic_fetch_add_explicit(&ml_unwind_check_count, 1, memory_order_relaxed);
  return k % ml_unwind_check_period == 0 && ml_unwind_unw_backtrace;
}

void ml_unwind_check_cached(bool same) {
  atomic_fetch_add_explicit(&ml_unwind_cached_checked, 1, memory_order_relaxed);
  if (!same) atomic_fetch_add_explicit(&ml_unwind_cached_differ, 1, memory_order_relaxed);
}

ML_NOINLINE void ml_unwind_check(const uintptr_t *frames, unsigned n, unsigned want) {
  uintptr_t lu[ML_UNWIND_BUF_FRAMES + 8];
  unsigned cap = want + 4 <= ML_UNWIND_BUF_FRAMES + 8 ? want + 4 : ML_UNWIND_BUF_FRAMES + 8;
  unsigned nl = ml_unwind_libunwind(lu, cap);
  atomic_fetch_add_explicit(&ml_unwind_checked, 1, memory_order_relaxed);
  unsigned j = 0;
  if (n) {
    while (j < nl && j < 8 && lu[j] != frames[0]) j++;
  } else {
    atomic_fetch_add_explicit(&ml_unwind_eh_empty, 1, memory_order_relaxed);
    j = 1; /* ml_unwind_check's own return address */
  }
  unsigned bad = UINT32_MAX;
  if (n && (j == nl || j == 8)) bad = 0;
  for (unsigned i = 0; bad == UINT32_MAX && i < n; i++)
    if (j + i >= nl || lu[j + i] != frames[i]) bad = i;
  /* The eh walk stopped early (libunwind went on, below its own cap). */
  if (bad == UINT32_MAX && n < want && nl > j + n && nl < cap) bad = n;
  if (bad == UINT32_MAX) {
    atomic_fetch_add_explicit(&ml_unwind_check_frames, n, memory_order_relaxed);
    return;
  }
  unsigned long long m = atomic_fetch_add_explicit(&ml_unwind_mismatches, 1, memory_order_relaxed);
  if (m < 8) {
    uintptr_t e = bad < n ? frames[bad] : 0, l = j + bad < nl ? lu[j + bad] : 0;
    ml_warning("unwind check: mismatch at frame %u of %u (libunwind %u): eh %p, libunwind %p", bad,
               n, nl > j ? nl - j : 0, (void *)e, (void *)l);
  }
}

/* ---- frame pointers -------------------------------------------------------- */

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

void ml_unwind_stack_bounds(uintptr_t *lo, uintptr_t *hi) {
  if (ml_unlikely(!ml_stack_hi)) ml_stack_bounds(0);
  *lo = ml_stack_lo;
  *hi = ml_stack_hi;
}

ML_NOINLINE unsigned ml_unwind_fp(uintptr_t *frames, unsigned max) {
  return ml_unwind_fp_from((uintptr_t)__builtin_frame_address(0), frames, max);
}

unsigned ml_unwind_fp_from(uintptr_t fp, uintptr_t *frames, unsigned max) {
  if (ml_unlikely(!ml_stack_hi)) ml_stack_bounds(fp);
  uintptr_t lo = fp, hi = ml_stack_hi;
  /* Unknown bounds, or on an alternate signal stack (the thread's bounds do
   * not apply there): nothing to walk. */
  if (hi < 2 * sizeof(uintptr_t) || fp < ml_stack_lo || fp >= hi) return 0;
  unsigned n = 0;
  while (n < max) {
    /* Written so that no value of fp wraps: fp + 16 > hi would pass for
     * fp = -8 or -16. */
    if (fp < lo || fp > hi - 2 * sizeof(uintptr_t) || (fp & (sizeof(uintptr_t) - 1))) break;
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

/* SPDX-License-Identifier: MIT */
/*
 * preload.c - the preload front: defines the malloc family, jemalloc's API
 * and glibc's __libc_* aliases, all generated from hooks.def, each a call to
 * its body in front.h (layer: front).  Also the hooks that keep memledger
 * invisible (triggers.h): sigaction and signal answer with the program's
 * own actions; signalfd and the sigwait family warn when the program takes
 * the dump signal itself; prctl and syscall notice a seccomp filter before
 * it exists.  And the dlopen hook that drops RTLD_DEEPBIND, and the dlclose
 * hook that records unloaded objects (modules.h), and the constructor.
 * And operator new and delete (hooks_cxx.def).
 * The descriptor hooks are preload_fd.c's (signalfd, which is here, tells
 * their record too).  The program's threads and anonymous mappings
 * (res_rec.h): the pthread_create/join/detach family and mmap/munmap/mremap,
 * each a call to its recorder around the real function.  Nothing else here.
 */
#include "front.h"
#include "log.h"
#include "modules.h"
#include "prim.h"
#include "res_fd.h"
#include "res_rec.h"
#include "triggers.h"
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

#define ML_HOOK(family, ret, name, impl, params, args) \
  ML_EXPORT ret name params;                            \
  ML_FRONT_FN_##family ret name params { return impl args; }
#include "hooks.def"
#undef ML_HOOK

/* ---- C++: operator new and delete ---------------------------------------- *
 * Defined here, as jemalloc's own library defines them, so that a C++
 * program's blocks come from jemalloc without going through libstdc++'s
 * operator new and its call to malloc (larson, mimalloc-bench: see
 * bench/README.md); a C program never calls them, and nothing here loads
 * libstdc++.  They keep their frame (ML_FRONT_FN_JE): the recorder is
 * called from them.  When jemalloc has no block, the C++ runtime's
 * operator of the same name takes over (looked up when the library starts
 * and after each dlopen, never on an allocation path): it calls the
 * new-handler, tries again through this library's malloc, and throws
 * std::bad_alloc or, the nothrow ones, returns NULL.  Without a C++ runtime
 * loaded (C++ code linked statically into a C program's plugin) there is
 * none of that to call: the failure is reported and the program aborted,
 * as an uncaught std::bad_alloc would. */
static ML_NOINLINE ML_COLD void ml_cxx_no_runtime(const char *name) {
  ml_log(ML_LOG_ERROR, "%s: out of memory, and no C++ runtime is loaded to throw "
                       "std::bad_alloc: aborting", name);
  abort();
}

/* Each operator new: the untracked request without a frame of its own (it
 * calls jemalloc only: no walk passes through it), everything else (a
 * tracked or an aligned request) by a tail call to a function that keeps
 * its frame for the fp walk; NULL from jemalloc goes to the C++ runtime's
 * operator (the new-handler, std::bad_alloc, the nothrow forms' NULL).
 * 9 instructions untracked, where one function with its frame took 13. */
#define ML_NEW(name, params, args, size, align)                                   \
  static void *(*_Atomic ml_cxx_##name) params;                                   \
  static ML_NOINLINE ML_COLD void *ml_cxx_oom_##name params {                     \
    void *(*next) params = atomic_load_explicit(&ml_cxx_##name, memory_order_acquire); \
    if (!next) ml_cxx_no_runtime(#name);                                          \
    return next args;                                                             \
  }                                                                               \
  static ML_NOINLINE void *ml_cxx_slow_##name params {                            \
    void *p = ml_f_new_other((size), (align));                                    \
    if (ml_likely(p != NULL)) return p;                                           \
    return ml_cxx_oom_##name args;                                                \
  }                                                                               \
  ML_EXPORT void *name params;                                                    \
  ML_FRONT_FN_STD void *name params {                                             \
    if (ml_f_new_untracked((size), (align))) {                                    \
      void *p = ml_je_malloc(size);                                               \
      if (ml_likely(p != NULL)) return p;                                         \
      return ml_cxx_oom_##name args;                                              \
    }                                                                             \
    return ml_cxx_slow_##name args;                                               \
  }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define ML_DELETE(name, params, args, size, align) \
  ML_EXPORT void name params;                     \
  ML_FRONT_FN_STD void name params { ml_f_delete(p, (size), (align)); }
#include "hooks_cxx.def"
#pragma GCC diagnostic pop
#undef ML_NEW
#undef ML_DELETE

/* Is a C++ runtime among the loaded objects? */
static int ml_cxx_loaded(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  (void)arg;
  const char *name = info->dlpi_name;
  return name && (strstr(name, "libstdc++.so") || strstr(name, "libc++.so"));
}

/* The C++ runtime's operator new family, once it is loaded.  Only then:
 * a dlsym that fails sets the thread's dlerror() message, which the
 * program may be about to read, and allocates it (blocks that memcheck,
 * without the preload, does not see). */
static void ml_cxx_resolve(void) {
  if (atomic_load_explicit(&ml_cxx__Znwm, memory_order_acquire)) return;
  if (!dl_iterate_phdr(ml_cxx_loaded, NULL)) return;
#define ML_NEW(name, params, args, size, align)                                    \
  if (!atomic_load_explicit(&ml_cxx_##name, memory_order_relaxed))                \
    atomic_store_explicit(&ml_cxx_##name, (void *(*)params)dlsym(RTLD_NEXT, #name), \
                          memory_order_release);
#define ML_DELETE(name, params, args, size, align)
#include "hooks_cxx.def"
#undef ML_NEW
#undef ML_DELETE
}

/* The library's constructor.  Priority 101: before other constructors of
 * this library (there are none today); the first allocation may already
 * have initialised the core.  Being dlopen'ed is refused by the loader
 * itself ("cannot allocate memory in static TLS block"): jemalloc's and our
 * thread-locals are initial-exec. */
__attribute__((constructor(101))) static void ml_preload_constructor(void) {
  ml_init_process(true); /* the sigaction hooks below hide our handlers */
  ml_preload_fd_init();  /* the descriptor hooks' next definitions */
  ml_cxx_resolve();      /* the C++ runtime's operator new, for failures */
}

/* ---- signals as the program sees them ---------------------------------- */

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

ML_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  int rc;
  if (ml_triggers_sigaction(sig, act, old, &rc)) return rc;
  return __sigaction(sig, act, old);
}

ML_EXPORT sighandler_t signal(int sig, sighandler_t handler) {
  /* BSD semantics, as glibc's signal(): restart, and block sig in the handler. */
  struct sigaction sa = {0}, old;
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sig > 0 && sig < NSIG) sigaddset(&sa.sa_mask, sig);
  if (sigaction(sig, &sa, &old) < 0) return SIG_ERR;
  return old.sa_handler;
}

/* The next definition of `name` (glibc's), looked up once, here, in the
 * hook itself: none of these hooks is an allocation path.  Without one the
 * hook returns `fail`. */
#define ML_NEXT(name, fail)                                      \
  static __typeof__(&name) real;                                 \
  if (!real) real = (__typeof__(&name))dlsym(RTLD_NEXT, #name);  \
  if (!real) {                                                   \
    errno = ENOSYS;                                              \
    return fail;                                                 \
  }

/* ---- taking signals synchronously ---------------------------------------- */

ML_EXPORT int signalfd(int fd, const sigset_t *mask, int flags) {
  ML_NEXT(signalfd, -1);
  ml_triggers_sigset_taken(mask, "signalfd");
  int r = real(fd, mask, flags);
  if (fd == -1 && r >= 0) ml_res_fd_created(r, ML_FD_CALL_signalfd, false, ML_RA);
  return r;
}

ML_EXPORT int sigwait(const sigset_t *set, int *sig) {
  ML_NEXT(sigwait, -1);
  ml_triggers_sigset_taken(set, "sigwait");
  return real(set, sig);
}

ML_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
  ML_NEXT(sigwaitinfo, -1);
  ml_triggers_sigset_taken(set, "sigwaitinfo");
  return real(set, info);
}

ML_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *t) {
  ML_NEXT(sigtimedwait, -1);
  ml_triggers_sigset_taken(set, "sigtimedwait");
  return real(set, info, t);
}

/* ---- seccomp ----------------------------------------------------------------- */

/* prctl(PR_SET_SECCOMP, ...) and syscall(SYS_seccomp, SECCOMP_SET_MODE_*)
 * (libseccomp's way): memledger stops dumping before the filter exists.
 * syscall() forwards every other call to the kernel itself (ml_prim_sys):
 * glibc's syscall() is this very symbol for everything linked after us. */
/* The system call, as glibc's wrappers return it (-1 and errno); when it
 * installs a filter, memledger is told first and untold if it failed. */
static long ml_sys_watched(bool filter, long nr, long a, long b, long c, long d, long e,
                           long f) {
  if (filter) ml_triggers_seccomp(true);
  long r = ml_prim_sys(nr, a, b, c, d, e, f);
  if (r < 0 && r > -4096) {
    if (filter) ml_triggers_seccomp(false);
    errno = (int)-r;
    return -1;
  }
  return r;
}

ML_EXPORT int prctl(int option, ...) {
  va_list ap;
  va_start(ap, option);
  long a2 = va_arg(ap, long), a3 = va_arg(ap, long), a4 = va_arg(ap, long),
       a5 = va_arg(ap, long);
  va_end(ap);
  bool filter = option == PR_SET_SECCOMP && (a2 == SECCOMP_MODE_FILTER || a2 == SECCOMP_MODE_STRICT);
  return (int)ml_sys_watched(filter, SYS_prctl, option, a2, a3, a4, a5, 0);
}

ML_EXPORT long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long),
       d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
  va_end(ap);
  bool filter = nr == SYS_seccomp && (a == SECCOMP_SET_MODE_FILTER || a == SECCOMP_SET_MODE_STRICT);
  return ml_sys_watched(filter, nr, a, b, c, d, e, f);
}

/* ---- the loader --------------------------------------------------------------- */

/* dlopen: RTLD_DEEPBIND makes the library look symbols up in its own
 * dependencies first, so it would allocate from glibc's malloc and hand the
 * blocks to ours (or the reverse): a crash.  The flag is dropped, with a
 * warning, as heaptrack does.  The real dlopen is looked up once, here. */
ML_EXPORT void *dlopen(const char *file, int flags) {
  ML_NEXT(dlopen, NULL);
  if (flags & RTLD_DEEPBIND) {
    static int once;
    ml_log_once(&once, ML_LOG_WARNING,
                "dlopen(\"%s\", RTLD_DEEPBIND): the flag is ignored, so that the library "
                "uses memledger's malloc like the rest of the program",
                file ? file : "(main program)");
    flags &= ~RTLD_DEEPBIND;
  }
  void *h = real(file, flags);
  ml_unwind_modules_changed(); /* the eh unwinder's object list */
  if (h) ml_cxx_resolve();     /* a C++ runtime loaded only now */
  return h;
}

/* dlclose: record the object before it may go (modules.h), so that stacks
 * captured while it was loaded keep pointing at it.  The real dlclose is
 * looked up once, here, never on an allocation path. */
ML_EXPORT int dlclose(void *handle) {
  ML_NEXT(dlclose, -1);
  ml_modules_before_dlclose(handle);
  int rc = real(handle);
  ml_unwind_modules_changed();
  return rc;
}

/* ---- threads and mappings (res_rec.h) ------------------------------------------ */

/* pthread_create and the rest: the real functions are glibc's (ML_NEXT,
 * looked up at the first such call, never on an allocation path). */
ML_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
                             void *arg) {
  ML_NEXT(pthread_create, EAGAIN);
  return ml_res_thread_create(real, th, attr, fn, arg);
}

/* A join of th: the record is looked up before the real call (after it
 * the pthread_t may already belong to a new thread). */
#define ML_JOIN(name, call)                                                    \
  ML_NEXT(name, ENOSYS);                                                       \
  void *rec = ml_res_thread_find(th);                                          \
  int rc = call;                                                               \
  ml_res_thread_joined(rec, rc);                                               \
  return rc

ML_EXPORT int pthread_join(pthread_t th, void **ret) { ML_JOIN(pthread_join, real(th, ret)); }

ML_EXPORT int pthread_tryjoin_np(pthread_t th, void **ret) {
  ML_JOIN(pthread_tryjoin_np, real(th, ret));
}

ML_EXPORT int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *t) {
  ML_JOIN(pthread_timedjoin_np, real(th, ret, t));
}

ML_EXPORT int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clock,
                                   const struct timespec *t) {
  ML_JOIN(pthread_clockjoin_np, real(th, ret, clock, t));
}

ML_EXPORT int pthread_detach(pthread_t th) {
  ML_NEXT(pthread_detach, ENOSYS);
  void *rec = ml_res_thread_find(th);
  int rc = real(th);
  ml_res_thread_detached(rec, rc);
  return rc;
}

ML_EXPORT int pthread_setname_np(pthread_t th, const char *name) {
  ML_NEXT(pthread_setname_np, ENOSYS);
  int rc = real(th, name);
  if (rc == 0) ml_res_thread_named(th, name);
  return rc;
}

/* mmap and the rest are the system calls themselves (ml_prim_mmap...), as
 * glibc's wrappers are on Linux: no lookup, usable before any constructor.
 * mmap64 is the same function on 64-bit glibc, under its own name. */
ML_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return ml_res_mmap(addr, len, prot, flags, fd, off);
}

ML_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) {
  return ml_res_mmap(addr, len, prot, flags, fd, (off_t)off);
}

ML_EXPORT int munmap(void *addr, size_t len) { return ml_res_munmap(addr, len); }

ML_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...) {
  void *new_addr = NULL;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    new_addr = va_arg(ap, void *);
    va_end(ap);
  }
  return ml_res_mremap(old, old_len, new_len, flags, new_addr);
}

/* SPDX-License-Identifier: MIT */
/*
 * preload.c - the preload front: defines the malloc family, jemalloc's API
 * and glibc's __libc_* aliases, all generated from hooks.def, each a call to
 * its body in front.h (layer: front).  Also the sigaction/signal hooks that
 * notice when the program takes over the dump signal, the dlopen hook that
 * drops RTLD_DEEPBIND, and the dlclose hook that records unloaded objects
 * (modules.h).  Nothing else here.
 */
#include "dumper.h"
#include "front.h"
#include "log.h"
#include "modules.h"
#include <dlfcn.h>
#include <signal.h>

#define ML_HOOK(family, ret, name, impl, params, args) \
  ML_EXPORT ret name params;                            \
  ret name params { return impl args; }
#include "hooks.def"
#undef ML_HOOK

/* The program installing its own handler for the dump signal wins; the
 * dumper is told so that it can say so once. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

ML_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (act) ml_dumper_signal_claimed(sig, act->sa_handler);
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

/* dlopen: RTLD_DEEPBIND makes the library look symbols up in its own
 * dependencies first, so it would allocate from glibc's malloc and hand the
 * blocks to ours (or the reverse): a crash.  The flag is dropped, with a
 * warning, as heaptrack does.  The real dlopen is looked up once, here. */
ML_EXPORT void *dlopen(const char *file, int flags) {
  static void *(*real)(const char *, int);
  if (!real) real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
  if (!real) return NULL;
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
  return h;
}

/* dlclose: record the object before it may go (modules.h), so that stacks
 * captured while it was loaded keep pointing at it.  The real dlclose is
 * looked up once, here, never on an allocation path. */
ML_EXPORT int dlclose(void *handle) {
  static int (*real)(void *);
  if (!real) real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
  if (!real) return -1;
  ml_modules_before_dlclose(handle);
  int rc = real(handle);
  ml_unwind_modules_changed();
  return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * preload_fd.c - the preload front's descriptor hooks (layer: front): every
 * glibc entry point that hands the program a new descriptor, and those
 * that close one, forward to the next definition (glibc's) and tell the
 * descriptor record (res_fd.h).  Most are generated from hooks_fd.def; the
 * ones with a mode, a variadic argument or a stream to close first are
 * written out below.  glibc's fopen, opendir, tmpfile, freopen and popen
 * open through internal calls no hook can see, so they are hooked
 * themselves.
 *
 * Each hook passes the real call's result and errno through unchanged: the
 * record is written after a success (before a close, so that the number
 * cannot be handed out again first) and preserves errno.  The next
 * definitions are looked up in one place, ml_fd_resolve, once: by the
 * constructor, or by the first hook called before it.
 */
#include "res_fd.h"
#include "track.h"
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The hooks written out below, by name. */
#define ML_FD_OWN_HOOKS(X)                                                        \
  X(open) X(open64) X(openat) X(openat64) X(fcntl) X(fcntl64) X(dup2) X(dup3)   \
  X(fdopen) X(fdopendir) X(freopen) X(freopen64) X(close) X(fclose) X(pclose)   \
  X(closedir) X(close_range) X(closefrom)

extern int __open_2(const char *path, int flags);
extern int __open64_2(const char *path, int flags);
extern int __openat_2(int dfd, const char *path, int flags);
extern int __openat64_2(int dfd, const char *path, int flags);

/* The next definitions. */
static struct {
#define ML_FD_REAL_OWN(name) __typeof__(&name) name;
  ML_FD_OWN_HOOKS(ML_FD_REAL_OWN)
#undef ML_FD_REAL_OWN
#define ML_FD_HOOK(shape, ret, name, call, params, args, dir) ret(*name) params;
#include "hooks_fd.def"
#undef ML_FD_HOOK
} ml_fd_real;
static _Atomic bool ml_fd_resolved;

/* Look every next definition up (a race resolves twice, to the same
 * values).  Not on a hot path: once per process. */
static void ml_fd_resolve(void) {
#define ML_FD_LOOKUP(name) ml_fd_real.name = (__typeof__(ml_fd_real.name))dlsym(RTLD_NEXT, #name);
  ML_FD_OWN_HOOKS(ML_FD_LOOKUP)
#define ML_FD_HOOK(shape, ret, name, call, params, args, dir) ML_FD_LOOKUP(name)
#include "hooks_fd.def"
#undef ML_FD_HOOK
#undef ML_FD_LOOKUP
  ml_res_fd_hooked();
  atomic_store_explicit(&ml_fd_resolved, true, memory_order_release);
}

void ml_preload_fd_init(void) {
  if (!atomic_load_explicit(&ml_fd_resolved, memory_order_acquire)) ml_fd_resolve();
}

/* The next definition of `name` (without one: ENOSYS and `fail`). */
#define ML_FD_REAL(name, fail)                                                 \
  do {                                                                         \
    if (ml_unlikely(!atomic_load_explicit(&ml_fd_resolved, memory_order_acquire))) \
      ml_fd_resolve();                                                         \
    if (ml_unlikely(!ml_fd_real.name)) {                                       \
      errno = ENOSYS;                                                          \
      return fail;                                                             \
    }                                                                          \
  } while (0)

/* The descriptor of a stream, errno untouched (fileno sets it for a
 * stream without one). */
static int ml_fd_of_file(FILE *f) {
  int saved = errno, fd = f ? fileno(f) : -1;
  errno = saved;
  return fd;
}

/* ---- generated: hooks_fd.def --------------------------------------------------- */

#define ML_FD_AFTER_FD(r, call, dir)                                           \
  if (r >= 0) ml_res_fd_created(r, ML_FD_CALL_##call, dir, ML_RA);
#define ML_FD_AFTER_PAIR(r, call, dir)                                         \
  if (r == 0) {                                                                \
    ml_res_fd_created(fds[0], ML_FD_CALL_##call, dir, ML_RA);                  \
    ml_res_fd_created(fds[1], ML_FD_CALL_##call, dir, ML_RA);                  \
  }
#define ML_FD_AFTER_FILE(r, call, dir)                                         \
  if (r) ml_res_fd_created(ml_fd_of_file(r), ML_FD_CALL_##call, dir, ML_RA);
#define ML_FD_AFTER_DIR(r, call, dir)                                          \
  if (r) ml_res_fd_created(dirfd(r), ML_FD_CALL_##call, dir, ML_RA);
#define ML_FD_FAIL_FD (-1)
#define ML_FD_FAIL_PAIR (-1)
#define ML_FD_FAIL_FILE NULL
#define ML_FD_FAIL_DIR NULL

#define ML_FD_HOOK(shape, ret, name, call, params, args, dir)                  \
  ML_EXPORT ret name params;                                                   \
  ret name params {                                                            \
    ML_FD_REAL(name, ML_FD_FAIL_##shape);                                      \
    ret r = ml_fd_real.name args;                                              \
    ML_FD_AFTER_##shape(r, call, dir) return r;                                \
  }
#include "hooks_fd.def"
#undef ML_FD_HOOK

/* ---- open and openat: the mode is there only with O_CREAT or O_TMPFILE ------ */

#define ML_FD_OPEN(name, call_args)                                 \
  mode_t mode = 0;                                                             \
  if (__OPEN_NEEDS_MODE(flags)) {                                              \
    va_list ap;                                                                \
    va_start(ap, flags);                                                       \
    mode = va_arg(ap, mode_t);                                                 \
    va_end(ap);                                                                \
  }                                                                            \
  ML_FD_REAL(name, -1);                                                        \
  int r = ml_fd_real.name call_args;                                           \
  if (r >= 0) ml_res_fd_created(r, ML_FD_CALL_##name, (flags & O_DIRECTORY) != 0, ML_RA); \
  return r;

ML_EXPORT int open(const char *path, int flags, ...) {
  ML_FD_OPEN(open, (path, flags, mode))
}
ML_EXPORT int open64(const char *path, int flags, ...) {
  ML_FD_OPEN(open64, (path, flags, mode))
}
ML_EXPORT int openat(int dfd, const char *path, int flags, ...) {
  ML_FD_OPEN(openat, (dfd, path, flags, mode))
}
ML_EXPORT int openat64(int dfd, const char *path, int flags, ...) {
  ML_FD_OPEN(openat64, (dfd, path, flags, mode))
}

/* ---- duplicates ---------------------------------------------------------------- */

/* fcntl: F_DUPFD and F_DUPFD_CLOEXEC make a descriptor; the argument is
 * passed on as glibc reads it (one pointer-sized word). */
#define ML_FD_FCNTL(name)                                                      \
  va_list ap;                                                                  \
  va_start(ap, cmd);                                                           \
  void *arg = va_arg(ap, void *);                                              \
  va_end(ap);                                                                  \
  ML_FD_REAL(name, -1);                                                        \
  int r = ml_fd_real.name(fd, cmd, arg);                                       \
  if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))                    \
    ml_res_fd_created(r, ML_FD_CALL_##name, false, ML_RA);                     \
  return r;

ML_EXPORT int fcntl(int fd, int cmd, ...) { ML_FD_FCNTL(fcntl) }
ML_EXPORT int fcntl64(int fd, int cmd, ...) { ML_FD_FCNTL(fcntl64) }

/* dup2 and dup3 onto an open descriptor close it: the new record replaces
 * its own.  dup2(fd, fd) changes nothing. */
ML_EXPORT int dup2(int fd, int to) {
  ML_FD_REAL(dup2, -1);
  int r = ml_fd_real.dup2(fd, to);
  if (r >= 0 && fd != to) ml_res_fd_created(r, ML_FD_CALL_dup2, false, ML_RA);
  return r;
}

ML_EXPORT int dup3(int fd, int to, int flags) {
  ML_FD_REAL(dup3, -1);
  int r = ml_fd_real.dup3(fd, to, flags);
  if (r >= 0) ml_res_fd_created(r, ML_FD_CALL_dup3, false, ML_RA);
  return r;
}

/* ---- streams over an open descriptor ------------------------------------------- */

ML_EXPORT FILE *fdopen(int fd, const char *mode) {
  ML_FD_REAL(fdopen, NULL);
  FILE *r = ml_fd_real.fdopen(fd, mode);
  if (r) ml_res_fd_adopted(fd, ML_FD_CALL_fdopen, false, ML_RA);
  return r;
}

ML_EXPORT DIR *fdopendir(int fd) {
  ML_FD_REAL(fdopendir, NULL);
  DIR *r = ml_fd_real.fdopendir(fd);
  if (r) ml_res_fd_adopted(fd, ML_FD_CALL_fdopendir, true, ML_RA);
  return r;
}

/* freopen closes the stream's descriptor whether or not it opens the new
 * file (with no path: reopens the same one, on the same number). */
#define ML_FD_FREOPEN(name)                                                    \
  ML_FD_REAL(name, NULL);                                                      \
  int old = ml_fd_of_file(stream);                                             \
  if (old >= 0) ml_res_fd_closed(old);                                         \
  FILE *r = ml_fd_real.name(path, mode, stream);                               \
  if (r) ml_res_fd_created(ml_fd_of_file(r), ML_FD_CALL_##name, false, ML_RA); \
  return r;

ML_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream) {
  ML_FD_FREOPEN(freopen)
}
ML_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream) {
  ML_FD_FREOPEN(freopen64)
}

/* ---- closers: the record ends before the number is free again -------------------- */

ML_EXPORT int close(int fd) {
  ML_FD_REAL(close, -1);
  ml_res_fd_closed(fd);
  return ml_fd_real.close(fd);
}

ML_EXPORT int fclose(FILE *f) {
  ML_FD_REAL(fclose, EOF);
  int fd = ml_fd_of_file(f);
  if (fd >= 0) ml_res_fd_closed(fd);
  return ml_fd_real.fclose(f);
}

ML_EXPORT int pclose(FILE *f) {
  ML_FD_REAL(pclose, -1);
  int fd = ml_fd_of_file(f);
  if (fd >= 0) ml_res_fd_closed(fd);
  return ml_fd_real.pclose(f);
}

ML_EXPORT int closedir(DIR *d) {
  ML_FD_REAL(closedir, -1);
  ml_res_fd_closed(dirfd(d));
  return ml_fd_real.closedir(d);
}

/* close_range with CLOSE_RANGE_CLOEXEC only marks; invalid arguments
 * (EINVAL) close nothing. */
ML_EXPORT int close_range(unsigned lo, unsigned hi, int flags) {
  ML_FD_REAL(close_range, -1);
  if (lo <= hi && !(flags & ~(int)CLOSE_RANGE_UNSHARE)) ml_res_fd_closed_range(lo, hi);
  return ml_fd_real.close_range(lo, hi, flags);
}

ML_EXPORT void closefrom(int lo) {
  if (ml_unlikely(!atomic_load_explicit(&ml_fd_resolved, memory_order_acquire)))
    ml_fd_resolve();
  if (!ml_fd_real.closefrom) return;
  ml_res_fd_closed_range(lo < 0 ? 0 : (unsigned)lo, ~0u);
  ml_fd_real.closefrom(lo);
}

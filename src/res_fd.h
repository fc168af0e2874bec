/* SPDX-License-Identifier: MIT */
/*
 * res_fd.h - the descriptor record (layer: recording; res.h): for every
 * descriptor the program got from an interposed glibc call, the call and
 * the stack that made it, indexed by descriptor number.  The preload
 * front's descriptor hooks (preload_fd.c, hooks_fd.def) are its only
 * writers; the [fds] visitor its reader.
 *
 * One 32-bit word per descriptor: the interned stack id (the low
 * ML_REC_STACK_BITS bits), the call (ml_fd_call_t, 7 bits) and whether it
 * is a directory (the top bit); 0 when nothing is recorded.  Words live in
 * chunks of 4096, mapped on first use (ml_prim_map) and never unmapped, so
 * a word is written with one relaxed atomic store and a snapshot child reads
 * each whole.  No lock, no malloc; errno preserved.  The recording calls
 * capture a stack: not for signal handlers.
 */
#ifndef ML_RES_FD_H
#define ML_RES_FD_H

#include "internal.h"

/* The calls a descriptor can come from, in the order of their indexes
 * (each name is the call as the dump writes it). */
#define ML_FD_CALLS(X)                                                            \
  X(open) X(open64) X(openat) X(openat64) X(creat) X(creat64) X(fopen)           \
  X(fopen64) X(freopen) X(freopen64) X(fdopen) X(tmpfile) X(tmpfile64) X(popen) \
  X(opendir) X(fdopendir) X(socket) X(socketpair) X(accept) X(accept4) X(pipe)   \
  X(pipe2) X(dup) X(dup2) X(dup3) X(fcntl) X(fcntl64) X(eventfd)                 \
  X(timerfd_create) X(signalfd) X(epoll_create) X(epoll_create1)                 \
  X(inotify_init) X(inotify_init1) X(memfd_create) X(pidfd_open)

typedef enum ml_fd_call_e {
  ML_FD_NONE = 0,
#define ML_FD_CALL_ENUM(name) ML_FD_CALL_##name,
  ML_FD_CALLS(ML_FD_CALL_ENUM)
#undef ML_FD_CALL_ENUM
  ML_FD_INHERITED, // open when the library started
  ML_FD_OWN,       // memledger's own, during a dump: never listed
  ML_FD_NCALLS
} ml_fd_call_t;

/* The descriptors open now are the program's inherited ones (listed once
 * from /proc/self/fd by raw system calls).  Called by the core's
 * initialisation, once per process image (an exec starts afresh). */
void ml_res_fd_init(void) ML_HIDDEN;

/* The preload front has its descriptor hooks (the link-time flavour has
 * none, and lists no [fds]). */
void ml_res_fd_hooked(void) ML_HIDDEN;

/* The preload front's hooks look their next definitions up (preload_fd.c;
 * called by its constructor, or by the first hook called before it). */
void ml_preload_fd_init(void) ML_HIDDEN;

/* fd (>= 0) was just made by `call`; dir: it is a directory (opendir,
 * O_DIRECTORY).  ra: the call's return address in the program (its stack
 * is captured from there, our frames dropped).  Records the stack when
 * recording is on, only the call in a memledger_disable() region, and
 * marks memledger's own descriptors (made under the recursion guard) as
 * such.  Preserves errno. */
void ml_res_fd_created(int fd, ml_fd_call_t call, bool dir, uintptr_t ra) ML_HIDDEN;

/* fd, open before, is now the program's through `call` (fdopen,
 * fdopendir): recorded like ml_res_fd_created unless a creating call is
 * already recorded for it. */
void ml_res_fd_adopted(int fd, ml_fd_call_t call, bool dir, uintptr_t ra) ML_HIDDEN;

/* fd is about to be closed (close, fclose, closedir, dup2 onto it...):
 * its record ends, before the number can be handed out again. */
void ml_res_fd_closed(int fd) ML_HIDDEN;

/* Every descriptor in [lo, hi] is about to be closed (close_range,
 * closefrom). */
void ml_res_fd_closed_range(unsigned lo, unsigned hi) ML_HIDDEN;

#endif /* ML_RES_FD_H */

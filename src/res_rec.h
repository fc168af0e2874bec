/* SPDX-License-Identifier: MIT */
/*
 * res_rec.h - recording the program's threads and anonymous mappings
 * (layer: core; res.h lists them in dumps).  The preload front's hooks
 * (preload.c) call these around the real functions; nothing else does, so
 * the link-time flavour records neither.
 *
 * Threads (res_thread.c): a record per thread made by pthread_create, in a
 * fixed array of slots mapped at the first one, claimed and released with
 * atomic operations only (no lock: a thread's end runs on that thread, in
 * the trampoline that wraps its start routine).  Mappings (res_map.c): a
 * record per anonymous mmap of the program's, kept under a lock of its own,
 * held across the system call so that the kernel's reuse of an address and
 * our records change in the same order.  Both are read by the dump without
 * a lock: a record is published by a release store after its fields, and
 * unpublished before they change.  Neither allocates through malloc; errno
 * is the real call's.
 */
#ifndef ML_RES_REC_H
#define ML_RES_REC_H

#include "internal.h"
#include <pthread.h>
#include <sys/types.h>

/* ---- threads ------------------------------------------------------------- */

typedef int (*ml_pthread_create_t)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                   void *);

/* pthread_create through `real`, the start routine wrapped so that the
 * thread's end (return, pthread_exit, cancellation) is recorded.  Returns
 * real's result. */
int ml_res_thread_create(ml_pthread_create_t real, pthread_t *th, const pthread_attr_t *attr,
                         void *(*fn)(void *), void *arg) ML_HIDDEN;

/* The record of th, looked up and held before the real join or detach
 * (after it, another thread may already have been given the same
 * pthread_t, and must not find this record); NULL when th is not
 * recorded.  The calls below release it. */
void *ml_res_thread_find(pthread_t th) ML_HIDDEN;
/* After the real call: rc 0 means joined (the record goes) or detached
 * (it goes when the thread ends, or now if it has ended). */
void ml_res_thread_joined(void *rec, int rc) ML_HIDDEN;
void ml_res_thread_detached(void *rec, int rc) ML_HIDDEN;
/* pthread_setname_np succeeded on th. */
void ml_res_thread_named(pthread_t th, const char *name) ML_HIDDEN;

/* In a thread made by pthread_create: where its start routine would have
 * returned to without the trampoline (in glibc's start_thread), else 0.
 * The shadow stack puts it in place of the trampoline's call site, so that
 * a thread's stacks end in start_thread as they do without memledger. */
extern ML_TLS uintptr_t ml_res_thread_caller ML_HIDDEN;

/* fork's child: only the forking thread is left. */
void ml_res_threads_after_fork_child(void) ML_HIDDEN;

/* ---- mappings ------------------------------------------------------------- */

/* The calls, made with ml_prim_mmap/munmap/mremap (the system calls), and
 * recorded when they succeed.  Results and errno are the real call's. */
void *ml_res_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) ML_HIDDEN;
int ml_res_munmap(void *addr, size_t len) ML_HIDDEN;
void *ml_res_mremap(void *old, size_t old_len, size_t new_len, int flags,
                    void *new_addr) ML_HIDDEN;

/* fork: prepare takes the mappings' lock, parent and child let it go. */
void ml_res_maps_fork_prepare(void) ML_HIDDEN;
void ml_res_maps_fork_parent(void) ML_HIDDEN;
void ml_res_maps_fork_child(void) ML_HIDDEN;

/* ---- shared by both ------------------------------------------------------- */

/* A resource is being made by the program: false when it is not to be
 * recorded (not READY, the tracker's own call, memledger_disable()).  On
 * true, *stack (unless NULL) is its creation stack (the capture the heap
 * recorder uses)
 * and the recursion guard is held: the caller leaves it (ml_guard_leave)
 * when its record is written. */
bool ml_res_enter(uint32_t *stack) ML_HIDDEN;

#endif /* ML_RES_REC_H */

/* SPDX-License-Identifier: MIT */
/*
 * ehframe.h - memledger's own table-driven unwinder (layer: core).
 *
 * Walks a stack with the unwind tables the compiler leaves in every object
 * (.eh_frame, found through .eh_frame_hdr's sorted search table), so it is
 * correct on code built without frame pointers, without libunwind and
 * without the loader: the objects are listed by memledger itself, at init
 * and after every dlopen/dlclose (ml_eh_refresh, the only function here
 * that calls dl_iterate_phdr), into immutable mmap'd arrays published with
 * a release store; a walk reads the current array with no lock.  Per return
 * address, the CFA program is run once and reduced to a packed rule (CFA =
 * rsp|rbp + off, return address at CFA-8, rbp unchanged or at CFA+off),
 * kept in a lock-free direct-mapped cache of 64-bit words (tag and rule in
 * one word: a racing write is never seen torn).  A cached frame costs a
 * probe and two loads.
 *
 * The walk never allocates, locks, creates a descriptor or calls the loader;
 * it is async-signal-safe once the thread's stack bounds are known (the
 * first walk on a thread may call pthread_getattr_np, see unwind.c).  Every
 * read is validated: stack slots lie between the walker's own stack pointer
 * and the thread's stack top (nothing on an alternate signal stack), table
 * reads lie in a PT_LOAD segment of the object, so no register value can
 * make it fault.  x86_64 Linux only; elsewhere every walk returns 0 frames.
 * Limits: frames whose rule is a DWARF expression (other than glibc's
 * signal trampoline, recognised by its code) end the walk; a return address
 * in no listed object ends it (code loaded by a dlopen that has not yet
 * returned: its constructors' stacks are cut there).  Memory: each refresh
 * that changes the list takes a new list (a few pages, never returned), and
 * one after an unload a new 128 KiB rule cache (the old one's pages are
 * dropped with MADV_DONTNEED; its address space stays reserved), both from
 * mappings that double from 512 KiB to 8 MiB, touched only as used.
 */
#ifndef ML_EHFRAME_H
#define ML_EHFRAME_H

#include "internal.h"
#include <stdatomic.h>

/* Walk from a frame whose registers are pc (exact: the instruction about to
 * run, not a return address), sp and fp (%rbp).  Stores up to max return
 * addresses, innermost first (the first is the return address of pc's
 * function), and returns their count.  Stops at the outermost frame, at an
 * unknown or unsupported frame, or on any value that fails validation.
 * pre: sp is on the calling thread's stack, at or above the caller's own
 * stack pointer (otherwise 0 frames). */
unsigned ml_eh_walk(uintptr_t pc, uintptr_t sp, uintptr_t fp, uintptr_t *frames,
                    unsigned max) ML_HIDDEN;

/* What a walk depended on, for the per-thread capture cache (capture.c):
 * the object list it used, and every stack word whose value it used (a
 * return address, a saved %rbp that fed a CFA), as an offset from the
 * starting sp and the value read.  A later walk from the same pc and sp,
 * with the same list, on the same thread, in which every noted word still
 * holds its value (and, when fp0, with the same starting %rbp) returns the
 * same frames.  bad: the walk cannot be replayed this way (the log
 * overflowed, an offset did not fit, a signal frame was crossed). */
typedef struct ml_eh_log_s {
  const void *list; // the object list walked with
  uintptr_t base;   // the starting sp
  unsigned n, cap;  // words noted / room in off[] and val[]
  bool fp0;         // the starting %rbp was used to find a CFA
  bool bad;
  int32_t *off;
  uintptr_t *val;
  uint16_t *mark;   // NULL, or mark[i] = words noted when frame i was found
                    // (a result cut after frame i depends on those only)
} ml_eh_log_t;

/* ml_eh_walk noting in *log (off, val and cap set by the caller) what the
 * result depends on. */
unsigned ml_eh_walk_logged(uintptr_t pc, uintptr_t sp, uintptr_t fp, uintptr_t *frames,
                           unsigned max, ml_eh_log_t *log) ML_HIDDEN;

/* The current object list (an identity: a cached walk is valid only with
 * the list it was made with).  NULL before the first refresh.  Inline: the
 * capture cache reads it on every hit. */
extern _Atomic(struct ml_eh_list_s *) ml_eh_cur ML_HIDDEN;
ML_INLINE const void *ml_eh_list_now(void) {
  return atomic_load_explicit(&ml_eh_cur, memory_order_acquire);
}

/* The walk from the caller of this function (tests, benchmarks). */
unsigned ml_eh_backtrace(uintptr_t *frames, unsigned max) ML_HIDDEN;

/* Re-read the loaded objects (dl_iterate_phdr) and publish the new list if
 * it changed (glibc's dlpi_adds/dlpi_subs counters); after an unload the
 * rule cache starts empty.  Publishing takes no lock (concurrent refreshes
 * retry); memory comes from mappings made ahead (a spinlock held for a
 * pointer bump), so a refresh after dlclose maps nothing where the
 * unloaded object was.
 * pre: not on an allocation path, not in a signal handler.  errno kept. */
void ml_eh_refresh(void) ML_HIDDEN;

/* Objects in the current list (0 before the first refresh). */
unsigned ml_eh_module_count(void) ML_HIDDEN;

#endif /* ML_EHFRAME_H */

/* SPDX-License-Identifier: MIT */
/*
 * track.h - the recorder: the only API the fronts (preload.c, wrap.c) call,
 * plus the core state they read (layer: core).
 *
 * A block is tracked iff its usable size is at least ml_gate.threshold; for
 * malloc-like calls that is the same as request size >= ml_gate.cutoff,
 * computed once at init, so the untracked paths compare and call jemalloc.
 * Before init both are 0, so the first call of any kind reaches the recorder,
 * which initialises.  Every entry point runs its work under the thread's
 * recursion guard; a call made while the guard is set (an allocation by the
 * tracker itself, by libunwind or by the dumper) records nothing.
 * Entry points save and restore errno.  Not for signal handlers.
 */
#ifndef ML_TRACK_H
#define ML_TRACK_H

#include "internal.h"
#include "stacks.h"
#include "table.h"
#include "unwind.h"

/* ---- the gate (read on every call; written at init only) ---------------- */
typedef struct ml_gate_s {
  size_t cutoff;    // malloc(n) is tracked iff n >= cutoff (SIZE_MAX: never)
  size_t threshold; // a block is tracked iff its usable size >= threshold
} __attribute__((aligned(ML_CACHE_LINE))) ml_gate_t;
extern ml_gate_t ml_gate ML_HIDDEN;

/* ---- the backend the fronts allocate from ------------------------------- */
/* Defined by each front (backend.c: jemalloc) and by the unit tests. */
typedef struct ml_backend_s {
  size_t (*usable_size)(void *p);             // malloc_usable_size
  size_t (*good_size)(size_t n);              // usable size malloc(n) gets
  int (*ctl)(const char *name, void *oldp, size_t *oldlenp, void *newp,
             size_t newlen);                  // mallctl, or NULL
  bool text_is_ours;  // the object holding this code is ours alone (not a
                      // library we are statically linked into): its text
                      // range can identify our frames
} ml_backend_t;
extern const ml_backend_t ml_backend ML_HIDDEN;

/* ---- per-thread state (initial-exec TLS) -------------------------------- */
typedef struct ml_tls_s {
  int guard;          // > 0 while the tracker runs on this thread
  unsigned serial;    // thread number for records, from 1 (0 = not yet)
  uint64_t seq_next;  // next sequence number of this thread's batch
  uint64_t seq_end;   // end of the batch
} ml_tls_t;
extern ML_TLS ml_tls_t ml_tls ML_HIDDEN;

ML_INLINE void ml_guard_enter(void) { ml_tls.guard++; }
ML_INLINE void ml_guard_leave(void) { ml_tls.guard--; }

/* ---- life cycle --------------------------------------------------------- */
typedef enum ml_state_e {
  ML_STATE_UNINIT = 0,
  ML_STATE_INITIALIZING, // one thread runs ml_init; it may recurse
  ML_STATE_READY,        // recording
  ML_STATE_DISABLED,     // MEMLEDGER_ENABLED=0 or init failed: pass-through
  ML_STATE_SHUTDOWN,     // after the exit dump: allocations work, no records
} ml_state_t;

/* The core's global state (one struct, like SQLite's `mem`). */
typedef struct ml_core_s {
  _Atomic int state;          // ml_state_t
  _Atomic int init_tid;       // thread running ml_init
  ml_tables_t tables;         // unfreed blocks
  ml_stacks_t stacks;         // interned stacks
  ml_unwind_mode_t unwind;    // resolved mode
  unsigned max_frames;
  unsigned skip_frames;
  _Atomic uint64_t seq;       // sequence numbers, handed out in batches
  _Atomic unsigned serials;   // thread serials
  _Atomic uint64_t unwind_failures; // stacks captured empty
  uint32_t empty_stack;       // id of the empty stack (unwind=none)
  _Atomic uint64_t foreign_frees; // frees of tracked-size blocks without a record
  bool options_loaded;        // environ was readable at init
} ml_core_t;
extern ml_core_t ml_core ML_HIDDEN;

/* Make sure the core is initialised.  Returns true when recording is on
 * (state READY); false when disabled, shut down, or when called recursively
 * from inside initialisation. */
bool ml_init_maybe(void) ML_HIDDEN;

/* Process start, called by the front's constructor: initialise if no
 * allocation did yet, re-read options that were not readable then, flush
 * early messages, and set up fork handlers, the exit dump and the dump
 * signal.  The core itself has no constructor, so unit tests that link it
 * start nothing. */
void ml_init_process(void) ML_HIDDEN;

/* ---- recording ---------------------------------------------------------- */

/* p (non-NULL) was just allocated with request size `size` and is tracked
 * (usable size >= threshold; checked again here when called before init).
 * ra: the return address of the allocation call (the program's frame; our
 * frames above it are dropped); anchor: a frame address at the level of
 * the function the program called (the exported malloc); 0 when unknown. */
void ml_track_alloc_from(void *p, size_t size, uintptr_t ra, uintptr_t anchor) ML_HIDDEN;
/* ra and anchor as the fronts take them, in the exported function itself
 * (their bodies are inlined into it). */
#define ML_RA ((uintptr_t)__builtin_return_address(0))
#define ML_FA ((uintptr_t)__builtin_frame_address(0))
ML_INLINE void ml_track_alloc(void *p, size_t size) { ml_track_alloc_from(p, size, 0, 0); }
/* p, whose page is marked in the page map, is about to be freed: remove its
 * record.  Returns true when p had one. */
bool ml_track_free(void *p) ML_HIDDEN;
/* realloc: take p's record out (into *out, may be NULL) before the backend
 * call (true when it had one); put it back if the call fails, or with a new
 * size after an in-place resize (taken_size: its size when taken). */
bool ml_track_take(void *p, ml_rec_t *out) ML_HIDDEN;
void ml_track_put_back(const ml_rec_t *r, size_t taken_size) ML_HIDDEN;

/* A free of a block of tracked size that had no record (link-time mode: it
 * was allocated outside the wrapped code). */
void ml_track_foreign_free(void) ML_HIDDEN;

/* Capture the caller's stack and intern it (tests). */
uint32_t ml_track_stack_id(void) ML_HIDDEN;

#endif /* ML_TRACK_H */

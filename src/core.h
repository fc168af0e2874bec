/* SPDX-License-Identifier: MIT */
/*
 * core.h - the shared state of the core (layer: core): the gate every front
 * reads, the backend the fronts allocate from, the per-thread state and the
 * one struct of global state (like SQLite's `mem`).  Defined in core.c,
 * which has no code: the life cycle (init.c), the recorder (track.c) and
 * the dump triggers (triggers.c) all depend on this and not on each other's
 * state.  Nothing here allocates or locks.
 */
#ifndef ML_CORE_H
#define ML_CORE_H

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
  unsigned seq_epoch; // ml_core.seq_epoch when the batch was taken
  uint64_t limit_acc; // tracked bytes allocated since this thread last
                      // checked MEMLEDGER_DUMP_AT (ml_core.limit_every)
  int disabled;       // memledger_disable() nesting; each level also holds
                      // one level of guard, so allocations are not recorded,
                      // while frees still are (guard == disabled: ml_recording)
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
  union {
    struct {
      unsigned max_frames;
      unsigned skip_frames;
    };
    uint64_t frame_limits; // both, for one compare (capture.c)
  };
  _Atomic uint64_t seq;       // sequence numbers, handed out in batches
  _Atomic unsigned seq_epoch; // bumped by each dump: threads take a new batch
  _Atomic uint64_t dump_mark_seq, dump_mark_ns; // the last dump's (ml_dump_mark)
  _Atomic unsigned serials;   // thread serials
  _Atomic uint64_t unwind_failures; // stacks captured empty
  uint32_t empty_stack;       // id of the empty stack (unwind=none)
  _Atomic uint64_t foreign_frees; // frees of tracked-size blocks without a record
  bool options_loaded;        // environ was readable at init
  _Atomic unsigned dump_children; // snapshot children not reaped yet
  void (*reap)(void);         // reaps finished ones (triggers.c), or NULL
  /* MEMLEDGER_DUMP_AT: a thread that has allocated limit_every tracked
   * bytes since its last check calls limit_check (triggers.c), which sums
   * the arenas' live bytes.  UINT64_MAX (never) when off. */
  uint64_t limit_every;
  void (*limit_check)(void);
  /* MEMLEDGER_DUMP_AT on the resident size (triggers.c), or NULL: called
   * off the fast paths (jemalloc mapping an extent, the program's mmap,
   * limit_check); rate-limited inside. */
  void (*rss_check)(void);
  _Atomic uint64_t alloc_failures; // allocations jemalloc returned NULL for
} ml_core_t;
extern ml_core_t ml_core ML_HIDDEN;

#endif /* ML_CORE_H */

/* SPDX-License-Identifier: MIT */
/*
 * table.h - per-arena tables of unfreed tracked blocks (layer: core).
 *
 * The tables are split into a power-of-two number of arenas, each with its
 * own lock, counters and open-addressing hash table of 24-byte records keyed
 * by block address.  A pointer's arena is the top bits of ml_hash_ptr(ptr),
 * so a free on any thread finds its record without a global lock.
 * Table memory comes from mmap (ml_prim_map), never from malloc.  A full
 * table (capacity bound, or mmap failure while growing) drops the record and
 * counts it; it never aborts.  Functions take the arena lock themselves
 * unless named _locked.  Not for signal handlers.
 */
#ifndef ML_TABLE_H
#define ML_TABLE_H

#include "internal.h"
#include "lock.h"

/* One unfreed block.  24 bytes: the metadata budget is 64 bytes per tracked
 * block, and a table is grown at 3/4 load, so a record never costs more than
 * 24 / (3/8) = 64 bytes of table, and 32..48 bytes on average. */
typedef struct ml_rec_s {
  uintptr_t ptr;      // block address; 0 = empty slot
  uint64_t size_tid;  // requested size (low 48 bits) | thread serial << 48
  uint64_t seq_stack; // sequence number << 24 | stack id (24 bits)
} ml_rec_t;
ML_STATIC_ASSERT(sizeof(ml_rec_t) == 24, "record layout");

/* Slots of an arena at its first insert (and the least it shrinks to):
 * 1.5 KiB, so that even 1024 arenas with few records each stay near the
 * 64-byte-per-block budget. */
#define ML_TABLE_MIN_CAP 64

#define ML_REC_SIZE_BITS 48
#define ML_REC_STACK_BITS 24
#define ML_REC_SIZE_MAX ((UINT64_C(1) << ML_REC_SIZE_BITS) - 1)
#define ML_REC_STACK_MAX ((UINT32_C(1) << ML_REC_STACK_BITS) - 1)

ML_INLINE ml_rec_t ml_rec_make(uintptr_t ptr, size_t size, unsigned tid,
                               uint64_t seq, uint32_t stack) {
  ml_rec_t r;
  r.ptr = ptr;
  r.size_tid = (size > ML_REC_SIZE_MAX ? ML_REC_SIZE_MAX : (uint64_t)size) |
               ((uint64_t)(tid & 0xffff) << ML_REC_SIZE_BITS);
  r.seq_stack = (seq << ML_REC_STACK_BITS) | (stack & ML_REC_STACK_MAX);
  return r;
}
ML_INLINE size_t ml_rec_size(const ml_rec_t *r) { return (size_t)(r->size_tid & ML_REC_SIZE_MAX); }
ML_INLINE unsigned ml_rec_tid(const ml_rec_t *r) { return (unsigned)(r->size_tid >> ML_REC_SIZE_BITS); }
ML_INLINE uint32_t ml_rec_stack(const ml_rec_t *r) { return (uint32_t)(r->seq_stack & ML_REC_STACK_MAX); }
ML_INLINE uint64_t ml_rec_seq(const ml_rec_t *r) { return r->seq_stack >> ML_REC_STACK_BITS; }

/* Counters of one arena, changed under its lock. */
typedef struct ml_counts_s {
  uint64_t allocs;      // tracked allocations recorded
  uint64_t frees;       // tracked frees that found their record
  uint64_t bytes_alloc; // requested bytes of recorded allocations
  uint64_t bytes_freed; // requested bytes of removed records
  uint64_t live;        // records in the table
  uint64_t live_bytes;  // requested bytes of the records in the table
  uint64_t dropped;     // records not stored (table full / no memory)
  uint64_t replaced;    // inserts that found the address already recorded
                        // (its free was not seen: the old record is dropped)
} ml_counts_t;

typedef struct ml_arena_s {
  ml_lock_t lock;
  unsigned shift;   // arena bits: the slot index is the hash bits below them
  unsigned cap_shift; // 64 - log2(cap): the slot is (hash << shift) >> cap_shift
  size_t cap;       // slots (power of two); 0 before the first insert
  size_t max_live;  // capacity bound for this arena
  size_t grow_at;   // an insert that would make live exceed this takes the
                    // slow path (grow at 3/4 load, or drop at max_live)
  size_t shrink_at; // a removal that leaves live below this shrinks (1/8)
  ml_rec_t *slots;  // cap records, mmap'd after a header holding cap
                    // (table.c); published with a release store
  ml_counts_t n;
} __attribute__((aligned(ML_CACHE_LINE))) ml_arena_t;

typedef struct ml_tables_s {
  unsigned narenas;   // power of two
  unsigned abits;     // log2(narenas)
  ml_arena_t *arenas; // mmap'd array
} ml_tables_t;

/* Set up narenas (power of two, >= 1) arenas with a total capacity bound of
 * max_records.  Returns 0, or -1 when the arena array cannot be mapped. */
int ml_tables_init(ml_tables_t *t, unsigned narenas, size_t max_records) ML_HIDDEN;
/* Unmap everything (tests). */
void ml_tables_destroy(ml_tables_t *t) ML_HIDDEN;

/* The arena of a pointer whose ml_hash_ptr is h: its top bits. */
ML_INLINE ml_arena_t *ml_tables_arena_h(ml_tables_t *t, uint64_t h) {
  return &t->arenas[t->abits ? (h >> (64 - t->abits)) : 0];
}

ML_INLINE ml_arena_t *ml_tables_arena(ml_tables_t *t, uintptr_t ptr) {
  return ml_tables_arena_h(t, ml_hash_ptr(ptr));
}

/* Record r.  Returns true when stored. */
bool ml_tables_insert(ml_tables_t *t, const ml_rec_t *r) ML_HIDDEN;
/* Record r moved in from a thread's cache (young.h): counted as live, not
 * as an allocation (the cache counted it). */
bool ml_tables_insert_moved(ml_tables_t *t, const ml_rec_t *r) ML_HIDDEN;
/* Undo ml_tables_insert_moved: remove ptr's record if its sequence number
 * is seq, counting no free.  Returns true when removed. */
bool ml_tables_remove_moved(ml_tables_t *t, uintptr_t ptr, uint64_t seq) ML_HIDDEN;
/* Look ptr up without the lock: in a snapshot (frozen), where no thread
 * runs.  async-signal-safe. */
bool ml_tables_find_frozen(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out) ML_HIDDEN;
/* Count a record that could not be stored (in ptr's arena). */
void ml_tables_count_drop(ml_tables_t *t, uintptr_t ptr) ML_HIDDEN;
/* Count a record replaced elsewhere (a thread's cache, young.h). */
void ml_tables_count_replaced(ml_tables_t *t, uintptr_t ptr) ML_HIDDEN;
/* Remove the record of ptr into *out (may be NULL).  Returns true when found. */
bool ml_tables_remove(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out) ML_HIDDEN;
/* Look ptr up without removing it (tests and diagnostics). */
bool ml_tables_find(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out) ML_HIDDEN;

/* *sum += *n, field by field. */
ML_INLINE void ml_counts_add(ml_counts_t *sum, const ml_counts_t *n) {
  sum->allocs += n->allocs;
  sum->frees += n->frees;
  sum->bytes_alloc += n->bytes_alloc;
  sum->bytes_freed += n->bytes_freed;
  sum->live += n->live;
  sum->live_bytes += n->live_bytes;
  sum->dropped += n->dropped;
  sum->replaced += n->replaced;
}

/* Sum of every arena's counters (each arena read under its lock). */
void ml_tables_counts(ml_tables_t *t, ml_counts_t *out) ML_HIDDEN;
/* Bytes of table memory mapped right now. */
size_t ml_tables_metadata_bytes(ml_tables_t *t) ML_HIDDEN;

/* Copy arena i's records into buf (capacity buf_cap records) under its lock,
 * compacted (empty slots skipped), and its counters into *counts.  Returns
 * the number of records copied, or -(needed capacity) when buf is too small
 * (nothing copied).  The arena is locked only for the copy. */
long ml_tables_snapshot(ml_tables_t *t, unsigned i, ml_rec_t *buf,
                        size_t buf_cap, ml_counts_t *counts) ML_HIDDEN;

/* Call fn for every record of arena i, and copy its counters into *counts
 * (may be NULL).  Not frozen: under the arena's lock, for the program's own
 * threads.  frozen: without any lock, for a snapshot of the address space
 * in which no thread runs any more (a dump's child process): every record
 * is seen whole and exactly once even when the snapshot caught an operation
 * midway.  Returns the number of records visited.  frozen is
 * async-signal-safe. */
typedef void (*ml_rec_fn)(const ml_rec_t *r, void *arg);
size_t ml_tables_visit(ml_tables_t *t, unsigned i, bool frozen, ml_rec_fn fn, void *arg,
                       ml_counts_t *counts) ML_HIDDEN;

/* Drop every record for which keep(rec, arg) is false (used once, when the
 * threshold changes after early allocations).  Returns the number dropped. */
size_t ml_tables_filter(ml_tables_t *t, bool (*keep)(const ml_rec_t *, void *),
                        void *arg) ML_HIDDEN;

/* fork: lock every arena in index order / unlock / re-initialise locks. */
void ml_tables_lock_all(ml_tables_t *t) ML_HIDDEN;
void ml_tables_unlock_all(ml_tables_t *t) ML_HIDDEN;
void ml_tables_reinit_locks(ml_tables_t *t) ML_HIDDEN;

#endif /* ML_TABLE_H */

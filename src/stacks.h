/* SPDX-License-Identifier: MIT */
/*
 * stacks.h - interned call stacks (layer: core).
 *
 * A record holds a 24-bit stack id, not frames.  Ids are dense, from 1;
 * id 0 means "no stack recorded" (the stack table was full).  Lookup of a
 * known stack takes no lock (an open-addressing table of pointers read with
 * acquire loads); only a new stack takes the table's lock, to allocate its
 * node and publish it.  Nodes are never freed.  Memory: mmap only, mapped
 * as stacks are interned (nothing is reserved for the capacity bound): the
 * id -> node array grows in chunks of doubling size, the first of 512 ids.
 * Interning is not for signal handlers; ml_stacks_count and ml_stacks_get
 * are lock-free and async-signal-safe, and so is reading the structure from
 * a snapshot (a forked child) taken at any instruction: a new stack's node
 * is written, then its by_id entry (and the chunk pointer when new), then
 * count with release, then its hash slot, so no id <= count ever lacks its
 * node and no id found by a lookup is above count.
 */
#ifndef ML_STACKS_H
#define ML_STACKS_H

#include "internal.h"
#include "lock.h"

typedef struct ml_stack_s {
  uint64_t hash;       // ml_stacks_hash of the frames
  uint32_t id;         // dense id, from 1
  uint32_t nframes;    // may be 0 (unwinding off or failed)
  uint32_t epoch;      // dlclose calls made before it was interned (modules.h)
  uint32_t unused;
  uintptr_t frames[];  // return addresses, innermost first
} ml_stack_t;

typedef struct ml_stack_slots_s {
  size_t cap;                       // power of two
  _Atomic(ml_stack_t *) slot[];     // NULL = empty
} ml_stack_slots_t;

/* The id -> node array: chunk k holds ids [512 (2^k - 1), 512 (2^(k+1) - 1))
 * (2^(k+9) entries, the last one cut at the capacity bound); 16 chunks cover
 * every 24-bit id. */
#define ML_STACKS_ID_LG0 9
#define ML_STACKS_ID_CHUNKS 16

typedef struct ml_stacks_s {
  _Atomic(ml_stack_slots_t *) slots; // current table; old ones are kept (readers)
  ml_lock_t lock;                    // insertions, growth, node memory
  size_t count;                      // stacks interned (ids 1..count); release
  size_t max;                        // capacity bound
  _Atomic(ml_stack_t **) by_id[ML_STACKS_ID_CHUNKS]; // id -> node, mmap'd chunks
  char *chunk;                       // node memory: current chunk
  size_t chunk_used, chunk_size;
  size_t mapped;                     // bytes mapped: slot tables, id chunks,
                                     // node chunks (metadata accounting)
  uint64_t overflow;                 // lookups that found the table full
} ml_stacks_t;

/* pre: max >= 1 (at most ML_REC_STACK_MAX).  Maps only the first slot
 * table (12 KiB).  Returns 0 or -1 (mmap failed). */
int ml_stacks_init(ml_stacks_t *s, size_t max) ML_HIDDEN;
void ml_stacks_destroy(ml_stacks_t *s) ML_HIDDEN; /* tests */

uint64_t ml_stacks_hash(const uintptr_t *frames, unsigned n) ML_HIDDEN;

/* The id of this stack, interning it if new; 0 when the table is full (or no
 * memory), counted in s->overflow. */
uint32_t ml_stacks_intern(ml_stacks_t *s, const uintptr_t *frames, unsigned n) ML_HIDDEN;

/* The node of id (1..count), or NULL.  Lock-free; async-signal-safe. */
const ml_stack_t *ml_stacks_get(ml_stacks_t *s, uint32_t id) ML_HIDDEN;
/* Number of stacks interned so far (acquire); ids 1..count all have
 * their node.  Lock-free; async-signal-safe. */
size_t ml_stacks_count(ml_stacks_t *s) ML_HIDDEN;

/* fork support. */
void ml_stacks_lock(ml_stacks_t *s) ML_HIDDEN;
void ml_stacks_unlock(ml_stacks_t *s) ML_HIDDEN;
void ml_stacks_reinit_lock(ml_stacks_t *s) ML_HIDDEN;

#endif /* ML_STACKS_H */

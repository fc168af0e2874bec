/* SPDX-License-Identifier: MIT */
/*
 * stacks.c - stack interning (layer: core).
 *
 * Readers probe the current slot table without a lock; a miss takes the lock,
 * probes the current table again, and inserts.  The table grows by doubling
 * at 3/4 load: the new table is filled, then published with a release store;
 * the old one is left mapped for readers still probing it (the total of all
 * old tables is below the size of the current one).  Nodes come from mmap'd
 * chunks that double from 16 KiB to 1 MiB and live as long as the process;
 * the id -> node array is mapped chunk by chunk as ids are handed out (see
 * stacks.h), so that the capacity bound reserves no address space: under
 * `ulimit -v` the program's heap gets it.  Lock order: this lock is never
 * held while an arena lock is taken, nor the reverse.
 */
#include "stacks.h"
#include "modules.h"
#include "prim.h"
#include <string.h>

/* 1024 slots: 8 KiB + the header, grown at 768 stacks. */
#define ML_STACKS_MIN_CAP 1024
/* Node chunks: the first is 16 KiB (about 50 stacks of 32 frames), each next
 * one twice the last, up to 1 MiB. */
#define ML_STACKS_CHUNK_MIN (1u << 14)
#define ML_STACKS_CHUNK_MAX (1u << 20)

/* Frames are mixed by independent multiplies (two lanes, so that the CPU
 * runs them in parallel) and folded once at the end: a serial multiply
 * chain costs ~1.5 ns a frame.  The multipliers are odd 64-bit constants. */
uint64_t ml_stacks_hash(const uintptr_t *frames, unsigned n) {
  uint64_t a = UINT64_C(0xcbf29ce484222325) ^ n, b = UINT64_C(0x84222325cbf29ce4);
  unsigned i = 0;
  for (; i + 1 < n; i += 2) {
    a += (frames[i] ^ (frames[i] >> 29)) * UINT64_C(0x9E3779B97F4A7C15);
    b += (frames[i + 1] ^ (frames[i + 1] >> 29)) * UINT64_C(0xC2B2AE3D27D4EB4F);
    a = (a << 23) | (a >> 41);
    b = (b << 31) | (b >> 33);
  }
  if (i < n) a += (frames[i] ^ (frames[i] >> 29)) * UINT64_C(0x165667B19E3779F9);
  uint64_t h = (a ^ (b * UINT64_C(0x9E3779B97F4A7C15)));
  h ^= h >> 32;
  h *= UINT64_C(0xD6E8FEB86659FD93);
  h ^= h >> 29;
  return h ? h : 1;
}

static ml_stack_slots_t *ml_slots_new(ml_stacks_t *s, size_t cap) {
  size_t bytes = sizeof(ml_stack_slots_t) + cap * sizeof(ml_stack_t *);
  ml_stack_slots_t *t = ml_prim_map(bytes);
  if (!t) return NULL;
  t->cap = cap;
  s->mapped += bytes;
  return t;
}

int ml_stacks_init(ml_stacks_t *s, size_t max) {
  memset(s, 0, sizeof *s);
  ml_lock_init(&s->lock);
  /* The id chunks cover ids below 512 (2^16 - 1): past every 24-bit id. */
  size_t cover = ((((size_t)1 << ML_STACKS_ID_CHUNKS) - 1) << ML_STACKS_ID_LG0) - 1;
  s->max = max < cover ? max : cover;
  ml_stack_slots_t *t = ml_slots_new(s, ML_STACKS_MIN_CAP);
  if (!t) return -1;
  atomic_store_explicit(&s->slots, t, memory_order_release);
  return 0;
}

/* ---- the id -> node array ------------------------------------------------ */

/* Chunk k holds ids [lo(k), lo(k + 1)) with lo(k) = 2^9 (2^k - 1): with
 * j = id + 2^9, k = log2(j) - 9 and the index is j - 2^(k+9). */
static unsigned ml_id_chunk(size_t id, size_t *index) {
  size_t j = id + ((size_t)1 << ML_STACKS_ID_LG0);
  unsigned k = (unsigned)(63 - __builtin_clzll((unsigned long long)j)) - ML_STACKS_ID_LG0;
  *index = j - ((size_t)1 << (k + ML_STACKS_ID_LG0));
  return k;
}

/* Entries of chunk k: 2^(k+9), cut so that it ends at id max. */
static size_t ml_id_chunk_len(const ml_stacks_t *s, unsigned k) {
  size_t first = (((size_t)1 << k) - 1) << ML_STACKS_ID_LG0;
  size_t len = (size_t)1 << (k + ML_STACKS_ID_LG0);
  return s->max + 1 - first < len ? s->max + 1 - first : len;
}

/* The slot of id in its chunk, mapping the chunk when it is new (its
 * pointer is stored with release before count publishes any id in it).
 * NULL when mmap failed.  locked. */
static _Atomic(ml_stack_t *) *ml_id_slot_locked(ml_stacks_t *s, size_t id) {
  size_t i;
  unsigned k = ml_id_chunk(id, &i);
  ml_stack_t **c = atomic_load_explicit(&s->by_id[k], memory_order_relaxed);
  if (!c) {
    size_t bytes = ml_id_chunk_len(s, k) * sizeof(ml_stack_t *);
    c = ml_prim_map(bytes);
    if (!c) return NULL;
    s->mapped += bytes;
    atomic_store_explicit(&s->by_id[k], c, memory_order_release);
  }
  return (_Atomic(ml_stack_t *) *)&c[i];
}

void ml_stacks_destroy(ml_stacks_t *s) {
  /* Tests only: old slot tables and node chunks are not tracked one by one,
   * so this releases the id chunks and the current table and leaks the
   * rest. */
  ml_stack_slots_t *t = atomic_load(&s->slots);
  if (t) ml_prim_unmap(t, sizeof(*t) + t->cap * sizeof(ml_stack_t *));
  for (unsigned k = 0; k < ML_STACKS_ID_CHUNKS; k++) {
    ml_stack_t **c = atomic_load(&s->by_id[k]);
    if (c) ml_prim_unmap(c, ml_id_chunk_len(s, k) * sizeof(ml_stack_t *));
  }
  memset(s, 0, sizeof *s);
}

/* ---- interning ----------------------------------------------------------- */

static bool ml_same(const ml_stack_t *st, uint64_t h, const uintptr_t *f, unsigned n) {
  return st->hash == h && st->nframes == n && memcmp(st->frames, f, n * sizeof *f) == 0;
}

/* Probe t for the stack; returns its node or NULL, and the first empty slot
 * index in *empty. */
static ml_stack_t *ml_probe(ml_stack_slots_t *t, uint64_t h, const uintptr_t *f,
                            unsigned n, size_t *empty) {
  size_t mask = t->cap - 1;
  for (size_t i = (size_t)(h >> 20) & mask;; i = (i + 1) & mask) {
    ml_stack_t *st = atomic_load_explicit(&t->slot[i], memory_order_acquire);
    if (!st) {
      *empty = i;
      return NULL;
    }
    if (ml_same(st, h, f, n)) return st;
  }
}

static ml_stack_t *ml_node_alloc_locked(ml_stacks_t *s, unsigned n) {
  size_t need = (sizeof(ml_stack_t) + n * sizeof(uintptr_t) + 15) & ~(size_t)15;
  if (!s->chunk || s->chunk_used + need > s->chunk_size) {
    size_t size = !s->chunk ? ML_STACKS_CHUNK_MIN
                  : s->chunk_size >= ML_STACKS_CHUNK_MAX ? ML_STACKS_CHUNK_MAX
                                                         : s->chunk_size * 2;
    if (size < need) size = need;
    char *c = ml_prim_map(size);
    if (!c) return NULL;
    s->mapped += size;
    s->chunk = c;
    s->chunk_used = 0;
    s->chunk_size = size;
  }
  ml_stack_t *st = (ml_stack_t *)(s->chunk + s->chunk_used);
  s->chunk_used += need;
  return st;
}

static bool ml_grow_locked(ml_stacks_t *s, ml_stack_slots_t *old) {
  ml_stack_slots_t *t = ml_slots_new(s, old->cap * 2);
  if (!t) return false;
  size_t mask = t->cap - 1;
  for (size_t i = 0; i < old->cap; i++) {
    ml_stack_t *st = atomic_load_explicit(&old->slot[i], memory_order_relaxed);
    if (!st) continue;
    size_t j = (size_t)(st->hash >> 20) & mask;
    while (atomic_load_explicit(&t->slot[j], memory_order_relaxed)) j = (j + 1) & mask;
    atomic_store_explicit(&t->slot[j], st, memory_order_relaxed);
  }
  atomic_store_explicit(&s->slots, t, memory_order_release);
  return true;
}

uint32_t ml_stacks_intern(ml_stacks_t *s, const uintptr_t *frames, unsigned n) {
  uint64_t h = ml_stacks_hash(frames, n);
  size_t empty;
  ml_stack_slots_t *t = atomic_load_explicit(&s->slots, memory_order_acquire);
  ml_stack_t *st = ml_probe(t, h, frames, n, &empty);
  if (ml_likely(st != NULL)) return st->id;

  uint32_t id = 0;
  ml_lock(&s->lock);
  t = atomic_load_explicit(&s->slots, memory_order_relaxed);
  st = ml_probe(t, h, frames, n, &empty);
  if (st) {
    id = st->id;
    goto out;
  }
  if (s->count >= s->max) goto full;
  if ((s->count + 1) * 4 > t->cap * 3) {
    if (!ml_grow_locked(s, t)) goto full;
    t = atomic_load_explicit(&s->slots, memory_order_relaxed);
    (void)ml_probe(t, h, frames, n, &empty);
  }
  _Atomic(ml_stack_t *) *by_id = ml_id_slot_locked(s, s->count + 1);
  if (!by_id) goto full;
  st = ml_node_alloc_locked(s, n);
  if (!st) goto full;
  st->hash = h;
  st->nframes = n;
  st->id = (uint32_t)(s->count + 1);
  st->epoch = ml_modules_epoch();
  for (unsigned i = 0; i < n; i++) st->frames[i] = frames[i];
  /* Publication order (stacks.h): node, by_id entry, count, hash slot. */
  atomic_store_explicit(by_id, st, memory_order_release);
  __atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELEASE);
  atomic_store_explicit(&t->slot[empty], st, memory_order_release);
  id = st->id;
  goto out;
full:
  s->overflow++;
out:
  ml_unlock(&s->lock);
  return id;
}

const ml_stack_t *ml_stacks_get(ml_stacks_t *s, uint32_t id) {
  if (id == 0 || id > ml_stacks_count(s)) return NULL;
  size_t i;
  unsigned k = ml_id_chunk(id, &i);
  ml_stack_t **c = atomic_load_explicit(&s->by_id[k], memory_order_acquire);
  return c ? atomic_load_explicit((_Atomic(ml_stack_t *) *)&c[i], memory_order_acquire) : NULL;
}

size_t ml_stacks_count(ml_stacks_t *s) {
  return __atomic_load_n(&s->count, __ATOMIC_ACQUIRE);
}

void ml_stacks_lock(ml_stacks_t *s) { ml_lock(&s->lock); }
void ml_stacks_unlock(ml_stacks_t *s) { ml_unlock(&s->lock); }
void ml_stacks_reinit_lock(ml_stacks_t *s) { ml_lock_init(&s->lock); }

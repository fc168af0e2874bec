/* SPDX-License-Identifier: MIT */
/*
 * table.c - per-arena open-addressing tables of unfreed blocks (layer: core).
 *
 * Each arena is a linear-probing hash table of ml_rec_t keyed by address,
 * grown by doubling at 3/4 load and shrunk at 1/8, with backward-shift
 * deletion (no tombstones, so lookups never degrade).  The slot index comes
 * from the hash bits just below the arena bits.  Memory: mmap only.  Locks:
 * one arena lock at a time, never held across a call out of this file,
 * except the lock_all used by fork (index order).  Not async-signal-safe.
 *
 * Readable at any instant: a dump's snapshot child (triggers.c) reads the
 * tables from a copy of the address space taken at an arbitrary instruction
 * of every other thread, with no lock.  So writers order their stores: a
 * record's fields are written before its address (a release store), and an
 * address is cleared before the fields of its slot are reused; a resized
 * table is filled completely before one pointer store publishes it (its
 * capacity lives in the mapping's header, so pointer and capacity never
 * disagree).  A snapshot then sees every record whole, each live record at
 * least once, and at most one record twice (a record being moved by the
 * backward shift of the one operation in flight in that arena): the frozen
 * reader counts a record only at the first slot of its probe sequence that
 * holds its address.
 *
 * Why not uthash: its UT_hash_handle alone is 56 bytes, which with the key
 * and payload breaks the 64-byte-per-block metadata budget; an open table of
 * 24-byte records stays within it and is one cache miss per operation.
 */
#include "table.h"
#include "prim.h"


/* A slot table's mapping: this header, then cap records. */
typedef struct ml_slots_hdr_s {
  size_t cap;
  char pad[ML_CACHE_LINE - sizeof(size_t)];
} ml_slots_hdr_t;

/* A table past 64 KiB has its pages filled at once (MAP_POPULATE): a
 * rehash writes every page of it, and a fault per page made the growth of
 * an arena of 115,000 records stop its thread for 3.5-7 ms, twice as long
 * (bench/README.md, "Drains a few sets at a time"). */
static ml_rec_t *ml_slots_map(size_t cap) {
  size_t bytes = sizeof(ml_slots_hdr_t) + cap * sizeof(ml_rec_t);
  ml_slots_hdr_t *h = bytes > 65536 ? ml_prim_map_filled(bytes) : ml_prim_map(bytes);
  if (!h) return NULL;
  h->cap = cap;
  return (ml_rec_t *)(h + 1);
}

static void ml_slots_unmap(ml_rec_t *slots, size_t cap) {
  if (slots) ml_prim_unmap((ml_slots_hdr_t *)slots - 1, sizeof(ml_slots_hdr_t) + cap * sizeof(ml_rec_t));
}

/* Store r into an empty slot: fields first, the address last. */
static void ml_rec_publish(ml_rec_t *slot, const ml_rec_t *r) {
  slot->size_tid = r->size_tid;
  slot->seq_stack = r->seq_stack;
  __atomic_store_n(&slot->ptr, r->ptr, __ATOMIC_RELEASE);
}

/* Take a slot's record out before its fields may change. */
static void ml_rec_retract(ml_rec_t *slot) {
  __atomic_store_n(&slot->ptr, 0, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE); /* store-store: ptr = 0 first */
}

/* Hash bits: [arena bits][slot bits][rest]; a->shift is the arena bit count. */
static size_t ml_home(unsigned shift, size_t cap, uintptr_t ptr) {
  return (size_t)((ml_hash_ptr(ptr) << shift) >> (64 - ml_log2(cap)));
}

/* The home slot of a pointer whose ml_hash_ptr is h (ml_home, with the
 * capacity's log2 kept in the arena). */
ML_INLINE size_t ml_slot_h(const ml_arena_t *a, uint64_t h) {
  return (size_t)((h << a->shift) >> a->cap_shift);
}

static size_t ml_slot(const ml_arena_t *a, uintptr_t ptr) { return ml_slot_h(a, ml_hash_ptr(ptr)); }

/* The thresholds that send an insert or a removal to its slow path. */
static void ml_arena_limits(ml_arena_t *a) {
  size_t load = a->cap / 4 * 3;
  a->grow_at = load < a->max_live ? load : a->max_live;
  a->shrink_at = a->cap > ML_TABLE_MIN_CAP ? a->cap / 8 : 0;
  a->cap_shift = a->cap ? 64 - ml_log2(a->cap) : 64;
}

int ml_tables_init(ml_tables_t *t, unsigned narenas, size_t max_records) {
  if (!ml_is_pow2(narenas)) narenas = (unsigned)ml_next_pow2(narenas);
  t->narenas = narenas;
  t->abits = ml_log2(narenas);
  t->arenas = ml_prim_map(sizeof(ml_arena_t) * narenas);
  if (!t->arenas) return -1;
  size_t per = max_records / narenas;
  if (per < 64) per = 64;
  for (unsigned i = 0; i < narenas; i++) {
    ml_lock_init(&t->arenas[i].lock);
    t->arenas[i].shift = t->abits;
    t->arenas[i].max_live = per;
    ml_arena_limits(&t->arenas[i]);
  }
  return 0;
}

void ml_tables_destroy(ml_tables_t *t) {
  if (!t->arenas) return;
  for (unsigned i = 0; i < t->narenas; i++)
    ml_slots_unmap(t->arenas[i].slots, t->arenas[i].cap);
  ml_prim_unmap(t->arenas, sizeof(ml_arena_t) * t->narenas);
  t->arenas = NULL;
}

/* Put r in the first free slot of its probe sequence; pre: r->ptr absent,
 * the table has a free slot. */
static void ml_place(ml_arena_t *a, ml_rec_t *slots, const ml_rec_t *r) {
  size_t mask = a->cap - 1;
  size_t i = ml_slot(a, r->ptr);
  while (slots[i].ptr) i = (i + 1) & mask;
  slots[i] = *r; /* into a table nobody can see yet */
}

/* Re-hash into new_cap slots.  Returns false (table unchanged) when the new
 * table cannot be mapped. */
static bool ml_resize_locked(ml_arena_t *a, size_t new_cap) {
  ml_rec_t *fresh = ml_slots_map(new_cap);
  if (!fresh) return false;
  ml_rec_t *old = a->slots;
  size_t old_cap = a->cap;
  a->cap = new_cap; /* ml_place probes with the new capacity */
  ml_arena_limits(a);
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].ptr) ml_place(a, fresh, &old[i]);
  __atomic_store_n(&a->slots, fresh, __ATOMIC_RELEASE); /* complete: publish */
  ml_slots_unmap(old, old_cap);
  return true;
}

/* Backward-shift deletion: pull later members of the cluster into the hole
 * when their home slot does not lie cyclically in (hole, j]. */
static void ml_erase_locked(ml_arena_t *a, size_t hole) {
  size_t mask = a->cap - 1;
  size_t j = hole;
  ml_rec_retract(&a->slots[hole]); /* the erased record is out */
  for (;;) {
    j = (j + 1) & mask;
    if (!a->slots[j].ptr) break;
    size_t home = ml_slot(a, a->slots[j].ptr);
    bool stays = (hole <= j) ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    /* Copy, then retract the original: never absent, briefly twice. */
    ml_rec_publish(&a->slots[hole], &a->slots[j]);
    ml_rec_retract(&a->slots[j]);
    hole = j;
  }
}

void ml_tables_count_drop(ml_tables_t *t, uintptr_t ptr) {
  ml_arena_t *a = ml_tables_arena(t, ptr);
  ml_lock(&a->lock);
  a->n.dropped++;
  ml_unlock(&a->lock);
}

void ml_tables_count_replaced(ml_tables_t *t, uintptr_t ptr) {
  ml_arena_t *a = ml_tables_arena(t, ptr);
  ml_lock(&a->lock);
  a->n.replaced++;
  ml_unlock(&a->lock);
}

/* One probe for both questions: the slot holding ptr (hash h), or the
 * empty slot where it would go; slots[i].ptr says which.  pre: a->cap > 0. */
ML_INLINE size_t ml_probe_locked(const ml_arena_t *a, uintptr_t ptr, uint64_t h) {
  const ml_rec_t *slots = a->slots;
  size_t mask = a->cap - 1, i = ml_slot_h(a, h);
  for (uintptr_t q; (q = slots[i].ptr) != ptr && q;) i = (i + 1) & mask;
  return i;
}

/* The insert of a record that may need room: replace, grow or drop (the
 * fast path in ml_tables_insert handles a new record below grow_at). */
static ML_NOINLINE bool ml_insert_slow_locked(ml_arena_t *a, const ml_rec_t *r, bool counted) {
  uint64_t h = ml_hash_ptr(r->ptr);
  size_t i = 0;
  if (a->cap && a->slots[i = ml_probe_locked(a, r->ptr, h)].ptr) {
    /* The address was handed out again without the free being seen. */
    a->n.replaced++;
    a->n.live_bytes -= ml_rec_size(&a->slots[i]);
    a->n.live_bytes += ml_rec_size(r);
    ml_rec_retract(&a->slots[i]);
    ml_rec_publish(&a->slots[i], r);
    if (counted) {
      a->n.allocs++;
      a->n.bytes_alloc += ml_rec_size(r);
    }
    return true;
  }
  if (a->n.live >= a->max_live) goto drop;
  if ((a->n.live + 1) * 4 > a->cap * 3) {
    size_t want = a->cap ? a->cap * 2 : ML_TABLE_MIN_CAP;
    if (!ml_resize_locked(a, want)) goto drop;
    i = ml_probe_locked(a, r->ptr, h);
  }
  ml_rec_publish(&a->slots[i], r);
  a->n.live++;
  a->n.live_bytes += ml_rec_size(r);
  if (counted) {
    a->n.allocs++;
    a->n.bytes_alloc += ml_rec_size(r);
  }
  return true;
drop:
  a->n.dropped++;
  return false;
}

/* counted: a new allocation (not a record moved in from a thread's cache,
 * young.h, whose allocation that cache counted). */
ML_INLINE bool ml_insert(ml_tables_t *t, const ml_rec_t *r, bool counted) {
  uint64_t h = ml_hash_ptr(r->ptr);
  ml_arena_t *a = ml_tables_arena_h(t, h);
  bool ok = true, slow = true;
  size_t i = 0;
  ml_lock(&a->lock);
  if (ml_likely(a->n.live < a->grow_at)) {
    i = ml_probe_locked(a, r->ptr, h);
    slow = a->slots[i].ptr != 0;
  }
  if (ml_unlikely(slow)) { /* no room yet (grow or drop), or the address is recorded */
    ok = ml_insert_slow_locked(a, r, counted);
    goto out;
  }
  ml_rec_publish(&a->slots[i], r);
  size_t sz = ml_rec_size(r);
  a->n.live++;
  a->n.live_bytes += sz;
  if (counted) {
    a->n.allocs++;
    a->n.bytes_alloc += sz;
  }
out:
  ml_unlock(&a->lock);
  return ok;
}

bool ml_tables_insert(ml_tables_t *t, const ml_rec_t *r) { return ml_insert(t, r, true); }
bool ml_tables_insert_moved(ml_tables_t *t, const ml_rec_t *r) { return ml_insert(t, r, false); }

/* seq: remove only the record with that sequence number, and count no
 * free (a move undone: ml_tables_remove_moved); UINT64_MAX: any (a free). */
ML_INLINE bool ml_remove(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out, uint64_t seq) {
  uint64_t h = ml_hash_ptr(ptr);
  ml_arena_t *a = ml_tables_arena_h(t, h);
  ml_lock(&a->lock);
  ml_rec_t *slots = a->slots;
  if (ml_unlikely(!slots)) goto absent;
  size_t i = ml_probe_locked(a, ptr, h);
  if (!slots[i].ptr) goto absent;
  if (ml_unlikely(seq != UINT64_MAX) && ml_rec_seq(&slots[i]) != seq) goto absent;
  size_t mask = a->cap - 1;
  size_t sz = ml_rec_size(&slots[i]);
  if (out) *out = slots[i];
  if (ml_likely(!slots[(i + 1) & mask].ptr)) ml_rec_retract(&slots[i]); /* nothing to shift */
  else ml_erase_locked(a, i);
  a->n.live--;
  a->n.live_bytes -= sz;
  if (ml_likely(seq == UINT64_MAX)) {
    a->n.frees++;
    a->n.bytes_freed += sz;
  }
  /* Shrink at 1/8 load so a burst does not pin memory forever. */
  if (ml_unlikely(a->n.live < a->shrink_at)) (void)ml_resize_locked(a, a->cap / 2);
  ml_unlock(&a->lock);
  return true;
absent:
  ml_unlock(&a->lock);
  return false;
}

bool ml_tables_remove(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out) {
  return ml_remove(t, ptr, out, UINT64_MAX);
}

bool ml_tables_remove_moved(ml_tables_t *t, uintptr_t ptr, uint64_t seq) {
  return ml_remove(t, ptr, NULL, seq);
}

bool ml_tables_find_frozen(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out) {
  uint64_t h = ml_hash_ptr(ptr);
  ml_arena_t *a = ml_tables_arena_h(t, h);
  ml_rec_t *slots = __atomic_load_n(&a->slots, __ATOMIC_ACQUIRE);
  if (!slots) return false;
  size_t cap = ((const ml_slots_hdr_t *)slots - 1)->cap, mask = cap - 1;
  for (size_t i = ml_home(a->shift, cap, ptr), k = 0; k < cap; i = (i + 1) & mask, k++) {
    uintptr_t q = __atomic_load_n(&slots[i].ptr, __ATOMIC_ACQUIRE);
    if (!q) return false;
    if (q != ptr) continue;
    if (out) *out = slots[i];
    return true;
  }
  return false;
}

bool ml_tables_find(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out) {
  uint64_t h = ml_hash_ptr(ptr);
  ml_arena_t *a = ml_tables_arena_h(t, h);
  bool found = false;
  ml_lock(&a->lock);
  if (a->cap) {
    size_t i = ml_probe_locked(a, ptr, h);
    found = a->slots[i].ptr != 0;
    if (found && out) *out = a->slots[i];
  }
  ml_unlock(&a->lock);
  return found;
}

void ml_tables_counts(ml_tables_t *t, ml_counts_t *out) {
  ml_counts_t s = {0};
  for (unsigned i = 0; i < t->narenas; i++) {
    ml_arena_t *a = &t->arenas[i];
    ml_lock(&a->lock);
    s.allocs += a->n.allocs;
    s.frees += a->n.frees;
    s.bytes_alloc += a->n.bytes_alloc;
    s.bytes_freed += a->n.bytes_freed;
    s.live += a->n.live;
    s.live_bytes += a->n.live_bytes;
    s.dropped += a->n.dropped;
    s.replaced += a->n.replaced;
    ml_unlock(&a->lock);
  }
  *out = s;
}

size_t ml_tables_metadata_bytes(ml_tables_t *t) {
  size_t bytes = sizeof(ml_arena_t) * t->narenas;
  for (unsigned i = 0; i < t->narenas; i++)
    bytes += __atomic_load_n(&t->arenas[i].cap, __ATOMIC_RELAXED) * sizeof(ml_rec_t);
  return bytes;
}

long ml_tables_snapshot(ml_tables_t *t, unsigned i, ml_rec_t *buf,
                        size_t buf_cap, ml_counts_t *counts) {
  ml_arena_t *a = &t->arenas[i];
  ml_lock(&a->lock);
  if (a->n.live > buf_cap) {
    long need = (long)a->n.live;
    ml_unlock(&a->lock);
    return -need;
  }
  size_t n = 0;
  for (size_t s = 0; s < a->cap; s++)
    if (a->slots[s].ptr) buf[n++] = a->slots[s];
  if (counts) *counts = a->n;
  ml_unlock(&a->lock);
  return (long)n;
}

/* Was slot i's record already seen at an earlier slot of its probe
 * sequence?  (Only a table caught mid-operation can hold a record twice.) */
static bool ml_seen_earlier(const ml_rec_t *slots, size_t cap, unsigned shift, size_t i) {
  uintptr_t p = slots[i].ptr;
  size_t mask = cap - 1;
  for (size_t k = ml_home(shift, cap, p); k != i; k = (k + 1) & mask) {
    uintptr_t q = __atomic_load_n(&slots[k].ptr, __ATOMIC_RELAXED);
    if (q == p) return true;
    if (!q) return false;
  }
  return false;
}

size_t ml_tables_visit(ml_tables_t *t, unsigned i, bool frozen, ml_rec_fn fn, void *arg,
                       ml_counts_t *counts) {
  ml_arena_t *a = &t->arenas[i];
  bool midway = false;
  if (frozen) midway = atomic_load_explicit(&a->lock.state, memory_order_relaxed) != 0;
  else ml_lock(&a->lock);
  ml_rec_t *slots = __atomic_load_n(&a->slots, __ATOMIC_ACQUIRE);
  size_t cap = slots ? ((const ml_slots_hdr_t *)slots - 1)->cap : 0, n = 0;
  if (counts) *counts = a->n;
  for (size_t s = 0; s < cap; s++) {
    ml_rec_t r;
    r.ptr = __atomic_load_n(&slots[s].ptr, __ATOMIC_ACQUIRE);
    if (!r.ptr) continue;
    if (midway && ml_seen_earlier(slots, cap, a->shift, s)) continue;
    r.size_tid = slots[s].size_tid;
    r.seq_stack = slots[s].seq_stack;
    fn(&r, arg);
    n++;
  }
  if (!frozen) ml_unlock(&a->lock);
  return n;
}

size_t ml_tables_filter(ml_tables_t *t, bool (*keep)(const ml_rec_t *, void *),
                        void *arg) {
  size_t dropped = 0;
  for (unsigned i = 0; i < t->narenas; i++) {
    ml_arena_t *a = &t->arenas[i];
    ml_lock(&a->lock);
    for (size_t s = 0; s < a->cap;) {
      if (a->slots[s].ptr && !keep(&a->slots[s], arg)) {
        a->n.live--;
        a->n.live_bytes -= ml_rec_size(&a->slots[s]);
        ml_erase_locked(a, s); /* may pull another record into s: re-check */
        dropped++;
        continue;
      }
      s++;
    }
    ml_unlock(&a->lock);
  }
  return dropped;
}

void ml_tables_lock_all(ml_tables_t *t) {
  for (unsigned i = 0; i < t->narenas; i++) ml_lock(&t->arenas[i].lock);
}

void ml_tables_unlock_all(ml_tables_t *t) {
  for (unsigned i = t->narenas; i-- > 0;) ml_unlock(&t->arenas[i].lock);
}

void ml_tables_reinit_locks(ml_tables_t *t) {
  for (unsigned i = 0; i < t->narenas; i++) ml_lock_init(&t->arenas[i].lock);
}

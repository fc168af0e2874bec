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
 * Why not uthash: its UT_hash_handle alone is 56 bytes, which with the key
 * and payload breaks the 64-byte-per-block metadata budget; an open table of
 * 24-byte records stays within it and is one cache miss per operation.
 */
#include "table.h"
#include "prim.h"


/* Hash bits: [arena bits][slot bits][rest]; a->shift is the arena bit count. */
static size_t ml_slot(const ml_arena_t *a, uintptr_t ptr) {
  return (size_t)((ml_hash_ptr(ptr) << a->shift) >> (64 - ml_log2(a->cap)));
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
  }
  return 0;
}

void ml_tables_destroy(ml_tables_t *t) {
  if (!t->arenas) return;
  for (unsigned i = 0; i < t->narenas; i++)
    if (t->arenas[i].slots)
      ml_prim_unmap(t->arenas[i].slots, t->arenas[i].cap * sizeof(ml_rec_t));
  ml_prim_unmap(t->arenas, sizeof(ml_arena_t) * t->narenas);
  t->arenas = NULL;
}

/* Put r in the first free slot of its probe sequence; pre: r->ptr absent,
 * the table has a free slot. */
static void ml_place(ml_arena_t *a, ml_rec_t *slots, const ml_rec_t *r) {
  size_t mask = a->cap - 1;
  size_t i = ml_slot(a, r->ptr);
  while (slots[i].ptr) i = (i + 1) & mask;
  slots[i] = *r;
}

/* Re-hash into new_cap slots.  Returns false (table unchanged) when the new
 * table cannot be mapped. */
static bool ml_resize_locked(ml_arena_t *a, size_t new_cap) {
  ml_rec_t *fresh = ml_prim_map(new_cap * sizeof(ml_rec_t));
  if (!fresh) return false;
  ml_rec_t *old = a->slots;
  size_t old_cap = a->cap;
  a->slots = fresh;
  a->cap = new_cap;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].ptr) ml_place(a, fresh, &old[i]);
  if (old) ml_prim_unmap(old, old_cap * sizeof(ml_rec_t));
  return true;
}

/* Index of ptr's slot, or SIZE_MAX when absent. */
static size_t ml_lookup_locked(ml_arena_t *a, uintptr_t ptr) {
  if (!a->cap) return SIZE_MAX;
  size_t mask = a->cap - 1;
  for (size_t i = ml_slot(a, ptr);; i = (i + 1) & mask) {
    if (a->slots[i].ptr == ptr) return i;
    if (!a->slots[i].ptr) return SIZE_MAX;
  }
}

/* Backward-shift deletion: pull later members of the cluster into the hole
 * when their home slot does not lie cyclically in (hole, j]. */
static void ml_erase_locked(ml_arena_t *a, size_t hole) {
  size_t mask = a->cap - 1;
  size_t j = hole;
  for (;;) {
    j = (j + 1) & mask;
    if (!a->slots[j].ptr) break;
    size_t home = ml_slot(a, a->slots[j].ptr);
    bool stays = (hole <= j) ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    a->slots[hole] = a->slots[j];
    hole = j;
  }
  a->slots[hole].ptr = 0;
}

void ml_tables_count_drop(ml_tables_t *t, uintptr_t ptr) {
  ml_arena_t *a = ml_tables_arena(t, ptr);
  ml_lock(&a->lock);
  a->n.dropped++;
  ml_unlock(&a->lock);
}

/* One probe for both questions: where ptr is, or where it would go.
 * Returns the slot; *found tells which.  pre: a->cap > 0. */
static size_t ml_probe_locked(ml_arena_t *a, uintptr_t ptr, bool *found) {
  size_t mask = a->cap - 1;
  for (size_t i = ml_slot(a, ptr);; i = (i + 1) & mask) {
    if (a->slots[i].ptr == ptr) {
      *found = true;
      return i;
    }
    if (!a->slots[i].ptr) {
      *found = false;
      return i;
    }
  }
}

bool ml_tables_insert(ml_tables_t *t, const ml_rec_t *r) {
  ml_arena_t *a = ml_tables_arena(t, r->ptr);
  bool ok = false, found = false;
  ml_lock(&a->lock);
  size_t i = a->cap ? ml_probe_locked(a, r->ptr, &found) : 0;
  if (found) {
    /* The address was handed out again without the free being seen. */
    a->n.replaced++;
    a->n.live_bytes -= ml_rec_size(&a->slots[i]);
    a->n.live_bytes += ml_rec_size(r);
    a->slots[i] = *r;
    a->n.allocs++;
    a->n.bytes_alloc += ml_rec_size(r);
    ok = true;
    goto out;
  }
  if (a->n.live >= a->max_live) goto drop;
  if ((a->n.live + 1) * 4 > a->cap * 3) {
    size_t want = a->cap ? a->cap * 2 : ML_TABLE_MIN_CAP;
    if (!ml_resize_locked(a, want)) goto drop;
    i = ml_probe_locked(a, r->ptr, &found);
  }
  a->slots[i] = *r;
  a->n.live++;
  a->n.live_bytes += ml_rec_size(r);
  a->n.allocs++;
  a->n.bytes_alloc += ml_rec_size(r);
  ok = true;
  goto out;
drop:
  a->n.dropped++;
out:
  ml_unlock(&a->lock);
  return ok;
}

bool ml_tables_remove(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out) {
  ml_arena_t *a = ml_tables_arena(t, ptr);
  ml_lock(&a->lock);
  size_t i = ml_lookup_locked(a, ptr);
  if (i == SIZE_MAX) {
    ml_unlock(&a->lock);
    return false;
  }
  size_t sz = ml_rec_size(&a->slots[i]);
  if (out) *out = a->slots[i];
  ml_erase_locked(a, i);
  a->n.live--;
  a->n.live_bytes -= sz;
  a->n.frees++;
  a->n.bytes_freed += sz;
  /* Shrink at 1/8 load so a burst does not pin memory forever. */
  if (a->cap > ML_TABLE_MIN_CAP && a->n.live * 8 < a->cap)
    (void)ml_resize_locked(a, a->cap / 2);
  ml_unlock(&a->lock);
  return true;
}

bool ml_tables_find(ml_tables_t *t, uintptr_t ptr, ml_rec_t *out) {
  ml_arena_t *a = ml_tables_arena(t, ptr);
  ml_lock(&a->lock);
  size_t i = ml_lookup_locked(a, ptr);
  if (i != SIZE_MAX && out) *out = a->slots[i];
  ml_unlock(&a->lock);
  return i != SIZE_MAX;
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

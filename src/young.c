/* SPDX-License-Identifier: MIT */
/*
 * young.c - per-thread caches of young records (young.h).  No lock but the
 * shared tables' during a move and while a growth is weighed; never
 * allocates through malloc; the frozen visit is async-signal-safe.
 */
#include "young.h"
#include "core.h"
#include "treg.h"
#include "unwind.h"
#include <string.h>

ML_TLS ml_young_t *ml_young_mine;
ML_TLS bool ml_young_none;
/* A cache too small for this thread, which it still writes until the
 * insert that found it so returns, given back on the next tracked
 * allocation; and the set bits of the next cache (0: by the threshold). */
static ML_TLS ml_young_t *ml_young_retiring;
static ML_TLS uint8_t ml_young_next_bits;
unsigned ml_young_grow_max = ML_YOUNG_SET_BITS_MAX;

static ml_treg_t ml_young_reg;

/* The tallies of threads without a cache (atomic: any thread adds). */
typedef struct ml_young_shared_tally_s {
  _Atomic uint64_t n, bytes;
} ml_young_shared_tally_t;
static struct {
  ml_young_shared_tally_t freed, out;
} ml_young_orphan;

/* Tally a record of sz bytes in mine, or in orphan when the thread has
 * no cache (mine NULL). */
static void ml_young_tally_or(ml_young_tally_t *mine, ml_young_shared_tally_t *orphan,
                              size_t sz) {
  if (mine) {
    ml_young_tally(mine, sz);
    return;
  }
  atomic_fetch_add_explicit(&orphan->n, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&orphan->bytes, sz, memory_order_relaxed);
}

static bool ml_young_off;

void ml_young_disable(void) { ml_young_off = true; }

/* The mapping of a cache of 2^bits sets. */
static size_t ml_young_bytes(unsigned bits) {
  return sizeof(ml_young_t) +
         ((size_t)1 << bits) * (sizeof(ml_young_set_t) + ML_YOUNG_WAYS * sizeof(uint64_t));
}

ML_NOINLINE ml_young_t *ml_young_thread_init(void) {
  uintptr_t lo, hi;
  if (ml_young_retiring) { /* grown out of (ml_young_weigh_moves): no longer written */
    ml_treg_release(ml_young_retiring);
    ml_young_retiring = NULL;
  }
  ml_young_none = true;
  if (ml_young_off) return NULL;
  ml_unwind_stack_bounds(&lo, &hi);
  if (hi <= 1) return NULL;
  unsigned index = 0;
  unsigned bits = ml_young_next_bits ? ml_young_next_bits
                  : ml_gate.threshold < ML_YOUNG_BELOW ? ML_YOUNG_SET_BITS_BELOW
                                                       : ML_YOUNG_SET_BITS;
  size_t n = (size_t)1 << bits;
  ml_young_t *y = ml_treg_claim(&ml_young_reg, ml_young_bytes(bits), hi, &index);
  if (!y) return NULL;
  if (!y->mask) { /* new (zero-filled); a cache taken over has the same size */
    y->mask = (unsigned)n - 1;
    y->seq_stack = (uint64_t(*)[ML_YOUNG_WAYS])(void *)&y->set[n];
  }
  y->hint = index + 1 < ML_PM_ANY ? (uint8_t)(index + 1) : ML_PM_ANY;
  /* A cache left by a thread that ended keeps its records (its blocks may
   * still be live) and counters: this thread carries on with them. */
  ml_young_none = false;
  ml_young_mine = y;
  return y;
}

void ml_young_thread_renew(void) {
  ml_young_t *y = ml_young_mine;
  ml_young_mine = NULL;
  if (y) ml_treg_release(y);
  if (ml_young_retiring) ml_treg_release(ml_young_retiring);
  ml_young_retiring = NULL;
  ml_young_next_bits = 0;
}

/* A move just left y, this thread's cache: weigh the moves since the last
 * time, every half a cache's worth of them.  At one allocation in 8 or
 * more, with at least 3 times y's records in the shared tables (so that
 * the new cache has no more ways than there are records), and if the
 * records' memory (tables and caches, the new one included) stays within
 * ML_YOUNG_META_BUDGET bytes per live tracked block, this thread's next
 * tracked block gets a cache 4 times larger (the insert under way still
 * goes to y).  The counts are read once per weighing, under the tables'
 * locks. */
static void ml_young_weigh_moves(ml_young_t *y) {
  uint64_t moved = y->out.n - y->window_out, ways = (uint64_t)ml_young_sets(y) * ML_YOUNG_WAYS;
  if (moved < ways / 2) return;
  uint64_t made = y->made.n - y->window_made;
  y->window_out = y->out.n;
  y->window_made = y->made.n;
  unsigned bits = ml_log2(ml_young_sets(y)) + ML_YOUNG_GROW_BITS;
  if (made > 8 * moved || bits > ml_young_grow_max || y != ml_young_mine) return;
  ml_counts_t shared, cached = {0};
  ml_tables_counts(&ml_core.tables, &shared);
  if (shared.live < 3 * ways) return;
  ml_young_counts_add(&cached);
  uint64_t live = shared.live + cached.live;
  size_t meta = ml_tables_metadata_bytes(&ml_core.tables) + ml_young_metadata_bytes() +
                ml_young_bytes(bits);
  if (meta > ML_YOUNG_META_BUDGET * live) return;
  ml_young_next_bits = (uint8_t)bits;
  ml_young_retiring = y;
  ml_young_mine = NULL;
}

void ml_young_thread_release(void) {
  ml_young_thread_renew();
  ml_young_none = true; /* the shared tables from now on */
}

bool ml_young_replace(ml_young_t *y, unsigned s, unsigned w, const ml_rec_t *r) {
  /* The address was handed out again without its free being seen: the old
   * record goes (counted as a replaced record, like the shared tables). */
  atomic_store_explicit(&y->set[s].key[w], 0, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  ml_young_tally(&y->out, (size_t)(y->set[s].size_tid[w] & ML_REC_SIZE_MAX));
  ml_tables_count_replaced(&ml_core.tables, r->ptr);
  ML_YOUNG_PUT(y->set[s].size_tid[w], r->size_tid);
  ML_YOUNG_PUT(y->seq_stack[s][w], r->seq_stack);
  atomic_store_explicit(&y->set[s].key[w], r->ptr, memory_order_release);
  ml_young_tally(&y->made, ml_rec_size(r));
  return true;
}

/* Set s is full: move its oldest record to the shared tables and
 * return its way, now empty. */
unsigned ml_young_evict(ml_young_t *y, unsigned s) {
  /* The oldest record (sequence numbers grow on a thread, and on the next
   * thread to take the cache over), of four (ML_YOUNG_WAYS). */
  const uint64_t *a = y->seq_stack[s]; /* the sequence number is the high part */
  unsigned w01 = a[1] < a[0], w23 = 2 + (a[3] < a[2]);
  unsigned w = a[w23] < a[w01] ? w23 : w01;
  _Atomic uintptr_t *k = &y->set[s].key[w];
  uintptr_t p = atomic_load_explicit(k, memory_order_relaxed);
  if (!p || !atomic_compare_exchange_strong(k, &p, p | ML_YOUNG_MOVING))
    return w; /* another thread freed it just now: the way is free */
  ml_rec_t r = {p, y->set[s].size_tid[w], y->seq_stack[s][w]};
  bool in = ml_tables_insert_moved(&ml_core.tables, &r);
  uintptr_t moving = p | ML_YOUNG_MOVING;
  if (atomic_compare_exchange_strong(k, &moving, 0)) {
    ml_young_tally(&y->out, ml_rec_size(&r));
    ml_young_weigh_moves(y);
    return w;
  }
  /* Freed by another thread during the move (which counted the free):
   * take the copy back out of the shared tables. */
  if (in) (void)ml_tables_remove_moved(&ml_core.tables, p, ml_rec_seq(&r));
  atomic_store_explicit(k, 0, memory_order_release);
  return w;
}

/* Take p's record out of cache y (not this thread's), set s. */
static bool ml_young_take_from(ml_young_t *y, unsigned s, uintptr_t p, ml_rec_t *out) {
  for (unsigned w = 0; w < ML_YOUNG_WAYS; w++) {
    _Atomic uintptr_t *k = &y->set[s].key[w];
    uintptr_t q = atomic_load_explicit(k, memory_order_acquire);
    while ((q & ~ML_YOUNG_FLAGS) == p && !(q & ML_YOUNG_FREED)) {
      /* Fields first: once the key is ours the owner may reuse them. */
      ml_rec_t r = {p, ML_YOUNG_GET(y->set[s].size_tid[w]), ML_YOUNG_GET(y->seq_stack[s][w])};
      uintptr_t to = q & ML_YOUNG_MOVING ? q | ML_YOUNG_FREED : 0;
      if (atomic_compare_exchange_strong(k, &q, to)) {
        ml_young_tally_or(ml_young_mine ? &ml_young_mine->freed : NULL,
                          &ml_young_orphan.freed, ml_rec_size(&r));
        if (out) *out = r;
        return true;
      }
    }
  }
  return false;
}

bool ml_young_take_other(uintptr_t p, ml_rec_t *out) {
  unsigned n = ml_treg_count(&ml_young_reg);
  for (unsigned i = 0; i < n; i++) {
    ml_young_t *y = ml_treg_get(&ml_young_reg, i);
    if (y && y != ml_young_mine && ml_young_take_from(y, ml_young_set(y, p), p, out))
      return true;
  }
  return false;
}

bool ml_young_take_hinted(uint8_t hint, uintptr_t p, ml_rec_t *out) {
  if (hint == 0 || hint == ML_PM_ANY) return false;
  ml_young_t *y = ml_treg_get(&ml_young_reg, hint - 1u);
  return y && y != ml_young_mine && ml_young_take_from(y, ml_young_set(y, p), p, out);
}

static ml_rec_t ml_young_rec(const ml_young_t *y, unsigned s, unsigned w, uintptr_t key) {
  ml_rec_t r = {key & ~ML_YOUNG_FLAGS, ML_YOUNG_GET(y->set[s].size_tid[w]),
                ML_YOUNG_GET(y->seq_stack[s][w])};
  return r;
}

/* Call fn(y, s, w, key, arg) for every way holding a record, live or
 * moving. */
typedef void (*ml_young_way_fn)(ml_young_t *y, unsigned s, unsigned w, uintptr_t key,
                                void *arg);
static void ml_young_each(ml_young_way_fn fn, void *arg) {
  unsigned n = ml_treg_count(&ml_young_reg);
  for (unsigned i = 0; i < n; i++) {
    ml_young_t *y = ml_treg_get(&ml_young_reg, i);
    if (!y) continue;
    for (unsigned s = 0; s < ml_young_sets(y); s++)
      for (unsigned w = 0; w < ML_YOUNG_WAYS; w++) {
        uintptr_t q = atomic_load_explicit(&y->set[s].key[w], memory_order_acquire);
        if (q && !(q & ML_YOUNG_FREED)) fn(y, s, w, q, arg);
      }
  }
}

bool ml_young_find(uintptr_t p, ml_rec_t *out) {
  unsigned n = ml_treg_count(&ml_young_reg);
  for (unsigned i = 0; i < n; i++) {
    ml_young_t *y = ml_treg_get(&ml_young_reg, i);
    if (!y) continue;
    unsigned s = ml_young_set(y, p);
    for (unsigned w = 0; w < ML_YOUNG_WAYS; w++) {
      uintptr_t q = atomic_load_explicit(&y->set[s].key[w], memory_order_acquire);
      if ((q & ~ML_YOUNG_FLAGS) != p || (q & ML_YOUNG_FREED)) continue;
      if (out) *out = ml_young_rec(y, s, w, q);
      return true;
    }
  }
  return false;
}

typedef struct ml_young_visit_s {
  bool frozen;
  ml_rec_fn fn;
  void *arg;
  size_t n;
} ml_young_visit_t;

static void ml_young_visit_one(ml_young_t *y, unsigned s, unsigned w, uintptr_t key, void *arg) {
  ml_young_visit_t *v = arg;
  ml_rec_t r = ml_young_rec(y, s, w, key);
  /* Not frozen: the owner runs on; a key that changed while the fields
   * were read may have had them rewritten. */
  if (!v->frozen && atomic_load_explicit(&y->set[s].key[w], memory_order_acquire) != key) return;
  if (key & ML_YOUNG_MOVING) {
    /* Caught midway through a move: counted here unless the shared
     * tables have it already. */
    ml_rec_t in;
    bool there = v->frozen ? ml_tables_find_frozen(&ml_core.tables, r.ptr, &in)
                           : ml_tables_find(&ml_core.tables, r.ptr, &in);
    if (there && ml_rec_seq(&in) == ml_rec_seq(&r)) return;
  }
  v->fn(&r, v->arg);
  v->n++;
}

size_t ml_young_visit(bool frozen, ml_rec_fn fn, void *arg) {
  ml_young_visit_t v = {frozen, fn, arg, 0};
  ml_young_each(ml_young_visit_one, &v);
  return v.n;
}

void ml_young_counts_add(ml_counts_t *sum) {
  ml_counts_t c = {0};
  unsigned n = ml_treg_count(&ml_young_reg);
  for (unsigned i = 0; i < n; i++) {
    const ml_young_t *y = ml_treg_get(&ml_young_reg, i);
    if (!y) continue;
    c.allocs += __atomic_load_n(&y->made.n, __ATOMIC_RELAXED);
    c.bytes_alloc += __atomic_load_n(&y->made.bytes, __ATOMIC_RELAXED);
    c.frees += __atomic_load_n(&y->freed.n, __ATOMIC_RELAXED);
    c.bytes_freed += __atomic_load_n(&y->freed.bytes, __ATOMIC_RELAXED);
    c.live -= __atomic_load_n(&y->out.n, __ATOMIC_RELAXED);
    c.live_bytes -= __atomic_load_n(&y->out.bytes, __ATOMIC_RELAXED);
  }
  c.frees += atomic_load_explicit(&ml_young_orphan.freed.n, memory_order_relaxed);
  c.bytes_freed += atomic_load_explicit(&ml_young_orphan.freed.bytes, memory_order_relaxed);
  c.live -= atomic_load_explicit(&ml_young_orphan.out.n, memory_order_relaxed);
  c.live_bytes -= atomic_load_explicit(&ml_young_orphan.out.bytes, memory_order_relaxed);
  /* Records in the caches: made, less freed from them, less moved out
   * (modulo 2^64: each part alone may wrap). */
  c.live += c.allocs - c.frees;
  c.live_bytes += c.bytes_alloc - c.bytes_freed;
  ml_counts_add(sum, &c);
}

typedef struct ml_young_filter_s {
  bool (*keep)(const ml_rec_t *, void *);
  void *arg;
  size_t dropped;
} ml_young_filter_t;

static void ml_young_filter_one(ml_young_t *y, unsigned s, unsigned w, uintptr_t key, void *arg) {
  ml_young_filter_t *f = arg;
  ml_rec_t r = ml_young_rec(y, s, w, key);
  if (key & ML_YOUNG_MOVING || f->keep(&r, f->arg)) return;
  if (atomic_compare_exchange_strong(&y->set[s].key[w], &key, 0)) {
    ml_young_tally_or(ml_young_mine ? &ml_young_mine->out : NULL, &ml_young_orphan.out,
                      ml_rec_size(&r)); /* no longer live */
    f->dropped++;
  }
}

size_t ml_young_filter(bool (*keep)(const ml_rec_t *, void *), void *arg) {
  ml_young_filter_t f = {keep, arg, 0};
  ml_young_each(ml_young_filter_one, &f);
  return f.dropped;
}

unsigned ml_young_caches(void) { return ml_treg_count(&ml_young_reg); }
uintptr_t ml_young_cache_at(unsigned i) { return (uintptr_t)ml_treg_get(&ml_young_reg, i); }

void ml_young_clear(void) {
  unsigned n = ml_treg_count(&ml_young_reg);
  for (unsigned i = 0; i < n; i++) {
    ml_young_t *y = ml_treg_get(&ml_young_reg, i);
    if (!y) continue;
    size_t sets = ml_young_sets(y);
    memset(&y->made, 0, sizeof y->made);
    memset(&y->freed, 0, sizeof y->freed);
    memset(&y->out, 0, sizeof y->out);
    memset(y->set, 0, sets * sizeof y->set[0]);
    memset(y->seq_stack, 0, sets * sizeof y->seq_stack[0]);
  }
  memset(&ml_young_orphan, 0, sizeof ml_young_orphan);
}

size_t ml_young_metadata_bytes(void) {
  size_t sum = 0;
  unsigned n = ml_treg_count(&ml_young_reg);
  for (unsigned i = 0; i < n; i++) {
    const ml_young_t *y = ml_treg_get(&ml_young_reg, i);
    if (y) sum += y->bytes;
  }
  return sum;
}

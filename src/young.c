/* SPDX-License-Identifier: MIT */
/*
 * young.c - per-thread caches of young records (young.h).  No lock but the
 * shared tables' during a move and while a growth is weighed; never
 * allocates through malloc (a cache is mapped; a cache that grew or shrank,
 * and an empty grown one given back, return their pages with madvise); the
 * frozen visit is async-signal-safe.
 */
#include "young.h"
#include "core.h"
#include "prim.h"
#include "treg.h"
#include "unwind.h"
#include <string.h>

ML_TLS ml_young_t *ml_young_mine;
ML_TLS uint8_t ml_young_mine_hint;
ML_TLS bool ml_young_none;
/* A cache too small for this thread, which it still writes until the
 * insert that found it so returns, given back on the next tracked
 * allocation; and the set bits of the next cache (0: by the threshold). */
static ML_TLS ml_young_t *ml_young_retiring;
static ML_TLS uint8_t ml_young_next_bits;
/* A cache this thread grew or shrank out of, whose records move to the one
 * that replaced it (its drain_to) a few sets at a time, and the next of its
 * sets to empty (ml_young_drain_begin). */
static ML_TLS ml_young_t *ml_young_draining;
static ML_TLS unsigned ml_young_drain_next;
unsigned ml_young_grow_max = ML_YOUNG_SET_BITS_MAX;
unsigned ml_young_meta_budget = ML_YOUNG_META_BUDGET;

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

static void ml_young_drain_begin(ml_young_t *old, ml_young_t *y);
static void ml_young_drain_finish(void);
static bool ml_young_take_from(ml_young_t *y, unsigned s, uintptr_t p, ml_rec_t *out);

/* The set bits of a thread's first cache. */
static unsigned ml_young_first_bits(void) {
  return ml_gate.threshold < ML_YOUNG_BELOW ? ML_YOUNG_SET_BITS_BELOW : ML_YOUNG_SET_BITS;
}

/* A cache whose records are moving out: its top matches no thread's stack
 * and is not 0 (given back), so ml_treg_claim never hands it out. */
#define ML_YOUNG_TOP_DRAINING ((uintptr_t)1)

/* This thread's cache from now on: one of 2^bits sets, into which the
 * records of old (its cache until now, or NULL) move. */
static ml_young_t *ml_young_take_cache(ml_young_t *old, unsigned bits) {
  uintptr_t lo, hi;
  ml_young_drain_finish(); /* one drain at a time (none is under way: the weighings wait) */
  if (old) __atomic_store_n(&old->top, ML_YOUNG_TOP_DRAINING, __ATOMIC_RELEASE);
  ml_young_none = true;
  ml_young_mine = NULL;
  ml_young_t *y = NULL;
  ml_unwind_stack_bounds(&lo, &hi);
  if (!ml_young_off && hi > 1) {
    unsigned index = 0;
    size_t n = (size_t)1 << bits;
    y = ml_treg_claim(&ml_young_reg, ml_young_bytes(bits), hi, &index);
    if (y) {
      if (!y->mask) { /* new (zero-filled); a cache taken over has the same size */
        y->mask = (unsigned)n - 1;
        y->seq_stack = (uint64_t(*)[ML_YOUNG_WAYS])(void *)&y->set[n];
      }
      __atomic_store_n(&y->discarded, false, __ATOMIC_RELAXED);
      y->window_freed = y->freed.n;
      y->hint = index + 1 < ML_PM_ANY ? (uint8_t)(index + 1) : ML_PM_ANY;
      /* A cache left by a thread that ended keeps its records (its blocks
       * may still be live) and counters: this thread carries on with them. */
      ml_young_none = false;
      ml_young_mine = y;
      ml_young_mine_hint = y->hint;
    }
  }
  if (old && y) ml_young_drain_begin(old, y);
  else if (old) ml_treg_release(old); /* its records are found as another thread's */
  return y;
}

ML_NOINLINE ml_young_t *ml_young_thread_init(void) {
  /* Grown out of (ml_young_weigh_moves): no longer written; its records
   * move to the new cache. */
  ml_young_t *old = ml_young_retiring;
  ml_young_retiring = NULL;
  return ml_young_take_cache(old, ml_young_next_bits ? ml_young_next_bits : ml_young_first_bits());
}

/* The ways of y that hold a record (live or moving): a read of every key. */
static uint64_t ml_young_records_in(ml_young_t *y) {
  uint64_t n = 0;
  for (unsigned s = 0; s < ml_young_sets(y); s++)
    n += (uint64_t)__builtin_popcount(ml_young_ways_of(y->set[s].key, 0) ^ 0xf);
  return n;
}

static void ml_young_drain_step(unsigned nsets);

/* y, this thread's cache, grew (ml_young_weigh_moves) and the thread has
 * freed ML_YOUNG_STEP_EVERY more blocks: when a cache with half the sets
 * would hold its records at a quarter of its ways or less, they move to
 * such a cache and y's memory is returned.  Weighed once the thread has
 * freed as many blocks as y has ways since y became its cache or was last
 * weighed, and by one halving at a time: python with every block tracked,
 * whose live blocks rise to a million and fall to none in each of its
 * rounds, moved a cache's records 21 times in 3 rounds when a weighing
 * every 16,384 frees shrank the cache to its first size at once.  The
 * records are counted (a read of every key) only when the thread's counts
 * say there may be so few: records made here or moved in, less those
 * moved out and this thread's frees (of any cache's records). */
static void ml_young_weigh_shrink(ml_young_t *y) {
  unsigned bits = ml_log2(ml_young_sets(y)), first = ml_young_first_bits();
  if (bits <= first || y != ml_young_mine) return;
  uint64_t ways = (uint64_t)ml_young_sets(y) * ML_YOUNG_WAYS;
  if (y->freed.n - y->window_freed < ways) return;
  y->window_freed = y->freed.n;
  uint64_t est = y->made.n + y->in.n - y->out.n - y->freed.n;
  if ((int64_t)est > (int64_t)(ways / 8)) return;
  if ((ways / 2) >= 4 * ml_young_records_in(y)) (void)ml_young_take_cache(y, bits - 1);
}

/* y's sets' pages go back to the system: it holds no record, and no
 * other thread can make one there (only its owner records). */
static void ml_young_discard(ml_young_t *y) {
  __atomic_store_n(&y->discarded, ml_prim_discard(y->set, y->bytes - sizeof(ml_young_t)),
                   __ATOMIC_RELAXED);
}

/* This thread gives y back; with its memory when it grew and holds no
 * record (a cache of the first size goes to the next thread soon, which
 * would fault its pages in again). */
static void ml_young_give_back(ml_young_t *y) {
  if (!y->discarded && ml_young_sets(y) > 1u << ml_young_first_bits() &&
      ml_young_records_in(y) == 0)
    ml_young_discard(y);
  ml_treg_release(y);
}

/* ml_young_every_frees (young.h): every ML_YOUNG_STEP_EVERY frees of this
 * thread, a step of its drain under way, or else the weighing of a shrink
 * (which waits for the drain: one at a time). */
ML_NOINLINE void ml_young_every_frees(ml_young_t *y) {
  if (ml_young_draining) ml_young_drain_step(ML_YOUNG_DRAIN_SETS);
  else ml_young_weigh_shrink(y);
}

void ml_young_thread_renew(void) {
  ml_young_drain_finish();
  ml_young_t *y = ml_young_mine;
  ml_young_mine = NULL;
  ml_young_mine_hint = 0;
  if (y) ml_young_give_back(y);
  if (ml_young_retiring) ml_young_give_back(ml_young_retiring);
  ml_young_retiring = NULL;
  ml_young_next_bits = 0;
}

/* A move just left y, this thread's cache: weigh the moves since the last
 * time, every eighth of a cache's worth of them (at every half, sqlite3's
 * cache of 65,536 ways moved 32,768 records to the shared tables before
 * its growth was weighed).  At one allocation in 8 or more, and if the
 * records' memory (the shared tables and the caches, y replaced by the new
 * one) stays within ML_YOUNG_META_BUDGET bytes per live tracked block, this
 * thread's next tracked block gets a cache with 2^ML_YOUNG_GROW_BITS times
 * the sets, where y's records then move (the insert under way still goes
 * to y).  The counts are read once per weighing, under the tables' locks. */
static void ml_young_weigh_moves(ml_young_t *y) {
  if (ml_young_draining) return; /* one drain at a time: weighed after it */
  uint64_t moved = y->out.n - y->window_out, ways = (uint64_t)ml_young_sets(y) * ML_YOUNG_WAYS;
  if (moved < ways / 8) return;
  uint64_t made = y->made.n - y->window_made;
  y->window_out = y->out.n;
  y->window_made = y->made.n;
  unsigned bits = ml_log2(ml_young_sets(y)) + ML_YOUNG_GROW_BITS;
  if (made > 8 * moved || bits > ml_young_grow_max || y != ml_young_mine) return;
  ml_counts_t live = {0};
  ml_tables_counts(&ml_core.tables, &live);
  ml_young_counts_add(&live);
  size_t meta = ml_tables_metadata_bytes(&ml_core.tables) + ml_young_metadata_bytes() -
                y->bytes + ml_young_bytes(bits);
  if (meta > ml_young_meta_budget * live.live) return;
  ml_young_next_bits = (uint8_t)bits;
  ml_young_retiring = y;
  ml_young_mine = NULL;
}

/* Searches that found no record look again when records moved from one
 * cache to another meanwhile (ml_young_drain_gen). */
static _Atomic uint64_t ml_young_drained;

uint64_t ml_young_drain_gen(void) {
  return atomic_load_explicit(&ml_young_drained, memory_order_acquire);
}

bool ml_young_drained_since(uint64_t *gen) {
  uint64_t now = ml_young_drain_gen();
  bool moved = now != *gen;
  *gen = now;
  return moved;
}

/* Put r, a record moving from a cache this thread grew out of, in y, its
 * new cache, without moving any out: 1 (*key is where), 0 when its set is
 * full, -1 when y holds a record of that address already (made after its
 * free went unseen: r is the stale one). */
static int ml_young_put_moved(ml_young_t *y, const ml_rec_t *r, _Atomic uintptr_t **key) {
  unsigned s = ml_young_set(y, r->ptr), w = ml_young_home(r->ptr);
  _Atomic uintptr_t *k = y->set[s].key;
  if (atomic_load_explicit(&k[w], memory_order_relaxed) != 0) {
    bool same;
    w = ml_young_way_away(k, r->ptr, &same);
    if (same) return -1;
    if (w == ML_YOUNG_WAYS) return 0;
  }
  ML_YOUNG_PUT(y->set[s].size_tid[w], r->size_tid);
  ML_YOUNG_PUT(y->seq_stack[s][w], r->seq_stack);
  atomic_store_explicit(&k[w], r->ptr, memory_order_release);
  *key = &k[w];
  return 1;
}

/* Move the record in way w of set s of from to cache to (the cache this
 * thread grows or shrinks into: ml_young_drain) or, when to is NULL or its
 * set is full, to the shared tables (ml_young_evict): marked moving,
 * copied, then taken out of from unless another thread freed its block
 * meanwhile (that thread counted the free; the copy is taken back out).
 * True when the record left from; false when the way was empty or its
 * block was freed. */
ML_TESTABLE bool ml_young_move_way(ml_young_t *from, unsigned s, unsigned w, ml_young_t *to) {
  _Atomic uintptr_t *k = &from->set[s].key[w];
  uintptr_t p = atomic_load_explicit(k, memory_order_relaxed);
  if (!p || (p & ML_YOUNG_FLAGS) || !atomic_compare_exchange_strong(k, &p, p | ML_YOUNG_MOVING))
    return false;
  ml_rec_t r = {p, from->set[s].size_tid[w], from->seq_stack[s][w]};
  _Atomic uintptr_t *dst = NULL;
  int put = to ? ml_young_put_moved(to, &r, &dst) : 0;
  bool in = put == 0 && ml_tables_insert_moved(&ml_core.tables, &r);
  /* A drain, before the record leaves from: a search that looked in to
   * before the record got there and in from after it left sees the count
   * change. */
  if (to) atomic_fetch_add_explicit(&ml_young_drained, 1, memory_order_acq_rel);
  uintptr_t moving = p | ML_YOUNG_MOVING;
  if (atomic_compare_exchange_strong(k, &moving, 0)) {
    ml_young_tally(&from->out, ml_rec_size(&r));
    if (put > 0) ml_young_tally(&to->in, ml_rec_size(&r));
    if (put == 0) from->moves++;
    if (put < 0) ml_tables_count_replaced(&ml_core.tables, p);
    return true;
  }
  if (put > 0) atomic_store_explicit(dst, 0, memory_order_release);
  if (in) (void)ml_tables_remove_moved(&ml_core.tables, p, ml_rec_seq(&r));
  atomic_store_explicit(k, 0, memory_order_release);
  return false;
}

/* This thread's cache was old and is now y (larger or smaller): every
 * record of old moves to y (to the shared tables where y's set is full),
 * ML_YOUNG_DRAIN_SETS sets at a time, once per batch of sequence numbers
 * (ML_SEQ_BATCH tracked blocks) and per ML_YOUNG_STEP_EVERY own frees;
 * then old is given back empty, its sets' pages returned to the system.
 * Meanwhile old stays in the registry, where searches find its records
 * (this thread's own frees look there first: ml_young_take_draining), and
 * its drain_to names y for snapshots.  The whole drain at once paused the
 * allocating thread for 7.5 ms at a growth to 2^16 sets (two million
 * tracked blocks in a loop), 60 ms at 2^20 (bench/README.md, "Drains a
 * few sets at a time").  Records that stayed behind in a cache given back
 * used to stay there until their blocks were freed (each free then took it
 * from another thread's cache), and so did their memory, which held back
 * the next growth: sqlite3 kept 2 MiB of caches that way and moved 102,765
 * records to the shared tables (bench/README.md, "Record caches that grow
 * in place, and shrink"). */
static void ml_young_drain_begin(ml_young_t *old, ml_young_t *y) {
  atomic_store_explicit(&old->drain_to, y, memory_order_release);
  ml_young_draining = old;
  ml_young_drain_next = 0;
}

/* Empty the next nsets sets of the cache being drained; give it back when
 * none is left. */
static void ml_young_drain_step(unsigned nsets) {
  ml_young_t *old = ml_young_draining;
  ml_young_t *y = atomic_load_explicit(&old->drain_to, memory_order_relaxed);
  unsigned end = ml_young_sets(old) - ml_young_drain_next > nsets ? ml_young_drain_next + nsets
                                                                 : ml_young_sets(old);
  for (unsigned s = ml_young_drain_next; s < end; s++)
    for (unsigned w = 0; w < ML_YOUNG_WAYS; w++) (void)ml_young_move_way(old, s, w, y);
  ml_young_drain_next = end;
  if (end < ml_young_sets(old)) return;
  ml_young_draining = NULL;
  atomic_store_explicit(&old->drain_to, NULL, memory_order_release);
  ml_young_discard(old); /* every key is 0 now: only its owner inserts */
  ml_treg_release(old);
}

/* The rest of the drain under way, if any, at once. */
static void ml_young_drain_finish(void) {
  if (ml_young_draining) ml_young_drain_step(ml_young_sets(ml_young_draining));
}

void ml_young_drain_some(void) {
  if (ml_unlikely(ml_young_draining != NULL)) ml_young_drain_step(ML_YOUNG_DRAIN_SETS);
}

bool ml_young_take_draining(uintptr_t p, ml_rec_t *out) {
  ml_young_t *old = ml_young_draining;
  return old && ml_young_take_from(old, ml_young_set(old, p), p, out);
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
  /* (a way whose block another thread freed just now is free too) */
  if (ml_young_move_way(y, s, w, NULL)) ml_young_weigh_moves(y);
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

#ifdef ML_TESTING
void (*ml_young_search_hook)(ml_young_t *y);
ml_young_t *ml_young_drain_from(void) { return ml_young_draining; }
#endif

bool ml_young_take_other(uintptr_t p, ml_rec_t *out) {
  unsigned n = ml_treg_count(&ml_young_reg);
  for (unsigned i = 0; i < n; i++) {
    ml_young_t *y = ml_treg_get(&ml_young_reg, i);
    if (y && y != ml_young_mine && ml_young_take_from(y, ml_young_set(y, p), p, out))
      return true;
#ifdef ML_TESTING
    if (y && ml_young_search_hook) ml_young_search_hook(y);
#endif
  }
  return false;
}

bool ml_young_take_hinted(uint8_t hint, uintptr_t p, ml_rec_t *out) {
  if (hint == 0 || hint == ML_PM_ANY) return false;
  ml_young_t *y = ml_treg_get(&ml_young_reg, hint - 1u);
  /* A cache given back empty (a hint of a page whose records moved when
   * their thread's cache grew or shrank) holds none; a thread that took it
   * over meanwhile is looked at by the full search. */
  return y && y != ml_young_mine && !__atomic_load_n(&y->discarded, __ATOMIC_RELAXED) &&
         ml_young_take_from(y, ml_young_set(y, p), p, out);
}

/* Whether y holds p's record of sequence number seq, live (not moving). */
static bool ml_young_holds(ml_young_t *y, uintptr_t p, uint64_t seq) {
  unsigned s = ml_young_set(y, p);
  for (unsigned w = 0; w < ML_YOUNG_WAYS; w++)
    if (atomic_load_explicit(&y->set[s].key[w], memory_order_acquire) == p &&
        ML_YOUNG_GET(y->seq_stack[s][w]) >> ML_REC_STACK_BITS == seq)
      return true;
  return false;
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
      ml_rec_t r = ml_young_rec(y, s, w, q);
      /* The owner runs on: fields read while the key changed may be
       * another record's (the visit's check); look at the way again. */
      if (atomic_load_explicit(&y->set[s].key[w], memory_order_acquire) != q) {
        w--;
        continue;
      }
      if (out) *out = r;
      return true;
    }
#ifdef ML_TESTING
    if (ml_young_search_hook) ml_young_search_hook(y);
#endif
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
    /* Caught midway through a move: counted here unless the cache it
     * moves to or the shared tables have it already. */
    ml_young_t *to = atomic_load_explicit(&y->drain_to, memory_order_acquire);
    if (to && ml_young_holds(to, r.ptr, ml_rec_seq(&r))) return;
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

uint64_t ml_young_moves(void) {
  uint64_t n = 0;
  for (unsigned i = 0, end = ml_treg_count(&ml_young_reg); i < end; i++) {
    const ml_young_t *y = ml_treg_get(&ml_young_reg, i);
    if (y) n += __atomic_load_n(&y->moves, __ATOMIC_RELAXED);
  }
  return n;
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
    c.live += __atomic_load_n(&y->in.n, __ATOMIC_RELAXED);
    c.live_bytes += __atomic_load_n(&y->in.bytes, __ATOMIC_RELAXED);
  }
  c.frees += atomic_load_explicit(&ml_young_orphan.freed.n, memory_order_relaxed);
  c.bytes_freed += atomic_load_explicit(&ml_young_orphan.freed.bytes, memory_order_relaxed);
  c.live -= atomic_load_explicit(&ml_young_orphan.out.n, memory_order_relaxed);
  c.live_bytes -= atomic_load_explicit(&ml_young_orphan.out.bytes, memory_order_relaxed);
  /* Records in the caches: made, less freed from them, less moved out,
   * plus moved in (modulo 2^64: each part alone may wrap). */
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
    memset(&y->in, 0, sizeof y->in);
    y->moves = 0;
    y->window_freed = 0;
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
    if (y) sum += y->discarded ? sizeof *y : y->bytes;
  }
  return sum;
}

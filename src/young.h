/* SPDX-License-Identifier: MIT */
/*
 * young.h - per-thread caches of young records (layer: core).
 *
 * Most tracked blocks are freed by the thread that allocated them, soon.
 * Their records live in a cache of the allocating thread (a treg.h block:
 * sets of ML_YOUNG_WAYS records, how many by the threshold; the set and
 * the way to try first, the record's home, chosen by address) written
 * with plain stores by that thread alone, so such a pair takes no
 * lock and no atomic instruction.  A record leaves the cache when its
 * block is freed, or when its set is full and it is the oldest there: it
 * then moves to the shared tables (table.h), which hold long-lived records.
 * A thread that frees a block whose record is in another thread's cache
 * takes it out with a compare-and-swap.
 *
 * A cache too small for its thread grows: when at least one tracked
 * allocation in 8 moves a record out (weighed over every eighth of a
 * cache's worth of moves) and the records' memory stays within 64 bytes
 * per live tracked block with the new cache in the old one's place, the
 * thread makes one with twice the sets, up to 2^ML_YOUNG_SET_BITS_MAX
 * (24 MiB), moves the old cache's records there a few sets at a time (as
 * a move to the shared tables goes, below: marked, copied, taken out; on
 * the thread's next allocations and frees, young.c), and gives the old one
 * back with its memory returned to the system (MADV_DONTNEED); so does a
 * thread that ends with an empty grown cache.  A grown cache whose records
 * would fill a quarter of one with half the sets or less moves them there,
 * weighed after as many frees on its thread as it has ways.  A move to the shared tables costs
 * a lock and a cache miss there, and the later free another: sqlite3,
 * which keeps up to 125,000 tracked blocks, moved almost every record
 * (bench/README.md, "Record caches that grow"; "... in place, and shrink").
 *
 * A record's key word is its block address with two flag bits:
 *   0                 empty
 *   p                 live
 *   p|MOVING          the owner is moving it to the shared tables
 *   p|MOVING|FREED    another thread freed the block meanwhile
 * The owner: 0 -> p (insert: fields first, then the key with release),
 * p -> 0 (its own free: a plain store), p -> p|MOVING -> 0 (a move, both
 * CAS; the second fails when FREED was added: the owner then takes the
 * moved record back out of the shared tables).  Any other thread: p -> 0
 * and p|MOVING -> p|MOVING|FREED, by CAS (a cross-thread free).
 *
 * Which cache?  A thread writes 1 + its cache's index into the page-map
 * byte of each page where it records a block (pagemap.h; ML_PM_ANY when
 * the index does not fit), so a free on another thread looks in that
 * cache first, then in the shared tables (where a long-lived record is),
 * and only then in every cache and the tables again: the byte is a hint (a
 * page can hold blocks of several threads), the full search keeps the
 * order that cannot miss a record being moved.  Without it a free of a
 * long-lived record looked at every thread's cache first.
 *
 * Counters, per cache, written by the owner only: records made here,
 * records this thread removed (from any cache: a free), records moved out
 * of this cache; summed by readers.  A snapshot reads the caches without a
 * lock (every key is read once; a record being moved is counted where the
 * shared tables do not have it yet).  Never allocates through malloc; no
 * lock except the shared tables' during a move (and their counts' when a
 * growth is weighed).
 */
#ifndef ML_YOUNG_H
#define ML_YOUNG_H

#include "options.h"
#include "pagemap.h"
#include "table.h"

/* Sets per cache, by the threshold when the cache is made (then grown as
 * its thread needs: above): 1024 sets of 4
 * (4096 records, 96 KiB mapped per thread, touched as used) at the default
 * threshold and above; 4096 sets (16384 records, 384 KiB) below it, where
 * a thread holds many more live tracked blocks.  512 sets filled up in the
 * mixed workload (about 1100 live tracked blocks per thread): the moves of
 * their oldest records to the shared tables, and the frees that then look
 * there, made it 1.72-1.75x jemalloc's time against 1.63-1.69x with 1024.
 * With every block tracked (4096 live blocks per thread) 1024 sets sent
 * half the records to the shared tables: 3.5-3.8x against 2.4-2.7x with
 * 4096 sets (bench/README.md, "Record caches: home ways, sized by the
 * threshold"); at the default threshold 4096 sets cost the mixed workload
 * 2 ns per pair (their lines are spread wider). */
#define ML_YOUNG_SET_BITS 10       /* at the default threshold and above */
#define ML_YOUNG_SET_BITS_BELOW 12 /* below it */
#define ML_YOUNG_SET_BITS_MAX 18   /* a grown cache's most (ml_young_set) */
#define ML_YOUNG_GROW_BITS 1       /* a cache that grows has twice the sets */
#define ML_YOUNG_STEP_EVERY 64    /* own frees between steps of a drain or weighings of
                                    a shrink (ml_young_every_frees, young.c) */
#define ML_YOUNG_DRAIN_SETS 64     /* sets a step of a drain empties (young.c) */
#define ML_YOUNG_META_BUDGET 64    /* bytes of records' memory per live tracked block */
#define ML_YOUNG_BELOW ML_DEFAULT_MIN_SIZE /* the default threshold (options.def) */
#define ML_YOUNG_WAYS 4 /* two hash bits name a home (ml_young_home); ml_young_evict compares four */
#define ML_YOUNG_MOVING ((uintptr_t)1)
#define ML_YOUNG_FREED ((uintptr_t)2)
#define ML_YOUNG_FLAGS (ML_YOUNG_MOVING | ML_YOUNG_FREED)

/* Records and their requested bytes. */
typedef struct ml_young_tally_s {
  uint64_t n, bytes;
} ml_young_tally_t;

ML_INLINE void ml_young_tally(ml_young_tally_t *t, size_t bytes) {
  t->n++;
  t->bytes += bytes;
}

/* A set's keys and sizes share one cache line: a free reads that line
 * only, an insert writes it and the set's line of seq_stack (callgrind's
 * cache model, the mixed workload: one level-1 miss less per tracked free
 * and per tracked allocation than with keys and sizes in arrays of their
 * own). */
typedef struct ml_young_set_s {
  _Atomic uintptr_t key[ML_YOUNG_WAYS];
  uint64_t size_tid[ML_YOUNG_WAYS];
} __attribute__((aligned(64))) ml_young_set_t;

/* The header's first line holds what other threads read on every free
 * they make of a record here (the mask, the arrays); the owner's counters,
 * written on every insert and free, start a line of their own: in one line,
 * each of the owner's writes took the line from the thread that freed its
 * last block (bench/README.md, "Cross-thread frees"). */
typedef struct ml_young_s {
  uintptr_t top;                 // the stack it serves (treg.h): first
  size_t bytes;                  // the mapping's size (treg.h): second
  uint8_t hint;                  // what its thread writes in the page map: 1 + its
                                 // index in the registry, or ML_PM_ANY past 253
  bool discarded;                // given back empty, its sets' pages returned
  unsigned mask;                 // its sets (a power of two) - 1
  uint64_t (*seq_stack)[ML_YOUNG_WAYS]; // per set, after set[]
  struct ml_young_s *_Atomic drain_to; // while this cache's records move to the
                                       // cache its thread grew or shrank into
                                       // (a few sets at a time): that cache
  ml_young_tally_t made __attribute__((aligned(64))); // records made in this cache
  ml_young_tally_t freed;         // records this thread removed (any cache)
  ml_young_tally_t out;           // records that left this cache otherwise
  ml_young_tally_t in;            // records that came from a cache this thread
                                  // grew out of (ml_young_drain, young.c)
  uint64_t moves;                 // records moved to the shared tables from here
  uint64_t window_made, window_out; // made.n and out.n when the moves were last
                                    // weighed (ml_young_weigh_moves, young.c)
  uint64_t window_freed;          // freed.n when it became its thread's cache or its
                                  // records were last counted (ml_young_every_frees)
  ml_young_set_t set[];           // mask + 1 sets
} ml_young_t;

ML_INLINE unsigned ml_young_sets(const ml_young_t *y) { return y->mask + 1; }

/* A record's fields are written by the owner and read by other threads
 * only where the key says they are valid; a reader that raced a rewrite
 * finds the key changed and drops what it read.  Relaxed atomics (plain
 * moves on x86-64) say so to the compiler and to TSan. */
#define ML_YOUNG_PUT(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define ML_YOUNG_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

extern ML_TLS ml_young_t *ml_young_mine ML_HIDDEN; // NULL until the first insert
                                                   // (and after a growth,
                                                   // ml_young_weigh_moves, until the next)
extern ML_TLS bool ml_young_none ML_HIDDEN;        // this thread has no cache
/* The page-map hint of the cache this thread records in (0: none yet, or
 * given back).  Only a free's first look goes by it (ml_track_take_first):
 * it stays through a growth, until the new cache's first record. */
extern ML_TLS uint8_t ml_young_mine_hint ML_HIDDEN;

/* p's set in y: the hash's top bits, as many as the largest cache takes,
 * masked by y's size (the mask's load runs beside the hash's multiply; a
 * shift by the size waited for it: 10 instructions more per tracked pair). */
ML_INLINE unsigned ml_young_set(const ml_young_t *y, uintptr_t p) {
  return (unsigned)(ml_hash_ptr(p) >> (64 - ML_YOUNG_SET_BITS_MAX)) & y->mask;
}

ml_young_t *ml_young_thread_init(void) ML_HIDDEN;

/* This thread is ending: its cache, with its records (their blocks may
 * live on; a grown one without any returns its memory), goes to the next thread
 * that needs one (treg.h); anything the
 * thread records from now on goes to the shared tables, and its frees of
 * blocks recorded in the cache take them out as another thread's would.
 * pre: not on an allocation path. */
void ml_young_thread_release(void) ML_HIDDEN;

/* This thread gives its cache back (its records stay there, found as
 * another thread's are) and gets a new one, sized for the threshold then,
 * on its next tracked block.  For benchmarks and tests that change the
 * threshold at run time.  pre: not on an allocation path. */
void ml_young_thread_renew(void) ML_HIDDEN;

/* No thread gets a cache from now on (the link-time flavour: there a block
 * freed outside the wrapped library is found stale when its address comes
 * back, which the shared tables see on any thread and a cache only on its
 * own). */
void ml_young_disable(void) ML_HIDDEN;

/* The most set bits a cache grows to (ML_YOUNG_SET_BITS_MAX; tests lower
 * it to keep a cache's size), and the bytes of records' memory per live
 * tracked block a growth may reach (ML_YOUNG_META_BUDGET; tests raise it
 * to make caches grow). */
extern unsigned ml_young_grow_max ML_HIDDEN;
extern unsigned ml_young_meta_budget ML_HIDDEN;
unsigned ml_young_evict(ml_young_t *y, unsigned s) ML_HIDDEN;
void ml_young_every_frees(ml_young_t *y) ML_HIDDEN;

/* A step of the drain under way on this thread, if any (a cache it grew
 * or shrank out of: young.c); the recorder calls it once per batch of
 * sequence numbers, ML_SEQ_BATCH tracked blocks.  pre: guard held. */
void ml_young_drain_some(void) ML_HIDDEN;

/* Take p's record out of the cache this thread is draining, if any (its
 * own frees of blocks recorded before a growth). */
bool ml_young_take_draining(uintptr_t p, ml_rec_t *out) ML_HIDDEN;
bool ml_young_replace(ml_young_t *y, unsigned s, unsigned w, const ml_rec_t *r) ML_HIDDEN;

/* This thread's cache, made on its first tracked block; NULL when it has
 * none. */
ML_INLINE ml_young_t *ml_young_get(void) {
  ml_young_t *y = ml_young_mine;
  if (ml_unlikely(!y) && !ml_young_none) y = ml_young_thread_init();
  return y;
}

/* The page-map hint this thread writes: its cache's (made on the thread's
 * first tracked block), or ML_PM_ANY without one. */
ML_INLINE uint8_t ml_young_hint(void) {
  ml_young_t *y = ml_young_get();
  return y ? y->hint : ML_PM_ANY;
}

/* A record's home way: the two hash bits after those of the largest set
 * index.  An insert puts the record there when it is empty, and a free
 * looks there first, so both know the way from the address alone: which
 * way holds a record is otherwise a coin toss in a program that allocates
 * at random, and a search that stops at it mispredicted about once per
 * tracked allocation and once per tracked free (bench/README.md, "Record
 * caches: home ways").  Away from home (its home was taken) a record is
 * found by comparing every way, without a branch per way.  The way a store goes to never waits for the keys' loads
 * where the home is free: a search whose result picks the way made a loop
 * of allocations and frees of one block wait for each store to reach the
 * next load (+7 ns per tracked pair). */
ML_INLINE unsigned ml_young_home(uintptr_t p) {
  return (unsigned)(ml_hash_ptr(p) >> (64 - 2 - ML_YOUNG_SET_BITS_MAX)) & (ML_YOUNG_WAYS - 1);
}

/* The ways of keys k (read once each) that hold v: bit w for way w. */
ML_INLINE unsigned ml_young_ways_of(_Atomic uintptr_t *k, uintptr_t v) {
#define ML_YOUNG_IS(w) ((unsigned)(atomic_load_explicit(&k[w], memory_order_relaxed) == v) << (w))
  return ML_YOUNG_IS(0) | ML_YOUNG_IS(1) | ML_YOUNG_IS(2) | ML_YOUNG_IS(3);
#undef ML_YOUNG_IS
}

/* The way for a record of p in set s whose home is taken, or which is
 * there already (*same), or ML_YOUNG_WAYS when the set is full. */
ML_INLINE unsigned ml_young_way_away(_Atomic uintptr_t *k, uintptr_t p, bool *same) {
  unsigned m = ml_young_ways_of(k, p);
  *same = m != 0;
  if (!m) m = ml_young_ways_of(k, 0);
  return (unsigned)__builtin_ctz(m | 1u << ML_YOUNG_WAYS);
}

/* Record r in y, this thread's cache.  Always true (a full set gives its
 * oldest record to the shared tables). */
ML_INLINE bool ml_young_insert_in(ml_young_t *y, const ml_rec_t *r) {
  unsigned s = ml_young_set(y, r->ptr), w = ml_young_home(r->ptr);
  _Atomic uintptr_t *k = y->set[s].key;
  /* Home taken: by another record, or by one of this address (handed out
   * again without its free seen: replaced).  Away from home the whole set
   * is checked for one; a record of this address away from home while its
   * home is free is not looked for (+20 instructions per tracked pair): no
   * free is missed under the preload, and the search that stopped at the
   * first free way before missed such a record as well. */
  if (ml_unlikely(atomic_load_explicit(&k[w], memory_order_relaxed) != 0)) {
    bool same;
    w = ml_young_way_away(k, r->ptr, &same);
    if (ml_unlikely(same)) {
      ml_rec_t c = *r; /* in memory on this path only */
      return ml_young_replace(y, s, w, &c);
    }
    if (ml_unlikely(w == ML_YOUNG_WAYS)) w = ml_young_evict(y, s);
  }
  ML_YOUNG_PUT(y->set[s].size_tid[w], r->size_tid);
  ML_YOUNG_PUT(y->seq_stack[s][w], r->seq_stack);
  atomic_store_explicit(&k[w], r->ptr, memory_order_release);
  ml_young_tally(&y->made, ml_rec_size(r));
  return true;
}

/* Record r in this thread's cache.  False when the thread has none (the
 * caller records it in the shared tables). */
ML_INLINE bool ml_young_insert(const ml_rec_t *r) {
  ml_young_t *y = ml_young_get();
  return y && ml_young_insert_in(y, r);
}

/* Take p's record out of this thread's own cache (the common free). */
ML_INLINE bool ml_young_take_own(uintptr_t p, ml_rec_t *out) {
  ml_young_t *y = ml_young_mine;
  if (ml_unlikely(!y)) return false;
  unsigned s = ml_young_set(y, p), w = ml_young_home(p);
  _Atomic uintptr_t *k = y->set[s].key;
  /* One way at most holds p (ml_young_insert_in). */
  if (ml_unlikely(atomic_load_explicit(&k[w], memory_order_relaxed) != p)) {
    w = (unsigned)__builtin_ctz(ml_young_ways_of(k, p) | 1u << ML_YOUNG_WAYS);
    if (ml_unlikely(w == ML_YOUNG_WAYS)) return false;
  }
  size_t sz = (size_t)(y->set[s].size_tid[w] & ML_REC_SIZE_MAX);
  if (out) {
    out->ptr = p;
    out->size_tid = y->set[s].size_tid[w];
    out->seq_stack = y->seq_stack[s][w];
  }
  atomic_store_explicit(&k[w], 0, memory_order_relaxed);
  atomic_thread_fence(memory_order_release); /* the key is cleared first */
  ml_young_tally(&y->freed, sz);
  if (ml_unlikely((y->freed.n & (ML_YOUNG_STEP_EVERY - 1)) == 0)) ml_young_every_frees(y);
  return true;
}

/* Take p's record out of another thread's cache: any (take_other), or the
 * one whose hint is `hint` (take_hinted). */
bool ml_young_take_other(uintptr_t p, ml_rec_t *out) ML_HIDDEN;
bool ml_young_take_hinted(uint8_t hint, uintptr_t p, ml_rec_t *out) ML_HIDDEN;




#ifdef ML_TESTING
/* Called by ml_young_take_other and ml_young_find after each cache they
 * looked in.  ml_young_move_way moves the record in way w of set s of
 * from to cache to as a growth does (to the shared tables: to NULL). */
extern void (*ml_young_search_hook)(ml_young_t *y) ML_HIDDEN;
bool ml_young_move_way(ml_young_t *from, unsigned s, unsigned w, ml_young_t *to) ML_HIDDEN;
/* The cache this thread is draining (NULL: none). */
ml_young_t *ml_young_drain_from(void) ML_HIDDEN;
#endif

/* Look p up in every cache without removing it. */
bool ml_young_find(uintptr_t p, ml_rec_t *out) ML_HIDDEN;

/* Call fn for every record in the caches.  frozen: a snapshot
 * (async-signal-safe). */
size_t ml_young_visit(bool frozen, ml_rec_fn fn, void *arg) ML_HIDDEN;
/* Add the caches' counters to *sum (each read once, without a lock). */
void ml_young_counts_add(ml_counts_t *sum) ML_HIDDEN;

/* Drop the records for which keep is false (ml_tables_filter's twin). */
size_t ml_young_filter(bool (*keep)(const ml_rec_t *, void *), void *arg) ML_HIDDEN;

/* The caches made so far, and where cache i is (0 while being made): the
 * leak scan must not take them for roots. */
unsigned ml_young_caches(void) ML_HIDDEN;
uintptr_t ml_young_cache_at(unsigned i) ML_HIDDEN;

/* Forget every record and count of every cache (tests, between cases). */
void ml_young_clear(void) ML_HIDDEN;

/* Changes whenever a record moves from one cache to another: a search of
 * every cache that found nothing looks again when this changed since it
 * started (a record may have left a cache not yet looked at for one
 * looked at already). */
uint64_t ml_young_drain_gen(void) ML_HIDDEN;
/* Whether a record moved from one cache to another since *gen was read
 * (ml_young_drain_gen); *gen then becomes the count now. */
bool ml_young_drained_since(uint64_t *gen) ML_HIDDEN;

/* Records moved from the caches to the shared tables so far. */
uint64_t ml_young_moves(void) ML_HIDDEN;

/* Bytes mapped for the caches. */
size_t ml_young_metadata_bytes(void) ML_HIDDEN;

#endif /* ML_YOUNG_H */

/* SPDX-License-Identifier: MIT */
/*
 * bm_mixed.c - a mixed workload (issue #5): a ring of live blocks, each
 * operation freeing a slot's old block and allocating a new one in its
 * place, with sizes from a fixed pseudo-random sequence (80% under 1 KiB,
 * 20% from 1 to 16 KiB, so at the default threshold of 1024 bytes about a
 * fifth of the blocks are tracked), at the bottom of a call chain of
 * BM_CHAIN_DEPTH frames, on 1, 2 and 4 threads.
 *
 * The ring is shared by all threads (BM_RING_SLOTS slots per thread): each
 * thread picks slots by its own pseudo-random sequence and swaps its new
 * block in with an atomic exchange, so with T threads about (T-1)/T of the
 * frees are of blocks another thread allocated (cross-thread frees, as a
 * producer/consumer program makes).  One iteration is one pair (a malloc and
 * a free); time is wall time over the pairs of all threads, so
 * t(1 thread) / t(2 threads) is the scaling.
 *
 * After its loop, thread 0 drains the ring and leaks BM_LEAKS tracked blocks
 * on purpose; the run fails unless the front then holds exactly BM_LEAKS
 * more live records than before (memledger sides) or none (jemalloc alone):
 * the accounting stays exact under cross-thread frees.
 *
 * Beside jemalloc and memledger's sides, the floor's (bm_floor_malloc):
 * the least any exact tracker by address adds to jemalloc here.
 */
#include "bm.h"
#include "bm_stack.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BM_RING_SLOTS 4096 // per thread
#define BM_SIZES 65536     // the size sequence, a power of two
#define BM_LEAKS 16        // tracked blocks leaked per run
#define BM_MAX_THREADS 4

static uint32_t bm_sizes[BM_SIZES];

typedef struct bm_mix_s {
  const char *side;
  void *(*volatile alloc)(size_t);
  void (*volatile release)(void *);
  bm_unwind_t mode; // 0: jemalloc alone, or memledger without a capture set
  int tracked;
  int all; // track every block (MEMLEDGER_MIN_SIZE=0; the floor: record every block)
  int floor; // bm_floor_t: not memledger, the floor of exact tracking
  int calibrated;
  bm_calib_t cal;
  void **ring; // shared by the threads of a run
  size_t slots;
  uint64_t live_before;
} bm_mix_t;

typedef struct bm_mix_run_s {
  bm_state *st;
  bm_mix_t *c;
  uint64_t seed;
} bm_mix_run_t;

BM_INLINE uint64_t bm_xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static void bm_sizes_init(void) {
  uint64_t s = UINT64_C(0x9e3779b97f4a7c15);
  for (unsigned i = 0; i < BM_SIZES; i++) {
    uint64_t r = bm_xorshift(&s);
    if (r % 5 == 0) /* 20%: 1..16 KiB */
      bm_sizes[i] = 1024 + (uint32_t)((r >> 8) % (15 * 1024 + 1));
    else /* 80%: under 1 KiB (and under the default threshold's usable size) */
      bm_sizes[i] = 8 + (uint32_t)((r >> 8) % (1000 - 8));
  }
}

/* The floor (sides floor_bits, floor, floor_all; not memledger): the least
 * that any exact tracker keeping a record per block by its address, and
 * taking it out when the block is freed, adds to jemalloc on this mix, with
 * no stack and no bookkeeping.  Its malloc tests the request against
 * memledger's cut-off, writes the thread's number into the block's page
 * byte (when it is not there already) and a 16-byte record into a
 * direct-mapped slot of the thread's table, chosen by a hash of the
 * address; its free reads the page byte and, when set, clears the slot in
 * the table the byte names: a plain store in the thread's own table, a
 * compare-and-swap in another thread's (a cross-thread free), then the
 * other tables if the byte named one without the record (a page holds
 * blocks of several threads).  No collision is handled (a record may
 * overwrite another: counted, not resolved): a lower bound, not a
 * tracker.  floor_bits stops before the tables (the two tests and the page
 * byte); floor_all records every block (no test of the size);
 * floor_deferred does not take another thread's record out at the free:
 * it hands the block, still allocated, to the thread that recorded it, in
 * batches of BM_FLOOR_BATCH, and that thread takes the records out and
 * frees the blocks at its next tracked allocation (the block's address
 * cannot come back meanwhile, so no other record is taken for it).  What
 * memledger's sides cost above the floor is its own. */
typedef enum bm_floor_e {
  BM_FLOOR_OFF,
  BM_FLOOR_BITS,
  BM_FLOOR_RECORD,
  BM_FLOOR_DEFERRED
} bm_floor_t;

/* Slots a thread: 2^12 (64 KiB) at the threshold, where about 1,150 of a
 * thread's ring blocks are tracked; 2^14 (256 KiB) when every block is
 * (4096 a thread): each at a quarter load or less. */
#define BM_FLOOR_SLOT_BITS 14
#define BM_FLOOR_SLOT_BITS_THRESHOLD 12
#define BM_FLOOR_PAGE_BITS 22 /* a byte a page: 16 GiB of heap before pages alias */

typedef struct bm_floor_slot_s {
  uintptr_t key;
  uint64_t size;
} bm_floor_slot_t;

/* floor_deferred: blocks another thread freed, still allocated, on their
 * way to the thread that recorded them. */
#define BM_FLOOR_BATCH 64
typedef struct bm_floor_batch_s {
  struct bm_floor_batch_s *next;
  unsigned n;
  void *p[BM_FLOOR_BATCH];
} bm_floor_batch_t;

static struct {
  size_t cutoff;
  int record;
  unsigned shift;   /* 64 - the slot bits in use */
  unsigned threads; /* of the run: the tables in use */
  int deferred;     /* floor_deferred */
  struct {
    bm_floor_batch_t *head;
  } __attribute__((aligned(64))) inbox[BM_MAX_THREADS]; /* batches for thread i */
  struct {
    bm_floor_batch_t *to[BM_MAX_THREADS];
  } __attribute__((aligned(64))) out[BM_MAX_THREADS]; /* thread i's batches being filled */
  struct {
    uint64_t n;
  } __attribute__((aligned(64))) overwritten[BM_MAX_THREADS];
  uint8_t page[UINT64_C(1) << BM_FLOOR_PAGE_BITS]; /* 1 + the recording thread's number */
  bm_floor_slot_t slot[BM_MAX_THREADS][1u << BM_FLOOR_SLOT_BITS];
} bm_floor;
static __thread unsigned bm_floor_me; /* this thread's number (bm_mix_run) */

BM_INLINE uint8_t *bm_floor_page(const void *p) {
  return &bm_floor.page[((uintptr_t)p >> 12) & ((UINT64_C(1) << BM_FLOOR_PAGE_BITS) - 1)];
}

BM_INLINE bm_floor_slot_t *bm_floor_slot(unsigned t, const void *p) {
  return &bm_floor.slot[t][((uintptr_t)p * UINT64_C(0x9e3779b97f4a7c15)) >> bm_floor.shift];
}

/* Not instrumented (this file is, for the shadow-stack side's chain): the
 * floor's two functions stand where memledger's front would. */
static void bm_floor_drain(bm_floor_batch_t *b, int own);

__attribute__((no_instrument_function)) static void *bm_floor_malloc(size_t n) {
  void *p = bm_je_malloc(n);
  if (n >= bm_floor.cutoff && p) {
    if (bm_floor.deferred &&
        __builtin_expect(__atomic_load_n(&bm_floor.inbox[bm_floor_me].head, __ATOMIC_RELAXED) != NULL, 0))
      bm_floor_drain(__atomic_exchange_n(&bm_floor.inbox[bm_floor_me].head, NULL, __ATOMIC_ACQUIRE), 1);
    uint8_t *pg = bm_floor_page(p), me = (uint8_t)(bm_floor_me + 1);
    if (__atomic_load_n(pg, __ATOMIC_RELAXED) != me) __atomic_store_n(pg, me, __ATOMIC_RELAXED);
    if (bm_floor.record) {
      bm_floor_slot_t *e = bm_floor_slot(bm_floor_me, p);
      bm_floor.overwritten[bm_floor_me].n += __atomic_load_n(&e->key, __ATOMIC_RELAXED) != 0;
      __atomic_store_n(&e->size, n, __ATOMIC_RELAXED);
      __atomic_store_n(&e->key, (uintptr_t)p, __ATOMIC_RELEASE);
    }
  }
  return p;
}

__attribute__((no_instrument_function, noinline)) static void bm_floor_take_other(void *p,
                                                                                unsigned t) {
  for (unsigned i = t == 0; i < bm_floor.threads; i = i + 1 == t ? i + 2 : i + 1) {
    uintptr_t q = (uintptr_t)p;
    if (__atomic_compare_exchange_n(&bm_floor_slot(i, p)->key, &q, 0, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED))
      return;
  } /* not found: overwritten */
}

/* Take p's record out of table t (this thread's: me), else out of another. */
__attribute__((no_instrument_function)) static inline void bm_floor_take(void *p, unsigned t,
                                                                         unsigned me) {
  bm_floor_slot_t *e = bm_floor_slot(t, p);
  uintptr_t q = (uintptr_t)p;
  if (t == me && __atomic_load_n(&e->key, __ATOMIC_RELAXED) == q)
    __atomic_store_n(&e->key, 0, __ATOMIC_RELAXED);
  else if (t == me ||
           !__atomic_compare_exchange_n(&e->key, &q, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
    bm_floor_take_other(p, t);
}

/* floor_deferred: p, freed by this thread, goes to thread t's inbox in a
 * batch; t takes its record out and frees it (bm_floor_drain). */
__attribute__((no_instrument_function, noinline)) static void bm_floor_defer(void *p, unsigned t) {
  bm_floor_batch_t **to = &bm_floor.out[bm_floor_me].to[t], *b = *to;
  if (!b) {
    *to = b = bm_je_malloc(sizeof *b);
    b->n = 0;
  }
  b->p[b->n++] = p;
  if (b->n < BM_FLOOR_BATCH) return;
  *to = NULL;
  b->next = __atomic_load_n(&bm_floor.inbox[t].head, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(&bm_floor.inbox[t].head, &b->next, b, 1, __ATOMIC_RELEASE,
                                      __ATOMIC_RELAXED))
    ;
}

/* The blocks of batches b: their records out (own: of this thread's table,
 * else of any), the blocks and the batches freed. */
__attribute__((no_instrument_function, noinline)) static void bm_floor_drain(bm_floor_batch_t *b,
                                                                           int own) {
  while (b) {
    bm_floor_batch_t *next = b->next;
    for (unsigned i = 0; i < b->n; i++) {
      if (own) bm_floor_take(b->p[i], bm_floor_me, bm_floor_me);
      else bm_floor_take_other(b->p[i], BM_MAX_THREADS);
      bm_je_free(b->p[i]);
    }
    bm_je_free(b);
    b = next;
  }
}

__attribute__((no_instrument_function)) static void bm_floor_free(void *p) {
  uint8_t o = __atomic_load_n(bm_floor_page(p), __ATOMIC_RELAXED);
  if (o && bm_floor.record) {
    unsigned t = o - 1u;
    if (bm_floor.deferred && t != bm_floor_me) {
      bm_floor_defer(p, t);
      return; /* freed by its owner */
    }
    bm_floor_take(p, t, bm_floor_me);
  }
  bm_je_free(p);
}

/* The batches still on their way at the end of a run (all threads out of
 * their loops): emptied by this thread. */
static void bm_floor_flush(void) {
  for (unsigned i = 0; i < BM_MAX_THREADS; i++) {
    bm_floor_drain(__atomic_exchange_n(&bm_floor.inbox[i].head, NULL, __ATOMIC_ACQUIRE), 0);
    for (unsigned t = 0; t < BM_MAX_THREADS; t++) {
      bm_floor_batch_t *b = bm_floor.out[i].to[t];
      bm_floor.out[i].to[t] = NULL;
      if (b) b->next = NULL;
      bm_floor_drain(b, 0);
    }
  }
}

static void bm_floor_setup(const bm_mix_t *c, int threads) {
  memset(&bm_floor, 0, sizeof bm_floor);
  bm_floor.cutoff = c->all ? 0 : bm_front_cutoff();
  bm_floor.record = c->floor >= BM_FLOOR_RECORD;
  bm_floor.deferred = c->floor == BM_FLOOR_DEFERRED;
  bm_floor.shift = 64 - (c->all ? BM_FLOOR_SLOT_BITS : BM_FLOOR_SLOT_BITS_THRESHOLD);
  bm_floor.threads = (unsigned)threads;
}

static uint64_t bm_floor_overwritten(void) {
  uint64_t n = 0;
  for (int i = 0; i < BM_MAX_THREADS; i++) n += bm_floor.overwritten[i].n;
  return n;
}

static void bm_mix_loop(void *arg) {
  bm_mix_run_t *r = arg;
  bm_mix_t *c = r->c;
  uint64_t s = r->seed, n, k = r->seed;
  while (bm_keep_running_batch(r->st, &n)) {
    /* Read after the start barrier: thread 0 has made the ring by then. */
    void **ring = c->ring;
    size_t mask = c->slots - 1;
    for (uint64_t i = 0; i < n; i++) {
      uint64_t x = bm_xorshift(&s);
      void *p = c->alloc(bm_sizes[(k++) & (BM_SIZES - 1)]);
      bm_do_not_optimize(p);
      void *old = __atomic_exchange_n(&ring[x & mask], p, __ATOMIC_ACQ_REL);
      c->release(old);
    }
  }
}

static void bm_mix_run(bm_state *st) {
  bm_mix_t *c = bm_udata(st);
  int threads = bm_threads(st), tid = bm_thread_index(st);
  bm_mix_run_t r = {.st = st, .c = c, .seed = UINT64_C(0x2545f4914f6cdd1d) * (tid + 1)};
  if (tid == 0) {
    /* Thread 0 sets up before its first bm_keep_running_batch; the other
     * threads wait in theirs until it gets there. */
    if (c->mode && !c->calibrated) {
      if (bm_calibrate(c->mode, BM_CHAIN_DEPTH, &c->cal)) {
        bm_skip_with_error(st, "calibration failed");
        return;
      }
      c->calibrated = 1;
    }
    if (c->floor) bm_floor_setup(c, threads);
    if (c->mode) bm_front_set_unwind(c->mode, c->cal.skip, 0);
    bm_front_track_all(c->all);
    c->live_before = bm_front_tracked_live();
    c->slots = (size_t)BM_RING_SLOTS * (size_t)threads;
    c->ring = calloc(c->slots, sizeof(void *));
    /* Fill the ring (not timed), so the loop frees from its first pair. */
    uint64_t s = UINT64_C(0x1234567) * (uint64_t)threads;
    for (size_t i = 0; i < c->slots; i++)
      c->ring[i] = c->alloc(bm_sizes[bm_xorshift(&s) & (BM_SIZES - 1)]);
  }
  bm_floor_me = (unsigned)tid;
  bm_chain_run(BM_CHAIN_DEPTH, bm_mix_loop, &r);
  bm_set_items_processed(st, (int64_t)bm_iterations(st));
  if (tid != 0) return;
  /* Every thread has left its loop (Google Benchmark's end barrier). */
  if (c->floor) bm_floor_flush();
  for (size_t i = 0; i < c->slots; i++)
    c->release(c->ring[i]);
  free(c->ring);
  c->ring = NULL;
  for (int i = 0; i < BM_LEAKS; i++) /* deliberate leaks */
    bm_do_not_optimize(c->alloc(4096));
  uint64_t got = bm_front_tracked_live() - c->live_before;
  uint64_t want = c->tracked ? BM_LEAKS : 0;
  if (got != want) {
    static char msg[128];
    snprintf(msg, sizeof msg, "%" PRIu64 " tracked blocks live after the run, expected %" PRIu64,
             got, want);
    bm_skip_with_error(st, msg);
  }
  bm_counter_set(st, "leaked", (double)got, BM_COUNTER_DEFAULT);
  if (c->floor >= BM_FLOOR_RECORD) /* records a collision overwrote, of the run's */
    bm_counter_set(st, "overwritten", (double)bm_floor_overwritten(), BM_COUNTER_DEFAULT);
  bm_front_track_all(0);
}

static bm_mix_t bm_mix_je = {"je", bm_je_malloc, bm_je_free, 0, 0, 0};
static bm_mix_t bm_mix_eh = {"ml_eh", bm_ml_malloc, bm_ml_free, BM_UNWIND_EH, 1, 0};
static bm_mix_t bm_mix_fp = {"ml_fp", bm_ml_malloc, bm_ml_free, BM_UNWIND_FP, 1, 0};
static bm_mix_t bm_mix_lu = {"ml_libunwind", bm_ml_malloc, bm_ml_free, BM_UNWIND_LIBUNWIND, 1, 0};
static bm_mix_t bm_mix_shadow = {"ml_shadow", bm_ml_malloc, bm_ml_free, BM_UNWIND_SHADOW, 1, 0};
static bm_mix_t bm_mix_none = {"ml_none", bm_ml_malloc, bm_ml_free, BM_UNWIND_NONE, 1, 0};
/* MEMLEDGER_MIN_SIZE=0: every block tracked, with the default capture. */
static bm_mix_t bm_mix_eh_all = {"ml_eh_all", bm_ml_malloc, bm_ml_free, BM_UNWIND_EH, 1, 1};
/* The floor (not memledger). */
static bm_mix_t bm_mix_floor_bits = {"floor_bits", bm_floor_malloc, bm_floor_free, 0, 0, 0, BM_FLOOR_BITS};
static bm_mix_t bm_mix_floor = {"floor", bm_floor_malloc, bm_floor_free, 0, 0, 0, BM_FLOOR_RECORD};
static bm_mix_t bm_mix_floor_all = {"floor_all", bm_floor_malloc, bm_floor_free, 0, 0, 1, BM_FLOOR_RECORD};
static bm_mix_t bm_mix_floor_deferred = {"floor_deferred", bm_floor_malloc, bm_floor_free, 0, 0, 0,
                                         BM_FLOOR_DEFERRED};

int main(int argc, char **argv) {
  if (bm_front_init()) return 1;
  size_t t = bm_front_threshold();
  if (t < 1000 || t > 1024) {
    fprintf(stderr,
            "bm_mixed: the mix is made for the default threshold (1024 bytes); it is %zu "
            "(MEMLEDGER_MIN_SIZE)\n",
            t);
    return 1;
  }
  bm_sizes_init();
  char buf[32];
  snprintf(buf, sizeof buf, "%zu", t);
  bm_add_context("memledger_threshold", buf);
  snprintf(buf, sizeof buf, "%d", BM_CHAIN_DEPTH);
  bm_add_context("chain_depth", buf);
  bm_add_context("jemalloc", bm_front_jemalloc_version());
  bm_add_context("setup", "mixed: ring of 4096 live blocks per thread, 80% < 1 KiB, "
                          "20% 1-16 KiB, cross-thread frees");
  bm_mix_t *sides[] = {&bm_mix_je,     &bm_mix_eh,      &bm_mix_fp,         &bm_mix_lu,
                       &bm_mix_shadow, &bm_mix_none,    &bm_mix_eh_all,     &bm_mix_floor_bits,
                       &bm_mix_floor,  &bm_mix_floor_all, &bm_mix_floor_deferred};
  for (int th = 1; th <= BM_MAX_THREADS; th *= 2)
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
      char name[64];
      snprintf(name, sizeof name, "mixed_%s", sides[i]->side);
      bm_bench_threads(bm_bench_use_real_time(bm_register(name, bm_mix_run, sides[i])), th);
    }
  return bm_main(argc, argv);
}

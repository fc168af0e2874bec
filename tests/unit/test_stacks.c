/* SPDX-License-Identifier: MIT */
/*
 * test_stacks.c - unit tests for stacks.c: interning gives one dense id per
 * distinct stack (from 1), including prefixes, reorderings, the empty stack
 * and stacks whose hashes collide; ml_stacks_get returns the frames; growth
 * past the initial 1024-slot table keeps ids stable; the capacity bound
 * returns 0 and counts overflow; and 4 threads interning overlapping sets
 * (while the table grows) agree on one id per stack.  The id -> node array
 * is mapped chunk by chunk (nothing for the capacity bound at init): ids on
 * both sides of every chunk boundary resolve, the last chunk is cut at the
 * bound, and while 4 threads intern, a reader thread and forked snapshot
 * children (reading their copy with no lock, as the dump's child does) never
 * see an id <= count without its node, nor a hashed node above count.
 * Frames are fake addresses.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stacks.h"

#define ML_TEST_INITIAL_SLOTS 1024 /* stacks.c's ML_STACKS_MIN_CAP */
#define ML_TEST_MAX_DEPTH     8
#define ML_TEST_DEEP          128 /* the deepest stack the unwinder keeps */

static ml_stacks_t ml_s;

/* ---- helpers ------------------------------------------------------------ */

/* Stack number i: 1..8 frames, distinct for every i. */
static unsigned ml_test_stack(size_t i, uintptr_t *frames) {
  unsigned n = 1 + (unsigned)(i % ML_TEST_MAX_DEPTH);
  for (unsigned k = 0; k < n; k++)
    frames[k] = 0x400000 + (uintptr_t)i * 0x40 + k * 4;
  return n;
}

static uint32_t ml_test_intern(size_t i) {
  uintptr_t f[ML_TEST_MAX_DEPTH];
  unsigned n = ml_test_stack(i, f);
  return ml_stacks_intern(&ml_s, f, n);
}

static void ml_test_assert_frames(uint32_t id, const uintptr_t *f, unsigned n) {
  const ml_stack_t *st = ml_stacks_get(&ml_s, id);
  assert_non_null(st);
  assert_int_equal(st->id, id);
  assert_int_equal(st->nframes, n);
  assert_int_equal(st->hash, ml_stacks_hash(f, n));
  if (n) assert_memory_equal(st->frames, f, n * sizeof *f);
}

static int ml_test_setup(void **state) {
  (void)state;
  return ml_stacks_init(&ml_s, 1 << 20);
}

static int ml_test_teardown(void **state) {
  (void)state;
  ml_stacks_destroy(&ml_s);
  return 0;
}

/* ---- identity ----------------------------------------------------------- */

static void test_stacks_same_frames_same_id(void **state) {
  uintptr_t a[] = {0x401000, 0x402000, 0x403000};
  uintptr_t copy[] = {0x401000, 0x402000, 0x403000};
  uint32_t id;

  (void)state;
  id = ml_stacks_intern(&ml_s, a, 3);
  assert_int_equal(id, 1);
  /* the same frames from another buffer, several times */
  for (int k = 0; k < 5; k++)
    assert_int_equal(ml_stacks_intern(&ml_s, copy, 3), id);
  assert_int_equal(ml_stacks_count(&ml_s), 1);
  assert_int_equal(ml_s.overflow, 0);
}

static void test_stacks_distinct_frames_get_dense_ids(void **state) {
  uintptr_t f[] = {0x401000, 0x402000, 0x403000};
  uintptr_t rev[] = {0x403000, 0x402000, 0x401000};
  uintptr_t zero[] = {0};
  uint32_t ids[7];

  (void)state;
  ids[0] = ml_stacks_intern(&ml_s, f, 3);
  ids[1] = ml_stacks_intern(&ml_s, f, 2); /* a prefix */
  ids[2] = ml_stacks_intern(&ml_s, f, 1);
  ids[3] = ml_stacks_intern(&ml_s, f, 0);     /* the empty stack */
  ids[4] = ml_stacks_intern(&ml_s, rev, 3);   /* same frames, other order */
  ids[5] = ml_stacks_intern(&ml_s, f + 1, 2); /* a suffix */
  ids[6] = ml_stacks_intern(&ml_s, zero, 1);  /* one null frame != empty */
  for (uint32_t k = 0; k < 7; k++)
    assert_int_equal(ids[k], k + 1);
  assert_int_equal(ml_stacks_count(&ml_s), 7);

  /* and each is found again, in another order */
  assert_int_equal(ml_stacks_intern(&ml_s, zero, 1), ids[6]);
  assert_int_equal(ml_stacks_intern(&ml_s, rev, 0), ids[3]); /* empty is empty */
  assert_int_equal(ml_stacks_intern(&ml_s, f, 1), ids[2]);
  assert_int_equal(ml_stacks_intern(&ml_s, f, 3), ids[0]);
  assert_int_equal(ml_stacks_intern(&ml_s, rev, 3), ids[4]);
  assert_int_equal(ml_stacks_count(&ml_s), 7);
}

/* The two-frame hash as stacks.c computes it, lane by lane, so that a second
 * stack with the same hash can be built: keep lane b's share, pick another
 * first frame, and solve for the second frame (the multipliers are odd,
 * hence invertible modulo 2^64, and x ^ (x >> 29) is invertible too). */
#define ML_TEST_K1 UINT64_C(0x9E3779B97F4A7C15)
#define ML_TEST_K2 UINT64_C(0xC2B2AE3D27D4EB4F)
static uint64_t ml_test_rotl(uint64_t x, unsigned r) { return (x << r) | (x >> (64 - r)); }
static uint64_t ml_test_mix(uint64_t f) { return f ^ (f >> 29); }
static uint64_t ml_test_unmix(uint64_t y) { return y ^ (y >> 29) ^ (y >> 58); }
static uint64_t ml_test_inverse(uint64_t k) { /* Newton: x = x (2 - k x) */
  uint64_t x = k;
  for (int i = 0; i < 6; i++) x *= 2 - k * x;
  return x;
}
static uint64_t ml_test_lane_a(uintptr_t f0) {
  return ml_test_rotl((UINT64_C(0xcbf29ce484222325) ^ 2) + ml_test_mix(f0) * ML_TEST_K1, 23);
}
static uint64_t ml_test_lane_b(uintptr_t f1) {
  return ml_test_rotl(UINT64_C(0x84222325cbf29ce4) + ml_test_mix(f1) * ML_TEST_K2, 31);
}

static void test_stacks_hash_collision_gets_distinct_ids(void **state) {
  uintptr_t a[2] = {0x401000, 0x500000}, b[2];
  uint32_t ida, idb;

  (void)state;
  /* a1 ^ b1*K1 must match: b1' = (a1 ^ a1' ^ b1*K1) / K1 */
  b[0] = 0x401010;
  uint64_t b1 = (ml_test_lane_a(a[0]) ^ ml_test_lane_a(b[0]) ^ ml_test_lane_b(a[1]) * ML_TEST_K1) *
                ml_test_inverse(ML_TEST_K1);
  uint64_t m = ((b1 >> 31) | (b1 << 33)) - UINT64_C(0x84222325cbf29ce4);
  b[1] = ml_test_unmix(m * ml_test_inverse(ML_TEST_K2));
  assert_int_equal(ml_test_lane_b(b[1]), b1);
  /* precondition: the two stacks really collide */
  assert_int_equal(ml_stacks_hash(a, 2), ml_stacks_hash(b, 2));
  assert_memory_not_equal(a, b, sizeof a);

  ida = ml_stacks_intern(&ml_s, a, 2);
  idb = ml_stacks_intern(&ml_s, b, 2);
  assert_int_not_equal(ida, 0);
  assert_int_not_equal(idb, 0);
  assert_int_not_equal(ida, idb);
  assert_int_equal(ml_stacks_intern(&ml_s, a, 2), ida);
  assert_int_equal(ml_stacks_intern(&ml_s, b, 2), idb);
  ml_test_assert_frames(ida, a, 2);
  ml_test_assert_frames(idb, b, 2);
}

static void test_stacks_get_returns_frames(void **state) {
  uintptr_t f[ML_TEST_DEEP];
  uintptr_t empty[1] = {0x1234};
  uint32_t deep, none;

  (void)state;
  for (unsigned k = 0; k < ML_TEST_DEEP; k++)
    f[k] = 0x7f0000001000 + k * 0x10;
  deep = ml_stacks_intern(&ml_s, f, ML_TEST_DEEP);
  none = ml_stacks_intern(&ml_s, empty, 0);
  ml_test_assert_frames(deep, f, ML_TEST_DEEP);
  ml_test_assert_frames(none, empty, 0);
  /* node memory is 16-aligned and holds the frames */
  assert_int_equal((uintptr_t)ml_stacks_get(&ml_s, deep) % 16, 0);
  assert_int_equal((uintptr_t)ml_stacks_get(&ml_s, none) % 16, 0);
  /* ids outside 1..count */
  assert_null(ml_stacks_get(&ml_s, 0));
  assert_null(ml_stacks_get(&ml_s, 3));
  assert_null(ml_stacks_get(&ml_s, UINT32_MAX));
}

/* ---- growth and capacity ------------------------------------------------ */

#define ML_TEST_MANY 20000

static void test_stacks_growth_keeps_ids_stable(void **state) {
  static uint32_t ids[ML_TEST_MANY];
  size_t mapped0 = ml_s.mapped;

  (void)state;
  assert_int_equal(atomic_load(&ml_s.slots)->cap, ML_TEST_INITIAL_SLOTS);
  for (size_t i = 0; i < ML_TEST_MANY; i++) {
    ids[i] = ml_test_intern(i);
    assert_int_equal(ids[i], i + 1); /* dense, in first-seen order */
  }
  /* the table grew (past 3/4 of 1024, 2048, ..., 16384) */
  assert_true(atomic_load(&ml_s.slots)->cap >= 32768);
  assert_true(ml_s.mapped > mapped0);
  assert_int_equal(ml_stacks_count(&ml_s), ML_TEST_MANY);

  for (size_t i = 0; i < ML_TEST_MANY; i++)
    assert_int_equal(ml_test_intern(i), ids[i]);
  for (size_t i = ML_TEST_MANY; i-- > 0;) {
    uintptr_t f[ML_TEST_MAX_DEPTH];
    unsigned n = ml_test_stack(i, f);
    assert_int_equal(ml_stacks_intern(&ml_s, f, n), ids[i]);
    ml_test_assert_frames(ids[i], f, n);
  }
  assert_int_equal(ml_stacks_count(&ml_s), ML_TEST_MANY);
  assert_int_equal(ml_s.overflow, 0);
}

static void test_stacks_capacity_bound_returns_zero(void **state) {
  (void)state;
  ml_stacks_destroy(&ml_s);
  assert_int_equal(ml_stacks_init(&ml_s, 5), 0);
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(ml_test_intern(i), i + 1);
  assert_int_equal(ml_test_intern(5), 0);
  assert_int_equal(ml_s.overflow, 1);
  assert_int_equal(ml_test_intern(6), 0);
  assert_int_equal(ml_test_intern(5), 0); /* still not interned */
  assert_int_equal(ml_s.overflow, 3);
  assert_int_equal(ml_stacks_count(&ml_s), 5);
  assert_null(ml_stacks_get(&ml_s, 6));
  /* known stacks keep their ids and do not count as overflow */
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(ml_test_intern(i), i + 1);
  assert_int_equal(ml_s.overflow, 3);
}

static void test_stacks_capacity_bound_of_one(void **state) {
  uintptr_t f[1] = {0x1000};

  (void)state;
  ml_stacks_destroy(&ml_s);
  assert_int_equal(ml_stacks_init(&ml_s, 1), 0);
  assert_int_equal(ml_stacks_intern(&ml_s, f, 0), 1);
  assert_int_equal(ml_stacks_intern(&ml_s, f, 1), 0);
  assert_int_equal(ml_stacks_intern(&ml_s, f, 0), 1);
  assert_int_equal(ml_s.overflow, 1);
}

/* ---- concurrency -------------------------------------------------------- */

#define ML_TEST_THREADS 4
#define ML_TEST_SHARED  8000 /* enough to grow the table while racing */

static pthread_barrier_t ml_test_barrier;
static uint32_t ml_test_ids[ML_TEST_THREADS][ML_TEST_SHARED];

/* Thread t interns stacks [t * SHARED / 8, t * SHARED / 8 + 5/8 SHARED): the
 * ranges overlap pairwise, and thread t walks its range from a different
 * starting point and direction. */
static void *ml_test_interner(void *arg) {
  size_t t = (size_t)arg, lo = t * ML_TEST_SHARED / 8;
  size_t len = ML_TEST_SHARED * 5 / 8;
  pthread_barrier_wait(&ml_test_barrier);
  for (size_t k = 0; k < len; k++) {
    size_t j = t % 2 ? len - 1 - k : (k + t * 97) % len;
    ml_test_ids[t][lo + j] = ml_test_intern(lo + j);
  }
  return NULL;
}

static void test_stacks_concurrent_interning_one_id_per_stack(void **state) {
  pthread_t th[ML_TEST_THREADS];
  static bool used[ML_TEST_SHARED + 1];
  size_t distinct = 0;

  (void)state;
  memset(ml_test_ids, 0, sizeof ml_test_ids);
  memset(used, 0, sizeof used);
  pthread_barrier_init(&ml_test_barrier, NULL, ML_TEST_THREADS);
  for (size_t t = 0; t < ML_TEST_THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, ml_test_interner, (void *)t), 0);
  for (size_t t = 0; t < ML_TEST_THREADS; t++)
    assert_int_equal(pthread_join(th[t], NULL), 0);
  pthread_barrier_destroy(&ml_test_barrier);

  for (size_t i = 0; i < ML_TEST_SHARED; i++) {
    uint32_t id = 0;
    for (size_t t = 0; t < ML_TEST_THREADS; t++) {
      uint32_t got = ml_test_ids[t][i];
      if (!got) continue;
      if (id) assert_int_equal(got, id); /* every thread saw the same id */
      id = got;
    }
    if (!id) continue; /* no thread's range covers stack i */
    distinct++;
    assert_true(id >= 1 && id <= ML_TEST_SHARED);
    assert_false(used[id]); /* no two stacks share an id */
    used[id] = true;
    assert_int_equal(ml_test_intern(i), id);
    {
      uintptr_t f[ML_TEST_MAX_DEPTH];
      unsigned n = ml_test_stack(i, f);
      ml_test_assert_frames(id, f, n);
    }
  }
  /* the union of the ranges is [0, 3/8 + 5/8) = everything */
  assert_int_equal(distinct, ML_TEST_SHARED);
  assert_int_equal(ml_stacks_count(&ml_s), distinct);
  assert_true(atomic_load(&ml_s.slots)->cap > ML_TEST_INITIAL_SLOTS);
  assert_int_equal(ml_s.overflow, 0);
}

/* ---- the id -> node array ------------------------------------------------ */

/* First id of id chunk k: 512 (2^k - 1). */
static size_t ml_test_chunk_first(unsigned k) {
  return (((size_t)1 << k) - 1) << ML_STACKS_ID_LG0;
}

static size_t ml_test_chunks_mapped(void) {
  size_t n = 0;
  for (unsigned k = 0; k < ML_STACKS_ID_CHUNKS; k++)
    n += atomic_load(&ml_s.by_id[k]) != NULL;
  return n;
}

static void test_stacks_init_reserves_nothing_for_the_bound(void **state) {
  (void)state;
  ml_stacks_destroy(&ml_s);
  assert_int_equal(ml_stacks_init(&ml_s, (1 << 24) - 1), 0);
  /* the first slot table only: no id chunk, no node chunk */
  assert_int_equal(ml_s.mapped,
                   sizeof(ml_stack_slots_t) + ML_TEST_INITIAL_SLOTS * sizeof(ml_stack_t *));
  assert_int_equal(ml_test_chunks_mapped(), 0);
  assert_null(ml_s.chunk);
  assert_null(ml_stacks_get(&ml_s, 1));
  /* the first stack maps the first id chunk (512 ids) and one node chunk */
  size_t before = ml_s.mapped;
  assert_int_equal(ml_test_intern(0), 1);
  assert_int_equal(ml_test_chunks_mapped(), 1);
  assert_int_equal(ml_s.mapped - before, 512 * sizeof(ml_stack_t *) + ml_s.chunk_size);
  assert_true(ml_s.chunk_size <= 64 * 1024);
}

#define ML_TEST_CHUNKED 15000 /* ids in id chunks 0..4 (chunk 4: 7680..15871) */

static void test_stacks_ids_across_id_chunks(void **state) {
  (void)state;
  for (size_t i = 0; i < ML_TEST_CHUNKED; i++) {
    uint32_t id = ml_test_intern(i);
    assert_int_equal(id, i + 1);
    /* a chunk is mapped exactly when its first id is handed out */
    size_t want = 0;
    while (want < ML_STACKS_ID_CHUNKS && ml_test_chunk_first((unsigned)want) <= id) want++;
    assert_int_equal(ml_test_chunks_mapped(), want);
  }
  assert_int_equal(ml_test_chunks_mapped(), 5);
  /* both sides of every boundary, and every id */
  for (unsigned k = 1; k < 5; k++) {
    size_t b = ml_test_chunk_first(k);
    for (size_t id = b - 2; id <= b + 1; id++) {
      uintptr_t f[ML_TEST_MAX_DEPTH];
      unsigned n = ml_test_stack(id - 1, f);
      ml_test_assert_frames((uint32_t)id, f, n);
    }
  }
  for (size_t i = 0; i < ML_TEST_CHUNKED; i++) {
    uintptr_t f[ML_TEST_MAX_DEPTH];
    unsigned n = ml_test_stack(i, f);
    ml_test_assert_frames((uint32_t)(i + 1), f, n);
  }
  assert_null(ml_stacks_get(&ml_s, ML_TEST_CHUNKED + 1));
  assert_int_equal(ml_s.overflow, 0);
}

static void test_stacks_last_id_chunk_cut_at_the_bound(void **state) {
  (void)state;
  ml_stacks_destroy(&ml_s);
  assert_int_equal(ml_stacks_init(&ml_s, 600), 0);
  for (size_t i = 0; i < 511; i++)
    assert_int_equal(ml_test_intern(i), i + 1);
  size_t before = ml_s.mapped, chunk = ml_s.chunk_size;
  assert_int_equal(ml_test_intern(511), 512); /* first id of chunk 1 */
  /* chunk 1 holds ids 512..600 only (and maybe a new node chunk came) */
  size_t grown = ml_s.mapped - before;
  assert_true(grown == 89 * sizeof(ml_stack_t *) ||
              grown == 89 * sizeof(ml_stack_t *) + ml_s.chunk_size);
  (void)chunk;
  for (size_t i = 512; i < 600; i++)
    assert_int_equal(ml_test_intern(i), i + 1);
  assert_int_equal(ml_test_intern(600), 0);
  assert_int_equal(ml_s.overflow, 1);
  assert_int_equal(ml_test_chunks_mapped(), 2);
  uintptr_t f[ML_TEST_MAX_DEPTH];
  unsigned n = ml_test_stack(599, f);
  ml_test_assert_frames(600, f, n);
  assert_null(ml_stacks_get(&ml_s, 601));
}

static void test_stacks_node_chunks_double_up_to_1mib(void **state) {
  uintptr_t f[ML_TEST_DEEP];
  size_t last = 0, chunks = 0;

  (void)state;
  for (size_t i = 0; i < 20000; i++) {
    for (unsigned k = 0; k < ML_TEST_DEEP; k++) f[k] = 0x500000 + i * 0x1000 + k * 8;
    assert_int_not_equal(ml_stacks_intern(&ml_s, f, ML_TEST_DEEP), 0);
    if (ml_s.chunk_size != last) {
      if (last) assert_int_equal(ml_s.chunk_size, last * 2 > (1u << 20) ? 1u << 20 : last * 2);
      else assert_int_equal(ml_s.chunk_size, 16 * 1024);
      last = ml_s.chunk_size;
      chunks++;
    }
  }
  assert_int_equal(last, 1u << 20);
  assert_true(chunks >= 7);
}

/* ---- lock-free readers while others intern ------------------------------ */

#define ML_TEST_WRITERS 4
#define ML_TEST_PUBLISHED 24000 /* across id chunks 0..5 */

static atomic_int ml_test_writers_done;
static atomic_ulong ml_test_reader_errors, ml_test_reader_checks;
static atomic_ulong ml_test_snapshot_errors, ml_test_snapshots;

/* Every id in 1..count resolves to its own node; every node in the current
 * hash table has an id in 1..count.  Returns the number of faults.  Uses
 * no lock and no allocation (it also runs in forked children). */
static unsigned long ml_test_check_published(void) {
  unsigned long bad = 0;
  size_t count = ml_stacks_count(&ml_s);
  for (size_t id = 1; id <= count; id++) {
    const ml_stack_t *st = ml_stacks_get(&ml_s, (uint32_t)id);
    if (!st || st->id != id) bad++;
  }
  ml_stack_slots_t *t = atomic_load(&ml_s.slots);
  for (size_t i = 0; i < t->cap; i++) {
    ml_stack_t *st = atomic_load(&t->slot[i]);
    /* count is read after the slot: a node found by a lookup is counted */
    if (st && (st->id == 0 || st->id > ml_stacks_count(&ml_s))) bad++;
  }
  return bad;
}

static void *ml_test_writer(void *arg) {
  size_t t = (size_t)arg;
  pthread_barrier_wait(&ml_test_barrier);
  for (size_t i = t; i < ML_TEST_PUBLISHED; i += ML_TEST_WRITERS)
    (void)ml_test_intern(i);
  atomic_fetch_add(&ml_test_writers_done, 1);
  return NULL;
}

static void *ml_test_reader(void *arg) {
  (void)arg;
  pthread_barrier_wait(&ml_test_barrier);
  unsigned long pass = 0;
  do {
    /* mostly the newest id (where a publication can be half done), now
     * and then everything */
    if (++pass % 256 == 0) {
      atomic_fetch_add(&ml_test_reader_errors, ml_test_check_published());
    } else {
      size_t c = ml_stacks_count(&ml_s);
      const ml_stack_t *st = c ? ml_stacks_get(&ml_s, (uint32_t)c) : NULL;
      if (c && (!st || st->id != c)) atomic_fetch_add(&ml_test_reader_errors, 1);
    }
    atomic_fetch_add(&ml_test_reader_checks, 1);
  } while (atomic_load(&ml_test_writers_done) < ML_TEST_WRITERS);
  return NULL;
}

/* Fork snapshot children while the writers run: each child checks its copy
 * of the table, taken at whatever instruction the writers were at. */
static void *ml_test_snapshotter(void *arg) {
  (void)arg;
  pthread_barrier_wait(&ml_test_barrier);
  do {
    pid_t pid = fork();
    if (pid == 0) _exit(ml_test_check_published() ? 1 : 0);
    if (pid < 0) break;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) atomic_fetch_add(&ml_test_snapshot_errors, 1);
    atomic_fetch_add(&ml_test_snapshots, 1);
  } while (atomic_load(&ml_test_writers_done) < ML_TEST_WRITERS);
  return NULL;
}

static void test_stacks_readers_see_every_published_id(void **state) {
  pthread_t w[ML_TEST_WRITERS], r, f;

  (void)state;
  atomic_store(&ml_test_writers_done, 0);
  atomic_store(&ml_test_reader_errors, 0);
  atomic_store(&ml_test_reader_checks, 0);
  atomic_store(&ml_test_snapshot_errors, 0);
  atomic_store(&ml_test_snapshots, 0);
  pthread_barrier_init(&ml_test_barrier, NULL, ML_TEST_WRITERS + 2);
  for (size_t t = 0; t < ML_TEST_WRITERS; t++)
    assert_int_equal(pthread_create(&w[t], NULL, ml_test_writer, (void *)t), 0);
  assert_int_equal(pthread_create(&r, NULL, ml_test_reader, NULL), 0);
  assert_int_equal(pthread_create(&f, NULL, ml_test_snapshotter, NULL), 0);
  for (size_t t = 0; t < ML_TEST_WRITERS; t++)
    assert_int_equal(pthread_join(w[t], NULL), 0);
  assert_int_equal(pthread_join(r, NULL), 0);
  assert_int_equal(pthread_join(f, NULL), 0);
  pthread_barrier_destroy(&ml_test_barrier);

  assert_int_equal(atomic_load(&ml_test_reader_errors), 0);
  assert_int_equal(atomic_load(&ml_test_snapshot_errors), 0);
  assert_true(atomic_load(&ml_test_reader_checks) >= 1);
  if (getenv("ML_TEST_VERBOSE"))
    fprintf(stderr, "reader passes %lu, snapshots %lu\n", atomic_load(&ml_test_reader_checks),
            atomic_load(&ml_test_snapshots));
  assert_int_equal(ml_stacks_count(&ml_s), ML_TEST_PUBLISHED);
  assert_int_equal(ml_test_check_published(), 0);
  assert_int_equal(ml_test_chunks_mapped(), 6);
  /* every stack is found again, under the id its node carries */
  static bool seen[ML_TEST_PUBLISHED + 1];
  memset(seen, 0, sizeof seen);
  for (size_t i = 0; i < ML_TEST_PUBLISHED; i++) {
    uintptr_t fr[ML_TEST_MAX_DEPTH];
    unsigned n = ml_test_stack(i, fr);
    uint32_t id = ml_stacks_intern(&ml_s, fr, n);
    assert_true(id >= 1 && id <= ML_TEST_PUBLISHED);
    assert_false(seen[id]);
    seen[id] = true;
    ml_test_assert_frames(id, fr, n);
  }
  assert_int_equal(ml_s.overflow, 0);
}

/* ---- main --------------------------------------------------------------- */

#define ML_TEST(f) cmocka_unit_test_setup_teardown(f, ml_test_setup, ml_test_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      ML_TEST(test_stacks_same_frames_same_id),
      ML_TEST(test_stacks_distinct_frames_get_dense_ids),
      ML_TEST(test_stacks_hash_collision_gets_distinct_ids),
      ML_TEST(test_stacks_get_returns_frames),
      ML_TEST(test_stacks_growth_keeps_ids_stable),
      ML_TEST(test_stacks_capacity_bound_returns_zero),
      ML_TEST(test_stacks_capacity_bound_of_one),
      ML_TEST(test_stacks_concurrent_interning_one_id_per_stack),
      ML_TEST(test_stacks_init_reserves_nothing_for_the_bound),
      ML_TEST(test_stacks_ids_across_id_chunks),
      ML_TEST(test_stacks_last_id_chunk_cut_at_the_bound),
      ML_TEST(test_stacks_node_chunks_double_up_to_1mib),
      ML_TEST(test_stacks_readers_see_every_published_id),
  };
  return cmocka_run_group_tests_name("stacks", tests, NULL, NULL);
}

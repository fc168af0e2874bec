/* SPDX-License-Identifier: MIT */
/*
 * test_table.c - unit tests for table.c: insert, find and remove; counters
 * (ml_tables_counts) over 200k records spread across arenas; growth and
 * shrink; backward-shift deletion inside dense and wrapping clusters; the
 * `replaced` and `dropped` counters and the capacity bound; snapshots and
 * filtering; the 64-byte metadata budget at 1e5 live records; concurrent
 * inserts and removes; the frozen reading a dump's snapshot child does (a
 * record caught mid-move counted once; forks taken while threads insert,
 * remove, grow and shrink see every record whole and once); and the record
 * packing helpers.  Addresses are fake
 * (16-aligned integers, never dereferenced).  Clusters are built by choosing
 * addresses by their home slot, computed from ml_hash_ptr exactly as
 * table.c does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ml_test.h"

#include "table.h"

#define ML_TEST_BASE ((uintptr_t)0x7f0000000000)

static ml_tables_t ml_t;

/* ---- helpers ------------------------------------------------------------ */

static uintptr_t ml_test_addr(size_t i) { return ML_TEST_BASE + i * 16; }

/* The request size of address i's record: its parity is i's. */
static size_t ml_test_size(size_t i) { return 16 + i % 1000; }

/* A record for address i whose fields are all derived from i. */
static ml_rec_t ml_test_rec(size_t i) {
  return ml_rec_make(ml_test_addr(i), ml_test_size(i), (unsigned)(i % 7) + 1, i + 1,
                     (uint32_t)(i % 50) + 1);
}

static void ml_test_insert(size_t i) {
  ml_rec_t r = ml_test_rec(i);
  assert_true(ml_tables_insert(&ml_t, &r));
}

static void ml_test_assert_found(size_t i) {
  ml_rec_t want = ml_test_rec(i), got;
  memset(&got, 0xa5, sizeof got);
  assert_true(ml_tables_find(&ml_t, want.ptr, &got));
  assert_memory_equal(&got, &want, sizeof got);
}

static void ml_test_assert_absent(size_t i) {
  assert_false(ml_tables_find(&ml_t, ml_test_addr(i), NULL));
}

static ml_counts_t ml_test_counts(void) {
  ml_counts_t c;
  ml_tables_counts(&ml_t, &c);
  return c;
}

/* Home slot of ptr in a table of cap slots with `shift` arena bits, the way
 * table.c computes it. */
static size_t ml_test_home(uintptr_t ptr, unsigned shift, size_t cap) {
  return (size_t)((ml_hash_ptr(ptr) << shift) >> (64 - ml_log2(cap)));
}

/* Slots of an arena after n inserts: doubled from ML_TABLE_MIN_CAP while
 * above 3/4 load. */
static size_t ml_test_cap_for(size_t n) {
  size_t cap = ML_TABLE_MIN_CAP;
  while (n * 4 > cap * 3)
    cap *= 2;
  return cap;
}

/* Fill idx[0..n) with address indexes whose home slot (in one arena holding
 * these n records) is one of the last `tail` or the first `head` slots:
 * they form one cluster that wraps around the end of the table. */
static void ml_test_wrapping_cluster(size_t *idx, size_t n, size_t tail, size_t head) {
  size_t cap = ml_test_cap_for(n), k = 0;
  for (size_t i = 0; k < n; i++) {
    size_t home = ml_test_home(ml_test_addr(i), 0, cap);
    if (home >= cap - tail || home < head) idx[k++] = i;
  }
}

/* Arena 0's occupied slots run across the end of the table. */
static void ml_test_assert_wraps(void) {
  const ml_arena_t *a = &ml_t.arenas[0];
  assert_true(a->slots[a->cap - 1].ptr != 0);
  assert_true(a->slots[0].ptr != 0);
  assert_true(a->slots[32].ptr != 0);
}

static int ml_test_setup(void **state) {
  (void)state;
  memset(&ml_t, 0, sizeof ml_t);
  return 0;
}

static int ml_test_teardown(void **state) {
  (void)state;
  ml_tables_destroy(&ml_t);
  return 0;
}

/* ---- basic operations --------------------------------------------------- */

static void test_table_insert_find_remove(void **state) {
  ml_rec_t r = ml_rec_make(ml_test_addr(1), 4096, 3, 77, 9), got;
  ml_counts_t c;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 4, 1 << 20), 0);
  assert_false(ml_tables_find(&ml_t, r.ptr, &got)); /* empty, no table yet */
  assert_true(ml_tables_insert(&ml_t, &r));
  assert_true(ml_tables_find(&ml_t, r.ptr, &got));
  assert_memory_equal(&got, &r, sizeof r);
  assert_true(ml_tables_find(&ml_t, r.ptr, NULL));
  assert_false(ml_tables_find(&ml_t, ml_test_addr(2), NULL));

  c = ml_test_counts();
  assert_int_equal(c.live, 1);
  assert_int_equal(c.live_bytes, 4096);
  assert_int_equal(c.allocs, 1);
  assert_int_equal(c.bytes_alloc, 4096);

  memset(&got, 0, sizeof got);
  assert_true(ml_tables_remove(&ml_t, r.ptr, &got));
  assert_memory_equal(&got, &r, sizeof r);
  assert_false(ml_tables_find(&ml_t, r.ptr, NULL));
  assert_false(ml_tables_remove(&ml_t, r.ptr, NULL)); /* only once */

  c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(c.allocs, 1);
  assert_int_equal(c.frees, 1);
  assert_int_equal(c.bytes_alloc, 4096);
  assert_int_equal(c.bytes_freed, 4096);
  assert_int_equal(c.dropped, 0);
  assert_int_equal(c.replaced, 0);
}

static void test_table_remove_unknown_changes_nothing(void **state) {
  ml_counts_t before, after;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 2, 1 << 20), 0);
  for (size_t i = 0; i < 100; i++)
    ml_test_insert(i);
  before = ml_test_counts();
  for (size_t i = 100; i < 200; i++)
    assert_false(ml_tables_remove(&ml_t, ml_test_addr(i), NULL));
  after = ml_test_counts();
  assert_memory_equal(&before, &after, sizeof before);
  for (size_t i = 0; i < 100; i++)
    ml_test_assert_found(i);
}

static void test_table_init_rounds_arenas_to_pow2(void **state) {
  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 3, 1 << 20), 0);
  assert_int_equal(ml_t.narenas, 4);
  assert_int_equal(ml_t.abits, 2);
  ml_tables_destroy(&ml_t);
  assert_null(ml_t.arenas);
  assert_int_equal(ml_tables_init(&ml_t, 1, 1 << 20), 0);
  assert_int_equal(ml_t.narenas, 1);
  assert_int_equal(ml_t.abits, 0);
  /* one arena: every pointer maps to it */
  assert_ptr_equal(ml_tables_arena(&ml_t, ml_test_addr(12345)), &ml_t.arenas[0]);
}

/* ---- many records, growth, shrink --------------------------------------- */

#define ML_TEST_MANY 200000

static void test_table_many_records_counted_across_arenas(void **state) {
  uint64_t bytes = 0, freed = 0, per_arena[16] = {0};
  ml_counts_t c;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 16, 1 << 24), 0);
  for (size_t i = 0; i < ML_TEST_MANY; i++) {
    ml_test_insert(i);
    bytes += ml_test_size(i);
    per_arena[ml_tables_arena(&ml_t, ml_test_addr(i)) - ml_t.arenas]++;
  }
  c = ml_test_counts();
  assert_int_equal(c.live, ML_TEST_MANY);
  assert_int_equal(c.allocs, ML_TEST_MANY);
  assert_int_equal(c.live_bytes, bytes);
  assert_int_equal(c.bytes_alloc, bytes);
  assert_int_equal(c.frees, 0);
  assert_int_equal(c.dropped, 0);
  /* every arena got a share, and each arena's own counter agrees */
  for (unsigned a = 0; a < 16; a++) {
    assert_true(per_arena[a] > ML_TEST_MANY / 16 / 2);
    assert_int_equal(ml_t.arenas[a].n.live, per_arena[a]);
  }
  for (size_t i = 0; i < ML_TEST_MANY; i++)
    ml_test_assert_found(i);

  /* remove the odd ones */
  for (size_t i = 1; i < ML_TEST_MANY; i += 2) {
    assert_true(ml_tables_remove(&ml_t, ml_test_addr(i), NULL));
    freed += ml_test_size(i);
  }
  c = ml_test_counts();
  assert_int_equal(c.live, ML_TEST_MANY / 2);
  assert_int_equal(c.frees, ML_TEST_MANY / 2);
  assert_int_equal(c.bytes_freed, freed);
  assert_int_equal(c.live_bytes, bytes - freed);
  assert_int_equal(c.allocs, ML_TEST_MANY);
  for (size_t i = 0; i < ML_TEST_MANY; i++) {
    if (i % 2)
      ml_test_assert_absent(i);
    else
      ml_test_assert_found(i);
  }
}

static void test_table_growth_and_shrink_keep_records_findable(void **state) {
  size_t min_meta, peak_meta, n = 50000;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 4, 1 << 24), 0);
  min_meta = ml_tables_metadata_bytes(&ml_t);
  assert_int_equal(min_meta, 4 * sizeof(ml_arena_t)); /* nothing mapped yet */

  /* grow step by step, checking everything inserted so far at each doubling */
  for (size_t i = 0; i < n; i++) {
    size_t before = ml_tables_metadata_bytes(&ml_t);
    ml_test_insert(i);
    if (ml_tables_metadata_bytes(&ml_t) > before && i > 4 * ML_TABLE_MIN_CAP)
      for (size_t k = 0; k <= i; k += 7)
        ml_test_assert_found(k);
  }
  peak_meta = ml_tables_metadata_bytes(&ml_t);
  for (unsigned a = 0; a < 4; a++) {
    /* never above 3/4 load */
    assert_true(ml_t.arenas[a].n.live * 4 <= ml_t.arenas[a].cap * 3);
    assert_true(ml_is_pow2(ml_t.arenas[a].cap));
  }
  for (size_t i = 0; i < n; i++)
    ml_test_assert_found(i);

  /* shrink: remove from the front, checking the rest at each halving */
  for (size_t i = 0; i < n; i++) {
    size_t before = ml_tables_metadata_bytes(&ml_t);
    assert_true(ml_tables_remove(&ml_t, ml_test_addr(i), NULL));
    if (ml_tables_metadata_bytes(&ml_t) < before)
      for (size_t k = i + 1; k < n; k += 3)
        ml_test_assert_found(k);
  }
  assert_int_equal(ml_test_counts().live, 0);
  /* every arena is back at the minimum table */
  assert_true(peak_meta > ml_tables_metadata_bytes(&ml_t));
  for (unsigned a = 0; a < 4; a++)
    assert_int_equal(ml_t.arenas[a].cap, ML_TABLE_MIN_CAP);
  for (size_t i = 0; i < n; i += 11)
    ml_test_assert_absent(i);
}

/* ---- backward-shift deletion -------------------------------------------- */

static void test_table_remove_keeps_dense_range_intact(void **state) {
  size_t n = 760; /* one arena at ~3/4 load (760 of 1024): long clusters */

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 1, 1 << 20), 0);
  for (size_t i = 0; i < n; i++)
    ml_test_insert(i);
  assert_int_equal(ml_t.arenas[0].cap, 1024); /* grown from ML_TABLE_MIN_CAP */
  assert_int_equal(ml_t.arenas[0].cap, ml_test_cap_for(n));
  for (size_t i = 0; i < n; i += 2)
    assert_true(ml_tables_remove(&ml_t, ml_test_addr(i), NULL));
  for (size_t i = 0; i < n; i++) {
    if (i % 2)
      ml_test_assert_found(i);
    else
      ml_test_assert_absent(i);
  }
  /* the holes can be refilled and everything is found again */
  for (size_t i = 0; i < n; i += 2)
    ml_test_insert(i);
  for (size_t i = 0; i < n; i++)
    ml_test_assert_found(i);
  assert_int_equal(ml_test_counts().live, n);
}

static void test_table_remove_keeps_wrapping_cluster_intact(void **state) {
  enum { N = 120 };
  size_t idx[N], left = 0, used = 0;

  (void)state;
  /* 120 addresses with home slots cap-4..cap-1, 0..1: a single cluster that
   * wraps around the end of the table */
  ml_test_wrapping_cluster(idx, N, 4, 2);
  assert_int_equal(ml_tables_init(&ml_t, 1, 1 << 20), 0);
  for (size_t k = 0; k < N; k++)
    ml_test_insert(idx[k]);
  assert_int_equal(ml_t.arenas[0].cap, ml_test_cap_for(N));
  ml_test_assert_wraps();

  /* every other one, in insertion order, then in reverse order */
  for (size_t k = 0; k < N; k += 2)
    assert_true(ml_tables_remove(&ml_t, ml_test_addr(idx[k]), NULL));
  for (size_t k = 0; k < N; k++) {
    if (k % 2)
      ml_test_assert_found(idx[k]);
    else
      ml_test_assert_absent(idx[k]);
  }
  for (size_t k = N - 1; k > N / 2; k -= 2)
    assert_true(ml_tables_remove(&ml_t, ml_test_addr(idx[k]), NULL));
  for (size_t k = 0; k < N; k++) {
    if (k % 2 && k <= N / 2) {
      ml_test_assert_found(idx[k]);
      left++;
    } else {
      ml_test_assert_absent(idx[k]);
    }
  }
  /* no tombstones: the occupied slots are exactly the live records */
  for (size_t s = 0; s < ml_t.arenas[0].cap; s++)
    used += ml_t.arenas[0].slots[s].ptr != 0;
  assert_int_equal(left, 30);
  assert_int_equal(used, left);
  assert_int_equal(ml_test_counts().live, left);
}

/* ---- replaced, dropped, capacity bound ---------------------------------- */

static void test_table_reinsert_counts_replaced_and_keeps_live(void **state) {
  ml_rec_t first = ml_rec_make(ml_test_addr(5), 100, 1, 10, 1);
  ml_rec_t second = ml_rec_make(ml_test_addr(5), 300, 2, 20, 2), got;
  ml_counts_t c;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 4, 1 << 20), 0);
  assert_true(ml_tables_insert(&ml_t, &first));
  assert_true(ml_tables_insert(&ml_t, &second));
  c = ml_test_counts();
  assert_int_equal(c.live, 1);
  assert_int_equal(c.replaced, 1);
  assert_int_equal(c.allocs, 2);
  assert_int_equal(c.bytes_alloc, 400);
  assert_int_equal(c.live_bytes, 300); /* the old record's bytes are gone */
  assert_int_equal(c.dropped, 0);
  assert_true(ml_tables_find(&ml_t, first.ptr, &got));
  assert_memory_equal(&got, &second, sizeof got); /* the newer record */

  /* one remove takes it out entirely */
  assert_true(ml_tables_remove(&ml_t, first.ptr, NULL));
  assert_false(ml_tables_find(&ml_t, first.ptr, NULL));
  c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(c.bytes_freed, 300);
}

static void test_table_capacity_bound_drops_and_counts(void **state) {
  ml_counts_t c;
  size_t stored = 0;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 1, 100), 0);
  for (size_t i = 0; i < 10000; i++) {
    ml_rec_t r = ml_test_rec(i);
    bool ok = ml_tables_insert(&ml_t, &r);
    assert_int_equal(ok, i < 100);
    stored += ok;
  }
  c = ml_test_counts();
  assert_int_equal(stored, 100);
  assert_int_equal(c.live, 100);
  assert_int_equal(c.allocs, 100);
  assert_int_equal(c.dropped, 10000 - 100);
  for (size_t i = 0; i < 100; i++)
    ml_test_assert_found(i);
  for (size_t i = 100; i < 10000; i += 97)
    ml_test_assert_absent(i);

  /* a record already present is replaced, not dropped, when full */
  {
    ml_rec_t again = ml_test_rec(7);
    assert_true(ml_tables_insert(&ml_t, &again));
    c = ml_test_counts();
    assert_int_equal(c.replaced, 1);
    assert_int_equal(c.dropped, 10000 - 100);
  }
  /* a free makes room for exactly one more */
  assert_true(ml_tables_remove(&ml_t, ml_test_addr(0), NULL));
  ml_test_insert(20000);
  {
    ml_rec_t r = ml_test_rec(20001);
    assert_false(ml_tables_insert(&ml_t, &r));
  }
  c = ml_test_counts();
  assert_int_equal(c.live, 100);
  assert_int_equal(c.dropped, 10000 - 100 + 1);
}

static void test_table_capacity_bound_is_split_across_arenas(void **state) {
  ml_counts_t c;

  (void)state;
  /* 4 arenas, 10 records asked for: each arena still holds 64 (the floor) */
  assert_int_equal(ml_tables_init(&ml_t, 4, 10), 0);
  for (size_t i = 0; i < 5000; i++) {
    ml_rec_t r = ml_test_rec(i);
    (void)ml_tables_insert(&ml_t, &r);
  }
  c = ml_test_counts();
  assert_int_equal(c.live, 4 * 64);
  assert_int_equal(c.live + c.dropped, 5000);
  for (unsigned a = 0; a < 4; a++) {
    assert_int_equal(ml_t.arenas[a].max_live, 64);
    assert_int_equal(ml_t.arenas[a].n.live, 64);
  }
  ml_tables_destroy(&ml_t);

  /* 4 arenas, 1000 records: 250 each */
  assert_int_equal(ml_tables_init(&ml_t, 4, 1000), 0);
  for (size_t i = 0; i < 5000; i++) {
    ml_rec_t r = ml_test_rec(i);
    (void)ml_tables_insert(&ml_t, &r);
  }
  c = ml_test_counts();
  assert_int_equal(c.live, 1000);
  assert_int_equal(c.dropped, 4000);
}

/* ---- snapshot and filter ------------------------------------------------ */

static int ml_test_cmp_ptr(const void *a, const void *b) {
  uintptr_t x = ((const ml_rec_t *)a)->ptr, y = ((const ml_rec_t *)b)->ptr;
  return x < y ? -1 : x > y;
}

static void test_table_snapshot_returns_compacted_records(void **state) {
  enum { N = 3000 };
  static ml_rec_t buf[N];
  static bool seen[N];
  size_t total = 0;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 4, 1 << 20), 0);
  for (size_t i = 0; i < N; i++)
    ml_test_insert(i);
  for (size_t i = 0; i < N; i += 3)
    assert_true(ml_tables_remove(&ml_t, ml_test_addr(i), NULL));
  memset(seen, 0, sizeof seen);
  for (unsigned a = 0; a < 4; a++) {
    ml_counts_t c;
    long n = ml_tables_snapshot(&ml_t, a, buf, N, &c);
    assert_true(n > 0);
    assert_int_equal((uint64_t)n, c.live);
    assert_memory_equal(&c, &ml_t.arenas[a].n, sizeof c);
    /* compacted: n real records, sorted they are distinct */
    qsort(buf, (size_t)n, sizeof buf[0], ml_test_cmp_ptr);
    for (long k = 0; k < n; k++) {
      size_t i = (buf[k].ptr - ML_TEST_BASE) / 16;
      ml_rec_t want = ml_test_rec(i);
      assert_true(buf[k].ptr != 0);
      assert_true(k == 0 || buf[k].ptr != buf[k - 1].ptr);
      assert_memory_equal(&buf[k], &want, sizeof want);
      assert_ptr_equal(ml_tables_arena(&ml_t, buf[k].ptr), &ml_t.arenas[a]);
      assert_false(seen[i]);
      seen[i] = true;
    }
    total += (size_t)n;
  }
  assert_int_equal(total, N - N / 3);
  for (size_t i = 0; i < N; i++)
    assert_int_equal(seen[i], i % 3 != 0);
}

static void test_table_snapshot_small_buffer_returns_needed(void **state) {
  ml_rec_t buf[8];
  ml_counts_t c;
  long live0;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 2, 1 << 20), 0);
  /* an arena that was never used */
  memset(&c, 0xa5, sizeof c);
  assert_int_equal(ml_tables_snapshot(&ml_t, 0, NULL, 0, &c), 0);
  assert_int_equal(c.live, 0);

  for (size_t i = 0; i < 100; i++)
    ml_test_insert(i);
  live0 = (long)ml_t.arenas[0].n.live;
  assert_true(live0 > 8);
  memset(buf, 0xa5, sizeof buf);
  memset(&c, 0xa5, sizeof c);
  assert_int_equal(ml_tables_snapshot(&ml_t, 0, buf, 8, &c), -live0);
  assert_int_equal(ml_tables_snapshot(&ml_t, 0, buf, (size_t)live0 - 1, NULL), -live0);
  /* nothing copied */
  for (size_t k = 0; k < sizeof buf; k++)
    assert_int_equal(((unsigned char *)buf)[k], 0xa5);
  {
    ml_rec_t *big = calloc((size_t)live0, sizeof *big);
    assert_non_null(big);
    assert_int_equal(ml_tables_snapshot(&ml_t, 0, big, (size_t)live0, NULL), live0);
    free(big);
  }
}

static bool ml_test_keep_even_size(const ml_rec_t *r, void *arg) {
  (*(size_t *)arg)++;
  return ml_rec_size(r) % 2 == 0;
}

static void test_table_filter_drops_rejected_and_fixes_counts(void **state) {
  size_t n = 5000, calls = 0, dropped;
  uint64_t kept_bytes = 0;
  ml_counts_t before, c;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 4, 1 << 20), 0);
  for (size_t i = 0; i < n; i++) {
    ml_test_insert(i);
    if (i % 2 == 0) kept_bytes += ml_test_size(i);
  }
  before = ml_test_counts();
  dropped = ml_tables_filter(&ml_t, ml_test_keep_even_size, &calls);
  assert_int_equal(dropped, n / 2);
  assert_true(calls >= n); /* every record was looked at */
  c = ml_test_counts();
  assert_int_equal(c.live, n - n / 2);
  assert_int_equal(c.live_bytes, kept_bytes);
  assert_int_equal(c.allocs, before.allocs);
  for (size_t i = 0; i < n; i++) {
    if (i % 2 == 0)
      ml_test_assert_found(i);
    else
      ml_test_assert_absent(i);
  }
  /* a second pass finds nothing more */
  assert_int_equal(ml_tables_filter(&ml_t, ml_test_keep_even_size, &calls), 0);
}

static bool ml_test_keep_odd_index(const ml_rec_t *r, void *arg) {
  (void)arg;
  return ((r->ptr - ML_TEST_BASE) / 16) % 2 == 1;
}

static void test_table_filter_keeps_wrapping_cluster_intact(void **state) {
  enum { N = 150 };
  size_t idx[N], kept = 0;

  (void)state;
  ml_test_wrapping_cluster(idx, N, 3, 3);
  assert_int_equal(ml_tables_init(&ml_t, 1, 1 << 20), 0);
  for (size_t k = 0; k < N; k++) {
    ml_test_insert(idx[k]);
    kept += idx[k] % 2;
  }
  ml_test_assert_wraps();
  assert_int_equal(ml_tables_filter(&ml_t, ml_test_keep_odd_index, NULL), N - kept);
  assert_int_equal(ml_test_counts().live, kept);
  for (size_t k = 0; k < N; k++) {
    if (idx[k] % 2)
      ml_test_assert_found(idx[k]);
    else
      ml_test_assert_absent(idx[k]);
  }
}

/* ---- metadata budget ---------------------------------------------------- */

#define ML_TEST_BUDGET_RECORDS 100000
#define ML_TEST_BUDGET_BYTES   64

/* Table bytes per live record with narenas arenas and 1e5 live records. */
static double ml_test_bytes_per_record(unsigned narenas) {
  double per;
  assert_int_equal(ml_tables_init(&ml_t, narenas, 64 << 20), 0);
  for (size_t i = 0; i < ML_TEST_BUDGET_RECORDS; i++)
    ml_test_insert(i);
  assert_int_equal(ml_test_counts().live, ML_TEST_BUDGET_RECORDS);
  per = (double)ml_tables_metadata_bytes(&ml_t) / ML_TEST_BUDGET_RECORDS;
  ml_tables_destroy(&ml_t);
  return per;
}

static void test_table_metadata_within_budget_at_1e5_records(void **state) {
  /* the arena count init.c picks on this machine, and a few small ones */
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned def = (unsigned)ml_next_pow2(8 * (size_t)(ncpu > 0 ? ncpu : 1));
  unsigned counts[] = {def < 16 ? 16 : def, 1, 4, 16};

  (void)state;
  for (size_t k = 0; k < ML_ARRAY_SIZE(counts); k++) {
    double per = ml_test_bytes_per_record(counts[k]);
    if (per > ML_TEST_BUDGET_BYTES)
      fail_msg("%u arenas: %.1f metadata bytes per record at %d live records "
               "(budget %d)",
               counts[k], per, ML_TEST_BUDGET_RECORDS, ML_TEST_BUDGET_BYTES);
  }
}

/* Every arena count MEMLEDGER_ARENAS accepts (and the default on machines
 * with up to 128 CPUs). */
static void test_table_metadata_within_budget_for_any_arena_count(void **state) {
  char bad[512] = "";
  size_t len = 0;

  (void)state;
  for (unsigned n = 1; n <= 1024; n *= 2) {
    double per = ml_test_bytes_per_record(n);
    if (per > ML_TEST_BUDGET_BYTES)
      len += (size_t)snprintf(bad + len, sizeof bad - len, " %u arenas: %.1f;", n, per);
  }
  if (len)
    fail_msg("metadata bytes per record at %d live records above the budget "
             "of %d:%s",
             ML_TEST_BUDGET_RECORDS, ML_TEST_BUDGET_BYTES, bad);
}

/* ---- concurrency -------------------------------------------------------- */

#define ML_TEST_THREADS    4
#define ML_TEST_PER_THREAD 20000

static pthread_barrier_t ml_test_barrier;

static void *ml_test_churn(void *arg) {
  size_t t = (size_t)arg, base = t * ML_TEST_PER_THREAD;
  pthread_barrier_wait(&ml_test_barrier);
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < ML_TEST_PER_THREAD; i++) {
      ml_rec_t r = ml_test_rec(base + i);
      if (!ml_tables_insert(&ml_t, &r)) return (void *)1;
    }
    /* keep the last round's even ones */
    for (size_t i = 0; i < ML_TEST_PER_THREAD; i++)
      if (round < 2 || i % 2)
        if (!ml_tables_remove(&ml_t, ml_test_addr(base + i), NULL)) return (void *)2;
  }
  return NULL;
}

static void test_table_concurrent_insert_remove_keeps_counts(void **state) {
  pthread_t th[ML_TEST_THREADS];
  size_t total = ML_TEST_THREADS * ML_TEST_PER_THREAD;
  ml_counts_t c;

  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 4, 1 << 24), 0);
  pthread_barrier_init(&ml_test_barrier, NULL, ML_TEST_THREADS);
  for (size_t t = 0; t < ML_TEST_THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, ml_test_churn, (void *)t), 0);
  for (size_t t = 0; t < ML_TEST_THREADS; t++) {
    void *rc;
    assert_int_equal(pthread_join(th[t], &rc), 0);
    assert_null(rc);
  }
  pthread_barrier_destroy(&ml_test_barrier);
  c = ml_test_counts();
  assert_int_equal(c.allocs, 3 * total);
  assert_int_equal(c.frees, 3 * total - total / 2);
  assert_int_equal(c.live, total / 2);
  assert_int_equal(c.live_bytes, c.bytes_alloc - c.bytes_freed);
  for (size_t i = 0; i < total; i++) {
    if (i % 2)
      ml_test_assert_absent(i);
    else
      ml_test_assert_found(i);
  }
}

/* ---- record packing ----------------------------------------------------- */

static void test_table_rec_packing_round_trips(void **state) {
  static const struct {
    uintptr_t ptr;
    size_t size;
    unsigned tid;
    uint64_t seq;
    uint32_t stack;
  } cases[] = {
      {0x10, 0, 0, 0, 0},
      {0x7ffff7a00010, 1, 1, 1, 1},
      {0x5555deadbee0, 1 << 20, 300, 123456789, 4242},
      {UINTPTR_MAX - 15, ML_REC_SIZE_MAX, 0xffff, (UINT64_C(1) << 40) - 1,
       ML_REC_STACK_MAX},
      {0x20, ML_REC_SIZE_MAX, 0, 0, 0},         /* no bleed into tid */
      {0x30, 0, 0xffff, 0, 0},                  /* no bleed into size */
      {0x40, 0, 0, 0, ML_REC_STACK_MAX},        /* no bleed into seq */
      {0x50, 0, 0, (UINT64_C(1) << 40) - 1, 0}, /* no bleed into stack */
  };

  (void)state;
  assert_int_equal(sizeof(ml_rec_t), 24);
  for (size_t k = 0; k < ML_ARRAY_SIZE(cases); k++) {
    ml_rec_t r = ml_rec_make(cases[k].ptr, cases[k].size, cases[k].tid, cases[k].seq,
                             cases[k].stack);
    assert_int_equal(r.ptr, cases[k].ptr);
    assert_int_equal(ml_rec_size(&r), cases[k].size);
    assert_int_equal(ml_rec_tid(&r), cases[k].tid);
    assert_int_equal(ml_rec_seq(&r), cases[k].seq);
    assert_int_equal(ml_rec_stack(&r), cases[k].stack);
  }
}

static void test_table_rec_size_clamps_to_48_bits(void **state) {
  static const size_t big[] = {(size_t)ML_REC_SIZE_MAX + 1, (size_t)1 << 50, SIZE_MAX - 1,
                               SIZE_MAX};

  (void)state;
  assert_int_equal(ML_REC_SIZE_MAX, (UINT64_C(1) << 48) - 1);
  for (size_t k = 0; k < ML_ARRAY_SIZE(big); k++) {
    ml_rec_t r = ml_rec_make(0x1000, big[k], 0x1234, 99, 7);
    assert_int_equal(ml_rec_size(&r), ML_REC_SIZE_MAX);
    /* the clamp does not spill into the other fields */
    assert_int_equal(ml_rec_tid(&r), 0x1234);
    assert_int_equal(ml_rec_seq(&r), 99);
    assert_int_equal(ml_rec_stack(&r), 7);
  }
  /* and a table counts the clamped size */
  assert_int_equal(ml_tables_init(&ml_t, 1, 1 << 20), 0);
  {
    ml_rec_t r = ml_rec_make(0x1000, SIZE_MAX, 1, 1, 1);
    assert_true(ml_tables_insert(&ml_t, &r));
    assert_int_equal(ml_test_counts().live_bytes, ML_REC_SIZE_MAX);
  }
}

/* ---- frozen reading (a dump's snapshot child) --------------------------- */

typedef struct ml_test_seen_s {
  uintptr_t ptr[64];
  size_t n;
} ml_test_seen_t;

static void ml_test_collect(const ml_rec_t *r, void *arg) {
  ml_test_seen_t *s = arg;
  if (s->n < 64) s->ptr[s->n] = r->ptr;
  s->n++;
}

/* A removal's backward shift copies a record towards its home slot, then
 * retracts the original: a snapshot taken between the two sees it twice.
 * The frozen reader of an arena whose lock was held counts it once. */
static void test_table_frozen_visit_counts_a_moved_record_once(void **state) {
  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 1, 1 << 20), 0);
  /* Two addresses with the same home slot: A there, B displaced after it. */
  size_t cap = ML_TABLE_MIN_CAP, ia = 0, ib;
  size_t h = ml_test_home(ml_test_addr(ia), 0, cap);
  for (ib = 1; ml_test_home(ml_test_addr(ib), 0, cap) != h; ib++) {}
  ml_test_insert(ia);
  ml_test_insert(ib);
  ml_arena_t *a = &ml_t.arenas[0];
  assert_int_equal(a->cap, cap);
  size_t j = (h + 1) & (cap - 1);
  assert_true(a->slots[h].ptr == ml_test_addr(ia) && a->slots[j].ptr == ml_test_addr(ib));
  /* Removing A, caught midway: B copied into A's slot, not yet retracted. */
  atomic_store(&a->lock.state, 1);
  a->slots[h] = a->slots[j];
  ml_test_seen_t seen = {0};
  ml_counts_t c;
  assert_int_equal(ml_tables_visit(&ml_t, 0, true, ml_test_collect, &seen, &c), 1);
  assert_int_equal(seen.n, 1);
  assert_true(seen.ptr[0] == ml_test_addr(ib));
  atomic_store(&a->lock.state, 0);
}

#define ML_FROZEN_STABLE 200 /* records nobody removes (few: arenas grow and shrink) */
#define ML_FROZEN_CHURN 20000 /* addresses the churners insert and remove */
#define ML_FROZEN_FORKS 300

static _Atomic int ml_frozen_stop;

static void *ml_frozen_churn(void *arg) {
  size_t base = (size_t)(uintptr_t)arg, k = 0;
  while (!atomic_load_explicit(&ml_frozen_stop, memory_order_relaxed)) {
    /* Bursts of inserts then removes: the arenas grow and shrink. */
    for (size_t i = 0; i < 2000; i++) {
      ml_rec_t r = ml_test_rec(base + (k + i) % ML_FROZEN_CHURN);
      (void)ml_tables_insert(&ml_t, &r);
    }
    for (size_t i = 0; i < 2000; i++)
      (void)ml_tables_remove(&ml_t, ml_test_addr(base + (k + i) % ML_FROZEN_CHURN), NULL);
    k += 777;
  }
  return NULL;
}

typedef struct ml_frozen_check_s {
  unsigned char *stable_seen; // per stable index, times seen
  int bad;                    // 1 torn record, 2 unknown address
} ml_frozen_check_t;

static void ml_frozen_one(const ml_rec_t *r, void *arg) {
  ml_frozen_check_t *c = arg;
  if (r->ptr < ML_TEST_BASE || (r->ptr - ML_TEST_BASE) % 16) {
    c->bad = 2;
    return;
  }
  size_t i = (r->ptr - ML_TEST_BASE) / 16;
  ml_rec_t want = ml_test_rec(i);
  if (memcmp(r, &want, sizeof want) != 0) c->bad = 1;
  if (i < ML_FROZEN_STABLE && c->stable_seen[i] < 255) c->stable_seen[i]++;
}

/* In a forked child (the others threads frozen wherever they were), every
 * arena read frozen: each record whole, each stable one exactly once.
 * Exit status: 0, 1 torn, 2 unknown address, 3 a stable record missing,
 * 4 one seen twice. */
static int ml_frozen_child(void) {
  static unsigned char seen[ML_FROZEN_STABLE];
  ml_frozen_check_t c = {seen, 0};
  for (unsigned i = 0; i < ml_t.narenas; i++)
    (void)ml_tables_visit(&ml_t, i, true, ml_frozen_one, &c, NULL);
  if (c.bad) return c.bad;
  for (size_t i = 0; i < ML_FROZEN_STABLE; i++) {
    if (seen[i] == 0) return 3;
    if (seen[i] > 1) return 4;
  }
  return 0;
}

static void test_table_frozen_visit_from_forks_under_churn(void **state) {
  (void)state;
  assert_int_equal(ml_tables_init(&ml_t, 4, 1 << 22), 0);
  for (size_t i = 0; i < ML_FROZEN_STABLE; i++) ml_test_insert(i);
  atomic_store(&ml_frozen_stop, 0);
  pthread_t th[2];
  for (int t = 0; t < 2; t++)
    assert_int_equal(pthread_create(&th[t], NULL, ml_frozen_churn,
                                     (void *)(uintptr_t)(ML_FROZEN_STABLE + 1 +
                                                         (size_t)t * ML_FROZEN_CHURN)),
                     0);
  int fails[5] = {0};
  for (int f = 0; f < ML_FROZEN_FORKS; f++) {
    usleep(200);
    fails[ml_test_in_snapshot(ml_frozen_child)]++;
  }
  atomic_store(&ml_frozen_stop, 1);
  for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
  if (fails[1] + fails[2] + fails[3] + fails[4])
    print_error("of %d snapshots: %d torn, %d unknown, %d missing, %d doubled\n",
                ML_FROZEN_FORKS, fails[1], fails[2], fails[3], fails[4]);
  assert_int_equal(fails[0], ML_FROZEN_FORKS);
}

/* ---- main --------------------------------------------------------------- */

#define ML_TEST(f) cmocka_unit_test_setup_teardown(f, ml_test_setup, ml_test_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      ML_TEST(test_table_insert_find_remove),
      ML_TEST(test_table_remove_unknown_changes_nothing),
      ML_TEST(test_table_init_rounds_arenas_to_pow2),
      ML_TEST(test_table_many_records_counted_across_arenas),
      ML_TEST(test_table_growth_and_shrink_keep_records_findable),
      ML_TEST(test_table_remove_keeps_dense_range_intact),
      ML_TEST(test_table_remove_keeps_wrapping_cluster_intact),
      ML_TEST(test_table_reinsert_counts_replaced_and_keeps_live),
      ML_TEST(test_table_capacity_bound_drops_and_counts),
      ML_TEST(test_table_capacity_bound_is_split_across_arenas),
      ML_TEST(test_table_snapshot_returns_compacted_records),
      ML_TEST(test_table_snapshot_small_buffer_returns_needed),
      ML_TEST(test_table_filter_drops_rejected_and_fixes_counts),
      ML_TEST(test_table_filter_keeps_wrapping_cluster_intact),
      ML_TEST(test_table_metadata_within_budget_at_1e5_records),
      ML_TEST(test_table_metadata_within_budget_for_any_arena_count),
      ML_TEST(test_table_concurrent_insert_remove_keeps_counts),
      ML_TEST(test_table_frozen_visit_counts_a_moved_record_once),
      ML_TEST(test_table_frozen_visit_from_forks_under_churn),
      ML_TEST(test_table_rec_packing_round_trips),
      ML_TEST(test_table_rec_size_clamps_to_48_bits),
  };
  return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}

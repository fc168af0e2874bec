/* SPDX-License-Identifier: MIT */
/*
 * test_pagemap.c - unit tests for pagemap.c: a page reads "maybe" exactly
 * when it was marked and not cleared since, at 4 KiB granularity, in the
 * first and last pages of a leaf (4 GiB) and of the whole 47-bit range;
 * addresses at or above 2^47 are never marked, map nothing and never clear
 * the low page they alias; leaves are
 * mapped on the first mark in their region only (clear and test never
 * map), and threads marking one fresh region race to install a single leaf
 * (ml_pagemap_mapped counts it once).  The map is process-wide and never
 * shrinks, so each test works in regions of its own.  The first leaf
 * mapped (region 5 here) is the hot one, read without the root: its pages
 * and its neighbours' answer the same as any other's.  Addresses are never
 * dereferenced.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pagemap.h"

#define ML_TEST_PAGE ((uintptr_t)1 << ML_PM_PAGE_SHIFT)
#define ML_TEST_LEAF_SPAN ((uintptr_t)1 << ML_PM_ROOT_SHIFT)  /* 4 GiB */
#define ML_TEST_LEAF_BYTES ((size_t)1 << ML_PM_LEAF_BITS) /* 1 MiB */
#define ML_TEST_TOP ((uintptr_t)1 << 47)

/* The first address of leaf region r (each test uses its own r). */
static uintptr_t ml_test_region(unsigned r) { return (uintptr_t)r * ML_TEST_LEAF_SPAN; }

static bool ml_test(uintptr_t a) { return ml_pagemap_test((const void *)a); }
static bool ml_mark(uintptr_t a) { return ml_pagemap_mark((const void *)a); }
static void ml_clear(uintptr_t a) { ml_pagemap_clear((const void *)a); }

static void test_pagemap_unmarked_is_not_tracked(void **state) {
  (void)state;
  assert_false(ml_pagemap_test(NULL));
  assert_false(ml_test(ml_test_region(3)));
  assert_false(ml_test(ml_test_region(3) + 12345 * ML_TEST_PAGE));
  assert_false(ml_test(ML_TEST_TOP - 1));
}

static void test_pagemap_mark_test_clear_one_page(void **state) {
  uintptr_t base = ml_test_region(5) + 77 * ML_TEST_PAGE;

  (void)state;
  size_t mapped = ml_pagemap_mapped();
  assert_true(ml_mark(base + 16));
  assert_int_equal(ml_pagemap_mapped(), mapped + ML_TEST_LEAF_BYTES);
  /* the whole page, and only that page */
  assert_true(ml_test(base));
  assert_true(ml_test(base + 16));
  assert_true(ml_test(base + ML_TEST_PAGE - 1));
  assert_false(ml_test(base - 1));
  assert_false(ml_test(base + ML_TEST_PAGE));
  /* pages sharing its bitmap word, and the other words */
  for (uintptr_t k = 1; k < 200; k++) {
    assert_false(ml_test(base + k * ML_TEST_PAGE));
    assert_false(ml_test(base - k * ML_TEST_PAGE));
  }
  /* a second mark in the same leaf maps nothing */
  assert_true(ml_mark(base + 64 * ML_TEST_PAGE));
  assert_int_equal(ml_pagemap_mapped(), mapped + ML_TEST_LEAF_BYTES);
  assert_true(ml_test(base + 64 * ML_TEST_PAGE));
  assert_true(ml_test(base)); /* marking is idempotent and independent */
  assert_true(ml_mark(base));
  ml_clear(base + 100);
  assert_false(ml_test(base));
  assert_true(ml_test(base + 64 * ML_TEST_PAGE));
  ml_clear(base + 64 * ML_TEST_PAGE);
  assert_false(ml_test(base + 64 * ML_TEST_PAGE));
  ml_clear(base); /* clearing a clear page is harmless */
  assert_false(ml_test(base));
}

/* Runs after the test above: region 5 holds the first leaf ever mapped. */
static void test_pagemap_hot_leaf_is_the_first(void **state) {
  uintptr_t edge = ml_test_region(6); /* regions 5 (hot) and 6 meet here */

  (void)state;
  assert_int_equal(atomic_load(&ml_pagemap_hot.high), ml_test_region(5));
  assert_ptr_equal((void *)(ml_pagemap_hot.base + (ml_test_region(5) >> ML_PM_PAGE_SHIFT)),
                   atomic_load(&ml_pagemap_root[5]));
  assert_true(ml_mark(edge - ML_TEST_PAGE)); /* last page of the hot leaf */
  assert_true(ml_mark(edge + 8));            /* first page of region 6 */
  assert_int_equal(atomic_load(&ml_pagemap_hot.high), ml_test_region(5)); /* set once */
  assert_true(ml_test(edge - 1));
  assert_true(ml_test(edge));
  assert_false(ml_test(edge - 2 * ML_TEST_PAGE));
  assert_false(ml_test(edge + ML_TEST_PAGE));
  assert_false(ml_test(ml_test_region(5)));
  ml_clear(edge - 8);
  assert_false(ml_test(edge - 1));
  assert_true(ml_test(edge));
  ml_clear(edge);
  assert_false(ml_test(edge));
  /* an address above 2^47 whose low bits alias the hot region: no */
  assert_false(ml_test(ML_TEST_TOP + ml_test_region(5) + 77 * ML_TEST_PAGE));
  assert_false(ml_test(UINTPTR_MAX - ML_TEST_PAGE + 1));
}

static void test_pagemap_leaf_boundaries(void **state) {
  uintptr_t edge = ml_test_region(9); /* regions 8 and 9 meet here */

  (void)state;
  size_t mapped = ml_pagemap_mapped();
  assert_true(ml_mark(edge - ML_TEST_PAGE));  /* last page of region 8 */
  assert_true(ml_mark(edge));                 /* first page of region 9 */
  assert_int_equal(ml_pagemap_mapped(), mapped + 2 * ML_TEST_LEAF_BYTES);
  assert_true(ml_test(edge - 1));
  assert_true(ml_test(edge));
  assert_false(ml_test(edge - 2 * ML_TEST_PAGE));
  assert_false(ml_test(edge + ML_TEST_PAGE));
  /* the first page of region 8 and the last of region 9 are apart */
  assert_false(ml_test(ml_test_region(8)));
  assert_false(ml_test(ml_test_region(10) - 1));
  ml_clear(edge);
  assert_false(ml_test(edge));
  assert_true(ml_test(edge - 1));
}

static void test_pagemap_top_of_the_47_bit_range(void **state) {
  uintptr_t last = ML_TEST_TOP - ML_TEST_PAGE; /* 0x7ffffffff000 */

  (void)state;
  assert_false(ml_test(last));
  assert_true(ml_mark(last + 8));
  assert_true(ml_test(last));
  assert_true(ml_test(ML_TEST_TOP - 1));
  assert_false(ml_test(last - 1));
  ml_clear(last);
  assert_false(ml_test(ML_TEST_TOP - 1));
  assert_true(ml_mark(ML_TEST_TOP - 16));
  assert_true(ml_test(last));
}

static void test_pagemap_above_47_bits_is_never_marked(void **state) {
  const uintptr_t high[] = {ML_TEST_TOP, ML_TEST_TOP + ML_TEST_PAGE, (uintptr_t)1 << 56,
                            (uintptr_t)0xffff800000000000u, UINTPTR_MAX - 15};
  /* A low page that the first high addresses alias (same bits below 47). */
  uintptr_t low = ml_test_region(14) + 3 * ML_TEST_PAGE;

  (void)state;
  assert_true(ml_mark(low));
  size_t mapped = ml_pagemap_mapped();
  for (size_t i = 0; i < sizeof high / sizeof high[0]; i++) {
    assert_false(ml_mark(high[i])); /* refused: such a block is not recorded */
    ml_clear(high[i]);              /* never clears the page it aliases */
  }
  assert_false(ml_mark(ML_TEST_TOP + low)); /* the alias of the marked page */
  ml_clear(ML_TEST_TOP + low);
  assert_true(ml_test(low));
  assert_int_equal(ml_pagemap_mapped(), mapped);
  /* nothing was marked in the low addresses the top bits would wrap to */
  assert_false(ml_test(0));
  assert_false(ml_test(ML_TEST_PAGE));
}

static void test_pagemap_clear_and_test_never_map(void **state) {
  uintptr_t a = ml_test_region(12) + 5 * ML_TEST_PAGE;

  (void)state;
  size_t mapped = ml_pagemap_mapped();
  ml_clear(a);
  assert_false(ml_test(a));
  assert_int_equal(ml_pagemap_mapped(), mapped);
  assert_null(atomic_load(&ml_pagemap_root[a >> ML_PM_ROOT_SHIFT]));
}

/* ---- concurrency -------------------------------------------------------- */

#define ML_TEST_THREADS 4
#define ML_TEST_REGIONS 16 /* fresh regions 100..115, all threads in each */
#define ML_TEST_PAGES 256  /* pages per thread per region */

static pthread_barrier_t ml_test_barrier;

static void *ml_test_marker(void *arg) {
  uintptr_t t = (uintptr_t)arg;
  pthread_barrier_wait(&ml_test_barrier);
  for (unsigned r = 0; r < ML_TEST_REGIONS; r++)
    for (uintptr_t k = 0; k < ML_TEST_PAGES; k++)
      if (!ml_mark(ml_test_region(100 + r) + (k * ML_TEST_THREADS + t) * ML_TEST_PAGE))
        return (void *)1;
  return NULL;
}

static void test_pagemap_concurrent_marks_install_one_leaf(void **state) {
  pthread_t th[ML_TEST_THREADS];

  (void)state;
  size_t mapped = ml_pagemap_mapped();
  pthread_barrier_init(&ml_test_barrier, NULL, ML_TEST_THREADS);
  for (uintptr_t t = 0; t < ML_TEST_THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, ml_test_marker, (void *)t), 0);
  for (int t = 0; t < ML_TEST_THREADS; t++) {
    void *ret = (void *)1;
    assert_int_equal(pthread_join(th[t], &ret), 0);
    assert_null(ret);
  }
  pthread_barrier_destroy(&ml_test_barrier);
  /* one leaf per region, whoever won each race */
  assert_int_equal(ml_pagemap_mapped(), mapped + ML_TEST_REGIONS * ML_TEST_LEAF_BYTES);
  for (unsigned r = 0; r < ML_TEST_REGIONS; r++) {
    uintptr_t b = ml_test_region(100 + r);
    for (uintptr_t k = 0; k < ML_TEST_PAGES * ML_TEST_THREADS; k++)
      assert_true(ml_test(b + k * ML_TEST_PAGE));
    assert_false(ml_test(b + ML_TEST_PAGES * ML_TEST_THREADS * ML_TEST_PAGE));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pagemap_unmarked_is_not_tracked),
      cmocka_unit_test(test_pagemap_mark_test_clear_one_page),
      cmocka_unit_test(test_pagemap_hot_leaf_is_the_first),
      cmocka_unit_test(test_pagemap_leaf_boundaries),
      cmocka_unit_test(test_pagemap_top_of_the_47_bit_range),
      cmocka_unit_test(test_pagemap_above_47_bits_is_never_marked),
      cmocka_unit_test(test_pagemap_clear_and_test_never_map),
      cmocka_unit_test(test_pagemap_concurrent_marks_install_one_leaf),
  };
  return cmocka_run_group_tests_name("pagemap", tests, NULL, NULL);
}

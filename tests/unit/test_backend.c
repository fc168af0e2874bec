/* SPDX-License-Identifier: MIT */
/*
 * test_backend.c - unit tests for backend.c's size classes: the computed
 * class of a request is used only when it agrees with jemalloc's for every
 * request up to 2^40 (ml_size_classes_match), and that is decided with a
 * few hundred questions to jemalloc.  jemalloc here is a fake: its
 * nallocx is built from a table of classes that the tests change in ways a
 * jemalloc built with other options would (another quantum, more classes
 * per doubling, one class more or less anywhere), each of which must be
 * seen.  backend.c is included, so its static functions are reachable;
 * nothing of the core is linked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "backend.c"

/* The fake jemalloc: classes as jemalloc 5.3 on x86-64 makes them (a
 * tiny class of 8, the quantum of 16 up to 128, then `per` classes per
 * doubling), with one class boundary moved or added. */
static struct {
  size_t quantum;  /* 16, or 8 for a jemalloc built with a smaller one */
  unsigned lg_per; /* log2 of classes per doubling past 128: 2 */
  size_t extra;    /* a class of its own (0: none): a boundary added */
  size_t missing;  /* a class that is not one (0: none): a boundary removed */
  size_t tiny;     /* the smallest class: 8 */
  unsigned long calls;
} ml_fake;

static size_t ml_fake_base(size_t n) {
  if (n <= ml_fake.tiny) return ml_fake.tiny;
  if (n <= 128) return (n + ml_fake.quantum - 1) & ~(ml_fake.quantum - 1);
  unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
  size_t delta = (size_t)1 << (lg - ml_fake.lg_per);
  return (n + delta - 1) & ~(delta - 1);
}

/* Non-decreasing, as jemalloc's classes are, with every change. */
static size_t ml_fake_class(size_t n) {
  size_t c = ml_fake_base(n);
  if (ml_fake.missing && c == ml_fake.missing) c = ml_fake_base(c + 1);
  if (ml_fake.extra && n <= ml_fake.extra && c > ml_fake.extra) c = ml_fake.extra;
  return c;
}

size_t ml_je_nallocx(size_t n, int flags) {
  (void)flags;
  ml_fake.calls++;
  return ml_fake_class(n);
}
size_t ml_je_malloc_usable_size(void *p) {
  (void)p;
  return 0;
}
int ml_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) {
  (void)name, (void)oldp, (void)oldlenp, (void)newp, (void)newlen;
  return -1;
}

static void ml_fake_reset(void) {
  ml_fake.quantum = 16;
  ml_fake.lg_per = 2;
  ml_fake.extra = ml_fake.missing = 0;
  ml_fake.tiny = 8;
  ml_fake.calls = 0;
}

static int ml_setup(void **state) {
  (void)state;
  ml_fake_reset();
  return 0;
}

/* jemalloc's own classes: they match, in a few hundred questions (asking
 * about every request up to 64 KiB made 65,537). */
static void test_classes_match_in_few_questions(void **state) {
  (void)state;
  assert_true(ml_size_classes_match());
  assert_true(ml_fake.calls >= 2);
  assert_true(ml_fake.calls <= 1000);
  /* and the computation is jemalloc's, request by request */
  for (size_t n = 0; n <= 70000; n++) assert_int_equal(ml_size_class(n), ml_fake_class(n ? n : 1));
}

static void test_other_quantum_seen(void **state) {
  (void)state;
  ml_fake.quantum = 8;
  assert_false(ml_size_classes_match());
}

static void test_other_classes_per_doubling_seen(void **state) {
  (void)state;
  ml_fake.lg_per = 3;
  assert_false(ml_size_classes_match());
}

static void test_other_tiny_class_seen(void **state) {
  (void)state;
  ml_fake.tiny = 16;
  assert_false(ml_size_classes_match());
}

/* One boundary added or removed anywhere, small or up to 2^40, is seen:
 * at a class of ours, at a request inside one, at the largest sizes. */
static void test_one_boundary_seen_anywhere(void **state) {
  (void)state;
  unsigned tried = 0;
  for (size_t c = 8; c < ((size_t)1 << 40); c = ml_size_class(c + 1)) {
    size_t inside[] = {c - 1, c > 16 ? c - 8 : 0, c > 160 ? (c + ml_size_class(c / 2 + 1)) / 2 : 0};
    for (unsigned i = 0; i < sizeof inside / sizeof inside[0]; i++) {
      size_t e = inside[i];
      if (e < 1 || ml_size_class(e) == e) continue;
      ml_fake_reset();
      ml_fake.extra = e;
      if (ml_size_classes_match()) fail_msg("a class added at %zu was not seen", e);
      tried++;
    }
    ml_fake_reset();
    ml_fake.missing = c;
    if (ml_size_classes_match()) fail_msg("the class %zu removed was not seen", c);
    tried++;
  }
  assert_true(tried > 300);
}

/* good_size: the computation once the check passed, jemalloc's answer
 * when it failed. */
static void test_good_size_follows_the_check(void **state) {
  (void)state;
  ml_size_classes_known = 0;
  assert_int_equal(ml_backend.good_size(1000), 1024);
  assert_int_equal(ml_size_classes_known, 1);
  ml_fake.quantum = 8;
  ml_size_classes_known = 0;
  assert_int_equal(ml_backend.good_size(20), 24);
  assert_int_equal(ml_size_classes_known, -1);
  ml_fake.calls = 0;
  assert_int_equal(ml_backend.good_size(20), 24);
  assert_int_equal(ml_fake.calls, 1);
  ml_size_classes_known = 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_classes_match_in_few_questions, ml_setup),
      cmocka_unit_test_setup(test_other_quantum_seen, ml_setup),
      cmocka_unit_test_setup(test_other_classes_per_doubling_seen, ml_setup),
      cmocka_unit_test_setup(test_other_tiny_class_seen, ml_setup),
      cmocka_unit_test_setup(test_one_boundary_seen_anywhere, ml_setup),
      cmocka_unit_test_setup(test_good_size_follows_the_check, ml_setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

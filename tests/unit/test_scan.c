/* SPDX-License-Identifier: MIT */
/*
 * test_scan.c - unit tests for scan.c, the leak scan, with roots given
 * exactly (ml_scan_extra_roots_only: none of the process's own memory is
 * scanned): a pointer to a block's start makes it reachable, one into its
 * interior possibly lost, and what only possibly reachable blocks point to
 * is possibly lost too; a start pointer from a reachable block upgrades a
 * possibly lost one; a chain hanging from a lost block is indirectly lost;
 * a lost cycle has one definitely lost block; a 0-byte block covers one
 * byte; a pointer one past a block's end is no pointer to it; the records
 * regroup by (stack, kind); an ignored block is reachable with what it
 * holds (not a block allocated later at its address); a root region is
 * scanned whatever it holds; pages never written (or discarded) are not
 * read, in roots and in blocks, and a pointer on a written page past them
 * is still found; a page that cannot be read ends its range (counted as
 * a fault) and the marking goes on.  Blocks are real memory (one
 * mapping).  Every test runs twice: marking in the helper child the scan
 * forks (a dump while other threads run), and in this process, reading by
 * copies (a dump of a process with one thread: the exit dump of most
 * programs).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "core.h"
#include "options.h"
#include "scan.h"
#include "young.h"

/* The fake backend (no jemalloc: ctl NULL, sizes as requested). */
static size_t ml_test_usable_size(void *p) {
  (void)p;
  return 0;
}
static size_t ml_test_good_size(size_t n) { return n; }
const ml_backend_t ml_backend = {ml_test_usable_size, ml_test_good_size, NULL};

extern bool ml_scan_extra_roots_only;

#define ML_NBLK 8
#define ML_BLK 4096
static char *ml_mem;                 // ML_NBLK blocks of ML_BLK bytes
static uintptr_t ml_roots[4];        // the only root memory
static ml_scan_t ml_s;
static ml_scan_where_t ml_where; /* the group's marking place */

static uintptr_t blk(int i) { return (uintptr_t)(ml_mem + (size_t)i * ML_BLK); }
/* Word w of block i points at p. */
static void link_word(int i, int w, uintptr_t p) { ((uintptr_t *)blk(i))[w] = p; }

static void track(int i, size_t size) {
  ml_rec_t r = ml_rec_make(blk(i), size, 1, (uint64_t)i + 1, (uint32_t)i + 1);
  assert_true(ml_tables_insert(&ml_core.tables, &r));
}

static unsigned kind_of(uintptr_t p) {
  for (size_t i = 0; i < ml_s.n; i++)
    if (ml_s.recs[i].ptr == p) return ml_s.kind[i];
  fail_msg("no record for %#lx", (unsigned long)p);
  return 0;
}

static void classify(void) {
  assert_int_equal(ml_scan_collect(&ml_s, false), 0);
  uintptr_t regs[ML_SCAN_NREGS];
  ml_scan_classify(&ml_s, (uintptr_t)regs, ml_where);
  assert_true(ml_s.classified);
  assert_int_equal(ml_s.where, ml_where);
}

static int ml_test_group_setup(void **state) {
  (void)state;
  ml_options_reset();
  if (ml_options_load() < 0) return -1;
  ml_scan_extra_roots_only = true;
  ml_scan_add_root(ml_roots, sizeof ml_roots);
  ml_mem = mmap(NULL, ML_NBLK * ML_BLK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                -1, 0);
  return ml_mem == MAP_FAILED ? -1 : 0;
}

static int ml_test_setup(void **state) {
  (void)state;
  memset(ml_mem, 0, ML_NBLK * ML_BLK);
  memset(ml_roots, 0, sizeof ml_roots);
  return ml_tables_init(&ml_core.tables, 4, 1 << 16);
}

static int ml_test_teardown(void **state) {
  (void)state;
  ml_scan_release(&ml_s);
  ml_tables_destroy(&ml_core.tables);
  ml_young_clear();
  return 0;
}

/* ---- the kinds -------------------------------------------------------------- */

static void test_scan_start_pointer_reachable_none_definite(void **state) {
  (void)state;
  track(0, 1000);
  track(1, 1000);
  ml_roots[0] = blk(0);
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_DEFINITE);
}

static void test_scan_interior_pointer_possible_and_passed_on(void **state) {
  (void)state;
  track(0, 1000);
  track(1, 1000);
  ml_roots[0] = blk(0) + 100; /* interior */
  link_word(0, 3, blk(1));    /* start pointer, from a possibly lost block */
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_POSSIBLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_POSSIBLE);
}

static void test_scan_start_pointer_from_reachable_upgrades_possible(void **state) {
  (void)state;
  track(0, 1000);
  track(1, 1000);
  track(2, 1000);
  ml_roots[0] = blk(0) + 8;   /* 0: possible first */
  ml_roots[1] = blk(1);       /* 1: reachable, and points at 0's start */
  link_word(1, 0, blk(0));
  link_word(0, 1, blk(2));    /* so 2 is reachable too, once 0 is */
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(2)), ML_KIND_REACHABLE);
}

static void test_scan_chain_from_lost_block_is_indirect(void **state) {
  (void)state;
  /* 3 -> 1 -> 2 (a lost list whose head is not the lowest address) */
  track(1, 1000);
  track(2, 1000);
  track(3, 1000);
  link_word(3, 0, blk(1));
  link_word(1, 0, blk(2) + 16); /* interior: still indirect, as memcheck */
  classify();
  assert_int_equal(kind_of(blk(3)), ML_KIND_DEFINITE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_INDIRECT);
  assert_int_equal(kind_of(blk(2)), ML_KIND_INDIRECT);
}

static void test_scan_lost_cycle_has_one_definite(void **state) {
  (void)state;
  track(4, 2000);
  track(5, 2000);
  track(6, 2000);
  link_word(4, 0, blk(5));
  link_word(5, 0, blk(6));
  link_word(6, 0, blk(4));
  classify();
  int definite = 0, indirect = 0;
  for (int i = 4; i <= 6; i++) {
    definite += kind_of(blk(i)) == ML_KIND_DEFINITE;
    indirect += kind_of(blk(i)) == ML_KIND_INDIRECT;
  }
  assert_int_equal(definite, 1);
  assert_int_equal(indirect, 2);
}

static void test_scan_zero_size_block_and_one_past_the_end(void **state) {
  (void)state;
  track(0, 0);    /* covers one byte */
  track(1, 1000);
  ml_roots[0] = blk(0);
  ml_roots[1] = blk(1) + 1000; /* one past the end: no pointer to 1 */
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_DEFINITE);
}

static void test_scan_leak_scan_off_classifies_nothing(void **state) {
  (void)state;
  track(0, 1000);
  assert_int_equal(ml_option_set_text(ML_OPT_LEAK_SCAN, "0"), 0);
  assert_int_equal(ml_scan_collect(&ml_s, false), 0);
  ml_scan_classify(&ml_s, 0, ml_where);
  assert_false(ml_s.classified);
  assert_non_null(strstr(ml_s.why, "MEMLEDGER_LEAK_SCAN=0"));
  assert_int_equal(ml_option_set_text(ML_OPT_LEAK_SCAN, "1"), 0);
}

/* ---- grouping ------------------------------------------------------------------ */

static void test_scan_groups_by_stack_then_kind(void **state) {
  (void)state;
  track(0, 1000); /* stack 1 */
  track(1, 1000); /* stack 2 */
  ml_roots[0] = blk(1);
  classify();
  ml_scan_sort_by_stack_kind(&ml_s, 1); /* stack 2 is beyond: becomes 0 */
  assert_int_equal(ml_s.n, 2);
  assert_int_equal(ml_s.recs[0].ptr, (0u << 3) | ML_KIND_REACHABLE);
  assert_int_equal(ml_s.recs[1].ptr, (1u << 3) | ML_KIND_DEFINITE);
}

/* ---- what the program registers (memledger.h) ------------------------------------ */

/* Ignored blocks stay registered for the process: these tests give their
 * records sequence numbers no other test uses, so that no entry matches
 * a later test's blocks. */
static void track_seq(int i, size_t size, uint64_t seq) {
  ml_rec_t r = ml_rec_make(blk(i), size, 1, seq, (uint32_t)i + 1);
  assert_true(ml_tables_insert(&ml_core.tables, &r));
}

static void test_scan_ignored_block_reachable_with_what_it_holds(void **state) {
  (void)state;
  track_seq(0, 1000, 1001);
  track_seq(1, 1000, 1002);
  track_seq(2, 1000, 1003);
  link_word(0, 5, blk(1));
  assert_int_equal(ml_scan_ignore((void *)blk(0)), 0);
  assert_int_equal(ml_scan_ignore((void *)blk(0)), 0);         /* twice: one entry */
  assert_int_equal(ml_scan_ignore((void *)(blk(2) + 8)), 1);   /* not a block start */
  assert_int_equal(ml_scan_ignore((void *)blk(5)), 1);         /* not tracked */
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(2)), ML_KIND_DEFINITE);
}

static void test_scan_ignored_address_allocated_again_is_not_ignored(void **state) {
  (void)state;
  track_seq(3, 1000, 1004);
  assert_int_equal(ml_scan_ignore((void *)blk(3)), 0);
  assert_true(ml_tables_remove(&ml_core.tables, blk(3), NULL)); /* freed */
  track_seq(3, 1000, 1005);                                      /* handed out again */
  classify();
  assert_int_equal(kind_of(blk(3)), ML_KIND_DEFINITE);
}

static void test_scan_root_region_scanned_whatever_it_holds(void **state) {
  (void)state;
  static uintptr_t region[4];
  track(0, 1000);
  track(1, 1000);
  track(2, 1000);
  region[2] = blk(0);
  link_word(1, 0, blk(2)); /* 1 is lost, but its memory is registered */
  assert_true(ml_scan_add_root(region, sizeof region));
  assert_true(ml_scan_add_root((void *)blk(1), 1000));
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_DEFINITE); /* nothing points to it */
  assert_int_equal(kind_of(blk(2)), ML_KIND_REACHABLE);
  ml_scan_release(&ml_s);
  assert_true(ml_scan_remove_root(region, sizeof region));
  assert_true(ml_scan_remove_root((void *)blk(1), 1000));
  assert_false(ml_scan_remove_root(region, sizeof region)); /* not any more */
  assert_false(ml_scan_add_root(NULL, 8));
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_DEFINITE);
  assert_int_equal(kind_of(blk(2)), ML_KIND_INDIRECT);
}

/* 64 MiB of root memory and a 64 MiB tracked block, each written on one
 * page far from its start (and one page written, then discarded): the scan
 * reads those pages, not the 128 MiB (which is what made an exit dump of a
 * program with many dead threads' stacks take 0.7 s). */
static void test_scan_skips_pages_never_written(void **state) {
  (void)state;
  const size_t big = (size_t)64 << 20;
  char *region = mmap(NULL, big, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *huge = mmap(NULL, big, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  assert_true(region != MAP_FAILED && huge != MAP_FAILED);
  track(0, 1000);
  track(1, 1000);
  track(2, 1000); /* pointed at by nothing: the scan reads everything */
  ml_rec_t r = ml_rec_make((uintptr_t)huge, big, 1, 99, 99);
  assert_true(ml_tables_insert(&ml_core.tables, &r));
  /* The root region: a pointer to blk(0) on a page 40 MiB in, and one to
   * the huge block on a page written then discarded (it reads as 0). */
  ((uintptr_t *)(region + ((size_t)40 << 20)))[3] = blk(0);
  ((uintptr_t *)(region + ((size_t)8 << 20)))[0] = (uintptr_t)huge;
  assert_int_equal(madvise(region + ((size_t)8 << 20), 4096, MADV_DONTNEED), 0);
  ml_roots[0] = (uintptr_t)huge; /* the huge block is reachable ... */
  /* ... and holds the only pointer to blk(1), on its last page. */
  ((uintptr_t *)(huge + big - 4096))[5] = blk(1);
  assert_true(ml_scan_add_root(region, big));
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of((uintptr_t)huge), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(2)), ML_KIND_DEFINITE);
  /* Read: ml_roots and the region's written page; blk(0) and blk(1), the
   * huge block's last page.  Not read: the rest of both. */
  assert_true(ml_s.root_bytes <= 64 * 1024);
  assert_true(ml_s.block_bytes <= 64 * 1024);
  assert_true(ml_s.absent_bytes >= 2 * big - 4 * 4096);
  assert_true(ml_scan_remove_root(region, big));
  munmap(region, big);
  munmap(huge, big);
}

/* The marking stops once every block is reachable (no word can change a
 * state then): a block pointed at from the first root region is found
 * without reading the 64 MiB region after it; a block pointed at from
 * that region's last word, or by nothing at all, makes it read whole. */
static void test_scan_stops_when_every_block_is_reachable(void **state) {
  (void)state;
  const size_t big = (size_t)64 << 20;
  uintptr_t *region = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(region != MAP_FAILED);
  memset(region, 0x11, big); /* every page present, no pointer */
  assert_true(ml_scan_add_root(region, big));
  track(0, 1000);
  ml_roots[0] = blk(0);
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_true(ml_s.root_bytes <= sizeof ml_roots);
  ml_scan_release(&ml_s);
  track(1, 1000); /* pointed at from the region's last word */
  region[big / 8 - 1] = blk(1);
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_REACHABLE);
  assert_true(ml_s.root_bytes >= big);
  ml_scan_release(&ml_s);
  region[big / 8 - 1] = 0; /* now by nothing */
  classify();
  assert_int_equal(kind_of(blk(1)), ML_KIND_DEFINITE);
  assert_true(ml_s.root_bytes >= big);
  assert_true(ml_scan_remove_root(region, big));
  munmap(region, big);
}

/* A root region whose middle page cannot be read: the words before it
 * are scanned, the rest of the region is skipped (memcheck skips what it
 * cannot read too), one fault is counted, and the marking goes on to the
 * other roots. */
static void test_scan_unreadable_page_ends_its_range(void **state) {
  (void)state;
  const size_t pg = 4096;
  char *region = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(region != MAP_FAILED);
  ((uintptr_t *)region)[pg / 8 - 1] = blk(0);   /* the last word before the hole */
  ((uintptr_t *)(region + 2 * pg))[0] = blk(1); /* past it: not read */
  assert_int_equal(mprotect(region + pg, pg, PROT_NONE), 0);
  assert_true(ml_scan_add_root(region, 3 * pg));
  track(0, 1000);
  track(1, 1000);
  track(2, 1000);
  ml_roots[0] = blk(2); /* another root, read after the region */
  classify();
  assert_int_equal(kind_of(blk(0)), ML_KIND_REACHABLE);
  assert_int_equal(kind_of(blk(1)), ML_KIND_DEFINITE);
  assert_int_equal(kind_of(blk(2)), ML_KIND_REACHABLE);
  assert_int_equal(ml_s.faults, 1);
  assert_true(ml_scan_remove_root(region, 3 * pg));
  munmap(region, 3 * pg);
}

static int ml_test_setup_helper(void **state) {
  ml_where = ML_SCAN_HELPER;
  return ml_test_setup(state);
}

static int ml_test_setup_self(void **state) {
  ml_where = ML_SCAN_SELF;
  return ml_test_setup(state);
}

/* Each test twice: marking in a helper child, and in this process. */
#define ML_TEST(f) \
  {#f " (helper)", f, ml_test_setup_helper, ml_test_teardown, NULL}, \
  {#f " (self)", f, ml_test_setup_self, ml_test_teardown, NULL}

int main(void) {
  const struct CMUnitTest tests[] = {
      ML_TEST(test_scan_start_pointer_reachable_none_definite),
      ML_TEST(test_scan_interior_pointer_possible_and_passed_on),
      ML_TEST(test_scan_start_pointer_from_reachable_upgrades_possible),
      ML_TEST(test_scan_chain_from_lost_block_is_indirect),
      ML_TEST(test_scan_lost_cycle_has_one_definite),
      ML_TEST(test_scan_zero_size_block_and_one_past_the_end),
      ML_TEST(test_scan_leak_scan_off_classifies_nothing),
      ML_TEST(test_scan_groups_by_stack_then_kind),
      ML_TEST(test_scan_ignored_block_reachable_with_what_it_holds),
      ML_TEST(test_scan_ignored_address_allocated_again_is_not_ignored),
      ML_TEST(test_scan_root_region_scanned_whatever_it_holds),
      ML_TEST(test_scan_skips_pages_never_written),
      ML_TEST(test_scan_stops_when_every_block_is_reachable),
      ML_TEST(test_scan_unreadable_page_ends_its_range),
  };
  return cmocka_run_group_tests_name("scan", tests, ml_test_group_setup, NULL);
}

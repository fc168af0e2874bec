/* SPDX-License-Identifier: MIT */
/*
 * test_track.c - unit tests for track.c (and the lazy initialisation in
 * init.c it relies on): the core is initialised from the environment by
 * ml_init_maybe, as the first allocation would, with a fake backend (fake
 * block addresses, usable sizes from a small table, good_size rounding up
 * to 16, no mallctl).  Covered: the gate computed at init; the first call
 * initialising and applying the threshold (in a forked child, whose core is
 * reset to UNINIT); ml_track_alloc recording a block, its page bit, its
 * stack and its sequence number; ml_track_free and ml_track_take/put_back
 * and their counters; the recursion guard; sequence numbers and thread
 * serials; unwind=none; a full table; errno across every entry point, also
 * when every mmap fails; and 4 threads freeing each other's blocks.
 * Every test starts with fresh tables (4 arenas).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ml_test.h"

#include "capture.h"
#include "ehframe.h"
#include "options.h"
#include "pagemap.h"
#include "track_alloc.h"
#include "young.h"

extern char **environ;

/* ---- the fake backend ----------------------------------------------------- */

/* Fake blocks the test gives a usable size; any other address has 0. */
static struct {
  uintptr_t ptr;
  size_t usable;
} ml_test_blocks[8];

static size_t ml_test_usable_size(void *p) {
  for (size_t i = 0; i < ML_ARRAY_SIZE(ml_test_blocks); i++)
    if (ml_test_blocks[i].ptr == (uintptr_t)p) return ml_test_blocks[i].usable;
  return 0;
}

static size_t ml_test_good_size(size_t n) { return (n + 15) & ~(size_t)15; }

const ml_backend_t ml_backend = {ml_test_usable_size, ml_test_good_size, NULL};

/* ---- helpers -------------------------------------------------------------- */

#define ML_TEST_MIN_SIZE 1000 /* MEMLEDGER_MIN_SIZE for the whole binary */
#define ML_TEST_BASE     ((uintptr_t)0x600000000000)

/* Fake block i of region r (each region is its own page-map leaf). */
static void *ml_test_block(size_t r, size_t i) {
  return (void *)(ML_TEST_BASE + r * ((uintptr_t)1 << ML_PM_ROOT_SHIFT) + i * 4096);
}

static ml_counts_t ml_test_counts(void) {
  ml_counts_t c;
  ml_track_counts(&c);
  return c;
}

/* This thread records in the shared tables only (no cache, young.h):
 * for the tests of the tables' own limits.  Undone by ml_test_young_on. */
static void ml_test_young_off(void) {
  ml_young_mine = NULL;
  ml_young_none = true;
}

static void ml_test_young_on(void) { ml_young_none = false; }

static ml_rec_t ml_test_find(void *p) {
  ml_rec_t r;
  memset(&r, 0, sizeof r);
  assert_true(ml_track_find((uintptr_t)p, &r));
  return r;
}

static bool ml_test_has(void *p) {
  return ml_track_find((uintptr_t)p, NULL);
}

static int ml_test_group_setup(void **state) {
  (void)state;
  ml_test_clear_env();
  setenv("MEMLEDGER_MIN_SIZE", "1000", 1);
  setenv("MEMLEDGER_ARENAS", "8", 1);
  setenv("MEMLEDGER_UNWIND", "fp", 1);
  setenv("MEMLEDGER_MAX_FRAMES", "16", 1);
  ml_options_reset();
  return ml_init_maybe() ? 0 : -1;
}

static int ml_test_group_teardown(void **state) {
  (void)state;
  ml_test_clear_env();
  return 0;
}

/* Fresh tables for every test; the stack table, sequence numbers and
 * serials go on. */
static int ml_test_setup(void **state) {
  (void)state;
  ml_tables_destroy(&ml_core.tables);
  ml_young_clear();
  memset(ml_test_blocks, 0, sizeof ml_test_blocks);
  ml_core.unwind = ML_UNWIND_FP;
  return ml_tables_init(&ml_core.tables, 4, 1 << 20);
}

static int ml_test_teardown(void **state) {
  (void)state;
  assert_int_equal(ml_tls.guard, 0); /* every entry point left it as found */
  return 0;
}

/* ---- initialisation --------------------------------------------------------- */

static void test_track_init_sets_gate_and_options(void **state) {
  (void)state;
  assert_int_equal(atomic_load(&ml_core.state), ML_STATE_READY);
  assert_true(ml_init_maybe()); /* again: nothing to do */
  assert_int_equal(ml_gate.threshold, ML_TEST_MIN_SIZE);
  /* the smallest request whose good size (16-rounded) reaches 1000 */
  assert_int_equal(ml_gate.cutoff, 993);
  assert_int_equal(ml_core.max_frames, 16);
  assert_int_equal(ml_core.skip_frames, 0);
  assert_true(ml_core.options_loaded);
  assert_int_equal(ml_option_get(ML_OPT_ARENAS), 8);
}

/* In a forked child: forget the initialisation, so that the next tracked
 * call initialises again. */
static void ml_test_child_uninit(void) {
  atomic_store(&ml_core.state, ML_STATE_UNINIT);
  ml_gate.cutoff = ml_gate.threshold = 0;
  ml_options_reset();
}

/* Run body in a forked child (CMocka does not fork): it returns 0, or the
 * number of the first check that failed, which comes back through a pipe
 * (not the exit status, which valgrind's --error-exitcode may replace). */
static void ml_test_in_child(int (*body)(void)) {
  int p[2], code = -1, status;
  pid_t pid;

  assert_int_equal(pipe(p), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    code = body();
    if (write(p[1], &code, sizeof code) != sizeof code) _exit(1);
    _exit(0);
  }
  close(p[1]);
  if (read(p[0], &code, sizeof code) != sizeof code) code = -1; /* it died */
  close(p[0]);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(code, 0);
}

static int ml_test_first_call_child(void) {
  void *small = ml_test_block(0, 1), *big = ml_test_block(0, 2);
  ml_test_child_uninit();
  ml_test_blocks[0].ptr = (uintptr_t)small;
  ml_test_blocks[0].usable = 512; /* below MEMLEDGER_MIN_SIZE */
  ml_test_blocks[1].ptr = (uintptr_t)big;
  ml_test_blocks[1].usable = 1024;
  errno = 4242;
  ml_track_alloc(small, 500);
  if (errno != 4242) return 10;
  if (atomic_load(&ml_core.state) != ML_STATE_READY) return 11;
  if (ml_gate.threshold != ML_TEST_MIN_SIZE || ml_gate.cutoff != 993) return 12;
  if (ml_core.tables.narenas != 8) return 13; /* fresh tables, from the env */
  if (ml_test_has(small)) return 14;
  ml_track_alloc(big, 1010);
  if (!ml_test_has(big)) return 15;
  if (errno != 4242) return 16;
  return 0;
}

static void test_track_first_call_initialises_and_applies_threshold(void **state) {
  (void)state;
  ml_test_in_child(ml_test_first_call_child);
}

static int ml_test_disabled_child(void) {
  void *p = ml_test_block(0, 3);
  ml_test_child_uninit();
  setenv("MEMLEDGER_ENABLED", "0", 1);
  ml_test_blocks[0].ptr = (uintptr_t)p;
  ml_test_blocks[0].usable = 1 << 20;
  ml_track_alloc(p, 1 << 20);
  if (atomic_load(&ml_core.state) != ML_STATE_DISABLED) return 10;
  if (ml_gate.cutoff != SIZE_MAX || ml_gate.threshold != SIZE_MAX) return 11;
  if (ml_init_maybe()) return 12;
  if (ml_test_counts().allocs != 0) return 13; /* the parent's fresh tables */
  if (ml_track_free(p)) return 14;
  return 0;
}

static void test_track_disabled_records_nothing(void **state) {
  (void)state;
  ml_test_in_child(ml_test_disabled_child);
}

/* ---- recording ---------------------------------------------------------------- */

static void test_track_alloc_records_block(void **state) {
  void *p = ml_test_block(1, 1);
  ml_counts_t c;
  ml_rec_t r;
  const ml_stack_t *st;

  (void)state;
  ml_track_alloc(p, 3000);
  c = ml_test_counts();
  assert_int_equal(c.live, 1);
  assert_int_equal(c.live_bytes, 3000);
  assert_int_equal(c.allocs, 1);
  assert_int_equal(c.bytes_alloc, 3000);
  r = ml_test_find(p);
  assert_int_equal(ml_rec_size(&r), 3000);
  assert_int_not_equal(ml_tls.serial, 0);
  assert_int_equal(ml_rec_tid(&r), ml_tls.serial);
  assert_true(ml_rec_seq(&r) >= 1);
  /* its stack was captured and interned */
  assert_int_not_equal(ml_rec_stack(&r), 0);
  st = ml_stacks_get(&ml_core.stacks, ml_rec_stack(&r));
  assert_non_null(st);
  assert_true(st->nframes >= 1 && st->nframes <= 16);
  /* and its page marked, so that free looks it up */
  assert_true(ml_pagemap_test(p));
}

/* Two call sites give two stacks; the same call site gives the same one.
 * (noipa: not inlined, cloned or merged with each other; the volatile
 * stores keep the calls from being tail calls.) */
static volatile size_t ml_test_sink, ml_test_two = 2;

static __attribute__((noipa)) void ml_test_alloc_here(void *p) {
  ml_track_alloc(p, 2000);
  ml_test_sink = 1;
}

static __attribute__((noipa)) void ml_test_alloc_there(void *p) {
  ml_track_alloc(p, 2000);
  ml_test_sink = 2;
}

static void test_track_alloc_stack_ids_follow_call_sites(void **state) {
  void *p[3] = {ml_test_block(1, 1), ml_test_block(1, 2), ml_test_block(1, 3)};
  uint32_t s0, s1, s2;

  (void)state;
  /* keep the test's own frames (init set the own range to this binary) */
  ml_unwind_set_own_range(0, 0);
  /* a loop the compiler cannot unroll: one call site */
  for (size_t k = 0; k < ml_test_two; k++)
    ml_test_alloc_here(p[k]);
  ml_test_alloc_there(p[2]);
  {
    ml_rec_t r0 = ml_test_find(p[0]), r1 = ml_test_find(p[1]), r2 = ml_test_find(p[2]);
    s0 = ml_rec_stack(&r0);
    s1 = ml_rec_stack(&r1);
    s2 = ml_rec_stack(&r2);
  }
  assert_int_not_equal(s0, 0);
  assert_int_equal(s0, s1);
  assert_int_not_equal(s0, s2);
}

static void test_track_free_removes_block(void **state) {
  void *p = ml_test_block(1, 1), *q = ml_test_block(1, 2);
  ml_counts_t c;

  (void)state;
  ml_track_alloc(p, 3000);
  ml_track_alloc(q, 5000);
  assert_true(ml_track_free(p));
  assert_false(ml_test_has(p));
  assert_true(ml_test_has(q));
  c = ml_test_counts();
  assert_int_equal(c.live, 1);
  assert_int_equal(c.live_bytes, 5000);
  assert_int_equal(c.frees, 1);
  assert_int_equal(c.bytes_freed, 3000);
  /* a second free, or a free of an unknown block, finds nothing */
  assert_false(ml_track_free(p));
  assert_false(ml_track_free(ml_test_block(1, 9)));
  c = ml_test_counts();
  assert_int_equal(c.frees, 1);
  assert_int_equal(c.live, 1);
}

/* An in-place resize (xallocx): taken at 3000 bytes, put back at 5000.  The
 * growth counts as allocated bytes; the freed bytes do not move (they used
 * to go down by the growth, and wrap around when smaller than it). */
static void test_track_put_back_resized_counts_growth_as_allocated(void **state) {
  void *p = ml_test_block(1, 3);
  ml_counts_t before, after;
  ml_rec_t r, back;

  (void)state;
  ml_track_alloc(p, 3000);
  before = ml_test_counts();
  assert_true(ml_track_take(p, &r));
  r.size_tid = (r.size_tid & ~ML_REC_SIZE_MAX) | 5000;
  ml_track_put_back(&r, 3000);
  after = ml_test_counts();
  assert_int_equal(after.allocs, before.allocs);
  assert_int_equal(after.frees, before.frees);
  assert_int_equal(after.live, before.live);
  assert_int_equal(after.live_bytes, before.live_bytes + 2000);
  assert_int_equal(after.bytes_alloc, before.bytes_alloc + 2000);
  assert_int_equal(after.bytes_freed, before.bytes_freed);
  back = ml_test_find(p);
  assert_int_equal(ml_rec_size(&back), 5000);
  assert_true(ml_track_free(p));
}

static void test_track_take_put_back_leaves_counters_unchanged(void **state) {
  void *p = ml_test_block(1, 1);
  ml_counts_t before, after;
  ml_rec_t r0, taken;

  (void)state;
  ml_track_alloc(ml_test_block(1, 2), 1500);
  ml_track_alloc(p, 3000);
  assert_true(ml_track_free(ml_test_block(1, 2)));
  before = ml_test_counts();
  r0 = ml_test_find(p);

  memset(&taken, 0, sizeof taken);
  assert_true(ml_track_take(p, &taken));
  assert_memory_equal(&taken, &r0, sizeof r0);
  assert_false(ml_test_has(p));
  assert_int_equal(ml_test_counts().live, 0);

  ml_track_put_back(&taken, ml_rec_size(&taken));
  after = ml_test_counts();
  assert_memory_equal(&after, &before, sizeof before);
  {
    ml_rec_t back = ml_test_find(p); /* the same record: seq, stack, tid */
    assert_memory_equal(&back, &r0, sizeof r0);
  }

  /* taking an unknown block gives nothing and leaves out alone */
  memset(&taken, 0xa5, sizeof taken);
  assert_false(ml_track_take(ml_test_block(1, 7), &taken));
  assert_int_equal(((unsigned char *)&taken)[0], 0xa5);
  assert_true(ml_track_take(p, NULL));
  assert_int_equal(ml_test_counts().live, 0);
}

static void test_track_guard_set_records_nothing(void **state) {
  void *p = ml_test_block(1, 1), *q = ml_test_block(1, 2);
  ml_counts_t before;

  (void)state;
  ml_track_alloc(q, 4000);
  before = ml_test_counts();
  ml_guard_enter();
  ml_track_alloc(p, 3000);
  /* neither a free nor a take touch the table under the guard */
  assert_false(ml_track_free(q));
  assert_false(ml_track_take(q, NULL));
  ml_guard_leave();
  assert_false(ml_test_has(p));
  assert_true(ml_test_has(q));
  {
    ml_counts_t after = ml_test_counts();
    assert_memory_equal(&after, &before, sizeof before);
  }
  /* nested guards: still nothing until the outermost leave */
  ml_guard_enter();
  ml_guard_enter();
  ml_guard_leave();
  ml_track_alloc(p, 3000);
  ml_guard_leave();
  assert_false(ml_test_has(p));
  ml_track_alloc(p, 3000);
  assert_true(ml_test_has(p));
}

static void test_track_seq_increases_within_thread(void **state) {
  uint64_t prev = 0;

  (void)state;
  /* 300 allocations cross several 64-number batches */
  for (size_t i = 0; i < 300; i++) {
    void *p = ml_test_block(2, i);
    ml_rec_t r;
    ml_track_alloc(p, 1000);
    r = ml_test_find(p);
    assert_true(ml_rec_seq(&r) > prev);
    prev = ml_rec_seq(&r);
  }
  assert_int_equal(ml_test_counts().live, 300);
}

static void test_track_unwind_none_shares_empty_stack(void **state) {
  uint64_t failures = atomic_load(&ml_core.unwind_failures);
  ml_rec_t r1, r2;
  const ml_stack_t *st;

  (void)state;
  ml_core.unwind = ML_UNWIND_NONE;
  ml_track_alloc(ml_test_block(1, 1), 2000);
  ml_track_alloc(ml_test_block(1, 2), 2000);
  r1 = ml_test_find(ml_test_block(1, 1));
  r2 = ml_test_find(ml_test_block(1, 2));
  assert_int_not_equal(ml_rec_stack(&r1), 0);
  assert_int_equal(ml_rec_stack(&r1), ml_rec_stack(&r2));
  assert_int_equal(ml_rec_stack(&r1), ml_core.empty_stack);
  st = ml_stacks_get(&ml_core.stacks, ml_rec_stack(&r1));
  assert_non_null(st);
  assert_int_equal(st->nframes, 0);
  /* no stack is not a failed stack */
  assert_int_equal(atomic_load(&ml_core.unwind_failures), failures);
}

static void test_track_full_table_drops_and_counts(void **state) {
  ml_counts_t c;

  (void)state;
  ml_tables_destroy(&ml_core.tables);
  ml_young_clear();
  ml_test_young_off();
  assert_int_equal(ml_tables_init(&ml_core.tables, 1, 64), 0);
  for (size_t i = 0; i < 100; i++)
    ml_track_alloc(ml_test_block(3, i), 1000 + i);
  c = ml_test_counts();
  assert_int_equal(c.live, 64);
  assert_int_equal(c.dropped, 36);
  assert_int_equal(c.allocs, 64);
  /* the stored ones are the first 64; freeing one makes room for one */
  assert_true(ml_test_has(ml_test_block(3, 63)));
  assert_false(ml_test_has(ml_test_block(3, 64)));
  assert_true(ml_track_free(ml_test_block(3, 0)));
  assert_false(ml_track_free(ml_test_block(3, 64)));
  ml_track_alloc(ml_test_block(3, 64), 1000);
  assert_true(ml_test_has(ml_test_block(3, 64)));
  ml_test_young_on();
}

/* ---- errno -------------------------------------------------------------------- */

static void ml_test_errno_round(ml_unwind_mode_t mode) {
  void *p = ml_test_block(4, 1);
  ml_rec_t r;

  ml_core.unwind = mode;
  errno = 4242;
  ml_track_alloc(p, 2000);
  assert_int_equal(errno, 4242);
  errno = 4243;
  assert_true(ml_track_take(p, &r));
  assert_int_equal(errno, 4243);
  errno = 4244;
  ml_track_put_back(&r, ml_rec_size(&r));
  assert_int_equal(errno, 4244);
  errno = 4245;
  assert_true(ml_track_free(p));
  assert_int_equal(errno, 4245);
  errno = 0;
  assert_false(ml_track_free(p));
  assert_int_equal(errno, 0);
}

static void test_track_preserves_errno(void **state) {
  (void)state;
  ml_test_errno_round(ML_UNWIND_FP);
  ml_test_errno_round(ML_UNWIND_LIBUNWIND);
  ml_test_errno_round(ML_UNWIND_NONE);
  ml_test_errno_round(ML_UNWIND_EH);
}

/* Every mmap fails (address-space limit at the current size): the page-map
 * leaf, the table and the stack node cannot be mapped; the records are
 * dropped and counted, and errno is still the program's. */
static int ml_test_no_mmap_child(void) {
  struct rlimit rl;
  long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%ld", &pages) != 1) return 9;
  fclose(f);
  rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
  if (setrlimit(RLIMIT_AS, &rl) != 0) return 8;
  /* new leaf: cannot be mapped, dropped before the table */
  errno = 4242;
  ml_track_alloc(ml_test_block(6, 0), 2000);
  if (errno != 4242) return 10;
  if (ml_test_counts().dropped != 1) return 11;
  if (ml_pagemap_test(ml_test_block(6, 0))) return 12;
  /* marked leaf, but the first table of the arena cannot be mapped */
  ml_track_alloc(ml_test_block(5, 1), 2000);
  if (errno != 4242) return 13;
  if (ml_test_counts().dropped != 2 || ml_test_counts().live != 0) return 14;
  if (ml_track_free(ml_test_block(5, 1))) return 15;
  if (errno != 4242) return 16;
  return 0;
}

static void test_track_preserves_errno_when_mapping_fails(void **state) {
  (void)state;
  /* a marked leaf in region 5, so that only the table must be mapped */
  ml_track_alloc(ml_test_block(5, 0), 1000);
  ml_tables_destroy(&ml_core.tables);
  ml_young_clear();
  assert_int_equal(ml_tables_init(&ml_core.tables, 1, 1 << 20), 0);
  ml_test_young_off();
  ml_test_in_child(ml_test_no_mmap_child);
  ml_test_young_on();
}

/* ---- threads ---------------------------------------------------------------- */

#define ML_TEST_THREADS    4
#define ML_TEST_PER_THREAD 2000

static pthread_barrier_t ml_test_barrier;

typedef struct ml_test_worker_s {
  size_t t;
  unsigned serial;  // ml_tls.serial after the first allocation
  size_t not_found; // frees that found no record
} ml_test_worker_t;

/* Allocate blocks, wait for everyone, free the next thread's blocks. */
static void *ml_test_worker(void *arg) {
  ml_test_worker_t *w = arg;
  size_t peer = (w->t + 1) % ML_TEST_THREADS;

  for (size_t i = 0; i < ML_TEST_PER_THREAD; i++)
    ml_track_alloc(ml_test_block(8 + w->t, i), 1000 + i);
  w->serial = ml_tls.serial;
  pthread_barrier_wait(&ml_test_barrier);
  for (size_t i = 0; i < ML_TEST_PER_THREAD; i++)
    if (!ml_track_free(ml_test_block(8 + peer, i))) w->not_found++;
  return NULL;
}

static void test_track_threads_free_each_others_blocks(void **state) {
  pthread_t th[ML_TEST_THREADS];
  ml_test_worker_t w[ML_TEST_THREADS];
  uint64_t bytes = 0;
  ml_counts_t c;

  (void)state;
  memset(w, 0, sizeof w);
  pthread_barrier_init(&ml_test_barrier, NULL, ML_TEST_THREADS);
  for (size_t t = 0; t < ML_TEST_THREADS; t++) {
    w[t].t = t;
    assert_int_equal(pthread_create(&th[t], NULL, ml_test_worker, &w[t]), 0);
  }
  for (size_t t = 0; t < ML_TEST_THREADS; t++)
    assert_int_equal(pthread_join(th[t], NULL), 0);
  pthread_barrier_destroy(&ml_test_barrier);

  for (size_t i = 0; i < ML_TEST_PER_THREAD; i++)
    bytes += 1000 + i;
  c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(c.allocs, ML_TEST_THREADS * ML_TEST_PER_THREAD);
  assert_int_equal(c.frees, ML_TEST_THREADS * ML_TEST_PER_THREAD);
  assert_int_equal(c.bytes_alloc, ML_TEST_THREADS * bytes);
  assert_int_equal(c.bytes_freed, ML_TEST_THREADS * bytes);
  assert_int_equal(c.dropped, 0);
  for (size_t t = 0; t < ML_TEST_THREADS; t++) {
    assert_int_equal(w[t].not_found, 0);
    /* thread serials differ, and differ from this thread's */
    assert_int_not_equal(w[t].serial, 0);
    assert_int_not_equal(w[t].serial, ml_tls.serial);
    for (size_t u = 0; u < t; u++)
      assert_int_not_equal(w[t].serial, w[u].serial);
  }
}

/* Every thread's records carry its own serial and distinct sequence numbers. */
static void *ml_test_seq_worker(void *arg) {
  uint64_t *seqs = arg;
  for (size_t i = 0; i < 200; i++) {
    void *p = (char *)ml_test_block(12, 0) + ((uintptr_t)seqs[0] * 200 + i) * 4096;
    ml_rec_t r;
    ml_track_alloc(p, 1000);
    if (!ml_track_find((uintptr_t)p, &r)) return (void *)1;
    if (ml_rec_tid(&r) != ml_tls.serial) return (void *)2;
    seqs[1 + i] = ml_rec_seq(&r);
  }
  return NULL;
}

static int ml_test_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void test_track_seq_unique_across_threads(void **state) {
  static uint64_t seqs[ML_TEST_THREADS][201], all[ML_TEST_THREADS * 200];
  pthread_t th[ML_TEST_THREADS];

  (void)state;
  for (size_t t = 0; t < ML_TEST_THREADS; t++) {
    seqs[t][0] = t;
    assert_int_equal(pthread_create(&th[t], NULL, ml_test_seq_worker, seqs[t]), 0);
  }
  for (size_t t = 0; t < ML_TEST_THREADS; t++) {
    void *rc;
    assert_int_equal(pthread_join(th[t], &rc), 0);
    assert_null(rc);
    for (size_t i = 0; i < 200; i++) {
      if (i) assert_true(seqs[t][1 + i] > seqs[t][i]); /* increasing per thread */
      all[t * 200 + i] = seqs[t][1 + i];
    }
  }
  qsort(all, ML_ARRAY_SIZE(all), sizeof all[0], ml_test_cmp_u64);
  for (size_t i = 1; i < ML_ARRAY_SIZE(all); i++)
    assert_true(all[i] != all[i - 1]);
}

/* ---- main --------------------------------------------------------------------- */

/* ---- the threads' caches of young records (young.h) ------------------------ */

static ml_counts_t ml_test_table_counts(void) {
  ml_counts_t c;
  ml_tables_counts(&ml_core.tables, &c);
  return c;
}

/* n fake blocks of region r whose records share one set of a cache. */
static void ml_test_same_set(size_t r, void **out, size_t n) {
  unsigned want = ml_young_set(ml_young_get(), (uintptr_t)ml_test_block(r, 0));
  for (size_t i = 0, k = 0; k < n; i++)
    if (ml_young_set(ml_young_get(), (uintptr_t)ml_test_block(r, i)) == want) out[k++] = ml_test_block(r, i);
}

static void test_young_pair_on_one_thread_stays_in_its_cache(void **state) {
  void *p = ml_test_block(1, 7);
  (void)state;
  ml_track_alloc(p, 3000);
  assert_int_equal(ml_test_counts().live, 1);
  assert_int_equal(ml_test_counts().allocs, 1);
  assert_int_equal(ml_test_table_counts().allocs, 0); /* not in the shared tables */
  assert_int_equal(ml_test_table_counts().live, 0);
  assert_true(ml_track_free(p));
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(c.frees, 1);
  assert_int_equal(c.bytes_freed, 3000);
  assert_int_equal(ml_test_table_counts().frees, 0);
  assert_false(ml_track_free(p));
}

static void test_young_full_set_moves_its_oldest_to_the_shared_tables(void **state) {
  void *p[ML_YOUNG_WAYS + 3];
  (void)state;
  ml_test_same_set(1, p, ML_YOUNG_WAYS + 3);
  for (size_t i = 0; i < ML_YOUNG_WAYS + 3; i++) ml_track_alloc(p[i], 2000 + i);
  /* The first three moved out, in the order they came in. */
  ml_counts_t t = ml_test_table_counts(), c = ml_test_counts();
  assert_int_equal(t.live, 3);
  assert_int_equal(t.allocs, 0); /* moved in, not allocated there */
  for (size_t i = 0; i < 3; i++) assert_true(ml_tables_find(&ml_core.tables, (uintptr_t)p[i], NULL));
  assert_int_equal(c.live, ML_YOUNG_WAYS + 3);
  assert_int_equal(c.allocs, ML_YOUNG_WAYS + 3);
  uint64_t bytes = 0;
  for (size_t i = 0; i < ML_YOUNG_WAYS + 3; i++) {
    ml_rec_t r = ml_test_find(p[i]);
    assert_int_equal(ml_rec_size(&r), 2000 + i);
    bytes += 2000 + i;
  }
  assert_int_equal(c.live_bytes, bytes);
  for (size_t i = 0; i < ML_YOUNG_WAYS + 3; i++) assert_true(ml_track_free(p[i]));
  c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(c.frees, ML_YOUNG_WAYS + 3);
  assert_int_equal(c.bytes_freed, bytes);
  assert_int_equal(ml_test_table_counts().live, 0);
}

/* Two records of one set with the same home way (young.h): the second
 * sits away from home, and is found there.  An address handed out anew
 * without its free seen replaces its record, at home or away from home
 * while the home is taken. */
static void test_young_record_away_from_home(void **state) {
  (void)state;
  const ml_young_t *y = ml_young_get();
  void *a = ml_test_block(1, 0), *b = NULL;
  for (size_t i = 1; i < (size_t)1 << ML_PM_LEAF_BITS && !b; i++) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)ml_test_block(1, i);
    if (ml_young_set(y, pb) == ml_young_set(y, pa) && ml_young_home(pb) == ml_young_home(pa))
      b = (void *)pb;
  }
  assert_non_null(b);
  ml_track_alloc(a, 3000);
  ml_track_alloc(b, 4000); /* away from home */
  assert_int_equal(ml_test_table_counts().live, 0);
  ml_rec_t r = ml_test_find(b);
  assert_int_equal(ml_rec_size(&r), 4000);
  ml_track_alloc(b, 4500); /* replaced away from home */
  ml_track_alloc(a, 3500); /* replaced at home */
  assert_int_equal(ml_test_counts().live, 2);
  r = ml_test_find(b);
  assert_int_equal(ml_rec_size(&r), 4500);
  r = ml_test_find(a);
  assert_int_equal(ml_rec_size(&r), 3500);
  assert_true(ml_track_free(b));
  assert_false(ml_test_has(b));
  assert_true(ml_track_free(a));
  assert_false(ml_track_free(a));
  assert_false(ml_track_free(b));
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
}

static size_t ml_test_visit_n;
static void ml_test_visit_count(const ml_rec_t *r, void *arg) {
  (void)r;
  (void)arg;
  ml_test_visit_n++;
}

/* Every record, frozen: the shared tables' then the caches'. */
static size_t ml_test_visit_all(bool frozen) {
  ml_test_visit_n = 0;
  for (unsigned i = 0; i < ml_core.tables.narenas; i++)
    ml_tables_visit(&ml_core.tables, i, frozen, ml_test_visit_count, NULL, NULL);
  ml_young_visit(frozen, ml_test_visit_count, NULL);
  return ml_test_visit_n;
}

/* A record caught in each step of a move is read once. */
static void test_young_record_caught_moving_is_read_once(void **state) {
  void *p = ml_test_block(1, 3);
  (void)state;
  ml_track_alloc(p, 4000);
  ml_rec_t r = ml_test_find(p);
  ml_young_t *y = ml_young_mine;
  assert_non_null(y);
  _Atomic uintptr_t *k = NULL;
  for (unsigned w = 0; w < ML_YOUNG_WAYS; w++)
    if (atomic_load(&y->set[ml_young_set(y, r.ptr)].key[w]) == r.ptr) k = &y->set[ml_young_set(y, r.ptr)].key[w];
  assert_non_null(k);
  for (int frozen = 0; frozen < 2; frozen++) {
    atomic_store(k, r.ptr | ML_YOUNG_MOVING); /* step 1: marked */
    assert_int_equal(ml_test_visit_all(frozen), 1);
    assert_true(ml_tables_insert_moved(&ml_core.tables, &r)); /* step 2: copied */
    assert_int_equal(ml_test_visit_all(frozen), 1);
    atomic_store(k, r.ptr | ML_YOUNG_MOVING | ML_YOUNG_FREED); /* freed meanwhile */
    assert_int_equal(ml_test_visit_all(frozen), 1); /* the copy, until the owner takes it */
    assert_true(ml_tables_remove_moved(&ml_core.tables, r.ptr, ml_rec_seq(&r)));
    assert_int_equal(ml_test_visit_all(frozen), 0);
    atomic_store(k, r.ptr);
  }
  assert_true(ml_track_free(p));
}

/* This thread's cache's sets; 0 between a growth and the next block. */
static unsigned ml_test_my_sets(void) { return ml_young_mine ? ml_young_sets(ml_young_mine) : 0; }

/* A cache of a thread that ended (it wrote a record, freed it, and left). */
static void *ml_test_other_cache(void *arg) {
  void *p = ml_test_block(5, 0);
  ml_track_alloc(p, 1000);
  assert_true(ml_track_free(p));
  *(ml_young_t **)arg = ml_young_mine;
  return NULL;
}

/* A record caught in each step of a move to the cache its thread grew
 * into (ml_young_drain_step) is read once, and a free on its thread finds it
 * wherever it is. */
static void test_young_record_caught_draining_is_read_once(void **state) {
  ml_young_t *to = NULL;
  pthread_t th;
  (void)state;
  assert_int_equal(pthread_create(&th, NULL, ml_test_other_cache, &to), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_non_null(to);
  for (int frozen = 0; frozen < 2; frozen++)
    for (int freed = 0; freed < 2; freed++) {
      void *p = ml_test_block(1, 4 + (size_t)(2 * frozen + freed));
      ml_track_alloc(p, 4000);
      ml_rec_t r = ml_test_find(p);
      ml_young_t *y = ml_young_mine;
      unsigned s = ml_young_set(y, r.ptr), w = (unsigned)__builtin_ctz(ml_young_ways_of(y->set[s].key, r.ptr));
      _Atomic uintptr_t *k = &y->set[s].key[w];
      atomic_store(&y->drain_to, to);
      atomic_store(k, r.ptr | ML_YOUNG_MOVING); /* step 1: marked */
      assert_int_equal(ml_test_visit_all(frozen), 1);
      unsigned s2 = ml_young_set(to, r.ptr), w2 = ml_young_home(r.ptr); /* step 2: copied */
      assert_int_equal(atomic_load(&to->set[s2].key[w2]), 0);
      to->set[s2].size_tid[w2] = r.size_tid;
      to->seq_stack[s2][w2] = r.seq_stack;
      atomic_store(&to->set[s2].key[w2], r.ptr);
      assert_int_equal(ml_test_visit_all(frozen), 1);
      if (freed) { /* freed meanwhile: the copy is read until the owner takes it */
        atomic_store(k, r.ptr | ML_YOUNG_MOVING | ML_YOUNG_FREED);
        assert_int_equal(ml_test_visit_all(frozen), 1);
        atomic_store(&to->set[s2].key[w2], 0);
        assert_int_equal(ml_test_visit_all(frozen), 0);
        atomic_store(k, 0);
        atomic_store(&y->drain_to, NULL);
        ml_young_tally(&y->freed, 4000); /* as the other thread's free did */
        continue;
      }
      atomic_store(k, 0); /* step 3: gone from y */
      ml_young_tally(&y->out, 4000);
      ml_young_tally(&to->in, 4000);
      atomic_store(&y->drain_to, NULL);
      assert_int_equal(ml_test_visit_all(frozen), 1);
      assert_int_equal(ml_test_counts().live, 1);
      assert_true(ml_track_free(p)); /* found in the other cache */
      assert_int_equal(atomic_load(&to->set[s2].key[w2]), 0);
      assert_int_equal(ml_test_visit_all(frozen), 0);
    }
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
}

#define ML_YT_BLOCKS 64 /* addresses in one set: every insert past 4 live moves one */
#define ML_YT_RING 16
#define ML_YT_ROUNDS 50000

static struct {
  _Atomic(void *) ring[ML_YT_RING];
  size_t not_found; // frees that found no record
  size_t stuck;     // a block whose record never went
  _Atomic bool stop;
} ml_yt;

/* The consumer: frees what the producer hands over, while the producer's
 * cache keeps moving records out of the same set. */
static void *ml_yt_consumer(void *arg) {
  (void)arg;
  for (size_t n = 0, i = 0; n < ML_YT_ROUNDS && !atomic_load(&ml_yt.stop);
       i = (i + 1) % ML_YT_RING) {
    void *p = atomic_exchange(&ml_yt.ring[i], NULL);
    if (!p) continue;
    if (!ml_track_free(p)) ml_yt.not_found++;
    n++;
  }
  return NULL;
}

static void test_young_cross_thread_frees_race_moves(void **state) {
  void *blocks[ML_YT_BLOCKS];
  pthread_t th;
  (void)state;
  ml_test_same_set(2, blocks, ML_YT_BLOCKS);
  memset(&ml_yt, 0, sizeof ml_yt);
  assert_int_equal(pthread_create(&th, NULL, ml_yt_consumer, NULL), 0);
  for (size_t n = 0, i = 0; n < ML_YT_ROUNDS; i = (i + 1) % ML_YT_RING) {
    if (atomic_load(&ml_yt.ring[i])) continue;
    void *p = blocks[n % ML_YT_BLOCKS];
    /* blocks[n % 64] was handed over 64 rounds ago; the ring holds 16: it
     * has been freed (or is being: wait for its record to go) */
    for (int spins = 0; ml_test_has(p); spins++) {
      if (spins == 100000) break; /* its free was lost: fails below */
      sched_yield();
    }
    if (ml_test_has(p)) {
      ml_yt.stuck++;
      atomic_store(&ml_yt.stop, true);
      break;
    }
    ml_track_alloc(p, 1000 + n % 100);
    atomic_store(&ml_yt.ring[i], p);
    n++;
  }
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(ml_yt.stuck, 0);
  assert_int_equal(ml_yt.not_found, 0);
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.allocs, ML_YT_ROUNDS);
  assert_int_equal(c.frees, ML_YT_ROUNDS);
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(ml_test_table_counts().live, 0);
  assert_int_equal(ml_test_visit_all(false), 0);
}

/* more than a cache holds: the later ones push earlier ones out */
#define ML_YF_STABLE (2 * ML_YOUNG_WAYS << ML_YOUNG_SET_BITS_BELOW)
#define ML_YF_FORKS 150

static _Atomic size_t ml_yf_done; // stable records made so far
static _Atomic bool ml_yf_stop;
static unsigned char ml_yf_seen[ML_YF_STABLE];

/* Records stable blocks (never freed) between short-lived ones, so that
 * the cache keeps moving records to the shared tables while snapshots are
 * taken. */
static void *ml_yf_churn(void *arg) {
  (void)arg;
  for (size_t i = 0, k = 0; !atomic_load(&ml_yf_stop); i++) {
    if (i < ML_YF_STABLE) {
      ml_track_alloc(ml_test_block(3, i), 1500);
      atomic_store(&ml_yf_done, i + 1);
    }
    for (int j = 0; j < 3; j++, k++) {
      void *p = ml_test_block(4, k % 5000);
      ml_track_alloc(p, 1200);
      (void)ml_track_free(p);
    }
  }
  return NULL;
}

/* A snapshot's count of the records of blocks 0..n-1 of a region. */
typedef struct ml_test_seen_s {
  size_t region, n;
  unsigned char *seen;
} ml_test_seen_t;

static void ml_test_seen_one(const ml_rec_t *r, void *arg) {
  ml_test_seen_t *t = arg;
  uintptr_t base = (uintptr_t)ml_test_block(t->region, 0);
  if (r->ptr < base || r->ptr >= base + (uintptr_t)t->n * 4096) return;
  size_t i = (r->ptr - base) / 4096;
  if (t->seen[i] < 255) t->seen[i]++;
}

/* In a snapshot: every record of the blocks below done is read once (the
 * one being made may or may not be).  0, or 3 missing, 4 read twice. */
static int ml_test_seen_child(ml_test_seen_t t, size_t done) {
  for (unsigned i = 0; i < ml_core.tables.narenas; i++)
    ml_tables_visit(&ml_core.tables, i, true, ml_test_seen_one, &t, NULL);
  ml_young_visit(true, ml_test_seen_one, &t);
  for (size_t i = 0; i < t.n; i++) {
    if (t.seen[i] > 1) return 4;
    if (i < done && !t.seen[i]) return 3;
  }
  return 0;
}

static int ml_yf_child(void) {
  ml_test_seen_t t = {3, ML_YF_STABLE, ml_yf_seen};
  return ml_test_seen_child(t, atomic_load(&ml_yf_done));
}

static void test_young_snapshots_read_each_record_once_under_moves(void **state) {
  pthread_t th;
  int fails[5] = {0};
  (void)state;
  atomic_store(&ml_yf_done, 0);
  atomic_store(&ml_yf_stop, false);
  assert_int_equal(pthread_create(&th, NULL, ml_yf_churn, NULL), 0);
  while (atomic_load(&ml_yf_done) < ML_YF_STABLE / 2) sched_yield();
  for (int f = 0; f < ML_YF_FORKS; f++) {
    usleep(100);
    fails[ml_test_in_snapshot(ml_yf_child)]++;
  }
  atomic_store(&ml_yf_stop, true);
  assert_int_equal(pthread_join(th, NULL), 0);
  if (fails[3] + fails[4])
    print_error("of %d snapshots: %d missing a record, %d reading one twice\n", ML_YF_FORKS,
                fails[3], fails[4]);
  assert_int_equal(fails[0], ML_YF_FORKS);
  /* and the moves happened */
  assert_true(ml_test_table_counts().live > 0);
}

/* Snapshots while a thread's cache grows (its records moving to the larger
 * cache): every record made is read once. */
#define ML_YS_STABLE 300000
static unsigned char ml_ysn_seen[ML_YS_STABLE];
static _Atomic size_t ml_ysn_done;
static _Atomic bool ml_ysn_stop;
static unsigned ml_ysn_growths;

static void *ml_ysn_grow(void *arg) {
  (void)arg;
  unsigned cur = 0;
  for (size_t i = 0; i < ML_YS_STABLE; i++) {
    ml_track_alloc(ml_test_block(7, i), 1500);
    atomic_store(&ml_ysn_done, i + 1);
    unsigned now = ml_test_my_sets();
    if (now && cur && now != cur) ml_ysn_growths++;
    if (now) cur = now;
  }
  while (!atomic_load(&ml_ysn_stop)) sched_yield();
  for (size_t i = 0; i < ML_YS_STABLE; i++) assert_true(ml_track_free(ml_test_block(7, i)));
  ml_young_thread_renew(); /* as at a thread's end: given back, empty */
  return NULL;
}

static int ml_ysn_child(void) {
  ml_test_seen_t t = {7, ML_YS_STABLE, ml_ysn_seen};
  return ml_test_seen_child(t, atomic_load(&ml_ysn_done));
}

static void test_young_snapshots_read_each_record_once_under_growth(void **state) {
  pthread_t th;
  int forks = 0, fails[5] = {0};
  (void)state;
  atomic_store(&ml_ysn_done, 0);
  atomic_store(&ml_ysn_stop, false);
  ml_ysn_growths = 0;
  ml_young_meta_budget = 1024; /* whatever the caches earlier tests left */
  assert_int_equal(pthread_create(&th, NULL, ml_ysn_grow, NULL), 0);
  while (atomic_load(&ml_ysn_done) < ML_YS_STABLE) {
    fails[ml_test_in_snapshot(ml_ysn_child)]++;
    forks++;
  }
  atomic_store(&ml_ysn_stop, true);
  assert_int_equal(pthread_join(th, NULL), 0);
  ml_young_meta_budget = ML_YOUNG_META_BUDGET;
  if (fails[3] + fails[4])
    print_error("of %d snapshots: %d missing a record, %d reading one twice\n", forks, fails[3],
                fails[4]);
  assert_int_equal(fails[0], forks);
  assert_true(ml_ysn_growths >= 3);
  assert_int_equal(ml_test_visit_all(false), 0);
}

/* ---- the page's hint of whose cache (young.h) -------------------------------- */

/* Two live threads (so on two stacks, with two caches): the first records
 * its block, then the second its own. */
typedef struct ml_test_pair_s {
  void *p;
  int first;
  uintptr_t hint;
  bool free_own;        // the first frees its block once both are recorded
  uint8_t page_at_free; // p's page-map byte then
  bool freed;           // what the free returned
} ml_test_pair_t;
static pthread_barrier_t ml_test_pair_barrier;

static void *ml_test_alloc_in_turn(void *arg) {
  ml_test_pair_t *t = arg;
  if (!t->first) pthread_barrier_wait(&ml_test_pair_barrier);
  ml_track_alloc(t->p, 1000);
  t->hint = ml_young_hint();
  if (t->first) pthread_barrier_wait(&ml_test_pair_barrier);
  pthread_barrier_wait(&ml_test_pair_barrier); /* both recorded */
  if (t->free_own) {
    t->page_at_free = ml_pagemap_byte(t->p);
    t->freed = ml_track_free(t->p);
  }
  pthread_barrier_wait(&ml_test_pair_barrier); /* both alive until both are done */
  return NULL;
}

/* Two threads record a block each on one page: the page's byte names the
 * second's cache.  A free on a third thread still finds the first block's
 * record (in the first's cache: the hint is only where to look first), and
 * the second's. */
static void test_young_free_finds_records_the_page_hint_does_not_name(void **state) {
  void *p1 = ml_test_block(14, 0), *p2 = (char *)p1 + 1024;
  ml_test_pair_t t[2] = {{p1, 1, 0}, {p2, 0, 0}};
  pthread_t th[2];

  (void)state;
  pthread_barrier_init(&ml_test_pair_barrier, NULL, 2);
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&th[i], NULL, ml_test_alloc_in_turn, &t[i]), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  pthread_barrier_destroy(&ml_test_pair_barrier);
  assert_true(t[0].hint != 0 && t[0].hint != ML_PM_ANY);
  assert_true(t[1].hint != 0 && t[1].hint != ML_PM_ANY);
  assert_true(t[0].hint != t[1].hint);
  assert_int_equal(ml_pagemap_byte(p1), t[1].hint);
  assert_true(ml_track_free(p1));
  assert_true(ml_track_free(p2));
  assert_false(ml_track_free(p1));
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, 0);
}

/* The first thread records a block, the second one on the same page (the
 * page's byte then names the second's cache), and the first frees its own:
 * its free looks in the cache the page names first (ml_track_take_first),
 * then in its own, where the record is. */
static void test_young_own_free_behind_another_threads_hint(void **state) {
  void *p1 = ml_test_block(24, 0), *p2 = (char *)p1 + 1024;
  ml_test_pair_t t[2] = {{p1, 1, 0, true, 0, false}, {p2, 0, 0, false, 0, false}};
  pthread_t th[2];

  (void)state;
  ml_counts_t before = ml_test_counts();
  pthread_barrier_init(&ml_test_pair_barrier, NULL, 2);
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&th[i], NULL, ml_test_alloc_in_turn, &t[i]), 0);
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
  pthread_barrier_destroy(&ml_test_pair_barrier);
  assert_true(t[0].hint != 0 && t[0].hint != ML_PM_ANY);
  assert_true(t[1].hint != 0 && t[1].hint != ML_PM_ANY && t[1].hint != t[0].hint);
  assert_int_equal(t[0].page_at_free, t[1].hint);
  assert_true(t[0].freed);
  assert_false(ml_track_free(p1));
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, before.live + 1); /* p2's */
  assert_true(ml_track_free(p2));
  c = ml_test_counts();
  assert_int_equal(c.live, before.live);
}

/* ---- a thread's blocks given back at its end (treg.h) ------------------------- */

typedef struct ml_test_giver_s {
  void *p;
  sem_t done, go;
} ml_test_giver_t;

/* Records a block, gives its per-thread blocks back as the pthread_create
 * wrapper does at a thread's end, then stays alive (its stack in use) until
 * told to go. */
static void *ml_test_give_back(void *arg) {
  ml_test_giver_t *g = arg;
  ml_track_alloc(g->p, 1000);
  ml_young_thread_release();
  ml_capture_thread_release();
  sem_post(&g->done);
  sem_wait(&g->go);
  return NULL;
}

/* A thread that starts while the one before is still alive, on a stack no
 * thread had (mapped here), takes the cache that one gave back: no new
 * cache, and the records in it are still found. */
static void test_young_cache_given_back_goes_to_the_next_thread(void **state) {
  ml_test_giver_t g[2];
  pthread_t th[2];
  unsigned caches[2];
  void *stacks[2];

  (void)state;
  for (int i = 0; i < 2; i++) {
    g[i].p = ml_test_block(15, (size_t)i);
    sem_init(&g[i].done, 0, 0);
    sem_init(&g[i].go, 0, 0);
    pthread_attr_t attr;
    size_t size = 1 << 20;
    stacks[i] = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(stacks[i] != MAP_FAILED);
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stacks[i], size);
    assert_int_equal(pthread_create(&th[i], &attr, ml_test_give_back, &g[i]), 0);
    pthread_attr_destroy(&attr);
    sem_wait(&g[i].done);
    caches[i] = ml_young_caches();
  }
  assert_int_equal(caches[1], caches[0]);
  for (int i = 0; i < 2; i++) {
    sem_post(&g[i].go);
    assert_int_equal(pthread_join(th[i], NULL), 0);
    sem_destroy(&g[i].done);
    sem_destroy(&g[i].go);
    munmap(stacks[i], 1 << 20);
  }
  assert_true(ml_track_free(g[0].p));
  assert_true(ml_track_free(g[1].p));
  assert_int_equal(ml_test_counts().live, 0);
}

/* A thread's cache is sized by the threshold when it is made: 4096 sets
 * below the default threshold (many more blocks tracked), 1024 from it on.
 * A thread that renews its cache keeps finding the records of the old one. */
static void test_young_cache_sized_by_threshold(void **state) {
  (void)state;
  size_t threshold = ml_gate.threshold;
  void *a = ml_test_block(16, 1), *b = ml_test_block(16, 2);
  ml_young_thread_renew();
  ml_track_alloc(a, 3000); /* threshold 1000 */
  assert_int_equal(ml_young_sets(ml_young_mine), 1u << ML_YOUNG_SET_BITS_BELOW);
  unsigned caches = ml_young_caches();
  ml_gate.threshold = ML_YOUNG_BELOW;
  ml_young_thread_renew();
  ml_track_alloc(b, 4000);
  assert_int_equal(ml_young_sets(ml_young_mine), 1u << ML_YOUNG_SET_BITS);
  assert_int_equal(ml_young_caches(), caches + 1); /* the other one is given back */
  assert_int_equal(ml_test_table_counts().live, 0);
  ml_rec_t r = ml_test_find(a);
  assert_int_equal(ml_rec_size(&r), 3000);
  assert_true(ml_track_free(a)); /* from the cache given back */
  assert_true(ml_track_free(b));
  assert_int_equal(ml_test_counts().live, 0);
  assert_true(ml_young_metadata_bytes() >= sizeof(ml_young_t) + (4096 + 1024) * sizeof(ml_young_set_t));
  /* Back below: the cache given back, of that size, is taken again. */
  ml_gate.threshold = threshold;
  ml_young_thread_renew();
  ml_track_alloc(a, 3000);
  assert_int_equal(ml_young_sets(ml_young_mine), 1u << ML_YOUNG_SET_BITS_BELOW);
  assert_int_equal(ml_young_caches(), caches + 1);
  assert_true(ml_track_free(a));
}

/* A thread whose cache moves a record out on at least one tracked
 * allocation in 8 gets a cache with twice the sets on its next one, when
 * the records' memory with it (the old one given back) stays within the
 * budget; the old cache's records move to the new one (its own frees find
 * them there, not in another thread's cache), the old cache's memory is
 * returned, and the counts stay exact.  Emptied, the cache goes back to
 * its first size a halving at a time.  One move in 11 allocations (ten
 * short-lived blocks per long-lived one) keeps the cache's size, and so
 * does a budget that the larger cache would pass. */

/* Memory of the shared tables and of the caches. */
static size_t ml_test_meta(void) {
  return ml_young_metadata_bytes() + ml_tables_metadata_bytes(&ml_core.tables);
}

/* A cache of 2^bits sets, as young.c maps it. */
static size_t ml_test_cache_bytes(unsigned bits) {
  return sizeof(ml_young_t) +
         ((size_t)1 << bits) * (sizeof(ml_young_set_t) + ML_YOUNG_WAYS * sizeof(uint64_t));
}

/* The drain under way on this thread ends on its next allocations and
 * frees (of one block, again and again). */
static void ml_test_drain_done(void) {
  for (size_t i = 0; ml_young_drain_from() && i < (8u << 20); i++) {
    ml_track_alloc(ml_test_block(21, 0), 2500);
    assert_true(ml_track_free(ml_test_block(21, 0)));
  }
  assert_null(ml_young_drain_from());
}

#define ML_YG_STABLE 40000
#define ML_YG_MANY 200000
static void test_young_cache_grows_when_it_moves_records_out(void **state) {
  (void)state;
  ml_young_thread_renew();
  ml_track_alloc(ml_test_block(17, 0), 1500);
  unsigned sets = ml_test_my_sets(), caches = ml_young_caches();
  assert_int_equal(sets, 1u << ML_YOUNG_SET_BITS_BELOW); /* threshold 1000 */
  /* Few moves: stable blocks among ten short-lived ones each. */
  size_t k = 0;
  for (size_t i = 1; i < ML_YG_STABLE; i++) {
    ml_track_alloc(ml_test_block(17, i), 1500);
    for (int j = 0; j < 10; j++, k++) {
      void *p = ml_test_block(18, k % 3000);
      ml_track_alloc(p, 1200);
      assert_true(ml_track_free(p));
    }
  }
  assert_true(ml_test_table_counts().live > 0); /* it did move records */
  assert_int_equal(ml_test_my_sets(), sets);
  assert_int_equal(ml_young_caches(), caches);
  /* Many moves (20000 blocks live at a time), but a cache twice as large
   * would pass the budget: the tables hold most of the stable records. */
  for (size_t i = 0; i < 3 * ML_YG_STABLE / 2; i++) {
    ml_track_alloc(ml_test_block(20, i), 1300);
    if (i >= 20000) assert_true(ml_track_free(ml_test_block(20, i - 20000)));
    size_t larger = ml_test_meta() - ml_test_cache_bytes(ML_YOUNG_SET_BITS_BELOW) +
                    ml_test_cache_bytes(ML_YOUNG_SET_BITS_BELOW + ML_YOUNG_GROW_BITS);
    assert_true(larger > ML_YOUNG_META_BUDGET * ml_test_counts().live);
  }
  for (size_t i = 3 * ML_YG_STABLE / 2 - 20000; i < 3 * ML_YG_STABLE / 2; i++)
    assert_true(ml_track_free(ml_test_block(20, i)));
  assert_int_equal(ml_test_my_sets(), sets);
  assert_int_equal(ml_young_caches(), caches);
  /* Many moves: stable blocks only; the cache grows, each time within the
   * budget, and its records go along. */
  size_t young_meta = ml_young_metadata_bytes();
  unsigned growths = 0, cur = sets;
  ml_young_t *draining = NULL; /* the cache grown out of, while it drains */
  size_t drain_allocs = 0;
  for (size_t i = 0; i < ML_YG_MANY; i++) {
    uint64_t out = draining ? draining->out.n : 0;
    ml_track_alloc(ml_test_block(19, i), 2500);
    if (draining) {
      /* a few sets' records at a time, and done after as many batches of
       * sequence numbers as it has steps */
      assert_true(draining->out.n - out <= ML_YOUNG_DRAIN_SETS * ML_YOUNG_WAYS);
      drain_allocs++;
      if (ml_young_drain_from() != draining) {
        assert_true(draining->discarded);
        assert_true(drain_allocs <= ML_SEQ_BATCH * (ml_young_sets(draining) / ML_YOUNG_DRAIN_SETS + 1));
        assert_true(ml_test_meta() <= ML_YOUNG_META_BUDGET * ml_test_counts().live);
        draining = NULL;
      }
    }
    if (ml_test_my_sets() == 0 || ml_test_my_sets() == cur) continue; /* 0: growth decided */
    /* the first block in the larger cache */
    growths++;
    assert_int_equal(ml_test_my_sets(), cur << ML_YOUNG_GROW_BITS);
    cur = ml_test_my_sets();
    /* the last block before the growth is still in the cache grown out of,
     * which drains from the next batch of sequence numbers on */
    draining = ml_young_drain_from();
    drain_allocs = 0;
    assert_non_null(draining);
    assert_ptr_not_equal(draining, ml_young_mine);
    unsigned s = ml_young_set(draining, (uintptr_t)ml_test_block(19, i - 1));
    assert_int_not_equal(
        ml_young_ways_of(draining->set[s].key, (uintptr_t)ml_test_block(19, i - 1)), 0);
  }
  assert_true(growths >= 2);
  ml_track_alloc(ml_test_block(21, 0), 2500); /* a growth decided by the last block */
  assert_true(ml_track_free(ml_test_block(21, 0)));
  ml_test_drain_done();
  assert_true(ml_test_my_sets() >= sets << (growths * ML_YOUNG_GROW_BITS));
  /* a cache per size (one given back may be taken); of them, only this
   * thread's holds memory (and every header) */
  assert_true(ml_young_caches() <= caches + growths + 1);
  assert_true(ml_young_metadata_bytes() <= young_meta - ml_test_cache_bytes(ml_log2(sets)) +
                                               ml_test_cache_bytes(ml_log2(ml_test_my_sets())) +
                                               growths * sizeof(ml_young_t));
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, ML_YG_STABLE + ML_YG_MANY);
  for (size_t i = 0; i < ML_YG_MANY; i++) {
    ml_rec_t r = ml_test_find(ml_test_block(19, i));
    assert_int_equal(ml_rec_size(&r), 2500);
    if (i >= ML_YG_STABLE) continue;
    r = ml_test_find(ml_test_block(17, i));
    assert_int_equal(ml_rec_size(&r), 1500);
  }
  uint64_t moves = ml_young_moves();
  for (size_t i = 0; i < ML_YG_MANY; i++) {
    if (i < ML_YG_STABLE) assert_true(ml_track_free(ml_test_block(17, i)));
    assert_true(ml_track_free(ml_test_block(19, i)));
  }
  assert_int_equal(ml_young_moves(), moves);
  /* Emptied: a halving after as many frees as the cache has ways, back to
   * the first size, its memory returned. */
  unsigned halvings = 0;
  for (size_t i = 0, last = ml_test_my_sets(); ml_test_my_sets() != sets && i < (8u << 20); i++) {
    ml_track_alloc(ml_test_block(21, 1), 2500);
    assert_true(ml_track_free(ml_test_block(21, 1)));
    if (ml_test_my_sets() == last) continue;
    assert_int_equal(ml_test_my_sets(), last / 2);
    last = ml_test_my_sets();
    halvings++;
  }
  assert_int_equal(ml_test_my_sets(), sets);
  assert_int_equal(halvings, growths);
  ml_test_drain_done();
  assert_true(ml_young_metadata_bytes() <= young_meta + (growths + 1) * sizeof(ml_young_t));
  c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(ml_test_table_counts().live, 0);
  assert_int_equal(ml_test_visit_all(false), 0);
  /* None larger than 2^ML_YOUNG_SET_BITS_MAX sets. */
  ml_young_grow_max = ML_YOUNG_SET_BITS_BELOW;
  ml_young_thread_renew();
  for (size_t i = 0; i < ML_YG_MANY; i++) ml_track_alloc(ml_test_block(19, i), 2500);
  assert_int_equal(ml_test_my_sets(), 1u << ML_YOUNG_SET_BITS_BELOW);
  for (size_t i = 0; i < ML_YG_MANY; i++) assert_true(ml_track_free(ml_test_block(19, i)));
  ml_young_grow_max = ML_YOUNG_SET_BITS_MAX;
  ml_young_thread_renew();
  assert_int_equal(ml_test_counts().live, 0);
}

/* A free looks in every cache in turn: a record that moves from a cache
 * not looked at yet to one looked at already (a growth into a cache given
 * back earlier, at a lower index) is found when it looks again. */

/* Move p's record from cache `from` to cache `to` (NULL: the shared
 * tables), as a growth or an eviction does. */
static void ml_ys_move(ml_young_t *from, uintptr_t p, ml_young_t *to) {
  unsigned s = ml_young_set(from, p);
  unsigned w = (unsigned)__builtin_ctz(ml_young_ways_of(from->set[s].key, p));
  ml_young_move_way(from, s, w, to);
}

/* The search hook: once the search has looked at cache ml_ys_after, p's
 * record leaves ml_ys_from for ml_ys_to (NULL: the shared tables). */
static ml_young_t *ml_ys_from, *ml_ys_to, *ml_ys_after;
static uintptr_t ml_ys_p;

static void ml_ys_move_behind(ml_young_t *y) {
  if (y != ml_ys_after || !ml_ys_from) return;
  ml_ys_move(ml_ys_from, ml_ys_p, ml_ys_to);
  ml_ys_from = NULL;
}

/* The index of cache y in the registry. */
static unsigned ml_ys_index(const ml_young_t *y) {
  for (unsigned i = 0; i < ml_young_caches(); i++)
    if (ml_young_cache_at(i) == (uintptr_t)y) return i;
  fail();
  return 0;
}

static pthread_barrier_t ml_ys_barrier;

/* ml_test_other_cache, on a thread that lives until the other one has
 * its cache (two live threads: two stacks, two caches). */
static void *ml_ys_cache(void *arg) {
  ml_test_other_cache(arg);
  pthread_barrier_wait(&ml_ys_barrier);
  return NULL;
}

/* Two caches of threads that ended, *first at the lower index of the two
 * in the registry (looked at first), and a record of block p, allocated
 * here, moved to the other one (as a growth would take it there). */
static void ml_ys_two_caches(void *p, ml_young_t **first, ml_young_t **later) {
  ml_young_t *a = NULL, *b = NULL;
  pthread_t ta, tb;
  pthread_barrier_init(&ml_ys_barrier, NULL, 2);
  assert_int_equal(pthread_create(&ta, NULL, ml_ys_cache, &a), 0);
  assert_int_equal(pthread_create(&tb, NULL, ml_ys_cache, &b), 0);
  assert_int_equal(pthread_join(ta, NULL), 0);
  assert_int_equal(pthread_join(tb, NULL), 0);
  pthread_barrier_destroy(&ml_ys_barrier);
  assert_true(a && b && a != b);
  *later = ml_ys_index(a) > ml_ys_index(b) ? a : b;
  *first = *later == a ? b : a;
  /* it starts in this thread's cache (the page's hint names it) */
  ml_track_alloc(p, 3000);
  ml_young_t *mine = ml_young_mine;
  assert_true(mine != a && mine != b);
  ml_ys_move(mine, (uintptr_t)p, *later);
}

static void test_young_free_finds_record_moved_behind_its_search(void **state) {
  (void)state;
  /* p's record moves from the cache looked at later to the one looked at
   * first */
  ml_young_t *from, *to;
  void *p = ml_test_block(6, 0);
  ml_ys_two_caches(p, &to, &from);
  assert_int_equal(ml_test_visit_all(false), 1);
  ml_ys_after = ml_ys_to = to;
  ml_ys_p = (uintptr_t)p;
  ml_young_search_hook = ml_ys_move_behind;
  /* found by a look-up, then by a free */
  ml_ys_from = from;
  bool found = ml_track_find((uintptr_t)p, NULL);
  assert_null(ml_ys_from);
  assert_true(found);
  ml_ys_move(to, (uintptr_t)p, from); /* back */
  ml_ys_from = from;
  found = ml_track_free(p);
  ml_young_search_hook = NULL;
  assert_null(ml_ys_from); /* it did move during the search */
  assert_true(found);
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(ml_test_visit_all(false), 0);
}

/* A cache grown out of drains a few sets at a time, on its thread's
 * allocations and frees: meanwhile every record is found, by a free on its
 * thread and by a snapshot (once), and the counts stay exact; then the
 * cache is given back with its memory. */
static void test_young_drain_spreads_over_allocations_and_frees(void **state) {
  (void)state;
  ml_young_thread_renew();
  ml_young_meta_budget = 1u << 20; /* the growth, whatever the memory */
  size_t n = 0, freed = 0;
  while (!ml_young_drain_from() && n < 400000) ml_track_alloc(ml_test_block(23, n++), 1700);
  ml_young_t *old = ml_young_drain_from();
  assert_non_null(old);
  assert_true(ml_young_sets(ml_young_mine) > ml_young_sets(old));
  size_t steps = 0, allocs = 0;
  while (ml_young_drain_from() == old) {
    uint64_t out = old->out.n;
    ml_track_alloc(ml_test_block(23, n++), 1700);
    allocs++;
    if (freed < n / 2) assert_true(ml_track_free(ml_test_block(23, freed++)));
    assert_true(old->out.n - out <= 2 * ML_YOUNG_DRAIN_SETS * ML_YOUNG_WAYS);
    steps += old->out.n != out;
    if (allocs % 97 == 0) assert_int_equal(ml_test_visit_all(false), ml_test_counts().live);
  }
  assert_true(steps >= ml_young_sets(old) / ML_YOUNG_DRAIN_SETS / 2);
  assert_true(old->discarded);
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, n - freed);
  assert_int_equal(ml_test_visit_all(false), n - freed);
  for (size_t i = freed; i < n; i++) {
    ml_rec_t r = ml_test_find(ml_test_block(23, i));
    assert_int_equal(ml_rec_size(&r), 1700);
    assert_true(ml_track_free(ml_test_block(23, i)));
  }
  ml_young_meta_budget = ML_YOUNG_META_BUDGET;
  ml_young_thread_renew();
  c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
  assert_int_equal(ml_test_visit_all(false), 0);
}

/* A look-up looks in the caches, then in the shared tables: a record
 * evicted from a cache it has not looked at yet to the tables is found
 * there (the other order missed it). */

static void test_young_find_finds_record_evicted_behind_its_search(void **state) {
  (void)state;
  ml_young_t *first, *later;
  void *p = ml_test_block(7, 0);
  ml_ys_two_caches(p, &first, &later);
  ml_ys_after = first; /* after the look at the first cache, */
  ml_ys_to = NULL;      /* the record leaves the later one for the tables */
  ml_ys_from = later;
  ml_ys_p = (uintptr_t)p;
  ml_young_search_hook = ml_ys_move_behind;
  ml_rec_t r = {0};
  bool found = ml_track_find((uintptr_t)p, &r);
  ml_young_search_hook = NULL;
  assert_null(ml_ys_from); /* it did move during the look-up */
  assert_true(found);
  assert_true(r.ptr == (uintptr_t)p);
  assert_int_equal(ml_rec_size(&r), 3000);
  assert_true(ml_tables_find(&ml_core.tables, (uintptr_t)p, NULL));
  assert_true(ml_track_free(p));
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, 0);
  assert_int_equal(c.live_bytes, 0);
}

/* Frees of a thread's records on another thread race the moves of its
 * cache's records to the larger caches it grows into: every free finds its
 * record, once, and the counts stay exact. */
#define ML_YD_BLOCKS 150000
#define ML_YD_LAG 64 /* the consumer frees blocks made this recently */

static _Atomic size_t ml_yd_done; // blocks recorded so far
static size_t ml_yd_not_found;

static void *ml_yd_consumer(void *arg) {
  (void)arg;
  for (size_t i = 1; i < ML_YD_BLOCKS; i += 2) { /* the odd ones */
    while (atomic_load(&ml_yd_done) < i + ML_YD_LAG && atomic_load(&ml_yd_done) < ML_YD_BLOCKS)
      sched_yield();
    if (!ml_track_free(ml_test_block(22, i))) ml_yd_not_found++;
  }
  return NULL;
}

static void test_young_cross_thread_frees_race_growth(void **state) {
  pthread_t th;
  (void)state;
  ml_young_thread_renew();
  ml_counts_t c0 = ml_test_counts();
  atomic_store(&ml_yd_done, 0);
  ml_yd_not_found = 0;
  ml_young_meta_budget = 1024; /* whatever the caches earlier tests left */
  assert_int_equal(pthread_create(&th, NULL, ml_yd_consumer, NULL), 0);
  unsigned first = 0, growths = 0, cur = 0;
  for (size_t i = 0; i < ML_YD_BLOCKS; i++) {
    ml_track_alloc(ml_test_block(22, i), 1000 + i % 1000);
    atomic_store(&ml_yd_done, i + 1);
    unsigned now = ml_test_my_sets();
    if (!first) first = cur = now;
    if (now && now != cur) growths++, cur = now;
  }
  assert_int_equal(pthread_join(th, NULL), 0);
  ml_young_meta_budget = ML_YOUNG_META_BUDGET;
  assert_int_equal(ml_yd_not_found, 0);
  assert_true(growths >= 2);
  assert_int_equal(ml_test_counts().live - c0.live, ML_YD_BLOCKS / 2);
  for (size_t i = 0; i < ML_YD_BLOCKS; i += 2) assert_true(ml_track_free(ml_test_block(22, i)));
  ml_counts_t c = ml_test_counts();
  assert_int_equal(c.live, c0.live);
  assert_int_equal(c.live_bytes, c0.live_bytes);
  assert_int_equal(c.frees - c0.frees, ML_YD_BLOCKS);
  assert_int_equal(ml_test_table_counts().live, 0);
  assert_int_equal(ml_test_visit_all(false), 0);
  ml_young_thread_renew();
}

/* ---- the capture cache (capture.c) ------------------------------------------ */

static ML_NOINLINE uint32_t ml_test_capture_site(void) {
  uint32_t id = ml_capture_eh(0);
  __asm__ volatile("" : "+r"(id) : : "memory"); /* not a tail call */
  return id;
}

/* Four captures from one call site (built without optimisation: one call
 * instruction, never duplicated): the cache answers the second; before the
 * third an object is loaded (the dlopen hook's refresh publishes a new
 * object list), so the third walks again and the fourth is answered: a
 * walk is cached with the list it was made with, never used with another
 * (whose unwind rules may differ at the same addresses). */
static __attribute__((noinline, optimize("O0"))) void *
ml_test_capture_rounds(uint32_t id[4], const char *path, ml_capture_stats_t *s1) {
  void *h = NULL;
  for (size_t k = 0; k < 4; k++) {
    if (k == 2) {
      ml_capture_stats(s1);
      h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
      if (h) ml_unwind_modules_changed(); /* what the dlopen hook does */
    }
    id[k] = ml_test_capture_site();
  }
  return h;
}

/* A capture d frames below the caller. */
static ML_NOINLINE uint32_t ml_test_capture_at_depth(unsigned d) {
  uint32_t id = d ? ml_test_capture_at_depth(d - 1) : ml_test_capture_site();
  __asm__ volatile("" : "+r"(id) : : "memory"); /* not a tail call */
  return id;
}

/* Twenty-four call sites (built without optimisation: a call instruction
 * each), each at two depths: 48 paths, more than 16 ways held (the count
 * before cfrac, whose recursion takes more, missed 59% of its captures)
 * and fewer than the 64 a thread's block remembers. */
#define ML_TEST_PATHS 48
static __attribute__((noinline, optimize("O0"))) uint32_t ml_test_capture_path(unsigned k) {
  unsigned d = k & 1;
  switch (k >> 1) {
  case 0: return ml_test_capture_at_depth(d);
  case 1: return ml_test_capture_at_depth(d);
  case 2: return ml_test_capture_at_depth(d);
  case 3: return ml_test_capture_at_depth(d);
  case 4: return ml_test_capture_at_depth(d);
  case 5: return ml_test_capture_at_depth(d);
  case 6: return ml_test_capture_at_depth(d);
  case 7: return ml_test_capture_at_depth(d);
  case 8: return ml_test_capture_at_depth(d);
  case 9: return ml_test_capture_at_depth(d);
  case 10: return ml_test_capture_at_depth(d);
  case 11: return ml_test_capture_at_depth(d);
  case 12: return ml_test_capture_at_depth(d);
  case 13: return ml_test_capture_at_depth(d);
  case 14: return ml_test_capture_at_depth(d);
  case 15: return ml_test_capture_at_depth(d);
  case 16: return ml_test_capture_at_depth(d);
  case 17: return ml_test_capture_at_depth(d);
  case 18: return ml_test_capture_at_depth(d);
  case 19: return ml_test_capture_at_depth(d);
  case 20: return ml_test_capture_at_depth(d);
  case 21: return ml_test_capture_at_depth(d);
  case 22: return ml_test_capture_at_depth(d);
  default: return ml_test_capture_at_depth(d);
  }
}

#define ML_TEST_ROUNDS 8

/* Rounds of the paths, from one call instruction; the statistics before
 * each round and after the last. */
static __attribute__((noinline, optimize("O0"))) void
ml_test_capture_rounds_of_paths(uint32_t id[ML_TEST_ROUNDS][ML_TEST_PATHS],
                                ml_capture_stats_t s[ML_TEST_ROUNDS + 1]) {
  for (unsigned r = 0; r < ML_TEST_ROUNDS; r++) {
    ml_capture_stats(&s[r]);
    for (unsigned k = 0; k < ML_TEST_PATHS; k++) id[r][k] = ml_test_capture_path(k);
  }
  ml_capture_stats(&s[ML_TEST_ROUNDS]);
}

/* The paths taken in turn, over and over: each is walked once; the
 * thread's block of 16 ways, which forgets them, grows to 64 once 64 walks
 * were of stacks seen before; from then on each path is walked once more
 * and then always answered by the cache, whichever way holds it (the ways'
 * tags, of two stack pointers, and the words of the return addresses tell
 * them apart), each with its own stack. */
static void test_capture_cache_answers_paths_in_turn(void **state) {
  (void)state;
  ml_capture_thread_renew(); /* a first block for this thread */
  ml_capture_stats_t s[ML_TEST_ROUNDS + 1];
  uint32_t id[ML_TEST_ROUNDS][ML_TEST_PATHS];
  ml_test_capture_rounds_of_paths(id, s);
  assert_int_equal(ml_cap_mine->ways, ML_CAPTURE_WAYS);
  assert_int_equal(s[1].misses - s[0].misses, ML_TEST_PATHS);
  /* forgotten: 64 walks of stacks seen before, then a round in the new
   * block; the last three rounds are answered */
  assert_true(s[ML_TEST_ROUNDS - 3].misses - s[1].misses <= 64 + 2 * ML_TEST_PATHS);
  assert_int_equal(s[ML_TEST_ROUNDS].misses - s[ML_TEST_ROUNDS - 3].misses, 0);
  assert_int_equal(s[ML_TEST_ROUNDS].hits - s[ML_TEST_ROUNDS - 3].hits, 3 * ML_TEST_PATHS);
  for (unsigned r = 1; r < ML_TEST_ROUNDS; r++)
    for (unsigned k = 0; k < ML_TEST_PATHS; k++) assert_int_equal(id[r][k], id[0][k]);
  for (unsigned a = 0; a < ML_TEST_PATHS; a++)
    for (unsigned b = a + 1; b < ML_TEST_PATHS; b++) assert_int_not_equal(id[0][a], id[0][b]);
  /* the blocks' memory is metadata (the dump's metadata_bytes) */
  assert_true(ml_capture_metadata_bytes() >=
              sizeof(ml_cap_block_t) + ML_CAPTURE_WAYS * sizeof(ml_cap_entry_t) +
                  ML_CAPTURE_WAYS_FIRST * sizeof(ml_cap_entry_t));
}

#if defined(__x86_64__) && defined(__linux__)
/* Both compares, the hit's branch-free one (ml_cap_same: its unrolled
 * compares, up to 28 groups of 4 singles or of 2 pairs) and the search's that leaves at the first change, see every noted
 * word whatever the counts, singles and pairs in any mix: a change of any
 * one word is seen, and of no other. */
static void test_capture_compare_sees_every_word(void **state) {
  (void)state;
  static uintptr_t stack[2 * ML_CAPTURE_WORDS] __attribute__((aligned(16)));
  static ml_cap_entry_t e;
  for (unsigned i = 0; i < 2 * ML_CAPTURE_WORDS; i++) stack[i] = 0x1000 + 7 * i;
  unsigned tried = 0;
  for (unsigned ns = 0; ns <= ML_CAPTURE_WORDS; ns += 4) {
    for (unsigned np = 0; ns + 2 * np <= ML_CAPTURE_WORDS; np += 2) {
      /* Singles at every other word from the top, pairs after them. */
      for (unsigned j = 0; j < ns; j++) {
        e.off[j] = (int32_t)(8 * (2 * j));
        e.val[j] = stack[2 * j];
      }
      for (unsigned k = 0; k < np; k++) {
        unsigned w = 2 * ns + 2 * k; /* the pair's first word */
        e.off[ML_CAP_POFF(k)] = (int32_t)(8 * w);
        e.val[ML_CAP_PVAL(k)] = stack[w];
        e.val[ML_CAP_PVAL(k) + 1] = stack[w + 1];
      }
      e.nsingles = (uint16_t)ns;
      e.npairs = (uint16_t)np;
      uintptr_t sp = (uintptr_t)stack;
      assert_true(ml_cap_words_same(&e, sp));
      assert_true(ml_cap_words_same_all(&e, sp));
      for (unsigned w = 0; w < 2 * ns + 2 * np; w++) {
        bool noted = w >= 2 * ns || w % 2 == 0;
        stack[w] ^= 1;
        if (ml_cap_words_same(&e, sp) == noted || ml_cap_words_same_all(&e, sp) == noted) {
          print_error("%u singles, %u pairs: a change of word %u %s\n", ns, np, w,
                      noted ? "was not seen" : "was seen (not noted)");
          fail();
        }
        stack[w] ^= 1;
        tried++;
      }
    }
  }
  assert_true(tried > 1000);
}
#endif

static void test_capture_cache_forgets_walks_when_objects_change(void **state) {
  (void)state;
  const char *dir = getenv("ML_BUILDDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/unit/.libs/ehframe_plugin.so", dir ? dir : ".");
  ml_unwind_modules_changed();
  ml_capture_stats_t s0, s1, s2;
  uint32_t id[4];
  const void *list = ml_eh_list_now();
  ml_capture_stats(&s0);
  void *h = ml_test_capture_rounds(id, path, &s1);
  ml_capture_stats(&s2);
  if (!h) skip();
  assert_ptr_not_equal(ml_eh_list_now(), list);
  assert_int_equal(s1.misses - s0.misses, 1);
  assert_int_equal(s1.hits - s0.hits, 1);
  assert_int_equal(s2.misses - s1.misses, 1); /* the list changed: walked again */
  assert_int_equal(s2.hits - s1.hits, 1);
  assert_int_not_equal(id[0], 0);
  for (size_t k = 1; k < 4; k++) assert_int_equal(id[k], id[0]);
  dlclose(h);
  ml_unwind_modules_changed();
}

#define ML_TEST(f) cmocka_unit_test_setup_teardown(f, ml_test_setup, ml_test_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      ML_TEST(test_track_init_sets_gate_and_options),
      ML_TEST(test_track_first_call_initialises_and_applies_threshold),
      ML_TEST(test_track_disabled_records_nothing),
      ML_TEST(test_track_alloc_records_block),
      ML_TEST(test_track_alloc_stack_ids_follow_call_sites),
      ML_TEST(test_track_free_removes_block),
      ML_TEST(test_track_take_put_back_leaves_counters_unchanged),
      ML_TEST(test_track_put_back_resized_counts_growth_as_allocated),
      ML_TEST(test_track_guard_set_records_nothing),
      ML_TEST(test_track_seq_increases_within_thread),
      ML_TEST(test_track_unwind_none_shares_empty_stack),
      ML_TEST(test_track_full_table_drops_and_counts),
      ML_TEST(test_track_preserves_errno),
      ML_TEST(test_track_preserves_errno_when_mapping_fails),
      ML_TEST(test_track_threads_free_each_others_blocks),
      ML_TEST(test_track_seq_unique_across_threads),
      ML_TEST(test_young_pair_on_one_thread_stays_in_its_cache),
      ML_TEST(test_young_full_set_moves_its_oldest_to_the_shared_tables),
      ML_TEST(test_young_record_away_from_home),
      ML_TEST(test_young_record_caught_moving_is_read_once),
      ML_TEST(test_young_record_caught_draining_is_read_once),
      ML_TEST(test_young_cross_thread_frees_race_moves),
      ML_TEST(test_young_snapshots_read_each_record_once_under_moves),
      ML_TEST(test_young_snapshots_read_each_record_once_under_growth),
      ML_TEST(test_young_free_finds_records_the_page_hint_does_not_name),
      ML_TEST(test_young_own_free_behind_another_threads_hint),
      ML_TEST(test_young_cache_given_back_goes_to_the_next_thread),
      ML_TEST(test_young_cache_sized_by_threshold),
      ML_TEST(test_young_cache_grows_when_it_moves_records_out),
      ML_TEST(test_young_cross_thread_frees_race_growth),
      ML_TEST(test_young_free_finds_record_moved_behind_its_search),
      ML_TEST(test_young_find_finds_record_evicted_behind_its_search),
      ML_TEST(test_young_drain_spreads_over_allocations_and_frees),
      ML_TEST(test_capture_cache_forgets_walks_when_objects_change),
      ML_TEST(test_capture_cache_answers_paths_in_turn),
#if defined(__x86_64__) && defined(__linux__)
      ML_TEST(test_capture_compare_sees_every_word),
#endif
  };
  return cmocka_run_group_tests_name("track", tests, ml_test_group_setup,
                                     ml_test_group_teardown);
}

/* SPDX-License-Identifier: MIT */
/*
 * test_unwind.c - unit tests for unwind.c/unwind.h: a known call chain
 * ml_test_unwind_a -> _b -> _c is captured by the libunwind and the
 * frame-pointer backends and named with dladdr (the chain is exported:
 * default visibility, and the binary is linked with -export-dynamic); the
 * two backends agree on the caller frames.  ml_unwind_capture, inlined into
 * c (or into a recursive r), starts at the right frame, drops the leading
 * frames inside the own range (set to one function's range, from dladdr1;
 * several frames when r recurses; never frames further down), then `skip`
 * more, and honours max; mode NONE captures nothing.  The frame-pointer walk
 * works on a thread (also with a small stack) and stops at its stack top,
 * and returns nothing on an alternate signal stack.  The chain functions
 * are noipa and store to a volatile after each call: no inlining, merging
 * or tail calls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unwind.h"

/* Exported (for dladdr), kept out of line and unmerged. */
#ifdef __clang__
#define ML_TEST_CHAIN __attribute__((noinline, visibility("default")))
#else
#define ML_TEST_CHAIN __attribute__((noipa, visibility("default")))
#endif

/* ---- the call chain ----------------------------------------------------- */

typedef enum ml_test_how_e {
  ML_TEST_LIBUNWIND,    // c calls ml_unwind_libunwind
  ML_TEST_FP,           // c calls ml_unwind_fp
  ML_TEST_CAPTURE,      // ml_unwind_capture inlined into c
  ML_TEST_CAPTURE_DEEP, // c -> r -> r -> r, ml_unwind_capture inlined into r
} ml_test_how_t;

static ml_test_how_t ml_test_how;
static ml_unwind_mode_t ml_test_mode;
static unsigned ml_test_skip;
static volatile unsigned ml_test_sink;
/* ml_unwind_capture's buffer, and where it said the kept frames start */
static uintptr_t ml_test_buf[ML_UNWIND_BUF_FRAMES];
static const uintptr_t *ml_test_kept;

/* Capture (inlined here) and copy the kept frames out. */
#define ML_TEST_CAPTURE_INTO(frames, max)                                                \
  __extension__({                                                                        \
    unsigned n_ = ml_unwind_capture(ml_test_mode, ml_test_buf, &ml_test_kept, (max), \
                                    ml_test_skip, 0);                                    \
    memcpy((frames), ml_test_kept, n_ * sizeof *(frames));                               \
    n_;                                                                                  \
  })

ML_TEST_CHAIN unsigned ml_test_unwind_r(uintptr_t *frames, unsigned max, unsigned depth) {
  unsigned n;
  if (depth)
    n = ml_test_unwind_r(frames, max, depth - 1);
  else
    n = ML_TEST_CAPTURE_INTO(frames, max);
  ml_test_sink = n; /* not a tail call */
  return n;
}

ML_TEST_CHAIN unsigned ml_test_unwind_c(uintptr_t *frames, unsigned max) {
  unsigned n;
  switch (ml_test_how) {
  case ML_TEST_LIBUNWIND: n = ml_unwind_libunwind(frames, max); break;
  case ML_TEST_FP: n = ml_unwind_fp(frames, max); break;
  case ML_TEST_CAPTURE: n = ML_TEST_CAPTURE_INTO(frames, max); break;
  default: n = ml_test_unwind_r(frames, max, 2); break;
  }
  ml_test_sink = n;
  return n;
}

ML_TEST_CHAIN unsigned ml_test_unwind_b(uintptr_t *frames, unsigned max) {
  unsigned n = ml_test_unwind_c(frames, max);
  ml_test_sink = n;
  return n;
}

ML_TEST_CHAIN unsigned ml_test_unwind_a(uintptr_t *frames, unsigned max) {
  unsigned n = ml_test_unwind_b(frames, max);
  ml_test_sink = n;
  return n;
}

/* Run the chain.  Not inlined, and not tail calls: the frames above a are
 * the same for every run from the same test. */
static __attribute__((noinline)) unsigned ml_test_run(ml_test_how_t how,
                                                      uintptr_t *frames, unsigned max) {
  unsigned n;
  ml_test_how = how;
  n = ml_test_unwind_a(frames, max);
  ml_test_sink = n;
  return n;
}

static __attribute__((noinline)) unsigned
ml_test_run_capture(ml_test_how_t how, ml_unwind_mode_t mode, unsigned skip,
                    uintptr_t *frames, unsigned max) {
  unsigned n;
  ml_test_mode = mode;
  ml_test_skip = skip;
  n = ml_test_run(how, frames, max);
  ml_test_sink = n;
  return n;
}

/* ---- helpers ------------------------------------------------------------ */

/* The exported symbol a return address lies in ("" when none). */
static const char *ml_test_sym(uintptr_t ret) {
  Dl_info info;
  /* ret - 1: inside the call instruction, in case the call ends a function */
  if (ret == 0 || dladdr((void *)(ret - 1), &info) == 0 || !info.dli_sname) return "";
  return info.dli_sname;
}

/* [*lo, *hi): the code of the exported function fn (dladdr1's symbol). */
static void ml_test_fn_range(void *fn, uintptr_t *lo, uintptr_t *hi) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  assert_int_not_equal(dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT), 0);
  assert_non_null(sym);
  assert_true(sym->st_size > 0);
  *lo = (uintptr_t)info.dli_saddr;
  *hi = *lo + sym->st_size;
  assert_int_equal(*lo, (uintptr_t)fn);
}

/* Index of the frame inside ml_test_unwind_c, checking that b and a follow
 * it.  Fails when the chain is not there. */
static unsigned ml_test_find_chain(const uintptr_t *frames, unsigned n) {
  for (unsigned i = 0; i + 2 < n; i++) {
    if (strcmp(ml_test_sym(frames[i]), "ml_test_unwind_c") != 0) continue;
    assert_string_equal(ml_test_sym(frames[i + 1]), "ml_test_unwind_b");
    assert_string_equal(ml_test_sym(frames[i + 2]), "ml_test_unwind_a");
    return i;
  }
  fail_msg("no ml_test_unwind_c/_b/_a chain in %u frames", n);
  return 0;
}

static int ml_test_setup(void **state) {
  (void)state;
  ml_unwind_set_own_range(0, 0);
  return 0;
}

static int ml_test_teardown(void **state) {
  (void)state;
  ml_unwind_set_own_range(0, 0);
  return 0;
}

/* ---- the backends ------------------------------------------------------- */

static void test_unwind_libunwind_sees_call_chain(void **state) {
  uintptr_t frames[64];
  unsigned n, i;

  (void)state;
  n = ml_test_run(ML_TEST_LIBUNWIND, frames, 64);
  assert_true(n >= 4);
  i = ml_test_find_chain(frames, n);
  /* frame 0 is the return into ml_unwind_libunwind, then c */
  assert_int_equal(i, 1);
  assert_true(frames[0] > (uintptr_t)ml_unwind_libunwind);

  /* max is honoured */
  memset(frames, 0, sizeof frames);
  assert_int_equal(ml_test_run(ML_TEST_LIBUNWIND, frames, 2), 2);
  assert_string_equal(ml_test_sym(frames[1]), "ml_test_unwind_c");
  assert_int_equal(frames[2], 0);
}

static void test_unwind_fp_sees_call_chain(void **state) {
  uintptr_t frames[128];
  unsigned n;

  (void)state;
  n = ml_test_run(ML_TEST_FP, frames, 128);
  assert_true(n >= 4);
  assert_true(n < 128); /* the walk ended at the stack's top */
  /* frame 0 is the return into c: the walk starts at its caller */
  assert_int_equal(ml_test_find_chain(frames, n), 0);

  memset(frames, 0, sizeof frames);
  assert_int_equal(ml_test_run(ML_TEST_FP, frames, 2), 2);
  assert_string_equal(ml_test_sym(frames[0]), "ml_test_unwind_c");
  assert_string_equal(ml_test_sym(frames[1]), "ml_test_unwind_b");
  assert_int_equal(frames[2], 0);
  assert_int_equal(ml_test_run(ML_TEST_FP, frames, 0), 0);
}

static void test_unwind_fp_and_libunwind_agree_on_callers(void **state) {
  uintptr_t lu[64], fp[64];
  unsigned nl, nf, il;

  (void)state;
  nl = ml_test_run(ML_TEST_LIBUNWIND, lu, 64);
  nf = ml_test_run(ML_TEST_FP, fp, 64);
  il = ml_test_find_chain(lu, nl);
  assert_int_equal(ml_test_find_chain(fp, nf), 0);
  /* b, a and ml_test_run: the same return addresses (c's differ: two call
   * sites) */
  assert_true(nl >= il + 4 && nf >= 4);
  for (unsigned k = 1; k < 4; k++)
    assert_int_equal(fp[k], lu[il + k]);
  assert_int_not_equal(fp[0], lu[il]);
}

/* ---- capture: own frames, skip, max, none ------------------------------- */

/* The capture inlined into c walks from c's own frame with fp: its first
 * frame is c's return address (in b); libunwind's starts with the return
 * into ml_unwind_libunwind, then c. */
static void test_unwind_capture_fp_starts_at_caller(void **state) {
  uintptr_t base[32], frames[32];
  unsigned n0, n;

  (void)state;
  n0 = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, 0, base, 32);
  assert_true(n0 >= 3);
  assert_string_equal(ml_test_sym(base[0]), "ml_test_unwind_b");
  assert_string_equal(ml_test_sym(base[1]), "ml_test_unwind_a");
  /* the kept frames are a slice of the caller's buffer */
  assert_ptr_equal(ml_test_kept, ml_test_buf);

  /* skip */
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, 1, frames, 32);
  assert_int_equal(n, n0 - 1);
  /* (frames past ml_test_run_capture's return differ: other call sites) */
  assert_memory_equal(frames, base + 1, 2 * sizeof *frames);
  assert_ptr_equal(ml_test_kept, ml_test_buf + 1);
  /* max counts kept frames, after the skip */
  memset(frames, 0, sizeof frames);
  assert_int_equal(ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, 1, frames, 1), 1);
  assert_int_equal(frames[0], base[1]);
  assert_int_equal(frames[1], 0);
  /* skipping everything leaves nothing */
  assert_int_equal(ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, n0, frames, 32), 0);
  assert_int_equal(ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, n0 + 5, frames, 32),
                   0);
}

static void test_unwind_capture_fp_drops_own_frames(void **state) {
  uintptr_t base[32], frames[32], lo, hi;
  unsigned n0, n;

  (void)state;
  n0 = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, 0, base, 32);

  /* own range = b: the leading frame goes */
  ml_test_fn_range((void *)ml_test_unwind_b, &lo, &hi);
  ml_unwind_set_own_range(lo, hi);
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, 0, frames, 32);
  assert_int_equal(n, n0 - 1);
  assert_string_equal(ml_test_sym(frames[0]), "ml_test_unwind_a");
  assert_memory_equal(frames, base + 1, 2 * sizeof *frames);
  /* then skip more */
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, 1, frames, 32);
  assert_int_equal(n, n0 - 2);
  assert_int_equal(frames[0], base[2]);

  /* own range = a: b leads and is kept, so a is kept too */
  ml_test_fn_range((void *)ml_test_unwind_a, &lo, &hi);
  ml_unwind_set_own_range(lo, hi);
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_FP, 0, frames, 32);
  assert_int_equal(n, n0);
  assert_memory_equal(frames, base, 3 * sizeof *frames);
}

static void test_unwind_capture_fp_drops_every_leading_own_frame(void **state) {
  uintptr_t base[32], frames[32], lo, hi;
  unsigned n0, n;

  (void)state;
  /* c -> r(2) -> r(1) -> r(0): the capture in r(0) sees r, r, c, b, a */
  n0 = ml_test_run_capture(ML_TEST_CAPTURE_DEEP, ML_UNWIND_FP, 0, base, 32);
  assert_true(n0 >= 5);
  assert_string_equal(ml_test_sym(base[0]), "ml_test_unwind_r");
  assert_string_equal(ml_test_sym(base[1]), "ml_test_unwind_r");
  assert_int_equal(ml_test_find_chain(base, n0), 2);

  ml_test_fn_range((void *)ml_test_unwind_r, &lo, &hi);
  ml_unwind_set_own_range(lo, hi);
  n = ml_test_run_capture(ML_TEST_CAPTURE_DEEP, ML_UNWIND_FP, 0, frames, 32);
  assert_int_equal(n, n0 - 2);
  assert_int_equal(ml_test_find_chain(frames, n), 0);
  assert_ptr_equal(ml_test_kept, ml_test_buf + 2);
  n = ml_test_run_capture(ML_TEST_CAPTURE_DEEP, ML_UNWIND_FP, 2, frames, 32);
  assert_int_equal(n, n0 - 4);
  assert_string_equal(ml_test_sym(frames[0]), "ml_test_unwind_a");
}

static void test_unwind_capture_libunwind_drops_own_frames(void **state) {
  uintptr_t base[32], frames[32], lo, hi;
  unsigned n0, n;

  (void)state;
  /* no own range: the return into ml_unwind_libunwind, then c, b, a */
  n0 = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_LIBUNWIND, 0, base, 32);
  assert_true(n0 >= 4);
  assert_int_equal(ml_test_find_chain(base, n0), 1);
  assert_true(base[0] > (uintptr_t)ml_unwind_libunwind &&
              base[0] - (uintptr_t)ml_unwind_libunwind < 256);

  /* own range = ml_unwind_libunwind (up to that return address) */
  ml_unwind_set_own_range((uintptr_t)ml_unwind_libunwind, base[0] + 1);
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_LIBUNWIND, 0, frames, 32);
  assert_int_equal(n, n0 - 1);
  assert_int_equal(ml_test_find_chain(frames, n), 0);
  assert_memory_equal(frames, base + 1, 3 * sizeof *frames);
  assert_ptr_equal(ml_test_kept, ml_test_buf + 1);

  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_LIBUNWIND, 1, frames, 32);
  assert_int_equal(n, n0 - 2);
  assert_string_equal(ml_test_sym(frames[0]), "ml_test_unwind_b");
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_LIBUNWIND, 2, frames, 32);
  assert_int_equal(n, n0 - 3);
  assert_string_equal(ml_test_sym(frames[0]), "ml_test_unwind_a");
  memset(frames, 0, sizeof frames);
  assert_int_equal(
      ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_LIBUNWIND, 2, frames, 1), 1);
  assert_int_equal(frames[0], base[3]);
  assert_int_equal(frames[1], 0);

  /* own range = b: not at the top, so nothing is dropped */
  ml_test_fn_range((void *)ml_test_unwind_b, &lo, &hi);
  ml_unwind_set_own_range(lo, hi);
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_LIBUNWIND, 0, frames, 32);
  assert_int_equal(n, n0);
  assert_int_equal(ml_test_find_chain(frames, n), 1);

  /* AUTO captures with eh, which starts in c's own frame (like fp): b, a
   * and on, without libunwind's two extra frames (in ml_unwind_libunwind
   * and in c). */
  ml_unwind_set_own_range(0, 0);
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_AUTO, 0, frames, 32);
  assert_int_equal(n, n0 - 2);
  assert_memory_equal(frames, base + 2, 2 * sizeof *frames);
  assert_string_equal(ml_test_sym(frames[0]), "ml_test_unwind_b");
  /* and libunwind's capture before libunwind is loaded is eh's too */
  int (*saved)(void **, int) = ml_unwind_unw_backtrace;
  ml_unwind_unw_backtrace = NULL;
  n = ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_LIBUNWIND, 0, frames, 32);
  ml_unwind_unw_backtrace = saved;
  assert_int_equal(n, n0 - 2);
  assert_string_equal(ml_test_sym(frames[0]), "ml_test_unwind_b");
}

static void test_unwind_capture_mode_none_returns_zero(void **state) {
  uintptr_t frames[8];

  (void)state;
  memset(ml_test_buf, 0xa5, sizeof ml_test_buf);
  assert_int_equal(ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_NONE, 0, frames, 8), 0);
  assert_int_equal(ml_test_run_capture(ML_TEST_CAPTURE, ML_UNWIND_NONE, 3, frames, 8), 0);
  /* nothing was walked into the buffer */
  for (size_t k = 0; k < sizeof ml_test_buf; k++)
    assert_int_equal(((unsigned char *)ml_test_buf)[k], 0xa5);
}

/* ---- threads and signal stacks ------------------------------------------ */

typedef struct ml_test_thread_s {
  ml_test_how_t how;
  uintptr_t frames[128];
  unsigned n, n_again;
} ml_test_thread_t;

ML_TEST_CHAIN void *ml_test_unwind_thread_main(void *arg) {
  ml_test_thread_t *t = arg;

  ml_test_how = t->how;
  t->n = ml_test_unwind_a(t->frames, 128);
  /* the bounds are learnt once per thread; a reset learns them again */
  ml_unwind_thread_reset();
  t->n_again = ml_test_unwind_a(t->frames, 128);
  ml_test_sink = t->n;
  return NULL;
}

static void ml_test_thread_chain(ml_test_how_t how, size_t stack_size) {
  ml_test_thread_t *t = calloc(1, sizeof *t);
  pthread_attr_t attr;
  pthread_t th;
  unsigned i;

  assert_non_null(t);
  t->how = how;
  pthread_attr_init(&attr);
  if (stack_size) assert_int_equal(pthread_attr_setstacksize(&attr, stack_size), 0);
  assert_int_equal(pthread_create(&th, &attr, ml_test_unwind_thread_main, t), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  pthread_attr_destroy(&attr);

  assert_true(t->n >= 4);
  assert_true(t->n < 128); /* stopped at the thread's stack top */
  assert_int_equal(t->n_again, t->n);
  i = ml_test_find_chain(t->frames, t->n);
  if (how == ML_TEST_FP) assert_int_equal(i, 0);
  assert_string_equal(ml_test_sym(t->frames[i + 3]), "ml_test_unwind_thread_main");
  free(t);
}

static void test_unwind_fp_on_thread_stops_at_stack_top(void **state) {
  (void)state;
  ml_test_thread_chain(ML_TEST_FP, 0);
  ml_test_thread_chain(ML_TEST_FP, 64 << 10);
}

static void test_unwind_libunwind_on_thread(void **state) {
  (void)state;
  ml_test_thread_chain(ML_TEST_LIBUNWIND, 0);
}

static unsigned ml_test_on_altstack_n = 12345;

static void ml_test_on_altstack(int sig) {
  uintptr_t frames[16];
  (void)sig;
  ml_test_on_altstack_n = ml_unwind_fp(frames, 16);
}

static void test_unwind_fp_on_alternate_signal_stack_returns_zero(void **state) {
  static char altstack[64 << 10] __attribute__((aligned(16)));
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack}, old_ss;
  struct sigaction sa, old_sa;
  uintptr_t frames[4];

  (void)state;
  /* learn this thread's bounds on its own stack first */
  assert_true(ml_test_run(ML_TEST_FP, frames, 4) > 0);
  assert_int_equal(sigaltstack(&ss, &old_ss), 0);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ml_test_on_altstack;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR1, &sa, &old_sa), 0);
  raise(SIGUSR1);
  sigaction(SIGUSR1, &old_sa, NULL);
  sigaltstack(&old_ss, NULL);
  assert_int_equal(ml_test_on_altstack_n, 0);
  /* and the thread's own stack still works afterwards */
  assert_true(ml_test_run(ML_TEST_FP, frames, 4) == 4);
}

/* ---- main --------------------------------------------------------------- */

#define ML_TEST(f) cmocka_unit_test_setup_teardown(f, ml_test_setup, ml_test_teardown)

int main(void) {
  /* libunwind is not linked in: loaded privately, as the library does. */
  if (!ml_unwind_load_libunwind()) {
    printf("1..0 # SKIP libunwind.so.8 cannot be loaded\n");
    return 0;
  }
  const struct CMUnitTest tests[] = {
      ML_TEST(test_unwind_libunwind_sees_call_chain),
      ML_TEST(test_unwind_fp_sees_call_chain),
      ML_TEST(test_unwind_fp_and_libunwind_agree_on_callers),
      ML_TEST(test_unwind_capture_fp_starts_at_caller),
      ML_TEST(test_unwind_capture_fp_drops_own_frames),
      ML_TEST(test_unwind_capture_fp_drops_every_leading_own_frame),
      ML_TEST(test_unwind_capture_libunwind_drops_own_frames),
      ML_TEST(test_unwind_capture_mode_none_returns_zero),
      ML_TEST(test_unwind_fp_on_thread_stops_at_stack_top),
      ML_TEST(test_unwind_libunwind_on_thread),
      ML_TEST(test_unwind_fp_on_alternate_signal_stack_returns_zero),
  };
  return cmocka_run_group_tests_name("unwind", tests, NULL, NULL);
}

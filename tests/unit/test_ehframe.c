/* SPDX-License-Identifier: MIT */
/*
 * test_ehframe.c - unit tests for the .eh_frame unwinder (ehframe.c) and
 * the walks' safety (unwind.c).  Built -O2 -fomit-frame-pointer, like the
 * binaries the eh walk is for.  Differential: at many points (deep chains
 * of frames of different shapes, tail calls, recursion, alloca frames whose
 * CFA is rbp-based beneath frames that use rbp as a general register, a
 * timer signal interrupting code at arbitrary instructions, longjmp, a C++
 * exception's cleanups and catch (ehframe_cxx.cc), threads, a plugin
 * loaded, unloaded and loaded again) the eh walk and libunwind's
 * unw_backtrace (loaded privately) must agree frame for frame from the
 * comparing function's caller down to the end of the stack.  Safety: the
 * fp walk with %rbp = -8, -16 or garbage (directly and through a forged
 * frame) returns; the eh walk fed random pcs (inside loaded objects and
 * anywhere) and random registers returns; on an alternate signal stack it
 * walks nothing.  Also the one list of mode names.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <alloca.h>
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>

#include "options.h"
#include "unwind.h"

#ifdef __clang__
#define ML_T_NOIPA __attribute__((noinline, visibility("default")))
#else
#define ML_T_NOIPA __attribute__((noipa, visibility("default")))
#endif

/* ---- the comparison ------------------------------------------------------- */

static _Atomic unsigned ml_t_compared, ml_t_failed, ml_t_frames;
static char ml_t_failure[512]; /* the first mismatch, described */
static _Atomic int ml_t_failure_taken;
static bool ml_t_have_libunwind;

static void ml_t_describe(const char *what, const uintptr_t *e, unsigned ne, const uintptr_t *l,
                          unsigned nl, unsigned at) {
  if (atomic_exchange(&ml_t_failure_taken, 1)) return;
  int k = snprintf(ml_t_failure, sizeof ml_t_failure, "%s at %u: eh %u frames, libunwind %u:",
                   what, at, ne, nl);
  for (unsigned i = at > 2 ? at - 2 : 0; i < at + 3 && k > 0 && (size_t)k < sizeof ml_t_failure;
       i++)
    k += snprintf(ml_t_failure + k, sizeof ml_t_failure - (size_t)k, " [%u] %#lx/%#lx", i,
                  i < ne ? (unsigned long)e[i] : 0UL, i < nl ? (unsigned long)l[i] : 0UL);
}

/* Walk with both and compare from this function's return address on.  Not
 * an assertion: it may run in a signal handler or a thread; the tests check
 * the counters. */
ML_T_NOIPA void ml_t_compare_here(void) {
  uintptr_t e[140], l[140];
  unsigned ne = ml_eh_backtrace(e, 128);
  unsigned nl = ml_unwind_libunwind(l, 128);
  uintptr_t me = (uintptr_t)__builtin_return_address(0);
  unsigned ie = 0, il = 0;
  while (ie < ne && ie < 4 && e[ie] != me) ie++;
  while (il < nl && il < 6 && l[il] != me) il++;
  atomic_fetch_add(&ml_t_compared, 1);
  if (ie == ne || ie == 4 || il == nl || il == 6) {
    atomic_fetch_add(&ml_t_failed, 1);
    ml_t_describe("caller not found", e, ne, l, nl, 0);
    return;
  }
  unsigned me_n = ne - ie, ml_n = nl - il;
  for (unsigned i = 0; i < me_n && i < ml_n; i++)
    if (e[ie + i] != l[il + i]) {
      atomic_fetch_add(&ml_t_failed, 1);
      ml_t_describe("frames differ", e + ie, me_n, l + il, ml_n, i);
      return;
    }
  if (me_n != ml_n && ne < 128 && nl < 128) {
    atomic_fetch_add(&ml_t_failed, 1);
    ml_t_describe("lengths differ", e + ie, me_n, l + il, ml_n, me_n < ml_n ? me_n : ml_n);
    return;
  }
  atomic_fetch_add(&ml_t_frames, me_n);
}

static void ml_t_reset(void) {
  atomic_store(&ml_t_compared, 0);
  atomic_store(&ml_t_failed, 0);
  atomic_store(&ml_t_frames, 0);
  atomic_store(&ml_t_failure_taken, 0);
  ml_t_failure[0] = 0;
}

#define ML_T_EXPECT_AGREEMENT(min_compared)                                                \
  do {                                                                                     \
    if (atomic_load(&ml_t_failed))                                                         \
      fail_msg("%u of %u stacks differ; first: %s", atomic_load(&ml_t_failed),             \
               atomic_load(&ml_t_compared), ml_t_failure);                                 \
    print_message("compared %u stacks, %u frames\n", atomic_load(&ml_t_compared),         \
                  atomic_load(&ml_t_frames));                                              \
    assert_true(atomic_load(&ml_t_compared) >= (min_compared));                            \
  } while (0)

#define ML_T_NEED_LIBUNWIND()                                                              \
  do {                                                                                     \
    if (!ml_t_have_libunwind) skip();                                                      \
  } while (0)

/* ---- call chains of different shapes ------------------------------------- */

static volatile unsigned ml_t_sink;
static unsigned ml_t_every = 1;

ML_T_NOIPA unsigned ml_t_rec(unsigned d);

/* A big frame (sub $N, %rsp; CFA rsp-based with a large offset). */
ML_T_NOIPA unsigned ml_t_big(unsigned d) {
  volatile char buf[9000];
  buf[d % sizeof buf] = (char)d;
  unsigned r = ml_t_rec(d - 1);
  return r + buf[(d * 7) % sizeof buf];
}

/* alloca: the compiler keeps a frame pointer here, CFA = rbp + 16. */
ML_T_NOIPA unsigned ml_t_dyn(unsigned d) {
  volatile char *p = alloca(16 + (d % 13) * 24);
  p[0] = (char)d;
  unsigned r = ml_t_rec(d - 1);
  return r + p[0];
}

/* Many values live across the call: every callee-saved register, rbp
 * included (as a general register), is pushed and restored. */
ML_T_NOIPA unsigned ml_t_regs(unsigned d) {
  unsigned a = ml_t_sink * 3, b = ml_t_sink ^ 5, c = ml_t_sink + d, e = ml_t_sink * d,
           f = ml_t_sink - d, g = ml_t_sink | 9, h = ml_t_sink & 0x55;
  unsigned r = ml_t_rec(d - 1);
  return r + a + b * c + e * f + g * h + (a ^ e) + (b ^ f) + (c ^ g) + (d ^ h);
}

/* A tail call: this frame is gone when the callee runs (both must agree). */
ML_T_NOIPA unsigned ml_t_tail(unsigned d) {
  ml_t_sink = d;
  return ml_t_rec(d - 1);
}

ML_T_NOIPA unsigned ml_t_rec(unsigned d) {
  if (d % ml_t_every == 0) ml_t_compare_here();
  if (d == 0) return 0;
  unsigned r;
  switch (d % 5) {
  case 0: r = ml_t_big(d); break;
  case 1: r = ml_t_dyn(d); break;
  case 2: r = ml_t_regs(d); break;
  case 3: return ml_t_tail(d);
  default: r = ml_t_rec(d - 1); break;
  }
  __asm__ __volatile__("" : : : "memory"); /* not a tail call */
  return r + 1;
}

static void test_ehframe_agrees_with_libunwind_on_chains(void **state) {
  (void)state;
  ML_T_NEED_LIBUNWIND();
  ml_t_reset();
  ml_t_every = 1;
  for (unsigned depth = 1; depth < 140; depth += 7) (void)ml_t_rec(depth);
  /* the same stacks again: now from the rule cache */
  for (unsigned depth = 1; depth < 140; depth += 7) (void)ml_t_rec(depth);
  ML_T_EXPECT_AGREEMENT(1000);
  assert_true(atomic_load(&ml_t_frames) > 10000);
}

/* ---- threads -------------------------------------------------------------- */

ML_T_NOIPA void *ml_t_thread(void *arg) {
  for (unsigned i = 0; i < 30; i++) (void)ml_t_rec((unsigned)(uintptr_t)arg + i);
  return NULL;
}

static void test_ehframe_agrees_with_libunwind_on_threads(void **state) {
  (void)state;
  ML_T_NEED_LIBUNWIND();
  ml_t_reset();
  ml_t_every = 3;
  pthread_t th[3];
  for (uintptr_t i = 0; i < 3; i++)
    assert_int_equal(pthread_create(&th[i], NULL, ml_t_thread, (void *)(10 + 20 * i)), 0);
  for (unsigned i = 0; i < 3; i++) pthread_join(th[i], NULL);
  ML_T_EXPECT_AGREEMENT(300);
}

/* ---- signals: the handler's stack runs through __restore_rt --------------- */

static volatile sig_atomic_t ml_t_in_loop;

static void ml_t_on_timer(int sig) {
  (void)sig;
  if (ml_t_in_loop) ml_t_compare_here();
}

/* Busy code the timer interrupts at arbitrary instructions (prologues,
 * epilogues, loop bodies). */
ML_T_NOIPA unsigned ml_t_busy(unsigned d, unsigned n) {
  unsigned acc = 0;
  for (unsigned i = 0; i < n; i++) acc += (acc << 3) ^ (i * 2654435761u);
  if (d == 0) return acc;
  unsigned r = (d & 1) ? ml_t_busy(d - 1, n) : ml_t_regs(1) + ml_t_busy(d - 1, n + 1);
  __asm__ __volatile__("" : : : "memory");
  return r + acc;
}

static void test_ehframe_agrees_with_libunwind_through_signal_frames(void **state) {
  (void)state;
  ML_T_NEED_LIBUNWIND();
  ml_t_reset();
  ml_t_every = 1000000; /* ml_t_regs(1) compares at rec(0); the handler too */
  struct sigaction sa = {0}, old;
  sa.sa_handler = ml_t_on_timer;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  assert_int_equal(sigaction(SIGPROF, &sa, &old), 0);
  struct itimerval it = {{0, 200}, {0, 200}}, off = {{0, 0}, {0, 0}};
  ml_t_in_loop = 1;
  setitimer(ITIMER_PROF, &it, NULL);
  for (unsigned round = 0; atomic_load(&ml_t_compared) < 2000 && round < 200000; round++)
    ml_t_sink = ml_t_busy(12 + round % 9, 50 + round % 300);
  ml_t_in_loop = 0;
  setitimer(ITIMER_PROF, &off, NULL);
  sigaction(SIGPROF, &old, NULL);
  ML_T_EXPECT_AGREEMENT(500);
}

/* A handler on the thread's own stack, raised from deep code. */
static void ml_t_on_usr1(int sig) {
  (void)sig;
  ml_t_compare_here();
}

static void test_ehframe_agrees_with_libunwind_in_raised_signal(void **state) {
  (void)state;
  ML_T_NEED_LIBUNWIND();
  ml_t_reset();
  struct sigaction sa = {0}, old;
  sa.sa_handler = ml_t_on_usr1;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  for (unsigned i = 0; i < 20; i++) raise(SIGUSR1);
  sigaction(SIGUSR1, &old, NULL);
  ML_T_EXPECT_AGREEMENT(20);
}

/* ---- longjmp ---------------------------------------------------------------- */

static jmp_buf ml_t_jmp;

ML_T_NOIPA unsigned ml_t_jump_down(unsigned d) {
  if (d == 0) {
    ml_t_compare_here();
    if (ml_t_sink != 0xdead) longjmp(ml_t_jmp, 1);
    return 0;
  }
  unsigned r = ml_t_jump_down(d - 1);
  __asm__ __volatile__("" : : : "memory");
  return r + 1;
}

static void test_ehframe_agrees_with_libunwind_after_longjmp(void **state) {
  (void)state;
  ML_T_NEED_LIBUNWIND();
  ml_t_reset();
  ml_t_every = 4;
  for (volatile unsigned i = 0; i < 20; i++) {
    if (setjmp(ml_t_jmp) == 0) ml_t_jump_down(10 + i);
    ml_t_compare_here();
    (void)ml_t_rec(15);
  }
  ML_T_EXPECT_AGREEMENT(60);
}

/* ---- C++ exceptions (ehframe_cxx.cc) ---------------------------------------- */

int ml_t_cxx_exception_path(int depth);

static void test_ehframe_agrees_with_libunwind_on_exception_path(void **state) {
  (void)state;
  ML_T_NEED_LIBUNWIND();
  ml_t_reset();
  for (int i = 1; i < 12; i++) assert_int_equal(ml_t_cxx_exception_path(i), 42);
  ML_T_EXPECT_AGREEMENT(40);
}

/* ---- a plugin, loaded, unloaded, loaded again ------------------------------ */

static void ml_t_plugin_round(const char *path, bool refresh) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(h);
  if (refresh) ml_unwind_modules_changed(); /* what the dlopen hook does */
  unsigned (*run)(unsigned, void (*)(void)) =
      (unsigned (*)(unsigned, void (*)(void)))dlsym(h, "ml_t_plugin_run");
  assert_non_null(run);
  for (unsigned d = 1; d < 20; d += 3) (void)run(d, ml_t_compare_here);
  assert_int_equal(dlclose(h), 0);
  if (refresh) ml_unwind_modules_changed();
}

static void test_ehframe_follows_dlopen_and_dlclose(void **state) {
  (void)state;
  ML_T_NEED_LIBUNWIND();
  const char *dir = getenv("ML_BUILDDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/unit/.libs/ehframe_plugin.so", dir ? dir : ".");
  void *probe = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!probe) skip();
  dlclose(probe);
  ml_unwind_modules_changed();
  unsigned before = ml_eh_module_count();
  ml_t_reset();
  ml_t_plugin_round(path, true);
  ml_t_plugin_round(path, true);
  ML_T_EXPECT_AGREEMENT(14);
  assert_int_equal(ml_eh_module_count(), before);
  /* Not refreshed: the walk ends at the plugin's first frame (no rescan
   * from a walk), it never reads the unknown object. */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  assert_non_null(h);
  unsigned (*probe_run)(unsigned, void (*)(void)) =
      (unsigned (*)(unsigned, void (*)(void)))dlsym(h, "ml_t_plugin_run");
  ml_t_reset();
  (void)probe_run(3, ml_t_compare_here);
  assert_true(atomic_load(&ml_t_failed) > 0); /* cut short, as documented */
  dlclose(h);
  ml_unwind_modules_changed();
}

/* ---- safety ------------------------------------------------------------------ */

static void test_unwind_fp_survives_wrapping_frame_pointers(void **state) {
  (void)state;
  uintptr_t frames[64];
  const uintptr_t bad[] = {(uintptr_t)-8,  (uintptr_t)-16, (uintptr_t)-1,
                           (uintptr_t)-24, 8,              0x10,
                           0xdeadbeefcafef00dULL,
                           (uintptr_t)1 << 47};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    (void)ml_unwind_fp_from(bad[i], frames, 64);
    /* A forged frame on our stack whose saved frame pointer is bad[i]: the
     * walk steps to it and must stop there. */
    volatile uintptr_t forged[4] = {bad[i], 0x401000, 0, 0};
    unsigned n = ml_unwind_fp_from((uintptr_t)forged, frames, 64);
    assert_true(n <= 1);
  }
}

typedef struct ml_t_range_s {
  uintptr_t lo, hi;
} ml_t_range_t;

static int ml_t_text_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  ml_t_range_t *r = arg;
  for (unsigned i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      while (r->hi) r++;
      r->lo = info->dlpi_addr + ph->p_vaddr;
      r->hi = r->lo + ph->p_memsz;
      if (r[1].lo == 1) return 1; /* full */
    }
  }
  return 0;
}

static uint64_t ml_t_rand_state = 88172645463325252ULL;
static uint64_t ml_t_rand(void) {
  uint64_t x = ml_t_rand_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return ml_t_rand_state = x;
}

ML_T_NOIPA void ml_t_torture(const ml_t_range_t *r, unsigned nr, unsigned rounds) {
  uintptr_t frames[128];
  volatile uintptr_t here = 0;
  uintptr_t sp0 = (uintptr_t)&here;
  for (unsigned i = 0; i < rounds; i++) {
    uint64_t x = ml_t_rand();
    uintptr_t pc, sp, fp;
    const ml_t_range_t *t = &r[x % nr];
    switch ((x >> 8) % 4) {
    case 0: pc = ml_t_rand(); break;
    default: pc = t->lo + ml_t_rand() % (t->hi - t->lo); break;
    }
    switch ((x >> 16) % 5) {
    case 0: sp = ml_t_rand(); break;
    case 1: sp = sp0 + (ml_t_rand() % 65536); break;
    case 2: sp = sp0 - (ml_t_rand() % 65536); break;
    case 3: sp = (uintptr_t)-8 - (ml_t_rand() % 64); break;
    default: sp = sp0 + 8 * (ml_t_rand() % 512); break;
    }
    switch ((x >> 24) % 5) {
    case 0: fp = ml_t_rand(); break;
    case 1: fp = (uintptr_t)-8; break;
    case 2: fp = (uintptr_t)-16; break;
    case 3: fp = sp0 + (ml_t_rand() % 4096); break;
    default: fp = 0; break;
    }
    ml_t_sink += ml_eh_walk(pc, sp, fp, frames, 128);
  }
}

static void test_ehframe_random_pcs_and_registers_never_fault(void **state) {
  (void)state;
  ml_t_range_t r[257];
  memset(r, 0, sizeof r);
  r[256].lo = 1; /* sentinel */
  dl_iterate_phdr(ml_t_text_cb, r);
  unsigned nr = 0;
  while (nr < 256 && r[nr].hi) nr++;
  assert_true(nr > 2);
  /* Scribble over a stack region the walk may read, then walk. */
  volatile uintptr_t junk[2048];
  for (unsigned i = 0; i < 2048; i++)
    junk[i] = (i & 1) ? r[i % nr].lo + ml_t_rand() % (r[i % nr].hi - r[i % nr].lo) : ml_t_rand();
  ml_t_torture(r, nr, 200000);
  ml_t_sink += (unsigned)junk[0];
}

static void ml_t_on_altstack(int sig) {
  (void)sig;
  uintptr_t frames[32];
  ml_t_sink = ml_eh_backtrace(frames, 32) + 1000;
}

static void test_ehframe_on_alternate_signal_stack_walks_nothing(void **state) {
  (void)state;
  static char alt[65536];
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt}, oss;
  assert_int_equal(sigaltstack(&ss, &oss), 0);
  struct sigaction sa = {0}, old;
  sa.sa_handler = ml_t_on_altstack;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR2, &sa, &old);
  ml_t_sink = 0;
  raise(SIGUSR2);
  sigaction(SIGUSR2, &old, NULL);
  sigaltstack(&oss, NULL);
  assert_int_equal(ml_t_sink, 1000);
}

static void test_ehframe_walks_without_libunwind(void **state) {
  (void)state;
  uintptr_t frames[64];
  unsigned n = ml_eh_backtrace(frames, 64);
  assert_true(n >= 3); /* this test, cmocka, main, ... */
  assert_true(ml_eh_module_count() >= 3);
}

/* ---- mode names ------------------------------------------------------------ */

static void test_unwind_mode_names_are_one_list(void **state) {
  (void)state;
  assert_string_equal(ml_unwind_mode_name(ML_UNWIND_AUTO), "auto");
  assert_string_equal(ml_unwind_mode_name(ML_UNWIND_LIBUNWIND), "libunwind");
  assert_string_equal(ml_unwind_mode_name(ML_UNWIND_FP), "fp");
  assert_string_equal(ml_unwind_mode_name(ML_UNWIND_NONE), "none");
  assert_string_equal(ml_unwind_mode_name(ML_UNWIND_SHADOW), "shadow");
  assert_string_equal(ml_unwind_mode_name(ML_UNWIND_EH), "eh");
  assert_string_equal(ml_unwind_mode_name(ML_UNWIND_MODE_COUNT), "?");
  /* the option accepts exactly these, at these indexes */
  for (int m = 0; m < ML_UNWIND_MODE_COUNT; m++) {
    long long v = -1;
    assert_int_equal(ml_parse_enum(ml_unwind_mode_name((ml_unwind_mode_t)m),
                                   ml_opt_desc[ML_OPT_UNWIND].values, &v), 0);
    assert_int_equal(v, m);
  }
}

int main(void) {
  ml_unwind_modules_changed(); /* what the constructor does */
  ml_t_have_libunwind = ml_unwind_load_libunwind();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unwind_mode_names_are_one_list),
      cmocka_unit_test(test_ehframe_walks_without_libunwind),
      cmocka_unit_test(test_ehframe_agrees_with_libunwind_on_chains),
      cmocka_unit_test(test_ehframe_agrees_with_libunwind_on_threads),
      cmocka_unit_test(test_ehframe_agrees_with_libunwind_through_signal_frames),
      cmocka_unit_test(test_ehframe_agrees_with_libunwind_in_raised_signal),
      cmocka_unit_test(test_ehframe_agrees_with_libunwind_after_longjmp),
      cmocka_unit_test(test_ehframe_agrees_with_libunwind_on_exception_path),
      cmocka_unit_test(test_ehframe_follows_dlopen_and_dlclose),
      cmocka_unit_test(test_unwind_fp_survives_wrapping_frame_pointers),
      cmocka_unit_test(test_ehframe_random_pcs_and_registers_never_fault),
      cmocka_unit_test(test_ehframe_on_alternate_signal_stack_walks_nothing),
  };
  return cmocka_run_group_tests_name("ehframe", tests, NULL, NULL);
}

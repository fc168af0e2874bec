/* SPDX-License-Identifier: MIT */
/*
 * prog_capcache.c - stacks that look alike to a cheap cache key, for the
 * per-thread capture cache (capture.h).  Built -O2 without frame pointers
 * (prog_capcache), and with them (prog_capcache_fp, CAPCACHE_FP: %rbp is
 * the frame pointer there, so rbp_a and rbp_b keep their counter in an
 * ordinary register).
 * Every block is leaked from a known path, and the paths come in pairs
 * that reach malloc at the same stack pointer, through the same innermost
 * frames, differing only further out:
 *   near_a / near_b   the second frame differs (same frame sizes);
 *   far_a / far_b     only the fourth frame differs;
 *   deep_a / deep_b   only a frame below 20 identical ones differs;
 *   vdeep_a / vdeep_b only a frame below VDEEP identical ones differs, and
 *   vdeep_c / vdeep_d below VDEEP + 1, and vdeep_a and vdeep_c each from
 *                     a second call site (one word differs, in an odd- or
 *                     an even-numbered compare): run alone
 *                     with "deep", under MEMLEDGER_MAX_FRAMES=128, more
 *                     words than the cache's unrolled compares take (64
 *                     singles, 32 pairs), fewer than it notes (112);
 *   rbp_a / rbp_b     the frames keep a loop counter in %rbp, and a frame
 *                     whose CFA is found through %rbp (alloca) sits above;
 *   jump              a longjmp out of a deeper allocation, then the same
 *                     stack pointer again from another path;
 *   thread_a/b        the same on a second thread;
 *   far_a, deep_a and deep2 (one frame deeper than deep_a) from a second
 *                     call site too: one word differs, in an odd- or an
 *                     even-numbered compare.
 * Prints "done"; the test compares the report's blocks per path.
 */
#include <alloca.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 400
#define SIZE 4096
#define NOINLINE __attribute__((noinline, noclone))
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory") /* no tail call */

static void *volatile sink[16 * N];

#ifdef CAPCACHE_FP
#define CAPCACHE_COUNTER(v) unsigned long v
#else
#define CAPCACHE_COUNTER(v) register unsigned long v __asm__("rbp")
#endif
static unsigned nsink;
static void keep(void *p) { sink[nsink++ % (16 * N)] = p; }

NOINLINE static void *leaf(size_t n) {
  void *p = malloc(n);
  KEEP(p);
  return p;
}

/* Same frame size: only the return address into them differs.  (A
 * different store in each, or the compiler folds identical functions.) */
static volatile int path;
NOINLINE static void *near_a(size_t n) { path = 1; void *p = leaf(n); KEEP(p); return p; }
NOINLINE static void *near_b(size_t n) { path = 2; void *p = leaf(n); KEEP(p); return p; }

NOINLINE static void *mid2(size_t n) { void *p = leaf(n); KEEP(p); return p; }
NOINLINE static void *mid1(size_t n) { void *p = mid2(n); KEEP(p); return p; }
NOINLINE static void *far_a(size_t n) { path = 3; void *p = mid1(n); KEEP(p); return p; }
NOINLINE static void *far_b(size_t n) { path = 4; void *p = mid1(n); KEEP(p); return p; }

NOINLINE static void *chain(unsigned d, size_t n) {
  void *p = d ? chain(d - 1, n) : leaf(n);
  KEEP(p);
  return p;
}
NOINLINE static void *deep_a(size_t n) { path = 5; void *p = chain(20, n); KEEP(p); return p; }
NOINLINE static void *deep_b(size_t n) { path = 6; void *p = chain(20, n); KEEP(p); return p; }
NOINLINE static void *deep2(size_t n) { path = 13; void *p = chain(21, n); KEEP(p); return p; }
#ifdef CAPCACHE_FP
#define VDEEP 45 /* two words a frame: a saved %rbp and a return address */
#else
#define VDEEP 80 /* one: a return address */
#endif
NOINLINE static void *vdeep_a(size_t n) { path = 9; void *p = chain(VDEEP, n); KEEP(p); return p; }
NOINLINE static void *vdeep_b(size_t n) { path = 10; void *p = chain(VDEEP, n); KEEP(p); return p; }
NOINLINE static void *vdeep_c(size_t n) { path = 11; void *p = chain(VDEEP + 1, n); KEEP(p); return p; }
NOINLINE static void *vdeep_d(size_t n) { path = 12; void *p = chain(VDEEP + 1, n); KEEP(p); return p; }

/* A frame whose CFA is found through %rbp (alloca), between the leaf and
 * frames that keep a counter in %rbp. */
NOINLINE static void *framed(size_t n, size_t pad) {
  char *x = alloca(pad);
  memset(x, 0, pad);
  KEEP(x);
  void *p = leaf(n);
  KEEP(p);
  return p;
}
NOINLINE static void rbp_a(void) {
  path = 7;
  CAPCACHE_COUNTER(i);
  for (i = 0; i < N; i++) {
    __asm__ volatile("" : "+r"(i));
    keep(framed(SIZE, 64));
  }
}
NOINLINE static void rbp_b(void) {
  path = 8;
  CAPCACHE_COUNTER(i);
  for (i = 0; i < N; i++) {
    __asm__ volatile("" : "+r"(i));
    keep(framed(SIZE, 64));
  }
}

static jmp_buf jb;
NOINLINE static void jump_deep(void) {
  keep(chain(3, SIZE));
  longjmp(jb, 1);
}
NOINLINE static void *jump_other(size_t n) { void *p = chain(3, n); KEEP(p); return p; }

static void *thread_main(void *arg) {
  (void)arg;
  for (int i = 0; i < N; i++) {
    keep(near_a(SIZE));
    keep(near_b(SIZE));
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "deep") == 0) {
    for (int i = 0; i < N; i++) {
      keep(vdeep_a(SIZE));
      keep(vdeep_b(SIZE));
      keep(vdeep_c(SIZE));
      keep(vdeep_d(SIZE));
      /* and two call sites of one path: one word differs (the return
       * address into main), in an odd- or even-numbered compare */
      keep(vdeep_a(SIZE));
      keep(vdeep_c(SIZE));
    }
    puts("done");
    return 0;
  }
  for (int i = 0; i < N; i++) {
    keep(near_a(SIZE));
    keep(near_b(SIZE));
    keep(far_a(SIZE));
    keep(far_b(SIZE));
    keep(deep_a(SIZE));
    keep(deep_b(SIZE));
    /* two call sites of one path: only the return address into main
     * differs, at three depths */
    keep(far_a(SIZE));
    keep(deep_a(SIZE));
    keep(deep2(SIZE));
    keep(deep2(SIZE));
  }
  rbp_a();
  rbp_b();
  for (int i = 0; i < N; i++) {
    if (!setjmp(jb)) jump_deep();
    keep(jump_other(SIZE));
  }
  pthread_t t;
  if (pthread_create(&t, NULL, thread_main, NULL) == 0) pthread_join(t, NULL);
  puts("done");
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * prog_leaks.c - known leaks from distinct stacks, for exact_counts.sh.
 *
 *   leak_f1  3 x malloc(4096)                          12288 bytes, one stack
 *   leak_f2  2 x calloc(2, 1000)                        4000 bytes, one stack
 *   leak_f3  malloc(500) -> realloc 2000 -> realloc 100000
 *                                                     100000 bytes (stack of
 *                                                     the last realloc)
 *   leak_f4  aligned_alloc(64, 8192)                    8192 bytes
 *   leak_shrunk malloc(6000) -> realloc 203: below the threshold at the end
 *   leak_small 50 x malloc(100)      below the default threshold (omitted
 *                                    with the argument "nosmall")
 * Tracked blocks that are freed: 3000 and 50000 (the latter freed by another
 * thread), a calloc'ed 9000, a realloc chain ending in free, a 1500-byte
 * block of another thread freed by the main thread, an aligned 16384 block.
 * Default threshold: 7 blocks, 124480 bytes, 4 stacks.
 * Output through write(2) only: no stdio buffer is allocated.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;
/* Loop counts the compiler cannot see: an unrolled loop would give each
 * iteration a call site (and a stack) of its own. */
static volatile int three = 3, two = 2, fifty = 50;
static void *keep(void *p) {
  sink = p;
  return p;
}

__attribute__((noinline)) static void leak_f1(void) {
  for (int i = 0; i < three; i++) memset(keep(malloc(4096)), 1, 4096);
}

__attribute__((noinline)) static void leak_f2(void) {
  for (int i = 0; i < two; i++) ((char *)keep(calloc(2, 1000)))[10] = 1;
}

__attribute__((noinline)) static void leak_f3(void) {
  char *p = keep(malloc(500));
  p = keep(realloc(p, 2000));
  p[1999] = 1;
  p = keep(realloc(p, 100000));
  p[99999] = 1;
}

__attribute__((noinline)) static void leak_f4(void) {
  memset(keep(aligned_alloc(64, 8192)), 2, 8192);
}

/* tracked, then shrunk below the threshold by realloc: no longer tracked */
__attribute__((noinline)) static void leak_shrunk(void) {
  char *p = keep(malloc(6000));
  p[0] = 1;
  p = keep(realloc(p, 203));
  p[202] = 1;
}

__attribute__((noinline)) static void leak_small(void) {
  for (int i = 0; i < fifty; i++) ((char *)keep(malloc(100)))[0] = (char)i;
}

static void *free_it(void *p) {
  free(p);
  return NULL;
}

static void *alloc_it(void *arg) {
  (void)arg;
  char *p = keep(malloc(1500));
  p[0] = 1;
  return p;
}

__attribute__((noinline)) static void no_leaks(void) {
  char *a = keep(malloc(3000));
  a[0] = 1;
  free(a);

  /* allocated here, freed by another thread */
  char *b = keep(malloc(50000));
  b[0] = 1;
  pthread_t t;
  if (pthread_create(&t, NULL, free_it, b) != 0) _exit(3);
  pthread_join(t, NULL);

  /* allocated by another thread, freed here */
  void *c = NULL;
  if (pthread_create(&t, NULL, alloc_it, NULL) != 0) _exit(3);
  pthread_join(t, &c);
  free(c);

  char *d = keep(calloc(9, 1000));
  free(d);

  char *e = keep(malloc(1200));
  e = keep(realloc(e, 30000));
  e = keep(realloc(e, 1100));
  free(e);

  void *f = NULL;
  if (posix_memalign(&f, 256, 16384) != 0) _exit(3);
  free(keep(f));

  char *g = keep(malloc(2048)); /* freed through realloc(p, 0) */
  g = realloc(g, 0);
  (void)g;
}

int main(int argc, char **argv) {
  int small = !(argc > 1 && strcmp(argv[1], "nosmall") == 0);
  no_leaks();
  leak_f1();
  leak_f2();
  leak_f3();
  leak_f4();
  leak_shrunk();
  if (small) leak_small();
  sink = NULL;
  static const char msg[] = "prog_leaks: done\n";
  (void)!write(1, msg, sizeof msg - 1);
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * prog_dliter.c - the loader-lock deadlock of an unwinder that calls
 * dl_iterate_phdr on the allocation path (libunwind does): thread A walks
 * the loaded objects with dl_iterate_phdr and, inside the callback (the
 * loader's lock held), makes tracked allocations (4 KiB) and sleeps a
 * little; thread B makes tracked allocations all the while.  With such an
 * unwinder, B waits for the loader's lock inside the unwinder while holding
 * the unwinder's own lock, and A's allocation waits for that: a hang.
 * Both allocate through a few bytes of code in an anonymous mapping (an
 * address in no object, as JIT code is), so that every walk reaches a frame
 * the unwinder has no cached rule for: libunwind then searches the objects
 * (dl_iterate_phdr) each time, holding its own cache lock.  Prints "done 1"
 * and exits 0 when both threads finish.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static atomic_int stop;
static volatile char sink;

static void nap(long ns) {
  struct timespec ts = {0, ns};
  nanosleep(&ts, NULL);
}

/* sub $8,%rsp; call *%rdi; add $8,%rsp; ret */
static const unsigned char thunk_code[] = {0x48, 0x83, 0xec, 0x08, 0xff, 0xd7,
                                           0x48, 0x83, 0xc4, 0x08, 0xc3};
static void (*thunk)(void (*)(void));

static void alloc_4k(void) {
  char *p = malloc(4096);
  if (!p) abort();
  memset(p, 1, 4096);
  sink += p[100];
  free(p);
}

static atomic_int a_inside; /* thread A is in a callback (loader's lock held): informative */

__attribute__((unused)) static void call_it(void (*f)(void)) { f(); }

static int cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)info, (void)size;
  /* Let B start an allocation while we hold the loader's lock, then
   * allocate ourselves. */
  atomic_store(&a_inside, 1);
  nap(2000000);
  for (int i = 0; i < 4; i++) {
    char *p = malloc(4096);
    if (!p) abort();
    memset(p, i, 4096);
    sink += p[100];
    free(p);
    thunk(alloc_4k);
  }
  atomic_store(&a_inside, 0);
  nap(100000);
  ++*(int *)arg;
  return 0;
}

static void *thread_a(void *arg) {
  int *visited = arg;
  for (int round = 0; round < 3; round++) dl_iterate_phdr(cb, visited);
  atomic_store(&stop, 1);
  return NULL;
}

static void *thread_b(void *arg) {
  long *n = arg;
  while (!atomic_load(&stop)) {
    char *p = malloc(4096);
    if (!p) abort();
    p[0] = 1;
    sink += p[0];
    free(p);
    thunk(alloc_4k);
    ++*n;
  }
  return NULL;
}

int main(void) {
  pthread_t a, b;
  int visited = 0;
  long allocs = 0;
#if defined(__x86_64__)
  void *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) return 1;
  memcpy(code, thunk_code, sizeof thunk_code);
  if (mprotect(code, 4096, PROT_READ | PROT_EXEC) != 0) return 1;
  thunk = (void (*)(void (*)(void)))code;
#else
  thunk = call_it; /* elsewhere: an ordinary frame */
#endif
  pthread_create(&b, NULL, thread_b, &allocs);
  pthread_create(&a, NULL, thread_a, &visited);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("done %d\n", visited > 0);
  return 0;
}

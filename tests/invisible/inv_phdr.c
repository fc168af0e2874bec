/* SPDX-License-Identifier: MIT */
/*
 * inv_phdr.c [ROUNDS] - thread A calls dl_iterate_phdr and, inside the
 * callback (so while holding the loader's lock), mallocs and frees 4 KiB
 * blocks in a loop for 200 ms; thread B loops on 4 KiB malloc/free at the
 * same time.  A tracker that takes a lock of its own and then walks the
 * loaded objects (to unwind) would deadlock with A.  ROUNDS times (default
 * 5).  Prints "done".
 */
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int a_done;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)info;
  (void)size;
  (void)data;
  double end = now_s() + 0.2;
  while (now_s() < end) {
    char *p = malloc(4096);
    memset(p, 1, 4096);
    free(p);
  }
  return 1; /* first object only */
}

static void *thread_a(void *arg) {
  (void)arg;
  dl_iterate_phdr(cb, NULL);
  atomic_store(&a_done, 1);
  return NULL;
}

static void *thread_b(void *arg) {
  (void)arg;
  while (!atomic_load(&a_done)) {
    char *p = malloc(4096);
    memset(p, 2, 4096);
    free(p);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 5;
  for (int r = 0; r < rounds; r++) {
    pthread_t a, b;
    atomic_store(&a_done, 0);
    pthread_create(&b, NULL, thread_b, NULL);
    pthread_create(&a, NULL, thread_a, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
  }
  printf("done\n");
  return 0;
}

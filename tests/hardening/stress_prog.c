/* SPDX-License-Identifier: MIT */
/*
 * stress_prog.c - for stress.sh: 8 worker threads allocate (mixed sizes,
 * some tracked), reallocate and free, handing blocks to each other through a
 * shared ring under a mutex, for a bounded number of operations, while a
 * signaller thread sends the dump signal (SIGUSR2) to the process NSIG times
 * with small sleeps.  At the end it prints, with write(2) only (no stdio
 * buffer is allocated):
 *   live: <blocks> blocks, <bytes> bytes
 * the tracked blocks (malloc_usable_size >= 1024) it still holds and their
 * requested bytes, and exits (the ring's blocks stay allocated).
 * Usage: stress_prog [OPS_PER_THREAD [NSIG]]
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 8
#define RING 4096

typedef struct {
  void *p;
  size_t n;
} slot_t;

static slot_t ring[RING];
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static long ops = 20000;
static int nsig = 30;

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static unsigned rnd(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static size_t pick_size(unsigned *s) {
  unsigned r = rnd(s) % 100;
  if (r < 55) return 1 + rnd(s) % 512;      /* untracked */
  if (r < 60) return 900 + rnd(s) % 200;    /* around the threshold */
  if (r < 95) return 1024 + rnd(s) % 8192;  /* tracked */
  return 65536 + rnd(s) % 300000;           /* large */
}

static void *worker(void *arg) {
  unsigned seed = (unsigned)(size_t)arg * 7919u + 1;
  for (long i = 0; i < ops; i++) {
    size_t n = pick_size(&seed);
    void *p;
    switch (rnd(&seed) % 4) {
    case 0: p = calloc(1, n); break;
    case 1: p = aligned_alloc(64, (n + 63) & ~(size_t)63); n = (n + 63) & ~(size_t)63; break;
    default: p = malloc(n); break;
    }
    if (!p) continue;
    memset(p, 0x5a, n < 64 ? n : 64);
    if (rnd(&seed) % 4 == 0) { /* grow or shrink, possibly across the threshold */
      size_t m = pick_size(&seed);
      void *q = realloc(p, m);
      if (q) { p = q; n = m; }
    }
    unsigned k = rnd(&seed) % RING;
    slot_t old;
    pthread_mutex_lock(&ring_lock);
    old = ring[k];
    ring[k].p = p;
    ring[k].n = n;
    pthread_mutex_unlock(&ring_lock);
    /* a block of another thread, freed here (or reallocated, then freed) */
    if (old.p && rnd(&seed) % 8 == 0) old.p = realloc(old.p, 1 + rnd(&seed) % 4000);
    free(old.p);
  }
  return NULL;
}

static void *signaller(void *arg) {
  (void)arg;
  struct timespec ts = {0, 15 * 1000 * 1000};
  for (int i = 0; i < nsig; i++) {
    kill(getpid(), SIGUSR2);
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) ops = atol(argv[1]);
  if (argc > 2) nsig = atoi(argv[2]);
  pthread_t th[NTHREADS], sg;
  for (long i = 0; i < NTHREADS; i++)
    if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) return 2;
  if (pthread_create(&sg, NULL, signaller, NULL) != 0) return 2;
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  pthread_join(sg, NULL);
  /* let the dumper drain the last requests: bounded */
  struct timespec ts = {0, 300 * 1000 * 1000};
  nanosleep(&ts, NULL);
  long blocks = 0, bytes = 0;
  for (int i = 0; i < RING; i++)
    if (ring[i].p && malloc_usable_size(ring[i].p) >= 1024) {
      blocks++;
      bytes += (long)ring[i].n;
    }
  char line[128];
  snprintf(line, sizeof line, "live: %ld blocks, %ld bytes\n", blocks, bytes);
  say(line);
  return 0;
}

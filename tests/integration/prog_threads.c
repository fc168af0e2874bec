/* SPDX-License-Identifier: MIT */
/*
 * prog_threads.c - threads allocating and freeing tracked and untracked
 * blocks, and freeing each other's blocks through a shared queue, while
 * signal_threads.sh sends dump signals.  Usage:
 *
 *   prog_threads NTHREADS MIN_ITERATIONS [exit]
 *
 * Prints "ready" once the threads run, then keeps them running (at least
 * MIN_ITERATIONS each, at most 200 times that) until its standard input
 * reaches end of file.  Then each thread frees part of what it holds and
 * keeps the rest (leaked on purpose), and the program prints its own count
 * of the tracked blocks still live (requested size >= 1024; untracked ones
 * are <= 512 bytes):  "live: <blocks> blocks, <bytes> bytes".  With "exit",
 * main calls exit(0) at end of file instead, while the threads still run.
 * Output through write(2) only: no stdio buffer is allocated.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRACKED_MIN 1024
#define HELD 64     /* blocks each thread holds at most */
#define QCAP 256    /* shared queue */

typedef struct { void *p; size_t n; } blk_t;

static struct {
  pthread_mutex_t mu;
  blk_t q[QCAP];
  unsigned head, len;
} queue = {PTHREAD_MUTEX_INITIALIZER, {{0, 0}}, 0, 0};

static atomic_int stop;
static atomic_long started;
static long min_iter;

typedef struct {
  int id;
  uint64_t rng;
  blk_t held[HELD];
  long live_blocks, live_bytes; /* tracked blocks this thread left live */
} worker_t;

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static size_t pick_size(worker_t *w) {
  uint64_t r = next_rand(&w->rng);
  if (r % 3 == 0) return 1024 + (size_t)(r >> 8) % 20000; /* tracked */
  return 16 + (size_t)(r >> 8) % 497;                     /* untracked: 16..512 */
}

/* A block of a random size from a random entry point; *n is set to the
 * size requested (aligned_alloc rounds it up to a multiple of 64). */
static void *alloc_any(worker_t *w, size_t *n) {
  void *p;
  switch (next_rand(&w->rng) % 4) {
  case 0: p = calloc(1, *n); break;
  case 1:
    p = malloc(*n / 2 + 1);
    if (p) p = realloc(p, *n);
    break;
  case 2:
    *n = (*n + 63) & ~(size_t)63;
    p = aligned_alloc(64, *n);
    break;
  default: p = malloc(*n); break;
  }
  if (!p) abort();
  memset(p, w->id, *n < 64 ? *n : 64);
  return p;
}

static blk_t make_block(worker_t *w) {
  blk_t b;
  b.n = pick_size(w);
  b.p = alloc_any(w, &b.n);
  return b;
}

static void *worker(void *arg) {
  worker_t *w = arg;
  long limit = min_iter * 200;
  atomic_fetch_add(&started, 1);
  for (long it = 0; it < limit; it++) {
    if (it >= min_iter && atomic_load(&stop)) break;
    unsigned slot = (unsigned)(next_rand(&w->rng) % HELD);
    blk_t *h = &w->held[slot];
    uint64_t r = next_rand(&w->rng) % 8;
    if (h->p && r < 3) {
      /* hand it over: another thread frees it */
      pthread_mutex_lock(&queue.mu);
      if (queue.len < QCAP) {
        queue.q[(queue.head + queue.len++) % QCAP] = *h;
        h->p = NULL;
      }
      pthread_mutex_unlock(&queue.mu);
      if (h->p) {
        free(h->p);
        h->p = NULL;
      }
    } else if (h->p && r < 5) {
      free(h->p);
      h->p = NULL;
    } else if (h->p && r == 5) {
      /* resize in place or not; crosses the threshold both ways */
      size_t n = pick_size(w);
      void *q = realloc(h->p, n);
      if (!q) abort();
      h->p = q;
      h->n = n;
    } else if (!h->p) {
      *h = make_block(w);
    }
    /* free one block of another thread */
    if (next_rand(&w->rng) % 2) {
      blk_t b = {NULL, 0};
      pthread_mutex_lock(&queue.mu);
      if (queue.len) {
        b = queue.q[queue.head];
        queue.head = (queue.head + 1) % QCAP;
        queue.len--;
      }
      pthread_mutex_unlock(&queue.mu);
      free(b.p);
    }
  }
  /* keep every other block, free the rest */
  for (int i = 0; i < HELD; i++) {
    blk_t *h = &w->held[i];
    if (!h->p) continue;
    if (i % 2) {
      free(h->p);
      h->p = NULL;
    } else if (h->n >= TRACKED_MIN) {
      w->live_blocks++;
      w->live_bytes += (long)h->n;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4;
  min_iter = argc > 2 ? atol(argv[2]) : 20000;
  if (n < 1 || n > 64 || min_iter < 1) return 2;
  static worker_t w[64];
  pthread_t th[64];
  for (int i = 0; i < n; i++) {
    w[i].id = i + 1;
    w[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
    if (pthread_create(&th[i], NULL, worker, &w[i]) != 0) return 3;
  }
  while (atomic_load(&started) < n) usleep(1000);
  say("ready\n");
  char buf[256];
  while (read(0, buf, sizeof buf) > 0) {}
  if (argc > 3 && strcmp(argv[3], "exit") == 0) {
    say("exiting\n");
    exit(0); /* the exit dump runs while the threads allocate and free */
  }
  atomic_store(&stop, 1);
  long blocks = 0, bytes = 0;
  for (int i = 0; i < n; i++) {
    pthread_join(th[i], NULL);
    blocks += w[i].live_blocks;
    bytes += w[i].live_bytes;
  }
  /* what is still queued stays live too */
  for (unsigned i = 0; i < queue.len; i++) {
    blk_t *b = &queue.q[(queue.head + i) % QCAP];
    if (b->n >= TRACKED_MIN) {
      blocks++;
      bytes += (long)b->n;
    }
  }
  char line[128];
  int k = snprintf(line, sizeof line, "live: %ld blocks, %ld bytes\n", blocks, bytes);
  (void)!write(1, line, (size_t)k);
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * bm_syscalls.c - what a descriptor costs under the preload (issue 12):
 * open+close, socket+close and pipe2+close pairs, each timed two ways in
 * the same process, batch for batch interleaved: through the program's
 * own calls (memledger's hooks when it is preloaded) and through glibc's
 * functions looked up in libc.so.6 itself (never hooked).  The loops run
 * at the bottom of a 12-frame call chain, the stack memledger captures for
 * each new descriptor.  A plain program, not linked with memledger:
 * bench/syscalls.sh runs it with and without LD_PRELOAD.  Prints, per
 * case, the median ns per pair of each way and the median (and
 * quartiles) of the ratio of adjacent batches.
 * Usage: bm_syscalls [BATCHES [PAIRS_PER_BATCH]]  (default 401 100)
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct calls_s {
  int (*open)(const char *, int, ...);
  int (*socket)(int, int, int);
  int (*pipe2)(int *, int);
  int (*close)(int);
} calls_t;

static calls_t hooked, libc;
static long batches = 401, pairs = 100;

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static void pair_open(const calls_t *c) {
  int fd = c->open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  if (fd < 0) abort();
  c->close(fd);
}

static void pair_socket(const calls_t *c) {
  int fd = c->socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) abort();
  c->close(fd);
}

static void pair_pipe(const calls_t *c) {
  int p[2];
  if (c->pipe2(p, O_CLOEXEC)) abort();
  c->close(p[0]);
  c->close(p[1]);
}

static double batch(void (*fn)(const calls_t *), const calls_t *c) {
  double t0 = now_ns();
  for (long i = 0; i < pairs; i++) fn(c);
  return (now_ns() - t0) / pairs;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Adjacent batches of the two ways, in alternating order; the median of
 * the per-pair ratios (a slow spell of the machine falls on both sides of
 * one ratio), and the median time per pair of each way. */
static void run(const char *name, void (*fn)(const calls_t *)) {
  double *h = calloc(batches, sizeof *h), *l = calloc(batches, sizeof *l);
  double *r = calloc(batches, sizeof *r);
  for (long b = 0; b < batches; b++) {
    if (b & 1) {
      h[b] = batch(fn, &hooked);
      l[b] = batch(fn, &libc);
    } else {
      l[b] = batch(fn, &libc);
      h[b] = batch(fn, &hooked);
    }
    r[b] = h[b] / l[b];
  }
  qsort(h, batches, sizeof *h, cmp);
  qsort(l, batches, sizeof *l, cmp);
  qsort(r, batches, sizeof *r, cmp);
  printf("%-13s glibc %7.0f ns  program's calls %7.0f ns  ratio %.3f (quartiles %.3f %.3f)\n",
         name, l[batches / 2], h[batches / 2], r[batches / 2], r[batches / 4],
         r[3 * batches / 4]);
  free(h);
  free(l);
  free(r);
}

static void cases(void) {
  run("open_close", pair_open);
  run("socket_close", pair_socket);
  run("pipe_close", pair_pipe);
}

/* The chain: each level a real frame (noinline, frame pointers). */
__attribute__((noinline)) static void chain(int depth) {
  if (depth > 0) chain(depth - 1);
  else cases();
  __asm__ volatile("" ::: "memory"); /* not a tail call */
}

int main(int argc, char **argv) {
  if (argc > 1) batches = atol(argv[1]) | 1;
  if (argc > 2) pairs = atol(argv[2]);
  void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (!h) return 1;
  hooked = (calls_t){open, socket, pipe2, close};
  libc = (calls_t){dlsym(h, "open"), dlsym(h, "socket"), dlsym(h, "pipe2"), dlsym(h, "close")};
  if (!libc.open || !libc.socket || !libc.pipe2 || !libc.close) return 1;
  chain(10);
  return 0;
}

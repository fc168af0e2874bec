/* SPDX-License-Identifier: MIT */
/*
 * prog_time.c - for the dumps-over-time tests (tests/time/, not linked
 * with memledger: preloaded).
 *   prog_time grow STEPS MS   keep 256 KiB from keep_const() (to the end,
 *                             exit included) and leak 64 KiB
 *                             more from leak_more() every MS milliseconds,
 *                             STEPS times; busy between steps, print the
 *                             longest stall seen (microseconds)
 *   prog_time fdgrow STEPS MS keep 256 KiB from keep_const() and 4
 *                             descriptors from keep_fds() (to the end),
 *                             then every MS milliseconds, STEPS times,
 *                             open one more descriptor in leak_fd() and
 *                             start a thread in leak_thread() that ends
 *                             and is never joined; busy between steps
 *   prog_time sleep MS        sleep MS milliseconds in nanosleep, resuming
 *                             after EINTR; print how many EINTRs it saw
 *   prog_time own MS          install its own SIGUSR2 handler, run MS
 *                             milliseconds, print how often it ran
 *   prog_time fork MS         fork; the child leaks like grow for MS
 *                             milliseconds and exits; print the child's pid
 *   prog_time limit MB        allocate MB blocks of 1 MiB, then free them
 *   prog_time mapped N        fill N anonymous mappings of 8 MiB of its own
 *   prog_time eat             malloc 64 KiB blocks until NULL; check errno,
 *                             free them, print "handled NULL after N bytes"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void *volatile prog_time_sink; /* keeps the leaks from being optimized away */

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

__attribute__((noinline)) static void *keep_const(void) {
  void *p = malloc(256 * 1024);
  memset(p, 1, 4096);
  return p;
}

__attribute__((noinline)) static void leak_more(void) {
  void *p = malloc(64 * 1024);
  memset(p, 2, 4096);
  prog_time_sink = p; /* leaked on purpose */
}

/* Spin for ms milliseconds; returns the longest gap between two looks at
 * the clock (a signal handler, a fork, or the scheduler). */
static uint64_t spin(unsigned ms) {
  uint64_t t0 = now_us(), last = t0, worst = 0;
  while (last - t0 < ms * 1000u) {
    uint64_t t = now_us();
    if (t - last > worst) worst = t - last;
    last = t;
  }
  return worst;
}

static int grow(unsigned steps, unsigned ms) {
  void *k = keep_const();
  uint64_t worst = 0;
  for (unsigned i = 0; i < steps; i++) {
    leak_more();
    uint64_t w = spin(ms);
    if (w > worst) worst = w;
  }
  printf("%llu\n", (unsigned long long)worst);
  prog_time_sink = k; /* kept to the end: constant in every dump */
  return 0;
}

__attribute__((noinline)) static int keep_fds(void) {
  int n = 0;
  for (int i = 0; i < 4; i++) n += open("/dev/null", O_RDONLY) >= 0;
  return n;
}

__attribute__((noinline)) static int leak_fd(void) {
  int fd = open("/dev/null", O_RDONLY); /* never closed, on purpose */
  __asm__ volatile("" ::: "memory");   /* not a tail call: leak_fd stays in the stack */
  return fd;
}

static void *thread_ends(void *arg) { return arg; }

__attribute__((noinline)) static int leak_thread(void) {
  pthread_t t; /* never joined nor detached, on purpose */
  int r = pthread_create(&t, NULL, thread_ends, NULL);
  __asm__ volatile("" ::: "memory");
  return r;
}

static int fdgrow(unsigned steps, unsigned ms) {
  void *k = keep_const();
  if (keep_fds() != 4) return 1;
  for (unsigned i = 0; i < steps; i++) {
    if (leak_fd() < 0 || leak_thread() != 0) return 1;
    spin(ms);
  }
  prog_time_sink = k;
  return 0;
}

static int sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  unsigned eintr = 0;
  while (nanosleep(&ts, &ts) != 0) {
    if (errno != EINTR) return 1;
    eintr++;
  }
  printf("%u\n", eintr);
  return 0;
}

static volatile sig_atomic_t handled;
static void on_usr2(int sig) {
  (void)sig;
  handled++;
}

static int own(unsigned ms) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGUSR2, &sa, NULL) != 0) return 1;
  (void)spin(ms);
  printf("%d\n", (int)handled);
  return 0;
}

static int forked(unsigned ms) {
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    for (unsigned t = 0; t < ms; t += 100) {
      leak_more();
      (void)spin(100);
    }
    exit(0);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  printf("%d\n", (int)pid);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static int limit(unsigned mb) {
  void **v = calloc(mb, sizeof *v);
  for (unsigned i = 0; i < mb; i++) {
    v[i] = malloc(1 << 20);
    memset(v[i], 3, 4096);
  }
  for (unsigned i = 0; i < mb; i++) free(v[i]);
  free(v);
  return 0;
}

/* mapped N: N anonymous mappings of 8 MiB, each filled (memory no tracked
 * block holds: only the resident size grows), 2 ms apart, then one page
 * more (the last look at the resident size). */
static int mapped(unsigned n) {
  for (unsigned i = 0; i <= n; i++) {
    size_t len = i < n ? 8u << 20 : 4096;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    memset(p, 7, len);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  return 0;
}

#define EAT_MAX (64 * 1024)
static void *blocks[EAT_MAX];

static int eat(void) {
  size_t n = 0;
  errno = 0;
  while (n < EAT_MAX && (blocks[n] = malloc(64 * 1024)) != NULL) {
    memset(blocks[n], 0x5a, 64);
    n++;
  }
  if (n == EAT_MAX || errno != ENOMEM) {
    printf("no NULL (errno %d)\n", errno);
    return 1;
  }
  while (n > 0) free(blocks[--n]);
  /* The heap is usable again. */
  void *p = malloc(1 << 20);
  if (!p) return 1;
  free(p);
  printf("handled NULL\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "grow")) return grow((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
  if (argc == 4 && !strcmp(argv[1], "fdgrow")) return fdgrow((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
  if (argc == 3 && !strcmp(argv[1], "sleep")) return sleep_ms((unsigned)atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "own")) return own((unsigned)atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "fork")) return forked((unsigned)atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "limit")) return limit((unsigned)atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "mapped")) return mapped((unsigned)atoi(argv[2]));
  if (argc == 2 && !strcmp(argv[1], "eat")) return eat();
  fprintf(stderr, "usage: prog_time grow STEPS MS | fdgrow STEPS MS | sleep MS | own MS | fork MS | limit MB | eat\n");
  return 2;
}

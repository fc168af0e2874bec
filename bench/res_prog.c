/* SPDX-License-Identifier: MIT */
/*
 * res_prog.c - bench/res.sh's program: N pthread_create+pthread_join pairs
 * and N mmap+munmap pairs (64 KiB anonymous, one page touched), each from
 * a function of its own, timed in CPU time (CLOCK_PROCESS_CPUTIME_ID, all
 * threads: on a shared, busy machine wall time mostly measures the other
 * processes).  Prints "thread_ns=<per pair> map_ns=<per pair>".
 * Usage: res_prog [N_THREADS [N_MAPS]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *run(void *arg) { return arg; }

static __attribute__((noinline)) void thread_pair(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, run, NULL) != 0 || pthread_join(t, NULL) != 0) abort();
}

static __attribute__((noinline)) void map_pair(void) {
  char *p = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) abort();
  p[0] = 1;
  if (munmap(p, 64 << 10) != 0) abort();
}

int main(int argc, char **argv) {
  int nt = argc > 1 ? atoi(argv[1]) : 20000, nm = argc > 2 ? atoi(argv[2]) : 200000;
  thread_pair();
  map_pair();
  double t0 = now_ns();
  for (int i = 0; i < nt; i++) thread_pair();
  double t1 = now_ns();
  for (int i = 0; i < nm; i++) map_pair();
  double t2 = now_ns();
  printf("thread_ns=%.0f map_ns=%.0f\n", (t1 - t0) / nt, (t2 - t1) / nm);
  return 0;
}

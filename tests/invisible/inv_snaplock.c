/* SPDX-License-Identifier: MIT */
/*
 * inv_snaplock.c - a dump is written while another thread holds the
 * dynamic loader's lock (it sleeps 3 s inside a dl_iterate_phdr callback).
 * A dump from a snapshot never takes that lock (its module list comes from
 * /proc/<pid>/maps), so it completes at once; a dump that asked the loader
 * would wait for the sleeper.  Prints "api <rc> fast|slow" for
 * memledger_dump() (found with dlsym), or "signal <found> fast|slow" for a
 * SIGUSR2 dump (fast: within 2 s), then "done".
 * Usage: inv_snaplock api|signal
 */
#define _GNU_SOURCE
#include "inv_util.h"
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic int holding;

static int hold_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)info, (void)size, (void)arg;
  atomic_store(&holding, 1);
  inv_sleep_ms(3000);
  return 1; /* once */
}

static void *holder(void *arg) {
  (void)arg;
  dl_iterate_phdr(hold_cb, NULL);
  return NULL;
}

static long ms_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  void *keep = malloc(8000); /* a tracked block for the dumps to list */
  int (*dump)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "memledger_dump");
  pthread_t th;
  pthread_create(&th, NULL, holder, NULL);
  while (!atomic_load(&holding)) inv_sleep_ms(1);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (strcmp(argv[1], "api") == 0) {
    char path[4096] = "";
    int rc = dump ? dump(path, sizeof path) : -2;
    printf("api %d %s\n", rc, ms_since(&t0) < 2000 ? "fast" : "slow");
  } else {
    kill(getpid(), SIGUSR2);
    int found = inv_wait_dump(getpid(), 1, 10);
    printf("signal %d %s\n", found, ms_since(&t0) < 2000 ? "fast" : "slow");
  }
  pthread_join(th, NULL);
  free(keep);
  printf("done\n");
  return 0;
}

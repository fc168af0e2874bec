/* SPDX-License-Identifier: MIT */
/*
 * prog_res_leak.c - for res_real.sh (preloaded, not linked with memledger):
 * leaks a descriptor from open_log(), a thread that ends and is never
 * joined from start_worker() and a 64 KiB anonymous mapping from
 * map_cache(), once a round.
 *   prog_res_leak OLD NEW   OLD rounds, a dump (memledger_dump(), resolved
 *                           with dlsym: "dump PATH" on stdout), NEW more
 *                           rounds, then exit (the exit dump)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* noinline, and no tail calls: each function keeps its own frame, so that
 * the creation stacks name it. */
#define NOINLINE __attribute__((noinline, optimize("no-optimize-sibling-calls")))

void *volatile prog_res_leak_sink; /* keeps the mappings from being optimized away */

NOINLINE static int open_log(void) { return open("/dev/null", O_WRONLY); }

static void *worker(void *arg) { return arg; }

NOINLINE static int start_worker(void) {
  pthread_t t; /* never joined nor detached: ends and stays a record */
  return pthread_create(&t, NULL, worker, NULL);
}

NOINLINE static void *map_cache(void) {
  void *p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* Wait (up to 5 s) until the workers have ended: the process has one
 * thread left (/proc/self/status "Threads:"). */
static void wait_alone(void) {
  for (int i = 0; i < 500; i++) {
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0) close(fd);
    if (n > 0) {
      buf[n] = 0;
      char *t = strstr(buf, "\nThreads:");
      if (t && atoi(t + 9) == 1) return;
    }
    usleep(10 * 1000);
  }
}

static int rounds(int n) {
  for (int i = 0; i < n; i++) {
    if (open_log() < 0 || start_worker() != 0) return 1;
    if (!(prog_res_leak_sink = map_cache())) return 1;
  }
  wait_alone(); /* the workers have ended by the dump */
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: prog_res_leak OLD NEW\n");
    return 2;
  }
  /* One call site for both phases: the creation stacks of the two dumps
   * are the same, so the diff matches them. */
  for (int phase = 0; phase < 2; phase++) {
    if (rounds(atoi(argv[1 + phase]))) return 1;
    if (phase) break;
    int (*d)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "memledger_dump");
    char path[4096];
    if (d && d(path, sizeof path) == 0) printf("dump %s\n", path);
    else printf("dump failed\n");
    fflush(stdout);
  }
  return 0;
}

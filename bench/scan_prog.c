/* SPDX-License-Identifier: MIT */
/*
 * scan_prog.c - a heap for bench/scan.sh, the leak scan's benchmark.  Run
 * under the preload: scan_prog MB BLOCK FILL
 *   MB     heap to build, in MiB
 *   BLOCK  size of each block (tracked when >= MEMLEDGER_MIN_SIZE)
 *   FILL   "ptr": every word of every block points at a random block (the
 *          slowest case: each word is looked up), "zero": blocks are zeroed
 * Every block is reachable (an array held by a global points at each) except
 * one in 16, whose pointer is dropped (lost; other blocks may still point
 * into it with FILL=ptr).  Then it raises the dump signal and prints
 *   pause_us=<the signal handler's time: the snapshot's fork>
 *   written_ms=<until the dump file exists>
 * and exits without its exit dump (MEMLEDGER_DUMP_AT_EXIT=0 in scan.sh).
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void **volatile blocks; /* the roots: a global and the array */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_dumps(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d));)
    n += strncmp(e->d_name, "memledger.", 10) == 0 && strstr(e->d_name, ".dump") != NULL;
  closedir(d);
  return n;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  size_t mb = strtoul(argv[1], NULL, 10), bs = strtoul(argv[2], NULL, 10);
  int ptrs = strcmp(argv[3], "ptr") == 0;
  const char *dir = getenv("MEMLEDGER_DIR");
  size_t n = (mb << 20) / bs;
  blocks = malloc(n * sizeof *blocks);
  if (!blocks) return 3;
  for (size_t i = 0; i < n; i++) {
    blocks[i] = malloc(bs);
    if (!blocks[i]) return 3;
    memset(blocks[i], 0, bs);
  }
  uint64_t x = 88172645463325252ULL;
  if (ptrs)
    for (size_t i = 0; i < n; i++)
      for (size_t w = 0; w < bs / sizeof(void *); w++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ((void **)blocks[i])[w] = blocks[x % n];
      }
  for (size_t i = 0; i < n; i += 16) blocks[i] = NULL; /* lost */
  int before = count_dumps(dir ? dir : ".");
  double t0 = now();
  raise(SIGUSR2);
  double t1 = now();
  while (count_dumps(dir ? dir : ".") == before && now() - t0 < 600) usleep(1000);
  double t2 = now();
  printf("blocks=%zu pause_us=%.0f written_ms=%.0f\n", n, (t1 - t0) * 1e6, (t2 - t0) * 1e3);
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * ulimit_prog.c - for ulimit.sh (not linked with memledger; preloaded).
 *   ulimit_prog eat     malloc 64 KiB blocks until malloc returns NULL (or
 *                       1 GiB), print the bytes obtained, free them all
 *   ulimit_prog vmsize  make one tracked (4 KiB) and one untracked block,
 *                       print VmSize from /proc/self/status in KiB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK (64 * 1024)
#define MAX_BLOCKS (16 * 1024) /* 1 GiB */

static void *blocks[MAX_BLOCKS];

static int eat(void) {
  size_t n = 0;
  while (n < MAX_BLOCKS && (blocks[n] = malloc(BLOCK)) != NULL) {
    memset(blocks[n], 0x5a, 64); /* touch it: a real block, not a promise */
    n++;
  }
  printf("%zu\n", n * (size_t)BLOCK);
  fflush(stdout);
  while (n > 0) free(blocks[--n]);
  return 0;
}

static int vmsize(void) {
  char line[256];
  long kb = -1;
  void *big = malloc(4096), *small = malloc(32);
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmSize:", 7) == 0) kb = strtol(line + 7, NULL, 10);
  fclose(f);
  free(big);
  free(small);
  if (kb < 0) return 1;
  printf("%ld\n", kb);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "eat") == 0) return eat();
  if (argc == 2 && strcmp(argv[1], "vmsize") == 0) return vmsize();
  fprintf(stderr, "usage: ulimit_prog eat|vmsize\n");
  return 2;
}

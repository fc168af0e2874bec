/* SPDX-License-Identifier: MIT */
/*
 * prog_xallocx.c - blocks grown in place by jemalloc's xallocx() across the
 * tracking threshold (run with MEMLEDGER_MIN_SIZE=32768).  jemalloc 5.3's
 * xallocx sometimes returns the old usable size although the block grew;
 * memledger must track by the size the block really has (sallocx).  For up
 * to 2000 tries: mallocx(20000) (untracked), xallocx to 30001 (+ extra);
 * when the block grew past the threshold, memledger_stats() must show one
 * more live tracked block.  Prints "grown=N misreported=M untracked=K"
 * (K: grown blocks memledger did not record; must be 0), then frees all.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "../../include/memledger.h"

typedef void *(*mallocx_t)(size_t, int);
typedef size_t (*xallocx_t)(void *, size_t, size_t, int);
typedef size_t (*sallocx_t)(const void *, int);
typedef int (*stats_t)(memledger_stats_t *);

int main(void) {
  mallocx_t mallocx_ = (mallocx_t)dlsym(RTLD_DEFAULT, "mallocx");
  xallocx_t xallocx_ = (xallocx_t)dlsym(RTLD_DEFAULT, "xallocx");
  sallocx_t sallocx_ = (sallocx_t)dlsym(RTLD_DEFAULT, "sallocx");
  stats_t stats = (stats_t)dlsym(RTLD_DEFAULT, "memledger_stats");
  if (!mallocx_ || !xallocx_ || !sallocx_ || !stats) {
    printf("not under memledger\n");
    return 2;
  }
  static void *keep[2000];
  int grown = 0, misreported = 0, untracked = 0;
  for (int i = 0; i < 2000; i++) {
    void *p = mallocx_(20000, 0);
    memledger_stats_t before, after;
    stats(&before);
    size_t r = xallocx_(p, 30001, (size_t)(i % 3) * 20000, 0);
    stats(&after);
    size_t real = sallocx_(p, 0);
    if (real >= 32768) {
      grown++;
      if (r != real) misreported++;
      if (after.live_blocks != before.live_blocks + 1) untracked++;
    }
    keep[i] = p;
  }
  printf("grown=%d misreported=%d untracked=%d\n", grown, misreported, untracked);
  for (int i = 0; i < 2000; i++) free(keep[i]);
  return 0;
}

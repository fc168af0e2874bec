/* SPDX-License-Identifier: MIT */
/*
 * prog_api.c - memledger's public API (include/memledger.h), for api.sh,
 * resolved with dlsym(RTLD_DEFAULT) so that the program also runs without
 * the preload (it then prints "memledger: not loaded").  Prints key=value
 * lines; counters are differences around known allocations (3 x 5000
 * tracked, 10 x 100 untracked, then one 5000 freed, one realloc'ed to 12000).
 * Output through write(2) only: no stdio buffer is allocated.
 */
#include "memledger.h"
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

static void say(const char *fmt, ...) {
  char line[4200];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  (void)!write(1, line, (size_t)n);
}

typedef int (*dump_t)(char *, size_t);
typedef int (*stats_t)(memledger_stats_t *);
typedef const char *(*version_t)(void);

int main(void) {
  dump_t dump = (dump_t)dlsym(RTLD_DEFAULT, "memledger_dump");
  stats_t stats = (stats_t)dlsym(RTLD_DEFAULT, "memledger_stats");
  version_t version = (version_t)dlsym(RTLD_DEFAULT, "memledger_version");
  if (!dump || !stats || !version) {
    say("memledger: not loaded");
    return 0;
  }
  say("version=%s", version());

  memledger_stats_t s0, s1, s2;
  memset(&s0, 0xee, sizeof s0);
  errno = 0;
  int rc = stats(&s0);
  say("stats0_rc=%d errno=%d", rc, errno);
  if (rc != 0) {
    /* tracking is off: the fields are zero, dumps refused with EAGAIN */
    say("stats0_zero=%d", s0.threshold == 0 && s0.tracked_allocs == 0 && s0.live_blocks == 0 &&
                              s0.live_bytes == 0 && s0.stacks == 0);
    char path[256] = "untouched";
    errno = 0;
    rc = dump(path, sizeof path);
    say("dump_rc=%d errno=%s path=%s", rc, errno == EAGAIN ? "EAGAIN" : "other", path);
    return 0;
  }
  say("threshold=%llu", (unsigned long long)s0.threshold);

  char *big[3], *small[10];
  for (int i = 0; i < 3; i++) sink = big[i] = malloc(5000);
  for (int i = 0; i < 10; i++) sink = small[i] = malloc(100);
  stats(&s1);
  say("allocs_delta=%llu", (unsigned long long)(s1.tracked_allocs - s0.tracked_allocs));
  say("frees_delta=%llu", (unsigned long long)(s1.tracked_frees - s0.tracked_frees));
  say("live_blocks_delta=%lld", (long long)(s1.live_blocks - s0.live_blocks));
  say("live_bytes_delta=%lld", (long long)(s1.live_bytes - s0.live_bytes));
  say("stacks_ge_1=%d", s1.stacks >= 1 && s1.stacks >= s0.stacks);
  say("dropped=%llu", (unsigned long long)s1.dropped_records);

  free(big[0]);
  sink = big[1] = realloc(big[1], 12000);
  for (int i = 0; i < 10; i++) free(small[i]);
  stats(&s2);
  say("allocs_delta2=%llu", (unsigned long long)(s2.tracked_allocs - s1.tracked_allocs));
  say("frees_delta2=%llu", (unsigned long long)(s2.tracked_frees - s1.tracked_frees));
  say("live_blocks_delta2=%lld", (long long)(s2.live_blocks - s0.live_blocks));
  say("live_bytes_delta2=%lld", (long long)(s2.live_bytes - s0.live_bytes));

  /* The gate is the usable size: the smallest request whose usable size
   * reaches the threshold is tracked, the one below it is not. */
  size_t (*nallocx)(size_t, int) = (size_t(*)(size_t, int))dlsym(RTLD_DEFAULT, "nallocx");
  size_t cut = 1;
  while (nallocx && nallocx(cut, 0) < s0.threshold) cut++;
  memledger_stats_t s3, s4;
  stats(&s3);
  char *below = malloc(cut - 1), *at = malloc(cut);
  sink = below;
  sink = at;
  stats(&s4);
  say("cutoff_below_threshold=%d", cut > 1 && cut <= s0.threshold);
  say("cutoff_delta=%lld %lld", (long long)(s4.live_blocks - s3.live_blocks),
      (long long)(s4.live_bytes - s3.live_bytes) - (long long)cut);
  free(below);
  free(at);

  /* Aligned allocations: tracked exactly when their usable size reaches the
   * threshold (the front decides alignments up to a page without asking
   * jemalloc: front.h), over a grid around the threshold's size classes. */
  static const size_t aligns[] = {8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  static const size_t sizes[] = {1,   7,    100,  500,  640,  768,  896,   897,   1000,
                                 1023, 1024, 1025, 1280, 2000, 4095, 4096, 10000, 16384};
  unsigned grid = 0, grid_bad = 0;
  for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
      for (int how = 0; how < 3; how++) {
        memledger_stats_t g0, g1;
        stats(&g0);
        void *q = NULL;
        if (how == 0) q = aligned_alloc(aligns[a], sizes[z]);
        else if (how == 1 && posix_memalign(&q, aligns[a], sizes[z]) != 0) q = NULL;
        else if (how == 2) q = memalign(aligns[a], sizes[z]);
        stats(&g1);
        if (!q) continue;
        int want = malloc_usable_size(q) >= s0.threshold;
        int got = (int)(g1.tracked_allocs - g0.tracked_allocs);
        grid++;
        if (got != want) {
          if (grid_bad++ < 5)
            say("aligned_mismatch=%s(%zu, %zu) usable %zu tracked %d",
                how == 0 ? "aligned_alloc" : how == 1 ? "posix_memalign" : "memalign",
                aligns[a], sizes[z], malloc_usable_size(q), got);
        }
        free(q);
      }
  say("aligned_grid=%u cases, %u disagree with malloc_usable_size", grid, grid_bad);

  char path[4096];
  errno = 0;
  rc = dump(path, sizeof path);
  say("dump_rc=%d", rc);
  say("dump_path=%s", rc == 0 ? path : strerror(errno));

  /* a short buffer: the path is truncated and NUL-terminated */
  char shortp[12];
  memset(shortp, 'Z', sizeof shortp);
  rc = dump(shortp, 8);
  say("dump_short_rc=%d len=%zu untouched_after=%d", rc, strnlen(shortp, 8),
      shortp[8] == 'Z' && shortp[11] == 'Z');
  say("dump_short=%.8s", shortp);

  errno = 0;
  rc = dump(NULL, 0);
  say("dump_null_rc=%d", rc);
  free(big[1]);
  free(big[2]);
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * inv_util.h - shared by the tests/invisible/ programs (which are not linked
 * with memledger; they get it by the preload): wait for a dump file of this
 * process to appear in $MEMLEDGER_DIR without keeping a descriptor open.
 */
#ifndef INV_UTIL_H
#define INV_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* inv_sleep_ms: nanosleep, resumed after a signal. */
static inline void inv_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* inv_wait_dump: 1 when $MEMLEDGER_DIR/memledger.<pid>.<n>.dump exists
 * within SECONDS (polled every 10 ms with stat), 0 otherwise. */
static inline int inv_wait_dump(pid_t pid, int n, int seconds) {
  const char *dir = getenv("MEMLEDGER_DIR");
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/memledger.%d.%d.dump", dir ? dir : ".", (int)pid, n);
  for (int i = 0; i < seconds * 100; i++) {
    if (stat(path, &st) == 0) return 1;
    inv_sleep_ms(10);
  }
  return 0;
}
#endif

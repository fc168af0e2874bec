/* SPDX-License-Identifier: MIT */
/*
 * prog_wait.c - for tests/tools/dump_live.sh: leaks 2 blocks of 5000 bytes,
 * prints "ready", then waits until a line arrives on stdin (a FIFO), leaks
 * 1 more block of 7000 bytes, and waits for EOF before exiting 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void wait_leak_early(void) {
  for (int i = 0; i < 2; i++)
    memset(sink = malloc(5000), 1, 5000);
}
__attribute__((noinline)) static void wait_leak_late(void) {
  memset(sink = malloc(7000), 2, 7000);
}

int main(void) {
  wait_leak_early();
  (void)!write(1, "ready\n", 6);
  char buf[64];
  if (read(0, buf, sizeof buf) > 0) wait_leak_late();
  while (read(0, buf, sizeof buf) > 0) {
  }
  sink = NULL;
  return 0;
}

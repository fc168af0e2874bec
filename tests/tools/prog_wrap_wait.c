/* SPDX-License-Identifier: MIT */
/*
 * prog_wrap_wait.c - for tests/tools/dump_wrap.sh: a program linked with the
 * link-time flavour (-Wl,--wrap=malloc,... and libmemledger-wrap).  Leaks 2
 * blocks of 5000 bytes, then, with the argument "wipe", zeroes its
 * environment strings in place as redis-server's process-title code does
 * (/proc/PID/environ then reads as NULs), prints "ready" and waits for EOF
 * on stdin before exiting 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;
static void *volatile sink;

__attribute__((noinline)) static void wrap_wait_leak(void) {
  for (int i = 0; i < 2; i++)
    memset(sink = malloc(5000), 1, 5000);
}

int main(int argc, char **argv) {
  wrap_wait_leak();
  if (argc > 1 && !strcmp(argv[1], "wipe"))
    for (char **e = environ; *e; e++)
      memset(*e, 0, strlen(*e));
  (void)!write(1, "ready\n", 6);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  sink = NULL;
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * inv_fatal.c MODE - allocates 8 tracked 4 KiB blocks, prints "ready <pid>"
 * (flushed), then dies with the default action of a signal:
 *   "wait": pause() until killed from outside (kill -TERM);
 *   "int", "hup", "quit": raise() that signal;
 *   "segv": a write through a NULL pointer; "abort": abort().
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "wait";
  static void *keep[8];
  for (int i = 0; i < 8; i++) memset(keep[i] = malloc(4096), i, 4096);
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  if (strcmp(mode, "wait") == 0) {
    for (;;) pause();
  } else if (strcmp(mode, "int") == 0) {
    raise(SIGINT);
  } else if (strcmp(mode, "hup") == 0) {
    raise(SIGHUP);
  } else if (strcmp(mode, "quit") == 0) {
    raise(SIGQUIT);
  } else if (strcmp(mode, "segv") == 0) {
    *(volatile int *)(volatile void *)0 = 1;
  } else if (strcmp(mode, "abort") == 0) {
    abort();
  }
  return 1; /* not reached */
}

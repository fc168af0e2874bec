/* SPDX-License-Identifier: MIT */
/*
 * prog_secure.c - for secure.sh: linked with libmemledger.so itself (in a
 * set-uid program the loader ignores LD_PRELOAD paths with a '/'), it
 * prints "secure=N" (getauxval(AT_SECURE)), leaves two 4096-byte blocks
 * unfreed (definitely lost: their pointers are dropped before the exit) and
 * exits 0.  With the argument "wait", it then prints "ready"
 * and reads its standard input to the end first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static void *volatile sink[2];

int main(int argc, char **argv) {
  for (int i = 0; i < 2; i++) {
    sink[i] = malloc(4096);
    if (sink[i] != NULL) memset(sink[i], i, 4096);
  }
  printf("secure=%lu\n", getauxval(AT_SECURE));
  if (argc > 1 && strcmp(argv[1], "wait") == 0) {
    char buf[64];
    printf("ready\n");
    fflush(stdout);
    while (read(0, buf, sizeof buf) > 0) {
    }
  }
  for (int i = 0; i < 2; i++) sink[i] = NULL;
  return 0;
}

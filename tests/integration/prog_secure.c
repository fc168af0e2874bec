/* SPDX-License-Identifier: MIT */
/*
 * prog_secure.c - for secure.sh: linked with libmemledger.so itself (in a
 * set-uid program the loader ignores LD_PRELOAD paths with a '/'), it
 * prints "secure=N" (getauxval(AT_SECURE)), leaves two 4096-byte blocks
 * unfreed and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

static void *volatile sink[2];

int main(void) {
  for (int i = 0; i < 2; i++) {
    sink[i] = malloc(4096);
    if (sink[i] != NULL) memset(sink[i], i, 4096);
  }
  printf("secure=%lu\n", getauxval(AT_SECURE));
  return 0;
}

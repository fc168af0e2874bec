/* SPDX-License-Identifier: MIT */
/*
 * inv_memlimit.c - run under `ulimit -v`: mallocs 64 KiB blocks (touching
 * one byte of each) until malloc returns NULL (at most 4 GiB), prints
 * "got <KiB>", frees everything, then asks for a dump: memledger_dump()
 * through dlsym(RTLD_DEFAULT) when the library is there ("api rc=<rc>"), and
 * prints "no api" otherwise.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define BLK (64 * 1024)
#define MAXB 65536

static void *blocks[MAXB];

int main(void) {
  size_t n = 0;
  while (n < MAXB) {
    char *p = malloc(BLK);
    if (!p) break;
    p[0] = 1;
    blocks[n++] = p;
  }
  printf("got %zu\n", n * (BLK / 1024));
  for (size_t i = 0; i < n; i++) free(blocks[i]);
  int (*dump)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "memledger_dump");
  if (dump) {
    char path[4096];
    printf("api rc=%d\n", dump(path, sizeof path));
  } else {
    printf("no api\n");
  }
  return 0;
}

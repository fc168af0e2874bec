/* SPDX-License-Identifier: MIT */
/*
 * deepbind_prog.c - for deepbind.sh: loads LIB with RTLD_DEEPBIND and frees,
 * with the program's free, blocks the library allocated with its own malloc
 * (a crash if the two were different allocators).  With "fsize", instead
 * lowers RLIMIT_FSIZE to 1 KiB (SIGXFSZ left at its default action, which
 * kills) and asks for a dump, which must fail cleanly and leave the program
 * running.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "fsize") == 0) {
    int (*dump)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "memledger_dump");
    void *volatile keep = malloc(100000); /* a tracked block: the dump has content */
    struct rlimit rl = {1024, 1024};
    if (!dump || setrlimit(RLIMIT_FSIZE, &rl) != 0) return 2;
    int rc = dump(NULL, 0);
    printf("dump %s; still running\n", rc == 0 ? "written" : "failed");
    free(keep);
    return 0;
  }
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
  if (!h) {
    printf("dlopen: %s\n", dlerror());
    return 1;
  }
  void *(*alloc)(size_t) = (void *(*)(size_t))dlsym(h, "deepbind_alloc");
  if (!alloc) return 1;
  for (int i = 0; i < 200; i++) free(alloc(i % 2 ? 6000 : 48));
  printf("freed 200 blocks\n");
  return 0;
}

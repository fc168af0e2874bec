/* SPDX-License-Identifier: MIT */
/*
 * prog_unwind_scope.c - which library's _Unwind_RaiseException does a C
 * program get once it loads C++ support?  It dlopens argv[1] (libstdc++.so.6
 * or libgcc_s.so.1), looks the symbol up in the global scope and prints
 * the path of the object that defines it (dladdr).  With libunwind in the
 * global scope (a DT_NEEDED of a preloaded library), that is libunwind's,
 * and C++ exceptions would go through the wrong unwinder.  Then it makes
 * tracked allocations and prints the first descriptor open() returns and
 * how many pipes the process has open.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int pipes(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  struct dirent *e;
  char path[64], target[256];
  if (!d) return -1;
  while ((e = readdir(d)) != NULL) {
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t k = readlink(path, target, sizeof target - 1);
    if (k > 0) {
      target[k] = 0;
      if (strncmp(target, "pipe:", 5) == 0) n++;
    }
  }
  closedir(d);
  return n;
}

__attribute__((noinline)) static void *deep(int d) {
  if (d == 0) return malloc(4096);
  void *p = deep(d - 1);
  __asm__ __volatile__("" : : : "memory");
  return p;
}

int main(int argc, char **argv) {
  static void *keep[1000];
  for (int i = 0; i < 1000; i++) keep[i] = deep(i % 40);
  int fd = open("/dev/null", O_RDONLY);
  printf("first fd: %d\npipes: %d\n", fd, pipes());
  if (fd >= 0) close(fd);
  for (int i = 0; i < 1000; i++) free(keep[i]);
  if (argc > 1) {
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) {
      printf("dlopen: %s\n", dlerror());
      return 1;
    }
    void *sym = dlsym(RTLD_DEFAULT, "_Unwind_RaiseException");
    Dl_info info;
    if (!sym || !dladdr(sym, &info) || !info.dli_fname) {
      printf("_Unwind_RaiseException: not found\n");
      return 1;
    }
    const char *base = strrchr(info.dli_fname, '/');
    printf("_Unwind_RaiseException: %s\n", base ? base + 1 : info.dli_fname);
  }
  return 0;
}

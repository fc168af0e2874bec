/* SPDX-License-Identifier: MIT */
/*
 * wrap_dlopen_prog.c - for wrap_dlopen.sh: loads a wrapped plugin with
 * dlopen (the program itself is neither wrapped nor preloaded), calls
 * wplug_run(N) and, with "close", dlcloses it before exit.
 *   wrap_dlopen_prog PLUGIN N close|noclose
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PLUGIN N close|noclose\n", argv[0]);
    return 2;
  }
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    printf("dlopen failed: %s\n", dlerror());
    return 1;
  }
  printf("dlopen ok\n");
  int (*run)(size_t) = (int (*)(size_t))dlsym(h, "wplug_run");
  if (!run) {
    printf("dlsym failed: %s\n", dlerror());
    return 1;
  }
  printf("run=%d\n", run(strtoul(argv[2], NULL, 10)));
  if (strcmp(argv[3], "close") == 0) printf("dlclose=%d\n", dlclose(h));
  fflush(stdout);
  return 0;
}

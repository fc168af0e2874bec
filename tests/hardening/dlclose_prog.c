/* SPDX-License-Identifier: MIT */
/*
 * dlclose_prog.c - for dlclose.sh: dlopen MODULE, call ht_plugin_leak()
 * (leaks 7777 bytes), leak 3131 bytes from main, dlclose MODULE (unless the
 * second argument is "keep"), exit: the exit dump's [modules] no longer has
 * the module.  Prints "unloaded" or "kept".  With "reuse OTHER" as second
 * and third arguments, OTHER is dlopen'ed after the dlclose (and kept): the
 * loader may map it where the module was; prints "reused" when it did
 * (OTHER's ht_exitdso_block within 64 KiB of where ht_plugin_leak was).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink[2];

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) return 3;
  void *(*leak)(void) = (void *(*)(void))dlsym(h, "ht_plugin_leak");
  if (!leak) return 4;
  sink[0] = leak();
  sink[1] = malloc(3131);
  memset(sink[1], 3, 3131);
  if (argc > 2 && strcmp(argv[2], "keep") == 0) {
    (void)!write(1, "kept\n", 5);
    return 0;
  }
  if (dlclose(h) != 0) return 5;
  (void)!write(1, "unloaded\n", 9);
  if (argc > 3 && strcmp(argv[2], "reuse") == 0) {
    void *o = dlopen(argv[3], RTLD_NOW | RTLD_LOCAL);
    if (!o) return 6;
    char *f = (char *)dlsym(o, "ht_exitdso_block");
    long dist = f - (char *)(void *)leak;
    if (dist < 0) dist = -dist;
    if (f && dist < 65536) (void)!write(1, "reused\n", 7);
  }
  return 0;
}

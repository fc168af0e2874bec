/* SPDX-License-Identifier: MIT */
/*
 * prog_early.c - allocations before main, in a dlopen'ed module, in atexit
 * handlers and destructors, for early_dlopen.sh.  Usage:
 *
 *   prog_early PLUGIN.so close|noclose
 *
 * Constructor: leaks 3333 bytes (early_leak), keeps 7777 bytes (freed by an
 * atexit handler) and 8888 bytes (freed by a destructor).  main: registers
 * an atexit handler that allocates and frees 9999 bytes, dlopens the plugin
 * (whose constructor leaks 4444 and keeps 6666 that its destructor frees),
 * calls plugin_leak() (leaks 5555), asks for a dump with memledger_dump()
 * when it is there (prints "api-dump: <path>" or "api-dump: not loaded"),
 * and with "close" dlcloses the plugin.  Expected unfreed at exit among
 * these: 3333, 4444 and 5555 only.
 * Output through write(2) only: no stdio buffer is allocated.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;
static char *held_atexit, *held_dtor;

static void say(const char *a, const char *b) {
  char line[4200];
  int n = snprintf(line, sizeof line, "%s%s\n", a, b);
  if (n > 0) (void)!write(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

__attribute__((noinline)) static void early_leak(void) {
  sink = malloc(3333);
  memset(sink, 3, 3333);
}

__attribute__((constructor)) static void early_ctor(void) {
  early_leak();
  held_atexit = malloc(7777);
  memset(held_atexit, 7, 7777);
  held_dtor = malloc(8888);
  memset(held_dtor, 8, 8888);
}

__attribute__((destructor)) static void late_dtor(void) {
  free(held_dtor);
  held_dtor = NULL;
}

static void free_at_exit(void) {
  free(held_atexit);
  held_atexit = NULL;
}

static void alloc_at_exit(void) {
  char *p = malloc(9999);
  memset(p, 9, 9999);
  char *q = malloc(100);
  q[0] = 1;
  p = realloc(p, 19999);
  free(q);
  free(p);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  /* atexit handlers run in reverse order: alloc_at_exit runs first */
  atexit(free_at_exit);
  atexit(alloc_at_exit);
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    say("dlopen failed: ", dlerror());
    return 3;
  }
  void *(*leak)(void) = (void *(*)(void))dlsym(h, "plugin_leak");
  if (!leak) return 4;
  sink = leak();
  int (*dump)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "memledger_dump");
  if (dump) {
    char path[4096];
    if (dump(path, sizeof path) != 0) return 5;
    say("api-dump: ", path);
  } else {
    say("api-dump: ", "not loaded");
  }
  if (strcmp(argv[2], "close") == 0) {
    if (dlclose(h) != 0) return 6;
    say("closed", "");
  }
  sink = NULL;
  say("done", "");
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * plugin_leak.c - a module for prog_early (early_dlopen.sh), loaded with
 * dlopen.  Its constructor leaks 4444 bytes and keeps 6666 bytes that its
 * destructor frees; plugin_leak() leaks 5555 bytes.
 */
#include <stdlib.h>
#include <string.h>

void *plugin_leak(void);

static void *volatile plugin_sink;
static char *held;

__attribute__((noinline)) static void plugin_ctor_leak(void) {
  plugin_sink = malloc(4444);
  memset(plugin_sink, 4, 4444);
}

__attribute__((constructor)) static void plugin_init(void) {
  plugin_ctor_leak();
  held = malloc(6666);
  memset(held, 6, 6666);
}

__attribute__((destructor)) static void plugin_fini(void) {
  free(held);
  held = NULL;
}

__attribute__((noinline)) void *plugin_leak(void) {
  void *p = malloc(5555);
  memset(p, 5, 5555);
  plugin_sink = p;
  return p;
}

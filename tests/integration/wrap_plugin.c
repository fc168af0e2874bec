/* SPDX-License-Identifier: MIT */
/*
 * wrap_plugin.c - a dlopen'able library linked with the link-time flavour
 * and -finstrument-functions, for wrap_dlopen.sh; built twice: with the
 * shared flavour (wrap_plugin_shared.so) and with the static archive linked
 * in (wrap_plugin_static.so).  wplug_run leaks one block of n bytes from
 * wplug_leaf <- wplug_mid <- wplug_run, and allocates and frees another.
 */
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

int wplug_run(size_t n);

static NOINLINE void *wplug_leaf(size_t n) {
  void *p = malloc(n);
  if (p) memset(p, 0x11, n);
  return p;
}

static NOINLINE void *wplug_mid(size_t n) { return wplug_leaf(n); }

NOINLINE int wplug_run(size_t n) {
  void *tmp = calloc(1, 12345);
  free(tmp);
  return wplug_mid(n) != NULL && tmp != NULL;
}

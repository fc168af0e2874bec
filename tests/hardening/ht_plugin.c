/* SPDX-License-Identifier: MIT */
/*
 * ht_plugin.c - a module for dlclose_prog (dlclose.sh): ht_plugin_leak()
 * leaks 7777 bytes from a function of its own; the program then dlcloses it.
 */
#include <stdlib.h>
#include <string.h>

void *ht_plugin_leak(void);

__attribute__((noinline)) static void *ht_plugin_inner(void) {
  void *p = malloc(7777);
  if (p) memset(p, 7, 7777);
  return p;
}
void *ht_plugin_leak(void) {
  void *p = ht_plugin_inner();
  __asm__ volatile("" ::: "memory"); /* no tail call: keep this frame */
  return p;
}

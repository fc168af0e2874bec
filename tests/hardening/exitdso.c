/* SPDX-License-Identifier: MIT */
/*
 * exitdso.c - libht_exitdso, linked (DT_NEEDED) into exit_prog: its
 * constructor allocates 6007 bytes that its destructor frees, so the block
 * must not be unfreed in an exit dump (the exit dump runs after library
 * destructors).
 */
#include <stdlib.h>
#include <string.h>

void *ht_exitdso_block(void);

static void *held;

__attribute__((constructor)) static void ht_exitdso_init(void) {
  held = malloc(6007);
  if (held) memset(held, 6, 6007);
}
__attribute__((destructor)) static void ht_exitdso_fini(void) {
  free(held);
  held = NULL;
}
void *ht_exitdso_block(void) { return held; }

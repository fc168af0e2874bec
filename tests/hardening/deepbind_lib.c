/* SPDX-License-Identifier: MIT */
/* deepbind_lib.c - a library whose own code allocates, for deepbind.sh. */
#include <stdlib.h>
#include <string.h>
void *deepbind_alloc(size_t n);
void *deepbind_alloc(size_t n) {
  void *p = malloc(n);
  return p ? memset(p, 1, n) : NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * wrap_boundary_prog.c - the program of wrap_boundary.sh.  NOT wrapped: its
 * own malloc and free are glibc's; only wrap_boundary_lib's are tracked.
 * Expected exit dump: 3 blocks, 32000 bytes (5000 from wb_lib_alloc, 20000
 * from wb_lib_realloc, 7000 from wb_lib_leak); replaced_records >= 1,
 * foreign_frees = 1; the program's own 9000-byte leak is not seen.
 * With the argument "reallocnull", also realloc(NULL, ...) and
 * reallocarray(NULL, ...) inside the library, freed inside, and one
 * realloc(NULL, 4321) leaked: 4 blocks, 36321 bytes, foreign_frees still 1.
 */
#include "wrap_boundary_lib.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  /* (a) allocated inside, freed outside, address handed out again inside */
  char *a1 = wb_lib_alloc(5000);
  memset(a1, 1, 5000);
  uintptr_t a1_addr = (uintptr_t)a1;
  free(a1); /* glibc's free: the tracker does not see it */
  char *a2 = wb_lib_alloc(5000);
  printf("a: %#lx %p same=%s\n", (unsigned long)a1_addr, (void *)a2,
         a1_addr == (uintptr_t)a2 ? "yes" : "no");
  if (a1_addr != (uintptr_t)a2) {
    fprintf(stderr, "glibc did not reuse the address\n");
    return 3;
  }
  memset(a2, 2, 5000); /* a2 stays: the 5000-byte leak */

  /* (b) allocated outside, freed inside */
  char *b = malloc(6000);
  memset(b, 3, 6000);
  wb_lib_free(b);
  printf("b: freed inside\n");

  /* (c) allocated outside, grown inside */
  unsigned char *c = malloc(2000);
  for (int i = 0; i < 2000; i++) c[i] = (unsigned char)(i * 7);
  unsigned char *c2 = wb_lib_realloc(c, 20000);
  int same = c2 != NULL;
  for (int i = 0; c2 && i < 2000; i++) same &= c2[i] == (unsigned char)(i * 7);
  if (c2) memset(c2 + 2000, 4, 18000);
  printf("c: realloc %s\n", same ? "ok" : "BAD");
  /* c2 stays: the 20000-byte leak */

  /* (d) allocated and freed inside */
  int bad = wb_lib_churn();
  printf("d: churn failures=%d\n", bad);
  char *t = wb_lib_alloc(8000);
  wb_lib_free(t);

  (void)wb_lib_leak(7000);           /* the 7000-byte leak */
  if (argc > 1 && strcmp(argv[1], "reallocnull") == 0)
    printf("reallocnull: %s\n", wb_lib_realloc_null() ? "ok" : "BAD"); /* 4321 leaked */
  char *mine = malloc(9000);         /* the program's own leak: not seen */
  mine[0] = 1;
  printf("done\n");
  return same && !bad ? 0 : 1;
}

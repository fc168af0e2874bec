/* SPDX-License-Identifier: MIT */
/*
 * prog_clean_c.c - for tests/tools/clean_programs.sh: a C program without
 * leaks that still makes libc allocate for itself (stdio buffers, locale):
 * its report must show 0 remaining blocks after the default suppressions.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  setlocale(LC_ALL, "");
  char *p = malloc(10000);
  memset(p, 0, 10000);
  free(p);
  printf("hello %d\n", 42);
  fprintf(stderr, "to stderr\n");
  return 0;
}

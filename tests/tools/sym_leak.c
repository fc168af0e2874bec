/* SPDX-License-Identifier: MIT */
/*
 * sym_leak.c - the leaking unit of the symbolizer tests (symbolize_clang.sh,
 * symbolize_changed.sh), built by the scripts with the compiler and flags
 * under test.  The marker comments name the lines the reports must show.
 * -DSYM_ADD_BEFORE adds a function before leak_here: a rebuild whose
 * addresses differ from the first build's.
 */
#include <stdlib.h>
#include <string.h>

void *volatile sym_sink; /* keeps each block reachable from nowhere else */

#ifdef SYM_ADD_BEFORE
__attribute__((noinline)) void added_before(int n) {
  char *p = calloc(1, 16 + (size_t)n);
  p[0] = (char)n;
  sym_sink = p;
  free(p);
}
#endif

__attribute__((noinline)) void leak_here(size_t n) {
  sym_sink = malloc(n); /* SYM-LEAK-LINE */
  memset(sym_sink, 1, n);
}

/* SPDX-License-Identifier: MIT */
/*
 * sym_main.c - the caller of sym_leak.c's leak_here, in a unit of its own so
 * that symbolize_clang.sh can build the two with different compilers.
 */
#include <stddef.h>

void leak_here(size_t n);

volatile int sym_calls; /* work after the call: no tail call at -O2 */

__attribute__((noinline)) static void sym_outer(void) {
  leak_here(4096); /* SYM-CALL-LINE */
  sym_calls++;
}

int main(void) {
  sym_outer();
  return 0;
}

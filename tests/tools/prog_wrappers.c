/* SPDX-License-Identifier: MIT */
/*
 * prog_wrappers.c - for tests/tools/trim.sh (--alloc-fn, --hide): leaks
 * through an allocator wrapper, as zmalloc or operator new do.
 *  - alloc_loop: one call site of xmalloc_wrap, two sizes; xmalloc_wrap
 *    takes calloc for odd sizes and malloc for even ones, so the two blocks
 *    have two stacks that differ only inside the wrapper (1501 + 1600 bytes).
 *  - dispatch(handler_a) and dispatch(handler_b), from one call site: two
 *    stacks that differ only in the handler frame (2000 + 3000 bytes).
 * Built -O1 with frame pointers (IT_CFLAGS); everything noinline.
 */
#include <stdlib.h>
#include <string.h>

static void *keep[8];
static int nkeep;

__attribute__((noinline)) void *xmalloc_wrap(size_t n) {
  void *p;
  if (n % 2)
    p = calloc(1, n);
  else
    p = malloc(n);
  if (!p) abort();
  __asm__ volatile("" ::: "memory"); // no tail call: the wrapper stays on the stack
  return p;
}

__attribute__((noinline)) void alloc_loop(void) {
  for (size_t i = 0; i < 2; i++) {
    void *p = xmalloc_wrap(1501 + 99 * i);
    memset(p, 1, 1501 + 99 * i);
    keep[nkeep++] = p;
  }
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void handler_a(void) {
  keep[nkeep++] = xmalloc_wrap(2000);
  __asm__ volatile("" ::: "memory");
}
__attribute__((noinline)) void handler_b(void) {
  keep[nkeep++] = xmalloc_wrap(3000);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void dispatch(void (*h)(void)) {
  h();
  __asm__ volatile("" ::: "memory");
}

int main(void) {
  static void (*const handlers[])(void) = {handler_a, handler_b};
  alloc_loop();
  for (int i = 0; i < 2; i++)
    dispatch(handlers[i]);
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * wrap_boundary_lib.c - a library linked with the link-time flavour
 * (-Wl,--wrap=malloc,... and libmemledger-wrap, shared or static) and
 * -finstrument-functions, for wrap_boundary.sh.  Its program
 * (wrap_boundary_prog.c) is not wrapped: blocks cross the boundary both
 * ways.
 */
#include "wrap_boundary_lib.h"
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

/* Pointers pass through here so that the compiler can neither drop a
 * malloc/free pair nor turn realloc(NULL, n) into malloc(n). */
static void *volatile wb_opaque;
static void *opaque(void *p) {
  wb_opaque = p;
  return wb_opaque;
}

NOINLINE void *wb_lib_alloc(size_t n) { return malloc(n); }
NOINLINE void wb_lib_free(void *p) { free(p); }
NOINLINE void *wb_lib_realloc(void *p, size_t n) { return realloc(p, n); }

static NOINLINE void *wb_leak_inner(size_t n) {
  char *p = malloc(n);
  if (p) memset(p, 0x5a, n);
  return p;
}
NOINLINE void *wb_lib_leak(size_t n) { return wb_leak_inner(n); }

/* Everything allocated here is freed here: nothing may be reported.
 * Returns the number of failed calls. */
NOINLINE int wb_lib_churn(void) {
  int bad = 0;
  for (int i = 0; i < 100; i++) {
    void *p = opaque(malloc(3000 + (size_t)i));
    bad += !p;
    free(p);
  }
  char *c = opaque(calloc(100, 40));
  bad += !c || c[3999] != 0;
  c = opaque(realloc(c, 50000)); /* tracked -> tracked */
  bad += !c;
  c = opaque(realloc(c, 100)); /* tracked -> below the threshold */
  bad += !c;
  c = opaque(realloc(c, 7000)); /* untracked -> tracked */
  bad += !c;
  free(c);
  void *q = NULL;
  bad += posix_memalign(&q, 64, 10000) != 0;
  free(q);
  q = opaque(aligned_alloc(256, 4096));
  bad += !q;
  free(q);
  q = opaque(memalign(128, 3000));
  bad += !q;
  free(q);
  q = opaque(valloc(5000));
  bad += !q;
  free(q);
  q = opaque(malloc(1500));
  q = opaque(reallocarray(q, 300, 10)); /* tracked -> tracked */
  bad += !q || malloc_usable_size(q) < 3000;
  free(q);
  return bad;
}

/* realloc(NULL, n) and reallocarray(NULL, m, s) are malloc: tracked like
 * it.  The pairs here are freed inside (nothing foreign); the last block,
 * from realloc(NULL, 4321), is returned (the caller leaks it). */
NOINLINE void *wb_lib_realloc_null(void) {
  void *q = reallocarray(opaque(NULL), 300, 10);
  free(opaque(q));
  q = realloc(opaque(NULL), 3500);
  free(opaque(q));
  return realloc(opaque(NULL), 4321);
}

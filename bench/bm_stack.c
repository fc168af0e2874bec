/* SPDX-License-Identifier: MIT */
/*
 * bm_stack.c - the fixed-depth call chain and the calibration of bm_stack.h.
 *
 * Calibration, for an unwinder: one tracked allocation made without a
 * return address for the recorder (bm_ml_malloc_unanchored; the own-frame
 * address range is empty, see bm_front_init) records the whole walk; the
 * position in it of a known return address (the allocating function's, into
 * the chain), minus one, is the number of the front's own frames, and its
 * length is what the unwinder walks.  Then one allocation through the real
 * front must record a stack that starts at the allocating function, with
 * skip_frames 0 (the recorder drops its frames down to the return address
 * of the allocation call) or, failing that, with skip_frames = own.  A raw
 * unwind from the same place walks fewer frames (no front, no recorder
 * above it); `pad` more chain frames make it walk as many.
 * For the shadow stack there is nothing to walk: only the second step.
 */
#include "bm_stack.h"
#include <stdio.h>

#if defined(__clang__)
#define BM_NOIPA __attribute__((noinline))
#else
#define BM_NOIPA __attribute__((noipa))
#endif

BM_NOIPA void bm_chain_run(unsigned depth, void (*fn)(void *), void *arg) {
  if (depth == 0)
    fn(arg);
  else
    bm_chain_run(depth - 1, fn, arg);
  __asm__ __volatile__("" : : : "memory"); /* not a tail call: keep the frame */
}

#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("omit-frame-pointer")))
#endif
BM_NOIPA void
bm_chain_run_nofp(unsigned depth, void (*fn)(void *), void *arg) {
  if (depth == 0)
    fn(arg);
  else
    bm_chain_run_nofp(depth - 1, fn, arg);
  __asm__ __volatile__("" : : : "memory");
}

typedef struct bm_cal_s {
  void *(*volatile fn_malloc)(size_t);
  bm_unwind_t mode;
  uintptr_t mark; // return address of the allocating function, into the chain
  void *p;        // its block
  unsigned raw;   // frames of a raw unwind
} bm_cal_t;

static BM_NOIPA void bm_cal_alloc(void *arg) {
  bm_cal_t *c = arg;
  c->mark = (uintptr_t)__builtin_return_address(0);
  c->p = c->fn_malloc(4096);
  __asm__ __volatile__("" : : : "memory");
}

static BM_NOIPA void bm_cal_raw(void *arg) {
  bm_cal_t *c = arg;
  uintptr_t frames[160];
  c->raw = bm_raw_unwind(c->mode, frames, 160);
  __asm__ __volatile__("" : : : "memory");
}

/* One tracked allocation through fn at the bottom of the chain; its
 * recorded stack into frames (160).  Returns the count, -1 if none. */
static int bm_cal_stack(bm_cal_t *c, unsigned depth, void *(*fn)(size_t),
                        uintptr_t *frames) {
  c->fn_malloc = fn;
  bm_chain_run(depth, bm_cal_alloc, c);
  int n = bm_front_stack_of(c->p, frames, 160);
  bm_ml_free(c->p);
  return n;
}

BM_NOIPA int bm_calibrate(bm_unwind_t mode, unsigned depth, bm_calib_t *out) {
  uintptr_t frames[160];
  bm_cal_t c = {.mode = mode};
  *out = (bm_calib_t){0};
  depth--; /* this function's frame stands for one of the chain's */
  if (mode == BM_UNWIND_NONE) {
    bm_front_set_unwind(mode, 0, 0);
    return 0;
  }

  /* 1. The whole walk (not for the shadow stack: nothing is walked). */
  unsigned full = 0;
  if (mode != BM_UNWIND_SHADOW) {
    bm_front_set_unwind(mode, 0, 128);
    int n = bm_cal_stack(&c, depth, bm_ml_malloc_unanchored, frames);
    int i = 0;
    while (i < n && frames[i] != c.mark)
      i++;
    if (n <= 0 || i == n || i == 0) {
      fprintf(stderr,
              "bm_calibrate(%s): the caller's frame is not in the recorded stack "
              "(%d frames)\n",
              bm_unwind_name(mode), n);
      return -1;
    }
    out->own = (unsigned)(i - 1);
    full = (unsigned)n;
  }

  /* 2. As the benchmark runs: the first frames kept must be the allocating
   * function's and its caller's. */
  int n = 0;
  for (int attempt = 0; attempt < 2; attempt++) {
    out->skip = attempt ? out->own : 0;
    bm_front_set_unwind(mode, out->skip, 0);
    n = bm_cal_stack(&c, depth, bm_ml_malloc, frames);
    if (n >= 2 && frames[1] == c.mark) break;
    n = -1;
  }
  if (n < 0) {
    fprintf(stderr, "bm_calibrate(%s): the front's stacks do not start at its caller\n",
            bm_unwind_name(mode));
    return -1;
  }
  out->kept = (unsigned)n;
  if (mode == BM_UNWIND_SHADOW) return 0;
  unsigned want = bm_front_want(out->skip, 0);
  out->walked = full < want ? full : want; /* the capture stops at want */

  /* 3. A raw unwind from the same depth. */
  bm_chain_run(depth, bm_cal_raw, &c);
  out->pad = c.raw < full ? full - c.raw : 0;
  return 0;
}

static BM_NOIPA void bm_hooks_leaf(void) { __asm__ __volatile__("" : : : "memory"); }

void bm_hooks_loop(uint64_t n) {
  for (uint64_t i = 0; i < n; i++)
    bm_hooks_leaf();
}

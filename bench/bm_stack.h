/* SPDX-License-Identifier: MIT */
/*
 * bm_stack.h - a call stack of fixed depth for the tracked-allocation
 * benchmarks, and the calibration that tells how many frames the front adds
 * above its caller and how many frames each unwinder walks from there.
 * Compiled with frame pointers, like the programs the fp unwinder is for,
 * and with -finstrument-functions, so that the chain also has a shadow
 * stack (the benchmark loops' helpers in bm.h are never instrumented).
 */
#ifndef BM_STACK_H
#define BM_STACK_H

#include "bm_front.h"

#define BM_CHAIN_DEPTH 15 // frames of bm_chain_run between the case and its body

/* Call fn(arg) at the bottom of `depth` nested (non-inlined, non-tail)
 * calls of one recursive function. */
void bm_chain_run(unsigned depth, void (*fn)(void *), void *arg);

/* The same chain compiled without frame pointers, as Debian builds its
 * programs and libraries: the eh walk then notes one word per frame (the
 * return address), not two (the saved %rbp too), so its cached captures
 * check half as many words.  The fp unwinder cannot walk it. */
void bm_chain_run_nofp(unsigned depth, void (*fn)(void *), void *arg);

typedef struct bm_calib_s {
  unsigned own;    // frames of the front and recorder above the allocating function
  unsigned skip;   // skip_frames the front needs (0 when it finds its caller itself)
  unsigned walked; // frames the unwinder walks for a tracked allocation (0: shadow)
  unsigned kept;   // frames recorded (up to MEMLEDGER_MAX_FRAMES)
  unsigned pad;    // extra depth for a raw unwind to walk `walked` frames
} bm_calib_t;

/* Calibrate `mode` for allocations made through bm_ml_malloc by a function
 * that the caller of bm_calibrate will run with bm_chain_run(depth, ...):
 * the calibration runs one frame deeper (its own) and so uses a chain one
 * shorter, to see the same stack.  Leaves the front set to `mode` with the
 * measured skip.  Allocates and frees a few tracked blocks.
 * pre: bm_front_init() succeeded; depth >= 1.  Returns 0, or -1 with a
 * message on stderr. */
int bm_calibrate(bm_unwind_t mode, unsigned depth, bm_calib_t *out);

/* n calls of an empty instrumented function: the price of the shadow
 * stack's hooks, paid on every call of an instrumented program. */
void bm_hooks_loop(uint64_t n);

#endif /* BM_STACK_H */

/* SPDX-License-Identifier: MIT */
/*
 * track.h - the recorder: the only API the fronts (preload.c, wrap.c) call,
 * plus the core state they read (layer: core).
 *
 * A block is tracked iff its usable size is at least ml_gate.threshold; for
 * malloc-like calls that is the same as request size >= ml_gate.cutoff,
 * computed once at init, so the untracked paths compare and call jemalloc.
 * Before init both are 0, so the first call of any kind reaches the recorder,
 * which initialises.  Every entry point runs its work under the thread's
 * recursion guard; a call made while the guard is set (an allocation by the
 * tracker itself, by libunwind or by a dump) records nothing.  The state it
 * shares with the rest of the core is in core.h.
 * Entry points save and restore errno.  Not for signal handlers.
 */
#ifndef ML_TRACK_H
#define ML_TRACK_H

#include "core.h"

/* Make sure the core is initialised.  Returns true when recording is on
 * (state READY); false when disabled, shut down, or when called recursively
 * from inside initialisation. */
bool ml_init_maybe(void) ML_HIDDEN;

/* Process start, called by the front's constructor: initialise if no
 * allocation did yet, re-read options that were not readable then, flush
 * early messages, and set up fork handlers, the exit dump and the dump
 * signal (triggers.h; virtual_signals: the front hides memledger's signal
 * handlers from the program).  The core itself has no constructor, so unit
 * tests that link it start nothing. */
void ml_init_process(bool virtual_signals) ML_HIDDEN;

/* ---- recording ---------------------------------------------------------- */

/* p (non-NULL) was just allocated with request size `size` and is tracked
 * (usable size >= threshold; checked again here when called before init).
 * ra: the return address of the allocation call (the program's frame; our
 * frames above it are dropped); anchor: a frame address at the level of
 * the function the program called (the exported malloc); 0 when unknown.
 * Returns p (so that a front can end in a tail call). */
void *ml_track_alloc_from(void *p, size_t size, uintptr_t ra, uintptr_t anchor) ML_HIDDEN;
/* ra and anchor as the fronts take them, in the exported function itself
 * (their bodies are inlined into it). */
#define ML_RA ((uintptr_t)__builtin_return_address(0))
/* The exported function's frame address, where its frame pointer would be
 * (the call's CFA less the return address and the saved %rbp): gcc's
 * __builtin_dwarf_cfa needs no frame set up, so a front whose calls are
 * all tail calls has none (3 instructions less on untracked realloc). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ML_FA ((uintptr_t)__builtin_dwarf_cfa() - 16)
#else
#define ML_FA ((uintptr_t)__builtin_frame_address(0))
#endif
ML_INLINE void ml_track_alloc(void *p, size_t size) { (void)ml_track_alloc_from(p, size, 0, 0); }
/* p, whose page is marked in the page map, is about to be freed: remove its
 * record.  Returns true when p had one. */
bool ml_track_free(void *p) ML_HIDDEN;
/* realloc: take p's record out (into *out, may be NULL) before the backend
 * call (true when it had one); put it back if the call fails, or with a new
 * size after an in-place resize (taken_size: its size when taken). */
bool ml_track_take(void *p, ml_rec_t *out) ML_HIDDEN;
void ml_track_put_back(const ml_rec_t *r, size_t taken_size) ML_HIDDEN;
/* The record of p, wherever it is (the shared tables or a thread's cache,
 * young.h), without removing it. */
bool ml_track_find(uintptr_t p, ml_rec_t *out) ML_HIDDEN;
/* Every record's counters, summed. */
void ml_track_counts(ml_counts_t *out) ML_HIDDEN;

/* A free of a block of tracked size that had no record (link-time mode: it
 * was allocated outside the wrapped code). */
void ml_track_foreign_free(void) ML_HIDDEN;

/* Capture the caller's stack and intern it (tests). */
uint32_t ml_track_stack_id(void) ML_HIDDEN;

#endif /* ML_TRACK_H */

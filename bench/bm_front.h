/* SPDX-License-Identifier: MIT */
/*
 * bm_front.h - memledger's front and jemalloc alone, side by side in one
 * process, for the hot-path benchmarks (bm_hotpath.c, bm_callgrind.c).
 *
 * bm_front.c compiles the interposed bodies of src/front.h into four
 * out-of-line functions, the way src/preload.c compiles malloc and free, and
 * links them with the core (libcore) and the renamed jemalloc archive
 * (libjemalloc_ml.a).  The program's own malloc stays glibc's: only these
 * functions reach memledger or jemalloc, so both sides use the same jemalloc
 * heap and only the front differs.  Callers should reach them through a
 * function pointer, as a program reaches malloc through its PLT.
 */
#ifndef BM_FRONT_H
#define BM_FRONT_H

#include <stddef.h>
#include <stdint.h>

/* The two sides: memledger's malloc/free bodies and jemalloc's malloc/free. */
void *bm_ml_malloc(size_t n);
void bm_ml_free(void *p);
void *bm_je_malloc(size_t n);
/* bm_ml_malloc's tracked path with no return address for the recorder to
 * drop its own frames by (calibration only: see bm_stack.c). */
void *bm_ml_malloc_unanchored(size_t n);
void bm_je_free(void *p);
/* calloc(1, n), aligned_alloc(64, n), and realloc(malloc(n / 2), n): the
 * allocating half of a pair whose other half is bm_ml_free/bm_je_free. */
void *bm_ml_calloc1(size_t n);
void *bm_je_calloc1(size_t n);
void *bm_ml_aligned64(size_t n);
void *bm_je_aligned64(size_t n);
void *bm_ml_realloc_grow(size_t n);
void *bm_je_realloc_grow(size_t n);
/* calloc, realloc and aligned_alloc themselves, each side. */
void *bm_ml_calloc_mn(size_t m, size_t n);
void *bm_je_calloc_mn(size_t m, size_t n);
void *bm_ml_realloc_pn(void *p, size_t n);
void *bm_je_realloc_pn(void *p, size_t n);
void *bm_ml_aligned_an(size_t a, size_t n);
void *bm_je_aligned_an(size_t a, size_t n);

/* Unwinders (memledger's MEMLEDGER_UNWIND values). */
typedef enum bm_unwind_e {
  BM_UNWIND_LIBUNWIND = 1,
  BM_UNWIND_FP = 2,
  BM_UNWIND_NONE = 3,
  BM_UNWIND_SHADOW = 4, // copy of the -finstrument-functions shadow stack
  BM_UNWIND_EH = 5,     // memledger's .eh_frame unwinder (the default)
} bm_unwind_t;

/* The unwinder's MEMLEDGER_UNWIND name (ml_unwind_mode_name). */
const char *bm_unwind_name(bm_unwind_t mode);

/* Start the core as libmemledger.so's constructor does (ml_init_process),
 * with dumps and the dump signal off; must run before the first bm_ml_*
 * call.  Returns 0 when recording, -1 (with a message on stderr) if not. */
int bm_front_init(void);

/* jemalloc's version string. */
const char *bm_front_jemalloc_version(void);

/* Blocks whose usable size is at least this are tracked. */
size_t bm_front_threshold(void);
/* The smallest request memledger tracks (its gate's cut-off: the first size
 * jemalloc rounds up to the threshold or more). */
size_t bm_front_cutoff(void);

/* on: track every block from now on (the gate of MEMLEDGER_MIN_SIZE=0);
 * off: the gate the front started with. */
void bm_front_track_all(int on);

/* Stack capture for the tracked allocations that follow: unwinder, frames
 * dropped above the caller (the front's own, see bm_front_calibrate), and
 * the depth kept (0 = MEMLEDGER_MAX_FRAMES).  Plain stores read by each
 * tracked allocation: call with no bm_ml_* call running on other threads. */
void bm_front_set_unwind(bm_unwind_t mode, unsigned skip, unsigned max_frames);

/* Frames the unwinder is asked for by a capture with these settings (what
 * ml_unwind_capture asks for), for a raw unwind of the same length. */
unsigned bm_front_want(unsigned skip, unsigned max_frames);

/* The recorded stack of tracked block p: up to max frames into out,
 * innermost first.  Returns the count, or -1 when p has no record. */
int bm_front_stack_of(void *p, uintptr_t *out, unsigned max);

/* Tracked allocations recorded since start (all arenas; takes their locks). */
uint64_t bm_front_tracked_allocs(void);

/* Captures answered by the eh walk cache (capture.h), all threads. */
uint64_t bm_front_capture_hits(void);

/* Tracked blocks live right now (records in all arenas; takes their locks). */
uint64_t bm_front_tracked_live(void);

/* One call of the raw unwinder, without own-frame filtering or interning:
 * ml_unwind_libunwind or ml_unwind_fp. */
unsigned bm_raw_unwind(bm_unwind_t mode, uintptr_t *frames, unsigned max);

/* Parts of the tracked path, each run n times in a loop here (no call per
 * iteration), to see where a tracked pair's time goes:
 *   BM_PART_LOCK    ml_lock + ml_unlock of an uncontended arena-style lock
 *                   (a tracked pair takes two: insert and remove)
 *   BM_PART_HASH    ml_stacks_hash of nframes frames
 *   BM_PART_INTERN  ml_stacks_intern of an already interned nframes stack
 *   BM_PART_TABLE   ml_tables_insert + ml_tables_remove of one record (the
 *                   shared tables: a record that outlived its thread's cache)
 *   BM_PART_YOUNG   ml_young_insert + ml_young_take_own of one record (the
 *                   thread's cache, young.h: a block freed young)
 *   BM_PART_TAKE_TABLES  with BM_PART_THREADS threads' caches made: a record
 *                   put in the shared tables, then taken out by a thread
 *                   whose cache does not have it (a long-lived block freed),
 *                   the page's byte naming another cache (nframes 1) or none
 *                   (nframes 0: every cache is looked at first)
 * The frames are made-up return addresses; BM_PART_TABLE and BM_PART_YOUNG
 * insert records (counted by bm_front_tracked_allocs) for an address no
 * block has. */
typedef enum bm_part_e {
  BM_PART_LOCK,
  BM_PART_HASH,
  BM_PART_INTERN,
  BM_PART_TABLE,
  BM_PART_CAPTURE, // ml_capture_eh from one call site: a cache hit
  BM_PART_YOUNG,
  BM_PART_TAKE_TABLES
} bm_part_t;
#define BM_PART_THREADS 64
void bm_part_loop(bm_part_t part, uint64_t n, unsigned nframes);

#endif /* BM_FRONT_H */

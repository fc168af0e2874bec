/* SPDX-License-Identifier: MIT */
/*
 * memledger.h - the public API of libmemledger.
 *
 * The library works without any call from the program: preload it
 * (LD_PRELOAD=libmemledger.so, or `memledger run -- prog`) or link it
 * (pkg-config --libs memledger).  These functions let a program ask for a
 * dump at a moment of its choosing and read the live counters.  They are
 * thread-safe; none may be called from a signal handler.
 */
#ifndef MEMLEDGER_H
#define MEMLEDGER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMLEDGER_API __attribute__((visibility("default")))

#define MEMLEDGER_VERSION_MAJOR 0
#define MEMLEDGER_VERSION_MINOR 1
#define MEMLEDGER_VERSION_PATCH 0
#define MEMLEDGER_VERSION "0.1.0"

/* The library's version string, e.g. "0.1.0". */
MEMLEDGER_API const char *memledger_version(void);

/* Write a dump now (format: doc/dump-format.md) into MEMLEDGER_DIR.
 * On success returns 0 and, when path is not NULL, stores the file's path
 * there (NUL-terminated, truncated to size).  On failure returns -1 with
 * errno set (EAGAIN: tracking is off or not initialised). */
MEMLEDGER_API int memledger_dump(char *path, size_t size);

/* Live counters of tracked blocks (usable size >= the threshold). */
typedef struct memledger_stats_s {
  uint64_t threshold;        /* MEMLEDGER_MIN_SIZE in effect */
  uint64_t tracked_allocs;   /* tracked allocations recorded */
  uint64_t tracked_frees;    /* tracked frees seen */
  uint64_t live_blocks;      /* tracked blocks not freed yet */
  uint64_t live_bytes;       /* their requested bytes */
  uint64_t dropped_records;  /* allocations not recorded (tables full) */
  uint64_t stacks;           /* distinct stacks interned */
} memledger_stats_t;

/* Fill *out.  Returns 0, or -1 when tracking is off (fields then zero). */
MEMLEDGER_API int memledger_stats(memledger_stats_t *out);

#ifdef __cplusplus
}
#endif
#endif /* MEMLEDGER_H */

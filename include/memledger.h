/* SPDX-License-Identifier: MIT */
/*
 * memledger.h - the public API of libmemledger.
 *
 * The library works without any call from the program: preload it
 * (LD_PRELOAD=libmemledger.so, or `memledger run -- prog`) or link it
 * (pkg-config --libs memledger).  These functions let a program ask for a
 * dump or a leak check at a moment of its choosing, read the live
 * counters, and steer the leak scan as LeakSanitizer's interface does.
 * They are thread-safe; none may be called from a signal handler.
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

/* ---- leak checking (the interface LeakSanitizer users know) ---------------
 * The kinds are memcheck's (doc/dump-format.md, "The leak kinds"); only
 * tracked blocks (usable size >= MEMLEDGER_MIN_SIZE) are ever classified. */

/* What one leak check found: blocks and requested bytes per kind. */
typedef struct memledger_leaks_s {
  int checked;               /* 1: the leak scan ran; 0: no verdict */
  int error;                 /* 0, or an errno: EAGAIN tracking is off,
                                ENODATA the scan was off or failed (checked
                                0), else why the dump was not written */
  uint64_t definite_blocks, definite_bytes;   /* definitely lost */
  uint64_t indirect_blocks, indirect_bytes;   /* indirectly lost */
  uint64_t possible_blocks, possible_bytes;   /* possibly lost */
  uint64_t reachable_blocks, reachable_bytes; /* still reachable (and ignored) */
  char dump[4096];           /* the dump written ("" when none) */
} memledger_leaks_t;

/* A leak check now, like __lsan_do_recoverable_leak_check(): the program
 * waits only for a fork; a snapshot process scans and writes a dump with
 * trigger "leak-check" (`memledger report` shows where the leaks come
 * from).  Returns 1 when definitely or indirectly lost blocks were found,
 * else 0 (also when no verdict could be had: see out->checked).  Fills
 * *out when out is not NULL.  Suppressions are not applied here (they need
 * symbols, which only the report has): the report's verdict, and
 * `memledger run --fail-on-leak`, apply them.  One line on stderr when
 * something is lost (unless MEMLEDGER_QUIET). */
MEMLEDGER_API int memledger_leak_check(memledger_leaks_t *out);

/* The tracked block that starts at p is never reported as lost, like
 * __lsan_ignore_object(): every later scan counts it as still reachable,
 * and what it points to as reachable through it.  It stays in the counts
 * and dumps (a free of it is seen as usual).  A pointer that is not the
 * start of a tracked block is ignored silently.  Up to 4096 ignored blocks
 * may be live at a time (one warning beyond that). */
MEMLEDGER_API void memledger_ignore_object(const void *p);

/* Allocations this thread makes until the matching memledger_enable() are
 * not tracked (never in a dump, never lost), like __lsan_disable() and
 * __lsan_enable(); calls nest (a per-thread count).  Frees of tracked
 * blocks made meanwhile are still seen; a realloc of a tracked block
 * there ends its record and the new block is not tracked.  An enable
 * without a disable is ignored with one warning. */
MEMLEDGER_API void memledger_disable(void);
MEMLEDGER_API void memledger_enable(void);

/* Scan [p, p + size) as a root in every later leak scan, word by word and
 * whatever it holds, like __lsan_register_root_region() (memory the scan
 * would not treat as a root: a shared mapping, a tracked block, memory of
 * jemalloc's heap with MEMLEDGER_MIN_SIZE=0).  Up to 256 regions at a time
 * (one warning beyond); an unreadable part ends the region's scan.
 * Unregister with exactly the same bounds (one warning when no such region
 * was registered). */
MEMLEDGER_API void memledger_register_root_region(const void *p, size_t size);
MEMLEDGER_API void memledger_unregister_root_region(const void *p, size_t size);

/* Default suppressions compiled into the program, like
 * __lsan_default_suppressions(): define this function in the program (it is
 * not part of the library) to return suppression rules, in memledger's
 * syntax or LSan's `leak:PATTERN` lines (memledger(1), SUPPRESSIONS).  The
 * library calls it once, at process start (before the program's own
 * constructors: return a string constant), and writes the text into every
 * dump's header; `memledger report` applies it after its built-in rules
 * (--no-default-suppressions turns both off).  With the preload, the
 * executable must export the function: link it with
 * -Wl,--export-dynamic-symbol=memledger_default_suppressions (or -rdynamic,
 * or with libmemledger itself). */
const char *memledger_default_suppressions(void);

#ifdef __cplusplus
}
#endif
#endif /* MEMLEDGER_H */

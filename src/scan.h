/* SPDX-License-Identifier: MIT */
/*
 * scan.h - the reachability scan that sorts unfreed tracked blocks into
 * memcheck's leak kinds (layer: output; used by the dump writer).
 *
 * A scan copies every record into memory of its own (mmap'd, MAP_SHARED),
 * sorts it by address, and marks from the roots (writable memory of the
 * process that is not a tracked block, not memledger's and not jemalloc's
 * metadata) with memcheck's algorithm.  Marking runs only in a process that
 * holds a frozen copy of the address space: a dump's snapshot child marks
 * in place; a dump written by a program's thread (the exit dump) forks a
 * helper child that marks and hands the kinds back through the shared
 * mapping.  The program's threads never scan.  Never calls malloc, stdio
 * or jemalloc (only nallocx for sizes, as the collect stage does).
 */
#ifndef ML_SCAN_H
#define ML_SCAN_H

#include "internal.h"
#include "table.h"

/* The kinds, in one list: id, the dump's word (doc/dump-format.md). */
#define ML_KINDS(X)                                                            \
  X(UNKNOWN, "-")           /* not classified (no scan, or it failed) */      \
  X(DEFINITE, "definite")   /* no pointer to it from roots or reachable */    \
  X(INDIRECT, "indirect")   /* pointed to only from lost blocks */            \
  X(POSSIBLE, "possible")   /* reachable only through interior pointers */    \
  X(REACHABLE, "reachable") /* a pointer to its start from roots */

typedef enum ml_kind_e {
#define ML_KIND_ENUM(id, name) ML_KIND_##id,
  ML_KINDS(ML_KIND_ENUM)
#undef ML_KIND_ENUM
  ML_KIND_COUNT
} ml_kind_t;

const char *ml_kind_name(unsigned k) ML_HIDDEN;

typedef struct ml_scan_s {
  ml_rec_t *recs;        // n records sorted by address (MAP_SHARED)
  uint8_t *kind;         // n kinds (ml_kind_t), in the same mapping
  size_t n, cap;         // records, room
  size_t map_bytes;      // size of that mapping
  ml_counts_t counts;    // every arena's counters, summed
  bool classified;       // kind[] holds the scan's answer
  const char *why;       // when not classified: why ("" before trying)
  uint64_t ns;           // time spent marking
  uint64_t root_bytes;   // root memory scanned
  uint64_t block_bytes;  // tracked block memory scanned
  uint64_t faults;       // ranges cut short by an unreadable page
  uint64_t absent_bytes; // root and block memory not read: pages neither in
                         // memory nor in swap (never written, or discarded)
  uint64_t lock_ns;      // collect in a thread: longest time an arena was locked
  uintptr_t skip_lo, skip_hi; // a band of the dumping thread's stack not read
                              // (ml_dump_req_t.skip_lo); 0, 0: none
  int where;                  // where the marking ran (ml_scan_where_t)
} ml_scan_t;

/* Copy every record and the counters into a fresh scan (frozen: without
 * locks, for a snapshot child; else each arena under its lock).  Returns 0,
 * or ENOMEM (nothing mapped).  async-signal-safe when frozen. */
int ml_scan_collect(ml_scan_t *s, bool frozen) ML_HIDDEN;

/* Where the marking runs. */
typedef enum ml_scan_where_e {
  ML_SCAN_SNAPSHOT, // the caller is a snapshot child: here
  ML_SCAN_HELPER,   // a helper child forked here (raw clone, invisible to
                    // the program), with a frozen copy of the program
  ML_SCAN_SELF,     // here, in the program's process, whose only thread is
                    // the caller (nothing runs beside the marking: the
                    // thread's signals are held back meanwhile); memory is
                    // read by copies (process_vm_readv), so no fault handler
                    // is needed, and no fork: a fork and its page tables
                    // were most of a short program's exit dump
} ml_scan_where_t;

/* Classify the collected records.  sp: the lowest address of the calling
 * thread's stack that is the program's (the dump's own frames lie below
 * it; the caller saves its callee-saved registers above it).  where:
 * ML_SCAN_SELF only when the process has no other thread; it becomes
 * ML_SCAN_HELPER where memory cannot be copied (a kernel without
 * process_vm_readv).  s->where says where the marking ran.  On failure s->classified
 * stays false and s->why says why. */
void ml_scan_classify(ml_scan_t *s, uintptr_t sp, ml_scan_where_t where) ML_HIDDEN;

/* The name of where a marking ran, for the dump ("snapshot", "helper",
 * "self"). */
const char *ml_scan_where_name(ml_scan_where_t where) ML_HIDDEN;

/* Store the callee-saved registers in regs[0..ML_SCAN_NREGS) (so that a
 * pointer held only in one is on the stack, above sp). */
#define ML_SCAN_NREGS 16
void ml_scan_save_regs(uintptr_t *regs) ML_HIDDEN;

/* Re-key every record for grouping by (stack, kind): ptr becomes
 * stack << 3 | kind (stack ids above max_stack become 0), then sort.
 * The addresses are gone afterwards. */
void ml_scan_sort_by_stack_kind(ml_scan_t *s, size_t max_stack) ML_HIDDEN;

void ml_scan_release(ml_scan_t *s) ML_HIDDEN;

/* jemalloc's own mappings, noted by the hooks (jehooks.c) so the scan can
 * tell metadata (never a root: it points at every large block) from the
 * heap (a root only while blocks below the threshold are untracked).
 * async-signal-safe, lock-free. */
typedef enum ml_jemap_e { ML_JEMAP_META, ML_JEMAP_HEAP } ml_jemap_t;
#define ML_JEMAPS 4096
typedef struct ml_jemaps_s {
  _Atomic unsigned n;        // slots taken
  _Atomic bool incomplete;   // a mapping was not noted (full, or cut partly)
  struct {
    _Atomic uintptr_t lo;    // 0: unused or gone
    uintptr_t hi;
  } r[ML_JEMAPS];
} ml_jemaps_t;
/* The ranges noted so far (jehooks.c, which the scan thereby links in). */
const ml_jemaps_t *ml_jemaps_get(ml_jemap_t what) ML_HIDDEN;
void ml_scan_note_map(ml_jemap_t what, void *addr, size_t size) ML_HIDDEN;
void ml_scan_note_unmap(ml_jemap_t what, void *addr, size_t size) ML_HIDDEN;

/* The program's registrations (memledger.h), read by every later scan.
 * Lock-free, no malloc; not async-signal-safe (ml_scan_ignore looks the
 * block up under its arena's lock). */
/* A range of memory to scan as a root whatever it holds (up to 256 at a
 * time; a range may be added twice).  false: the table is full or the
 * range is empty. */
bool ml_scan_add_root(const void *addr, size_t size) ML_HIDDEN;
/* Remove one range added with exactly these bounds.  false: none was. */
bool ml_scan_remove_root(const void *addr, size_t size) ML_HIDDEN;
/* The tracked block starting at p is reachable in every later scan (until
 * it is freed; a block allocated later at the same address is not).
 * Returns 0, 1 when p is not the start of a recorded block, -1 when the
 * table (4096 blocks still live) is full. */
int ml_scan_ignore(const void *p) ML_HIDDEN;

#endif /* ML_SCAN_H */

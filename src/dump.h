/* SPDX-License-Identifier: MIT */
/*
 * dump.h - the dump writer (layer: output).  Format: doc/dump-format.md.
 *
 * One dump is written in four stages: collect (dump_collect.c: the unfreed
 * records aggregated per stack), open (an anonymous O_TMPFILE, or a
 * temporary name nobody can guess), write (dump_write.c: header, totals,
 * resources, modules, stacks, unfreed blocks) and publish (linked in under
 * "memledger.<pid>.<n>.dump", never replacing a file).  It runs either in a
 * program's thread (the exit dump, tests: tables read under their locks) or
 * in a snapshot child (triggers.c: tables read frozen, without locks, from
 * a copy of the address space).  Never calls malloc, stdio, jemalloc or the
 * loader; scratch memory is mmap'd and reserved ahead (ml_dump_reserve).
 * Serialised by the dump lock in the program; a snapshot child is alone.
 */
#ifndef ML_DUMP_H
#define ML_DUMP_H

#include "internal.h"
#include "lock.h"
#include "scan.h"
#include <sys/types.h>

#define ML_DUMP_FORMAT_VERSION 2

/* Why a dump was written (the header's `trigger:`), in one list. */
#define ML_TRIGGERS(X)                                                         \
  X(SIGNAL, "signal")             /* the dump signal */                        \
  X(EXIT, "exit")                 /* normal exit, after every destructor */    \
  X(API, "api")                   /* memledger_dump() */                       \
  X(FATAL, "fatal-signal")        /* SIGTERM, SIGINT, SIGHUP, SIGQUIT */       \
  X(CRASH, "crash")               /* SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL */ \
  X(INTERVAL, "interval")         /* MEMLEDGER_INTERVAL's timer */             \
  X(LIMIT, "limit")               /* MEMLEDGER_DUMP_AT reached */              \
  X(ALLOC_FAILURE, "alloc-failure") /* the first allocation that failed */ \
  X(LEAK_CHECK, "leak-check")     /* memledger_leak_check() */

typedef enum ml_trigger_e {
#define ML_TRIGGER_ENUM(id, name) ML_TRIGGER_##id,
  ML_TRIGGERS(ML_TRIGGER_ENUM)
#undef ML_TRIGGER_ENUM
} ml_trigger_t;

const char *ml_trigger_name(ml_trigger_t t) ML_HIDDEN;

typedef struct ml_dump_result_s {
  uint64_t blocks;  // unfreed tracked blocks
  uint64_t bytes;   // their requested bytes
  uint64_t stacks;  // distinct stacks among them
  uint64_t pause_ns;// in a thread: longest time one arena was locked;
                    // from a snapshot: the fork, as the signalled thread saw it
  uint64_t total_ns;// time to the published file
  bool classified;  // the leak scan gave every block a kind
  uint64_t lost;    // then: definitely and indirectly lost blocks
  uint64_t kind_blocks[ML_KIND_COUNT]; // then: blocks of each kind
  uint64_t kind_bytes[ML_KIND_COUNT];  // and their requested bytes
  int err;          // 0, or the errno of the first failure
  char path[4096];  // the file written ("" on failure)
} ml_dump_result_t;

/* Where the previous dump of this process stood: blocks with a sequence
 * number from `seq` on were allocated after it (the first dump: since the
 * start, seq 0, ns 0). */
typedef struct ml_dump_since_s {
  uint64_t seq, ns;
} ml_dump_since_t;

/* A dump taken at `now_ns` (CLOCK_REALTIME) marks the present: returns the
 * previous dump's mark and makes this one the next dump's.  Blocks that
 * other threads allocate while the mark is taken may land on either side.
 * Lock-free, async-signal-safe. */
ml_dump_since_t ml_dump_mark(uint64_t now_ns) ML_HIDDEN;

/* What crossed MEMLEDGER_DUMP_AT (a limit dump's `limit_reason:`). */
#define ML_LIMIT_TRACKED 1  /* the tracked live bytes */
#define ML_LIMIT_RESIDENT 2 /* the resident size (its peak, ru_maxrss) */

/* What to dump and how. */
typedef struct ml_dump_req_s {
  ml_trigger_t trigger;
  int signo;        // the signal behind a fatal-signal or crash dump; for a
                    // limit dump the quantity that crossed (ML_LIMIT_*); else 0
  bool frozen;      // read the tables without locks (a snapshot child)
  pid_t pid;        // the program's pid (a snapshot child has its own)
  uint64_t time_ns; // CLOCK_REALTIME of the state dumped (a snapshot: just
                    // before the fork); 0: when the header is written
  ml_dump_since_t since; // the previous dump's mark (ml_dump_mark)
  uintptr_t root;   // the leak scan reads the dumping thread's stack from
                    // here up, the program's registers saved at or above it
                    // (a signal's context, the exit handler's saved
                    // registers): the dump's own frames below hold stale
                    // words (blocks' addresses the recorder handled long
                    // ago) that are no roots; 0: from ml_dump_write_req's
                    // own frame
  uintptr_t skip_lo, skip_hi; // and not in [skip_lo, skip_hi) above the root:
                    // frames of libc's exit machinery (ml_triggers_at_exit)
} ml_dump_req_t;

/* Memory shared between the program and its snapshot children (a
 * MAP_SHARED page after ml_dump_share; a private one before). */
#define ML_DUMP_SLOTS 4
typedef struct ml_dump_shared_s {
  _Atomic unsigned seq;      // dump numbers handed out
  _Atomic unsigned finished; // snapshot children that have finished
  int failed_once[4];        // a kind of failure was reported (ml_log_once)
  struct {
    _Atomic unsigned req;    // the request whose result this is
    ml_dump_result_t res;
  } slot[ML_DUMP_SLOTS];     // results for waiting requesters, req % SLOTS
} ml_dump_shared_t;
extern ml_dump_shared_t *ml_dump_shared ML_HIDDEN;

extern ml_lock_t ml_dump_lock ML_HIDDEN; /* taken by fork's prepare first */

/* Write one dump in the calling thread, tables read under their locks.
 * Returns 0, or -1 with res->err set (reported once on stderr per kind of
 * failure).  pre: the caller's recursion guard is set. */
int ml_dump_write(ml_trigger_t trigger, ml_dump_result_t *res) ML_HIDDEN;
/* The same with the scan's stack root and band not read (ml_dump_req_t). */
int ml_dump_write_from(ml_trigger_t trigger, ml_dump_result_t *res, uintptr_t root,
                       uintptr_t skip_lo, uintptr_t skip_hi) ML_HIDDEN;
/* The same for any request; a frozen one takes no lock at all
 * (async-signal-safe, for a snapshot child). */
int ml_dump_write_req(const ml_dump_req_t *req, ml_dump_result_t *res) ML_HIDDEN;

/* Map the shared page (process start, and a forked child of the program,
 * which starts its own dump numbering).  Returns false when it cannot be
 * mapped (dumps still work; waiting for a snapshot's result does not). */
bool ml_dump_share(void) ML_HIDDEN;
/* The child after fork starts its own dump numbering. */
void ml_dump_after_fork_child(void) ML_HIDDEN;

/* The program's compiled-in default suppressions (the weak hook
 * memledger_default_suppressions of memledger.h), asked for once, here at
 * process start (never from a signal handler or a snapshot child), and
 * written into every dump's header. */
void ml_dump_load_suppressions(void) ML_HIDDEN;

/* Make sure the scratch memory a dump needs for `nstacks` stacks is mapped
 * now, so that a dump still works once an address-space limit is reached
 * (and a snapshot child maps nothing).  async-signal-safe. */
bool ml_dump_reserve(size_t nstacks) ML_HIDDEN;

/* ---- internal to the writer (dump_collect.c, dump_write.c) --------------- */

typedef struct ml_acc_s {
  uint64_t blocks, bytes, usable;
  uint64_t min_size, max_size, oldest_seq;
  uint64_t res_refs; // resource records (res.h) created by this stack
  uint64_t newer, newer_bytes; // blocks allocated since the previous dump
} ml_acc_t;

/* Is the stack written to [stacks]: unfreed blocks or resources have it? */
ML_INLINE bool ml_acc_listed(const ml_acc_t *a) { return a->blocks || a->res_refs; }

/* What collect found. */
typedef struct ml_collect_s {
  ml_acc_t *acc;        // per stack id, 0..nstacks
  size_t nstacks;       // stack ids 1..nstacks were published
  uint64_t usable;      // usable bytes of the unfreed tracked blocks
  ml_counts_t n;         // every arena's counters, summed (live: unused)
} ml_collect_t;

/* Stage 1: aggregate every record per stack into the reserved scratch:
 * the records of scan when given (a copy taken by ml_scan_collect), else
 * the tables'.  Returns 0 or ENOMEM (scratch too small and not growable). */
int ml_dump_collect(bool frozen, ml_collect_t *c, ml_dump_result_t *res,
                    const ml_scan_t *scan, uint64_t since_seq) ML_HIDDEN;

#endif /* ML_DUMP_H */

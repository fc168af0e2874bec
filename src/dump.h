/* SPDX-License-Identifier: MIT */
/*
 * dump.h - the dump writer (layer: output).  Format: doc/dump-format.md.
 *
 * ml_dump_write snapshots the arenas one at a time (each locked only while
 * its records are copied), aggregates per stack, and writes the file through
 * a fixed buffer to a temporary name, renamed (without replacing anything)
 * when complete.  Serialised by the dump lock.  Allocates nothing through
 * malloc (scratch memory is mmap'd).  Must not run in a signal handler.
 */
#ifndef ML_DUMP_H
#define ML_DUMP_H

#include "internal.h"
#include "lock.h"

#define ML_DUMP_FORMAT_VERSION 1

typedef enum ml_trigger_e {
  ML_TRIGGER_SIGNAL,
  ML_TRIGGER_EXIT,
  ML_TRIGGER_API,
} ml_trigger_t;

typedef struct ml_dump_result_s {
  uint64_t blocks;  // unfreed tracked blocks
  uint64_t bytes;   // their requested bytes
  uint64_t stacks;  // distinct stacks among them
  uint64_t pause_ns;// longest time one arena was locked
  uint64_t total_ns;// time to the renamed file
  int err;          // 0, or the errno of the first failure
  char path[4096];  // the file written ("" on failure)
} ml_dump_result_t;

extern ml_lock_t ml_dump_lock ML_HIDDEN; /* taken by fork's prepare first */

/* Write one dump.  Returns 0, or -1 with res->err set (reported once on
 * stderr per kind of failure).  pre: the caller's recursion guard is set. */
int ml_dump_write(ml_trigger_t trigger, ml_dump_result_t *res) ML_HIDDEN;

/* The child after fork starts its own dump numbering. */
void ml_dump_after_fork_child(void) ML_HIDDEN;

#endif /* ML_DUMP_H */

/* SPDX-License-Identifier: MIT */
/*
 * res.h - the program's resources besides the heap (layer: recording):
 * descriptors (res_fd.c), threads (res_thread.c) and the program's own
 * anonymous mappings (res_map.c), each recorded with the stack that created
 * it and listed in every dump, one section per resource ([fds], [threads],
 * [mappings]; doc/dump-format.md), all with one line shape:
 *
 *   <stack|-> <kind> <bytes> <id> <detail>
 *
 * The writer (dump_collect.c, dump_write.c) knows resources only through
 * ML_RES_SECTIONS and the visitors below.  A visitor lists the live
 * records; it runs either in a snapshot child (frozen: no lock may be
 * taken, the records are read as the fork left them, each whole or not at
 * all) or in a thread holding the dump lock (the exit dump, tests).  It
 * never allocates and is async-signal-safe; `detail` may point into a
 * buffer of the visitor's that lives until emit returns.
 */
#ifndef ML_RES_H
#define ML_RES_H

#include "internal.h"

typedef struct ml_res_line_s {
  uint32_t stack;     // interned creation stack; 0: not recorded ("-")
  const char *kind;   // one word, no blank: file, socket...; running, ended...
  uint64_t bytes;     // memory it holds, 0 where that does not apply
  uint64_t id;        // descriptor number, thread id, start address
  const char *detail; // the rest of the line, may be NULL (written as "-")
} ml_res_line_t;

typedef void (*ml_res_emit_t)(void *ctx, const ml_res_line_t *l);
typedef void (*ml_res_visit_t)(bool frozen, ml_res_emit_t emit, void *ctx);

void ml_res_fds_visit(bool frozen, ml_res_emit_t emit, void *ctx) ML_HIDDEN;
void ml_res_threads_visit(bool frozen, ml_res_emit_t emit, void *ctx) ML_HIDDEN;
void ml_res_maps_visit(bool frozen, ml_res_emit_t emit, void *ctx) ML_HIDDEN;

/* The sections, in the order they are written (after [unfreed]):
 * X(section name, visitor, id written in hexadecimal). */
#define ML_RES_SECTIONS(X)                                                     \
  X("fds", ml_res_fds_visit, false)                                            \
  X("threads", ml_res_threads_visit, false)                                    \
  X("mappings", ml_res_maps_visit, true)

#endif /* ML_RES_H */

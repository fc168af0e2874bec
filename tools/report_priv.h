/* SPDX-License-Identifier: MIT */
/*
 * report_priv.h - internals shared by the memledger command's own files
 * (reader, symbolizer, builder, formats): the per-dump string pool and small
 * output helpers.  Not for the format files of other authors (report.h is
 * their contract).  Runs outside the target process; allocation failure is
 * fatal (mlr_oom prints one line and exits 1).
 */
#ifndef MLR_REPORT_PRIV_H
#define MLR_REPORT_PRIV_H

#include "report.h"

#include <stdarg.h>

/* Bump allocator owned by a dump (mlr_dump_t.pool); freed with the dump. */
void *mlr_pool_alloc(mlr_dump_t *d, size_t n);
char *mlr_pool_strndup(mlr_dump_t *d, const char *s, size_t n);
char *mlr_pool_strdup(mlr_dump_t *d, const char *s);

/* Checked malloc/realloc/strdup: print "memledger: out of memory", exit 1. */
void *mlr_xmalloc(size_t n);
void *mlr_xcalloc(size_t n, size_t size);
void *mlr_xrealloc(void *p, size_t n);
char *mlr_xstrdup(const char *s);
_Noreturn void mlr_oom(void);

/* err->msg = printf(fmt, ...); returns -1 for "return mlr_fail(...)". */
int mlr_fail(mlr_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The I/O error of out as "<what>: <strerror>" in err; 0 when none. */
int mlr_io_result(FILE *out, mlr_err_t *err);

/* "1 block" / "3 blocks" (static buffer per call site is the caller's). */
const char *mlr_plural(uint64_t n, const char *one, const char *many);

/* JSON string literal (with quotes), or null for NULL. */
void mlr_json_str(FILE *out, const char *s);

/* Text frame line used by text and diff text: "    #i 0xaddr in fn file:line [module]
 * (note)". */
void mlr_text_frames(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s,
                     const char *indent);
/* The identity of a stack across dumps (diff, trend): its frames' function,
 * file and line, or module name + offset when not symbolized (addresses move
 * between runs).  malloc'd; the caller frees it. */
char *mlr_stack_key(const mlr_dump_t *d, const mlr_stack_t *s);

/* JSON array of frames. */
void mlr_json_frames(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s);

#endif /* MLR_REPORT_PRIV_H */

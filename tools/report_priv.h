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

#include <regex.h>
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

/* Compile a POSIX extended regular expression (REG_NOSUB) given to option
 * --what.  Returns 0, or -1 with err "--WHAT 'PAT': reason". */
int mlr_regcomp(regex_t *re, const char *pat, const char *what, mlr_err_t *err);

/* The identity of a stack across dumps and after --alloc-fn/--hide: its
 * frames' function, file and line, or module name + offset when not
 * symbolized (addresses move between runs); "#overflow" for stack 0.
 * Returns a malloc'd string. */
char *mlr_stack_key(const mlr_dump_t *d, const mlr_stack_t *s);

/* --alloc-fn and --hide (report_trim.c): compiled once, applied to a dump.
 * mlr_trim_new sets *t to NULL when o asks for nothing; returns 0, or -1
 * with err on a bad regular expression. */
typedef struct mlr_trim_s mlr_trim_t;
int mlr_trim_new(mlr_trim_t **t, const mlr_report_opts_t *o, mlr_err_t *err);
/* Remove the frames from every stack of d (and their raw addresses when no
 * frame of an address is left), then merge the stacks that became identical
 * (same mlr_stack_key and suppression rule) into the first of them.
 * pre: d is symbolized; suppressed_by is set. */
void mlr_trim_apply(const mlr_trim_t *t, mlr_dump_t *d);
void mlr_trim_free(mlr_trim_t *t);

/* JSON string literal (with quotes), or null for NULL. */
void mlr_json_str(FILE *out, const char *s);

/* Text frame line used by text and diff text: "    #i 0xaddr in fn file:line [module]
 * (note)". */
void mlr_text_frames(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s,
                     const char *indent);
/* "3 blocks, 12288 bytes (4096 bytes each)" or "(sizes 1501 to 1600
 * bytes)": a stack's amount, as the text report heads it.  Returns buf. */
const char *mlr_stack_amount(const mlr_stack_t *s, char *buf, size_t size);
/* "make_session_cache (leak_basic.c:29)": mlr_frame_name and the base name
 * of the frame's file:line when known; raw (escape it for output).
 * Returns buf. */
const char *mlr_frame_site(const mlr_dump_t *d, const mlr_frame_t *f, char *buf,
                           size_t size);

/* "new", "gone", "grew", "shrank" or "unchanged" (report_diff.c). */
const char *mlr_rdelta_status(const mlr_rdelta_t *x);

/* JSON array of frames. */
void mlr_json_frames(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s);

#endif /* MLR_REPORT_PRIV_H */

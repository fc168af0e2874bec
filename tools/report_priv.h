/* SPDX-License-Identifier: MIT */
/*
 * report_priv.h - the one family of helpers shared by the memledger
 * command's own files (reader, symbolizer, builder, every output format):
 * the per-dump string pool, checked allocation, errors, stack and frame
 * text, frames per raw address and module lookup, escaping of hostile
 * strings, and two small hash tables.  Not for the format files of other
 * authors (report.h is their contract).  Runs outside the target process;
 * allocation failure is fatal (mlr_oom prints one line and exits 1), except
 * in report_util.c's tables, which report it.
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

/* ---- frames, modules and output errors (report_util.c) ----------------------- */

/* The symbolized frames of raw address s->raw[i]: the inlined calls first,
 * then the function that contains them.  *pos is a cursor into s->frames
 * that starts at 0 for i = 0 and must be passed back for i + 1 (raw
 * addresses are visited in order).  Returns the number of frames (0 when the
 * stack is not symbolized or the frames do not line up with the raw
 * addresses) and sets *first to the first of them. */
size_t mlr_frames_at(const mlr_stack_t *s, size_t i, size_t *pos, const mlr_frame_t **first);

/* Index of the module that contains addr (lo <= addr < hi), or -1. */
int mlr_module_of(const mlr_dump_t *d, uint64_t addr);

/* Fills err with "writing the FORMAT report: <strerror(errno)>" after a
 * failed write (errno is the cause) and returns -1; mlr_io_result checks a
 * stream first. */
int mlr_io_error(mlr_err_t *err, const char *format);

/* ---- hostile strings ---------------------------------------------------------
 * Function and file names come from DWARF, module paths and header values
 * from the dump: any of them may hold control characters or bytes that are
 * not UTF-8.  Nothing raw reaches a terminal or a JSON parser. */

/* The length of the valid UTF-8 sequence at p (1 for ASCII, 2..4), or 0 when
 * p[0] does not start one (stray continuation byte, overlong form,
 * surrogate, truncated sequence, above U+10FFFF). */
size_t mlr_utf8_len(const unsigned char *p);

/* s for a terminal: control characters (0x00-0x1f, 0x7f), bytes that are not
 * UTF-8 and the C1 characters U+0080-U+009F become "\xNN" (C1: "\u00NN").
 * Returns s itself when it needs nothing (NULL stays NULL), else an escaped
 * copy that stays valid until 8 more calls have been made: use it as a
 * printf argument, at most 8 per statement. */
const char *mlr_safe(const char *s);

/* s as valid UTF-8 (for JSON and pprof strings): every byte that is not part
 * of a valid sequence becomes U+FFFD.  Returns s when it is valid, else a
 * copy with the same lifetime rule as mlr_safe. */
const char *mlr_utf8_fix(const char *s);

/* s as XML or HTML character data or attribute value: first mlr_safe
 * (XML 1.0 allows no control characters but tab and newlines, not even as
 * references; no bytes that are not UTF-8), then & < > " ' as entities;
 * U+FFFE and U+FFFF, which XML also refuses, as "\uFFFE", "\uFFFF". */
void mlr_xml_str(FILE *out, const char *s);

/* FNV-1a, 64 bits, of s (string tables; stable fingerprints of stacks). */
uint64_t mlr_hash_str(const char *s);

/* ---- a string -> index table (dedup for string tables) ------------------- */
typedef struct mlr_strtab_s {
  size_t n, cap;          // entries, hash capacity (power of two)
  char **strs;            // by index; copies owned by the table
  uint32_t *slots;        // index + 1, 0 = empty
} mlr_strtab_t;

/* Index of s (NULL: ""), added (copied) when new.  -1 on no memory. */
long mlr_strtab_add(mlr_strtab_t *t, const char *s);
void mlr_strtab_free(mlr_strtab_t *t);

/* ---- a uint64 -> index table ------------------------------------------------ */
typedef struct mlr_u64map_s {
  size_t n, cap;
  uint64_t *keys;
  uint32_t *vals;         // value + 1, 0 = empty
} mlr_u64map_t;

/* The value of key, or -1 when absent. */
long mlr_u64map_get(const mlr_u64map_t *m, uint64_t key);
/* Sets key to val (val < UINT32_MAX).  Returns 0, or -1 on no memory. */
int mlr_u64map_put(mlr_u64map_t *m, uint64_t key, uint32_t val);
void mlr_u64map_free(mlr_u64map_t *m);

/* An html page's head, style sheet and <header> with title, up to an open
 * <main>; script: the page has an inline script (CSP allows it) (report_html.c). */
void mlr_html_head(FILE *out, const char *title, bool script);
/* One frame as the html report lists it: <li> with function, file:line,
 * an inlined tag, address and module, note (report_html.c). */
void mlr_html_frame_li(FILE *out, const mlr_dump_t *d, const mlr_frame_t *f);
/* 22288 -> "21.8 KiB"; returns buf (report_html.c). */
const char *mlr_human(char *buf, size_t len, uint64_t n);

#endif /* MLR_REPORT_PRIV_H */

/* SPDX-License-Identifier: MIT */
/*
 * report_fmtutil.h - helpers shared by the jeprof, pprof and html output
 * formats (tools/report_{jeprof,pprof,html}.c).
 *
 * Runs in the memledger command (may allocate, uses stdio).  Depends on
 * nothing but report.h's types, so that the formats can be tested with
 * hand-built reports (tests/tools-formats/fmt_driver.c).
 */
#ifndef MLR_REPORT_FMTUTIL_H
#define MLR_REPORT_FMTUTIL_H

#include "report.h"

/* A header/totals value by key, or NULL (the same as mlr_kv_get). */
const char *mlr_fmt_kv(const mlr_kv_t *kv, size_t n, const char *key);

/* The symbolized frames of raw address s->raw[i]: the inlined calls first,
 * then the function that contains them.  *pos is a cursor into s->frames
 * that starts at 0 for i = 0 and must be passed back for i + 1 (raw
 * addresses are visited in order).  Returns the number of frames (0 when the
 * stack is not symbolized or the frames do not line up with the raw
 * addresses) and sets *first to the first of them. */
size_t mlr_fmt_frames_at(const mlr_stack_t *s, size_t i, size_t *pos, const mlr_frame_t **first);

/* The module's file name (the path after its last '/'), or "?" for -1. */
const char *mlr_fmt_module_name(const mlr_dump_t *d, int module);

/* Index of the module that contains addr (lo <= addr < hi), or -1. */
int mlr_fmt_module_of(const mlr_dump_t *d, uint64_t addr);

/* Fills err after a failed write on out (errno is the cause) and returns -1. */
int mlr_fmt_io_error(mlr_err_t *err, const char *format);

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

#endif /* MLR_REPORT_FMTUTIL_H */

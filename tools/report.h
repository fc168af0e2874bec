/* SPDX-License-Identifier: MIT */
/*
 * report.h - the data model of the memledger command (tools/), shared by the
 * dump reader, the symbolizer, the report builder and every output format.
 *
 * Runs outside the target process: may allocate, use stdio, libdw, uthash.
 * Memory: everything a dump owns is freed by mlr_dump_free; strings inside
 * are owned by the dump (frames point into a per-dump string pool).
 * Errors: functions that can fail return 0 / -1 and fill an mlr_err_t with
 * "file:line: message" so that the command prints one line and exits 2.
 */
#ifndef MLR_REPORT_H
#define MLR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- errors ---------------------------------------------------------------- */
typedef struct mlr_err_s {
  char msg[1024]; // "<file>:<line>: <what>" (or "<file>: <what>")
} mlr_err_t;

/* ---- one dump, as read (doc/dump-format.md) -------------------------------- */
typedef struct mlr_kv_s {
  char *key;   // e.g. "pid", "tracked_allocs", "VmRSS:" (without the colon)
  char *value; // the rest of the line, trimmed
} mlr_kv_t;

typedef struct mlr_module_s {
  uint64_t lo, hi;  // address range of its PT_LOAD segments
  uint64_t base;    // load bias
  char *build_id;   // lower-case hex, or NULL when "-"
  char *path;       // as recorded
  uint32_t unloaded_epoch; // 0: loaded at dump time ([modules]); else it was
                           // unloaded by the program's N-th dlclose ([unloaded])
  bool has_file;           // [module_files] gave the file's size and mtime:
  uint64_t file_size;      //   st_size at dump time
  uint64_t file_mtime_ns;  //   st_mtim in ns since the epoch
} mlr_module_t;

/* A symbolized frame.  One raw address may give several frames: the inlined
 * calls first (inlined = true), then the function that contains them. */
typedef struct mlr_frame_s {
  uint64_t addr;        // the raw return address from the dump
  int module;           // index into mlr_dump_t.modules, -1 when unknown
  uint64_t offset;      // addr - module base (the address in the ELF file)
  const char *function; // demangled when possible; NULL when unknown
  const char *file;     // source file, NULL when unknown
  unsigned line;        // 0 when unknown
  bool inlined;         // this frame was inlined into the next one
  const char *note;     // why it is unknown ("no symbols", "build id differs"), or NULL
} mlr_frame_t;

/* memcheck's leak kinds ([unfreed] of a version 2 dump).  UNKNOWN: a
 * version 1 dump, or no scan was made (reported as before). */
typedef enum mlr_kind_e {
  MLR_KIND_UNKNOWN,
  MLR_KIND_DEFINITE,  // definitely lost
  MLR_KIND_INDIRECT,  // indirectly lost
  MLR_KIND_POSSIBLE,  // possibly lost
  MLR_KIND_REACHABLE, // still reachable
  MLR_KIND_COUNT
} mlr_kind_t;
/* The dump's word for a kind ("definite", ..., "-"). */
const char *mlr_kind_word(mlr_kind_t k);
/* Parse a dump's word; 0, or -1 when unknown. */
int mlr_kind_parse(const char *s, size_t n, mlr_kind_t *out);

typedef struct mlr_stack_s {
  uint32_t id;              // the dump's stack id (0: "stack table full")
  size_t nraw;
  uint64_t *raw;            // return addresses, innermost first
  /* From [unfreed]: */
  uint64_t blocks, bytes, usable, min_size, max_size, oldest_seq;
  /* Filled by the symbolizer: */
  size_t nframes;
  mlr_frame_t *frames;      // innermost first
  /* Filled by the report builder: */
  const char *suppressed_by; // name of the suppression rule, or NULL
  /* From [stack_epochs] (last, so that positional initializers still fit): */
  uint32_t epoch;           // dlcloses made before it was captured
  /* Filled by the report builder with --alloc-fn / --hide (report_trim.c): */
  size_t hidden;            // frames removed from this stack
  uint32_t merged;          // other stacks of the dump merged into this one
  /* From [unfreed] of a version 2 dump: one mlr_stack_t per (stack, kind). */
  mlr_kind_t kind;
  /* From [blocks] (a dump written with MEMLEDGER_ADDRESSES=1): the blocks'
   * addresses, ascending; pool memory of the dump.  0/NULL otherwise. */
  size_t naddrs;
  uint64_t *addrs;
  /* From [newer] (mlr_dump_t.has_newer): of the blocks of this stack id (all
   * its kinds: every (stack, kind) of one id carries the same numbers), how
   * many, and their requested bytes, were allocated after the previous dump
   * of the process (its first dump: since start).  Summed by merging. */
  uint64_t newer_blocks, newer_bytes;
  bool newer_shared;        // the id has several kinds: the numbers are the id's
} mlr_stack_t;

/* ---- resources besides the heap ([fds], [threads], [mappings]) -------------- */
typedef enum mlr_res_e { MLR_RES_FDS, MLR_RES_THREADS, MLR_RES_MAPPINGS, MLR_RES_COUNT } mlr_res_t;
/* The section's name ("fds", "threads", "mappings"). */
const char *mlr_res_name(mlr_res_t r);
#define MLR_RES_KEEP 16 // ids and distinct details kept per group, for display

/* The records of one section that share a creation stack and a kind. */
typedef struct mlr_resgroup_s {
  mlr_res_t res;
  const char *kind;         // the dump's word ("socket", "ended", "anon-private")
  bool seen;                // false: created where memledger did not see it ("-")
  mlr_stack_t stack;        // its creation stack (id, raw, frames; epoch); blocks =
                            // count and bytes = bytes so that stack helpers work;
                            // nraw = 0 and id 0 when !seen
  uint64_t count, bytes;    // records, and the sum of their bytes
  size_t nids;              // the first MLR_RES_KEEP ids, in file order
  uint64_t ids[MLR_RES_KEEP];
  size_t ndetails;          // the first MLR_RES_KEEP distinct details ("-" left out)
  const char *details[MLR_RES_KEEP];
} mlr_resgroup_t;

typedef struct mlr_dump_s {
  char *path;               // file it was read from
  int version;              // 1 or 2
  uint64_t unfreed_blocks;  // the "unfreed:" line
  uint64_t unfreed_bytes;
  uint64_t usable_bytes;    // the "usable:" line
  size_t nheader, ntotals, nresources;
  mlr_kv_t *header, *totals, *resources;
  size_t nmodules;
  mlr_module_t *modules;
  size_t nstacks;           // stacks that have unfreed blocks
  mlr_stack_t *stacks;      // in file order; (id, kind) unique
  void *pool;               // owned strings (private)
  /* [newer] (optional) and the header's newer_since: */
  bool has_newer;
  uint64_t newer_since;     // unix_time_ns of the previous dump, 0: the start
  uint64_t newer_blocks, newer_bytes; // the sums of [newer]
  /* [fds], [threads], [mappings] (absent in older dumps): */
  bool has_res;             // the dump has the three sections
  size_t nres;
  mlr_resgroup_t *res;      // per (section, stack, kind), in order of first line
} mlr_dump_t;

/* Read and validate a dump.  path "-" is standard input; gzip-compressed
 * input (memledger.N.dump.gz) is decompressed whatever its name.  Checks the version line, section order, every
 * field's syntax, that [unfreed] refers to known stacks, that the sums of
 * [unfreed] equal the "unfreed:" line, and that [end] is present (truncated
 * files are refused).  Returns 0, or -1 with err filled.
 * Reads line by line: memory is bounded by the stacks and modules kept, not
 * by the file (unknown sections cost nothing); input that is not a dump is
 * refused from its first line, a line over 64 KiB or a key-value section
 * over 4096 lines as soon as it comes. */
int mlr_dump_read(const char *path, mlr_dump_t *out, mlr_err_t *err);
/* The same up to the end of [header] (the first lines and the header only;
 * the rest of the file is not read). */
int mlr_dump_read_header(const char *path, mlr_dump_t *out, mlr_err_t *err);
/* The same from memory (fuzzing, tests); name is used in messages. */
int mlr_dump_parse(const char *name, const char *text, size_t len, mlr_dump_t *out,
                   mlr_err_t *err);
void mlr_dump_free(mlr_dump_t *d);
/* A header/totals/resources value by key, or NULL. */
const char *mlr_kv_get(const mlr_kv_t *kv, size_t n, const char *key);

/* ---- progress on stderr ------------------------------------------------------
 * A step that runs longer than 2 s (reading, symbolizing, writing) says so on
 * stderr, terminal or not: "memledger: symbolizing 59049 stacks..." once it
 * has taken 2 s, then " done in 3.1 s" on the same line (on a terminal the
 * line also shows a percentage while it runs).  The environment variable
 * MEMLEDGER_PROGRESS_AFTER (seconds, e.g. 0) changes the 2 s, for tests.
 * mlr_progress_quiet (report --quiet) silences it. */
extern bool mlr_progress_quiet;
typedef struct mlr_progress_s {
  char what[160];   // "symbolizing 59049 stacks"
  double t0;        // start (monotonic seconds)
  double after;     // threshold in seconds
  bool shown, tty;
  int pct;          // last percentage shown (terminal), -1 none
} mlr_progress_t;
void mlr_progress_begin(mlr_progress_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Call often during the step: done of total units (total 0: unknown). */
void mlr_progress_tick(mlr_progress_t *p, size_t done, size_t total);
void mlr_progress_end(mlr_progress_t *p);

/* ---- symbolization ------------------------------------------------------- */
typedef struct mlr_symbolize_opts_s {
  const char *debug_dirs;  // ':'-separated roots for /.build-id/xx/yyyy.debug
                           // (default "/usr/lib/debug")
  const char *sysroot;     // prefix for module paths (NULL: none)
  bool progress;           // unused: progress is shown for any step over 2 s
                           // (mlr_progress_*; report --quiet silences it)
} mlr_symbolize_opts_t;

/* Fill every stack's frames from the dump's module map (libdw: function,
 * file:line, inlined frames; separate debug info by build id; ELF symbol
 * tables for stripped objects; a note instead of a wrong answer when a
 * module is missing or its build id differs).  Caches per module.
 * Returns 0; never fails on a module problem (frames get notes). */
int mlr_symbolize(mlr_dump_t *d, const mlr_symbolize_opts_t *opts, mlr_err_t *err);

/* ---- the report ------------------------------------------------------------ */
typedef enum mlr_sort_e { MLR_SORT_BYTES, MLR_SORT_COUNT } mlr_sort_t;
typedef enum mlr_weight_e { MLR_WEIGHT_BYTES, MLR_WEIGHT_COUNT } mlr_weight_t;

typedef struct mlr_report_s {
  mlr_dump_t *dump;
  size_t nshown;            // stacks after filters and suppressions, sorted
  mlr_stack_t **shown;
  size_t nsuppressed;       // stacks removed by suppressions
  mlr_stack_t **suppressed;
  uint64_t shown_blocks, shown_bytes;
  uint64_t suppressed_blocks, suppressed_bytes;
  mlr_sort_t sort;
  mlr_weight_t weight;      // for folded/html/pprof weights
  size_t top;               // 0 = all
  /* Leak kinds (a dump with a leak scan): totals of the stacks that pass
   * the filters and are not suppressed, per kind (memcheck's LEAK SUMMARY),
   * and those left out by --kinds. */
  bool classified;          // some stack has a kind (the dump's scan ran)
  bool addresses;           // --addresses
  unsigned kinds;           // kinds shown (bit per mlr_kind_t)
  uint64_t kind_blocks[MLR_KIND_COUNT], kind_bytes[MLR_KIND_COUNT];
  size_t nhidden;           // stacks left out by --kinds
  uint64_t hidden_blocks, hidden_bytes;
  /* Descriptors, threads and mappings (a dump with [fds], [threads],
   * [mappings]): the groups that pass --module/--function, sorted by count
   * (fds, threads) or bytes (mappings), largest first; and their totals. */
  size_t nres[MLR_RES_COUNT];
  mlr_resgroup_t **res[MLR_RES_COUNT];
  uint64_t res_count[MLR_RES_COUNT], res_bytes[MLR_RES_COUNT];
} mlr_report_t;

/* ---- a diff between two dumps ---------------------------------------------- */
/* Stacks are matched by their symbolized frames (function+file+line; the raw
 * address relative to its module when not symbolized), not by id. */
typedef struct mlr_delta_s {
  mlr_stack_t *old_stack;   // NULL: new stack
  mlr_stack_t *new_stack;   // NULL: stack went away
  int64_t dblocks, dbytes;  // new - old
  /* Added with the command: totals on each side (several stack ids of one
   * dump can symbolize to the same frames; they are merged). */
  uint64_t old_blocks, old_bytes, new_blocks, new_bytes;
} mlr_delta_t;

/* The change of one (section, creation stack, kind) of descriptors, threads
 * or mappings between two dumps; stacks matched as heap stacks are, "not
 * seen" ones with each other. */
typedef struct mlr_rdelta_s {
  mlr_res_t res;
  const char *kind;
  mlr_resgroup_t *old_g;    // NULL: new
  mlr_resgroup_t *new_g;    // NULL: gone
  uint64_t old_count, old_bytes, new_count, new_bytes;
  int64_t dcount, dbytes;   // new - old
} mlr_rdelta_t;

typedef struct mlr_diff_s {
  mlr_dump_t *old_dump, *new_dump;
  size_t ndeltas;
  mlr_delta_t *deltas;      // sorted by growth (bytes, or count), largest first
  int64_t dblocks, dbytes;  // totals
  /* Added with the growth rate: the time from the old dump to the new one
   * (header unix_time_ns, else time), when both dumps have one. */
  bool have_interval;
  double interval;          // seconds; negative when NEW is the older dump
  bool have_rate;           // the interval is known and positive:
  double bytes_per_min, blocks_per_min; // growth over it, per minute
  /* Descriptors, threads, mappings (either dump has the sections): */
  bool has_res;
  size_t nrdeltas;
  mlr_rdelta_t *rdeltas;    // by section, then growth (count; mappings: bytes);
                            // unchanged ones last in their section
  uint64_t res_old_count[MLR_RES_COUNT], res_old_bytes[MLR_RES_COUNT];
  uint64_t res_new_count[MLR_RES_COUNT], res_new_bytes[MLR_RES_COUNT];
} mlr_diff_t;

/* The time of a dump in seconds since the Unix epoch, from its header's
 * unix_time_ns (else its ISO 8601 time); false when it has neither. */
bool mlr_dump_time(const mlr_dump_t *d, double *secs);

/* ---- output formats (one file each: report_<format>.c) --------------------- */
/* Each writes to out; returns 0 or -1 (I/O error, message in err). */
typedef struct mlr_format_opts_s {
  bool color;               // text: ANSI colors (only when out is a tty)
  const char *title;        // html: page title
  size_t html_rows;         // html: table rows at most; 0: the default
                            // (MLR_HTML_ROWS); SIZE_MAX: all
} mlr_format_opts_t;
#define MLR_HTML_ROWS 500

/* ---- -o FILE, written atomically ------------------------------------------------
 * The report goes to a temporary file in FILE's directory (.FILE.XXXXXX),
 * renamed to FILE when complete; an error or a bad dump leaves no file and
 * an existing FILE untouched.  FILE that exists and is not a regular file
 * (/dev/null, a FIFO, a terminal) is written directly. */
typedef struct mlr_out_s {
  FILE *f;
  char *path, *tmp;         // tmp NULL: written directly
} mlr_out_t;
/* Returns 0, or -1 with err ("FILE: reason"). */
int mlr_out_open(mlr_out_t *o, const char *path, mlr_err_t *err);
/* Close and rename into place.  Returns 0, or -1 with err (nothing left). */
int mlr_out_commit(mlr_out_t *o, mlr_err_t *err);
/* Close and remove the temporary: FILE stays as it was. */
void mlr_out_abort(mlr_out_t *o);

int mlr_format_text(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_json(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_folded(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_jeprof(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_pprof(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_html(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_junit(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_sarif(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_diff_text(FILE *out, const mlr_diff_t *d, const mlr_format_opts_t *o, mlr_err_t *err);
int mlr_format_diff_json(FILE *out, const mlr_diff_t *d, const mlr_format_opts_t *o, mlr_err_t *err);

/* ---- building reports and diffs (tools/report_build.c) ---------------------
 * Added with the command: the steps between reading and formatting. */
typedef struct mlr_supp_s mlr_supp_t; // a list of suppression rules (opaque)

/* The built-in rules (one-time allocations of ld.so, libc, libstdc++). */
mlr_supp_t *mlr_supp_defaults(void);
/* Parse rules from a file (syntax in tools/memledger.1, "SUPPRESSIONS") and
 * append them to *list (created when NULL).  Returns 0 or -1 with err. */
int mlr_supp_load(mlr_supp_t **list, const char *path, mlr_err_t *err);
/* The same from memory; name is used in messages. */
int mlr_supp_parse(mlr_supp_t **list, const char *name, const char *text, mlr_err_t *err);
void mlr_supp_free(mlr_supp_t *list);

typedef struct mlr_report_opts_s {
  mlr_sort_t sort;
  mlr_weight_t weight;
  size_t top;                // 0 = all
  const char *module_re;     // keep stacks with a frame whose module matches (POSIX ERE), or NULL
  const char *function_re;   // keep stacks with a frame whose function matches, or NULL
  const mlr_supp_t *supp;    // rules, or NULL
  /* Frames removed after symbolization (report_trim.c), POSIX EREs matched
   * against function names: */
  const char *const *alloc_fn; // --alloc-fn: drop every frame from the
  size_t nalloc_fn;            // innermost down to the last match
  const char *const *hide;     // --hide: drop matching frames anywhere
  size_t nhide;
  unsigned kinds;            // kinds to show, a bit per mlr_kind_t (MLR_KINDS_BIT);
                             // 0: MLR_KINDS_DEFAULT.  Unknown kinds always show.
  bool addresses;            // --addresses: list each block's address (text, json)
} mlr_report_opts_t;
#define MLR_KINDS_BIT(k) (1u << (k))
#define MLR_KINDS_DEFAULT                                                      \
  (MLR_KINDS_BIT(MLR_KIND_DEFINITE) | MLR_KINDS_BIT(MLR_KIND_INDIRECT) |       \
   MLR_KINDS_BIT(MLR_KIND_POSSIBLE))
#define MLR_KINDS_ALL (MLR_KINDS_DEFAULT | MLR_KINDS_BIT(MLR_KIND_REACHABLE))
/* Parse a --kinds list ("definite,indirect", "all", "none"; memcheck's
 * names "definite", "indirect", "possible", "reachable").  Returns 0, or -1
 * with err. */
int mlr_kinds_parse(const char *list, unsigned *out, mlr_err_t *err);
/* memcheck's words for a kind: "definitely lost", ... */
const char *mlr_kind_title(mlr_kind_t k);

/* Apply suppressions (to the stacks as symbolized), then --alloc-fn and
 * --hide (the dump's stacks are changed in place: frames removed, stacks
 * that became identical merged into the first, d->nstacks reduced), then
 * the filters, to a symbolized dump, and sort what is left.  The report
 * points into d (which must outlive it).  Returns 0 or -1 (bad regular
 * expression, message in err; d is unchanged then). */
int mlr_report_build(mlr_report_t *r, mlr_dump_t *d, const mlr_report_opts_t *o, mlr_err_t *err);
void mlr_report_free(mlr_report_t *r);
/* Per-rule totals of a report's suppressed stacks, for the summaries:
 * calls fn once per rule that matched something, in first-match order. */
void mlr_report_supp_totals(const mlr_report_t *r,
                            void (*fn)(const char *rule, uint64_t stacks, uint64_t blocks,
                                       uint64_t bytes, void *arg),
                            void *arg);

/* Diff the shown stacks of two reports; sorted by growth in bytes (or
 * blocks when sort is MLR_SORT_COUNT).  Unchanged stacks are kept (delta 0)
 * at the end.  Returns 0. */
int mlr_diff_build(mlr_diff_t *df, mlr_report_t *old_r, mlr_report_t *new_r, mlr_sort_t sort);
void mlr_diff_free(mlr_diff_t *df);

/* ---- a trend over a series of dumps (tools/report_trend.c) ----------------- */
/* Stacks are matched across dumps as in the diff (mlr_stack_key); a stack
 * absent from a dump has 0 blocks there.  Slopes are least-squares fits of
 * the stack's amount against the dumps' times (header unix_time_ns). */
typedef struct mlr_symcache_s mlr_symcache_t;
typedef struct mlr_trend_dump_s {
  char *path;             // as found (a directory's entries: DIR/NAME)
  long pid;
  unsigned long seq;      // the header's sequence
  uint64_t time_ns;       // the header's unix_time_ns (0: absent)
  double minutes;         // since the first dump of the series
  char *time;             // the header's time (ISO 8601), or NULL
  char *trigger;          // the header's trigger, or NULL
  uint64_t blocks, bytes; // its "unfreed:" line
  uint64_t shown_blocks, shown_bytes; // after filters and suppressions
  /* From its [resources] (absent: have_* false) and resource sections: */
  bool have_rss, have_fds, have_threads;
  uint64_t rss_bytes;     // VmRSS
  uint64_t fds, threads;  // "fds: total N", "threads: N"
  uint64_t res_count[MLR_RES_COUNT], res_bytes[MLR_RES_COUNT]; // [fds], [threads],
                          // [mappings] after filters (0 when the dump has none)
} mlr_trend_dump_t;

typedef struct mlr_trend_point_s {
  uint32_t dump;          // index into mlr_trend_t.dumps
  uint64_t blocks, bytes; // the stack's amount in that dump
} mlr_trend_point_t;

typedef struct mlr_trend_stack_s {
  mlr_dump_t *dump;       // the dump it was last seen in (for its frames)
  mlr_stack_t *stack;     // its stack there
  size_t npoints;
  mlr_trend_point_t *points; // the dumps it is in, in series order
  double slope_bytes;     // bytes per minute
  double slope_blocks;    // blocks per minute
  double r2;              // coefficient of determination of the sorted-by fit
                          // (0 when the amount never changes)
  /* A series of descriptors, threads or mappings (mlr_trend_t.res): its
   * group in its latest dump (stack is &group->stack; blocks are records);
   * NULL for a heap stack. */
  const mlr_resgroup_t *group;
} mlr_trend_stack_t;

typedef struct mlr_trend_s {
  size_t ndumps;
  mlr_trend_dump_t *dumps;   // ordered by time, then pid, then sequence
  size_t nstacks;
  mlr_trend_stack_t *stacks; // steepest growth first
  double slope_bytes, r2;    // the shown (remaining) bytes of every dump
  mlr_sort_t sort;           // bytes: rank by bytes/min; count: by blocks/min
  size_t top;                // 0 = all
  /* Descriptors, threads, mappings per (creation stack, kind), fitted as
   * the heap's stacks are: fds and threads ranked by records per minute,
   * mappings by bytes per minute (r2 of that fit).  has_res: some dump has
   * the sections. */
  bool has_res;
  size_t nres[MLR_RES_COUNT];
  mlr_trend_stack_t *res[MLR_RES_COUNT];
  mlr_dump_t **loaded;       // per dump: kept while a stack refers to it
  struct mlr_symcache_s *symcache; // frames already symbolized (private)
} mlr_trend_t;

/* Read, symbolize and report (filters, suppressions: ro) every dump of
 * paths (files, or directories: each memledger.*.dump[.gz] in them), order
 * them, and fit every stack.  Needs two dumps or more.  Returns 0, or -1
 * with err (exit status 2: a bad dump, too few dumps). */
int mlr_trend_build(mlr_trend_t *t, char *const *paths, size_t npaths,
                    const mlr_symbolize_opts_t *so, const mlr_report_opts_t *ro,
                    mlr_err_t *err);
void mlr_trend_free(mlr_trend_t *t);
int mlr_format_trend_text(FILE *out, const mlr_trend_t *t, const mlr_format_opts_t *o,
                          mlr_err_t *err);
int mlr_format_trend_json(FILE *out, const mlr_trend_t *t, const mlr_format_opts_t *o,
                          mlr_err_t *err);
/* One self-contained page: charts (inline SVG) and the table (o->title). */
int mlr_format_trend_html(FILE *out, const mlr_trend_t *t, const mlr_format_opts_t *o,
                          mlr_err_t *err);

/* ---- helpers for every format ------------------------------------------------ */
/* The last path component of a module ("libc.so.6"), or "?" when m < 0. */
const char *mlr_module_name(const mlr_dump_t *d, int m);
/* A frame's display name: its function, else "<module>+0x<offset>", else
 * "0x<addr>".  Returns buf. */
const char *mlr_frame_name(const mlr_dump_t *d, const mlr_frame_t *f, char *buf, size_t size);

#endif /* MLR_REPORT_H */

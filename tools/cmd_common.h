/* SPDX-License-Identifier: MIT */
/*
 * cmd_common.h - what the subcommands of the memledger command share: the
 * report options (report, diff, trend and run take them), messages and
 * usage errors, the output file, reading and reporting one dump, and the
 * dump files of a directory.  Each subcommand lives in its own file
 * (tools/cmd_<name>.c); tools/memledger.c dispatches to them.
 * Runs outside the target process: ordinary stdio and malloc.  Usage errors
 * exit with status 2 (EXIT_USAGE); allocation failure exits 1 (mlr_oom).
 */
#ifndef MLC_CMD_COMMON_H
#define MLC_CMD_COMMON_H

#include "report_priv.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifndef MLR_LIBDIR
#define MLR_LIBDIR "/usr/local/lib"
#endif
#ifndef MLR_VERSION
#define MLR_VERSION "unknown"
#endif

#define EXIT_USAGE 2
#define EXIT_LEAK  99

/* ---- the subcommands ---------------------------------------------------------------
 * argv[0] is the subcommand's name (getopt_long's messages name it); each
 * returns the command's exit status. */
int mlc_cmd_report(int argc, char **argv); // tools/cmd_report.c
int mlc_cmd_diff(int argc, char **argv);   // tools/cmd_diff.c
int mlc_cmd_trend(int argc, char **argv);  // tools/cmd_trend.c
int mlc_cmd_dump(int argc, char **argv);   // tools/cmd_dump.c
int mlc_cmd_run(int argc, char **argv);    // tools/cmd_run.c

/* ---- messages -----------------------------------------------------------------------
 */

/* "memledger: <message>", a hint to CMD's --help (cmd: "report " with its
 * space, or NULL), exit status 2. */
void mlc_die_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* "memledger: <message>\n" on stderr. */
void mlc_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A decimal number (digits only, the whole string); false otherwise. */
bool mlc_parse_u64(const char *s, uint64_t *v);

/* ---- report options -----------------------------------------------------------------
 */

typedef struct mlc_ropts_s {
  const char *format;
  const char *output;
  mlr_report_opts_t ro;
  const char **supp_files;
  size_t nsupp;
  bool no_defaults;
  const char *debug_dirs, *sysroot;
  int color;                     // -1 auto, 0 never, 1 always
  size_t html_rows;              // 0: the default; SIZE_MAX: all
  const char **alloc_fn, **hide; // --alloc-fn, --hide (r->ro points to them)
} mlc_ropts_t;

/* getopt_long values of the long options without a short one. */
enum {
  OPT_NO_DEFAULTS = 256,
  OPT_DEBUG_DIR,
  OPT_SYSROOT,
  OPT_COLOR,
  OPT_MIN_SIZE,
  OPT_UNWIND,
  OPT_MAX_FRAMES,
  OPT_SIGNAL,
  OPT_NO_FOLLOW,
  OPT_CHILDREN,
  OPT_SET,
  OPT_FAIL,
  OPT_LIB,
  OPT_TRACE_CHILDREN,
  OPT_HTML_ROWS,
  OPT_ALLOC_FN,
  OPT_HIDE,
  OPT_KINDS,
  OPT_ADDRESSES
};

#define REPORT_LONGOPTS                                                                  \
  {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},    \
      {"sort", required_argument, NULL, 's'}, {"top", required_argument, NULL, 'n'},     \
      {"weight", required_argument, NULL, 'w'},                                          \
      {"module", required_argument, NULL, 'm'},                                          \
      {"function", required_argument, NULL, 'F'},                                        \
      {"suppress", required_argument, NULL, 'S'},                                        \
      {"no-default-suppressions", no_argument, NULL, OPT_NO_DEFAULTS},                   \
      {"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},                             \
      {"sysroot", required_argument, NULL, OPT_SYSROOT},                                 \
      {"color", required_argument, NULL, OPT_COLOR},                                     \
      {"html-rows", required_argument, NULL, OPT_HTML_ROWS},                             \
      {"alloc-fn", required_argument, NULL, OPT_ALLOC_FN},                               \
      {"hide", required_argument, NULL, OPT_HIDE},                                       \
      {"kinds", required_argument, NULL, OPT_KINDS},                                     \
      {"addresses", no_argument, NULL, OPT_ADDRESSES}, {                                 \
    "help", no_argument, NULL, 'h'                                                       \
  }
#define REPORT_SHORTOPTS "f:o:s:n:w:m:F:S:h"

/* The report options in the --help of report, diff, trend and run. */
#define REPORT_OPTS_HELP                                                                 \
  "Report options:\n"                                                                    \
  "  -f, --format FMT        text (default), json, folded, jeprof, pprof, html,\n"       \
  "                          junit, sarif (CI: JUnit XML, SARIF 2.1.0)\n"                \
  "  -o, --output FILE       write the report to FILE\n"                                 \
  "  -s, --sort KEY          bytes (default) or count\n"                                 \
  "  -n, --top N             the N largest stacks only\n"                                \
  "  -w, --weight KEY        folded/html/pprof weights: bytes (default) or count\n"      \
  "  -m, --module REGEX      only stacks with a frame in a module matching REGEX\n"      \
  "  -F, --function REGEX    only stacks with a frame whose function matches REGEX\n"    \
  "      --alloc-fn REGEX    drop the frames from the innermost to the last one whose\n" \
  "                          function matches (allocator wrappers; repeatable)\n"        \
  "      --hide REGEX        drop the frames whose function matches (repeatable)\n"      \
  "  -S, --suppress FILE     suppression rules (repeatable; syntax in memledger(1))\n"   \
  "      --no-default-suppressions  do not apply the built-in rules\n"                   \
  "      --kinds LIST        leak kinds to show: definite,indirect,possible,reachable\n" \
  "                          or all (default: all but reachable, as memcheck)\n"         \
  "      --addresses         each block's address (text, json; the dump must be\n"       \
  "                          written with MEMLEDGER_ADDRESSES=1)\n"                    \
  "      --debug-dir DIRS    ':'-separated roots for .build-id debug files\n"            \
  "                          (default /usr/lib/debug)\n"                                 \
  "      --sysroot DIR       prefix for the module paths of the dump\n"                  \
  "      --color WHEN        auto (default), always, never\n"                            \
  "      --html-rows N       html: rows of the stack table (default 500; 0 = all)\n"

/* Handles one report option (getopt_long's c and optarg) into *r; false
 * when c is not one; exits 2 on a bad value. */
bool mlc_report_opt(const char *cmd, mlc_ropts_t *r, int c, const char *arg);
/* The options of report, diff and trend (report options and --quiet) into
 * *r; exits 2 on a bad one.  Returns false after printing usage (--help). */
bool mlc_report_args(const char *cmd, const char *usage, int argc, char **argv,
                     mlc_ropts_t *r);
void mlc_ropts_free(mlc_ropts_t *r);

typedef int (*format_fn)(FILE *, const mlr_report_t *, const mlr_format_opts_t *,
                         mlr_err_t *);
/* The report format NAME (exits 2 on an unknown one); diff: diff's formats
 * (text or json), then NULL. */
format_fn mlc_find_format(const char *cmd, const char *name, bool diff);

/* The suppression list of the options; exits 2 on a bad file. */
mlr_supp_t *mlc_load_supp(const mlc_ropts_t *r);

/* ---- output and dumps ---------------------------------------------------------------
 */

/* Open the output: -o FILE (a temporary renamed into place by
 * mlc_close_out, see mlr_out_open), or def; exits 1 when it cannot. */
FILE *mlc_open_out(const mlc_ropts_t *r, FILE *def);
/* ok: the report is complete (else -o FILE is not created or replaced).
 * 0, or 1 on a write error. */
int mlc_close_out(const mlc_ropts_t *r, FILE *f, bool ok);
bool mlc_use_color(const mlc_ropts_t *r, FILE *out);

/* Read + symbolize a dump; exit status 2 with the reader's message, 1 when
 * symbolization fails, 0. */
int mlc_load_dump(const char *path, const mlc_ropts_t *r, mlr_dump_t *d);
/* Report one dump to out.  *remaining gets the blocks left after
 * suppressions (definitely and indirectly lost ones when classified). */
int mlc_report_one(const char *path, const mlc_ropts_t *r, const mlr_supp_t *supp,
                   FILE *out, uint64_t *remaining);

/* A dump file of a directory, "memledger.<pid>.<seq>.dump". */
typedef struct mlc_dumpname_s {
  long pid;
  unsigned long seq;
  char *name;
  bool ours; // of the program's process tree (run's tree_filter)
} mlc_dumpname_t;

/* The dumps of dir (of pid when pid > 0) into *out (malloc'd); how many. */
size_t mlc_list_dumps(const char *dir, long pid, mlc_dumpname_t **out);
void mlc_free_dumps(mlc_dumpname_t *v, size_t n);

#endif /* MLC_CMD_COMMON_H */

/* SPDX-License-Identifier: MIT */
/*
 * memledger.c - the memledger command: run a program under libmemledger.so
 * and report its exit dump (run), ask a running process for a dump (dump),
 * report a dump (report), compare two dumps (diff).  Documented in
 * tools/memledger.1 and doc/memledger-command.md.
 * Runs outside the target process: ordinary stdio and malloc.  Exit statuses:
 * 0 ok, 1 operational error, 2 usage error or bad dump file, 99 leaks with
 * --fail-on-leak; run passes the program's status through (128+signal when
 * it was killed, 126/127 when it could not be started).
 */
#include "libopts.h"
#include "report_fmtutil.h"
#include "report_priv.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MLR_LIBDIR
#define MLR_LIBDIR "/usr/local/lib"
#endif
#ifndef MLR_VERSION
#define MLR_VERSION "unknown"
#endif

#define EXIT_USAGE 2
#define EXIT_LEAK  99

extern char **environ;

static const char *prog_name = "memledger";

static void die_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void die_usage(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog_name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry '%s %s--help' for more information.\n", prog_name,
          cmd ? cmd : "");
  exit(EXIT_USAGE);
}

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog_name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* ---- help texts ----------------------------------------------------------------------
 */

static const char usage_main[] =
    "Usage: memledger COMMAND [OPTIONS] [ARGS]\n"
    "Leak accounting with libmemledger.so: run a program under it, take dumps,\n"
    "and report or compare them.\n"
    "\n"
    "Commands:\n"
    "  run [OPTIONS] -- PROG [ARGS]   run PROG with the library preloaded, then\n"
    "                                 report its exit dump\n"
    "  dump [--timeout S] PID         make a running process write a dump; print its "
    "path\n"
    "  report [OPTIONS] FILE          report a dump: unfreed blocks by stack\n"
    "  diff [OPTIONS] OLD NEW         growth per stack between two dumps\n"
    "  trend [OPTIONS] DUMP|DIR...    steady growth per stack over a series of dumps\n"
    "\n"
    "  memledger COMMAND --help       options of a command\n"
    "  memledger --version            version\n"
    "\n"
    "Exit status: 0 ok; 1 error; 2 usage error or bad dump file; 99 leaks found\n"
    "with --fail-on-leak; run passes the program's own status through.\n"
    "See memledger(1).\n";

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
  "                          function matches (allocator wrappers; repeatable)\n"       \
  "      --hide REGEX        drop the frames whose function matches (repeatable)\n"     \
  "  -S, --suppress FILE     suppression rules (repeatable; syntax in memledger(1))\n"   \
  "      --no-default-suppressions  do not apply the built-in rules\n"                   \
  "      --kinds LIST        leak kinds to show: definite,indirect,possible,reachable\n" \
  "                          or all (default: all but reachable, as memcheck)\n"       \
  "      --debug-dir DIRS    ':'-separated roots for .build-id debug files\n"            \
  "                          (default /usr/lib/debug)\n"                                 \
  "      --sysroot DIR       prefix for the module paths of the dump\n"                  \
  "      --color WHEN        auto (default), always, never\n"                          \
  "      --html-rows N       html: rows of the stack table (default 500; 0 = all)\n"

static const char usage_report[] =
    "Usage: memledger report [OPTIONS] FILE\n"
    "Report the unfreed blocks of a dump by stack, largest first, with symbolized\n"
    "frames.  Built-in suppressions count the one-time allocations of ld.so, libc\n"
    "and libstdc++ as suppressed.  FILE may be - (standard input) and may be\n"
    "gzip-compressed.  Steps that take over 2 s say so on stderr.\n"
    "\n" REPORT_OPTS_HELP "  -q, --quiet             no progress messages on stderr\n"
    "  -h, --help              this help\n";

static const char usage_diff[] =
    "Usage: memledger diff [OPTIONS] OLD NEW\n"
    "Growth of unfreed blocks per stack from dump OLD to dump NEW (stacks are\n"
    "matched by their symbolized frames): grown, new, shrunk and gone stacks,\n"
    "largest growth first, with the time between the dumps and the growth rate.\n"
    "Warns when the dumps were taken with different thresholds or unwinding.\n"
    "Formats: text (default) and json.\n"
    "\n" REPORT_OPTS_HELP "  -q, --quiet             no progress messages on stderr\n"
    "  -h, --help              this help\n";

static const char usage_trend[] =
    "Usage: memledger trend [OPTIONS] DUMP|DIR...\n"
    "Rank stacks by steady growth over a series of dumps (MEMLEDGER_INTERVAL,\n"
    "MEMLEDGER_DUMP_AT, or dumps by signal): the least-squares slope of each\n"
    "stack's bytes (or blocks, --sort count) per minute and its R2 fit, first and\n"
    "last seen.  A directory stands for every memledger.*.dump in it; dumps are\n"
    "ordered by their header's time.  Formats: text (default), json, and html (a\n"
    "page charting the remaining bytes and the steepest stacks over time).\n"
    "\n" REPORT_OPTS_HELP "  -q, --quiet             no progress messages on stderr\n"
    "  -h, --help              this help\n";

static const char usage_run[] =
    "Usage: memledger run [OPTIONS] [--] PROG [ARGS]\n"
    "Run PROG with libmemledger.so preloaded; when it exits, report its exit dump\n"
    "(on stderr unless -o).  The exit status is PROG's (128+N when killed by\n"
    "signal N; 127 when PROG is not found, 126 when it cannot be executed).\n"
    "\n"
    "Run options (each sets a MEMLEDGER_* variable of the library):\n"
    "      --min-size SIZE     track blocks of at least SIZE bytes (K/M/G; default "
    "1024)\n"
    "      --unwind METHOD     auto, libunwind, fp or none\n"
    "      --max-frames N      deepest stack kept (1..128, default 32)\n"
    "  -d, --dir DIR           directory for dumps (default: the library's dir option:\n"
    "                          $MEMLEDGER_DIR, dir= in $MEMLEDGER_OPTIONS or the\n"
    "                          configuration file, else the current directory;\n"
    "                          created when missing)\n"
    "      --signal SIG        dump signal (name or number; 0 = off; default USR2)\n"
    "      --no-follow-fork    forked children do not track\n"
    "      --trace-children=yes|no  also track the programs that PROG's processes\n"
    "                          exec (default no: only PROG's process and its forks\n"
    "                          track, through MEMLEDGER_TRACE_PID)\n"
    "      --children          also report the newest dump of every other process of\n"
    "                          PROG's tree (not those of other processes that write\n"
    "                          into the same --dir)\n"
    "      --set NAME=VALUE    any other option: MEMLEDGER_NAME=VALUE\n"
    "      --fail-on-leak[=N]  exit 99 when more than N blocks (default 0) remain\n"
    "                          after suppressions and PROG itself exited 0 (with\n"
    "                          leak kinds: definitely and indirectly lost only)\n"
    "      --lib PATH          the library to preload (default: $MEMLEDGER_LIB, the\n"
    "                          build tree, then " MLR_LIBDIR "/libmemledger.so)\n"
    "  -q, --quiet             no report, only the exit status (and --fail-on-leak)\n"
    "  -v, --verbose           say which library and dump are used; keep the\n"
    "                          library's own summary line\n"
    "\n" REPORT_OPTS_HELP "  -h, --help              this help\n";

static const char usage_dump[] =
    "Usage: memledger dump [OPTIONS] PID\n"
    "Send the dump signal to process PID, wait for the new dump file in its dump\n"
    "directory and print the file's path.  The signal, the directory and whether\n"
    "tracking is on come from the process's MEMLEDGER_SIGNAL, MEMLEDGER_DIR and\n"
    "MEMLEDGER_ENABLED (or MEMLEDGER_OPTIONS, or the configuration file), read as\n"
    "the library reads them (default SIGUSR2; refused\n"
    "values such as KILL mean SIGUSR2; 0/off/none = off).  Nothing is sent\n"
    "unless the process catches that signal (SigCgt in /proc/PID/status) and does\n"
    "not block it in every thread.  For a 'memledger run' PID, its program is\n"
    "dumped.\n"
    "\n"
    "  -t, --timeout SECONDS   how long to wait (default 10)\n"
    "  -h, --help              this help\n";

/* ---- report options ------------------------------------------------------------------
 */

typedef struct ropts_s {
  const char *format;
  const char *output;
  mlr_report_opts_t ro;
  const char **supp_files;
  size_t nsupp;
  bool no_defaults;
  const char *debug_dirs, *sysroot;
  int color; // -1 auto, 0 never, 1 always
  size_t html_rows; // 0: the default; SIZE_MAX: all
  const char **alloc_fn, **hide; // --alloc-fn, --hide (r->ro points to them)
} ropts_t;

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
  OPT_KINDS
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
      {"kinds", required_argument, NULL, OPT_KINDS}, {                                   \
    "help", no_argument, NULL, 'h'                                                       \
  }
#define REPORT_SHORTOPTS "f:o:s:n:w:m:F:S:h"

static bool parse_u64(const char *s, uint64_t *v) {
  if (!s || !*s || !isdigit((unsigned char)*s)) return false;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(s, &end, 10);
  if (errno || *end) return false;
  *v = x;
  return true;
}

/* Append s to the vector *v of *n strings. */
static const char **str_push(const char **v, size_t *n, const char *s) {
  v = mlr_xrealloc(v, (*n + 1) * sizeof *v);
  v[(*n)++] = s;
  return v;
}

static void ropts_free(ropts_t *r) {
  free(r->supp_files);
  free(r->alloc_fn);
  free(r->hide);
}

/* A regular expression of option --what, checked before any dump is read
 * (or program run): an empty one would match every function. */
static void check_re(const char *cmd, const char *what, const char *pat) {
  if (!*pat) die_usage(cmd, "--%s: expected a regular expression, not ''", what);
  regex_t re;
  mlr_err_t err;
  if (mlr_regcomp(&re, pat, what, &err)) die_usage(cmd, "%s", err.msg);
  regfree(&re);
}

/* Handles one report option; false when c is not one. */
static bool report_opt(const char *cmd, ropts_t *r, int c, const char *arg) {
  uint64_t v;
  switch (c) {
  case 'f': r->format = arg; return true;
  case 'o': r->output = arg; return true;
  case 's':
    if (!strcmp(arg, "bytes"))
      r->ro.sort = MLR_SORT_BYTES;
    else if (!strcmp(arg, "count") || !strcmp(arg, "blocks"))
      r->ro.sort = MLR_SORT_COUNT;
    else
      die_usage(cmd, "--sort: expected bytes or count, not '%s'", arg);
    return true;
  case 'w':
    if (!strcmp(arg, "bytes"))
      r->ro.weight = MLR_WEIGHT_BYTES;
    else if (!strcmp(arg, "count") || !strcmp(arg, "blocks"))
      r->ro.weight = MLR_WEIGHT_COUNT;
    else
      die_usage(cmd, "--weight: expected bytes or count, not '%s'", arg);
    return true;
  case 'n':
    if (!parse_u64(arg, &v)) die_usage(cmd, "--top: expected a number, not '%s'", arg);
    r->ro.top = (size_t)v;
    return true;
  case 'm': r->ro.module_re = arg; return true;
  case 'F': r->ro.function_re = arg; return true;
  case 'S': r->supp_files = str_push(r->supp_files, &r->nsupp, arg); return true;
  case OPT_ALLOC_FN:
    check_re(cmd, "alloc-fn", arg);
    r->ro.alloc_fn = r->alloc_fn = str_push(r->alloc_fn, &r->ro.nalloc_fn, arg);
    return true;
  case OPT_HIDE:
    check_re(cmd, "hide", arg);
    r->ro.hide = r->hide = str_push(r->hide, &r->ro.nhide, arg);
    return true;
  case OPT_NO_DEFAULTS: r->no_defaults = true; return true;
  case OPT_KINDS: {
    mlr_err_t e;
    if (mlr_kinds_parse(arg, &r->ro.kinds, &e)) die_usage(cmd, "%s", e.msg);
    return true;
  }
  case OPT_DEBUG_DIR: r->debug_dirs = arg; return true;
  case OPT_SYSROOT: r->sysroot = arg; return true;
  case OPT_HTML_ROWS:
    if (!parse_u64(arg, &v)) die_usage(cmd, "--html-rows: expected a number, not '%s'", arg);
    r->html_rows = v ? (size_t)v : SIZE_MAX;
    return true;
  case OPT_COLOR:
    if (!strcmp(arg, "auto"))
      r->color = -1;
    else if (!strcmp(arg, "always"))
      r->color = 1;
    else if (!strcmp(arg, "never"))
      r->color = 0;
    else
      die_usage(cmd, "--color: expected auto, always or never, not '%s'", arg);
    return true;
  }
  return false;
}

/* Until tools/formats.mk lists their files, the formats of report_jeprof.c,
 * report_pprof.c and report_html.c are these weak stand-ins (the real
 * definitions win at link time). */
#define MLR_MISSING_FORMAT(fmt)                                                          \
  __attribute__((weak)) int mlr_format_##fmt(                                            \
      FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err) {    \
    (void)out, (void)r, (void)o;                                                         \
    return mlr_fail(err, "--format " #fmt ": not built into this memledger");            \
  }
MLR_MISSING_FORMAT(jeprof)
MLR_MISSING_FORMAT(pprof)
MLR_MISSING_FORMAT(html)

typedef int (*format_fn)(FILE *, const mlr_report_t *, const mlr_format_opts_t *,
                         mlr_err_t *);
static const struct {
  const char *name;
  format_fn fn;
} formats[] = {
    {"text", mlr_format_text},     {"json", mlr_format_json},
    {"folded", mlr_format_folded}, {"jeprof", mlr_format_jeprof},
    {"pprof", mlr_format_pprof},   {"html", mlr_format_html},
    {"junit", mlr_format_junit},   {"sarif", mlr_format_sarif},
};

static format_fn find_format(const char *cmd, const char *name, bool diff) {
  if (diff) {
    if (!strcmp(name, "text") || !strcmp(name, "json")) return NULL;
    die_usage(cmd, "--format: diff writes text or json, not '%s'", name);
  }
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (!strcmp(formats[i].name, name)) return formats[i].fn;
  die_usage(cmd,
            "--format: expected text, json, folded, jeprof, pprof, html, junit or sarif, "
            "not '%s'",
            name);
}

/* The suppression list of the options; exits 2 on a bad file. */
static mlr_supp_t *load_supp(const ropts_t *r) {
  mlr_supp_t *l = r->no_defaults ? NULL : mlr_supp_defaults();
  for (size_t i = 0; i < r->nsupp; i++) {
    mlr_err_t err;
    if (mlr_supp_load(&l, r->supp_files[i], &err)) {
      msg("%s", err.msg);
      exit(EXIT_USAGE);
    }
  }
  return l;
}

/* Open the output: -o FILE (a temporary renamed into place by close_out,
 * see mlr_out_open), or def. */
static mlr_out_t out_file;
static FILE *open_out(const ropts_t *r, FILE *def) {
  if (!r->output || !strcmp(r->output, "-")) return r->output ? stdout : def;
  mlr_err_t err;
  if (mlr_out_open(&out_file, r->output, &err)) {
    msg("%s", err.msg);
    exit(1);
  }
  return out_file.f;
}
/* ok: the report is complete (else -o FILE is not created or replaced). */
static int close_out(const ropts_t *r, FILE *f, bool ok) {
  (void)r;
  if (f == stdout || f == stderr) return fflush(f) == 0 ? 0 : 1;
  if (f != out_file.f) return fclose(f) == 0 ? 0 : 1; // run --quiet's /dev/null
  if (!ok) {
    mlr_out_abort(&out_file);
    return 0;
  }
  mlr_err_t err;
  if (mlr_out_commit(&out_file, &err)) {
    msg("%s", err.msg);
    return 1;
  }
  return 0;
}

static bool use_color(const ropts_t *r, FILE *out) {
  if (r->color >= 0) return r->color;
  const char *term = getenv("TERM");
  return isatty(fileno(out)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0;
}

/* Read + symbolize a dump; exit status 2 with the reader's message. */
static int load_dump(const char *path, const ropts_t *r, mlr_dump_t *d) {
  mlr_err_t err;
  if (mlr_dump_read(path, d, &err)) {
    msg("%s", err.msg);
    return EXIT_USAGE;
  }
  mlr_symbolize_opts_t so = {.debug_dirs = r->debug_dirs,
                             .sysroot = r->sysroot};
  if (mlr_symbolize(d, &so, &err)) {
    msg("%s", err.msg);
    mlr_dump_free(d);
    return 1;
  }
  return 0;
}

/* Report one dump to out.  *remaining gets the blocks left after
 * suppressions (definitely and indirectly lost ones when classified). */
static int report_one(const char *path, const ropts_t *r, const mlr_supp_t *supp,
                      FILE *out, uint64_t *remaining) {
  format_fn fn = find_format("report ", r->format ? r->format : "text", false);
  mlr_dump_t d;
  int rc = load_dump(path, r, &d);
  if (rc) return rc;
  mlr_report_t rep;
  mlr_err_t err;
  mlr_report_opts_t ro = r->ro;
  ro.supp = supp;
  if (mlr_report_build(&rep, &d, &ro, &err)) {
    msg("%s", err.msg);
    mlr_dump_free(&d);
    return EXIT_USAGE;
  }
  /* --fail-on-leak counts what LSan fails on: definitely and indirectly
   * lost blocks, when the dump has kinds; else every remaining block. */
  if (remaining)
    *remaining = rep.classified ? rep.kind_blocks[MLR_KIND_DEFINITE] +
                                      rep.kind_blocks[MLR_KIND_INDIRECT]
                                : rep.shown_blocks;
  mlr_format_opts_t fo = {
      .color = use_color(r, out), .title = path, .html_rows = r->html_rows};
  mlr_progress_t pr;
  mlr_progress_begin(&pr, "writing the %s report", r->format ? r->format : "text");
  if (fn(out, &rep, &fo, &err)) {
    msg("%s", err.msg);
    rc = 1;
  }
  mlr_progress_end(&pr);
  mlr_report_free(&rep);
  mlr_dump_free(&d);
  return rc;
}

/* ---- report
 * ------------------------------------------------------------------------------ */

/* The options of report, diff and trend (report options and --quiet) into
 * *r; exits 2 on a bad one.  Returns false after printing usage (--help). */
static bool report_args(const char *cmd, const char *usage, int argc, char **argv,
                        ropts_t *r) {
  static const struct option lo[] = {
      REPORT_LONGOPTS, {"quiet", no_argument, NULL, 'q'}, {0, 0, 0, 0}};
  int c;
  *r = (ropts_t){.color = -1};
  while ((c = getopt_long(argc, argv, REPORT_SHORTOPTS "q", lo, NULL)) != -1) {
    if (c == 'h') {
      fputs(usage, stdout);
      return false;
    }
    if (c == 'q')
      mlr_progress_quiet = true;
    else if (c == '?' || !report_opt(cmd, r, c, optarg))
      die_usage(cmd, "bad option");
  }
  return true;
}

static int cmd_report(int argc, char **argv) {
  ropts_t r;
  if (!report_args("report ", usage_report, argc, argv, &r)) return 0;
  if (argc - optind != 1)
    die_usage("report ",
              argc == optind ? "missing dump FILE" : "one dump FILE at a time");
  find_format("report ", r.format ? r.format : "text", false);
  mlr_supp_t *supp = load_supp(&r);
  FILE *out = open_out(&r, stdout);
  int rc = report_one(argv[optind], &r, supp, out, NULL);
  if (close_out(&r, out, rc == 0) && !rc) rc = 1;
  mlr_supp_free(supp);
  ropts_free(&r);
  return rc;
}

/* ---- diff
 * ---------------------------------------------------------------------------------- */

/* Warnings about two dumps that do not compare well: taken with different
 * thresholds (blocks between the two are counted on one side only) or
 * stack settings (stacks may not match), or NEW older than OLD. */
static void diff_warnings(const mlr_dump_t *d0, const mlr_dump_t *d1) {
  const char *t0 = mlr_kv_get(d0->header, d0->nheader, "threshold");
  const char *t1 = mlr_kv_get(d1->header, d1->nheader, "threshold");
  if (t0 && t1 && strcmp(t0, t1))
    msg("warning: the dumps were taken with different thresholds (MEMLEDGER_MIN_SIZE: %s "
        "and %s bytes): blocks between the two are tracked in one dump only",
        mlr_safe(t0), mlr_safe(t1));
  static const char *const keys[] = {"unwind", "max_frames"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const char *v0 = mlr_kv_get(d0->header, d0->nheader, keys[i]);
    const char *v1 = mlr_kv_get(d1->header, d1->nheader, keys[i]);
    if (v0 && v1 && strcmp(v0, v1))
      msg("warning: the dumps were taken with different unwind settings (%s: %s and %s): "
          "the same allocation site may give different stacks",
          keys[i], mlr_safe(v0), mlr_safe(v1));
  }
  double s0, s1;
  if (mlr_dump_time(d0, &s0) && mlr_dump_time(d1, &s1) && s1 < s0)
    msg("warning: NEW (%s) was taken %.3f s before OLD (%s): growth is shrinkage "
        "(swap them?)",
        mlr_safe(d1->path), s0 - s1, mlr_safe(d0->path));
}

static int cmd_diff(int argc, char **argv) {
  ropts_t r;
  if (!report_args("diff ", usage_diff, argc, argv, &r)) return 0;
  if (argc - optind != 2) die_usage("diff ", "expected two dump files: OLD NEW");
  const char *fmt = r.format ? r.format : "text";
  find_format("diff ", fmt, true);
  mlr_supp_t *supp = load_supp(&r);
  mlr_dump_t d0, d1;
  int rc = load_dump(argv[optind], &r, &d0);
  if (rc) goto out_supp;
  rc = load_dump(argv[optind + 1], &r, &d1);
  if (rc) goto out_d0;
  const char *p0 = mlr_kv_get(d0.header, d0.nheader, "pid");
  const char *p1 = mlr_kv_get(d1.header, d1.nheader, "pid");
  const char *e0 = mlr_kv_get(d0.header, d0.nheader, "exe");
  const char *e1 = mlr_kv_get(d1.header, d1.nheader, "exe");
  if (e0 && e1 && strcmp(e0, e1))
    msg("warning: the dumps come from different programs (%s, %s)", e0, e1);
  else if (p0 && p1 && strcmp(p0, p1))
    msg("warning: the dumps come from different processes (pid %s, pid %s)", p0, p1);
  diff_warnings(&d0, &d1);
  mlr_report_t r0, r1;
  mlr_err_t err;
  mlr_report_opts_t ro = r.ro;
  ro.supp = supp;
  if (!ro.kinds) ro.kinds = MLR_KINDS_ALL; /* growth of any kind: a cache grows reachable */
  if (mlr_report_build(&r0, &d0, &ro, &err) || mlr_report_build(&r1, &d1, &ro, &err)) {
    msg("%s", err.msg);
    rc = EXIT_USAGE;
    goto out_d1;
  }
  mlr_diff_t df;
  mlr_diff_build(&df, &r0, &r1, r.ro.sort);
  FILE *out = open_out(&r, stdout);
  mlr_format_opts_t fo = {.color = use_color(&r, out)};
  if ((!strcmp(fmt, "json") ? mlr_format_diff_json : mlr_format_diff_text)(out, &df, &fo,
                                                                           &err)) {
    msg("%s", err.msg);
    rc = 1;
  }
  if (close_out(&r, out, rc == 0) && !rc) rc = 1;
  mlr_diff_free(&df);
  mlr_report_free(&r0);
  mlr_report_free(&r1);
out_d1:
  mlr_dump_free(&d1);
out_d0:
  mlr_dump_free(&d0);
out_supp:
  mlr_supp_free(supp);
  ropts_free(&r);
  return rc;
}

/* ---- trend
 * ---------------------------------------------------------------------------------- */

static int cmd_trend(int argc, char **argv) {
  ropts_t r;
  if (!report_args("trend ", usage_trend, argc, argv, &r)) return 0;
  if (argc - optind < 1) die_usage("trend ", "expected dump files or directories");
  static const struct {
    const char *name;
    int (*fn)(FILE *, const mlr_trend_t *, const mlr_format_opts_t *, mlr_err_t *);
  } tformats[] = {{"text", mlr_format_trend_text},
                  {"json", mlr_format_trend_json},
                  {"html", mlr_format_trend_html}};
  const char *fmt = r.format ? r.format : "text";
  size_t fi = 0;
  while (fi < sizeof tformats / sizeof *tformats && strcmp(tformats[fi].name, fmt)) fi++;
  if (fi == sizeof tformats / sizeof *tformats)
    die_usage("trend ", "--format: trend writes text, json or html, not '%s'", fmt);
  mlr_supp_t *supp = load_supp(&r);
  mlr_report_opts_t ro = r.ro;
  ro.supp = supp;
  if (!ro.kinds) ro.kinds = MLR_KINDS_ALL; /* as diff: a cache grows reachable */
  mlr_symbolize_opts_t so = {.debug_dirs = r.debug_dirs, .sysroot = r.sysroot};
  mlr_trend_t t;
  mlr_err_t err;
  int rc = 0;
  if (mlr_trend_build(&t, argv + optind, (size_t)(argc - optind), &so, &ro, &err)) {
    msg("%s", err.msg);
    rc = EXIT_USAGE;
  } else {
    FILE *out = open_out(&r, stdout);
    mlr_format_opts_t fo = {.color = use_color(&r, out)};
    if (tformats[fi].fn(out, &t, &fo, &err)) {
      msg("%s", err.msg);
      rc = 1;
    }
    if (close_out(&r, out, rc == 0) && !rc) rc = 1;
    mlr_trend_free(&t);
  }
  mlr_supp_free(supp);
  free(r.supp_files);
  return rc;
}

/* ---- dump files in a directory
 * ---------------------------------------------------------- */

typedef struct dumpname_s {
  long pid;
  unsigned long seq;
  char *name;
  bool ours; // of the program's process tree (tree_filter)
} dumpname_t;

/* "memledger.<pid>.<n>.dump" → pid, n. */
static bool parse_dump_name(const char *n, long *pid, unsigned long *seq) {
  if (strncmp(n, "memledger.", 10)) return false;
  char *e;
  errno = 0;
  long p = strtol(n + 10, &e, 10);
  if (errno || e == n + 10 || *e != '.' || p <= 0) return false;
  const char *s = e + 1;
  unsigned long q = strtoul(s, &e, 10);
  if (errno || e == s || strcmp(e, ".dump") || !isdigit((unsigned char)*s)) return false;
  *pid = p;
  *seq = q;
  return true;
}

/* The dumps of dir (of pid when pid > 0). */
static size_t list_dumps(const char *dir, long pid, dumpname_t **out) {
  *out = NULL;
  DIR *dp = opendir(dir);
  if (!dp) return 0;
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(dp))) {
    long p;
    unsigned long q;
    if (!parse_dump_name(de->d_name, &p, &q) || (pid > 0 && p != pid)) continue;
    *out = mlr_xrealloc(*out, (n + 1) * sizeof **out);
    (*out)[n].pid = p;
    (*out)[n].seq = q;
    (*out)[n].name = mlr_xstrdup(de->d_name);
    (*out)[n].ours = false;
    n++;
  }
  closedir(dp);
  return n;
}
static void free_dumps(dumpname_t *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i].name);
  free(v);
}
/* The dump DIR/NAME was written on the dump signal (not by the interval
 * timer, a limit or a failed allocation meanwhile). */
static bool is_signal_dump(const char *dir, const char *name) {
  char path[3 * PATH_MAX + 64], line[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  bool yes = false;
  for (int i = 0; f && i < 64 && fgets(line, sizeof line, f); i++)
    if (!strncmp(line, "trigger: ", 9)) {
      yes = !strcmp(line + 9, "signal\n");
      break;
    }
  if (f) fclose(f);
  return yes;
}

static bool in_list(const dumpname_t *v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i].name, name)) return true;
  return false;
}

/* ---- a process as /proc shows it
 * ------------------------------------------------------------- */

/* The whole of /proc/PID/<name> (malloc'd, NUL-terminated; *len without the
 * NUL), or NULL with errno. */
static char *proc_read(long pid, const char *name, size_t *len) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t n = 0, cap = 4096;
  char *buf = mlr_xrealloc(NULL, cap);
  for (;;) {
    if (n + 1 >= cap) buf = mlr_xrealloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

/* The value of field "Name:" of a /proc status text, or NULL. */
static const char *status_field(const char *st, const char *name) {
  size_t nl = strlen(name);
  for (const char *l = st; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (!strncmp(l, name, nl) && l[nl] == ':') {
      l += nl + 1;
      while (*l == ' ' || *l == '\t') l++;
      return l;
    }
  return NULL;
}

/* A signal mask field ("SigCgt:", hex) of a status text; 0 when absent. */
static uint64_t status_mask(const char *st, const char *name) {
  const char *v = status_field(st, name);
  return v ? strtoull(v, NULL, 16) : 0;
}

static bool mask_has(uint64_t mask, int sig) { return sig > 0 && sig <= 64 && (mask >> (sig - 1)) & 1; }

/* Blocked in every thread of pid (then a process-directed signal only
 * waits): true only when every thread's SigBlk has sig. */
static bool blocked_everywhere_now(long pid, int sig);

/* blocked_everywhere_now, and still so 10 times over 200 ms: memledger's
 * own handler blocks every signal while it forks a snapshot (with
 * MEMLEDGER_INTERVAL, several times a second). */
static bool blocked_everywhere(long pid, int sig) {
  for (int i = 0; i < 10; i++) {
    if (!blocked_everywhere_now(pid, sig)) return false;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return true;
}

static bool blocked_everywhere_now(long pid, int sig) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/task", pid);
  DIR *dp = opendir(path);
  if (!dp) return false;
  bool all = true, any = false;
  struct dirent *de;
  while (all && (de = readdir(dp))) {
    if (!isdigit((unsigned char)de->d_name[0])) continue;
    char name[300];
    snprintf(name, sizeof name, "task/%s/status", de->d_name);
    char *st = proc_read(pid, name, NULL);
    if (!st) continue; /* the thread ended */
    any = true;
    if (!mask_has(status_mask(st, "SigBlk"), sig)) all = false;
    free(st);
  }
  closedir(dp);
  return any && all;
}

/* What of memledger pid maps or contains: "libmemledger.so",
 * "libmemledger-wrap.so", "static" (the library's own text found in its
 * executable: the static link-time flavour), or NULL. */
static const char *memledger_flavour(long pid) {
  char *maps = proc_read(pid, "maps", NULL);
  const char *what = NULL;
  if (maps) {
    if (strstr(maps, "/libmemledger.so"))
      what = "libmemledger.so";
    else if (strstr(maps, "/libmemledger-wrap.so"))
      what = "libmemledger-wrap.so";
    free(maps);
  }
  if (what) return what;
  /* A message of the library's dump trigger (src/triggers.c): in its
   * .rodata, stripped or not; the command itself does not have it. */
  static const char mark[] = "dumps are still being written: a dump request";
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/exe", pid);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char buf[1 << 16];
  size_t keep = 0, n;
  while (!what && (n = fread(buf + keep, 1, sizeof buf - keep, f)) > 0) {
    n += keep;
    if (memmem(buf, n, mark, sizeof mark - 1)) what = "static";
    keep = sizeof mark - 1 < n ? sizeof mark - 1 : n;
    memmove(buf, buf + n - keep, keep);
  }
  fclose(f);
  return what;
}

/* Is pid a `memledger run` process (this command, running a program)? */
static bool is_memledger_run(long pid) {
  size_t n;
  char *cmd = proc_read(pid, "cmdline", &n);
  if (!cmd) return false;
  const char *a0 = cmd, *a1 = memchr(cmd, 0, n) ? cmd + strlen(cmd) + 1 : NULL;
  const char *base = strrchr(a0, '/') ? strrchr(a0, '/') + 1 : a0;
  bool run = a1 && a1 < cmd + n && !strcmp(a1, "run") &&
             (!strcmp(base, "memledger") || !strcmp(base, "lt-memledger"));
  free(cmd);
  return run;
}

/* The children of pid that are not zombies and carry memledger. */
static size_t children_with_memledger(long pid, long *out, size_t max) {
  DIR *dp = opendir("/proc");
  if (!dp) return 0;
  size_t n = 0;
  struct dirent *de;
  while (n < max && (de = readdir(dp))) {
    if (!isdigit((unsigned char)de->d_name[0])) continue;
    long c = atol(de->d_name);
    char *st = proc_read(c, "status", NULL);
    if (!st) continue;
    const char *pp = status_field(st, "PPid"), *state = status_field(st, "State");
    bool mine = pp && atol(pp) == pid && state && *state != 'Z';
    free(st);
    if (mine && memledger_flavour(c)) out[n++] = c;
  }
  closedir(dp);
  return n;
}

/* The NUL-separated environment text as a NULL-terminated vector into it. */
static char **env_vector(char *text, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (text[i] == 0) n++;
  char **v = mlr_xcalloc(n + 2, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < len; i += strlen(text + i) + 1) v[k++] = text + i;
  v[k] = NULL;
  return v;
}

/* AT_SECURE of pid's auxiliary vector (secure-execution mode). */
static bool proc_secure(long pid) {
  size_t len;
  unsigned long *aux = (unsigned long *)proc_read(pid, "auxv", &len);
  bool secure = false;
  if (!aux) return false;
  for (size_t i = 0; i + 1 < len / sizeof *aux; i += 2)
    if (aux[i] == 23 /* AT_SECURE */) secure = aux[i + 1] != 0;
  free(aux);
  return secure;
}

static const char *sig_name(int sig, char *buf, size_t size) {
  if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, size, "SIGRTMIN+%d (signal %d)", sig - SIGRTMIN, sig);
  else
    snprintf(buf, size, "SIG%s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
  return buf;
}

/* ---- dump
 * -------------------------------------------------------------------------------- */

static int cmd_dump(int argc, char **argv) {
  static const struct option lo[] = {{"timeout", required_argument, NULL, 't'},
                                     {"help", no_argument, NULL, 'h'},
                                     {0, 0, 0, 0}};
  double timeout = 10;
  int c;
  while ((c = getopt_long(argc, argv, "t:h", lo, NULL)) != -1) {
    if (c == 'h') {
      fputs(usage_dump, stdout);
      return 0;
    }
    if (c == 't') {
      char *e;
      timeout = strtod(optarg, &e);
      if (*e || e == optarg || !(timeout > 0) || timeout > 1e6)
        die_usage("dump ", "--timeout: expected a positive number of seconds, not '%s'",
                  optarg);
      continue;
    }
    die_usage("dump ", "bad option");
  }
  if (argc - optind != 1) die_usage("dump ", "expected one PID");
  uint64_t v;
  if (!parse_u64(argv[optind], &v) || v == 0 || v > INT_MAX)
    die_usage("dump ", "'%s' is not a process id", argv[optind]);
  long pid = (long)v;
  if (kill((pid_t)pid, 0) != 0) {
    if (errno == ESRCH)
      msg("process %ld: no such process", pid);
    else if (errno == EPERM)
      msg("process %ld: not permitted to signal it (EPERM: another user's process)", pid);
    else
      msg("process %ld: %s", pid, strerror(errno));
    return 1;
  }
  char *st = proc_read(pid, "status", NULL);
  if (!st) {
    msg("process %ld: cannot read /proc/%ld/status: %s", pid, pid, strerror(errno));
    return 1;
  }
  const char *state = status_field(st, "State");
  if (state && (*state == 'Z' || *state == 'X')) {
    msg("process %ld is a zombie (exited): nothing sent", pid);
    free(st);
    return 1;
  }
  /* First: this command's executable holds the text memledger_flavour
   * looks for in static programs. */
  const char *flavour = NULL;
  if (is_memledger_run(pid)) {
    long kids[8];
    size_t nk = children_with_memledger(pid, kids, 8);
    if (nk != 1) {
      msg("process %ld is 'memledger run' and has %s: nothing sent", pid,
          nk ? "several programs with memledger (dump one of them)"
             : "no running program with memledger");
      free(st);
      return 1;
    }
    msg("process %ld is 'memledger run': dumping its program, process %ld", pid, kids[0]);
    pid = kids[0];
    free(st);
    if (!(st = proc_read(pid, "status", NULL))) {
      msg("process %ld: cannot read /proc/%ld/status: %s", pid, pid, strerror(errno));
      return 1;
    }
  }
  flavour = memledger_flavour(pid);
  if (!flavour) {
    msg("process %ld does not run memledger (no libmemledger.so or libmemledger-wrap.so "
        "in /proc/%ld/maps, nor the library in its executable)",
        pid, pid);
    free(st);
    return 1;
  }

  /* The options exactly as the library read them: its own loader over the
   * process's environment (as it was at exec; setenv later is not seen). */
  size_t elen;
  char *etext = proc_read(pid, "environ", &elen);
  if (!etext) {
    msg("process %ld: cannot read its environment: %s", pid, strerror(errno));
    free(st);
    return 1;
  }
  char **env = env_vector(etext, elen);
  mlt_libopts_t *o = mlr_xcalloc(1, sizeof *o);
  mlt_libopts_load(env, proc_secure(pid), o);
  int rc = 1;
  char sn[64];
  int sig = o->signal;
  for (char *w = o->warnings, *nl; *w; w = nl + 1) {
    nl = strchr(w, '\n');
    *nl = 0;
    /* MEMLEDGER_SIGNAL=..., "MEMLEDGER_OPTIONS: signal=..." and the same
     * in the configuration file; the secure-execution note */
    if (strstr(w, "MEMLEDGER_SIGNAL") || strstr(w, "MEMLEDGER_ENABLED") ||
        strstr(w, ": signal=") || strstr(w, ": enabled=") || strstr(w, "secure-execution"))
      msg("note: process %ld: its library warned: %s", pid, w);
  }
  if (!o->enabled) {
    msg("process %ld has tracking off (%s): it writes no dumps; nothing sent", pid,
        o->secure_off ? "secure-execution mode and no dir in the configuration file"
                      : "enabled=0");
    goto out;
  }
  if (sig == 0) {
    msg("process %ld has its dump signal off (MEMLEDGER_SIGNAL=0/off/none): nothing sent",
        pid);
    goto out;
  }
  uint64_t cgt = status_mask(st, "SigCgt"), ign = status_mask(st, "SigIgn");
  sig_name(sig, sn, sizeof sn);
  if (!mask_has(cgt, sig)) {
    msg("process %ld has no handler for %s, its dump signal (%s; the library installs "
        "none when tracking is off in that process, e.g. a program exec'd under "
        "memledger run, or before its initialisation): nothing sent, the signal would "
        "%s it",
        pid, sn, mask_has(ign, sig) ? "it ignores the signal" : "not caught",
        mask_has(ign, sig) ? "not reach" : "kill");
    goto out;
  }
  if (blocked_everywhere(pid, sig)) {
    msg("process %ld blocks %s, its dump signal, in every thread: nothing sent", pid, sn);
    goto out;
  }
  char dir[2 * PATH_MAX + 64];
  if (o->dir[0] == '/') {
    snprintf(dir, sizeof dir, "%s", o->dir);
  } else {
    char cwdlink[64], cwd[PATH_MAX];
    snprintf(cwdlink, sizeof cwdlink, "/proc/%ld/cwd", pid);
    ssize_t n = readlink(cwdlink, cwd, sizeof cwd - 1);
    if (n < 0) {
      msg("process %ld: cannot read its working directory: %s", pid, strerror(errno));
      goto out;
    }
    cwd[n] = 0;
    if (*o->dir && strcmp(o->dir, "."))
      snprintf(dir, sizeof dir, "%s/%s", cwd, o->dir);
    else
      snprintf(dir, sizeof dir, "%s", cwd);
  }
  dumpname_t *before;
  size_t nbefore = list_dumps(dir, pid, &before);
  unsigned long maxseq = 0;
  for (size_t i = 0; i < nbefore; i++)
    if (before[i].seq > maxseq) maxseq = before[i].seq;
  free_dumps(before, nbefore);
  if (kill((pid_t)pid, sig) != 0) {
    msg("process %ld: cannot send %s: %s", pid, sn, strerror(errno));
    goto out;
  }
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    dumpname_t *after;
    size_t nafter = list_dumps(dir, pid, &after);
    unsigned long best = 0;
    for (size_t i = 0; i < nafter; i++)
      if (after[i].seq > maxseq && (!best || after[i].seq < best) &&
          is_signal_dump(dir, after[i].name))
        best = after[i].seq;
    free_dumps(after, nafter);
    if (best) {
      printf("%s/memledger.%ld.%lu.dump\n", dir, pid, best);
      rc = fflush(stdout) == 0 ? 0 : 1;
      goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt =
        (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
    if (dt > timeout) break;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  msg("process %ld wrote no dump in %s within %g s after %s (is the signal handled by "
      "the program itself?)",
      pid, dir, timeout, sn);
out:
  free(o);
  free(env);
  free(etext);
  free(st);
  return rc;
}

/* ---- the program's process tree
 * ---------------------------------------------------------- */

/* pid, ppid and trace_pid (its "options:" line) of a dump's [header]. */
static bool dump_ids(const char *path, long *pid, long *ppid, long *trace_pid) {
  FILE *f = fopen(path, "r");
  if (!f) return false;
  char *line = NULL;
  size_t cap = 0;
  bool in_header = false, got = false;
  *pid = *ppid = *trace_pid = 0;
  while (getline(&line, &cap, f) > 0) {
    if (line[0] == '[') {
      if (in_header) break;
      in_header = !strncmp(line, "[header]", 8);
      continue;
    }
    if (!in_header) continue;
    if (!strncmp(line, "pid: ", 5)) {
      *pid = atol(line + 5);
      got = true;
    } else if (!strncmp(line, "ppid: ", 6)) {
      *ppid = atol(line + 6);
    } else if (!strncmp(line, "options: ", 9)) {
      const char *t = strstr(line, " trace_pid=");
      if (t) *trace_pid = atol(t + 11);
    }
  }
  free(line);
  fclose(f);
  return got;
}

/* Mark the dumps of after[] (new since before[]) that come from the
 * program pid's process tree.  Without exec tracing every tracked process
 * of the tree carries the program's pid in MEMLEDGER_TRACE_PID, recorded in
 * its dumps' options: exact.  With it, the pid/ppid chain of the dumps from
 * the program (or from us, the subreaper of orphaned descendants). */
static void tree_filter(const char *dir, dumpname_t *after, size_t nafter,
                        const dumpname_t *before, size_t nbefore, long prog,
                        bool trace_exec) {
  long *pids = mlr_xcalloc(nafter + 1, sizeof *pids), *ppids = mlr_xcalloc(nafter + 1, sizeof *ppids);
  char path[PATH_MAX + 300];
  for (size_t i = 0; i < nafter; i++) {
    long tp = 0;
    pids[i] = -1;
    if (in_list(before, nbefore, after[i].name)) continue;
    snprintf(path, sizeof path, "%s/%s", dir, after[i].name);
    if (!dump_ids(path, &pids[i], &ppids[i], &tp)) {
      pids[i] = -1;
      continue;
    }
    if (!trace_exec) after[i].ours = tp == prog;
  }
  if (trace_exec) {
    long self = (long)getpid();
    for (bool more = true; more;) {
      more = false;
      for (size_t i = 0; i < nafter; i++) {
        if (after[i].ours || pids[i] < 0) continue;
        bool in = pids[i] == prog || ppids[i] == prog || ppids[i] == self;
        for (size_t k = 0; !in && k < nafter; k++)
          in = after[k].ours && pids[k] == ppids[i];
        if (in) after[i].ours = more = true;
      }
    }
  }
  free(pids);
  free(ppids);
}

/* ---- run
 * --------------------------------------------------------------------------------- */

static bool file_ok(const char *p) { return access(p, R_OK) == 0; }

/* The library to preload: $MEMLEDGER_LIB, the build tree around our own
 * executable (<builddir>/memledger, <builddir>/tools/memledger, or libtool's
 * <builddir>/.libs/[lt-]memledger), then the installed one. */
static char *find_lib(void) {
  const char *env = getenv("MEMLEDGER_LIB");
  if (env && *env) return mlr_xstrdup(env);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0;
    static const char *const rel[] = {"/.libs/libmemledger.so",
                                      "/../.libs/libmemledger.so", "/libmemledger.so"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
      char cand[PATH_MAX + 64];
      snprintf(cand, sizeof cand, "%s%s", self, rel[i]);
      /* "/libmemledger.so" next to us only inside a libtool .libs dir */
      if (i == 2 && (strlen(self) < 6 || strcmp(self + strlen(self) - 6, "/.libs")))
        continue;
      char *real = realpath(cand, NULL);
      if (real && file_ok(real)) return real;
      free(real);
    }
  }
  return mlr_xstrdup(MLR_LIBDIR "/libmemledger.so");
}

static volatile sig_atomic_t child_pid;
static void forward_signal(int sig) {
  if (child_pid > 0) kill((pid_t)child_pid, sig);
}

static void env_set(char ***envp, size_t *n, const char *name, const char *value) {
  size_t nl = strlen(name);
  char *kv;
  if (asprintf(&kv, "%s=%s", name, value) < 0) mlr_oom();
  for (size_t i = 0; i < *n; i++) {
    if (!strncmp((*envp)[i], name, nl) && (*envp)[i][nl] == '=') {
      (*envp)[i] = kv;
      return;
    }
  }
  *envp = mlr_xrealloc(*envp, (*n + 2) * sizeof **envp);
  (*envp)[(*n)++] = kv;
  (*envp)[*n] = NULL;
}

static int cmd_run(int argc, char **argv) {
  static const struct option lo[] = {
      REPORT_LONGOPTS,
      {"min-size", required_argument, NULL, OPT_MIN_SIZE},
      {"unwind", required_argument, NULL, OPT_UNWIND},
      {"max-frames", required_argument, NULL, OPT_MAX_FRAMES},
      {"dir", required_argument, NULL, 'd'},
      {"signal", required_argument, NULL, OPT_SIGNAL},
      {"no-follow-fork", no_argument, NULL, OPT_NO_FOLLOW},
      {"children", no_argument, NULL, OPT_CHILDREN},
      {"set", required_argument, NULL, OPT_SET},
      {"fail-on-leak", optional_argument, NULL, OPT_FAIL},
      {"lib", required_argument, NULL, OPT_LIB},
      {"trace-children", required_argument, NULL, OPT_TRACE_CHILDREN},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {0, 0, 0, 0}};
  ropts_t r = {.color = -1};
  size_t nenv = 0;
  char **envp = NULL;
  for (char **e = environ; *e; e++)
    nenv++;
  envp = mlr_xcalloc(nenv + 1, sizeof *envp);
  memcpy(envp, environ, nenv * sizeof *envp);
  const char *dir = NULL, *lib_opt = NULL;
  bool children = false, quiet = false, verbose = false, fail = false, trace_exec = false;
  uint64_t fail_max = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+" REPORT_SHORTOPTS "d:qv", lo, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage_run, stdout); return 0;
    case OPT_MIN_SIZE: env_set(&envp, &nenv, "MEMLEDGER_MIN_SIZE", optarg); break;
    case OPT_UNWIND: env_set(&envp, &nenv, "MEMLEDGER_UNWIND", optarg); break;
    case OPT_MAX_FRAMES: env_set(&envp, &nenv, "MEMLEDGER_MAX_FRAMES", optarg); break;
    case OPT_SIGNAL: env_set(&envp, &nenv, "MEMLEDGER_SIGNAL", optarg); break;
    case OPT_NO_FOLLOW: env_set(&envp, &nenv, "MEMLEDGER_FOLLOW_FORK", "0"); break;
    case 'd': dir = optarg; break;
    case OPT_CHILDREN: children = true; break;
    case OPT_LIB: lib_opt = optarg; break;
    case OPT_TRACE_CHILDREN:
      if (!strcmp(optarg, "yes"))
        trace_exec = true;
      else if (!strcmp(optarg, "no"))
        trace_exec = false;
      else
        die_usage("run ", "--trace-children: expected yes or no, not '%s'", optarg);
      break;
    case 'q': quiet = true; break;
    case 'v': verbose = true; break;
    case OPT_FAIL:
      fail = true;
      if (optarg && !parse_u64(optarg, &fail_max))
        die_usage("run ", "--fail-on-leak: expected a number of blocks, not '%s'",
                  optarg);
      break;
    case OPT_SET: {
      const char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg)
        die_usage("run ", "--set: expected NAME=VALUE, not '%s'", optarg);
      char name[128] = "MEMLEDGER_";
      size_t nl = (size_t)(eq - optarg);
      if (!strncasecmp(optarg, "MEMLEDGER_", 10)) {
        optarg += 10;
        nl -= 10;
      }
      if (nl == 0 || nl > 100) die_usage("run ", "--set: bad name in '%s'", optarg);
      for (size_t i = 0; i < nl; i++)
        name[10 + i] = optarg[i] == '-' ? '_' : (char)toupper((unsigned char)optarg[i]);
      name[10 + nl] = 0;
      env_set(&envp, &nenv, name, eq + 1);
      break;
    }
    default:
      if (c == '?' || !report_opt("run ", &r, c, optarg)) die_usage("run ", "bad option");
    }
  }
  if (optind >= argc) die_usage("run ", "missing the program to run");
  find_format("run ", r.format ? r.format : "text", false);
  mlr_supp_t *supp = quiet && !fail ? NULL : load_supp(&r);

  /* The dump directory: made absolute, created when missing.  Without
   * --dir, the library's own choice (MEMLEDGER_DIR, MEMLEDGER_OPTIONS, the
   * configuration file). */
  mlt_libopts_t *libo = mlr_xcalloc(1, sizeof *libo);
  if (!dir) {
    mlt_libopts_load(environ, false, libo);
    dir = libo->dir;
  }
  if (!*dir) dir = ".";
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    msg("--dir %s: %s", dir, strerror(errno));
    return 1;
  }
  char *adir = realpath(dir, NULL);
  struct stat st;
  if (!adir || stat(adir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    msg("--dir %s: %s", dir, adir ? "not a directory" : strerror(errno));
    return 1;
  }
  env_set(&envp, &nenv, "MEMLEDGER_DIR", adir);
  if (!verbose) env_set(&envp, &nenv, "MEMLEDGER_QUIET", "1");

  char *lib = lib_opt ? mlr_xstrdup(lib_opt) : find_lib();
  if (!file_ok(lib)) {
    msg("cannot find the library: %s: %s (set MEMLEDGER_LIB or --lib)", lib,
        strerror(errno));
    return 1;
  }
  if (lib[0] != '/') {
    char *real = realpath(lib, NULL);
    if (real) {
      free(lib);
      lib = real;
    }
  }
  const char *pre = getenv("LD_PRELOAD");
  char *ldp;
  if (asprintf(&ldp, "%s%s%s", lib, pre && *pre ? ":" : "", pre && *pre ? pre : "") < 0)
    mlr_oom();
  env_set(&envp, &nenv, "LD_PRELOAD", ldp);
  if (verbose) msg("preloading %s; dumps go to %s", lib, adir);

  dumpname_t *before;
  size_t nbefore = list_dumps(adir, 0, &before);

  int errpipe[2], gopipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0 || pipe2(gopipe, O_CLOEXEC) != 0) {
    msg("pipe: %s", strerror(errno));
    return 1;
  }
  /* Orphaned descendants come to us, not to init: their dumps' ppid is
   * then ours, which keeps them in the program's tree (--children). */
  if (children) (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    msg("fork: %s", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    close(errpipe[0]);
    close(gopipe[1]);
    char go;
    while (read(gopipe[0], &go, 1) < 0 && errno == EINTR) {
    }
    /* Only this process (and its forks) tracks: what it runs through
     * fork and exec passes through (the library compares its own pid). */
    if (!trace_exec) {
      char self[24];
      snprintf(self, sizeof self, "%ld", (long)getpid());
      env_set(&envp, &nenv, "MEMLEDGER_TRACE_PID", self);
    }
    environ = envp;
    execvp(argv[optind], argv + optind);
    int e = errno;
    (void)!write(errpipe[1], &e, sizeof e);
    _exit(127);
  }
  child_pid = pid;
  close(errpipe[1]);
  close(gopipe[0]);
  /* The terminal's ^C and ^\ go to the program; we report after it ends.
   * TERM and HUP sent to us are passed on. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  struct sigaction sa = {.sa_handler = forward_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  /* Dumps of this pid from an earlier process with the same pid stay out. */
  dumpname_t *stale;
  size_t nstale = list_dumps(adir, pid, &stale);
  (void)!write(gopipe[1], "g", 1);
  close(gopipe[1]);
  int exec_err = 0;
  ssize_t got;
  while ((got = read(errpipe[0], &exec_err, sizeof exec_err)) < 0 && errno == EINTR) {
  }
  close(errpipe[0]);
  int status;
  for (;;) { /* the program; orphans that came to us are reaped on the way */
    pid_t w = waitpid(children ? -1 : pid, &status, 0);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) {
      msg("waitpid: %s", strerror(errno));
      return 1;
    }
  }
  child_pid = 0;
  if (got == (ssize_t)sizeof exec_err) {
    if (exec_err == ENOENT)
      msg("%s: command not found", argv[optind]);
    else
      msg("%s: %s", argv[optind], strerror(exec_err));
    return exec_err == ENOENT ? 127 : 126;
  }
  int rc;
  if (WIFEXITED(status)) {
    rc = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    rc = 128 + WTERMSIG(status);
    msg("%s was killed by SIG%s", argv[optind],
        sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
  } else {
    rc = 1;
  }

  /* The exit dump: the newest of this pid (the exit dump comes last). */
  dumpname_t *after;
  size_t nafter = list_dumps(adir, 0, &after);
  const dumpname_t *mine = NULL;
  for (size_t i = 0; i < nafter; i++)
    if (after[i].pid == pid && !in_list(stale, nstale, after[i].name) &&
        (!mine || after[i].seq > mine->seq))
      mine = &after[i];
  uint64_t remaining = 0, total_remaining = 0;
  int report_rc = 0;
  FILE *out = NULL;
  if (!mine) {
    msg("no dump from process %ld in %s (%s)", (long)pid, adir,
        WIFSIGNALED(status)
            ? "killed before its exit dump"
            : "exited without the exit dump: _exit, exec of a set-uid program, "
              "or MEMLEDGER_DUMP_AT_EXIT=0");
    if (fail && rc == 0) rc = 1;
  } else {
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", adir, mine->name);
    if (verbose) msg("exit dump: %s", path);
    out = quiet ? fopen("/dev/null", "w") : open_out(&r, stderr);
    if (!out) out = stderr;
    report_rc = report_one(path, &r, supp, out, &remaining);
    total_remaining += remaining;
    if (children) {
      tree_filter(adir, after, nafter, before, nbefore, pid, trace_exec);
      for (size_t i = 0; i < nafter; i++) {
        if (after[i].pid == pid || !after[i].ours) continue;
        bool newest = true; /* the last dump of each child */
        for (size_t k = 0; k < nafter; k++)
          if (after[k].pid == after[i].pid && after[k].seq > after[i].seq) newest = false;
        if (!newest) continue;
        snprintf(path, sizeof path, "%s/%s", adir, after[i].name);
        fputc('\n', out);
        int crc = report_one(path, &r, supp, out, &remaining);
        if (crc && !report_rc) report_rc = crc;
        total_remaining += remaining;
      }
    }
    if (out && close_out(&r, out, report_rc == 0) && !report_rc) report_rc = 1;
  }
  if (report_rc && rc == 0) rc = report_rc;
  if (fail && rc == 0 && mine && total_remaining > fail_max) {
    msg("%llu %s (definitely or indirectly lost, or unclassified) remain after "
        "suppressions (--fail-on-leak=%llu): exit status %d",
        (unsigned long long)total_remaining,
        mlr_plural(total_remaining, "block", "blocks"), (unsigned long long)fail_max,
        EXIT_LEAK);
    rc = EXIT_LEAK;
  }
  free_dumps(before, nbefore);
  free_dumps(after, nafter);
  free_dumps(stale, nstale);
  mlr_supp_free(supp);
  ropts_free(&r);
  free(lib);
  free(ldp);
  free(adir);
  return rc;
}

/* ---- main
 * ---------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_main, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    if (argc > 2 && strcmp(cmd, "help") == 0) {
      char *sub[] = {argv[0], argv[2], "--help", NULL};
      return main(3, sub);
    }
    fputs(usage_main, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
    printf("memledger %s (dump format 1)\n", MLR_VERSION);
    return 0;
  }
  /* getopt_long sees "memledger-CMD OPTIONS...": its messages name the command. */
  optind = 1;
  if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "dump")) return cmd_dump(argc - 1, argv + 1);
  if (!strcmp(cmd, "report")) return cmd_report(argc - 1, argv + 1);
  if (!strcmp(cmd, "diff")) return cmd_diff(argc - 1, argv + 1);
  if (!strcmp(cmd, "trend")) return cmd_trend(argc - 1, argv + 1);
  die_usage(NULL, "unknown command '%s' (run, dump, report, diff, trend)", cmd);
}

/* SPDX-License-Identifier: MIT */
/*
 * cmd_common.c - what the memledger command's subcommands share
 * (cmd_common.h): messages and usage errors, the report options and formats,
 * the output file, reading and reporting one dump (report and run), and the
 * dump files of a directory (dump and run).
 * Runs outside the target process: ordinary stdio and malloc.
 */
#include "cmd_common.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog_name = "memledger";

void mlc_die_usage(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog_name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry '%s %s--help' for more information.\n", prog_name,
          cmd ? cmd : "");
  exit(EXIT_USAGE);
}

void mlc_msg(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog_name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}
bool mlc_parse_u64(const char *s, uint64_t *v) {
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

void mlc_ropts_free(mlc_ropts_t *r) {
  free(r->supp_files);
  free(r->alloc_fn);
  free(r->hide);
}

/* A regular expression of option --what, checked before any dump is read
 * (or program run): an empty one would match every function. */
static void check_re(const char *cmd, const char *what, const char *pat) {
  if (!*pat) mlc_die_usage(cmd, "--%s: expected a regular expression, not ''", what);
  regex_t re;
  mlr_err_t err;
  if (mlr_regcomp(&re, pat, what, &err)) mlc_die_usage(cmd, "%s", err.msg);
  regfree(&re);
}

bool mlc_report_opt(const char *cmd, mlc_ropts_t *r, int c, const char *arg) {
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
      mlc_die_usage(cmd, "--sort: expected bytes or count, not '%s'", arg);
    return true;
  case 'w':
    if (!strcmp(arg, "bytes"))
      r->ro.weight = MLR_WEIGHT_BYTES;
    else if (!strcmp(arg, "count") || !strcmp(arg, "blocks"))
      r->ro.weight = MLR_WEIGHT_COUNT;
    else
      mlc_die_usage(cmd, "--weight: expected bytes or count, not '%s'", arg);
    return true;
  case 'n':
    if (!mlc_parse_u64(arg, &v))
      mlc_die_usage(cmd, "--top: expected a number, not '%s'", arg);
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
  case OPT_ADDRESSES: r->ro.addresses = true; return true;
  case OPT_KINDS: {
    mlr_err_t e;
    if (mlr_kinds_parse(arg, &r->ro.kinds, &e)) mlc_die_usage(cmd, "%s", e.msg);
    return true;
  }
  case OPT_DEBUG_DIR: r->debug_dirs = arg; return true;
  case OPT_SYSROOT: r->sysroot = arg; return true;
  case OPT_HTML_ROWS:
    if (!mlc_parse_u64(arg, &v))
      mlc_die_usage(cmd, "--html-rows: expected a number, not '%s'", arg);
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
      mlc_die_usage(cmd, "--color: expected auto, always or never, not '%s'", arg);
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
static const struct {
  const char *name;
  format_fn fn;
} formats[] = {
    {"text", mlr_format_text},     {"json", mlr_format_json},
    {"folded", mlr_format_folded}, {"jeprof", mlr_format_jeprof},
    {"pprof", mlr_format_pprof},   {"html", mlr_format_html},
    {"junit", mlr_format_junit},   {"sarif", mlr_format_sarif},
};

format_fn mlc_find_format(const char *cmd, const char *name, bool diff) {
  if (diff) {
    if (!strcmp(name, "text") || !strcmp(name, "json")) return NULL;
    mlc_die_usage(cmd, "--format: diff writes text or json, not '%s'", name);
  }
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    if (!strcmp(formats[i].name, name)) return formats[i].fn;
  mlc_die_usage(
      cmd,
      "--format: expected text, json, folded, jeprof, pprof, html, junit or sarif, "
      "not '%s'",
      name);
}

mlr_supp_t *mlc_load_supp(const mlc_ropts_t *r) {
  mlr_supp_t *l = r->no_defaults ? NULL : mlr_supp_defaults();
  for (size_t i = 0; i < r->nsupp; i++) {
    mlr_err_t err;
    if (mlr_supp_load(&l, r->supp_files[i], &err)) {
      mlc_msg("%s", err.msg);
      exit(EXIT_USAGE);
    }
  }
  return l;
}

/* The -o FILE being written (mlc_open_out, mlc_close_out). */
static mlr_out_t out_file;

FILE *mlc_open_out(const mlc_ropts_t *r, FILE *def) {
  if (!r->output || !strcmp(r->output, "-")) return r->output ? stdout : def;
  mlr_err_t err;
  if (mlr_out_open(&out_file, r->output, &err)) {
    mlc_msg("%s", err.msg);
    exit(1);
  }
  return out_file.f;
}

int mlc_close_out(const mlc_ropts_t *r, FILE *f, bool ok) {
  (void)r;
  if (f == stdout || f == stderr) return fflush(f) == 0 ? 0 : 1;
  if (f != out_file.f) return fclose(f) == 0 ? 0 : 1; // run --quiet's /dev/null
  if (!ok) {
    mlr_out_abort(&out_file);
    return 0;
  }
  mlr_err_t err;
  if (mlr_out_commit(&out_file, &err)) {
    mlc_msg("%s", err.msg);
    return 1;
  }
  return 0;
}

bool mlc_use_color(const mlc_ropts_t *r, FILE *out) {
  if (r->color >= 0) return r->color;
  const char *term = getenv("TERM");
  return isatty(fileno(out)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0;
}

int mlc_load_dump(const char *path, const mlc_ropts_t *r, mlr_dump_t *d) {
  mlr_err_t err;
  if (mlr_dump_read(path, d, &err)) {
    mlc_msg("%s", err.msg);
    return EXIT_USAGE;
  }
  mlr_symbolize_opts_t so = {.debug_dirs = r->debug_dirs, .sysroot = r->sysroot};
  if (mlr_symbolize(d, &so, &err)) {
    mlc_msg("%s", err.msg);
    mlr_dump_free(d);
    return 1;
  }
  return 0;
}

int mlc_report_one(const char *path, const mlc_ropts_t *r, const mlr_supp_t *supp,
                   FILE *out, uint64_t *remaining) {
  format_fn fn = mlc_find_format("report ", r->format ? r->format : "text", false);
  mlr_dump_t d;
  int rc = mlc_load_dump(path, r, &d);
  if (rc) return rc;
  mlr_report_t rep;
  mlr_err_t err;
  mlr_report_opts_t ro = r->ro;
  ro.supp = supp;
  if (mlr_report_build(&rep, &d, &ro, &err)) {
    mlc_msg("%s", err.msg);
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
      .color = mlc_use_color(r, out), .title = path, .html_rows = r->html_rows};
  mlr_progress_t pr;
  mlr_progress_begin(&pr, "writing the %s report", r->format ? r->format : "text");
  if (fn(out, &rep, &fo, &err)) {
    mlc_msg("%s", err.msg);
    rc = 1;
  }
  mlr_progress_end(&pr);
  mlr_report_free(&rep);
  mlr_dump_free(&d);
  return rc;
}

bool mlc_report_args(const char *cmd, const char *usage, int argc, char **argv,
                     mlc_ropts_t *r) {
  static const struct option lo[] = {
      REPORT_LONGOPTS, {"quiet", no_argument, NULL, 'q'}, {0, 0, 0, 0}};
  int c;
  *r = (mlc_ropts_t){.color = -1};
  while ((c = getopt_long(argc, argv, REPORT_SHORTOPTS "q", lo, NULL)) != -1) {
    if (c == 'h') {
      fputs(usage, stdout);
      return false;
    }
    if (c == 'q')
      mlr_progress_quiet = true;
    else if (c == '?' || !mlc_report_opt(cmd, r, c, optarg))
      mlc_die_usage(cmd, "bad option");
  }
  return true;
}

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

size_t mlc_list_dumps(const char *dir, long pid, mlc_dumpname_t **out) {
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

void mlc_free_dumps(mlc_dumpname_t *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i].name);
  free(v);
}

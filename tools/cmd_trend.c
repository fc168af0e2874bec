/* SPDX-License-Identifier: MIT */
/*
 * cmd_trend.c - `memledger trend DUMP|DIR...`: growth over a series of
 * dumps, per stack a least-squares slope (text, json or html).
 * Runs outside the target process.  Exit statuses as report's.
 */
#include "cmd_common.h"

#include <stdlib.h>
#include <string.h>

static const char usage_trend[] =
    "Usage: memledger trend [OPTIONS] DUMP|DIR...\n"
    "Rank stacks by steady growth over a series of dumps (MEMLEDGER_INTERVAL,\n"
    "MEMLEDGER_DUMP_AT, or dumps by signal): the least-squares slope of each\n"
    "stack's bytes (or blocks, --sort count) per minute and its R2 fit, first and\n"
    "last seen.  A directory stands for every memledger.*.dump in it; dumps are\n"
    "ordered by their header's time.  Descriptors, threads and mappings the dumps\n"
    "list are ranked the same way, per creation stack.  Formats: text (default),\n"
    "json, and html (a page charting the remaining bytes, memory, descriptors and\n"
    "threads, and the steepest stacks over time).\n"
    "\n" REPORT_OPTS_HELP "  -q, --quiet             no progress messages on stderr\n"
    "  -h, --help              this help\n";

int mlc_cmd_trend(int argc, char **argv) {
  mlc_ropts_t r;
  if (!mlc_report_args("trend ", usage_trend, argc, argv, &r)) return 0;
  if (argc - optind < 1) mlc_die_usage("trend ", "expected dump files or directories");
  static const struct {
    const char *name;
    int (*fn)(FILE *, const mlr_trend_t *, const mlr_format_opts_t *, mlr_err_t *);
  } tformats[] = {{"text", mlr_format_trend_text},
                  {"json", mlr_format_trend_json},
                  {"html", mlr_format_trend_html}};
  const char *fmt = r.format ? r.format : "text";
  size_t fi = 0;
  while (fi < sizeof tformats / sizeof *tformats && strcmp(tformats[fi].name, fmt))
    fi++;
  if (fi == sizeof tformats / sizeof *tformats)
    mlc_die_usage("trend ", "--format: trend writes text, json or html, not '%s'", fmt);
  mlr_supp_t *supp = mlc_load_supp(&r);
  mlr_report_opts_t ro = r.ro;
  ro.supp = supp;
  if (!ro.kinds) ro.kinds = MLR_KINDS_ALL; /* as diff: a cache grows reachable */
  mlr_symbolize_opts_t so = {.debug_dirs = r.debug_dirs, .sysroot = r.sysroot};
  mlr_trend_t t;
  mlr_err_t err;
  int rc = 0;
  if (mlr_trend_build(&t, argv + optind, (size_t)(argc - optind), &so, &ro, &err)) {
    mlc_msg("%s", err.msg);
    rc = EXIT_USAGE;
  } else {
    FILE *out = mlc_open_out(&r, stdout);
    mlr_format_opts_t fo = {.color = mlc_use_color(&r, out)};
    if (tformats[fi].fn(out, &t, &fo, &err)) {
      mlc_msg("%s", err.msg);
      rc = 1;
    }
    if (mlc_close_out(&r, out, rc == 0) && !rc) rc = 1;
    mlr_trend_free(&t);
  }
  mlr_supp_free(supp);
  mlc_ropts_free(&r);
  return rc;
}

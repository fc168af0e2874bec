/* SPDX-License-Identifier: MIT */
/*
 * cmd_report.c - `memledger report FILE`: read one dump, symbolize it and
 * write it in one of the report formats (text, json, folded, jeprof, pprof,
 * html, junit, sarif), after filters, suppressions and --kinds.
 * Runs outside the target process.  Exit statuses: 0, 1 operational error,
 * 2 usage error or bad dump file.
 */
#include "cmd_common.h"

#include <string.h>

static const char usage_report[] =
    "Usage: memledger report [OPTIONS] FILE\n"
    "Report the unfreed blocks of a dump by stack, largest first, with symbolized\n"
    "frames, then the open descriptors, threads and mappings the dump lists, by\n"
    "creation stack.  Built-in suppressions count the one-time allocations of\n"
    "ld.so, libc and libstdc++ as suppressed.  FILE may be - (standard input) and\n"
    "may be gzip-compressed.  Steps that take over 2 s say so on stderr.\n"
    "\n" REPORT_OPTS_HELP "  -q, --quiet             no progress messages on stderr\n"
    "  -h, --help              this help\n";

int mlc_cmd_report(int argc, char **argv) {
  mlc_ropts_t r;
  if (!mlc_report_args("report ", usage_report, argc, argv, &r)) return 0;
  if (argc - optind != 1)
    mlc_die_usage("report ",
                  argc == optind ? "missing dump FILE" : "one dump FILE at a time");
  mlc_find_format("report ", r.format ? r.format : "text", false);
  mlr_supp_t *supp = mlc_load_supp(&r);
  FILE *out = mlc_open_out(&r, stdout);
  int rc = mlc_report_one(argv[optind], &r, supp, out, NULL);
  if (mlc_close_out(&r, out, rc == 0) && !rc) rc = 1;
  mlr_supp_free(supp);
  mlc_ropts_free(&r);
  return rc;
}

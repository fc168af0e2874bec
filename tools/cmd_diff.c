/* SPDX-License-Identifier: MIT */
/*
 * cmd_diff.c - `memledger diff OLD NEW`: what grew between two dumps (of
 * every leak kind by default), in text or JSON, with warnings when the two
 * dumps do not compare well (other program or process, other threshold or
 * unwind settings, NEW older than OLD).
 * Runs outside the target process.  Exit statuses as report's.
 */
#include "cmd_common.h"

#include <string.h>

static const char usage_diff[] =
    "Usage: memledger diff [OPTIONS] OLD NEW\n"
    "Growth of unfreed blocks per stack from dump OLD to dump NEW (stacks are\n"
    "matched by their symbolized frames): grown, new, shrunk and gone stacks,\n"
    "largest growth first, with the time between the dumps and the growth rate;\n"
    "descriptors, threads and mappings per creation stack when the dumps list them.\n"
    "Warns when the dumps were taken with different thresholds or unwinding.\n"
    "Formats: text (default) and json.\n"
    "\n" REPORT_OPTS_HELP "  -q, --quiet             no progress messages on stderr\n"
    "  -h, --help              this help\n";

/* Warnings about two dumps that do not compare well: taken with different
 * thresholds (blocks between the two are counted on one side only) or
 * stack settings (stacks may not match), or NEW older than OLD. */
static void diff_warnings(const mlr_dump_t *d0, const mlr_dump_t *d1) {
  const char *t0 = mlr_kv_get(d0->header, d0->nheader, "threshold");
  const char *t1 = mlr_kv_get(d1->header, d1->nheader, "threshold");
  if (t0 && t1 && strcmp(t0, t1))
    mlc_msg(
        "warning: the dumps were taken with different thresholds (MEMLEDGER_MIN_SIZE: %s "
        "and %s bytes): blocks between the two are tracked in one dump only",
        mlr_safe(t0), mlr_safe(t1));
  static const char *const keys[] = {"unwind", "max_frames"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const char *v0 = mlr_kv_get(d0->header, d0->nheader, keys[i]);
    const char *v1 = mlr_kv_get(d1->header, d1->nheader, keys[i]);
    if (v0 && v1 && strcmp(v0, v1))
      mlc_msg(
          "warning: the dumps were taken with different unwind settings (%s: %s and %s): "
          "the same allocation site may give different stacks",
          keys[i], mlr_safe(v0), mlr_safe(v1));
  }
  double s0, s1;
  if (mlr_dump_time(d0, &s0) && mlr_dump_time(d1, &s1) && s1 < s0)
    mlc_msg("warning: NEW (%s) was taken %.3f s before OLD (%s): growth is shrinkage "
            "(swap them?)",
            mlr_safe(d1->path), s0 - s1, mlr_safe(d0->path));
}

int mlc_cmd_diff(int argc, char **argv) {
  mlc_ropts_t r;
  if (!mlc_report_args("diff ", usage_diff, argc, argv, &r)) return 0;
  if (argc - optind != 2) mlc_die_usage("diff ", "expected two dump files: OLD NEW");
  const char *fmt = r.format ? r.format : "text";
  mlc_find_format("diff ", fmt, true);
  mlr_supp_t *supp = mlc_load_supp(&r);
  mlr_dump_t d0, d1;
  int rc = mlc_load_dump(argv[optind], &r, &d0);
  if (rc) goto out_supp;
  rc = mlc_load_dump(argv[optind + 1], &r, &d1);
  if (rc) goto out_d0;
  const char *p0 = mlr_kv_get(d0.header, d0.nheader, "pid");
  const char *p1 = mlr_kv_get(d1.header, d1.nheader, "pid");
  const char *e0 = mlr_kv_get(d0.header, d0.nheader, "exe");
  const char *e1 = mlr_kv_get(d1.header, d1.nheader, "exe");
  if (e0 && e1 && strcmp(e0, e1))
    mlc_msg("warning: the dumps come from different programs (%s, %s)", e0, e1);
  else if (p0 && p1 && strcmp(p0, p1))
    mlc_msg("warning: the dumps come from different processes (pid %s, pid %s)", p0, p1);
  diff_warnings(&d0, &d1);
  mlr_report_t r0, r1;
  mlr_err_t err;
  mlr_report_opts_t ro = r.ro;
  ro.supp = supp;
  if (!ro.kinds)
    ro.kinds = MLR_KINDS_ALL; /* growth of any kind: a cache grows reachable */
  if (mlr_report_build(&r0, &d0, &ro, &err) || mlr_report_build(&r1, &d1, &ro, &err)) {
    mlc_msg("%s", err.msg);
    rc = EXIT_USAGE;
    goto out_d1;
  }
  mlr_diff_t df;
  mlr_diff_build(&df, &r0, &r1, r.ro.sort);
  FILE *out = mlc_open_out(&r, stdout);
  mlr_format_opts_t fo = {.color = mlc_use_color(&r, out)};
  if ((!strcmp(fmt, "json") ? mlr_format_diff_json : mlr_format_diff_text)(out, &df, &fo,
                                                                           &err)) {
    mlc_msg("%s", err.msg);
    rc = 1;
  }
  if (mlc_close_out(&r, out, rc == 0) && !rc) rc = 1;
  mlr_diff_free(&df);
  mlr_report_free(&r0);
  mlr_report_free(&r1);
out_d1:
  mlr_dump_free(&d1);
out_d0:
  mlr_dump_free(&d0);
out_supp:
  mlr_supp_free(supp);
  mlc_ropts_free(&r);
  return rc;
}

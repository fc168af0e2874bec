/* SPDX-License-Identifier: MIT */
/*
 * report_junit.c - `memledger report --format junit`: JUnit XML for CI
 * systems (Jenkins, GitLab, GitHub test reporters).  One testsuite per
 * dump, one failing testcase per remaining stack (the failure's message
 * gives blocks and bytes, its text the stack as the text report shows
 * it); a dump without leaks gives one passing testcase, so that the suite
 * is never empty.  Schema: doc/report-formats.md.
 * Runs outside the target process.  Every string goes through mlr_xml_str:
 * the output is well-formed XML 1.0 and valid UTF-8 whatever the dump holds.
 */
#include "report_priv.h"

#include <stdlib.h>
#include <string.h>

/* The stack's frames as in the text report, one line each, escaped. */
static void failure_text(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s) {
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  if (!m) mlr_oom();
  mlr_text_frames(m, d, s, "  ");
  if (fclose(m) != 0) mlr_oom();
  for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
    nl = strchr(line, '\n');
    if (nl) *nl = 0;
    mlr_xml_str(out, line);
    fputc('\n', out);
  }
  free(buf);
}

/* A testcase's name: where the blocks were allocated and from where,
 * without addresses or stack ids, so that it stays the same from one run
 * to the next. */
static void case_name(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s) {
  char site[1200];
  if (s->id == 0) {
    mlr_xml_str(out, "unfreed memory, no stack (the stack table was full)");
    return;
  }
  if (s->nframes == 0) {
    fprintf(out, "unfreed memory, stack %u (no frames)", s->id);
    return;
  }
  fputs("unfreed memory from ", out);
  mlr_xml_str(out, mlr_frame_site(d, &s->frames[0], site, sizeof site));
  if (s->nframes > 1) {
    fputs(" called from ", out);
    mlr_xml_str(out, mlr_frame_site(d, &s->frames[1], site, sizeof site));
  }
}

static void property(FILE *out, const char *name, const char *value) {
  if (!value) return;
  fprintf(out, "      <property name=\"%s\" value=\"", name);
  mlr_xml_str(out, value);
  fputs("\"/>\n", out);
}

static void property_u64(FILE *out, const char *name, uint64_t v) {
  fprintf(out, "      <property name=\"%s\" value=\"%llu\"/>\n", name, (unsigned long long)v);
}

int mlr_format_junit(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o,
                     mlr_err_t *err) {
  (void)o;
  const mlr_dump_t *d = r->dump;
  size_t n = r->top && r->top < r->nshown ? r->top : r->nshown;
  size_t tests = n ? n : 1;
  const char *exe = mlr_kv_get(d->header, d->nheader, "exe");
  const char *base = exe && strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe ? exe : "program";
  const char *tm = mlr_kv_get(d->header, d->nheader, "time");

  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
  fprintf(out, "<testsuites name=\"memledger\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n",
          tests, n);
  fputs("  <testsuite name=\"memledger: unfreed memory of ", out);
  mlr_xml_str(out, exe ? exe : "?");
  fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"0\"", tests,
          n);
  /* JUnit's timestamp has no zone and no fraction: "2026-01-02T03:04:05". */
  if (tm && strlen(tm) >= 19 && strspn(tm, "0123456789-T:") >= 19)
    fprintf(out, " timestamp=\"%.19s\"", tm);
  fputs(">\n    <properties>\n", out);
  property(out, "dump", d->path);
  property(out, "exe", exe);
  property(out, "pid", mlr_kv_get(d->header, d->nheader, "pid"));
  property(out, "time", tm);
  property(out, "trigger", mlr_kv_get(d->header, d->nheader, "trigger"));
  property(out, "threshold", mlr_kv_get(d->header, d->nheader, "threshold"));
  property_u64(out, "unfreed_blocks", d->unfreed_blocks);
  property_u64(out, "unfreed_bytes", d->unfreed_bytes);
  property_u64(out, "suppressed_blocks", r->suppressed_blocks);
  property_u64(out, "suppressed_bytes", r->suppressed_bytes);
  property_u64(out, "remaining_blocks", r->shown_blocks);
  property_u64(out, "remaining_bytes", r->shown_bytes);
  property_u64(out, "remaining_stacks", r->nshown);
  fputs("    </properties>\n", out);

  for (size_t i = 0; i < n; i++) {
    const mlr_stack_t *s = r->shown[i];
    char am[160];
    fputs("    <testcase classname=\"memledger.leaks.", out);
    mlr_xml_str(out, base);
    fputs("\" name=\"", out);
    case_name(out, d, s);
    fprintf(out, "\" time=\"0\">\n      <failure type=\"memledger.leak\" message=\"%s unfreed, stack %u",
            mlr_stack_amount(s, am, sizeof am), s->id);
    if (s->merged) fprintf(out, " and %u more", (unsigned)s->merged);
    fputs("\">\n", out);
    failure_text(out, d, s);
    fputs("      </failure>\n    </testcase>\n", out);
  }
  if (n == 0) {
    fputs("    <testcase classname=\"memledger.leaks.", out);
    mlr_xml_str(out, base);
    fputs("\" name=\"no unfreed memory after suppressions\" time=\"0\"/>\n", out);
  }
  fputs("  </testsuite>\n</testsuites>\n", out);
  return mlr_io_result(out, err);
}

/* SPDX-License-Identifier: MIT */
/*
 * report_folded.c - folded stacks for flame graphs (flamegraph.pl,
 * inferno, speedscope): one line per remaining stack, frames root first,
 * separated by ';', then a space and the weight (bytes, or blocks with
 * --weight count).  A frame is its function name, or <module>+0x<offset>
 * when unknown; inlined frames are frames of their own.
 */
#include "report_priv.h"

#include <string.h>

/* Names with ';' or line breaks would break the format: replaced. */
static void put_name(FILE *out, const char *s) {
  for (; *s; s++)
    fputc(*s == ';' ? ':' : (*s == '\n' || *s == '\r') ? ' ' : *s, out);
}

int mlr_format_folded(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o,
                      mlr_err_t *err) {
  (void)o;
  const mlr_dump_t *d = r->dump;
  size_t n = r->top && r->top < r->nshown ? r->top : r->nshown;
  for (size_t i = 0; i < n; i++) {
    const mlr_stack_t *s = r->shown[i];
    if (s->id == 0)
      fputs("[stack table full]", out);
    else if (s->nframes == 0)
      fputs("[no stack]", out);
    for (size_t k = s->nframes; k-- > 0;) {
      char buf[128];
      put_name(out, mlr_safe(mlr_frame_name(d, &s->frames[k], buf, sizeof buf)));
      if (k) fputc(';', out);
    }
    fprintf(out, " %llu\n",
            (unsigned long long)(r->weight == MLR_WEIGHT_COUNT ? s->blocks : s->bytes));
  }
  return mlr_io_result(out, err);
}

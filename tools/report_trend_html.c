/* SPDX-License-Identifier: MIT */
/*
 * report_trend_html.c - `memledger trend --format html`: one self-contained
 * page with two charts, the remaining bytes of every dump over time and
 * the bytes of the steepest-growing stacks over time, and the ranked table
 * of stacks with their frames.  The charts are inline SVG drawn here: the
 * page needs no script and loads nothing (the same Content-Security-Policy
 * and style sheet as the report's html page, tools/report_html.c).  Runs
 * outside the target process.
 */
#include "report_priv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CHART_W 860
#define CHART_H 260
#define PAD_L 78 // room for the byte labels
#define PAD_R 16
#define PAD_T 12
#define PAD_B 34 // room for the minute labels
#define CHART_LINES 8 // stacks drawn in the second chart

static const char *const colors[CHART_LINES] = {"#b3261e", "#2f5d8a", "#2e7d32", "#8e44ad",
                                                "#e67e22", "#00838f", "#6d4c41", "#c2185b"};

typedef struct chart_s {
  double xmax;   // minutes at the right edge
  double ymax;   // bytes (or a count) at the top
  bool count;    // y is a count, not bytes
} chart_t;

/* A y value as the chart labels it. */
static const char *ylabel(const chart_t *c, char *buf, size_t len, double v) {
  if (!c->count) return mlr_human(buf, len, (uint64_t)v);
  snprintf(buf, len, "%.0f", v);
  return buf;
}

static double cx(const chart_t *c, double minutes) {
  return PAD_L + (c->xmax > 0 ? minutes / c->xmax : 0) * (CHART_W - PAD_L - PAD_R);
}
static double cy(const chart_t *c, double bytes) {
  return PAD_T + (1 - (c->ymax > 0 ? bytes / c->ymax : 0)) * (CHART_H - PAD_T - PAD_B);
}

/* The frame, axes and their labels (0, half, max on each axis). */
static void chart_open(FILE *out, const chart_t *c, const char *label) {
  char b[64];
  fprintf(out, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
               "aria-label=\"",
          CHART_W, CHART_H, CHART_W, CHART_H);
  mlr_xml_str(out, label);
  fputs("\" style=\"max-width:100%;height:auto;font:11px system-ui,sans-serif\">\n", out);
  for (int i = 0; i <= 2; i++) {
    double y = cy(c, c->ymax * i / 2);
    fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#d9dde5\"/>"
                 "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#5c6577\">%s</text>\n",
            PAD_L, y, CHART_W - PAD_R, y, PAD_L - 6, y + 4,
            ylabel(c, b, sizeof b, c->ymax * i / 2));
    double x = cx(c, c->xmax * i / 2);
    fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" fill=\"#5c6577\">%.2f min</text>\n",
            x, CHART_H - PAD_B + 16, i == 0 ? "start" : i == 1 ? "middle" : "end",
            c->xmax * i / 2);
  }
  fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#5c6577\"/>\n", PAD_L,
          PAD_T, PAD_L, CHART_H - PAD_B);
}

/* One series: a polyline and a dot per point with a tooltip; a point whose
 * have[i] is false (the dump has no such value) is left out. */
static void chart_line_some(FILE *out, const chart_t *c, const mlr_trend_t *t, const char *color,
                            const double *ys, const bool *have) {
  char b[64];
  fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
  for (size_t i = 0, k = 0; i < t->ndumps; i++)
    if (!have || have[i])
      fprintf(out, "%s%.1f,%.1f", k++ ? " " : "", cx(c, t->dumps[i].minutes), cy(c, ys[i]));
  fputs("\"/>\n", out);
  for (size_t i = 0; i < t->ndumps; i++) {
    if (have && !have[i]) continue;
    fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", cx(c, t->dumps[i].minutes),
            cy(c, ys[i]), color);
    mlr_xml_str(out, t->dumps[i].time ? t->dumps[i].time : "?");
    fprintf(out, ": %s</title></circle>\n", ylabel(c, b, sizeof b, ys[i]));
  }
}

static void chart_line(FILE *out, const chart_t *c, const mlr_trend_t *t, const char *color,
                       const double *ys) {
  chart_line_some(out, c, t, color, ys, NULL);
}

/* A chart of two per-dump values (some dumps may lack them) with a legend. */
typedef struct pair_s {
  const char *name;
  double *ys;
  bool *have;
  bool any;
} pair_t;
static void chart_pair(FILE *out, const mlr_trend_t *t, const char *id, const char *title,
                       const char *what, bool count, pair_t *p) {
  chart_t c = {.xmax = t->dumps[t->ndumps - 1].minutes, .ymax = 1, .count = count};
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < t->ndumps; i++)
      if (p[k].have[i] && p[k].ys[i] > c.ymax) c.ymax = p[k].ys[i];
  fprintf(out, "<section id=\"%s\">\n<h2>%s <span class=\"count\">%s</span></h2>\n", id,
          title, what);
  chart_open(out, &c, title);
  for (int k = 0; k < 2; k++)
    if (p[k].any) chart_line_some(out, &c, t, colors[k], p[k].ys, p[k].have);
  fputs("</svg>\n<ol class=\"legend\">", out);
  for (int k = 0; k < 2; k++)
    if (p[k].any)
      fprintf(out, "<li><span style=\"color:%s\">&#9632;</span> %s</li>", colors[k], p[k].name);
  fputs("</ol>\n</section>\n", out);
}

/* Tracked bytes beside the resident size, and open descriptors beside
 * threads, per dump ([resources] VmRSS, fds, threads), when the dumps have them. */
static void process_charts(FILE *out, const mlr_trend_t *t) {
  size_t n = t->ndumps;
  pair_t p[4];
  for (int k = 0; k < 4; k++) {
    p[k].ys = mlr_xcalloc(n, sizeof *p[k].ys);
    p[k].have = mlr_xcalloc(n, sizeof *p[k].have);
    p[k].any = false;
  }
  p[0].name = "tracked bytes (unfreed)";
  p[1].name = "resident size (VmRSS)";
  p[2].name = "open descriptors";
  p[3].name = "threads";
  for (size_t i = 0; i < n; i++) {
    const mlr_trend_dump_t *d = &t->dumps[i];
    const struct { bool have; uint64_t v; } v[4] = {
        {true, d->bytes}, {d->have_rss, d->rss_bytes}, {d->have_fds, d->fds},
        {d->have_threads, d->threads}};
    for (int k = 0; k < 4; k++) {
      p[k].have[i] = v[k].have;
      p[k].ys[i] = (double)v[k].v;
      p[k].any |= v[k].have;
    }
  }
  if (p[1].any)
    chart_pair(out, t, "memory", "Memory", "tracked bytes and resident size, per dump", false, p);
  if (p[2].any || p[3].any)
    chart_pair(out, t, "process", "Descriptors and threads", "open descriptors and threads, per dump",
               true, p + 2);
  for (int k = 0; k < 4; k++) {
    free(p[k].ys);
    free(p[k].have);
  }
}

/* The stack's bytes in every dump (0 where absent). */
static void stack_series(const mlr_trend_t *t, const mlr_trend_stack_t *s, double *ys) {
  memset(ys, 0, t->ndumps * sizeof *ys);
  for (size_t j = 0; j < s->npoints; j++) ys[s->points[j].dump] = (double)s->points[j].bytes;
}

/* The innermost frame's name, the usual answer to "which stack is it". */
static const char *stack_name(const mlr_trend_stack_t *s, char *buf, size_t len) {
  if (s->stack->nframes) return mlr_frame_name(s->dump, &s->stack->frames[0], buf, len);
  snprintf(buf, len, "stack %u", s->stack->id);
  return buf;
}

static void write_frames(FILE *out, const mlr_trend_stack_t *s) {
  char name[512];
  fputs("<details><summary>", out);
  mlr_xml_str(out, stack_name(s, name, sizeof name));
  fputs("</summary><ol class=\"frames\">\n", out);
  for (size_t i = 0; i < s->stack->nframes; i++) mlr_html_frame_li(out, s->dump, &s->stack->frames[i]);
  fputs("</ol></details>", out);
}

/* A section's series, ranked as the text lists them. */
static void res_table(FILE *out, const mlr_trend_t *t, mlr_res_t k) {
  static const char *const title[MLR_RES_COUNT] = {"Open descriptors", "Threads", "Mappings"};
  size_t n = t->top && t->top < t->nres[k] ? t->top : t->nres[k];
  fprintf(out, "<section id=\"trend-%s\">\n<h2>%s <span class=\"count\">%zu of %zu series by "
               "creation stack and kind, steepest growth first</span></h2>\n<table class=\"stacks\">\n"
               "<tr><th>#</th><th>per min</th><th>bytes/min</th><th>r&sup2;</th><th>now</th>"
               "<th>bytes</th><th>kind</th><th>seen</th><th>created at</th></tr>\n",
          mlr_res_name(k), title[k], n, t->nres[k]);
  for (size_t i = 0; i < n; i++) {
    const mlr_trend_stack_t *s = &t->res[k][i];
    const mlr_trend_point_t *last = &s->points[s->npoints - 1];
    fprintf(out, "<tr><td class=\"n\">%zu</td><td class=\"n\">%+.2f</td><td class=\"n\">%+.0f</td>"
                 "<td class=\"n\">%.3f</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                 "</td><td>",
            i + 1, s->slope_blocks, s->slope_bytes, s->r2, last->blocks, last->bytes);
    mlr_xml_str(out, s->group->kind);
    fprintf(out, "</td><td class=\"n\">%zu of %zu</td><td>", s->npoints, t->ndumps);
    if (s->group->seen)
      write_frames(out, s);
    else
      fputs("<span class=\"note\">not seen (inherited, or made before start)</span>", out);
    fputs("</td></tr>\n", out);
  }
  fputs("</table>\n</section>\n", out);
}

int mlr_format_trend_html(FILE *out, const mlr_trend_t *t, const mlr_format_opts_t *o,
                          mlr_err_t *err) {
  const mlr_trend_dump_t *d0 = &t->dumps[0], *dn = &t->dumps[t->ndumps - 1];
  char title[512], a[64], b[64];
  if (o && o->title)
    snprintf(title, sizeof title, "%s", o->title);
  else
    snprintf(title, sizeof title, "memledger trend: %zu dumps of pid %ld", t->ndumps, d0->pid);
  mlr_html_head(out, title, false);
  fputs("<section id=\"summary\">\n<div class=\"cards\">\n", out);
  fprintf(out, "<div class=\"card big\"><div class=\"k\">growth</div><div class=\"v\">%s%s/min</div>"
               "<div class=\"s\">remaining bytes, r&sup2; %.3f</div></div>\n",
          t->slope_bytes < 0 ? "&minus;" : "+",
          mlr_human(a, sizeof a, (uint64_t)(t->slope_bytes < 0 ? -t->slope_bytes : t->slope_bytes)),
          t->r2);
  fprintf(out, "<div class=\"card\"><div class=\"k\">remaining</div><div class=\"v\">%s</div>"
               "<div class=\"s\">from %s at the first dump</div></div>\n",
          mlr_human(a, sizeof a, dn->shown_bytes), mlr_human(b, sizeof b, d0->shown_bytes));
  fprintf(out, "<div class=\"card\"><div class=\"k\">series</div><div class=\"v\">%zu dumps</div>"
               "<div class=\"s\">over %.2f minutes, %zu stacks</div></div>\n</div>\n",
          t->ndumps, dn->minutes, t->nstacks);
  fputs("<dl class=\"facts\">\n<dt>from</dt><dd>", out);
  mlr_xml_str(out, d0->time ? d0->time : "?");
  fputs(" ", out);
  mlr_xml_str(out, d0->path);
  fputs("</dd>\n<dt>to</dt><dd>", out);
  mlr_xml_str(out, dn->time ? dn->time : "?");
  fputs(" ", out);
  mlr_xml_str(out, dn->path);
  fputs("</dd>\n</dl>\n</section>\n", out);

  chart_t c = {.xmax = dn->minutes, .ymax = 1};
  double *ys = mlr_xcalloc(t->ndumps, sizeof *ys);
  for (size_t i = 0; i < t->ndumps; i++)
    if ((double)t->dumps[i].shown_bytes > c.ymax) c.ymax = (double)t->dumps[i].shown_bytes;
  fputs("<section id=\"total\">\n<h2>Remaining bytes <span class=\"count\">tracked blocks after "
        "suppressions, per dump</span></h2>\n",
        out);
  chart_open(out, &c, "remaining bytes over time");
  for (size_t i = 0; i < t->ndumps; i++) ys[i] = (double)t->dumps[i].shown_bytes;
  chart_line(out, &c, t, "#1d2330", ys);
  fputs("</svg>\n</section>\n", out);

  process_charts(out, t);

  size_t nlines = t->nstacks < CHART_LINES ? t->nstacks : CHART_LINES;
  if (t->top && nlines > t->top) nlines = t->top;
  c.ymax = 1;
  for (size_t k = 0; k < nlines; k++)
    for (size_t j = 0; j < t->stacks[k].npoints; j++)
      if ((double)t->stacks[k].points[j].bytes > c.ymax) c.ymax = (double)t->stacks[k].points[j].bytes;
  fprintf(out, "<section id=\"stacks-chart\">\n<h2>Steepest stacks <span class=\"count\">bytes of "
               "the %zu fastest-growing stacks, per dump</span></h2>\n",
          nlines);
  chart_open(out, &c, "bytes of the steepest stacks over time");
  for (size_t k = 0; k < nlines; k++) {
    stack_series(t, &t->stacks[k], ys);
    chart_line(out, &c, t, colors[k], ys);
  }
  fputs("</svg>\n<ol class=\"legend\">", out);
  for (size_t k = 0; k < nlines; k++) {
    char name[512];
    fprintf(out, "<li><span style=\"color:%s\">&#9632;</span> <a href=\"#trend-%zu\">#%zu</a> ",
            colors[k], k + 1, k + 1);
    mlr_xml_str(out, stack_name(&t->stacks[k], name, sizeof name));
    fputs("</li>", out);
  }
  fputs("</ol>\n</section>\n", out);
  free(ys);

  size_t n = t->top && t->top < t->nstacks ? t->top : t->nstacks;
  fprintf(out, "<section id=\"stacks\">\n<h2>Stacks <span class=\"count\">%zu of %zu, steepest "
               "%s growth first</span></h2>\n<table class=\"stacks\">\n<tr><th>#</th>"
               "<th>bytes/min</th><th>blocks/min</th><th>r&sup2;</th><th>bytes</th><th>blocks</th>"
               "<th>seen</th><th>stack</th></tr>\n",
          n, t->nstacks, t->sort == MLR_SORT_COUNT ? "block" : "byte");
  for (size_t k = 0; k < n; k++) {
    const mlr_trend_stack_t *s = &t->stacks[k];
    const mlr_trend_point_t *last = &s->points[s->npoints - 1];
    fprintf(out, "<tr id=\"trend-%zu\"><td class=\"n\">%zu</td><td class=\"n\">%+.0f</td>"
                 "<td class=\"n\">%+.2f</td><td class=\"n\">%.3f</td><td class=\"n\">%" PRIu64
                 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%zu of %zu</td><td>",
            k + 1, k + 1, s->slope_bytes, s->slope_blocks, s->r2, last->bytes, last->blocks,
            s->npoints, t->ndumps);
    write_frames(out, s);
    fputs("</td></tr>\n", out);
  }
  fputs("</table>\n</section>\n", out);
  if (t->has_res)
    for (int k = 0; k < MLR_RES_COUNT; k++) res_table(out, t, (mlr_res_t)k);
  fputs("</main>\n</body>\n</html>\n", out);
  return mlr_io_result(out, err);
}

/* SPDX-License-Identifier: MIT */
/*
 * report_html.c - `memledger report --format html`: one self-contained page
 * (doc/report-formats.md) with the summary, an interactive flame graph and
 * the ranked table of stacks.
 *
 * Runs in the memledger command (stdio, malloc).  The summary and the table
 * are static HTML, readable without scripts; the flame graph is drawn by the
 * inlined script (tools/report_html.js) from a JSON block in the page.  The
 * page loads nothing: a Content-Security-Policy forbids every fetch, and
 * the script and style sheet are inlined (tools/report_html_assets.h).
 */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_priv.h"
#include "report_html_assets.h"

// ---- escaping -------------------------------------------------------------------
/* HTML text and attribute values: mlr_xml_str (report_util.c). */

/* A JSON string for a <script type="application/json"> block: besides the
 * JSON escapes, '<', '>' and '&' become \u003c etc., so that neither
 * "</script" nor "<!--" can appear in the block. */
static void json_str(FILE *out, const char *s) {
  fputc('"', out);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) fprintf(out, "\\u%04x", c);
    else if (c >= 0x80) { // valid UTF-8 as is; any other byte: U+FFFD
      size_t n = mlr_utf8_len((const unsigned char *)s);
      if (n) fwrite(s, 1, n, out), s += n - 1;
      else fputs("\\ufffd", out);
    } else fputc(c, out);
  }
  fputc('"', out);
}

static const char *human(char *buf, size_t len, uint64_t n) { return mlr_human(buf, len, n); }
const char *mlr_human(char *buf, size_t len, uint64_t n) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (n < 1024) {
    snprintf(buf, len, "%" PRIu64 " B", n);
    return buf;
  }
  double v = (double)n;
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof units / sizeof *units) v /= 1024, u++;
  snprintf(buf, len, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

/* 1234567 -> "1,234,567" */
static const char *grouped(char *buf, size_t len, uint64_t n) {
  char tmp[32];
  int k = snprintf(tmp, sizeof tmp, "%" PRIu64, n);
  size_t o = 0;
  for (int i = 0; i < k && o + 2 < len; i++) {
    if (i && (k - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = tmp[i];
  }
  buf[o] = 0;
  return buf;
}

// ---- frames -----------------------------------------------------------------------
/* What to call a frame: its function, else module+offset, else the address. */
static void frame_label(char *buf, size_t len, const mlr_dump_t *d, const mlr_frame_t *f,
                        uint64_t addr) {
  if (f && f->function) {
    snprintf(buf, len, "%s", f->function);
    return;
  }
  int m = f ? f->module : mlr_module_of(d, addr);
  if (m >= 0 && (size_t)m < d->nmodules)
    snprintf(buf, len, "%s+0x%" PRIx64, mlr_module_name(d, m), addr - d->modules[m].base);
  else
    snprintf(buf, len, "0x%" PRIx64, addr);
}

/* The frames of raw address i of s, or one unsymbolized stand-in. */
typedef struct frames_s {
  const mlr_frame_t *f; // NULL: not symbolized
  size_t n;
  mlr_frame_t raw;      // the stand-in
} frames_t;

static void frames_at(const mlr_dump_t *d, const mlr_stack_t *s, size_t i, size_t *pos,
                      frames_t *out) {
  out->n = mlr_frames_at(s, i, pos, &out->f);
  if (out->n) return;
  memset(&out->raw, 0, sizeof out->raw);
  out->raw.addr = s->raw[i];
  out->raw.module = mlr_module_of(d, s->raw[i]);
  if (out->raw.module >= 0) out->raw.offset = s->raw[i] - d->modules[out->raw.module].base;
  out->f = &out->raw;
  out->n = 1;
}

// ---- the page ---------------------------------------------------------------------
static void dl_item(FILE *out, const char *term, const char *value) {
  if (!value) return;
  fputs("<dt>", out);
  mlr_xml_str(out, term);
  fputs("</dt><dd>", out);
  mlr_xml_str(out, value);
  fputs("</dd>\n", out);
}

static void write_summary(FILE *out, const mlr_report_t *r) {
  const mlr_dump_t *d = r->dump;
  char a[64], b[64], c[64], line[256];
  fputs("<section id=\"summary\">\n<div class=\"cards\">\n", out);
  fprintf(out, "<div class=\"card big\"><div class=\"k\">unfreed</div><div class=\"v\" title=\"%s bytes\">%s</div>"
               "<div class=\"s\">%s block%s in %zu stack%s</div></div>\n",
          grouped(a, sizeof a, r->shown_bytes), human(b, sizeof b, r->shown_bytes),
          grouped(c, sizeof c, r->shown_blocks), r->shown_blocks == 1 ? "" : "s", r->nshown,
          r->nshown == 1 ? "" : "s");
  fprintf(out, "<div class=\"card\"><div class=\"k\">in the dump</div><div class=\"v\" title=\"%s bytes\">%s</div>"
               "<div class=\"s\">%s blocks, %s usable</div></div>\n",
          grouped(a, sizeof a, d->unfreed_bytes), human(b, sizeof b, d->unfreed_bytes),
          grouped(c, sizeof c, d->unfreed_blocks), human(line, sizeof line, d->usable_bytes));
  fprintf(out, "<div class=\"card\"><div class=\"k\">suppressed</div><div class=\"v\" title=\"%s bytes\">%s</div>"
               "<div class=\"s\">%s block%s in %zu stack%s</div></div>\n",
          grouped(a, sizeof a, r->suppressed_bytes), human(b, sizeof b, r->suppressed_bytes),
          grouped(c, sizeof c, r->suppressed_blocks), r->suppressed_blocks == 1 ? "" : "s",
          r->nsuppressed, r->nsuppressed == 1 ? "" : "s");
  if (d->has_res) { /* descriptors, threads, mappings (after filters) */
    static const char *const what[MLR_RES_COUNT] = {"open descriptors", "threads", "mappings"};
    for (int k = 0; k < MLR_RES_COUNT; k++) {
      fprintf(out, "<div class=\"card\"><div class=\"k\">%s</div><div class=\"v\">%s</div>"
                   "<div class=\"s\">in %zu stack%s",
              what[k], grouped(a, sizeof a, r->res_count[k]), r->nres[k], r->nres[k] == 1 ? "" : "s");
      if (k != MLR_RES_FDS) fprintf(out, ", %s", human(b, sizeof b, r->res_bytes[k]));
      fputs("</div></div>\n", out);
    }
  }
  if (d->has_newer)
    fprintf(out, "<div class=\"card\"><div class=\"k\">newer</div><div class=\"v\" title=\"%s bytes\">%s</div>"
                 "<div class=\"s\">%s block%s since %s</div></div>\n",
            grouped(a, sizeof a, d->newer_bytes), human(b, sizeof b, d->newer_bytes),
            grouped(c, sizeof c, d->newer_blocks), d->newer_blocks == 1 ? "" : "s",
            d->newer_since ? "the previous dump" : "the start");
  fputs("</div>\n<dl class=\"facts\">\n", out);
  static const char *const keys[] = {"exe", "cmdline", "pid", "ppid", "time", "trigger", "sequence",
                                     "threshold", "unwind", "max_frames"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    dl_item(out, keys[i], mlr_kv_get(d->header, d->nheader, keys[i]));
  static const char *const res[] = {"VmRSS", "VmHWM", "threads"};
  for (size_t i = 0; i < sizeof res / sizeof *res; i++)
    dl_item(out, res[i], mlr_kv_get(d->resources, d->nresources, res[i]));
  dl_item(out, "dump", d->path);
  fputs("</dl>\n", out);

  // Counters that say the dump is incomplete.
  static const char *const lost[][2] = {
      {"dropped_records", "allocations could not be recorded (table full): they are missing"},
      {"stack_table_full", "allocations had no room in the stack table: listed without a stack"},
      {"unwind_failures", "allocations have no stack (unwinding failed)"}};
  for (size_t i = 0; i < sizeof lost / sizeof *lost; i++) {
    const char *v = mlr_kv_get(d->totals, d->ntotals, lost[i][0]);
    if (v && strcmp(v, "0") != 0) {
      fputs("<p class=\"warn\">", out);
      mlr_xml_str(out, v);
      fputc(' ', out);
      mlr_xml_str(out, lost[i][1]);
      fputs(" (", out);
      mlr_xml_str(out, lost[i][0]);
      fputs(")</p>\n", out);
    }
  }

  // Suppressions by rule.
  if (r->nsuppressed) {
    fputs("<details class=\"supp\"><summary>suppressed by rule</summary><table>\n"
          "<tr><th>rule</th><th>stacks</th><th>blocks</th><th>bytes</th></tr>\n", out);
    for (size_t i = 0; i < r->nsuppressed; i++) {
      const char *rule = r->suppressed[i]->suppressed_by ? r->suppressed[i]->suppressed_by : "?";
      bool seen = false;
      for (size_t j = 0; j < i && !seen; j++) {
        const char *o = r->suppressed[j]->suppressed_by ? r->suppressed[j]->suppressed_by : "?";
        seen = strcmp(o, rule) == 0;
      }
      if (seen) continue;
      size_t n = 0;
      uint64_t blocks = 0, bytes = 0;
      for (size_t j = i; j < r->nsuppressed; j++) {
        const char *o = r->suppressed[j]->suppressed_by ? r->suppressed[j]->suppressed_by : "?";
        if (strcmp(o, rule) == 0) n++, blocks += r->suppressed[j]->blocks, bytes += r->suppressed[j]->bytes;
      }
      fputs("<tr><td>", out);
      mlr_xml_str(out, rule);
      fprintf(out, "</td><td class=\"n\">%zu</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
              n, grouped(a, sizeof a, blocks), grouped(b, sizeof b, bytes));
    }
    fputs("</table></details>\n", out);
  }
  fputs("</section>\n", out);
}

static void write_frame_li(FILE *out, const mlr_dump_t *d, const mlr_frame_t *f) {
  mlr_html_frame_li(out, d, f);
}
void mlr_html_frame_li(FILE *out, const mlr_dump_t *d, const mlr_frame_t *f) {
  char label[512];
  frame_label(label, sizeof label, d, f, f->addr);
  fprintf(out, "<li%s><span class=\"fn\">", f->inlined ? " class=\"inl\"" : "");
  mlr_xml_str(out, label);
  fputs("</span>", out);
  if (f->file) {
    fputs(" <span class=\"src\">", out);
    mlr_xml_str(out, f->file);
    if (f->line) fprintf(out, ":%u", f->line);
    fputs("</span>", out);
  }
  if (f->inlined) fputs(" <span class=\"tag\">inlined</span>", out);
  fprintf(out, " <span class=\"addr\">0x%" PRIx64 " ", f->addr);
  mlr_xml_str(out, mlr_module_name(d, f->module));
  fputs("</span>", out);
  if (f->note) {
    fputs(" <span class=\"note\">", out);
    mlr_xml_str(out, f->note);
    fputs("</span>", out);
  }
  fputs("</li>\n", out);
}

/* A table cell's stack: the innermost frame as the summary line, the whole
 * stack under it. */
static void write_stack_cell(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s) {
  char label[512];
  size_t pos = 0;
  frames_t fr;
  if (s->nraw == 0) {
    fputs(s->id == 0 ? "<span class=\"note\">no stack (stack table full)</span>"
                     : "<span class=\"note\">no frames</span>",
          out);
    return;
  }
  frames_at(d, s, 0, &pos, &fr);
  frame_label(label, sizeof label, d, &fr.f[0], fr.f[0].addr);
  fputs("<details><summary><span class=\"fn\">", out);
  mlr_xml_str(out, label);
  fprintf(out, "</span> <span class=\"count\">%zu frames</span></summary><ol class=\"frames\">\n",
          s->nframes ? s->nframes : s->nraw);
  pos = 0;
  for (size_t i = 0; i < s->nraw; i++) {
    frames_at(d, s, i, &pos, &fr);
    for (size_t j = 0; j < fr.n; j++) write_frame_li(out, d, &fr.f[j]);
  }
  fputs("</ol></details>", out);
}

static void write_table(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o) {
  const mlr_dump_t *d = r->dump;
  size_t n = r->top && r->top < r->nshown ? r->top : r->nshown;
  /* The table has a row per stack and each row all its frames: a big dump
   * would give a page of hundreds of MB.  The flame graph keeps every stack. */
  size_t rows = o && o->html_rows ? o->html_rows : MLR_HTML_ROWS;
  size_t left = n > rows ? n - rows : 0;
  n -= left;
  char a[64], b[64], c[64], label[512];
  fprintf(out, "<section id=\"stacks\">\n<h2>Stacks <span class=\"count\">%zu of %zu, by %s</span></h2>\n",
          n, r->nshown, r->sort == MLR_SORT_COUNT ? "blocks" : "bytes");
  fprintf(out, "<table class=\"stacks\">\n<thead><tr><th>#</th><th>bytes</th><th>%%</th><th>blocks</th>"
        "<th>sizes</th><th>oldest</th>%s<th>stack</th><th>allocated at</th></tr></thead>\n<tbody>\n",
        d->has_newer ? "<th title=\"blocks of the stack id allocated since the previous dump\">newer</th>" : "");
  for (size_t k = 0; k < n; k++) {
    const mlr_stack_t *s = r->shown[k];
    double pct = r->shown_bytes ? 100.0 * (double)s->bytes / (double)r->shown_bytes : 0;
    fprintf(out, "<tr id=\"stack-%" PRIu32 "\"><td class=\"n\">%zu</td><td class=\"n\" title=\"%s bytes, %s usable\">%s</td>"
                 "<td class=\"n\">%.1f</td><td class=\"n\">%s</td>",
            s->id, k + 1, grouped(a, sizeof a, s->bytes), human(b, sizeof b, s->usable),
            human(label, sizeof label, s->bytes), pct, grouped(c, sizeof c, s->blocks));
    if (s->min_size == s->max_size) fprintf(out, "<td class=\"n\">%" PRIu64 "</td>", s->min_size);
    else fprintf(out, "<td class=\"n\">%" PRIu64 "&ndash;%" PRIu64 "</td>", s->min_size, s->max_size);
    fprintf(out, "<td class=\"n\">%" PRIu64 "</td>", s->oldest_seq);
    if (d->has_newer) fprintf(out, "<td class=\"n\">%" PRIu64 "</td>", s->newer_blocks);
    fprintf(out, "<td class=\"n\">%" PRIu32 "</td><td>", s->id);

    write_stack_cell(out, d, s);
    fputs("</td></tr>\n", out);
  }
  fputs("</tbody>\n</table>\n", out);
  if (left) {
    uint64_t bl = 0, by = 0;
    for (size_t k = n; k < n + left; k++) bl += r->shown[k]->blocks, by += r->shown[k]->bytes;
    fprintf(out, "<p class=\"more\">%zu more stack%s (%s bytes in %s blocks) left out of this "
                 "table (--html-rows); the flame graph has them all.</p>\n",
            left, left == 1 ? "" : "s", grouped(a, sizeof a, by), grouped(c, sizeof c, bl));
  }
  fputs("</section>\n", out);
}

/* Descriptors, threads and mappings (a dump with [fds], [threads],
 * [mappings]): a table per section, a row per (creation stack, kind), capped
 * like the stacks' table. */
static void write_res_tables(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o) {
  static const char *const title[MLR_RES_COUNT] = {"Open descriptors", "Threads", "Mappings"};
  static const char *const idname[MLR_RES_COUNT] = {"fds", "tids", "addresses"};
  const mlr_dump_t *d = r->dump;
  size_t rows = o && o->html_rows ? o->html_rows : MLR_HTML_ROWS;
  char a[64], b[64];
  for (int k = 0; k < MLR_RES_COUNT; k++) {
    size_t n = r->top && r->top < r->nres[k] ? r->top : r->nres[k];
    size_t left = n > rows ? n - rows : 0;
    n -= left;
    fprintf(out, "<section id=\"%s\">\n<h2>%s <span class=\"count\">%s in %zu stack%s</span></h2>\n",
            mlr_res_name((mlr_res_t)k), title[k], grouped(a, sizeof a, r->res_count[k]),
            r->nres[k], r->nres[k] == 1 ? "" : "s");
    if (!r->nres[k]) {
      fputs("<p class=\"more\">none</p>\n</section>\n", out);
      continue;
    }
    fprintf(out, "<table class=\"stacks res\">\n<thead><tr><th>#</th><th>count</th>%s<th>kind</th>"
                 "<th>stack</th><th>%s</th><th>details</th><th>created at</th></tr></thead>\n<tbody>\n",
            k == MLR_RES_FDS ? "" : "<th>bytes</th>", idname[k]);
    for (size_t i = 0; i < n; i++) {
      const mlr_resgroup_t *g = r->res[k][i];
      const mlr_stack_t *s = &g->stack;
      fprintf(out, "<tr><td class=\"n\">%zu</td><td class=\"n\">%s</td>", i + 1,
              grouped(a, sizeof a, g->count));
      if (k != MLR_RES_FDS)
        fprintf(out, "<td class=\"n\" title=\"%s bytes\">%s</td>", grouped(a, sizeof a, g->bytes),
                human(b, sizeof b, g->bytes));
      fputs("<td>", out);
      mlr_xml_str(out, g->kind);
      if (g->seen)
        fprintf(out, "</td><td class=\"n\">%" PRIu32 "</td><td>", s->id);
      else
        fputs("</td><td class=\"n\">-</td><td>", out);
      for (size_t j = 0; j < g->nids; j++)
        fprintf(out, k == MLR_RES_MAPPINGS ? "%s0x%" PRIx64 : "%s%" PRIu64, j ? ", " : "", g->ids[j]);
      if (g->count > g->nids) fprintf(out, " &hellip;");
      fputs("</td><td>", out);
      for (size_t j = 0; j < g->ndetails; j++) {
        if (j) fputs("<br>", out);
        mlr_xml_str(out, g->details[j]);
      }
      fputs("</td><td>", out);
      if (g->seen)
        write_stack_cell(out, d, s);
      else
        fputs("<span class=\"note\">not seen (inherited, or made before start)</span>", out);
      fputs("</td></tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
    if (left)
      fprintf(out, "<p class=\"more\">%zu more stack%s left out of this table (--html-rows).</p>\n",
              left, left == 1 ? "" : "s");
    fputs("</section>\n", out);
  }
}

/* The flame graph's data: {"weight", "total", "locs", "stacks"}.  A loc is
 * one raw address: its frames, innermost (inlined) first, each
 * [label, file, line, inlined, module, "0xaddr", note]; a stack is
 * [blocks, bytes, id, "loc indices, innermost first"], the indices in base
 * 36, each "w" digits wide, without separators (59,049 stacks of 20 frames
 * take 4.8 MB instead of 6.5 MB as JSON numbers). */
static int write_data(FILE *out, const mlr_report_t *r) {
  const mlr_dump_t *d = r->dump;
  mlr_u64map_t seen = {0};
  size_t nlocs = 0;
  char label[512], addr[32];
  int rc = 0;
  fprintf(out, "{\"weight\":\"%s\",\"total\":{\"blocks\":%" PRIu64 ",\"bytes\":%" PRIu64 "},\"locs\":[",
          r->weight == MLR_WEIGHT_COUNT ? "blocks" : "bytes", r->shown_blocks, r->shown_bytes);
  for (size_t k = 0; k < r->nshown; k++) {
    const mlr_stack_t *s = r->shown[k];
    size_t pos = 0;
    for (size_t i = 0; i < s->nraw; i++) {
      frames_t fr;
      frames_at(d, s, i, &pos, &fr);
      if (mlr_u64map_get(&seen, s->raw[i]) >= 0) continue;
      if (mlr_u64map_put(&seen, s->raw[i], (uint32_t)nlocs) < 0) {
        rc = -1;
        goto done;
      }
      fputs(nlocs++ ? ",\n[" : "\n[", out);
      for (size_t j = 0; j < fr.n; j++) {
        const mlr_frame_t *f = &fr.f[j];
        frame_label(label, sizeof label, d, f, f->addr);
        fputs(j ? ",[" : "[", out);
        json_str(out, label);
        fputc(',', out);
        json_str(out, f->file ? f->file : "");
        fprintf(out, ",%u,%d,", f->line, f->inlined ? 1 : 0);
        json_str(out, f->module >= 0 ? mlr_module_name(d, f->module) : "");
        snprintf(addr, sizeof addr, "0x%" PRIx64, f->addr);
        fputc(',', out);
        json_str(out, addr);
        fputc(',', out);
        json_str(out, f->note ? f->note : "");
        fputc(']', out);
      }
      fputc(']', out);
    }
  }
  int w = 1;
  for (size_t cap = 36; cap < nlocs; cap *= 36) w++;
  fprintf(out, "],\n\"w\":%d,\"stacks\":[", w);
  for (size_t k = 0; k < r->nshown; k++) {
    const mlr_stack_t *s = r->shown[k];
    fprintf(out, "%s[%" PRIu64 ",%" PRIu64 ",%" PRIu32 ",\"", k ? ",\n" : "\n", s->blocks, s->bytes, s->id);
    for (size_t i = 0; i < s->nraw; i++) {
      char digits[16];
      unsigned long v = (unsigned long)mlr_u64map_get(&seen, s->raw[i]);
      for (int j = w - 1; j >= 0; j--, v /= 36) digits[j] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
      fwrite(digits, 1, (size_t)w, out);
    }
    fputs("\"]", out);
  }
  fputs("]}", out);
done:
  mlr_u64map_free(&seen);
  return rc;
}

void mlr_html_head(FILE *out, const char *title, bool script) {
  fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               // Nothing may be fetched: the page must work offline and leak nothing.
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "%sstyle-src 'unsafe-inline'; img-src data:\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<meta name=\"generator\" content=\"memledger\">\n<title>",
          script ? "script-src 'unsafe-inline'; " : "");
  mlr_xml_str(out, title);
  fputs("</title>\n<style>\n", out);
  fputs(mlr_html_css, out);
  fputs("</style>\n</head>\n<body>\n<header><h1>", out);
  mlr_xml_str(out, title);
  fputs("</h1></header>\n<main>\n", out);
}

int mlr_format_html(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o, mlr_err_t *err) {
  const mlr_dump_t *d = r->dump;
  char title[512];
  if (o && o->title) {
    snprintf(title, sizeof title, "%s", o->title);
  } else {
    const char *exe = mlr_kv_get(d->header, d->nheader, "exe");
    const char *pid = mlr_kv_get(d->header, d->nheader, "pid");
    const char *base = exe ? strrchr(exe, '/') : NULL;
    snprintf(title, sizeof title, "memledger: %s%s%s%s", base ? base + 1 : exe ? exe : "leak report",
             pid ? " (pid " : "", pid ? pid : "", pid ? ")" : "");
  }

  mlr_html_head(out, title, true);
  write_summary(out, r);

  fputs("<section id=\"flame\">\n<h2>Flame graph <span class=\"count\">callers on top, "
        "allocating functions below; click to zoom</span></h2>\n"
        "<div class=\"fg-controls\">"
        "<input id=\"fg-search\" type=\"search\" placeholder=\"search functions, files (regex)\" "
        "aria-label=\"search\">"
        "<button id=\"fg-reset\" type=\"button\">reset zoom</button>"
        "<span class=\"fg-weight\">weight: <label><input type=\"radio\" name=\"fg-weight\" value=\"bytes\"> bytes</label>"
        "<label><input type=\"radio\" name=\"fg-weight\" value=\"blocks\"> blocks</label></span>"
        "<span id=\"fg-status\" class=\"count\"></span></div>\n"
        "<div id=\"fg\" class=\"fg\"><noscript>The flame graph needs JavaScript; the table below "
        "does not.</noscript></div>\n<div id=\"fg-tip\" class=\"fg-tip\" hidden></div>\n"
        "</section>\n",
        out);
  write_table(out, r, o);
  if (d->has_res) write_res_tables(out, r, o);
  fputs("</main>\n<script type=\"application/json\" id=\"mlr-data\">", out);
  if (write_data(out, r) < 0) {
    snprintf(err->msg, sizeof err->msg, "writing the html report: out of memory");
    return -1;
  }
  fputs("</script>\n<script>\n", out);
  fputs(mlr_html_js, out);
  fputs("</script>\n</body>\n</html>\n", out);
  if (fflush(out) == EOF || ferror(out)) return mlr_io_error(err, "html");
  return 0;
}

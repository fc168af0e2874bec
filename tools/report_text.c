/* SPDX-License-Identifier: MIT */
/*
 * report_text.c - the default, human-readable report (memledger report
 * --format text): a summary (unfreed, suppressed per rule, remaining) then
 * each remaining stack, largest first, with symbolized frames, and the
 * descriptors, threads and mappings of a dump that lists them, per creation
 * stack and kind.  Also the
 * small output helpers that the other formats of this author share.
 * Output depends only on the dump and the files it names: golden tests
 * compare it byte for byte.
 */
#include "report_priv.h"

#include <errno.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------ */

int mlr_io_result(FILE *out, mlr_err_t *err) {
  if (fflush(out) != 0 || ferror(out))
    return mlr_fail(err, "write error: %s", strerror(errno ? errno : EIO));
  return 0;
}

const char *mlr_plural(uint64_t n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

void mlr_text_frames(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s,
                     const char *indent) {
  if (s->id == 0) {
    fprintf(out, "%s(no stack: the stack table was full; MEMLEDGER_MAX_STACKS)\n",
            indent);
    return;
  }
  if (s->nframes == 0 && s->hidden) {
    fprintf(out, "%s(no frames: all %zu removed by --alloc-fn/--hide)\n", indent, s->hidden);
    return;
  }
  if (s->nframes == 0) {
    fprintf(out, "%s(no frames: %s)\n", indent,
            s->nraw ? "only the tracker's own frames" : "stack capture off or failed");
    return;
  }
  for (size_t i = 0; i < s->nframes; i++) {
    const mlr_frame_t *f = &s->frames[i];
    fprintf(out, "%s#%-2zu 0x%012llx in ", indent, i, (unsigned long long)f->addr);
    if (f->function) {
      fputs(mlr_safe(f->function), out);
      if (f->inlined) fputs(" (inlined)", out);
      if (f->file) fprintf(out, " at %s:%u", mlr_safe(f->file), f->line);
      if (f->module >= 0) fprintf(out, " [%s]", mlr_safe(mlr_module_name(d, f->module)));
    } else if (f->module >= 0) {
      fprintf(out, "?? [%s+0x%llx]", mlr_safe(mlr_module_name(d, f->module)),
              (unsigned long long)f->offset);
    } else {
      fputs("??", out);
    }
    if (f->note) fprintf(out, " (%s)", f->note);
    fputc('\n', out);
  }
}

const char *mlr_stack_amount(const mlr_stack_t *s, char *buf, size_t size) {
  int n = snprintf(buf, size, "%llu %s, %llu %s (", (unsigned long long)s->blocks,
                   mlr_plural(s->blocks, "block", "blocks"), (unsigned long long)s->bytes,
                   mlr_plural(s->bytes, "byte", "bytes"));
  if (n < 0 || (size_t)n >= size) return buf;
  if (s->min_size == s->max_size)
    snprintf(buf + n, size - (size_t)n, "%llu bytes each)", (unsigned long long)s->min_size);
  else
    snprintf(buf + n, size - (size_t)n, "sizes %llu to %llu bytes)",
             (unsigned long long)s->min_size, (unsigned long long)s->max_size);
  return buf;
}

const char *mlr_frame_site(const mlr_dump_t *d, const mlr_frame_t *f, char *buf,
                           size_t size) {
  char name[512];
  const char *fn = mlr_frame_name(d, f, name, sizeof name);
  if (f->file && f->line) {
    const char *base = strrchr(f->file, '/');
    snprintf(buf, size, "%s (%s:%u)", fn, base ? base + 1 : f->file, f->line);
  } else {
    snprintf(buf, size, "%s", fn);
  }
  return buf;
}

static void amount(FILE *out, uint64_t blocks, uint64_t bytes, uint64_t stacks) {
  fprintf(out, "%llu %s, %llu %s in %llu %s", (unsigned long long)blocks,
          mlr_plural(blocks, "block", "blocks"), (unsigned long long)bytes,
          mlr_plural(bytes, "byte", "bytes"), (unsigned long long)stacks,
          mlr_plural(stacks, "stack", "stacks"));
}

static void supp_line(const char *rule, uint64_t st, uint64_t bl, uint64_t by,
                      void *arg) {
  FILE *out = arg;
  fputs("      ", out);
  amount(out, bl, by, st);
  fprintf(out, ": %s\n", mlr_safe(rule));
}

/* 22573 -> "22,573" (valgrind's %'llu). */
static const char *thousands(uint64_t v, char *buf) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
  for (int i = 0; i < n; i++) {
    if (i && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = tmp[i];
  }
  buf[o] = 0;
  return buf;
}

/* memcheck's LEAK SUMMARY, in its words and layout (blocks not in unknown
 * kinds; suppressed: every kind). */
static void leak_summary(FILE *out, const mlr_report_t *r) {
  static const struct { int kind; const char *label; } rows[] = {
      {MLR_KIND_DEFINITE, "   definitely lost"}, {MLR_KIND_INDIRECT, "   indirectly lost"},
      {MLR_KIND_POSSIBLE, "     possibly lost"}, {MLR_KIND_REACHABLE, "   still reachable"},
      {-1, "        suppressed"}};
  char a[40], b[40];
  fputs("\nLEAK SUMMARY:\n", out);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    uint64_t bl = rows[i].kind < 0 ? r->suppressed_blocks : r->kind_blocks[rows[i].kind];
    uint64_t by = rows[i].kind < 0 ? r->suppressed_bytes : r->kind_bytes[rows[i].kind];
    fprintf(out, "%s: %s bytes in %s blocks\n", rows[i].label, thousands(by, a),
            thousands(bl, b));
  }
  if (r->kind_blocks[MLR_KIND_UNKNOWN]) {
    fprintf(out, "      unclassified: %s bytes in %s blocks\n",
            thousands(r->kind_bytes[MLR_KIND_UNKNOWN], a),
            thousands(r->kind_blocks[MLR_KIND_UNKNOWN], b));
  }
}

/* ---- descriptors, threads, mappings ---------------------------------------------- */

/* What the text calls a section's records. */
static const char *const res_title[MLR_RES_COUNT] = {"Open descriptors", "Threads", "Mappings"};
static const char *const res_label[MLR_RES_COUNT] = {"fds:        ", "threads:    ",
                                                     "mappings:   "};
static const char *const res_one[MLR_RES_COUNT] = {"descriptor", "thread", "mapping"};
static const char *const res_many[MLR_RES_COUNT] = {"descriptors", "threads", "mappings"};

/* In place of the frames of a record whose creation was not seen. */
static const char res_unseen[] =
    "    (no stack: inherited, or made before memledger started or where it does not look)\n";

/* A kind as the text says it: a thread that ended and was never joined
 * holds its stack (a leak). */
static const char *res_kind_text(mlr_res_t r, const char *kind) {
  if (r == MLR_RES_THREADS && !strcmp(kind, "ended")) return "ended-not-joined";
  return kind;
}

/* "  fds:        9 open (3 socket, 3 device, ...) in 4 stacks" */
static void res_summary(FILE *out, const mlr_report_t *r, mlr_res_t k) {
  enum { NK = 8 };
  const char *kinds[NK];
  uint64_t counts[NK + 1] = {0}; // [NK]: every other kind
  size_t nk = 0;
  for (size_t i = 0; i < r->nres[k]; i++) {
    const mlr_resgroup_t *g = r->res[k][i];
    size_t j;
    for (j = 0; j < nk; j++)
      if (!strcmp(kinds[j], g->kind)) break;
    if (j == nk && nk < NK) kinds[nk++] = g->kind;
    counts[j] += g->count;
  }
  if (!r->nres[k]) { // an empty section, or nothing passed the filters
    fprintf(out, "  %snone\n", res_label[k]);
    return;
  }
  fprintf(out, "  %s%llu%s", res_label[k], (unsigned long long)r->res_count[k],
          k == MLR_RES_FDS ? " open" : "");
  for (size_t j = 0; j <= nk; j++) {
    if (j == nk && !counts[NK]) break;
    fprintf(out, "%s%llu %s", j ? ", " : " (", (unsigned long long)counts[j],
            j < nk ? mlr_safe(res_kind_text(k, kinds[j])) : "other");
  }
  if (nk) fputc(')', out);
  if (k == MLR_RES_THREADS)
    fprintf(out, ", %llu bytes of stack", (unsigned long long)r->res_bytes[k]);
  else if (k == MLR_RES_MAPPINGS)
    fprintf(out, ", %llu bytes", (unsigned long long)r->res_bytes[k]);
  fprintf(out, " in %zu %s\n", r->nres[k], mlr_plural(r->nres[k], "stack", "stacks"));
}

/* One group: a header line, its first ids and details, its frames. */
static void res_group(FILE *out, const mlr_dump_t *d, const mlr_resgroup_t *g,
                      const char *bold, const char *plain) {
  mlr_res_t k = g->res;
  fprintf(out, "\n%s%llu %s %s", bold, (unsigned long long)g->count,
          mlr_safe(res_kind_text(k, g->kind)), g->count == 1 ? res_one[k] : res_many[k]);
  if (k == MLR_RES_THREADS)
    fprintf(out, ", %llu bytes of stack", (unsigned long long)g->bytes);
  else if (k == MLR_RES_MAPPINGS)
    fprintf(out, ", %llu bytes", (unsigned long long)g->bytes);
  if (g->seen)
    fprintf(out, ", stack %u:%s\n", g->stack.id, plain);
  else
    fprintf(out, ", creation not seen:%s\n", plain);
  if (!(k == MLR_RES_THREADS && !strcmp(g->kind, "ended"))) { // ended threads: tid 0
    static const char *const idl[MLR_RES_COUNT] = {"fd", "tid", "at"};
    size_t n = g->nids < 8 ? g->nids : 8;
    fprintf(out, "    %s", idl[k]);
    for (size_t i = 0; i < n; i++)
      fprintf(out, k == MLR_RES_MAPPINGS ? "%s 0x%llx" : "%s %llu", i ? "," : "",
              (unsigned long long)g->ids[i]);
    if (g->count > n) fprintf(out, " and %llu more", (unsigned long long)(g->count - n));
    fputc('\n', out);
  }
  size_t nd = g->ndetails < 4 ? g->ndetails : 4;
  for (size_t i = 0; i < nd; i++)
    fprintf(out, "    = %s\n", mlr_safe(g->details[i]));
  if (g->ndetails > nd)
    fprintf(out, "    = ... (%s%zu more)\n", g->ndetails == MLR_RES_KEEP ? "at least " : "",
            g->ndetails - nd);
  if (g->seen)
    mlr_text_frames(out, d, &g->stack, "    ");
  else
    fputs(res_unseen, out);
}

/* The three sections after the heap's stacks; nothing for an empty one. */
static void res_sections(FILE *out, const mlr_report_t *r, const char *bold,
                         const char *plain) {
  for (int k = 0; k < MLR_RES_COUNT; k++) {
    if (!r->nres[k]) continue;
    size_t n = r->top && r->top < r->nres[k] ? r->top : r->nres[k];
    fprintf(out, "\n%s%s: %llu in %zu %s%s\n", bold, res_title[k],
            (unsigned long long)r->res_count[k], r->nres[k],
            mlr_plural(r->nres[k], "stack", "stacks"), plain);
    for (size_t i = 0; i < n; i++)
      res_group(out, r->dump, r->res[k][i], bold, plain);
    if (n < r->nres[k]) {
      uint64_t c = 0;
      for (size_t i = n; i < r->nres[k]; i++)
        c += r->res[k][i]->count;
      fprintf(out, "\n... and %llu %s in %zu more %s (--top)\n", (unsigned long long)c,
              c == 1 ? res_one[k] : res_many[k], r->nres[k] - n,
              mlr_plural(r->nres[k] - n, "stack", "stacks"));
    }
  }
}

/* ---- the report ------------------------------------------------------------------ */

int mlr_format_text(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o,
                    mlr_err_t *err) {
  const mlr_dump_t *d = r->dump;
  const char *bold = o && o->color ? "\033[1m" : "",
             *plain = o && o->color ? "\033[0m" : "";
  const char *v;
  fprintf(out, "%smemledger report of %s%s\n", bold, mlr_safe(d->path), plain);
  const char *exe = mlr_kv_get(d->header, d->nheader, "exe");
  const char *pid = mlr_kv_get(d->header, d->nheader, "pid");
  fprintf(out, "  program:    %s (pid %s)\n", exe ? mlr_safe(exe) : "?", pid ? mlr_safe(pid) : "?");
  const char *trig = mlr_kv_get(d->header, d->nheader, "trigger");
  const char *seq = mlr_kv_get(d->header, d->nheader, "sequence");
  const char *tm = mlr_kv_get(d->header, d->nheader, "time");
  fprintf(out, "  dump:       #%s, at %s, %s\n", seq ? mlr_safe(seq) : "?",
          trig ? (!strcmp(trig, "exit")     ? "exit"
                  : !strcmp(trig, "signal") ? "signal"
                                            : mlr_safe(trig))
               : "?",
          tm ? mlr_safe(tm) : "?");
  if ((v = mlr_kv_get(d->header, d->nheader, "threshold")))
    fprintf(out, "  tracked:    blocks of %s bytes and more\n", mlr_safe(v));
  fputs("  unfreed:    ", out);
  amount(out, d->unfreed_blocks, d->unfreed_bytes, d->nstacks);
  fputc('\n', out);
  uint64_t fb = d->unfreed_blocks - r->shown_blocks - r->suppressed_blocks - r->hidden_blocks;
  uint64_t fy = d->unfreed_bytes - r->shown_bytes - r->suppressed_bytes - r->hidden_bytes;
  size_t fs = d->nstacks - r->nshown - r->nsuppressed - r->nhidden;
  if (fs) {
    fputs("  filtered:   ", out);
    amount(out, fb, fy, fs);
    fputs(" not matching --module/--function\n", out);
  }
  fputs("  suppressed: ", out);
  amount(out, r->suppressed_blocks, r->suppressed_bytes, r->nsuppressed);
  fputc('\n', out);
  mlr_report_supp_totals(r, supp_line, out);
  if (r->nhidden) {
    fputs("  not shown:  ", out);
    amount(out, r->hidden_blocks, r->hidden_bytes, r->nhidden);
    fputs(" of kinds left out by --kinds\n", out);
  }
  fprintf(out, "%s  remaining:  ", bold);
  amount(out, r->shown_blocks, r->shown_bytes, r->nshown);
  fprintf(out, "%s\n", plain);
  static const char *const warn[][2] = {
      {"dropped_records",
       "(allocations not recorded: MEMLEDGER_MAX_RECORDS; missing here)"},
      {"stack_table_full", "(allocations listed under stack 0: MEMLEDGER_MAX_STACKS)"},
      {"unwind_failures", "(allocations whose stack capture failed)"},
  };
  for (size_t i = 0; i < sizeof warn / sizeof warn[0]; i++) {
    v = mlr_kv_get(d->totals, d->ntotals, warn[i][0]);
    if (v && strcmp(v, "0") != 0)
      fprintf(out, "  warning:    %s: %s %s\n", warn[i][0], mlr_safe(v), warn[i][1]);
  }
  /* Since the previous dump: a first dump's blocks are all newer than
   * the start, which says nothing. */
  if (d->has_newer && d->newer_since)
    fprintf(out, "  newer:      %llu %s, %llu %s allocated since %s\n",
            (unsigned long long)d->newer_blocks, mlr_plural(d->newer_blocks, "block", "blocks"),
            (unsigned long long)d->newer_bytes, mlr_plural(d->newer_bytes, "byte", "bytes"),
            d->newer_since ? "the previous dump" : "the start");
  if (d->has_res)
    for (int k = 0; k < MLR_RES_COUNT; k++)
      res_summary(out, r, (mlr_res_t)k);

  size_t n = r->top && r->top < r->nshown ? r->top : r->nshown;
  for (size_t i = 0; i < n; i++) {
    const mlr_stack_t *s = r->shown[i];
    char am[160];
    fprintf(out, "\n%s%s", bold, mlr_stack_amount(s, am, sizeof am));
    if (s->kind != MLR_KIND_UNKNOWN) fprintf(out, ", %s", mlr_kind_title(s->kind));
    fprintf(out, ", stack %u", s->id);
    if (s->merged)
      fprintf(out, " and %u more merged by --alloc-fn/--hide", (unsigned)s->merged);
    if (d->has_newer && d->newer_since) // the stack id's blocks, all kinds
      fprintf(out, ", %llu%s newer than %s", (unsigned long long)s->newer_blocks,
              s->newer_shared ? " of all its kinds" : "",
              d->newer_since ? "the previous dump" : "the start");
    fprintf(out, ":%s\n", plain);
    if (r->addresses && s->naddrs) { /* --addresses: the first 8 */
      fputs("    at", out);
      for (size_t k = 0; k < s->naddrs && k < 8; k++)
        fprintf(out, "%s 0x%llx", k ? "," : "", (unsigned long long)s->addrs[k]);
      if (s->naddrs > 8) fprintf(out, " and %zu more", s->naddrs - 8);
      fputc('\n', out);
    }
    mlr_text_frames(out, d, s, "    ");
  }
  if (n < r->nshown) {
    uint64_t bl = 0, by = 0;
    for (size_t i = n; i < r->nshown; i++) {
      bl += r->shown[i]->blocks;
      by += r->shown[i]->bytes;
    }
    fputs("\n... and ", out);
    amount(out, bl, by, r->nshown - n);
    fputs(" more (--top)\n", out);
  }
  if (r->classified) leak_summary(out, r);
  if (d->has_res) res_sections(out, r, bold, plain);
  return mlr_io_result(out, err);
}

/* ---- the diff -----------------------------------------------------------------------
 */

static const char *delta_status(const mlr_delta_t *x) {
  if (!x->old_stack) return "new";
  if (!x->new_stack) return "gone";
  if (x->dbytes > 0 || (x->dbytes == 0 && x->dblocks > 0)) return "grew";
  if (x->dbytes < 0 || x->dblocks < 0) return "shrank";
  return "unchanged";
}

static void dump_line(FILE *out, const char *label, const mlr_dump_t *d, uint64_t bl,
                      uint64_t by) {
  const char *exe = mlr_kv_get(d->header, d->nheader, "exe");
  const char *pid = mlr_kv_get(d->header, d->nheader, "pid");
  const char *seq = mlr_kv_get(d->header, d->nheader, "sequence");
  const char *tm = mlr_kv_get(d->header, d->nheader, "time");
  fprintf(out, "  %s %s: %s (pid %s), dump #%s at %s: %llu %s, %llu %s\n", label,
          mlr_safe(d->path), exe ? mlr_safe(exe) : "?", pid ? mlr_safe(pid) : "?",
          seq ? mlr_safe(seq) : "?", tm ? mlr_safe(tm) : "?",
          (unsigned long long)bl, mlr_plural(bl, "block", "blocks"),
          (unsigned long long)by, mlr_plural(by, "byte", "bytes"));
}

/* 754.5 -> "12 min 34.5 s" (sign kept). */
static const char *duration(char *buf, size_t size, double secs) {
  const char *sign = secs < 0 ? "-" : "";
  double a = secs < 0 ? -secs : secs;
  unsigned long long whole = (unsigned long long)a;
  double frac = a - (double)whole;
  unsigned long long d = whole / 86400, h = whole / 3600 % 24, m = whole / 60 % 60;
  double sec = (double)(whole % 60) + frac;
  if (a < 60)
    snprintf(buf, size, "%s%.3f s", sign, a);
  else if (a < 3600)
    snprintf(buf, size, "%s%llu min %.1f s", sign, m, sec);
  else if (a < 86400)
    snprintf(buf, size, "%s%llu h %llu min %.0f s", sign, h, m, sec);
  else
    snprintf(buf, size, "%s%llu d %llu h %llu min", sign, d, h, m);
  return buf;
}

/* The changed descriptor, thread and mapping groups, per section. */
static void diff_res_text(FILE *out, const mlr_diff_t *df) {
  for (int k = 0; k < MLR_RES_COUNT; k++) {
    bool titled = false;
    for (size_t i = 0; i < df->nrdeltas; i++) {
      const mlr_rdelta_t *x = &df->rdeltas[i];
      const char *st = mlr_rdelta_status(x);
      if (x->res != (mlr_res_t)k || !strcmp(st, "unchanged")) continue;
      if (!titled) fprintf(out, "\n%s by creation stack:\n", res_title[k]);
      titled = true;
      const mlr_resgroup_t *g = x->new_g ? x->new_g : x->old_g;
      const mlr_dump_t *d = x->new_g ? df->new_dump : df->old_dump;
      fprintf(out, "\n%+lld %s %s (%llu -> %llu)", (long long)x->dcount,
              mlr_safe(res_kind_text(x->res, x->kind)),
              x->dcount == 1 || x->dcount == -1 ? res_one[k] : res_many[k],
              (unsigned long long)x->old_count, (unsigned long long)x->new_count);
      if (k != MLR_RES_FDS)
        fprintf(out, ", %+lld bytes (%llu -> %llu)", (long long)x->dbytes,
                (unsigned long long)x->old_bytes, (unsigned long long)x->new_bytes);
      if (g->seen)
        fprintf(out, ", %s, stack %u:\n", st, g->stack.id);
      else
        fprintf(out, ", %s, creation not seen:\n", st);
      if (g->seen)
        mlr_text_frames(out, d, &g->stack, "    ");
      else
        fputs(res_unseen, out);
    }
  }
}

int mlr_format_diff_text(FILE *out, const mlr_diff_t *df, const mlr_format_opts_t *o,
                         mlr_err_t *err) {
  (void)o;
  uint64_t ob = 0, oy = 0, nb = 0, ny = 0;
  size_t grew = 0, fresh = 0, shrank = 0, gone = 0, same = 0;
  for (size_t i = 0; i < df->ndeltas; i++) {
    const mlr_delta_t *x = &df->deltas[i];
    ob += x->old_blocks;
    oy += x->old_bytes;
    const char *st = delta_status(x);
    if (!strcmp(st, "new"))
      fresh++;
    else if (!strcmp(st, "gone"))
      gone++;
    else if (!strcmp(st, "grew"))
      grew++;
    else if (!strcmp(st, "shrank"))
      shrank++;
    else
      same++;
  }
  nb = (uint64_t)((int64_t)ob + df->dblocks);
  ny = (uint64_t)((int64_t)oy + df->dbytes);
  fputs("memledger diff (unfreed blocks after suppressions)\n", out);
  dump_line(out, "old", df->old_dump, ob, oy);
  dump_line(out, "new", df->new_dump, nb, ny);
  char dur[64];
  if (!df->have_interval)
    fputs("  time:    unknown (a dump's header has no time)\n", out);
  else
    fprintf(out, "  time:    %s from old to new (%.3f s)\n",
            duration(dur, sizeof dur, df->interval), df->interval);
  fprintf(out, "  growth:  %+lld blocks, %+lld bytes\n", (long long)df->dblocks,
          (long long)df->dbytes);
  if (df->have_rate)
    fprintf(out,
            "  rate:    %+.1f bytes/min, %+.0f bytes/hour; %+.2f blocks/min, %+.1f "
            "blocks/hour\n",
            df->bytes_per_min, df->bytes_per_min * 60, df->blocks_per_min,
            df->blocks_per_min * 60);
  fprintf(out, "  stacks:  %zu grew, %zu new, %zu shrank, %zu gone, %zu unchanged\n",
          grew, fresh, shrank, gone, same);
  if (df->has_res)
    for (int k = 0; k < MLR_RES_COUNT; k++) {
      static const char *const lab[MLR_RES_COUNT] = {"fds:", "threads:", "mappings:"};
      fprintf(out, "  %-9s %+lld (%llu -> %llu)", lab[k],
              (long long)df->res_new_count[k] - (long long)df->res_old_count[k],
              (unsigned long long)df->res_old_count[k],
              (unsigned long long)df->res_new_count[k]);
      if (k != MLR_RES_FDS)
        fprintf(out, ", %+lld bytes%s",
                (long long)df->res_new_bytes[k] - (long long)df->res_old_bytes[k],
                k == MLR_RES_THREADS ? " of stack" : "");
      fputc('\n', out);
    }
  for (size_t i = 0; i < df->ndeltas; i++) {
    const mlr_delta_t *x = &df->deltas[i];
    const char *st = delta_status(x);
    if (!strcmp(st, "unchanged")) continue;
    const mlr_stack_t *s = x->new_stack ? x->new_stack : x->old_stack;
    const mlr_dump_t *d = x->new_stack ? df->new_dump : df->old_dump;
    fprintf(out,
            "\n%+lld blocks, %+lld bytes (%llu -> %llu blocks, %llu -> %llu bytes), %s, "
            "stack %u:\n",
            (long long)x->dblocks, (long long)x->dbytes,
            (unsigned long long)x->old_blocks, (unsigned long long)x->new_blocks,
            (unsigned long long)x->old_bytes, (unsigned long long)x->new_bytes, st,
            s->id);
    mlr_text_frames(out, d, s, "    ");
  }
  if (df->has_res) diff_res_text(out, df);
  return mlr_io_result(out, err);
}

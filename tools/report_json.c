/* SPDX-License-Identifier: MIT */
/*
 * report_json.c - the JSON report and JSON diff (schema: doc/report-json.md).
 * One JSON object per run, keys in a fixed order, stacks sorted as in the
 * text report.  Addresses and offsets are strings ("0x..."): they do not fit
 * in a double.  Runs outside the target process.
 */
#include "report_priv.h"

#include <string.h>

void mlr_json_str(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    case '\r': fputs("\\r", out); break;
    default:
      if (*p < 0x20 || *p == 0x7f) {
        fprintf(out, "\\u%04x", *p);
      } else if (*p >= 0x80) { // valid UTF-8 as is; any other byte: U+FFFD
        size_t n = mlr_utf8_len(p);
        if (n) fwrite(p, 1, n, out), p += n - 1;
        else fputs("\\ufffd", out);
      } else {
        fputc(*p, out);
      }
    }
  }
  fputc('"', out);
}

void mlr_json_frames(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s) {
  fputs("[", out);
  for (size_t i = 0; i < s->nframes; i++) {
    const mlr_frame_t *f = &s->frames[i];
    fprintf(out, "%s\n        {\"address\": \"0x%llx\", \"module\": ", i ? "," : "",
            (unsigned long long)f->addr);
    mlr_json_str(out, f->module >= 0 ? d->modules[f->module].path : NULL);
    if (f->module >= 0)
      fprintf(out, ", \"offset\": \"0x%llx\"", (unsigned long long)f->offset);
    else
      fputs(", \"offset\": null", out);
    fputs(", \"function\": ", out);
    mlr_json_str(out, f->function);
    fputs(", \"file\": ", out);
    mlr_json_str(out, f->file);
    if (f->line)
      fprintf(out, ", \"line\": %u", f->line);
    else
      fputs(", \"line\": null", out);
    fprintf(out, ", \"inlined\": %s, \"note\": ", f->inlined ? "true" : "false");
    mlr_json_str(out, f->note);
    fputs("}", out);
  }
  fputs(s->nframes ? "\n      ]" : "]", out);
}

static void json_dump_info(FILE *out, const mlr_dump_t *d) {
  static const char *const keys[] = {"pid",      "ppid",      "exe",
                                     "cmdline",  "time",      "trigger",
                                     "sequence", "threshold", "unwind"};
  fputs("{\"path\": ", out);
  mlr_json_str(out, d->path);
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const char *v = mlr_kv_get(d->header, d->nheader, keys[i]);
    bool num = !strcmp(keys[i], "pid") || !strcmp(keys[i], "ppid") ||
               !strcmp(keys[i], "sequence") || !strcmp(keys[i], "threshold");
    if (num && v && v[0] && strspn(v, "0123456789") == strlen(v) && strlen(v) < 16)
      fprintf(out, ", \"%s\": %s", keys[i], v);
    else {
      fprintf(out, ", \"%s\": ", keys[i]);
      mlr_json_str(out, v);
    }
  }
  fputs("}", out);
}

/* A descriptor, thread or mapping group (doc/report-json.md, "fds"). */
static void json_resgroup(FILE *out, const mlr_dump_t *d, const mlr_resgroup_t *g) {
  if (g->seen)
    fprintf(out, "{\"stack\": %u", g->stack.id);
  else
    fputs("{\"stack\": null", out);
  fputs(", \"kind\": ", out);
  mlr_json_str(out, g->kind);
  fprintf(out, ", \"count\": %llu, \"bytes\": %llu", (unsigned long long)g->count,
          (unsigned long long)g->bytes);
  if (g->stack.merged || g->stack.hidden)
    fprintf(out, ", \"hidden_frames\": %zu", g->stack.hidden);
  fputs(", \"ids\": [", out);
  for (size_t i = 0; i < g->nids; i++) {
    if (g->res == MLR_RES_MAPPINGS)
      fprintf(out, "%s\"0x%llx\"", i ? ", " : "", (unsigned long long)g->ids[i]);
    else
      fprintf(out, "%s%llu", i ? ", " : "", (unsigned long long)g->ids[i]);
  }
  fputs("], \"details\": [", out);
  for (size_t i = 0; i < g->ndetails; i++) {
    if (i) fputs(", ", out);
    mlr_json_str(out, g->details[i]);
  }
  fputs("],\n      \"frames\": ", out);
  mlr_json_frames(out, d, &g->stack);
  fputs("}", out);
}

/* The arrays "fds", "threads", "mappings" (a dump that has the sections). */
static void json_resources(FILE *out, const mlr_report_t *r) {
  for (int k = 0; k < MLR_RES_COUNT; k++) {
    size_t n = r->top && r->top < r->nres[k] ? r->top : r->nres[k];
    fprintf(out, ",\n  \"%s\": [", mlr_res_name((mlr_res_t)k));
    for (size_t i = 0; i < n; i++) {
      fputs(i ? ",\n    " : "\n    ", out);
      json_resgroup(out, r->dump, r->res[k][i]);
    }
    fputs(n ? "\n  ]" : "]", out);
  }
}

static void json_stack(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s, bool supp,
                       bool addresses) {
  fprintf(out,
          "{\"id\": %u, \"blocks\": %llu, \"bytes\": %llu, \"usable\": %llu, "
          "\"min_size\": %llu, \"max_size\": %llu, \"oldest_seq\": %llu",
          s->id, (unsigned long long)s->blocks, (unsigned long long)s->bytes,
          (unsigned long long)s->usable, (unsigned long long)s->min_size,
          (unsigned long long)s->max_size, (unsigned long long)s->oldest_seq);
  if (s->kind != MLR_KIND_UNKNOWN) fprintf(out, ", \"kind\": \"%s\"", mlr_kind_word(s->kind));
  if (d->has_newer) // [newer]: of the stack id's blocks (all kinds)
    fprintf(out, ", \"newer_blocks\": %llu, \"newer_bytes\": %llu",
            (unsigned long long)s->newer_blocks, (unsigned long long)s->newer_bytes);
  if (s->merged || s->hidden) // only with --alloc-fn/--hide
    fprintf(out, ", \"merged\": %u, \"hidden_frames\": %zu", (unsigned)s->merged, s->hidden);
  if (supp) {
    fputs(", \"suppressed_by\": ", out);
    mlr_json_str(out, s->suppressed_by);
  }
  if (addresses) { /* --addresses: the dump's [blocks], when it has them */
    fputs(", \"addresses\": [", out);
    for (size_t i = 0; i < s->naddrs; i++)
      fprintf(out, "%s\"0x%llx\"", i ? ", " : "", (unsigned long long)s->addrs[i]);
    fputs("]", out);
  }
  fputs(",\n      \"frames\": ", out);
  mlr_json_frames(out, d, s);
  fputs("}", out);
}

typedef struct rules_arg_s {
  FILE *out;
  int n;
} rules_arg_t;
static void json_rule(const char *rule, uint64_t st, uint64_t bl, uint64_t by,
                      void *arg) {
  rules_arg_t *a = arg;
  fprintf(a->out, "%s\n      {\"name\": ", a->n++ ? "," : "");
  mlr_json_str(a->out, rule);
  fprintf(a->out, ", \"stacks\": %llu, \"blocks\": %llu, \"bytes\": %llu}",
          (unsigned long long)st, (unsigned long long)bl, (unsigned long long)by);
}

int mlr_format_json(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o,
                    mlr_err_t *err) {
  (void)o;
  const mlr_dump_t *d = r->dump;
  fputs("{\n  \"memledger_report\": 1,\n  \"dump\": ", out);
  json_dump_info(out, d);
  fprintf(out, ",\n  \"unfreed\": {\"blocks\": %llu, \"bytes\": %llu, \"stacks\": %zu}",
          (unsigned long long)d->unfreed_blocks, (unsigned long long)d->unfreed_bytes,
          d->nstacks);
  fprintf(out,
          ",\n  \"suppressed\": {\"blocks\": %llu, \"bytes\": %llu, \"stacks\": %zu, "
          "\"rules\": [",
          (unsigned long long)r->suppressed_blocks,
          (unsigned long long)r->suppressed_bytes, r->nsuppressed);
  rules_arg_t a = {out, 0};
  mlr_report_supp_totals(r, json_rule, &a);
  fputs(a.n ? "\n    ]}" : "]}", out);
  fprintf(out, ",\n  \"remaining\": {\"blocks\": %llu, \"bytes\": %llu, \"stacks\": %zu}",
          (unsigned long long)r->shown_blocks, (unsigned long long)r->shown_bytes,
          r->nshown);
  if (r->classified) {
    /* memcheck's LEAK SUMMARY: every kind, whatever --kinds shows. */
    fputs(",\n  \"leak_kinds\": {", out);
    for (int k = MLR_KIND_DEFINITE; k < MLR_KIND_COUNT; k++)
      fprintf(out, "%s\"%s\": {\"blocks\": %llu, \"bytes\": %llu, \"shown\": %s}",
              k == MLR_KIND_DEFINITE ? "" : ", ", mlr_kind_word((mlr_kind_t)k),
              (unsigned long long)r->kind_blocks[k], (unsigned long long)r->kind_bytes[k],
              r->kinds & MLR_KINDS_BIT(k) ? "true" : "false");
    if (r->kind_blocks[MLR_KIND_UNKNOWN])
      fprintf(out, ", \"unclassified\": {\"blocks\": %llu, \"bytes\": %llu, \"shown\": true}",
              (unsigned long long)r->kind_blocks[MLR_KIND_UNKNOWN],
              (unsigned long long)r->kind_bytes[MLR_KIND_UNKNOWN]);
    fputs("}", out);
  }
  if (d->has_newer)
    fprintf(out,
            ",\n  \"newer\": {\"since_unix_ns\": %llu, \"blocks\": %llu, \"bytes\": %llu}",
            (unsigned long long)d->newer_since, (unsigned long long)d->newer_blocks,
            (unsigned long long)d->newer_bytes);
  if (d->has_res) {
    fputs(",\n  \"resources\": {", out);
    for (int k = 0; k < MLR_RES_COUNT; k++)
      fprintf(out, "%s\"%s\": {\"count\": %llu, \"bytes\": %llu, \"stacks\": %zu}",
              k ? ", " : "", mlr_res_name((mlr_res_t)k), (unsigned long long)r->res_count[k],
              (unsigned long long)r->res_bytes[k], r->nres[k]);
    fputs("}", out);
  }
  fprintf(out, ",\n  \"sort\": \"%s\"", r->sort == MLR_SORT_COUNT ? "count" : "bytes");
  size_t n = r->top && r->top < r->nshown ? r->top : r->nshown;
  fputs(",\n  \"stacks\": [", out);
  for (size_t i = 0; i < n; i++) {
    fputs(i ? ",\n    " : "\n    ", out);
    json_stack(out, d, r->shown[i], false, r->addresses);
  }
  fputs(n ? "\n  ]" : "]", out);
  fputs(",\n  \"suppressed_stacks\": [", out);
  for (size_t i = 0; i < r->nsuppressed; i++) {
    fputs(i ? ",\n    " : "\n    ", out);
    json_stack(out, d, r->suppressed[i], true, r->addresses);
  }
  fputs(r->nsuppressed ? "\n  ]" : "]", out);
  if (d->has_res) json_resources(out, r);
  fputs("\n}\n", out);
  return mlr_io_result(out, err);
}

/* One side of a descriptor/thread/mapping change, or null. */
static void json_rside(FILE *out, const char *name, const mlr_resgroup_t *g, uint64_t count,
                       uint64_t bytes) {
  fprintf(out, ", \"%s\": ", name);
  if (!g) {
    fputs("null", out);
    return;
  }
  if (g->seen)
    fprintf(out, "{\"stack\": %u", g->stack.id);
  else
    fputs("{\"stack\": null", out);
  fprintf(out, ", \"count\": %llu, \"bytes\": %llu}", (unsigned long long)count,
          (unsigned long long)bytes);
}

/* "resources" (totals on each side) and the changed groups in "fds",
 * "threads", "mappings". */
static void json_diff_res(FILE *out, const mlr_diff_t *df) {
  fputs(",\n  \"resources\": {", out);
  for (int k = 0; k < MLR_RES_COUNT; k++)
    fprintf(out,
            "%s\"%s\": {\"old_count\": %llu, \"new_count\": %llu, \"dcount\": %lld, "
            "\"old_bytes\": %llu, \"new_bytes\": %llu, \"dbytes\": %lld}",
            k ? ", " : "", mlr_res_name((mlr_res_t)k),
            (unsigned long long)df->res_old_count[k], (unsigned long long)df->res_new_count[k],
            (long long)df->res_new_count[k] - (long long)df->res_old_count[k],
            (unsigned long long)df->res_old_bytes[k], (unsigned long long)df->res_new_bytes[k],
            (long long)df->res_new_bytes[k] - (long long)df->res_old_bytes[k]);
  fputs("}", out);
  for (int k = 0; k < MLR_RES_COUNT; k++) {
    fprintf(out, ",\n  \"%s\": [", mlr_res_name((mlr_res_t)k));
    size_t n = 0;
    for (size_t i = 0; i < df->nrdeltas; i++) {
      const mlr_rdelta_t *x = &df->rdeltas[i];
      const char *st = mlr_rdelta_status(x);
      if (x->res != (mlr_res_t)k || !strcmp(st, "unchanged")) continue;
      fputs(n++ ? ",\n    " : "\n    ", out);
      fprintf(out, "{\"status\": \"%s\", \"kind\": ", st);
      mlr_json_str(out, x->kind);
      fprintf(out, ", \"dcount\": %lld, \"dbytes\": %lld", (long long)x->dcount,
              (long long)x->dbytes);
      json_rside(out, "old", x->old_g, x->old_count, x->old_bytes);
      json_rside(out, "new", x->new_g, x->new_count, x->new_bytes);
      fputs(",\n      \"frames\": ", out);
      mlr_json_frames(out, x->new_g ? df->new_dump : df->old_dump,
                      x->new_g ? &x->new_g->stack : &x->old_g->stack);
      fputs("}", out);
    }
    fputs(n ? "\n  ]" : "]", out);
  }
}

int mlr_format_diff_json(FILE *out, const mlr_diff_t *df, const mlr_format_opts_t *o,
                         mlr_err_t *err) {
  (void)o;
  uint64_t ob = 0, oy = 0;
  for (size_t i = 0; i < df->ndeltas; i++) {
    ob += df->deltas[i].old_blocks;
    oy += df->deltas[i].old_bytes;
  }
  fputs("{\n  \"memledger_diff\": 1,\n  \"old\": ", out);
  json_dump_info(out, df->old_dump);
  fputs(",\n  \"new\": ", out);
  json_dump_info(out, df->new_dump);
  fprintf(out, ",\n  \"old_remaining\": {\"blocks\": %llu, \"bytes\": %llu}",
          (unsigned long long)ob, (unsigned long long)oy);
  fprintf(out, ",\n  \"new_remaining\": {\"blocks\": %llu, \"bytes\": %llu}",
          (unsigned long long)((int64_t)ob + df->dblocks),
          (unsigned long long)((int64_t)oy + df->dbytes));
  fprintf(out, ",\n  \"growth\": {\"blocks\": %lld, \"bytes\": %lld}",
          (long long)df->dblocks, (long long)df->dbytes);
  if (df->have_interval)
    fprintf(out, ",\n  \"interval_seconds\": %.3f", df->interval);
  else
    fputs(",\n  \"interval_seconds\": null", out);
  if (df->have_rate) {
    fprintf(out,
            ",\n  \"growth_rate\": {\"bytes_per_minute\": %.3f, \"bytes_per_hour\": %.3f, "
            "\"blocks_per_minute\": %.3f, \"blocks_per_hour\": %.3f}",
            df->bytes_per_min, df->bytes_per_min * 60, df->blocks_per_min,
            df->blocks_per_min * 60);
  } else {
    fputs(",\n  \"growth_rate\": null", out);
  }
  fputs(",\n  \"stacks\": [", out);
  size_t k = 0;
  for (size_t i = 0; i < df->ndeltas; i++) {
    const mlr_delta_t *x = &df->deltas[i];
    if (!x->dblocks && !x->dbytes) continue;
    const char *st = !x->old_stack                                           ? "new"
                     : !x->new_stack                                         ? "gone"
                     : (x->dbytes > 0 || (x->dbytes == 0 && x->dblocks > 0)) ? "grew"
                                                                             : "shrank";
    fputs(k++ ? ",\n    " : "\n    ", out);
    fprintf(out, "{\"status\": \"%s\", \"dblocks\": %lld, \"dbytes\": %lld", st,
            (long long)x->dblocks, (long long)x->dbytes);
    if (x->old_stack)
      fprintf(out, ", \"old\": {\"id\": %u, \"blocks\": %llu, \"bytes\": %llu}",
              x->old_stack->id, (unsigned long long)x->old_blocks,
              (unsigned long long)x->old_bytes);
    else
      fputs(", \"old\": null", out);
    if (x->new_stack)
      fprintf(out, ", \"new\": {\"id\": %u, \"blocks\": %llu, \"bytes\": %llu}",
              x->new_stack->id, (unsigned long long)x->new_blocks,
              (unsigned long long)x->new_bytes);
    else
      fputs(", \"new\": null", out);
    fputs(",\n      \"frames\": ", out);
    mlr_json_frames(out, x->new_stack ? df->new_dump : df->old_dump,
                    x->new_stack ? x->new_stack : x->old_stack);
    fputs("}", out);
  }
  fputs(k ? "\n  ]" : "]", out);
  if (df->has_res) json_diff_res(out, df);
  fputs("\n}\n", out);
  return mlr_io_result(out, err);
}

/* SPDX-License-Identifier: MIT */
/*
 * report_sarif.c - `memledger report --format sarif`: SARIF 2.1.0 (the
 * static-analysis results format of GitHub code scanning and other CI
 * systems).  One run, one rule ("memledger/leak"), one result per
 * remaining stack: its location is the innermost frame that has a source
 * file and line (else the innermost frame, as module and address); the
 * whole stack is in the result's "stacks" and, outermost call first, in a
 * code flow; blocks and bytes are in its properties.  Described in
 * doc/report-formats.md.
 * Runs outside the target process.  Strings go through mlr_json_str
 * (valid UTF-8, control characters escaped); URIs are percent-encoded.
 */
#include "report_priv.h"

#include <stdlib.h>
#include <string.h>

#ifndef MLR_VERSION
#define MLR_VERSION "unknown"
#endif

#define RULE_ID "memledger/leak"

/* A path as a URI: "file:///abs/path" for an absolute path, else a
 * relative reference (resolved against the SRCROOT base); every byte but
 * ALPHA DIGIT - . _ ~ / is percent-encoded. */
static void json_uri(FILE *out, const char *path) {
  fputc('"', out);
  if (path[0] == '/') fputs("file://", out);
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~/", *p))
      fputc(*p, out);
    else
      fprintf(out, "%%%02X", *p);
  }
  fputc('"', out);
}

static void artifact(FILE *out, const char *path) {
  fputs("\"artifactLocation\": {\"uri\": ", out);
  json_uri(out, path);
  if (path[0] != '/') fputs(", \"uriBaseId\": \"SRCROOT\"", out);
  fputs("}", out);
}

/* A location object for frame f. */
static void location(FILE *out, const mlr_dump_t *d, const mlr_frame_t *f) {
  fputs("{\"physicalLocation\": {", out);
  if (f->file) {
    artifact(out, f->file);
    if (f->line) fprintf(out, ", \"region\": {\"startLine\": %u}", f->line);
  } else {
    if (f->module >= 0 && (size_t)f->module < d->nmodules && d->modules[f->module].path) {
      artifact(out, d->modules[f->module].path);
      fputs(", ", out);
    }
    fprintf(out, "\"address\": {\"absoluteAddress\": %llu", (unsigned long long)f->addr);
    if (f->module >= 0)
      fprintf(out, ", \"relativeAddress\": %llu", (unsigned long long)f->offset);
    fputs("}", out);
  }
  fputs("}", out);
  if (f->function) {
    fputs(", \"logicalLocations\": [{\"fullyQualifiedName\": ", out);
    mlr_json_str(out, f->function);
    fputs(", \"kind\": \"function\"}]", out);
  }
  fputs("}", out);
}

/* "#3 main (server.c:88) [server]" */
static void frame_text(FILE *out, const mlr_dump_t *d, const mlr_frame_t *f, size_t i) {
  char site[1200], text[1400];
  snprintf(text, sizeof text, "#%zu %s%s [%s]", i, mlr_frame_site(d, f, site, sizeof site),
           f->inlined ? " (inlined)" : "", mlr_module_name(d, f->module));
  mlr_json_str(out, text);
}

static void result(FILE *out, const mlr_dump_t *d, const mlr_stack_t *s) {
  char am[160], site[1200], msg[1600];
  /* The primary location: the innermost frame with file:line. */
  const mlr_frame_t *at = NULL;
  for (size_t i = 0; i < s->nframes && !at; i++)
    if (s->frames[i].file && s->frames[i].line) at = &s->frames[i];
  if (!at && s->nframes) at = &s->frames[0];
  if (s->id == 0)
    snprintf(msg, sizeof msg, "%s unfreed without a stack (the stack table was full: "
             "MEMLEDGER_MAX_STACKS)", mlr_stack_amount(s, am, sizeof am));
  else if (!at)
    snprintf(msg, sizeof msg, "%s unfreed, stack %u without frames",
             mlr_stack_amount(s, am, sizeof am), s->id);
  else
    snprintf(msg, sizeof msg, "%s unfreed, allocated in %s", mlr_stack_amount(s, am, sizeof am),
             mlr_frame_site(d, &s->frames[0], site, sizeof site));
  fprintf(out, "\n      {\"ruleId\": \"" RULE_ID "\", \"ruleIndex\": 0, \"level\": \"warning\",\n"
               "       \"message\": {\"text\": ");
  mlr_json_str(out, msg);
  fputs("},\n       \"locations\": [", out);
  if (at) location(out, d, at);
  fputs("],\n", out);
  char *key = mlr_stack_key(d, s);
  fprintf(out, "       \"partialFingerprints\": {\"memledgerStack/v1\": \"%016llx\"},\n",
          (unsigned long long)mlr_hash_str(key));
  free(key);
  if (s->nframes) {
    fputs("       \"stacks\": [{\"message\": {\"text\": \"allocating stack\"}, \"frames\": [", out);
    for (size_t i = 0; i < s->nframes; i++) {
      fputs(i ? ",\n         {\"location\": " : "\n         {\"location\": ", out);
      location(out, d, &s->frames[i]);
      fputs("}", out);
    }
    fputs("]}],\n       \"codeFlows\": [{\"threadFlows\": [{\"locations\": [", out);
    for (size_t i = s->nframes; i-- > 0;) {
      fputs(i + 1 < s->nframes ? ",\n         {\"location\": " : "\n         {\"location\": ", out);
      /* the frame again, outermost first: the calls that led to the allocation */
      location(out, d, &s->frames[i]);
      fputs(", \"nestingLevel\": ", out);
      fprintf(out, "%zu, \"executionOrder\": %zu, \"kinds\": [\"call\"], \"properties\": {\"frame\": ",
              s->nframes - 1 - i, s->nframes - i);
      frame_text(out, d, &s->frames[i], i);
      fputs("}}", out);
    }
    fputs("]}]}],\n", out);
  }
  fprintf(out,
          "       \"properties\": {\"stackId\": %u, \"blocks\": %llu, \"bytes\": %llu, "
          "\"usable\": %llu, \"minSize\": %llu, \"maxSize\": %llu, \"oldestSeq\": %llu, "
          "\"mergedStacks\": %u, \"stack\": [",
          s->id, (unsigned long long)s->blocks, (unsigned long long)s->bytes,
          (unsigned long long)s->usable, (unsigned long long)s->min_size,
          (unsigned long long)s->max_size, (unsigned long long)s->oldest_seq,
          (unsigned)s->merged);
  for (size_t i = 0; i < s->nframes; i++) {
    if (i) fputs(", ", out);
    frame_text(out, d, &s->frames[i], i);
  }
  fputs("]}}", out);
}

static void kv_prop(FILE *out, const mlr_dump_t *d, const char *key) {
  fprintf(out, ", \"%s\": ", key);
  mlr_json_str(out, mlr_kv_get(d->header, d->nheader, key));
}

int mlr_format_sarif(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o,
                     mlr_err_t *err) {
  (void)o;
  const mlr_dump_t *d = r->dump;
  size_t n = r->top && r->top < r->nshown ? r->top : r->nshown;
  fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
        "  \"version\": \"2.1.0\",\n  \"runs\": [{\n", out);
  fputs("    \"tool\": {\"driver\": {\"name\": \"memledger\", \"version\": ", out);
  mlr_json_str(out, MLR_VERSION);
  fputs(",\n      \"rules\": [{\"id\": \"" RULE_ID "\", \"name\": \"UnfreedMemory\",\n"
        "        \"shortDescription\": {\"text\": \"Memory still allocated when the dump was "
        "taken\"},\n"
        "        \"fullDescription\": {\"text\": \"Blocks of at least the tracking threshold that "
        "were allocated from this stack and not freed when the dump was taken (at exit: "
        "leaked), after suppressions.\"},\n"
        "        \"defaultConfiguration\": {\"level\": \"warning\"},\n"
        "        \"properties\": {\"tags\": [\"memory\", \"leak\"]}}]}},\n",
        out);
  fputs("    \"properties\": {\"dump\": ", out);
  mlr_json_str(out, d->path);
  kv_prop(out, d, "exe");
  kv_prop(out, d, "pid");
  kv_prop(out, d, "time");
  kv_prop(out, d, "trigger");
  kv_prop(out, d, "threshold");
  fprintf(out,
          ",\n      \"unfreed\": {\"blocks\": %llu, \"bytes\": %llu, \"stacks\": %zu}"
          ",\n      \"suppressed\": {\"blocks\": %llu, \"bytes\": %llu, \"stacks\": %zu}"
          ",\n      \"remaining\": {\"blocks\": %llu, \"bytes\": %llu, \"stacks\": %zu}},\n",
          (unsigned long long)d->unfreed_blocks, (unsigned long long)d->unfreed_bytes,
          d->nstacks, (unsigned long long)r->suppressed_blocks,
          (unsigned long long)r->suppressed_bytes, r->nsuppressed,
          (unsigned long long)r->shown_blocks, (unsigned long long)r->shown_bytes, r->nshown);
  fputs("    \"results\": [", out);
  for (size_t i = 0; i < n; i++) {
    if (i) fputc(',', out);
    result(out, d, r->shown[i]);
  }
  fputs(n ? "\n    ]\n  }]\n}\n" : "]\n  }]\n}\n", out);
  return mlr_io_result(out, err);
}

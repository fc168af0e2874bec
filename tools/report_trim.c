/* SPDX-License-Identifier: MIT */
/*
 * report_trim.c - --alloc-fn and --hide: frames removed from symbolized
 * stacks before they are reported, and stacks that became identical merged.
 * --alloc-fn REGEX drops every frame from the innermost down to and
 * including the last frame whose function matches (allocator wrappers such
 * as zmalloc, operator new or _PyObject_Malloc: their caller becomes frame
 * #0); --hide REGEX drops the matching frames wherever they are.  Also the
 * identity of a stack (mlr_stack_key), which the merge and the diff share.
 * Runs outside the target process; changes the dump in place.
 */
#include "report_priv.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct mlr_trim_s {
  regex_t *alloc, *hide;
  size_t nalloc, nhide;
};

/* ---- the identity of a stack ------------------------------------------------------ */

char *mlr_stack_key(const mlr_dump_t *d, const mlr_stack_t *s) {
  size_t cap = 256, len = 0;
  char *k = mlr_xmalloc(cap);
  k[0] = 0;
  if (s->id == 0) {
    snprintf(k, cap, "#overflow");
    return k;
  }
  for (size_t i = 0; i < s->nframes; i++) {
    const mlr_frame_t *f = &s->frames[i];
    char one[4096];
    int n;
    if (f->function)
      n = snprintf(one, sizeof one, "%s\x1f%s\x1f%u%s\x1e", f->function,
                   f->file ? f->file : "", f->line, f->inlined ? "i" : "");
    else
      n = snprintf(one, sizeof one, "%s+%llx\x1e", mlr_module_name(d, f->module),
                   (unsigned long long)(f->module >= 0 ? f->offset : f->addr));
    if (n < 0) continue;
    if ((size_t)n >= sizeof one) n = sizeof one - 1;
    if (len + (size_t)n + 1 > cap) k = mlr_xrealloc(k, cap = (len + (size_t)n + 1) * 2);
    memcpy(k + len, one, (size_t)n + 1);
    len += (size_t)n;
  }
  return k;
}

/* ---- compiling ------------------------------------------------------------------- */

void mlr_trim_free(mlr_trim_t *t) {
  if (!t) return;
  for (size_t i = 0; i < t->nalloc; i++)
    regfree(&t->alloc[i]);
  for (size_t i = 0; i < t->nhide; i++)
    regfree(&t->hide[i]);
  free(t->alloc);
  free(t->hide);
  free(t);
}

int mlr_trim_new(mlr_trim_t **out, const mlr_report_opts_t *o, mlr_err_t *err) {
  *out = NULL;
  if (!o || (!o->nalloc_fn && !o->nhide)) return 0;
  mlr_trim_t *t = mlr_xcalloc(1, sizeof *t);
  t->alloc = mlr_xcalloc(o->nalloc_fn + 1, sizeof *t->alloc);
  t->hide = mlr_xcalloc(o->nhide + 1, sizeof *t->hide);
  for (; t->nalloc < o->nalloc_fn; t->nalloc++)
    if (mlr_regcomp(&t->alloc[t->nalloc], o->alloc_fn[t->nalloc], "alloc-fn", err)) {
      mlr_trim_free(t);
      return -1;
    }
  for (; t->nhide < o->nhide; t->nhide++)
    if (mlr_regcomp(&t->hide[t->nhide], o->hide[t->nhide], "hide", err)) {
      mlr_trim_free(t);
      return -1;
    }
  *out = t;
  return 0;
}

/* ---- trimming one stack ------------------------------------------------------------ */

static bool any_match(const regex_t *re, size_t n, const char *function) {
  if (!function) return false;
  for (size_t i = 0; i < n; i++)
    if (regexec(&re[i], function, 0, NULL, 0) == 0) return true;
  return false;
}

/* Drop the frames of s that t removes; a raw address stays when one of its
 * frames stays (an inlined call hidden, its caller kept) or when it has no
 * frames and lies below the --alloc-fn cut.  Returns whether s changed. */
static bool trim_stack(const mlr_trim_t *t, mlr_dump_t *d, mlr_stack_t *s) {
  if (s->id == 0 || s->nframes == 0) return false;
  size_t cut = 0; // frames [0, cut) go
  for (size_t i = 0; i < s->nframes; i++)
    if (any_match(t->alloc, t->nalloc, s->frames[i].function)) cut = i + 1;
  bool *keep = mlr_xcalloc(s->nframes, sizeof *keep);
  size_t nkeep = 0;
  for (size_t i = 0; i < s->nframes; i++) {
    keep[i] = i >= cut && !any_match(t->hide, t->nhide, s->frames[i].function);
    nkeep += keep[i];
  }
  if (nkeep == s->nframes) {
    free(keep);
    return false;
  }
  /* The raw addresses, walked in step with their frames. */
  uint64_t *raw = s->nraw ? mlr_pool_alloc(d, s->nraw * sizeof *raw) : NULL;
  size_t nraw = 0, pos = 0;
  for (size_t k = 0; k < s->nraw; k++) {
    const mlr_frame_t *first = NULL;
    size_t n = mlr_frames_at(s, k, &pos, &first);
    bool stays = n == 0 && pos >= cut;
    for (size_t j = 0; j < n; j++)
      stays = stays || keep[(size_t)(first - s->frames) + j];
    if (stays) raw[nraw++] = s->raw[k];
  }
  if (pos == s->nframes) { // else the frames do not line up: raw stays as read
    s->raw = raw;
    s->nraw = nraw;
  }
  size_t w = 0;
  for (size_t i = 0; i < s->nframes; i++)
    if (keep[i]) s->frames[w++] = s->frames[i];
  s->hidden += s->nframes - w;
  s->nframes = w;
  free(keep);
  return true;
}

/* ---- merging ----------------------------------------------------------------------- */

typedef struct seen_s {
  char *key;
  mlr_stack_t *first;
  UT_hash_handle hh;
} seen_t;

static void merge_into(mlr_stack_t *dst, const mlr_stack_t *src) {
  dst->blocks += src->blocks;
  dst->bytes += src->bytes;
  dst->usable += src->usable;
  if (src->min_size < dst->min_size) dst->min_size = src->min_size;
  if (src->max_size > dst->max_size) dst->max_size = src->max_size;
  if (src->oldest_seq < dst->oldest_seq) dst->oldest_seq = src->oldest_seq;
  dst->newer_blocks += src->newer_blocks;
  dst->newer_bytes += src->newer_bytes;
  dst->merged += 1 + src->merged;
}

void mlr_trim_apply(const mlr_trim_t *t, mlr_dump_t *d) {
  if (!t) return;
  bool changed = false;
  for (size_t i = 0; i < d->nstacks; i++)
    changed |= trim_stack(t, d, &d->stacks[i]);
  /* The creation stacks of descriptors, threads and mappings: trimmed, not
   * merged (their groups stay one per stack id and kind). */
  for (size_t i = 0; i < d->nres; i++)
    trim_stack(t, d, &d->res[i].stack);
  if (!changed) return;
  seen_t *map = NULL;
  size_t w = 0;
  for (size_t i = 0; i < d->nstacks; i++) {
    mlr_stack_t *s = &d->stacks[i];
    char *frames = mlr_stack_key(d, s), *key;
    /* A stack is listed once per leak kind: kinds never merge. */
    if (asprintf(&key, "%s\x1d%s\x1d%d", frames, s->suppressed_by ? s->suppressed_by : "",
                 (int)s->kind) < 0)
      mlr_oom();
    free(frames);
    seen_t *e;
    HASH_FIND_STR(map, key, e);
    if (e && s->id != 0) {
      merge_into(e->first, s);
      free(s->frames);
      free(key);
      continue;
    }
    /* Earlier stacks only move down: pointers to them stay valid once
     * they have been moved, so the map records the destination. */
    d->stacks[w] = *s;
    e = mlr_xcalloc(1, sizeof *e);
    e->key = key;
    e->first = &d->stacks[w++];
    HASH_ADD_KEYPTR(hh, map, e->key, strlen(e->key), e);
  }
  d->nstacks = w;
  seen_t *e, *tmp;
  HASH_ITER(hh, map, e, tmp) {
    HASH_DEL(map, e);
    free(e->key);
    free(e);
  }
}

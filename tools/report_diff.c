/* SPDX-License-Identifier: MIT */
/*
 * report_diff.c - the diff of two reports (memledger diff OLD NEW): stacks
 * are matched by their symbolized frames (mlr_stack_key: function, file,
 * line; module + offset when unknown), not by id, since ids and addresses differ between
 * dumps and runs; descriptor, thread and mapping groups likewise, per
 * section and kind.  Output is in report_text.c and report_json.c.
 * Runs outside the target process.
 */
#include "report_priv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

/* ---- the diff
 * ------------------------------------------------------------------------------ */

typedef struct dkey_s {
  char *key;
  mlr_delta_t *delta;   // heap stacks
  mlr_rdelta_t *rdelta; // descriptors, threads, mappings
  UT_hash_handle hh;
} dkey_t;

/* The entry of key (taken: freed when the entry exists), added empty when
 * new. */
static dkey_t *dkey_get(dkey_t **map, char *key) {
  dkey_t *e;
  HASH_FIND_STR(*map, key, e);
  if (e) {
    free(key);
    return e;
  }
  e = mlr_xcalloc(1, sizeof *e);
  e->key = key;
  HASH_ADD_KEYPTR(hh, *map, e->key, strlen(e->key), e);
  return e;
}

static void dkey_free(dkey_t **map) {
  dkey_t *e, *tmp;
  HASH_ITER(hh, *map, e, tmp) {
    HASH_DEL(*map, e);
    free(e->key);
    free(e);
  }
}

static mlr_sort_t d_sort;
static int64_t dkey1(const mlr_delta_t *x) {
  return d_sort == MLR_SORT_COUNT ? x->dblocks : x->dbytes;
}
static int64_t dkey2(const mlr_delta_t *x) {
  return d_sort == MLR_SORT_COUNT ? x->dbytes : x->dblocks;
}
static uint32_t did(const mlr_delta_t *x) {
  return x->new_stack ? x->new_stack->id : x->old_stack ? x->old_stack->id : 0;
}
static int cmp_delta(const void *a, const void *b) {
  const mlr_delta_t *x = a, *y = b;
  bool zx = !x->dblocks && !x->dbytes, zy = !y->dblocks && !y->dbytes;
  if (zx != zy) return zx ? 1 : -1;
  if (dkey1(x) != dkey1(y)) return dkey1(x) > dkey1(y) ? -1 : 1;
  if (dkey2(x) != dkey2(y)) return dkey2(x) > dkey2(y) ? -1 : 1;
  bool nx = x->new_stack != NULL, ny = y->new_stack != NULL;
  if (nx != ny) return nx ? -1 : 1;
  return did(x) < did(y) ? -1 : did(x) > did(y);
}

bool mlr_dump_time(const mlr_dump_t *d, double *secs) {
  const char *ns = mlr_kv_get(d->header, d->nheader, "unix_time_ns");
  if (ns && *ns && strspn(ns, "0123456789") == strlen(ns) && strlen(ns) <= 19) {
    *secs = (double)strtoull(ns, NULL, 10) / 1e9;
    return true;
  }
  /* "2026-01-02T03:04:05.678Z" (older dumps, hand-written ones) */
  const char *t = mlr_kv_get(d->header, d->nheader, "time");
  struct tm tm = {0};
  const char *rest = t ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
  if (!rest) return false;
  double frac = 0;
  if (*rest == '.') {
    char *end;
    frac = strtod(rest, &end);
    rest = end;
  }
  if (strcmp(rest, "Z") != 0 && *rest) return false;
  *secs = (double)timegm(&tm) + frac;
  return true;
}

/* ---- descriptors, threads, mappings ------------------------------------------------ */

static int cmp_rdelta(const void *a, const void *b) {
  const mlr_rdelta_t *x = a, *y = b;
  if (x->res != y->res) return x->res < y->res ? -1 : 1;
  bool zx = !x->dcount && !x->dbytes, zy = !y->dcount && !y->dbytes;
  if (zx != zy) return zx ? 1 : -1;
  bool by = x->res == MLR_RES_MAPPINGS;
  int64_t k1x = by ? x->dbytes : x->dcount, k1y = by ? y->dbytes : y->dcount;
  int64_t k2x = by ? x->dcount : x->dbytes, k2y = by ? y->dcount : y->dbytes;
  if (k1x != k1y) return k1x > k1y ? -1 : 1;
  if (k2x != k2y) return k2x > k2y ? -1 : 1;
  int c = strcmp(x->kind, y->kind);
  if (c) return c;
  const mlr_resgroup_t *gx = x->new_g ? x->new_g : x->old_g;
  const mlr_resgroup_t *gy = y->new_g ? y->new_g : y->old_g;
  return gx->stack.id < gy->stack.id ? -1 : gx->stack.id > gy->stack.id;
}

/* The identity of a group across dumps: section, kind and creation stack. */
static char *rkey(const mlr_dump_t *d, const mlr_resgroup_t *g) {
  char *frames = g->seen ? mlr_stack_key(d, &g->stack) : mlr_xstrdup("#unseen"), *k;
  if (asprintf(&k, "%d\x1d%s\x1d%s", (int)g->res, g->kind, frames) < 0) mlr_oom();
  free(frames);
  return k;
}

static void diff_res(mlr_diff_t *df, const mlr_report_t *old_r, const mlr_report_t *new_r) {
  df->has_res = old_r->dump->has_res || new_r->dump->has_res;
  size_t total = 1;
  for (int k = 0; k < MLR_RES_COUNT; k++)
    total += old_r->nres[k] + new_r->nres[k];
  df->rdeltas = mlr_xcalloc(total, sizeof *df->rdeltas);
  dkey_t *map = NULL;
  for (int side = 0; side < 2; side++) {
    const mlr_report_t *r = side ? new_r : old_r;
    for (int k = 0; k < MLR_RES_COUNT; k++) {
      for (size_t i = 0; i < r->nres[k]; i++) {
        mlr_resgroup_t *g = r->res[k][i];
        dkey_t *e = dkey_get(&map, rkey(r->dump, g));
        if (!e->rdelta) {
          e->rdelta = &df->rdeltas[df->nrdeltas++];
          e->rdelta->res = g->res;
          e->rdelta->kind = g->kind;
        }
        mlr_rdelta_t *x = e->rdelta;
        if (side) {
          if (!x->new_g) x->new_g = g;
          x->new_count += g->count;
          x->new_bytes += g->bytes;
          df->res_new_count[k] += g->count;
          df->res_new_bytes[k] += g->bytes;
        } else {
          if (!x->old_g) x->old_g = g;
          x->old_count += g->count;
          x->old_bytes += g->bytes;
          df->res_old_count[k] += g->count;
          df->res_old_bytes[k] += g->bytes;
        }
      }
    }
  }
  dkey_free(&map);
  for (size_t i = 0; i < df->nrdeltas; i++) {
    mlr_rdelta_t *x = &df->rdeltas[i];
    x->dcount = (int64_t)x->new_count - (int64_t)x->old_count;
    x->dbytes = (int64_t)x->new_bytes - (int64_t)x->old_bytes;
  }
  qsort(df->rdeltas, df->nrdeltas, sizeof *df->rdeltas, cmp_rdelta);
}

const char *mlr_rdelta_status(const mlr_rdelta_t *x) {
  if (!x->old_g) return "new";
  if (!x->new_g) return "gone";
  bool by = x->res == MLR_RES_MAPPINGS;
  int64_t k1 = by ? x->dbytes : x->dcount, k2 = by ? x->dcount : x->dbytes;
  if (k1 > 0 || (k1 == 0 && k2 > 0)) return "grew";
  if (k1 < 0 || k2 < 0) return "shrank";
  return "unchanged";
}

int mlr_diff_build(mlr_diff_t *df, mlr_report_t *old_r, mlr_report_t *new_r,
                   mlr_sort_t sort) {
  memset(df, 0, sizeof *df);
  df->old_dump = old_r->dump;
  df->new_dump = new_r->dump;
  df->deltas = mlr_xcalloc(old_r->nshown + new_r->nshown + 1, sizeof *df->deltas);
  dkey_t *map = NULL;
  for (size_t i = 0; i < old_r->nshown; i++) {
    mlr_stack_t *s = old_r->shown[i];
    char *k = mlr_stack_key(old_r->dump, s);
    dkey_t *e;
    HASH_FIND_STR(map, k, e);
    if (e) { /* two ids, one symbolized stack: merged */
      e->delta->old_blocks += s->blocks;
      e->delta->old_bytes += s->bytes;
      e->delta->dblocks -= (int64_t)s->blocks;
      e->delta->dbytes -= (int64_t)s->bytes;
      free(k);
      continue;
    }
    e = mlr_xcalloc(1, sizeof *e);
    e->key = k;
    e->delta = &df->deltas[df->ndeltas++];
    e->delta->old_stack = s;
    e->delta->old_blocks = s->blocks;
    e->delta->old_bytes = s->bytes;
    e->delta->dblocks = -(int64_t)s->blocks;
    e->delta->dbytes = -(int64_t)s->bytes;
    HASH_ADD_KEYPTR(hh, map, e->key, strlen(e->key), e);
  }
  for (size_t i = 0; i < new_r->nshown; i++) {
    mlr_stack_t *s = new_r->shown[i];
    dkey_t *e = dkey_get(&map, mlr_stack_key(new_r->dump, s));
    if (!e->delta) e->delta = &df->deltas[df->ndeltas++];
    if (!e->delta->new_stack) e->delta->new_stack = s;
    e->delta->new_blocks += s->blocks;
    e->delta->new_bytes += s->bytes;
    e->delta->dblocks += (int64_t)s->blocks;
    e->delta->dbytes += (int64_t)s->bytes;
  }
  dkey_free(&map);
  for (size_t i = 0; i < df->ndeltas; i++) {
    df->dblocks += df->deltas[i].dblocks;
    df->dbytes += df->deltas[i].dbytes;
  }
  double t0, t1;
  if (mlr_dump_time(df->old_dump, &t0) && mlr_dump_time(df->new_dump, &t1)) {
    df->have_interval = true;
    df->interval = t1 - t0;
    if (df->interval > 0) {
      df->have_rate = true;
      df->bytes_per_min = (double)df->dbytes * 60 / df->interval;
      df->blocks_per_min = (double)df->dblocks * 60 / df->interval;
    }
  }
  d_sort = sort;
  qsort(df->deltas, df->ndeltas, sizeof *df->deltas, cmp_delta);
  diff_res(df, old_r, new_r);
  return 0;
}

void mlr_diff_free(mlr_diff_t *df) {
  free(df->deltas);
  free(df->rdeltas);
  memset(df, 0, sizeof *df);
}

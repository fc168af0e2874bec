/* SPDX-License-Identifier: MIT */
/*
 * report_trend.c - memledger trend DUMP...: which stacks grow steadily over
 * a series of dumps (MEMLEDGER_INTERVAL, MEMLEDGER_DUMP_AT, or dumps taken
 * by signal).  Each dump is read, symbolized and reported (filters and
 * suppressions) in turn; stacks are matched across dumps by their
 * symbolized frames (mlr_stack_key, as the diff does), and each stack's
 * amount (0 in a dump it is absent from) is fitted against the dumps'
 * times by least squares: slope in bytes (or blocks) per minute and R².
 * Descriptor, thread and mapping groups (per creation stack and kind) are
 * series of the same kind, built and fitted by the same code.
 * A dump is kept in memory only while a stack's frames point into it, and
 * a stack symbolized in one dump is not symbolized again in the next
 * (the symbol cache below: a series of 60 small dumps of one process took
 * 4.6 s symbolizing each one whole).
 * Text and JSON output (schema: doc/report-json.md).  Runs outside the
 * target process.
 */
#include "report_priv.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* ---- the series ----------------------------------------------------------------- */

/* "memledger.<pid>.<n>.dump" or the same with ".gz". */
static bool is_dump_name(const char *n) {
  size_t len = strlen(n);
  if (strncmp(n, "memledger.", 10) != 0) return false;
  if (len > 8 && !strcmp(n + len - 8, ".dump.gz")) return true;
  return len > 5 && !strcmp(n + len - 5, ".dump");
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append path, or the dumps of directory path, to *v. */
static int add_path(const char *path, char ***v, size_t *n, size_t *cap, mlr_err_t *err) {
  DIR *dir = opendir(path);
  size_t start = *n;
  if (!dir) {
    if (*n == *cap) *v = mlr_xrealloc(*v, (*cap = *cap * 2 + 8) * sizeof **v);
    (*v)[(*n)++] = mlr_xstrdup(path);
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (!is_dump_name(e->d_name)) continue;
    if (*n == *cap) *v = mlr_xrealloc(*v, (*cap = *cap * 2 + 8) * sizeof **v);
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    char *p = mlr_xmalloc(len);
    snprintf(p, len, "%s/%s", path, e->d_name);
    (*v)[(*n)++] = p;
  }
  closedir(dir);
  if (*n == start) return mlr_fail(err, "%s: no memledger.*.dump files in this directory", path);
  qsort(*v + start, *n - start, sizeof **v, cmp_str);
  return 0;
}

/* The header fields that order the series, read without reading the whole
 * dump (the reader stops after [header]); the full read validates later. */
static int scan_header(mlr_trend_dump_t *td, mlr_err_t *err) {
  mlr_dump_t d;
  if (mlr_dump_read_header(td->path, &d, err)) return -1;
  const char *v;
  if ((v = mlr_kv_get(d.header, d.nheader, "pid"))) td->pid = strtol(v, NULL, 10);
  if ((v = mlr_kv_get(d.header, d.nheader, "sequence"))) td->seq = strtoul(v, NULL, 10);
  if ((v = mlr_kv_get(d.header, d.nheader, "unix_time_ns")))
    td->time_ns = strtoull(v, NULL, 10);
  mlr_dump_free(&d);
  return 0;
}

static int cmp_dump(const void *a, const void *b) {
  const mlr_trend_dump_t *x = a, *y = b;
  if (x->time_ns != y->time_ns) return x->time_ns < y->time_ns ? -1 : 1;
  if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
  if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
  return strcmp(x->path, y->path);
}

/* ---- symbols across the series --------------------------------------------------- */
/* Dumps of one process share their module map and most of their stacks: a
 * stack whose return addresses (and dlclose epoch) were symbolized under the
 * same module map takes the same frames again, and only the others are
 * symbolized (mlr_symbolize over a view of the dump that holds just them).
 * Frame strings are copied into the cache's own table: they outlive the
 * dumps.  Module indexes stay valid: the map is the same, in the same order. */
typedef struct symentry_s {
  char *key;             // module map fingerprint, epoch, raw addresses
  size_t nframes;
  mlr_frame_t *frames;   // strings in the cache's table
  UT_hash_handle hh;
} symentry_t;

struct mlr_symcache_s {
  symentry_t *map;
  mlr_strtab_t strs;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  for (const unsigned char *c = p; n--; c++) h = (h ^ *c) * 0x100000001b3ULL;
  return h;
}

static uint64_t modules_fingerprint(const mlr_dump_t *d) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < d->nmodules; i++) {
    const mlr_module_t *m = &d->modules[i];
    uint64_t v[4] = {m->lo, m->hi, m->base, m->unloaded_epoch};
    h = fnv(h, v, sizeof v);
    h = fnv(h, m->path, strlen(m->path) + 1);
    if (m->build_id) h = fnv(h, m->build_id, strlen(m->build_id) + 1);
  }
  return h;
}

static char *sym_key(uint64_t fp, const mlr_stack_t *st, size_t *len) {
  *len = sizeof fp + sizeof st->epoch + st->nraw * sizeof *st->raw;
  char *k = mlr_xmalloc(*len);
  memcpy(k, &fp, sizeof fp);
  memcpy(k + sizeof fp, &st->epoch, sizeof st->epoch);
  if (st->nraw) memcpy(k + sizeof fp + sizeof st->epoch, st->raw, st->nraw * sizeof *st->raw);
  return k;
}

static const char *sym_str(mlr_symcache_t *c, const char *s) {
  if (!s) return NULL;
  long i = mlr_strtab_add(&c->strs, s);
  if (i < 0) mlr_oom();
  return c->strs.strs[i];
}

static mlr_frame_t *frames_dup(const mlr_frame_t *f, size_t n) {
  mlr_frame_t *copy = mlr_xmalloc((n ? n : 1) * sizeof *copy);
  if (n) memcpy(copy, f, n * sizeof *copy);
  return copy;
}

/* mlr_symbolize(d), reusing what earlier dumps of the series resolved. */
static void symbolize_cached(mlr_trend_t *t, mlr_dump_t *d, const mlr_symbolize_opts_t *so,
                             mlr_err_t *err) {
  mlr_symcache_t *c = t->symcache;
  uint64_t fp = modules_fingerprint(d);
  mlr_stack_t *todo = mlr_xmalloc((d->nstacks + 1) * sizeof *todo);
  size_t *where = mlr_xmalloc((d->nstacks + 1) * sizeof *where);
  char **keys = mlr_xmalloc((d->nstacks + 1) * sizeof *keys);
  size_t *klens = mlr_xmalloc((d->nstacks + 1) * sizeof *klens);
  size_t n = 0;
  for (size_t i = 0; i < d->nstacks; i++) {
    mlr_stack_t *st = &d->stacks[i];
    size_t klen;
    char *k = sym_key(fp, st, &klen);
    symentry_t *e;
    HASH_FIND(hh, c->map, k, klen, e);
    if (e) {
      free(st->frames);
      st->frames = frames_dup(e->frames, e->nframes);
      st->nframes = e->nframes;
      free(k);
      continue;
    }
    todo[n] = *st;
    where[n] = i;
    keys[n] = k;
    klens[n++] = klen;
  }
  if (n || d->nres) { /* resource groups' stacks: not cached, symbolized each time */
    mlr_stack_t *all = d->stacks;
    size_t nall = d->nstacks;
    d->stacks = todo;
    d->nstacks = n;
    mlr_symbolize(d, so, err); /* never fails on a module problem */
    d->stacks = all;
    d->nstacks = nall;
  }
  for (size_t j = 0; j < n; j++) {
    mlr_stack_t *st = &d->stacks[where[j]];
    st->frames = todo[j].frames;
    st->nframes = todo[j].nframes;
    symentry_t *e = mlr_xcalloc(1, sizeof *e);
    e->key = keys[j];
    e->nframes = st->nframes;
    e->frames = frames_dup(st->frames, st->nframes);
    for (size_t f = 0; f < e->nframes; f++) {
      e->frames[f].function = sym_str(c, e->frames[f].function);
      e->frames[f].file = sym_str(c, e->frames[f].file);
      e->frames[f].note = sym_str(c, e->frames[f].note);
    }
    HASH_ADD_KEYPTR(hh, c->map, e->key, klens[j], e);
  }
  free(todo);
  free(where);
  free(keys);
  free(klens);
}

static void symcache_free(mlr_symcache_t *c) {
  if (!c) return;
  symentry_t *e, *tmp;
  HASH_ITER(hh, c->map, e, tmp) {
    HASH_DEL(c->map, e);
    free(e->key);
    free(e->frames);
    free(e);
  }
  mlr_strtab_free(&c->strs);
  free(c);
}

/* ---- stacks across the series ---------------------------------------------------- */

typedef struct tkey_s {
  char *key;
  size_t index; // into the stacks array
  UT_hash_handle hh;
} tkey_t;

/* A set of series matched across the dumps: the heap's stacks, or one
 * resource section's (creation stack, kind) groups. */
typedef struct tset_s {
  mlr_trend_stack_t *v;
  size_t n, cap;
  tkey_t *map;
} tset_t;

typedef struct tbuild_s {
  mlr_trend_t *t;
  size_t *refs;   // per dump: series whose frames point into it
  tset_t heap, res[MLR_RES_COUNT];
} tbuild_t;

static void release(tbuild_t *b, size_t dump, size_t current) {
  if (--b->refs[dump] == 0 && dump != current && b->t->loaded[dump]) {
    mlr_dump_free(b->t->loaded[dump]);
    free(b->t->loaded[dump]);
    b->t->loaded[dump] = NULL;
  }
}

/* Add a point to the series of key k (taken) in set: stack s of dump i
 * with its amount (one of its report's shown stacks, or a resource group g). */
static void add_point(tbuild_t *b, tset_t *set, char *k, size_t i, mlr_dump_t *d,
                      mlr_stack_t *s, const mlr_resgroup_t *g, uint64_t blocks,
                      uint64_t bytes) {
  tkey_t *e;
  HASH_FIND_STR(set->map, k, e);
  if (!e) {
    if (set->n == set->cap)
      set->v = mlr_xrealloc(set->v, (set->cap = set->cap * 2 + 64) * sizeof *set->v);
    e = mlr_xcalloc(1, sizeof *e);
    e->key = k;
    e->index = set->n++;
    memset(&set->v[e->index], 0, sizeof set->v[e->index]);
    HASH_ADD_KEYPTR(hh, set->map, e->key, strlen(e->key), e);
  } else {
    free(k);
  }
  mlr_trend_stack_t *ts = &set->v[e->index];
  mlr_trend_point_t *last = ts->npoints ? &ts->points[ts->npoints - 1] : NULL;
  if (!last || last->dump != i) { /* a new point; two ids of one dump merge */
    ts->points = mlr_xrealloc(ts->points, (ts->npoints + 1) * sizeof *ts->points);
    last = &ts->points[ts->npoints++];
    *last = (mlr_trend_point_t){.dump = (uint32_t)i};
  }
  last->blocks += blocks;
  last->bytes += bytes;
  if (ts->dump != d) { /* the frames of its latest dump */
    size_t was = ts->npoints > 1 ? ts->points[ts->npoints - 2].dump : SIZE_MAX;
    ts->dump = d;
    b->refs[i]++;
    if (was != SIZE_MAX) release(b, was, i);
  }
  ts->stack = s;
  ts->group = g;
}

static void tset_free_map(tset_t *set) {
  tkey_t *e, *tmp;
  HASH_ITER(hh, set->map, e, tmp) {
    HASH_DEL(set->map, e);
    free(e->key);
    free(e);
  }
}

/* Fit every series of v: slopes of both amounts, r2 of the one ranked by
 * (blocks when count), then rank them, steepest first. */
static void fit_all(const mlr_trend_t *t, mlr_trend_stack_t *v, size_t n, bool count);

/* The identity of a resource group across dumps: kind and creation stack
 * (the section is the set's). */
static char *res_key(const mlr_dump_t *d, const mlr_resgroup_t *g) {
  char *frames = g->seen ? mlr_stack_key(d, &g->stack) : mlr_xstrdup("#unseen"), *k;
  if (asprintf(&k, "%s\x1d%s", g->kind, frames) < 0) mlr_oom();
  free(frames);
  return k;
}

/* A [resources] value's leading number ("4000 kB", "total 9 file ..."
 * after the prefix); false when there is none. */
static bool res_number(const mlr_dump_t *d, const char *key, const char *prefix,
                       uint64_t *v) {
  const char *s = mlr_kv_get(d->resources, d->nresources, key);
  size_t pl = strlen(prefix);
  if (!s || strncmp(s, prefix, pl) != 0) return false;
  s += pl;
  if (*s < '0' || *s > '9') return false;
  char *end;
  *v = strtoull(s, &end, 10);
  return *end == 0 || *end == ' ';
}

/* Least squares of y against the dumps' minutes, y given at some dumps and
 * 0 at the others; centered sums (no cancellation for large constant y). */
typedef struct fit_s {
  double slope, r2;
} fit_t;

static fit_t fit(const mlr_trend_t *t, const mlr_trend_point_t *p, size_t np, bool blocks,
                 const double *ys_all) {
  size_t n = t->ndumps;
  double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; i++) mx += t->dumps[i].minutes;
  mx /= (double)n;
  for (size_t i = 0; i < n; i++) sxx += (t->dumps[i].minutes - mx) * (t->dumps[i].minutes - mx);
  if (ys_all) { /* every dump has a value */
    for (size_t i = 0; i < n; i++) my += ys_all[i];
    my /= (double)n;
    for (size_t i = 0; i < n; i++) {
      sxy += (t->dumps[i].minutes - mx) * ys_all[i];
      syy += (ys_all[i] - my) * (ys_all[i] - my);
    }
  } else {
    for (size_t j = 0; j < np; j++) my += (double)(blocks ? p[j].blocks : p[j].bytes);
    my /= (double)n;
    for (size_t j = 0; j < np; j++) {
      double y = (double)(blocks ? p[j].blocks : p[j].bytes);
      sxy += (t->dumps[p[j].dump].minutes - mx) * y;
      syy += (y - my) * (y - my);
    }
    syy += (double)(n - np) * my * my; /* the dumps it is absent from: y = 0 */
  }
  fit_t f = {0, 0};
  /* An amount that never changes has slope 0, not the rounding error of
   * c * sum(x - mean x). */
  if (syy <= 1e-12 * (my * my * (double)n + 1)) return f;
  if (sxx > 0) f.slope = sxy / sxx;
  if (sxx > 0) f.r2 = sxy * sxy / (sxx * syy);
  if (f.r2 > 1) f.r2 = 1;
  return f;
}

static mlr_sort_t g_tsort;
static int cmp_tstack(const void *a, const void *b) {
  const mlr_trend_stack_t *x = a, *y = b;
  double sx = g_tsort == MLR_SORT_COUNT ? x->slope_blocks : x->slope_bytes;
  double sy = g_tsort == MLR_SORT_COUNT ? y->slope_blocks : y->slope_bytes;
  if (sx != sy) return sx > sy ? -1 : 1;
  const mlr_trend_point_t *lx = &x->points[x->npoints - 1], *ly = &y->points[y->npoints - 1];
  if (lx->bytes != ly->bytes) return lx->bytes > ly->bytes ? -1 : 1;
  return x->stack->id < y->stack->id ? -1 : x->stack->id > y->stack->id;
}

static void fit_all(const mlr_trend_t *t, mlr_trend_stack_t *v, size_t n, bool count) {
  for (size_t i = 0; i < n; i++) {
    mlr_trend_stack_t *s = &v[i];
    fit_t fb = fit(t, s->points, s->npoints, false, NULL);
    fit_t fc = fit(t, s->points, s->npoints, true, NULL);
    s->slope_bytes = fb.slope;
    s->slope_blocks = fc.slope;
    s->r2 = count ? fc.r2 : fb.r2;
  }
  g_tsort = count ? MLR_SORT_COUNT : MLR_SORT_BYTES;
  if (n) qsort(v, n, sizeof *v, cmp_tstack);
}

/* A copy of a header value, or NULL. */
static char *header_dup(const mlr_dump_t *d, const char *key) {
  const char *v = mlr_kv_get(d->header, d->nheader, key);
  return v ? mlr_xstrdup(v) : NULL;
}

int mlr_trend_build(mlr_trend_t *t, char *const *paths, size_t npaths,
                    const mlr_symbolize_opts_t *so, const mlr_report_opts_t *ro,
                    mlr_err_t *err) {
  memset(t, 0, sizeof *t);
  t->sort = ro->sort;
  t->top = ro->top;
  char **files = NULL;
  size_t nfiles = 0, cap = 0;
  for (size_t i = 0; i < npaths; i++)
    if (add_path(paths[i], &files, &nfiles, &cap, err)) goto fail_files;
  if (nfiles < 2) {
    mlr_fail(err, "trend needs two dumps or more (%zu given)", nfiles);
    goto fail_files;
  }
  t->ndumps = nfiles;
  t->dumps = mlr_xcalloc(nfiles, sizeof *t->dumps);
  for (size_t i = 0; i < nfiles; i++)
    t->dumps[i].path = files[i];
  free(files);
  files = NULL;
  for (size_t i = 0; i < nfiles; i++)
    if (scan_header(&t->dumps[i], err)) {
      mlr_trend_free(t);
      return -1;
    }
  qsort(t->dumps, t->ndumps, sizeof *t->dumps, cmp_dump);
  for (size_t i = 0; i < t->ndumps; i++)
    t->dumps[i].minutes = (double)(t->dumps[i].time_ns - t->dumps[0].time_ns) / 60e9;

  tbuild_t b = {.t = t, .refs = mlr_xcalloc(t->ndumps, sizeof(size_t))};
  t->symcache = mlr_xcalloc(1, sizeof *t->symcache);
  t->loaded = mlr_xcalloc(t->ndumps, sizeof *t->loaded);
  mlr_progress_t pr;
  mlr_progress_begin(&pr, "reading %zu dumps", t->ndumps);
  int rc = 0;
  for (size_t i = 0; i < t->ndumps && rc == 0; i++) {
    mlr_trend_dump_t *td = &t->dumps[i];
    mlr_dump_t *d = mlr_xcalloc(1, sizeof *d);
    if (mlr_dump_read(td->path, d, err)) {
      free(d);
      rc = -1;
      break;
    }
    t->loaded[i] = d;
    symbolize_cached(t, d, so, err);
    mlr_report_t rep;
    if (mlr_report_build(&rep, d, ro, err)) {
      rc = -1;
      break;
    }
    td->time = header_dup(d, "time");
    td->trigger = header_dup(d, "trigger");
    td->blocks = d->unfreed_blocks;
    td->bytes = d->unfreed_bytes;
    td->shown_blocks = rep.shown_blocks;
    td->shown_bytes = rep.shown_bytes;
    td->have_rss = res_number(d, "VmRSS", "", &td->rss_bytes);
    if (td->have_rss) td->rss_bytes *= 1024; // kB
    td->have_fds = res_number(d, "fds", "total ", &td->fds);
    td->have_threads = res_number(d, "threads", "", &td->threads);
    for (size_t j = 0; j < rep.nshown; j++) {
      mlr_stack_t *s = rep.shown[j];
      add_point(&b, &b.heap, mlr_stack_key(d, s), i, d, s, NULL, s->blocks, s->bytes);
    }
    t->has_res |= d->has_res;
    for (int k = 0; k < MLR_RES_COUNT; k++) {
      td->res_count[k] = rep.res_count[k];
      td->res_bytes[k] = rep.res_bytes[k];
      for (size_t j = 0; j < rep.nres[k]; j++) {
        mlr_resgroup_t *g = rep.res[k][j];
        add_point(&b, &b.res[k], res_key(d, g), i, d, &g->stack, g, g->count, g->bytes);
      }
    }
    mlr_report_free(&rep);
    if (b.refs[i] == 0) { /* nothing points into it */
      mlr_dump_free(d);
      free(d);
      t->loaded[i] = NULL;
    }
    mlr_progress_tick(&pr, i + 1, t->ndumps);
  }
  mlr_progress_end(&pr);
  t->stacks = b.heap.v;
  t->nstacks = b.heap.n;
  tset_free_map(&b.heap);
  for (int k = 0; k < MLR_RES_COUNT; k++) {
    t->res[k] = b.res[k].v;
    t->nres[k] = b.res[k].n;
    tset_free_map(&b.res[k]);
  }
  free(b.refs);
  if (rc) {
    mlr_trend_free(t);
    return -1;
  }
  fit_all(t, t->stacks, t->nstacks, t->sort == MLR_SORT_COUNT);
  for (int k = 0; k < MLR_RES_COUNT; k++)
    fit_all(t, t->res[k], t->nres[k], k != MLR_RES_MAPPINGS);
  double *ys = mlr_xcalloc(t->ndumps, sizeof *ys);
  for (size_t i = 0; i < t->ndumps; i++) ys[i] = (double)t->dumps[i].shown_bytes;
  fit_t ft = fit(t, NULL, 0, false, ys);
  free(ys);
  t->slope_bytes = ft.slope;
  t->r2 = ft.r2;
  return 0;

fail_files:
  for (size_t i = 0; i < nfiles; i++) free(files[i]);
  free(files);
  return -1;
}

void mlr_trend_free(mlr_trend_t *t) {
  for (size_t i = 0; i < t->nstacks; i++) free(t->stacks[i].points);
  free(t->stacks);
  for (int k = 0; k < MLR_RES_COUNT; k++) {
    for (size_t i = 0; i < t->nres[k]; i++) free(t->res[k][i].points);
    free(t->res[k]);
  }
  for (size_t i = 0; i < t->ndumps; i++) {
    if (t->loaded && t->loaded[i]) {
      mlr_dump_free(t->loaded[i]);
      free(t->loaded[i]);
    }
    free(t->dumps[i].path);
    free(t->dumps[i].time);
    free(t->dumps[i].trigger);
  }
  free(t->loaded);
  free(t->dumps);
  symcache_free(t->symcache); /* last: frames of kept dumps point into it */
  memset(t, 0, sizeof *t);
}

/* ---- output ------------------------------------------------------------------------ */

static size_t shown_count(const mlr_trend_t *t) {
  return t->top && t->top < t->nstacks ? t->top : t->nstacks;
}

/* +37.5 MiB, -512 B */
static const char *signed_human(char *buf, size_t len, double v) {
  buf[0] = v < 0 ? '-' : '+';
  mlr_human(buf + 1, len - 1, (uint64_t)(v < 0 ? -v : v));
  return buf;
}

static const char *when(const mlr_trend_t *t, size_t i) {
  return t->dumps[i].time ? mlr_safe(t->dumps[i].time) : "?";
}

static const char *const res_title[MLR_RES_COUNT] = {"Open descriptors", "Threads", "Mappings"};
static const char *const res_unit[MLR_RES_COUNT] = {"fds", "threads", "mappings"};

static size_t res_shown(const mlr_trend_t *t, mlr_res_t k) {
  return t->top && t->top < t->nres[k] ? t->top : t->nres[k];
}

/* One section's series, steepest first: the same lines as a heap stack's,
 * in records per minute (fds, threads) or bytes per minute (mappings). */
static void res_text(FILE *out, const mlr_trend_t *t, mlr_res_t k, const char *bold,
                     const char *plain) {
  const mlr_trend_dump_t *d0 = &t->dumps[0], *dn = &t->dumps[t->ndumps - 1];
  char hb[64];
  fprintf(out, "\n%s%s: %llu -> %llu, %zu (creation stack, kind) series, steepest first%s\n",
          bold, res_title[k], (unsigned long long)d0->res_count[k],
          (unsigned long long)dn->res_count[k], t->nres[k], plain);
  size_t n = res_shown(t, k);
  for (size_t i = 0; i < n; i++) {
    const mlr_trend_stack_t *s = &t->res[k][i];
    const mlr_trend_point_t *first = &s->points[0], *last = &s->points[s->npoints - 1];
    bool now = last->dump == t->ndumps - 1;
    fprintf(out, "\n%s#%zu %+.2f %s/min", bold, i + 1, s->slope_blocks, res_unit[k]);
    if (k != MLR_RES_FDS)
      fprintf(out, ", %s/min (%+.0f bytes/min)", signed_human(hb, sizeof hb, s->slope_bytes),
              s->slope_bytes);
    fprintf(out, " (r2 %.3f): %s", s->r2,
            mlr_safe(k == MLR_RES_THREADS && !strcmp(s->group->kind, "ended") ? "ended-not-joined"
                                                                             : s->group->kind));
    if (s->group->seen)
      fprintf(out, ", stack %u%s\n", s->stack->id, plain);
    else
      fprintf(out, ", creation not seen%s\n", plain);
    fprintf(out, "    %s %llu", now ? "now" : "at its last dump", (unsigned long long)last->blocks);
    if (k != MLR_RES_FDS)
      fprintf(out, ", %llu %s", (unsigned long long)last->bytes,
              mlr_plural(last->bytes, "byte", "bytes"));
    fprintf(out, "; in %zu of %zu dumps, first %s, last %s\n", s->npoints, t->ndumps,
            when(t, first->dump), when(t, last->dump));
    if (s->group->seen) mlr_text_frames(out, s->dump, s->stack, "    ");
  }
  if (n < t->nres[k]) fprintf(out, "\n... and %zu more series (--top)\n", t->nres[k] - n);
}

int mlr_format_trend_text(FILE *out, const mlr_trend_t *t, const mlr_format_opts_t *o,
                          mlr_err_t *err) {
  const char *bold = o && o->color ? "\033[1m" : "", *plain = o && o->color ? "\033[0m" : "";
  const mlr_trend_dump_t *d0 = &t->dumps[0], *dn = &t->dumps[t->ndumps - 1];
  size_t pids = 1;
  for (size_t i = 1; i < t->ndumps; i++)
    if (t->dumps[i].pid != d0->pid) pids++;
  fprintf(out, "%smemledger trend: %zu dumps over %.2f minutes%s\n", bold, t->ndumps,
          dn->minutes, plain);
  fprintf(out, "  from:       %s  %s (pid %ld, dump %lu)\n", when(t, 0), mlr_safe(d0->path),
          d0->pid, d0->seq);
  fprintf(out, "  to:         %s  %s (pid %ld, dump %lu)\n", when(t, t->ndumps - 1),
          mlr_safe(dn->path), dn->pid, dn->seq);
  if (pids > 1)
    fputs("  warning:    the dumps come from several processes: their stacks are summed by "
          "time\n",
          out);
  char hb[64];
  fprintf(out, "  remaining:  %llu -> %llu bytes, %s/min (%+.0f bytes/min, r2 %.3f)\n",
          (unsigned long long)d0->shown_bytes, (unsigned long long)dn->shown_bytes,
          signed_human(hb, sizeof hb, t->slope_bytes), t->slope_bytes, t->r2);
  fprintf(out, "  stacks:     %zu, steepest %s growth first\n", t->nstacks,
          t->sort == MLR_SORT_COUNT ? "block" : "byte");
  size_t n = shown_count(t);
  for (size_t i = 0; i < n; i++) {
    const mlr_trend_stack_t *s = &t->stacks[i];
    const mlr_trend_point_t *first = &s->points[0], *last = &s->points[s->npoints - 1];
    bool now = last->dump == t->ndumps - 1;
    fprintf(out, "\n%s#%zu %s/min (%+.0f bytes/min), %+.2f blocks/min (r2 %.3f)%s\n", bold,
            i + 1, signed_human(hb, sizeof hb, s->slope_bytes), s->slope_bytes,
            s->slope_blocks, s->r2, plain);
    fprintf(out, "    %s %llu %s, %llu %s; in %zu of %zu dumps, first %s, last %s\n",
            now ? "now" : "at its last dump", (unsigned long long)last->blocks,
            mlr_plural(last->blocks, "block", "blocks"), (unsigned long long)last->bytes,
            mlr_plural(last->bytes, "byte", "bytes"), s->npoints, t->ndumps,
            when(t, first->dump), when(t, last->dump));
    mlr_text_frames(out, s->dump, s->stack, "    ");
  }
  if (n < t->nstacks) fprintf(out, "\n... and %zu more stacks (--top)\n", t->nstacks - n);
  if (t->has_res)
    for (int k = 0; k < MLR_RES_COUNT; k++) res_text(out, t, (mlr_res_t)k, bold, plain);
  return mlr_io_result(out, err);
}

/* A double as JSON (finite; 6 significant digits are plenty for a fit). */
static void json_num(FILE *out, double v) {
  if (!isfinite(v)) v = 0;
  if (fabs(v) < 1e-9) v = 0;
  fprintf(out, "%.6g", v);
}

/* A series' fit, its last amount, points ([dump, blocks or records,
 * bytes]) and frames, closing its object; what counts what: "blocks" (heap
 * stacks) or "count" (records). */
static void json_fit(FILE *out, const mlr_trend_stack_t *s, const char *what) {
  const mlr_trend_point_t *last = &s->points[s->npoints - 1];
  fputs(", \"slope_bytes_per_minute\": ", out);
  json_num(out, s->slope_bytes);
  fprintf(out, ", \"slope_%s_per_minute\": ", what);
  json_num(out, s->slope_blocks);
  fputs(", \"r2\": ", out);
  json_num(out, s->r2);
  fprintf(out, ", \"first_seen\": %u, \"last_seen\": %u, \"%s\": %llu, \"bytes\": %llu,",
          s->points[0].dump, last->dump, what, (unsigned long long)last->blocks,
          (unsigned long long)last->bytes);
  fputs("\n     \"series\": [", out);
  for (size_t j = 0; j < s->npoints; j++)
    fprintf(out, "%s[%u, %llu, %llu]", j ? ", " : "", s->points[j].dump,
            (unsigned long long)s->points[j].blocks, (unsigned long long)s->points[j].bytes);
  fputs("],\n     \"frames\": ", out);
  mlr_json_frames(out, s->dump, s->stack);
  fputs("}", out);
}

/* "fds", "threads", "mappings": a section's series, ranked. */
static void res_json(FILE *out, const mlr_trend_t *t, mlr_res_t k) {
  fprintf(out, ",\n  \"%s\": [", mlr_res_name(k));
  size_t n = res_shown(t, k);
  for (size_t i = 0; i < n; i++) {
    const mlr_trend_stack_t *s = &t->res[k][i];
    fprintf(out, "%s\n    {\"rank\": %zu, \"kind\": ", i ? "," : "", i + 1);
    mlr_json_str(out, s->group->kind);
    if (s->group->seen)
      fprintf(out, ", \"stack\": %u", s->stack->id);
    else
      fputs(", \"stack\": null", out);
    json_fit(out, s, "count");
  }
  fputs(n ? "\n  ]" : "]", out);
}

int mlr_format_trend_json(FILE *out, const mlr_trend_t *t, const mlr_format_opts_t *o,
                          mlr_err_t *err) {
  (void)o;
  fprintf(out, "{\n  \"memledger_trend\": 1,\n  \"sort\": \"%s\",\n  \"dumps\": [",
          t->sort == MLR_SORT_COUNT ? "count" : "bytes");
  for (size_t i = 0; i < t->ndumps; i++) {
    const mlr_trend_dump_t *d = &t->dumps[i];
    fprintf(out, "%s\n    {\"path\": ", i ? "," : "");
    mlr_json_str(out, d->path);
    fprintf(out, ", \"pid\": %ld, \"sequence\": %lu, \"time\": ", d->pid, d->seq);
    mlr_json_str(out, d->time);
    fprintf(out, ", \"unix_time_ns\": %llu, \"minutes\": ", (unsigned long long)d->time_ns);
    json_num(out, d->minutes);
    fputs(", \"trigger\": ", out);
    mlr_json_str(out, d->trigger);
    fprintf(out,
            ", \"unfreed\": {\"blocks\": %llu, \"bytes\": %llu}, \"remaining\": "
            "{\"blocks\": %llu, \"bytes\": %llu}",
            (unsigned long long)d->blocks, (unsigned long long)d->bytes,
            (unsigned long long)d->shown_blocks, (unsigned long long)d->shown_bytes);
    const struct { const char *key; bool have; uint64_t v; } rv[] = {
        {"rss_bytes", d->have_rss, d->rss_bytes},
        {"fds_open", d->have_fds, d->fds},
        {"threads", d->have_threads, d->threads}};
    for (size_t j = 0; j < sizeof rv / sizeof rv[0]; j++)
      if (rv[j].have)
        fprintf(out, ", \"%s\": %llu", rv[j].key, (unsigned long long)rv[j].v);
      else
        fprintf(out, ", \"%s\": null", rv[j].key);
    fputs("}", out);
  }
  fputs("\n  ],\n  \"remaining\": {\"slope_bytes_per_minute\": ", out);
  json_num(out, t->slope_bytes);
  fputs(", \"r2\": ", out);
  json_num(out, t->r2);
  fprintf(out, "},\n  \"total_stacks\": %zu,\n  \"stacks\": [", t->nstacks);
  size_t n = shown_count(t);
  for (size_t i = 0; i < n; i++) {
    const mlr_trend_stack_t *s = &t->stacks[i];
    fprintf(out, "%s\n    {\"rank\": %zu", i ? "," : "", i + 1);
    json_fit(out, s, "blocks");
  }
  fputs(n ? "\n  ]" : "]", out);
  if (t->has_res)
    for (int k = 0; k < MLR_RES_COUNT; k++) res_json(out, t, (mlr_res_t)k);
  fputs("\n}\n", out);
  return mlr_io_result(out, err);
}

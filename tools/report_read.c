/* SPDX-License-Identifier: MIT */
/*
 * report_read.c - the dump reader of the memledger command: parses and
 * validates a dump (doc/dump-format.md, versions 1 and 2) into an mlr_dump_t,
 * line by line as it is read (memory bounded by the stacks, not the file).
 * Also the per-dump string pool and the checked allocation helpers that the
 * other tools/ files use.  Runs outside the target process.
 * Invariant: any input (truncated, binary, hostile, endless) gives either a
 * complete, consistent mlr_dump_t or one "file:line: message" error; never a
 * crash, and never more than one line (64 KiB) of text held.
 */
#include "report_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>
#include <zlib.h>

/* ---- allocation helpers ------------------------------------------------------ */

_Noreturn void mlr_oom(void) {
  fputs("memledger: out of memory\n", stderr);
  exit(1);
}
void *mlr_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) mlr_oom();
  return p;
}
void *mlr_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) mlr_oom();
  return p;
}
void *mlr_xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) mlr_oom();
  return p;
}
char *mlr_xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) mlr_oom();
  return p;
}

int mlr_fail(mlr_err_t *err, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* ---- the pool ------------------------------------------------------------------ */

typedef struct mlr_chunk_s {
  struct mlr_chunk_s *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} mlr_chunk_t;

void *mlr_pool_alloc(mlr_dump_t *d, size_t n) {
  n = (n + 15) & ~(size_t)15;
  mlr_chunk_t *c = d->pool;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > (1u << 20) ? n : (1u << 20);
    mlr_chunk_t *fresh = mlr_xmalloc(sizeof *fresh + cap);
    fresh->used = 0;
    fresh->cap = cap;
    if (c && n > (1u << 19)) { /* a big one: behind the current chunk */
      fresh->next = c->next;
      c->next = fresh;
    } else {
      fresh->next = c;
      d->pool = fresh;
    }
    c = fresh;
  }
  void *p = c->data + c->used;
  c->used += n;
  return p;
}

char *mlr_pool_strndup(mlr_dump_t *d, const char *s, size_t n) {
  char *p = mlr_pool_alloc(d, n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}
char *mlr_pool_strdup(mlr_dump_t *d, const char *s) {
  return mlr_pool_strndup(d, s, strlen(s));
}

void mlr_dump_free(mlr_dump_t *d) {
  if (!d) return;
  for (size_t i = 0; i < d->nstacks; i++)
    free(d->stacks[i].frames);
  free(d->stacks);
  for (size_t i = 0; i < d->nres; i++)
    free(d->res[i].stack.frames);
  free(d->res);
  free(d->modules);
  free(d->header);
  free(d->totals);
  free(d->resources);
  for (mlr_chunk_t *c = d->pool, *n; c; c = n) {
    n = c->next;
    free(c);
  }
  memset(d, 0, sizeof *d);
}

const char *mlr_kv_get(const mlr_kv_t *kv, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (kv[i].key && strcmp(kv[i].key, key) == 0) return kv[i].value;
  return NULL;
}

/* ---- the parser ------------------------------------------------------------------ */

enum {
  SEC_NONE,
  SEC_HEADER,
  SEC_TOTALS,
  SEC_RESOURCES,
  SEC_MODULES,
  SEC_STACKS,
  SEC_UNFREED,
  SEC_END,
  SEC_UNKNOWN,
  SEC_UNLOADED,     // optional: after [modules]
  SEC_STACK_EPOCHS, // optional: after [stacks]
  SEC_BLOCKS,       // optional: right before [unfreed]
  SEC_MODULE_FILES, // optional: after [modules] (and [unloaded])
  SEC_NEWER,        // optional: right after [unfreed]
  SEC_FDS,          // [fds], [threads], [mappings]: after [unfreed] (and
  SEC_THREADS,      // [newer]), all three or none (older dumps), in this
  SEC_MAPPINGS,     // order (SEC_FDS + mlr_res_t)
};
static const char *const sec_names[] = {"",        "header", "totals",  "resources",
                                        "modules", "stacks", "unfreed", "end"};

typedef struct raw_stack_s {
  uint32_t id;
  uint32_t epoch; // from [stack_epochs]
  size_t nraw;
  uint64_t *raw;
  unsigned used; // kinds listed in [unfreed] (bit per mlr_kind_t)
  uint64_t ublocks, ubytes; // [unfreed] totals over its kinds
  bool newer;               // listed in [newer]
  uint64_t newer_blocks, newer_bytes;
  UT_hash_handle hh;
} raw_stack_t;

/* A (section, stack, kind) of the resource sections: its index in
 * mlr_dump_t.res, by key "<section> <stack id or -> <kind>". */
typedef struct res_key_s {
  char *key;
  size_t idx;
  UT_hash_handle hh;
} res_key_t;

/* A record's id in its section (duplicates are refused). */
typedef struct res_id_s {
  uint64_t key[2]; // section, id
  UT_hash_handle hh;
} res_id_t;

/* The reader sees one line at a time (parse_line), from memory or from a
 * stream, and keeps only what the reports use: the first lines, the
 * key-value sections, the modules, the raw frames of [stacks] and one
 * mlr_stack_t per [unfreed] line.  Unknown sections are skipped line by
 * line.  Memory is bounded by the stacks and modules, not by the file. */
typedef struct parser_s {
  const char *name;
  mlr_err_t *err;
  mlr_dump_t *d;
  unsigned long line;
  int sec, last_known;  // current section; last known one (order check)
  uint64_t sums[2];     // [unfreed] blocks and bytes so far
  raw_stack_t *by_id;   // [stacks], by id
  mlr_dump_t scratch;   // pool of the by_id entries: freed after the read
  struct blk_s { uint64_t addr; uint32_t id; uint32_t kind; } *blocks; // [blocks]
  size_t nblocks, cap_blocks;
  res_key_t *res_keys;  // resource groups, by key (entries in scratch)
  res_id_t *res_ids;    // resource records' ids (entries in scratch)
  int res_seen;         // resource sections seen so far (0..3)
  unsigned long newer_line; // of the [newer] line
  size_t cap_res;
  raw_stack_t zero;     // [unfreed] and [newer] of stack 0 (no raw frames)
  bool header_only;     // stop at the section after [header]
  bool done;            // header_only: that section has come
  size_t cap_header, cap_totals, cap_resources, cap_modules, cap_stacks;
} parser_t;

static int perr(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(parser_t *p, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return mlr_fail(p->err, "%s:%lu: %s", p->name, p->line, what);
}

/* Decimal u64 at *s, up to a space or the end; advances *s.  0 or -1. */
static int get_dec(const char **s, const char *end, uint64_t *v) {
  const char *q = *s;
  uint64_t x = 0;
  if (q >= end || *q < '0' || *q > '9') return -1;
  for (; q < end && *q >= '0' && *q <= '9'; q++) {
    if (x > (UINT64_MAX - (uint64_t)(*q - '0')) / 10) return -1;
    x = x * 10 + (uint64_t)(*q - '0');
  }
  if (q < end && *q != ' ') return -1;
  *s = q;
  *v = x;
  return 0;
}
static int get_hex(const char **s, const char *end, uint64_t *v) {
  const char *q = *s;
  uint64_t x = 0;
  int n = 0;
  for (; q < end && *q != ' '; q++, n++) {
    int c = *q, dig;
    if (c >= '0' && c <= '9')
      dig = c - '0';
    else if (c >= 'a' && c <= 'f')
      dig = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      dig = c - 'A' + 10;
    else
      return -1;
    if (n >= 16) return -1;
    x = x << 4 | (uint64_t)dig;
  }
  if (n == 0) return -1;
  *s = q;
  *v = x;
  return 0;
}
/* Exactly one space, then something. */
static int get_sep(const char **s, const char *end) {
  if (*s >= end || **s != ' ' || *s + 1 >= end || (*s)[1] == ' ') return -1;
  (*s)++;
  return 0;
}

/* Lines of a [header], [totals] or [resources] section at most. */
#define MLR_KV_MAX 4096u

static void *grow(void *arr, size_t *cap, size_t n, size_t elem) {
  if (n < *cap) return arr;
  *cap = *cap ? *cap * 2 : 16;
  return mlr_xrealloc(arr, *cap * elem);
}

static int parse_kv(parser_t *p, const char *s, const char *end, mlr_kv_t **arr,
                    size_t *n, size_t *cap) {
  /* The writer's sections have a few dozen keys: an endless one is garbage. */
  if (*n >= MLR_KV_MAX)
    return perr(p, "more than %u lines in [%s]: not a memledger dump", MLR_KV_MAX,
                sec_names[p->sec]);
  const char *colon = memchr(s, ':', (size_t)(end - s));
  if (!colon || colon == s) return perr(p, "expected \"key: value\"");
  for (const char *q = s; q < colon; q++)
    if (*q == ' ') return perr(p, "expected \"key: value\" (space in key)");
  const char *v = colon + 1;
  while (v < end && *v == ' ')
    v++;
  const char *ve = end;
  while (ve > v && ve[-1] == ' ')
    ve--;
  *arr = grow(*arr, cap, *n, sizeof **arr);
  (*arr)[*n].key = mlr_pool_strndup(p->d, s, (size_t)(colon - s));
  (*arr)[*n].value = mlr_pool_strndup(p->d, v, (size_t)(ve - v));
  (*n)++;
  return 0;
}

/* [unloaded] lines are [modules] lines after "<epoch> ". */
static int parse_module(parser_t *p, const char *s, const char *end, bool unloaded) {
  mlr_dump_t *d = p->d;
  mlr_module_t m = {0};
  if (unloaded) {
    uint64_t e;
    if (get_dec(&s, end, &e) || get_sep(&s, end) || e == 0 || e > UINT32_MAX)
      return perr(p, "bad unloaded line: expected \"<epoch> <lo> <hi> <base> <build-id> <path>\"");
    m.unloaded_epoch = (uint32_t)e;
  }
  if (get_hex(&s, end, &m.lo) || get_sep(&s, end) || get_hex(&s, end, &m.hi) ||
      get_sep(&s, end) || get_hex(&s, end, &m.base) || get_sep(&s, end))
    return perr(p, "bad module line: expected \"<lo> <hi> <base> <build-id> <path>\"");
  if (m.lo > m.hi) return perr(p, "bad module line: lo above hi");
  const char *b = s;
  while (s < end && *s != ' ')
    s++;
  if (get_sep(&s, end)) return perr(p, "bad module line: no path");
  size_t blen = (size_t)(s - 1 - b);
  if (!(blen == 1 && *b == '-')) {
    if (blen % 2) return perr(p, "bad module line: odd-length build id");
    for (const char *q = b; q < b + blen; q++)
      if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
        return perr(p, "bad module line: build id is not lower-case hex");
    m.build_id = mlr_pool_strndup(d, b, blen);
  }
  m.path = mlr_pool_strndup(d, s, (size_t)(end - s));
  d->modules = grow(d->modules, &p->cap_modules, d->nmodules, sizeof *d->modules);
  d->modules[d->nmodules++] = m;
  return 0;
}

/* [module_files]: "<lo> <size> <mtime_ns>" of a [modules] line's file. */
static int parse_module_file(parser_t *p, const char *s, const char *end) {
  uint64_t lo, size, mtime;
  if (get_hex(&s, end, &lo) || get_sep(&s, end) || get_dec(&s, end, &size) ||
      get_sep(&s, end) || get_dec(&s, end, &mtime) || s != end)
    return perr(p, "bad module_files line: expected \"<lo> <size> <mtime_ns>\"");
  for (size_t i = 0; i < p->d->nmodules; i++) {
    mlr_module_t *m = &p->d->modules[i];
    if (m->lo == lo && !m->unloaded_epoch) {
      m->has_file = true;
      m->file_size = size;
      m->file_mtime_ns = mtime;
      break;
    }
  }
  return 0; /* a line for no module: ignored */
}

static int parse_stack(parser_t *p, const char *s, const char *end) {
  uint64_t id, n;
  if (get_dec(&s, end, &id) || get_sep(&s, end) || get_dec(&s, end, &n))
    return perr(p, "bad stack line: expected \"<id> <nframes> <frame>...\"");
  if (id == 0 || id > UINT32_MAX)
    return perr(p, "bad stack id %llu", (unsigned long long)id);
  /* Each frame takes at least two characters: n is bounded by the line. */
  if (n > (uint64_t)(end - s) / 2)
    return perr(p, "stack %llu: %llu frames announced, fewer given",
                (unsigned long long)id, (unsigned long long)n);
  raw_stack_t *rs;
  uint32_t id32 = (uint32_t)id;
  HASH_FIND(hh, p->by_id, &id32, sizeof id32, rs);
  if (rs) return perr(p, "stack %llu listed twice", (unsigned long long)id);
  uint64_t *raw = n ? mlr_pool_alloc(p->d, n * sizeof *raw) : NULL;
  for (uint64_t i = 0; i < n; i++) {
    if (s == end)
      return perr(p, "stack %llu: %llu frames announced, %llu given",
                  (unsigned long long)id, (unsigned long long)n, (unsigned long long)i);
    if (get_sep(&s, end) || get_hex(&s, end, &raw[i]))
      return perr(p, "stack %llu: frame %llu is not a hexadecimal address",
                  (unsigned long long)id, (unsigned long long)i + 1);
  }
  if (s != end)
    return perr(p, "stack %llu: more frames than the %llu announced",
                (unsigned long long)id, (unsigned long long)n);
  rs = mlr_pool_alloc(&p->scratch, sizeof *rs);
  memset(rs, 0, sizeof *rs);
  rs->id = id32;
  rs->nraw = (size_t)n;
  rs->raw = raw;
  HASH_ADD(hh, p->by_id, id, sizeof rs->id, rs);
  return 0;
}

static int parse_stack_epoch(parser_t *p, const char *s, const char *end) {
  uint64_t id, e;
  if (get_dec(&s, end, &id) || get_sep(&s, end) || get_dec(&s, end, &e) || s != end ||
      id == 0 || id > UINT32_MAX || e > UINT32_MAX)
    return perr(p, "bad stack epoch line: expected \"<stack id> <epoch>\"");
  raw_stack_t *rs;
  uint32_t id32 = (uint32_t)id;
  HASH_FIND(hh, p->by_id, &id32, sizeof id32, rs);
  if (!rs) return perr(p, "stack %u in [stack_epochs] is not in [stacks]", id32);
  rs->epoch = (uint32_t)e;
  return 0;
}

static int parse_unfreed(parser_t *p, const char *s, const char *end, uint64_t sums[2]) {
  uint64_t v[7];
  for (int i = 0; i < 7; i++) {
    if ((i && get_sep(&s, end)) || get_dec(&s, end, &v[i]))
      return perr(p, p->d->version >= 2
                         ? "bad unfreed line: expected 7 numbers and a kind \"<stack> <blocks> "
                           "<bytes> <usable> <smallest> <largest> <oldest> <kind>\""
                         : "bad unfreed line: expected 7 numbers \"<stack> <blocks> <bytes> "
                           "<usable> <smallest> <largest> <oldest>\"");
  }
  mlr_kind_t kind = MLR_KIND_UNKNOWN;
  if (p->d->version >= 2) {
    if (get_sep(&s, end)) return perr(p, "bad unfreed line: no kind after 7 numbers");
    const char *w = s;
    while (s < end && *s != ' ') s++;
    if (mlr_kind_parse(w, (size_t)(s - w), &kind))
      return perr(p, "bad unfreed line: unknown kind \"%.*s\"", (int)(s - w > 40 ? 40 : s - w), w);
  }
  if (s != end)
    return perr(p, "bad unfreed line: more than %d fields", p->d->version >= 2 ? 8 : 7);
  if (v[0] > UINT32_MAX) return perr(p, "bad stack id %llu", (unsigned long long)v[0]);
  uint32_t id = (uint32_t)v[0];
  if (v[1] == 0) return perr(p, "stack %u: 0 blocks", id);
  if (v[4] > v[5]) return perr(p, "stack %u: smallest block above largest", id);
  /* blocks * smallest <= bytes <= blocks * largest, without overflow */
  if ((v[4] && v[1] > v[2] / v[4]) || (v[5] && v[2] / v[5] > v[1]) || (!v[5] && v[2]))
    return perr(p, "stack %u: bytes inconsistent with block count and sizes", id);
  if (v[3] < v[2]) return perr(p, "stack %u: usable bytes below requested bytes", id);
  raw_stack_t *rs = NULL, *sums_of = &p->zero;
  if (id) {
    HASH_FIND(hh, p->by_id, &id, sizeof id, rs);
    if (!rs) return perr(p, "stack %u is not in [stacks]", id);
    sums_of = rs;
  }
  if (sums_of->used & (1u << kind)) return perr(p, "stack %u listed twice in [unfreed]", id);
  sums_of->used |= 1u << kind;
  if (sums[0] + v[1] < sums[0] || sums[1] + v[2] < sums[1])
    return perr(p, "unfreed totals overflow");
  sums[0] += v[1];
  sums[1] += v[2];
  sums_of->ublocks += v[1]; // no overflow: at most the sums
  sums_of->ubytes += v[2];
  mlr_dump_t *d = p->d;
  d->stacks = grow(d->stacks, &p->cap_stacks, d->nstacks, sizeof *d->stacks);
  mlr_stack_t *st = &d->stacks[d->nstacks++];
  memset(st, 0, sizeof *st);
  st->id = id;
  st->nraw = rs ? rs->nraw : 0;
  st->raw = rs ? rs->raw : NULL;
  st->epoch = rs ? rs->epoch : 0;
  st->blocks = v[1];
  st->bytes = v[2];
  st->usable = v[3];
  st->min_size = v[4];
  st->max_size = v[5];
  st->oldest_seq = v[6];
  st->kind = kind;
  return 0;
}

/* A [blocks] line: "<address hex> <stack> <kind> <size>". */
static int parse_block(parser_t *p, const char *s, const char *end) {
  uint64_t addr, id, size;
  mlr_kind_t kind;
  if (get_hex(&s, end, &addr) || get_sep(&s, end) || get_dec(&s, end, &id) || get_sep(&s, end))
    return perr(p, "bad blocks line: expected \"<address> <stack> <kind> <size>\"");
  const char *w = s;
  while (s < end && *s != ' ') s++;
  if (mlr_kind_parse(w, (size_t)(s - w), &kind))
    return perr(p, "bad blocks line: unknown kind \"%.*s\"", (int)(s - w > 40 ? 40 : s - w), w);
  if (get_sep(&s, end) || get_dec(&s, end, &size) || s != end)
    return perr(p, "bad blocks line: expected \"<address> <stack> <kind> <size>\"");
  if (id > UINT32_MAX) return perr(p, "bad stack id %llu", (unsigned long long)id);
  p->blocks = grow(p->blocks, &p->cap_blocks, p->nblocks, sizeof *p->blocks);
  p->blocks[p->nblocks++] = (struct blk_s){addr, (uint32_t)id, (uint32_t)kind};
  return 0;
}

static int blk_cmp(const void *a, const void *b) {
  const struct blk_s *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
  return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Give each (stack, kind) of [unfreed] its addresses from [blocks]; every
 * block listed must belong to one, as many as it counts. */
static int attach_blocks(parser_t *p) {
  mlr_dump_t *d = p->d;
  qsort(p->blocks, p->nblocks, sizeof *p->blocks, blk_cmp);
  size_t used = 0;
  for (size_t i = 0; i < d->nstacks; i++) {
    mlr_stack_t *st = &d->stacks[i];
    struct blk_s key = {0, st->id, (uint32_t)st->kind};
    size_t lo = 0, hi = p->nblocks;
    while (lo < hi) { /* the first block of (id, kind) */
      size_t mid = lo + (hi - lo) / 2;
      if (blk_cmp(&p->blocks[mid], &key) < 0) lo = mid + 1;
      else hi = mid;
    }
    size_t n = 0;
    while (lo + n < p->nblocks && p->blocks[lo + n].id == st->id &&
           p->blocks[lo + n].kind == (uint32_t)st->kind)
      n++;
    if (n != st->blocks)
      return perr(p, "stack %u: [blocks] lists %zu blocks, [unfreed] %llu", st->id, n,
                  (unsigned long long)st->blocks);
    st->naddrs = n;
    st->addrs = mlr_pool_alloc(d, n * sizeof *st->addrs);
    for (size_t k = 0; k < n; k++) st->addrs[k] = p->blocks[lo + k].addr;
    used += n;
  }
  if (used != p->nblocks)
    return perr(p, "[blocks] lists %zu blocks of no stack in [unfreed]", p->nblocks - used);
  return 0;
}

/* A [newer] line: "<stack id> <blocks> <bytes>", of a stack in [unfreed]. */
static int parse_newer(parser_t *p, const char *s, const char *end) {
  uint64_t id, bl, by;
  if (get_dec(&s, end, &id) || get_sep(&s, end) || get_dec(&s, end, &bl) || get_sep(&s, end) ||
      get_dec(&s, end, &by) || s != end)
    return perr(p, "bad newer line: expected \"<stack id> <blocks> <bytes>\"");
  if (id > UINT32_MAX) return perr(p, "bad stack id %llu", (unsigned long long)id);
  uint32_t id32 = (uint32_t)id;
  raw_stack_t *rs = &p->zero;
  if (id32) HASH_FIND(hh, p->by_id, &id32, sizeof id32, rs);
  if (!rs || !rs->used) return perr(p, "stack %u in [newer] is not in [unfreed]", id32);
  if (rs->newer) return perr(p, "stack %u listed twice in [newer]", id32);
  if (bl > rs->ublocks || by > rs->ubytes || (bl == 0 && by != 0))
    return perr(p, "stack %u: [newer] says %llu blocks, %llu bytes of its %llu, %llu in [unfreed]",
                id32, (unsigned long long)bl, (unsigned long long)by,
                (unsigned long long)rs->ublocks, (unsigned long long)rs->ubytes);
  rs->newer = true;
  rs->newer_blocks = bl;
  rs->newer_bytes = by;
  p->d->newer_blocks += bl; // no overflow: at most the unfreed line
  p->d->newer_bytes += by;
  return 0;
}

static const char *const res_names[MLR_RES_COUNT] = {"fds", "threads", "mappings"};
const char *mlr_res_name(mlr_res_t r) {
  return (unsigned)r < MLR_RES_COUNT ? res_names[r] : "?";
}

/* A line of [fds], [threads] or [mappings]:
 *   "<stack id|-> <kind> <bytes> <id> <detail>"
 * id decimal (hexadecimal for mappings); detail the rest of the line.  The
 * kinds the writer has are checked against their section's rules; a kind
 * this reader does not know is kept as it is (later writers may add some). */
static int parse_res(parser_t *p, mlr_res_t res, const char *s, const char *end) {
  static const char *const shape[MLR_RES_COUNT] = {
      "\"<stack|-> <kind> 0 <fd> <call> <target>\"",
      "\"<stack|-> <kind> <stack bytes> <tid> <name|->\"",
      "\"<stack|-> <kind> <length> <start hex> <prot> <call>\""};
  const char *what = res_names[res];
  uint64_t stack = 0, bytes, id;
  bool seen = true;
  if (s < end && *s == '-' && (s + 1 == end || s[1] == ' ')) {
    seen = false;
    s++;
  } else if (get_dec(&s, end, &stack)) {
    return perr(p, "bad %s line: expected %s", what, shape[res]);
  }
  if (get_sep(&s, end)) return perr(p, "bad %s line: expected %s", what, shape[res]);
  const char *kw = s;
  while (s < end && *s != ' ') {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
      return perr(p, "bad %s line: the kind is not a lower-case word", what);
    s++;
  }
  size_t kl = (size_t)(s - kw);
  if (kl > 32) return perr(p, "bad %s line: the kind is not a lower-case word", what);
  if (get_sep(&s, end) || get_dec(&s, end, &bytes) || get_sep(&s, end) ||
      (res == MLR_RES_MAPPINGS ? get_hex(&s, end, &id) : get_dec(&s, end, &id)) ||
      get_sep(&s, end))
    return perr(p, "bad %s line: expected %s", what, shape[res]);
  const char *detail = s; // non-empty and not starting with a space (get_sep)
  size_t dl = (size_t)(end - s);
  if (stack > UINT32_MAX) return perr(p, "bad stack id %llu", (unsigned long long)stack);
  uint32_t sid = (uint32_t)stack;
  raw_stack_t *rs = NULL;
  if (seen && sid) {
    HASH_FIND(hh, p->by_id, &sid, sizeof sid, rs);
    if (!rs) return perr(p, "stack %u in [%s] is not in [stacks]", sid, what);
  }
#define KW(w) (kl == sizeof w - 1 && memcmp(kw, w, kl) == 0)
  bool two_words = dl >= 3 && memchr(detail + 1, ' ', dl - 2) != NULL;
  switch (res) {
  case MLR_RES_FDS:
    if (bytes != 0) return perr(p, "bad fds line: bytes must be 0");
    if (id > INT32_MAX) return perr(p, "bad fds line: descriptor %llu", (unsigned long long)id);
    if (!two_words && !(dl == 1 && *detail == '-'))
      return perr(p, "bad fds line: expected \"<call> <target>\" after the descriptor");
    break;
  case MLR_RES_THREADS: // tid 0: ended, or created and not started yet
    if (KW("ended") ? id != 0 : id > INT32_MAX)
      return perr(p, "bad threads line: thread id %llu for kind %.*s", (unsigned long long)id,
                  (int)kl, kw);
    break;
  case MLR_RES_MAPPINGS:
    if (bytes == 0 || id + bytes < id)
      return perr(p, "bad mappings line: length %llu at %llx", (unsigned long long)bytes,
                  (unsigned long long)id);
    if (!two_words) return perr(p, "bad mappings line: expected \"<prot> <call>\" after the start");
    break;
  default: break;
  }
#undef KW
  /* Each descriptor, thread and mapping once. */
  if (!(res == MLR_RES_THREADS && id == 0)) {
    uint64_t k[2] = {(uint64_t)res, id};
    res_id_t *e;
    HASH_FIND(hh, p->res_ids, k, sizeof k, e);
    static const char *const one[MLR_RES_COUNT] = {"descriptor", "thread", "mapping"};
    if (e)
      return perr(p, res == MLR_RES_MAPPINGS ? "%s %llx listed twice in [%s]"
                                             : "%s %llu listed twice in [%s]",
                  one[res], (unsigned long long)id, what);
    e = mlr_pool_alloc(&p->scratch, sizeof *e);
    memset(e, 0, sizeof *e);
    memcpy(e->key, k, sizeof k);
    HASH_ADD(hh, p->res_ids, key, sizeof e->key, e);
  }
  /* Its group. */
  char key[64];
  int n = snprintf(key, sizeof key, "%d %s%u %.*s", (int)res, seen ? "" : "-", sid, (int)kl, kw);
  res_key_t *g;
  HASH_FIND(hh, p->res_keys, key, (size_t)n, g);
  mlr_dump_t *d = p->d;
  if (!g) {
    d->res = grow(d->res, &p->cap_res, d->nres, sizeof *d->res);
    mlr_resgroup_t *r = &d->res[d->nres];
    memset(r, 0, sizeof *r);
    r->res = res;
    r->kind = mlr_pool_strndup(d, kw, kl);
    r->seen = seen;
    r->stack.id = sid;
    r->stack.nraw = rs ? rs->nraw : 0;
    r->stack.raw = rs ? rs->raw : NULL;
    r->stack.epoch = rs ? rs->epoch : 0;
    g = mlr_pool_alloc(&p->scratch, sizeof *g);
    memset(g, 0, sizeof *g);
    g->key = mlr_pool_strndup(&p->scratch, key, (size_t)n);
    g->idx = d->nres++;
    HASH_ADD_KEYPTR(hh, p->res_keys, g->key, (size_t)n, g);
  }
  mlr_resgroup_t *r = &d->res[g->idx];
  if (r->bytes + bytes < r->bytes) return perr(p, "%s: bytes overflow", what);
  r->count++;
  r->bytes += bytes;
  r->stack.blocks = r->count;
  r->stack.bytes = r->bytes;
  if (r->nids < MLR_RES_KEEP) r->ids[r->nids++] = id;
  if (r->ndetails < MLR_RES_KEEP && !(dl == 1 && *detail == '-')) {
    size_t k;
    for (k = 0; k < r->ndetails; k++)
      if (strlen(r->details[k]) == dl && memcmp(r->details[k], detail, dl) == 0) break;
    if (k == r->ndetails) r->details[r->ndetails++] = mlr_pool_strndup(d, detail, dl);
  }
  return 0;
}

/* After the last line: [newer] onto the (stack, kind) entries of its ids,
 * and the header's newer_since. */
static int attach_newer(parser_t *p) {
  mlr_dump_t *d = p->d;
  const char *v = mlr_kv_get(d->header, d->nheader, "newer_since");
  const char *q = v;
  if (!v || get_dec(&q, v + strlen(v), &d->newer_since) || *q)
    return perr(p, "the dump has [newer] but no header line \"newer_since: <unix_time_ns>\"");
  for (size_t i = 0; i < d->nstacks; i++) {
    mlr_stack_t *st = &d->stacks[i];
    raw_stack_t *rs = &p->zero;
    if (st->id) HASH_FIND(hh, p->by_id, &st->id, sizeof st->id, rs);
    if (rs) {
      st->newer_blocks = rs->newer_blocks;
      st->newer_bytes = rs->newer_bytes;
      st->newer_shared = (rs->used & (rs->used - 1)) != 0; // more than one kind
    }
  }
  return 0;
}

static int parse_first_lines(parser_t *p, unsigned ln, const char *s, const char *end) {
  mlr_dump_t *d = p->d;
  size_t len = (size_t)(end - s);
  if (ln == 1) {
    static const char magic[] = "memledger-dump ";
    if (len < sizeof magic - 1 || memcmp(s, magic, sizeof magic - 1) != 0)
      return perr(p, "not a memledger dump (the first line is not \"memledger-dump 1\")");
    const char *q = s + sizeof magic - 1;
    uint64_t v;
    if (get_dec(&q, end, &v) || q != end) return perr(p, "bad format line");
    if (v != 1 && v != 2)
      return perr(
          p, "dump format version %llu is not supported (this memledger reads versions 1 and 2)",
          (unsigned long long)v);
    d->version = (int)v;
    return 0;
  }
  if (ln == 2) {
    static const char a[] = "unfreed: ", b[] = " blocks, ", c[] = " bytes";
    const char *q = s;
    if (len < sizeof a - 1 || memcmp(q, a, sizeof a - 1)) goto bad2;
    q += sizeof a - 1;
    if (get_dec(&q, end, &d->unfreed_blocks)) goto bad2;
    if ((size_t)(end - q) < sizeof b - 1 || memcmp(q, b, sizeof b - 1)) goto bad2;
    q += sizeof b - 1;
    if (get_dec(&q, end, &d->unfreed_bytes)) goto bad2;
    if ((size_t)(end - q) != sizeof c - 1 || memcmp(q, c, sizeof c - 1)) goto bad2;
    return 0;
  bad2:
    return perr(p, "expected \"unfreed: <blocks> blocks, <bytes> bytes\"");
  }
  static const char a[] = "usable: ", c[] = " bytes";
  const char *q = s;
  if (len < sizeof a - 1 || memcmp(q, a, sizeof a - 1)) goto bad3;
  q += sizeof a - 1;
  if (get_dec(&q, end, &d->usable_bytes)) goto bad3;
  if ((size_t)(end - q) != sizeof c - 1 || memcmp(q, c, sizeof c - 1)) goto bad3;
  return 0;
bad3:
  return perr(p, "expected \"usable: <bytes> bytes\"");
}

/* The longest line accepted: the writer's longest (a command line of 8 KiB,
 * a path of 4 KiB, 128 frames) with room to spare.  Anything longer is not
 * a dump, and the reader never holds more than this of a line. */
#define MLR_LINE_MAX (64u << 10)
/* Line 1 is "memledger-dump N": a longer one is refused before it ends. */
#define MLR_FIRST_LINE_MAX 64u

static const char not_dump[] = "not a memledger dump (the first line is not \"memledger-dump 1\")";

/* The checks of a line's bytes, before it is parsed; len without the '\n'
 * (for a line still being read: what has come so far). */
static int check_line(parser_t *p, const char *s, size_t len) {
  if (memchr(s, 0, len)) return perr(p, "binary data (NUL byte): not a memledger dump");
  if (p->line == 1 && len > MLR_FIRST_LINE_MAX) return perr(p, not_dump);
  if (len > MLR_LINE_MAX)
    return perr(p, "line longer than %u bytes: not a memledger dump", MLR_LINE_MAX);
  return 0;
}

/* The section line "[...]" at s (l bytes, l >= 2). */
static int parse_section(parser_t *p, const char *s, size_t l) {
  int found = SEC_UNKNOWN;
  for (int i = SEC_HEADER; i <= SEC_END; i++)
    if (strlen(sec_names[i]) == l - 2 && memcmp(s + 1, sec_names[i], l - 2) == 0) found = i;
  /* Optional sections, each right after the one it extends. */
  if (l - 2 == 8 && memcmp(s + 1, "unloaded", 8) == 0) {
    if (p->last_known != SEC_MODULES)
      return perr(p, "section [unloaded] not right after [modules]");
    p->sec = SEC_UNLOADED;
    return 0;
  }
  if (l - 2 == 12 && memcmp(s + 1, "module_files", 12) == 0) {
    if (p->last_known != SEC_MODULES || p->sec == SEC_MODULE_FILES)
      return perr(p, "section [module_files] not right after [modules] or [unloaded]");
    p->sec = SEC_MODULE_FILES;
    return 0;
  }
  if (l - 2 == 6 && memcmp(s + 1, "blocks", 6) == 0) {
    if (p->last_known != SEC_STACKS || p->sec == SEC_BLOCKS)
      return perr(p, "section [blocks] not right before [unfreed]");
    p->sec = SEC_BLOCKS;
    return 0;
  }
  if (l - 2 == 12 && memcmp(s + 1, "stack_epochs", 12) == 0) {
    if (p->last_known != SEC_STACKS)
      return perr(p, "section [stack_epochs] not right after [stacks]");
    p->sec = SEC_STACK_EPOCHS;
    return 0;
  }
  if (l - 2 == 5 && memcmp(s + 1, "newer", 5) == 0) {
    if (p->sec != SEC_UNFREED) return perr(p, "section [newer] not right after [unfreed]");
    p->sec = SEC_NEWER;
    p->d->has_newer = true;
    p->newer_line = p->line;
    return 0;
  }
  for (int r = 0; r < MLR_RES_COUNT; r++) {
    if (strlen(res_names[r]) != l - 2 || memcmp(s + 1, res_names[r], l - 2) != 0) continue;
    if (p->last_known != SEC_UNFREED)
      return perr(p, "section [%s] not after [unfreed]", res_names[r]);
    if (r < p->res_seen) return perr(p, "section [%s] out of order or repeated", res_names[r]);
    if (r > p->res_seen)
      return perr(p, "section [%s] missing before [%s]", res_names[p->res_seen], res_names[r]);
    p->res_seen++;
    p->d->has_res = true;
    p->sec = SEC_FDS + r;
    return 0;
  }
  if (found == SEC_END && p->res_seen && p->res_seen < MLR_RES_COUNT)
    return perr(p, "section [%s] missing before [end]", res_names[p->res_seen]);
  if (found != SEC_UNKNOWN) {
    if (found != p->last_known + 1) {
      if (found <= p->last_known)
        return perr(p, "section [%s] out of order or repeated", sec_names[found]);
      return perr(p, "section [%s] missing before [%s]", sec_names[p->last_known + 1],
                  sec_names[found]);
    }
    p->last_known = found;
    p->done = p->header_only && found > SEC_HEADER;
  }
  p->sec = found;
  return 0;
}

/* One complete line [s, end) (without its '\n'); p->line is its number. */
static int parse_line(parser_t *p, const char *s, const char *end) {
  mlr_dump_t *d = p->d;
  if (check_line(p, s, (size_t)(end - s))) return -1;
  if (end > s && end[-1] == '\r') return perr(p, "carriage return in line (DOS line ends?)");
  if (p->line <= 3) return parse_first_lines(p, (unsigned)p->line, s, end);
  if (p->sec == SEC_END) return perr(p, "text after [end]");
  size_t l = (size_t)(end - s);
  if (l >= 2 && s[0] == '[' && end[-1] == ']') return parse_section(p, s, l);
  switch (p->sec) {
  case SEC_NONE: return perr(p, "expected [header]");
  case SEC_HEADER: return parse_kv(p, s, end, &d->header, &d->nheader, &p->cap_header);
  case SEC_TOTALS: return parse_kv(p, s, end, &d->totals, &d->ntotals, &p->cap_totals);
  case SEC_RESOURCES:
    return parse_kv(p, s, end, &d->resources, &d->nresources, &p->cap_resources);
  case SEC_MODULES: return parse_module(p, s, end, false);
  case SEC_UNLOADED: return parse_module(p, s, end, true);
  case SEC_MODULE_FILES: return parse_module_file(p, s, end);
  case SEC_STACK_EPOCHS: return parse_stack_epoch(p, s, end);
  case SEC_STACKS: return parse_stack(p, s, end);
  case SEC_UNFREED: return parse_unfreed(p, s, end, p->sums);
  case SEC_BLOCKS: return parse_block(p, s, end);
  case SEC_NEWER: return parse_newer(p, s, end);
  case SEC_FDS:
  case SEC_THREADS:
  case SEC_MAPPINGS: return parse_res(p, (mlr_res_t)(p->sec - SEC_FDS), s, end);
  default: return 0; /* unknown section: ignored, nothing kept */
  }
}

static void parser_init(parser_t *p, const char *name, mlr_dump_t *out, mlr_err_t *err) {
  memset(out, 0, sizeof *out);
  memset(p, 0, sizeof *p);
  p->name = name;
  p->err = err;
  p->d = out;
  p->sec = p->last_known = SEC_NONE;
  out->path = mlr_pool_strdup(out, name);
}

/* The checks of the whole file, after its last line; then the arrays are
 * trimmed to their size.  Frees what is left of the parser; on failure the
 * dump too.  0 or -1. */
static int parser_finish(parser_t *p, int rc) {
  mlr_dump_t *d = p->d;
  if (rc == 0 && p->done) {
    /* the first lines and [header] only: nothing to check after them */
  } else if (rc == 0 && p->line < 3) {
    p->line++;
    rc = perr(p, "truncated dump: the first three lines are incomplete");
  } else if (rc == 0 && p->last_known != SEC_END) {
    p->line++;
    rc = perr(p, "truncated dump: no [end] line (last section: [%s])",
              p->last_known == SEC_NONE ? "none" : sec_names[p->last_known]);
  } else if (rc == 0 && (p->sums[0] != d->unfreed_blocks || p->sums[1] != d->unfreed_bytes)) {
    p->line = 2;
    rc = perr(p, "the unfreed line says %llu blocks, %llu bytes but [unfreed] sums to %llu, %llu",
              (unsigned long long)d->unfreed_blocks, (unsigned long long)d->unfreed_bytes,
              (unsigned long long)p->sums[0], (unsigned long long)p->sums[1]);
  }
  if (rc == 0 && !p->done && p->nblocks) {
    p->line = 0;
    rc = attach_blocks(p);
  }
  if (rc == 0 && !p->done && d->has_newer) {
    p->line = p->newer_line;
    rc = attach_newer(p);
  }
  free(p->blocks);
  HASH_CLEAR(hh, p->by_id);
  HASH_CLEAR(hh, p->res_keys);
  HASH_CLEAR(hh, p->res_ids);
  mlr_dump_free(&p->scratch);
  if (rc) {
    mlr_dump_free(d);
    return -1;
  }
  /* The arrays grew by doubling: give back the unused half. */
  if (d->nstacks) d->stacks = mlr_xrealloc(d->stacks, d->nstacks * sizeof *d->stacks);
  if (d->nmodules) d->modules = mlr_xrealloc(d->modules, d->nmodules * sizeof *d->modules);
  if (d->nres) d->res = mlr_xrealloc(d->res, d->nres * sizeof *d->res);
  return 0;
}

int mlr_dump_parse(const char *name, const char *text, size_t len, mlr_dump_t *out,
                   mlr_err_t *err) {
  parser_t p;
  parser_init(&p, name, out, err);
  const char *s = text, *tend = text + len;
  int rc = 0;
  if (len == 0) {
    p.line = 1;
    return parser_finish(&p, perr(&p, "empty file"));
  }
  while (s < tend && rc == 0) {
    p.line++;
    const char *nl = memchr(s, '\n', (size_t)(tend - s));
    if (!nl) {
      /* The writer ends every line with \n: a missing one means truncation. */
      rc = check_line(&p, s, (size_t)(tend - s));
      if (rc == 0) rc = perr(&p, p.line == 1 ? not_dump : "truncated dump: the last line has no newline");
      break;
    }
    rc = parse_line(&p, s, nl);
    s = nl + 1;
  }
  return parser_finish(&p, rc);
}

static int read_stream(const char *path, mlr_dump_t *out, mlr_err_t *err, bool header_only) {
  memset(out, 0, sizeof *out);
  bool in = strcmp(path, "-") == 0;
  const char *name = in ? "<stdin>" : path;
  int fd = in ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return mlr_fail(err, "%s: %s", name, strerror(errno));
  /* zlib reads gzip streams and, transparently, anything else. */
  gzFile f = gzdopen(fd, "rb");
  if (!f) {
    close(fd);
    return mlr_fail(err, "%s: %s", name, strerror(ENOMEM));
  }
  mlr_progress_t pr; // not for a header: a few lines
  if (!header_only) mlr_progress_begin(&pr, "reading %s", name);
  parser_t p;
  parser_init(&p, name, out, err);
  p.header_only = header_only;
  /* A window of the input: [start, fill) not parsed yet, of which
   * [start, scan) holds no '\n'.  The longest line fits twice. */
  size_t cap = 2 * (size_t)MLR_LINE_MAX + 2, start = 0, scan = 0, fill = 0;
  char *buf = mlr_xmalloc(cap);
  int rc = 0;
  bool eof = false;
  while (rc == 0 && !p.done) {
    char *nl = memchr(buf + scan, '\n', fill - scan);
    if (nl) {
      p.line++;
      rc = parse_line(&p, buf + start, nl);
      start = scan = (size_t)(nl + 1 - buf);
      continue;
    }
    scan = fill;
    if (fill > start) { /* a line still being read: refuse garbage now */
      p.line++;
      rc = check_line(&p, buf + start, fill - start);
      p.line--;
      if (rc) break;
    }
    if (eof) {
      p.line++;
      if (fill > start)
        rc = perr(&p, p.line == 1 ? not_dump : "truncated dump: the last line has no newline");
      else if (p.line == 1)
        rc = perr(&p, "empty file");
      else
        p.line--;
      break;
    }
    if (start > 0) { /* keep the partial line at the front */
      memmove(buf, buf + start, fill - start);
      fill -= start;
      scan -= start;
      start = 0;
    }
    int n = gzread(f, buf + fill, (unsigned)(cap - fill));
    if (n < 0) {
      int e = errno, zerr = Z_OK;
      const char *zmsg = gzerror(f, &zerr);
      if (zerr == Z_ERRNO)
        rc = mlr_fail(err, "%s: %s", name, strerror(e == 0 ? EIO : e));
      else
        rc = mlr_fail(err, "%s: bad compressed data (%s)", name, zmsg);
      break;
    }
    fill += (size_t)n;
    eof = n == 0;
    if (!header_only) mlr_progress_tick(&pr, 0, 0);
  }
  free(buf);
  gzclose(f);
  rc = parser_finish(&p, rc);
  if (!header_only) mlr_progress_end(&pr);
  return rc;
}

int mlr_dump_read(const char *path, mlr_dump_t *out, mlr_err_t *err) {
  return read_stream(path, out, err, false);
}

int mlr_dump_read_header(const char *path, mlr_dump_t *out, mlr_err_t *err) {
  return read_stream(path, out, err, true);
}

/* ---- progress ------------------------------------------------------------------ */

bool mlr_progress_quiet;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void mlr_progress_begin(mlr_progress_t *p, const char *fmt, ...) {
  memset(p, 0, sizeof *p);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->what, sizeof p->what, fmt, ap);
  va_end(ap);
  p->t0 = now_s();
  p->pct = -1;
  p->after = 2.0;
  const char *v = getenv("MEMLEDGER_PROGRESS_AFTER"); // for tests
  if (v && *v) {
    char *end;
    double x = strtod(v, &end);
    if (!*end && x >= 0) p->after = x;
  }
}

void mlr_progress_tick(mlr_progress_t *p, size_t done, size_t total) {
  if (mlr_progress_quiet) return;
  if (!p->shown) {
    if (now_s() - p->t0 < p->after) return;
    p->shown = true;
    p->tty = isatty(2);
    fprintf(stderr, "memledger: %s...", p->what);
  }
  if (p->tty && total) {
    int pct = (int)(done * 100 / total);
    if (pct != p->pct) {
      fprintf(stderr, "\rmemledger: %s... %d%%", p->what, pct);
      p->pct = pct;
    }
  }
}

void mlr_progress_end(mlr_progress_t *p) {
  mlr_progress_tick(p, 0, 0); // a step that took long without a tick
  if (!p->shown) return;
  double t = now_s() - p->t0;
  if (p->tty) fprintf(stderr, "\r\033[Kmemledger: %s...", p->what); // drop the percentage
  fprintf(stderr, " done in %.1f s\n", t);
  p->shown = false;
}

/* ---- -o FILE ---------------------------------------------------------------------- */

int mlr_out_open(mlr_out_t *o, const char *path, mlr_err_t *err) {
  memset(o, 0, sizeof *o);
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { // /dev/null, a FIFO, a tty
    o->f = fopen(path, "w");
    if (!o->f) return mlr_fail(err, "%s: %s", path, strerror(errno));
    o->path = mlr_xstrdup(path);
    return 0;
  }
  const char *slash = strrchr(path, '/');
  int dlen = slash ? (int)(slash - path + 1) : 0;
  if (asprintf(&o->tmp, "%.*s.%s.XXXXXX", dlen, path, slash ? slash + 1 : path) < 0) mlr_oom();
  int fd = mkstemp(o->tmp);
  if (fd < 0) {
    int e = errno;
    free(o->tmp);
    o->tmp = NULL;
    return mlr_fail(err, "%s: %s", path, strerror(e));
  }
  mode_t um = umask(0); // the mode fopen would give: 0666 less the umask
  umask(um);
  fchmod(fd, 0666 & ~um);
  o->f = fdopen(fd, "w");
  if (!o->f) mlr_oom();
  o->path = mlr_xstrdup(path);
  return 0;
}

int mlr_out_commit(mlr_out_t *o, mlr_err_t *err) {
  int rc = 0;
  bool bad = fflush(o->f) != 0 || ferror(o->f);
  int e = errno;
  if (fclose(o->f) != 0 && !bad) bad = true, e = errno;
  o->f = NULL;
  if (bad) {
    rc = mlr_fail(err, "%s: %s", o->path, strerror(e ? e : EIO));
  } else if (o->tmp && rename(o->tmp, o->path) != 0) {
    rc = mlr_fail(err, "%s: %s", o->path, strerror(errno));
  }
  if (rc && o->tmp) unlink(o->tmp);
  free(o->tmp);
  free(o->path);
  memset(o, 0, sizeof *o);
  return rc;
}

void mlr_out_abort(mlr_out_t *o) {
  if (o->f) fclose(o->f);
  if (o->tmp) unlink(o->tmp);
  free(o->tmp);
  free(o->path);
  memset(o, 0, sizeof *o);
}

/* ---- leak kinds ------------------------------------------------------------------- */

static const char *const kind_words[MLR_KIND_COUNT] = {"-", "definite", "indirect",
                                                       "possible", "reachable"};

const char *mlr_kind_word(mlr_kind_t k) {
  return (unsigned)k < MLR_KIND_COUNT ? kind_words[k] : "-";
}

int mlr_kind_parse(const char *s, size_t n, mlr_kind_t *out) {
  for (int k = 0; k < MLR_KIND_COUNT; k++)
    if (strlen(kind_words[k]) == n && memcmp(s, kind_words[k], n) == 0) {
      *out = (mlr_kind_t)k;
      return 0;
    }
  return -1;
}

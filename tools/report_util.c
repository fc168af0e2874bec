/* SPDX-License-Identifier: MIT */
/*
 * report_util.c - helpers of the report_priv.h family used by every output
 * format: frame grouping per raw address, module lookup and names, output
 * errors, escaping of hostile strings, and two small hash tables (strings
 * and addresses to indices) for deduplicating output tables.
 *
 * Runs in the memledger command: allocates with malloc, never exits.
 */
#include "report_priv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t mlr_frames_at(const mlr_stack_t *s, size_t i, size_t *pos, const mlr_frame_t **first) {
  if (!s->frames || i >= s->nraw) return 0;
  size_t j = *pos;
  // A symbolizer that gave no frame for an address: find the next one that
  // matches, leaving the cursor alone when there is none.
  while (j < s->nframes && s->frames[j].addr != s->raw[i]) j++;
  if (j >= s->nframes) return 0;
  size_t k = j;
  while (k < s->nframes && s->frames[k].addr == s->raw[i]) {
    bool inlined = s->frames[k].inlined;
    k++;
    if (!inlined) break;
  }
  *first = &s->frames[j];
  *pos = k;
  return k - j;
}

/* A module without a path (a hand-built report) or one whose path ends in
 * '/' keeps a name. */
const char *mlr_module_name(const mlr_dump_t *d, int module) {
  if (module < 0 || (size_t)module >= d->nmodules || !d->modules[module].path) return "?";
  const char *p = d->modules[module].path;
  const char *slash = strrchr(p, '/');
  return slash && slash[1] ? slash + 1 : p;
}

int mlr_module_of(const mlr_dump_t *d, uint64_t addr) {
  for (size_t i = 0; i < d->nmodules; i++)
    if (addr >= d->modules[i].lo && addr < d->modules[i].hi) return (int)i;
  return -1;
}

int mlr_io_error(mlr_err_t *err, const char *format) {
  int e = errno;
  if (err)
    snprintf(err->msg, sizeof err->msg, "writing the %s report: %s", format,
             e ? strerror(e) : "I/O error");
  return -1;
}

// ---- hostile strings ------------------------------------------------------------
size_t mlr_utf8_len(const unsigned char *p) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
  else return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0; // also stops at the NUL
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

/* Copies handed out by mlr_safe and mlr_utf8_fix: the oldest is freed when
 * the ring comes round. */
static char *ring[8];
static unsigned ring_next;
static const char *ring_keep(char *copy) {
  if (!copy) return "(no memory)";
  free(ring[ring_next]);
  ring[ring_next] = copy;
  ring_next = (ring_next + 1) % 8;
  return copy;
}

static bool is_c1(const unsigned char *p, size_t n) { return n == 2 && p[0] == 0xc2 && p[1] < 0xa0; }

const char *mlr_safe(const char *s) {
  if (!s) return s;
  size_t extra = 0, len = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = mlr_utf8_len(p);
    if (n == 0 || *p < 0x20 || *p == 0x7f) extra += 3, n = n ? n : 1;
    else if (is_c1(p, n)) extra += 4;
    p += n, len += n;
  }
  if (!extra) return s;
  char *out = malloc(len + extra + 1), *o = out;
  if (!out) return ring_keep(NULL);
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = mlr_utf8_len(p);
    if (n == 0 || *p < 0x20 || *p == 0x7f) {
      o += sprintf(o, "\\x%02x", *p);
      p++;
    } else if (is_c1(p, n)) {
      o += sprintf(o, "\\u%04x", p[1]);
      p += 2;
    } else {
      memcpy(o, p, n);
      o += n, p += n;
    }
  }
  *o = 0;
  return ring_keep(out);
}

const char *mlr_utf8_fix(const char *s) {
  if (!s) return s;
  size_t bad = 0, len = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = mlr_utf8_len(p);
    if (!n) bad++, n = 1;
    p += n, len += n;
  }
  if (!bad) return s;
  char *out = malloc(len + 2 * bad + 1), *o = out;
  if (!out) return ring_keep(NULL);
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = mlr_utf8_len(p);
    if (!n) {
      memcpy(o, "\xef\xbf\xbd", 3); // U+FFFD
      o += 3, p++;
    } else {
      memcpy(o, p, n);
      o += n, p += n;
    }
  }
  *o = 0;
  return ring_keep(out);
}

void mlr_xml_str(FILE *out, const char *s) {
  for (s = mlr_safe(s); s && *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", out); break;
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '"': fputs("&quot;", out); break;
    case '\'': fputs("&#39;", out); break;
    default:
      if (s[0] == '\xef' && s[1] == '\xbf' && (s[2] == '\xbe' || s[2] == '\xbf')) {
        fputs(s[2] == '\xbe' ? "\\uFFFE" : "\\uFFFF", out);
        s += 2;
      } else {
        fputc(*s, out);
      }
    }
  }
}

// ---- string table --------------------------------------------------------------
uint64_t mlr_hash_str(const char *s) { // FNV-1a
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static uint64_t hash_u64(uint64_t x) { // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static int strtab_grow(mlr_strtab_t *t) {
  size_t cap = t->cap ? t->cap * 2 : 64;
  uint32_t *slots = calloc(cap, sizeof *slots);
  char **strs = realloc(t->strs, cap / 2 * sizeof *strs);
  if (!slots || !strs) {
    free(slots);
    if (strs) t->strs = strs;
    return -1;
  }
  t->strs = strs;
  for (size_t i = 0; i < t->n; i++) {
    size_t h = mlr_hash_str(strs[i]) & (cap - 1);
    while (slots[h]) h = (h + 1) & (cap - 1);
    slots[h] = (uint32_t)i + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->cap = cap;
  return 0;
}

long mlr_strtab_add(mlr_strtab_t *t, const char *s) {
  if (!s) s = "";
  if (t->cap) {
    size_t h = mlr_hash_str(s) & (t->cap - 1);
    for (; t->slots[h]; h = (h + 1) & (t->cap - 1))
      if (strcmp(t->strs[t->slots[h] - 1], s) == 0) return (long)t->slots[h] - 1;
  }
  if ((t->n + 1) * 2 > t->cap && strtab_grow(t) < 0) return -1;
  char *copy = strdup(s);
  if (!copy) return -1;
  size_t h = mlr_hash_str(s) & (t->cap - 1);
  while (t->slots[h]) h = (h + 1) & (t->cap - 1);
  t->strs[t->n] = copy;
  t->slots[h] = (uint32_t)++t->n;
  return (long)t->n - 1;
}

void mlr_strtab_free(mlr_strtab_t *t) {
  for (size_t i = 0; i < t->n; i++) free(t->strs[i]);
  free(t->strs);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

// ---- address map ----------------------------------------------------------------
long mlr_u64map_get(const mlr_u64map_t *m, uint64_t key) {
  if (!m->cap) return -1;
  for (size_t h = hash_u64(key) & (m->cap - 1); m->vals[h]; h = (h + 1) & (m->cap - 1))
    if (m->keys[h] == key) return (long)m->vals[h] - 1;
  return -1;
}

static void u64map_place(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t key, uint32_t v) {
  size_t h = hash_u64(key) & (cap - 1);
  while (vals[h] && keys[h] != key) h = (h + 1) & (cap - 1);
  keys[h] = key;
  vals[h] = v;
}

int mlr_u64map_put(mlr_u64map_t *m, uint64_t key, uint32_t val) {
  if ((m->n + 1) * 2 > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
      free(keys);
      free(vals);
      return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->vals[i]) u64map_place(keys, vals, cap, m->keys[i], m->vals[i]);
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
  }
  if (mlr_u64map_get(m, key) < 0) m->n++;
  u64map_place(m->keys, m->vals, m->cap, key, val + 1);
  return 0;
}

void mlr_u64map_free(mlr_u64map_t *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

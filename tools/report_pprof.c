/* SPDX-License-Identifier: MIT */
/*
 * report_pprof.c - `memledger report --format pprof`: a gzipped
 * perftools.profiles.Profile (github.com/google/pprof proto/profile.proto),
 * for `pprof`, `go tool pprof` and the tools that import it
 * (doc/report-formats.md).
 *
 * Runs in the memledger command: builds the whole message in memory with a
 * hand-written protobuf encoder (varints and length-delimited fields only),
 * then deflates it to out with zlib's gzip wrapper.  The output depends on
 * the report only (gzip header time 0), so it can be compared byte for byte.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report_priv.h"

// ---- protobuf encoding ------------------------------------------------------
/* Field numbers of profile.proto (a copy is tests/tools-formats/profile.proto). */
enum {
  PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
  PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9,
  PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12, PROFILE_COMMENT = 13,
  PROFILE_DEFAULT_SAMPLE_TYPE = 14,
  VALUETYPE_TYPE = 1, VALUETYPE_UNIT = 2,
  SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
  LABEL_KEY = 1, LABEL_NUM = 3,
  MAPPING_ID = 1, MAPPING_MEMORY_START = 2, MAPPING_MEMORY_LIMIT = 3, MAPPING_FILE_OFFSET = 4,
  MAPPING_FILENAME = 5, MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7,
  MAPPING_HAS_FILENAMES = 8, MAPPING_HAS_LINE_NUMBERS = 9, MAPPING_HAS_INLINE_FRAMES = 10,
  LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4,
  LINE_FUNCTION_ID = 1, LINE_LINE = 2,
  FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
};
enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

typedef struct pb_s {
  unsigned char *p;
  size_t n, cap;
  bool oom; // sticky: set by the first failed growth, checked once at the end
} pb_t;

static void pb_put(pb_t *b, const void *data, size_t len) {
  if (b->oom || len == 0) return; // data may be NULL then (an empty buffer)
  if (b->n + len > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + len) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, len);
  b->n += len;
}

static void pb_varint(pb_t *b, uint64_t v) {
  unsigned char tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  pb_put(b, tmp, n);
}

static void pb_tag(pb_t *b, unsigned field, unsigned wire) { pb_varint(b, (uint64_t)field << 3 | wire); }

/* A scalar field; zero is the default and is left out (proto3). */
static void pb_uint(pb_t *b, unsigned field, uint64_t v) {
  if (!v) return;
  pb_tag(b, field, WIRE_VARINT);
  pb_varint(b, v);
}

static void pb_bytes(pb_t *b, unsigned field, const void *data, size_t len) {
  pb_tag(b, field, WIRE_LEN);
  pb_varint(b, len);
  pb_put(b, data, len);
}

/* Appends sub as an embedded message and empties sub for the next one. */
static void pb_msg(pb_t *b, unsigned field, pb_t *sub) {
  if (sub->oom) b->oom = true;
  pb_bytes(b, field, sub->p, sub->n);
  sub->n = 0;
}

static void pb_free(pb_t *b) { free(b->p); }

// ---- the profile's tables -------------------------------------------------
typedef struct loc_s {
  uint64_t addr;             // the raw return address
  int module;                // -1: no mapping
  const mlr_frame_t *frames; // its symbolized frames (inlined first), or NULL
  size_t nframes;
  bool pseudo;               // frames is a frame of its own (freed at the end)
} loc_t;

typedef struct prof_s {
  const mlr_report_t *r;
  mlr_strtab_t strs;
  mlr_u64map_t loc_of_addr;  // raw address -> index in locs
  loc_t *locs;
  size_t nlocs, caplocs;
  mlr_u64map_t fn_of_key;    // name index << 32 | file index -> function id - 1
  size_t nfuncs;
  uint32_t *mapping_of;      // module index -> mapping id (0: none)
  long loc_no_stack[2];      // pseudo-locations: stack id 0, other empty stacks
  bool oom;
} prof_t;

static int64_t str(prof_t *pf, const char *s) {
  long i = mlr_strtab_add(&pf->strs, s ? mlr_utf8_fix(s) : ""); // proto strings are UTF-8
  if (i < 0) pf->oom = true;
  return i < 0 ? 0 : i;
}

/* The location of raw address i of s (new ones are added). */
static long location(prof_t *pf, const mlr_stack_t *s, size_t i, size_t *pos) {
  const mlr_frame_t *first = NULL;
  size_t n = mlr_frames_at(s, i, pos, &first);
  long id = mlr_u64map_get(&pf->loc_of_addr, s->raw[i]);
  if (id >= 0) return id;
  if (pf->nlocs == pf->caplocs) {
    size_t cap = pf->caplocs ? pf->caplocs * 2 : 64;
    loc_t *l = realloc(pf->locs, cap * sizeof *l);
    if (!l) return -1;
    pf->locs = l;
    pf->caplocs = cap;
  }
  loc_t *l = &pf->locs[pf->nlocs];
  l->addr = s->raw[i];
  l->pseudo = false;
  l->frames = n ? first : NULL;
  l->nframes = n;
  l->module = n && first[n - 1].module >= 0 ? first[n - 1].module
                                            : mlr_module_of(pf->r->dump, s->raw[i]);
  if (mlr_u64map_put(&pf->loc_of_addr, l->addr, (uint32_t)pf->nlocs) < 0) return -1;
  return (long)pf->nlocs++;
}

/* A location without address or mapping whose only frame is name. */
static long pseudo_location(prof_t *pf, const char *name) {
  if (pf->nlocs == pf->caplocs) {
    size_t cap = pf->caplocs ? pf->caplocs * 2 : 64;
    loc_t *l = realloc(pf->locs, cap * sizeof *l);
    if (!l) return -1;
    pf->locs = l;
    pf->caplocs = cap;
  }
  mlr_frame_t *f = calloc(1, sizeof *f);
  if (!f) return -1;
  f->module = -1;
  f->function = name;
  pf->locs[pf->nlocs] = (loc_t){.addr = 0, .module = -1, .frames = f, .nframes = 1, .pseudo = true};
  return (long)pf->nlocs++;
}

/* Writes the Function message when (name, file) is new; returns its id. */
static uint64_t function(prof_t *pf, pb_t *out, pb_t *sub, const mlr_frame_t *f) {
  int64_t name = str(pf, f->function), file = str(pf, f->file);
  uint64_t key = (uint64_t)name << 32 | (uint64_t)file;
  long id = mlr_u64map_get(&pf->fn_of_key, key);
  if (id >= 0) return (uint64_t)id + 1;
  id = (long)pf->nfuncs++;
  if (mlr_u64map_put(&pf->fn_of_key, key, (uint32_t)id) < 0) pf->oom = true;
  pb_uint(sub, FUNCTION_ID, (uint64_t)id + 1);
  pb_uint(sub, FUNCTION_NAME, (uint64_t)name);
  // Only the demangled name is known: it is the system name as well.
  pb_uint(sub, FUNCTION_SYSTEM_NAME, (uint64_t)name);
  pb_uint(sub, FUNCTION_FILENAME, (uint64_t)file);
  pb_msg(out, PROFILE_FUNCTION, sub);
  return (uint64_t)id + 1;
}

static void value_type(prof_t *pf, pb_t *out, pb_t *sub, unsigned field, const char *type,
                       const char *unit) {
  pb_uint(sub, VALUETYPE_TYPE, (uint64_t)str(pf, type));
  pb_uint(sub, VALUETYPE_UNIT, (uint64_t)str(pf, unit));
  pb_msg(out, field, sub);
}

static void comment(prof_t *pf, pb_t *out, const char *text) {
  pb_uint(out, PROFILE_COMMENT, (uint64_t)str(pf, text));
}

/* The main program first: pprof takes mapping[0] as the main binary. */
static void mappings(prof_t *pf, pb_t *out, pb_t *sub) {
  const mlr_dump_t *d = pf->r->dump;
  const char *exe = mlr_kv_get(d->header, d->nheader, "exe");
  size_t n = d->nmodules;
  size_t *order = malloc((n ? n : 1) * sizeof *order), k = 0;
  if (!order) {
    pf->oom = true;
    return;
  }
  for (size_t i = 0; i < n; i++)
    if (exe && d->modules[i].path && strcmp(d->modules[i].path, exe) == 0) order[k++] = i;
  for (size_t i = 0; i < n; i++)
    if (!(exe && d->modules[i].path && strcmp(d->modules[i].path, exe) == 0)) order[k++] = i;

  // A mapping "has functions" (etc.) when every location in it has them;
  // pprof would otherwise try to symbolize it again.
  // A mapping without locations claims nothing.
  bool *fn = malloc((n ? n : 1) * 4 * sizeof *fn);
  if (!fn) {
    free(order);
    pf->oom = true;
    return;
  }
  for (size_t i = 0; i < n * 3; i++) fn[i] = true;
  bool *used = fn + n * 3;
  for (size_t i = 0; i < n; i++) used[i] = false;
  for (size_t i = 0; i < pf->nlocs; i++) {
    const loc_t *l = &pf->locs[i];
    if (l->module < 0) continue;
    used[l->module] = true;
    bool has_fn = l->nframes > 0, has_file = l->nframes > 0, has_line = l->nframes > 0;
    for (size_t j = 0; j < l->nframes; j++) {
      has_fn &= l->frames[j].function != NULL;
      has_file &= l->frames[j].file != NULL;
      has_line &= l->frames[j].line != 0;
    }
    fn[l->module * 3] &= has_fn;
    fn[l->module * 3 + 1] &= has_file;
    fn[l->module * 3 + 2] &= has_line;
  }
  for (size_t k2 = 0; k2 < n; k2++) {
    size_t i = order[k2];
    const mlr_module_t *m = &d->modules[i];
    pf->mapping_of[i] = (uint32_t)k2 + 1;
    pb_uint(sub, MAPPING_ID, k2 + 1);
    pb_uint(sub, MAPPING_MEMORY_START, m->lo);
    pb_uint(sub, MAPPING_MEMORY_LIMIT, m->hi);
    // lo is where the first PT_LOAD segment (file offset 0) is mapped.
    pb_uint(sub, MAPPING_FILE_OFFSET, 0);
    pb_uint(sub, MAPPING_FILENAME, (uint64_t)str(pf, m->path));
    if (m->build_id) pb_uint(sub, MAPPING_BUILD_ID, (uint64_t)str(pf, m->build_id));
    pb_uint(sub, MAPPING_HAS_FUNCTIONS, used[i] && fn[i * 3]);
    pb_uint(sub, MAPPING_HAS_FILENAMES, used[i] && fn[i * 3 + 1]);
    pb_uint(sub, MAPPING_HAS_LINE_NUMBERS, used[i] && fn[i * 3 + 2]);
    pb_uint(sub, MAPPING_HAS_INLINE_FRAMES, used[i] && fn[i * 3]);
    pb_msg(out, PROFILE_MAPPING, sub);
  }
  free(fn);
  free(order);
}

static int build(prof_t *pf, pb_t *out) {
  const mlr_report_t *r = pf->r;
  const mlr_dump_t *d = r->dump;
  pb_t sub = {0}, sub2 = {0}, ids = {0}, vals = {0};

  str(pf, ""); // string_table[0] must be ""
  value_type(pf, out, &sub, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
  value_type(pf, out, &sub, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
  int64_t stack_id_key = str(pf, "stack_id");

  // Samples: every shown stack (the viewers rank and cut by themselves).
  for (size_t si = 0; si < r->nshown; si++) {
    const mlr_stack_t *s = r->shown[si];
    size_t pos = 0;
    if (s->nraw == 0) { // a pseudo-frame, so that the blocks show somewhere
      long l = s->id == 0 ? pf->loc_no_stack[0] : pf->loc_no_stack[1];
      if (l < 0) {
        l = pseudo_location(pf, s->id == 0 ? "[stack table full]" : "[no frames]");
        pf->loc_no_stack[s->id == 0 ? 0 : 1] = l;
      }
      if (l < 0) pf->oom = true;
      else pb_varint(&ids, (uint64_t)l + 1);
    }
    for (size_t i = 0; i < s->nraw; i++) {
      long l = location(pf, s, i, &pos);
      if (l < 0) {
        pf->oom = true;
        break;
      }
      pb_varint(&ids, (uint64_t)l + 1); // leaf first, as in the dump
    }
    pb_bytes(&sub, SAMPLE_LOCATION_ID, ids.p, ids.n); // packed
    pb_varint(&vals, s->blocks);
    pb_varint(&vals, s->bytes);
    pb_bytes(&sub, SAMPLE_VALUE, vals.p, vals.n);
    pb_uint(&sub2, LABEL_KEY, (uint64_t)stack_id_key);
    pb_tag(&sub2, LABEL_NUM, WIRE_VARINT); // written even when the id is 0
    pb_varint(&sub2, s->id);
    pb_msg(&sub, SAMPLE_LABEL, &sub2);
    if (ids.oom || vals.oom) pf->oom = true;
    ids.n = vals.n = 0;
    pb_msg(out, PROFILE_SAMPLE, &sub);
  }

  pf->mapping_of = calloc(d->nmodules ? d->nmodules : 1, sizeof *pf->mapping_of);
  if (!pf->mapping_of) pf->oom = true;
  else mappings(pf, out, &sub);

  // Locations, and their functions as they come.
  pb_t fns = {0}, fsub = {0};
  for (size_t i = 0; i < pf->nlocs && !pf->oom; i++) {
    const loc_t *l = &pf->locs[i];
    pb_uint(&sub, LOCATION_ID, i + 1);
    if (l->module >= 0) pb_uint(&sub, LOCATION_MAPPING_ID, pf->mapping_of[l->module]);
    // The call instruction (return address - 1), as the pprof tools
    // themselves record non-leaf frames of legacy profiles.
    pb_uint(&sub, LOCATION_ADDRESS, l->addr ? l->addr - 1 : 0);
    for (size_t j = 0; j < l->nframes; j++) { // innermost (inlined) first
      const mlr_frame_t *f = &l->frames[j];
      if (!f->function) continue;
      pb_uint(&sub2, LINE_FUNCTION_ID, function(pf, &fns, &fsub, f));
      pb_uint(&sub2, LINE_LINE, f->line);
      pb_msg(&sub, LOCATION_LINE, &sub2);
    }
    pb_msg(out, PROFILE_LOCATION, &sub);
  }
  pb_put(out, fns.p, fns.n);
  if (fns.oom || fsub.oom) pf->oom = true;
  pb_free(&fns);
  pb_free(&fsub);

  // Informational fields.
  const char *ns = mlr_kv_get(d->header, d->nheader, "unix_time_ns");
  if (ns) pb_uint(out, PROFILE_TIME_NANOS, strtoull(ns, NULL, 10));
  value_type(pf, out, &sub, PROFILE_PERIOD_TYPE, "space", "bytes");
  pb_uint(out, PROFILE_PERIOD, 1); // not sampled: every tracked block counts
  char line[1024];
  const char *v;
  snprintf(line, sizeof line, "memledger dump %s", d->path ? d->path : "-");
  comment(pf, out, line);
  const char *keys[] = {"exe", "pid", "time", "trigger"};
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
    if ((v = mlr_kv_get(d->header, d->nheader, keys[k]))) {
      snprintf(line, sizeof line, "%s: %s", keys[k], v);
      comment(pf, out, line);
    }
  if ((v = mlr_kv_get(d->header, d->nheader, "threshold"))) {
    snprintf(line, sizeof line, "tracked: blocks of usable size >= %s bytes", v);
    comment(pf, out, line);
  }
  if (r->nsuppressed) {
    snprintf(line, sizeof line, "suppressed (not in the samples): %zu stack%s, %llu blocks, %llu bytes",
             r->nsuppressed, r->nsuppressed == 1 ? "" : "s", (unsigned long long)r->suppressed_blocks,
             (unsigned long long)r->suppressed_bytes);
    comment(pf, out, line);
  }
  pb_uint(out, PROFILE_DEFAULT_SAMPLE_TYPE,
          (uint64_t)str(pf, r->weight == MLR_WEIGHT_COUNT ? "inuse_objects" : "inuse_space"));

  // The string table last: every string is known by now.
  for (size_t i = 0; i < pf->strs.n; i++)
    pb_bytes(out, PROFILE_STRING_TABLE, pf->strs.strs[i], strlen(pf->strs.strs[i]));

  if (sub.oom || sub2.oom || out->oom) pf->oom = true;
  pb_free(&sub);
  pb_free(&sub2);
  pb_free(&ids);
  pb_free(&vals);
  return pf->oom ? -1 : 0;
}

static int gzip_to(FILE *out, const unsigned char *data, size_t len) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  // windowBits 15 + 16: a gzip wrapper (header time 0, no name)
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return -1;
  unsigned char buf[16384];
  int rc = 0, zr;
  zs.next_in = (unsigned char *)data;
  do {
    size_t chunk = len > (1u << 30) ? (1u << 30) : len;
    zs.avail_in = (uInt)chunk;
    len -= chunk;
    do {
      zs.next_out = buf;
      zs.avail_out = sizeof buf;
      zr = deflate(&zs, len ? Z_NO_FLUSH : Z_FINISH);
      if (zr == Z_STREAM_ERROR) {
        rc = -1;
        break;
      }
      size_t have = sizeof buf - zs.avail_out;
      if (have && fwrite(buf, 1, have, out) != have) {
        rc = -1;
        break;
      }
    } while (zs.avail_out == 0);
  } while (rc == 0 && len);
  if (rc == 0 && zr != Z_STREAM_END) rc = -1;
  deflateEnd(&zs);
  return rc;
}

int mlr_format_pprof(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o,
                     mlr_err_t *err) {
  (void)o;
  prof_t pf = {.r = r, .loc_no_stack = {-1, -1}};
  pb_t msg = {0};
  int rc = build(&pf, &msg);
  if (rc < 0) {
    snprintf(err->msg, sizeof err->msg, "writing the pprof report: out of memory");
  } else if (gzip_to(out, msg.p, msg.n) < 0 || fflush(out) == EOF || ferror(out)) {
    rc = mlr_io_error(err, "pprof");
  }
  pb_free(&msg);
  for (size_t i = 0; i < pf.nlocs; i++)
    if (pf.locs[i].pseudo) free((void *)pf.locs[i].frames);
  free(pf.locs);
  free(pf.mapping_of);
  mlr_strtab_free(&pf.strs);
  mlr_u64map_free(&pf.loc_of_addr);
  mlr_u64map_free(&pf.fn_of_key);
  return rc;
}

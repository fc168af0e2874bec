/* SPDX-License-Identifier: MIT */
/*
 * report_build.c - from a symbolized dump to a report: filters (--module,
 * --function: POSIX extended regular expressions), suppression rules (the
 * built-in defaults and --suppress files), --alloc-fn and --hide
 * (report_trim.c), sorting; the diff of two reports is in report_diff.c.
 * Runs outside the target process.  Reports point into their dump and into
 * the suppression list (rule names): both must outlive the report.
 */
#include "report_priv.h"

#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* ---- suppression rules ------------------------------------------------------------
 * A file of rules separated by blank lines; '#' starts a comment line.  Keys:
 *   name: TEXT        what the summary calls the rule
 *   function: GLOB    a frame's (demangled) function name
 *   module: GLOB      a frame's module: the full path when GLOB has a '/',
 *                     else the file name ("libc.so.6")
 *   file: GLOB        a frame's source file (same '/' rule)
 *   depth: N          examine only the N innermost frames (default: all)
 *   within: GLOB      every frame of the stack is in a module matching one
 *                     of the rule's within globs (library start-up code)
 * Several lines with the same key are alternatives; different keys must all
 * hold for one frame.  A stack is suppressed by the first rule that matches.
 * LeakSanitizer's lines are accepted beside them, each a rule of its own
 * (it ends a rule above it, as a blank line would):
 *   leak:PATTERN      some frame's function, source file or module path
 *                     contains PATTERN; '*' matches anything, a leading '^'
 *                     anchors it at the start, a trailing '$' at the end
 *                     (sanitizer_common's TemplateMatch).
 * A dump may carry the program's own rules (memledger_default_suppressions,
 * its header's "suppression" lines): they apply after the list's when the
 * list has the built-in rules (--no-default-suppressions turns both off). */

typedef struct globs_s {
  char **v;
  size_t n;
} globs_t;

typedef struct rule_s {
  char *name;
  globs_t function, module, file, within;
  globs_t lsan; // leak:PATTERN as a glob: function, file or module path
  unsigned depth;
} rule_t;

struct mlr_supp_s {
  rule_t *rules;
  size_t n, cap;
  bool defaults; // has the built-in rules (then a dump's own rules apply)
};

static const char default_rules[] =
    "# the built-in rules (memledger --no-default-suppressions turns them off);\n"
    "# glibc's own names may carry its internal prefixes (__GI_, __libc_)\n"
    "name: libc stdio buffers\n"
    "function: *_IO_file_doallocate\n"
    "\n"
    "name: libc locale data\n"
    "function: *setlocale\n"
    "function: *_nl_*\n"
    "\n"
    "name: libc iconv/gconv configuration\n"
    "function: *__gconv_load_cache\n"
    "function: *__gconv_read_conf\n"
    "function: *__gconv_get_path\n"
    "\n"
    "name: libc one-time tables\n"
    "function: *nss_load_library\n"
    "function: *__nss_module_load\n"
    "function: *__nss_database_*\n"
    "function: *__tzfile_read\n"
    "function: *tzset_internal\n"
    "\n"
    "name: dynamic loader (ld.so)\n"
    "module: ld-linux*.so*\n"
    "module: ld64.so*\n"
    "module: ld.so*\n"
    "depth: 1\n"
    "\n"
    "name: libstdc++ emergency exception pool\n"
    "function: *pool::pool*\n"
    "file: *eh_alloc.cc\n"
    "\n"
    "name: libstdc++ emergency exception pool\n"
    "within: libstdc++.so*\n"
    "within: ld-linux*.so*\n"
    "within: ld64.so*\n"
    "within: ld.so*\n"
    "\n"
    "name: libstdc++ locale and iostream initialisation\n"
    "function: std::locale::_S_initialize*\n"
    "function: std::ios_base::Init::Init*\n";

static void globs_add(globs_t *g, const char *s) {
  g->v = mlr_xrealloc(g->v, (g->n + 1) * sizeof *g->v);
  g->v[g->n++] = mlr_xstrdup(s);
}
static void globs_free(globs_t *g) {
  for (size_t i = 0; i < g->n; i++)
    free(g->v[i]);
  free(g->v);
}

void mlr_supp_free(mlr_supp_t *list) {
  if (!list) return;
  for (size_t i = 0; i < list->n; i++) {
    rule_t *r = &list->rules[i];
    free(r->name);
    globs_free(&r->function);
    globs_free(&r->module);
    globs_free(&r->file);
    globs_free(&r->within);
    globs_free(&r->lsan);
  }
  free(list->rules);
  free(list);
}

/* End the open rule cur (started at line start of file name): append it to
 * l.  Returns 0, or -1 with err (the rule has nothing to match). */
static int rule_close(mlr_supp_t *l, rule_t *cur, const char *name, unsigned long start,
                      mlr_err_t *err) {
  if (!cur->function.n && !cur->module.n && !cur->file.n && !cur->within.n &&
      !cur->lsan.n) {
    free(cur->name);
    return mlr_fail(err, "%s:%lu: rule without function, module, file or within", name,
                    start);
  }
  if (!cur->name) {
    char buf[64];
    snprintf(buf, sizeof buf, "rule at line %lu", start);
    const char *base = strrchr(name, '/');
    char *nm;
    if (asprintf(&nm, "%s %s", base ? base + 1 : name, buf) < 0) mlr_oom();
    cur->name = nm;
  }
  if (l->n == l->cap)
    l->rules = mlr_xrealloc(l->rules, (l->cap = l->cap * 2 + 8) * sizeof *l->rules);
  l->rules[l->n++] = *cur;
  memset(cur, 0, sizeof *cur);
  return 0;
}

/* LSan's PATTERN as an fnmatch glob: '*' kept, '^' and '$' anchors turned
 * into the absence of a '*' at that end, fnmatch's other specials escaped
 * (C++ names have brackets). */
static char *lsan_glob(const char *pat, size_t n) {
  bool start = n && pat[0] == '^';
  bool end = n > (size_t)start && pat[n - 1] == '$';
  char *g = mlr_xmalloc(2 * n + 3), *q = g;
  if (!start) *q++ = '*';
  for (size_t i = start; i < n - end; i++) {
    if (pat[i] == '?' || pat[i] == '[' || pat[i] == ']' || pat[i] == '\\') *q++ = '\\';
    *q++ = pat[i];
  }
  if (!end) *q++ = '*';
  *q = 0;
  return g;
}

int mlr_supp_parse(mlr_supp_t **list, const char *name, const char *text,
                   mlr_err_t *err) {
  if (!*list) *list = mlr_xcalloc(1, sizeof **list);
  mlr_supp_t *l = *list;
  rule_t cur = {0};
  unsigned long line = 0, start = 0;
  bool open = false;
  const char *s = text;
  for (;;) {
    const char *nl = strchr(s, '\n');
    const char *end = nl ? nl : s + strlen(s);
    bool eof = !nl && !*s;
    line++;
    const char *b = s;
    while (b < end && (*b == ' ' || *b == '\t'))
      b++;
    const char *e = end;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
      e--;
    bool blank = b == e || eof;
    bool lsan = e - b >= 5 && memcmp(b, "leak:", 5) == 0;
    if ((blank || lsan) && open) {
      if (rule_close(l, &cur, name, start, err)) return -1;
      open = false;
    }
    if (lsan) {
      const char *pat = b + 5;
      while (pat < e && (*pat == ' ' || *pat == '\t'))
        pat++;
      if (pat == e) return mlr_fail(err, "%s:%lu: leak: without a pattern", name, line);
      cur.lsan.v = mlr_xmalloc(sizeof *cur.lsan.v);
      cur.lsan.v[0] = lsan_glob(pat, (size_t)(e - pat));
      cur.lsan.n = 1;
      cur.name = strndup(b, (size_t)(e - b));
      if (!cur.name) mlr_oom();
      if (rule_close(l, &cur, name, line, err)) return -1;
    }
    if (blank || lsan || *b == '#') {
      if (eof) break;
      if (!nl) { /* the last line had no newline */
        s = end;
        continue;
      }
      s = nl + 1;
      continue;
    }
    const char *colon = memchr(b, ':', (size_t)(e - b));
    if (!colon) {
      free(cur.name);
      return mlr_fail(err, "%s:%lu: expected \"key: value\"", name, line);
    }
    char key[32];
    size_t kl = (size_t)(colon - b);
    const char *v = colon + 1;
    while (v < e && (*v == ' ' || *v == '\t'))
      v++;
    char *val = strndup(v, (size_t)(e - v));
    if (!val) mlr_oom();
    if (kl >= sizeof key || !*val) {
      bool empty = !*val;
      free(val);
      free(cur.name);
      return mlr_fail(err, "%s:%lu: %s", name, line,
                      empty ? "empty value" : "unknown key");
    }
    memcpy(key, b, kl);
    key[kl] = 0;
    if (!open) start = line;
    open = true;
    if (!strcmp(key, "name")) {
      free(cur.name);
      cur.name = val;
      val = NULL;
    } else if (!strcmp(key, "function"))
      globs_add(&cur.function, val);
    else if (!strcmp(key, "module"))
      globs_add(&cur.module, val);
    else if (!strcmp(key, "file"))
      globs_add(&cur.file, val);
    else if (!strcmp(key, "within"))
      globs_add(&cur.within, val);
    else if (!strcmp(key, "depth")) {
      char *endp;
      errno = 0;
      unsigned long dv = strtoul(val, &endp, 10);
      if (*endp || errno || dv == 0 || dv > 100000 || val[0] == '-') {
        free(val);
        free(cur.name);
        return mlr_fail(err, "%s:%lu: depth: expected a positive number", name, line);
      }
      cur.depth = (unsigned)dv;
    } else {
      free(val);
      free(cur.name);
      return mlr_fail(
          err, "%s:%lu: unknown key \"%s\" (name, function, module, file, depth, within)",
          name, line, key);
    }
    free(val);
    if (!nl) {
      s = end; /* the last line had no newline: close the rule next round */
      continue;
    }
    s = nl + 1;
  }
  return 0;
}

int mlr_supp_load(mlr_supp_t **list, const char *path, mlr_err_t *err) {
  FILE *f = fopen(path, "r");
  if (!f) return mlr_fail(err, "%s: %s", path, strerror(errno));
  size_t cap = 4096, len = 0;
  char *buf = mlr_xmalloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len - 1 == 0) buf = mlr_xrealloc(buf, cap *= 2);
  }
  int bad = ferror(f);
  fclose(f);
  buf[len] = 0;
  if (bad || memchr(buf, 0, len)) {
    free(buf);
    return mlr_fail(err, "%s:1: %s", path,
                    bad ? "read error" : "binary data in suppression file");
  }
  int rc = mlr_supp_parse(list, path, buf, err);
  free(buf);
  return rc;
}

mlr_supp_t *mlr_supp_defaults(void) {
  mlr_supp_t *l = NULL;
  mlr_err_t err;
  if (mlr_supp_parse(&l, "built-in", default_rules, &err) != 0) {
    fprintf(stderr, "memledger: internal error: %s\n", err.msg);
    abort();
  }
  l->defaults = true;
  return l;
}

/* ---- matching ------------------------------------------------------------------------
 */

static const char *base_of(const char *p) {
  const char *b = strrchr(p, '/');
  return b ? b + 1 : p;
}
/* A path glob: the full path when the glob has a '/', else the base name. */
static bool path_match(const globs_t *g, const char *path) {
  if (!path) return false;
  for (size_t i = 0; i < g->n; i++)
    if (fnmatch(g->v[i], strchr(g->v[i], '/') ? path : base_of(path), 0) == 0)
      return true;
  return false;
}
static bool name_match(const globs_t *g, const char *name) {
  if (!name) return false;
  for (size_t i = 0; i < g->n; i++)
    if (fnmatch(g->v[i], name, 0) == 0) return true;
  return false;
}

static const char *frame_module(const mlr_dump_t *d, const mlr_frame_t *f) {
  return f->module >= 0 && (size_t)f->module < d->nmodules ? d->modules[f->module].path
                                                           : NULL;
}

static bool rule_match(const rule_t *r, const mlr_dump_t *d, const mlr_stack_t *s) {
  if (r->lsan.n) {
    for (size_t i = 0; i < s->nframes; i++) {
      const mlr_frame_t *f = &s->frames[i];
      if (name_match(&r->lsan, f->function) || name_match(&r->lsan, f->file) ||
          name_match(&r->lsan, frame_module(d, f)))
        return true;
    }
    return false;
  }
  if (r->within.n) {
    if (!s->nframes) return false;
    for (size_t i = 0; i < s->nframes; i++)
      if (!path_match(&r->within, frame_module(d, &s->frames[i]))) return false;
    if (!r->function.n && !r->module.n && !r->file.n) return true;
  }
  size_t n = s->nframes;
  if (r->depth && r->depth < n) n = r->depth;
  for (size_t i = 0; i < n; i++) {
    const mlr_frame_t *f = &s->frames[i];
    if (r->function.n && !name_match(&r->function, f->function)) continue;
    if (r->module.n && !path_match(&r->module, frame_module(d, f))) continue;
    if (r->file.n && !path_match(&r->file, f->file)) continue;
    return true;
  }
  return false;
}

/* ---- the report
 * ------------------------------------------------------------------------ */

/* The program's own rules from d's header ("suppression" lines, one per
 * line of its text), or NULL when it has none.  Returns 0, or -1 with err
 * when they do not parse. */
static int dump_rules(const mlr_dump_t *d, mlr_supp_t **out, mlr_err_t *err) {
  *out = NULL;
  size_t len = 0;
  for (size_t i = 0; i < d->nheader; i++)
    if (!strcmp(d->header[i].key, "suppression")) len += strlen(d->header[i].value) + 1;
  if (!len) return 0;
  char *text = mlr_xmalloc(len + 1), *q = text;
  for (size_t i = 0; i < d->nheader; i++) {
    if (strcmp(d->header[i].key, "suppression")) continue;
    size_t n = strlen(d->header[i].value);
    memcpy(q, d->header[i].value, n);
    q[n] = '\n';
    q += n + 1;
  }
  *q = 0;
  char name[4200];
  snprintf(name, sizeof name, "%s: memledger_default_suppressions", d->path);
  int rc = mlr_supp_parse(out, name, text, err);
  free(text);
  if (rc) {
    mlr_supp_free(*out);
    *out = NULL;
  }
  return rc;
}

/* The first rule of l that matches s, or NULL. */
static const rule_t *first_match(const mlr_supp_t *l, const mlr_dump_t *d,
                                 const mlr_stack_t *s) {
  for (size_t k = 0; l && k < l->n; k++)
    if (rule_match(&l->rules[k], d, s)) return &l->rules[k];
  return NULL;
}

static mlr_sort_t g_sort; /* for qsort */
static int cmp_stack(const void *a, const void *b) {
  const mlr_stack_t *x = *(mlr_stack_t *const *)a, *y = *(mlr_stack_t *const *)b;
  uint64_t k1x = g_sort == MLR_SORT_COUNT ? x->blocks : x->bytes;
  uint64_t k1y = g_sort == MLR_SORT_COUNT ? y->blocks : y->bytes;
  uint64_t k2x = g_sort == MLR_SORT_COUNT ? x->bytes : x->blocks;
  uint64_t k2y = g_sort == MLR_SORT_COUNT ? y->bytes : y->blocks;
  if (k1x != k1y) return k1x > k1y ? -1 : 1;
  if (k2x != k2y) return k2x > k2y ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Resource groups: by count then bytes (descriptors, threads) or by bytes
 * then count (mappings), then stack id ("-" last) and kind. */
static int cmp_res(const mlr_resgroup_t *x, const mlr_resgroup_t *y, bool bytes) {
  uint64_t k1x = bytes ? x->bytes : x->count, k1y = bytes ? y->bytes : y->count;
  uint64_t k2x = bytes ? x->count : x->bytes, k2y = bytes ? y->count : y->bytes;
  if (k1x != k1y) return k1x > k1y ? -1 : 1;
  if (k2x != k2y) return k2x > k2y ? -1 : 1;
  if (x->seen != y->seen) return x->seen ? -1 : 1;
  if (x->stack.id != y->stack.id) return x->stack.id < y->stack.id ? -1 : 1;
  return strcmp(x->kind, y->kind);
}
static int cmp_res_count(const void *a, const void *b) {
  return cmp_res(*(mlr_resgroup_t *const *)a, *(mlr_resgroup_t *const *)b, false);
}
static int cmp_res_bytes(const void *a, const void *b) {
  return cmp_res(*(mlr_resgroup_t *const *)a, *(mlr_resgroup_t *const *)b, true);
}

static bool any_frame_re(const regex_t *re, const mlr_dump_t *d, const mlr_stack_t *s,
                         bool module) {
  for (size_t i = 0; i < s->nframes; i++) {
    const char *t = module ? frame_module(d, &s->frames[i]) : s->frames[i].function;
    if (t && regexec(re, t, 0, NULL, 0) == 0) return true;
  }
  return false;
}

int mlr_regcomp(regex_t *re, const char *pat, const char *what, mlr_err_t *err) {
  int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
  if (rc) {
    char msg[256];
    regerror(rc, re, msg, sizeof msg);
    return mlr_fail(err, "--%s '%s': %s", what, pat, msg);
  }
  return 0;
}

int mlr_report_build(mlr_report_t *r, mlr_dump_t *d, const mlr_report_opts_t *o,
                     mlr_err_t *err) {
  memset(r, 0, sizeof *r);
  r->dump = d;
  r->sort = o ? o->sort : MLR_SORT_BYTES;
  r->weight = o ? o->weight : MLR_WEIGHT_BYTES;
  r->top = o ? o->top : 0;
  r->kinds = o && o->kinds ? o->kinds : MLR_KINDS_DEFAULT;
  r->addresses = o && o->addresses;
  regex_t mre, fre;
  bool have_m = o && o->module_re, have_f = o && o->function_re;
  mlr_trim_t *trim = NULL;
  if (have_m && mlr_regcomp(&mre, o->module_re, "module", err)) return -1;
  if (have_f && mlr_regcomp(&fre, o->function_re, "function", err)) {
    if (have_m) regfree(&mre);
    return -1;
  }
  if (mlr_trim_new(&trim, o, err)) {
    if (have_m) regfree(&mre);
    if (have_f) regfree(&fre);
    return -1;
  }
  /* Suppressions see the whole stack, as symbolized: --hide 'std::' must
   * not turn libstdc++'s one-time allocations into leaks. */
  const mlr_supp_t *sp = o ? o->supp : NULL;
  mlr_supp_t *own = NULL; /* the program's: their names are copied into d */
  if (sp && sp->defaults && dump_rules(d, &own, err)) {
    if (have_m) regfree(&mre);
    if (have_f) regfree(&fre);
    mlr_trim_free(trim);
    return -1;
  }
  for (size_t i = 0; i < d->nstacks; i++) {
    mlr_stack_t *s = &d->stacks[i];
    const rule_t *hit = first_match(sp, d, s);
    s->suppressed_by = hit ? hit->name : NULL;
    if (!hit && (hit = first_match(own, d, s))) s->suppressed_by = mlr_pool_strdup(d, hit->name);
  }
  mlr_supp_free(own);
  mlr_trim_apply(trim, d);
  mlr_trim_free(trim);
  r->shown = mlr_xcalloc(d->nstacks, sizeof *r->shown);
  r->suppressed = mlr_xcalloc(d->nstacks, sizeof *r->suppressed);
  for (size_t i = 0; i < d->nstacks; i++) {
    mlr_stack_t *s = &d->stacks[i];
    if (have_m && !any_frame_re(&mre, d, s, true)) continue;
    if (have_f && !any_frame_re(&fre, d, s, false)) continue;
    if (s->suppressed_by) {
      r->suppressed[r->nsuppressed++] = s;
      r->suppressed_blocks += s->blocks;
      r->suppressed_bytes += s->bytes;
      continue;
    }
    r->kind_blocks[s->kind] += s->blocks;
    r->kind_bytes[s->kind] += s->bytes;
    if (s->kind != MLR_KIND_UNKNOWN) r->classified = true;
    if (s->kind != MLR_KIND_UNKNOWN && !(r->kinds & MLR_KINDS_BIT(s->kind))) {
      r->nhidden++;
      r->hidden_blocks += s->blocks;
      r->hidden_bytes += s->bytes;
    } else {
      r->shown[r->nshown++] = s;
      r->shown_blocks += s->blocks;
      r->shown_bytes += s->bytes;
    }
  }
  for (int k = 0; k < MLR_RES_COUNT; k++)
    r->res[k] = mlr_xcalloc(d->nres, sizeof *r->res[k]);
  for (size_t i = 0; i < d->nres; i++) {
    mlr_resgroup_t *g = &d->res[i];
    if (have_m && !any_frame_re(&mre, d, &g->stack, true)) continue;
    if (have_f && !any_frame_re(&fre, d, &g->stack, false)) continue;
    r->res[g->res][r->nres[g->res]++] = g;
    r->res_count[g->res] += g->count;
    r->res_bytes[g->res] += g->bytes;
  }
  for (int k = 0; k < MLR_RES_COUNT; k++)
    qsort(r->res[k], r->nres[k], sizeof *r->res[k],
          k == MLR_RES_MAPPINGS ? cmp_res_bytes : cmp_res_count);
  if (have_m) regfree(&mre);
  if (have_f) regfree(&fre);
  g_sort = r->sort;
  qsort(r->shown, r->nshown, sizeof *r->shown, cmp_stack);
  qsort(r->suppressed, r->nsuppressed, sizeof *r->suppressed, cmp_stack);
  return 0;
}

void mlr_report_free(mlr_report_t *r) {
  free(r->shown);
  for (int k = 0; k < MLR_RES_COUNT; k++)
    free(r->res[k]);
  free(r->suppressed);
  memset(r, 0, sizeof *r);
}

void mlr_report_supp_totals(const mlr_report_t *r,
                            void (*fn)(const char *rule, uint64_t stacks, uint64_t blocks,
                                       uint64_t bytes, void *arg),
                            void *arg) {
  /* Few rules: quadratic in the number of distinct names is fine. */
  const char **names = mlr_xcalloc(r->nsuppressed + 1, sizeof *names);
  size_t nn = 0;
  for (size_t i = 0; i < r->nsuppressed; i++) {
    const char *nm = r->suppressed[i]->suppressed_by;
    size_t k;
    for (k = 0; k < nn; k++)
      if (!strcmp(names[k], nm)) break;
    if (k == nn) names[nn++] = nm;
  }
  for (size_t k = 0; k < nn; k++) {
    uint64_t st = 0, bl = 0, by = 0;
    for (size_t i = 0; i < r->nsuppressed; i++) {
      if (strcmp(r->suppressed[i]->suppressed_by, names[k])) continue;
      st++;
      bl += r->suppressed[i]->blocks;
      by += r->suppressed[i]->bytes;
    }
    fn(names[k], st, bl, by, arg);
  }
  free(names);
}

/* ---- leak kinds ---------------------------------------------------------------- */

const char *mlr_kind_title(mlr_kind_t k) {
  static const char *const t[MLR_KIND_COUNT] = {"unclassified", "definitely lost",
                                                "indirectly lost", "possibly lost",
                                                "still reachable"};
  return (unsigned)k < MLR_KIND_COUNT ? t[k] : t[0];
}

int mlr_kinds_parse(const char *list, unsigned *out, mlr_err_t *err) {
  unsigned k = 0;
  const char *p = list;
  if (!strcmp(list, "all")) {
    *out = MLR_KINDS_ALL;
    return 0;
  }
  if (!strcmp(list, "none")) { /* only what has no kind (old dumps) */
    *out = MLR_KINDS_BIT(MLR_KIND_UNKNOWN);
    return 0;
  }
  while (*p) {
    size_t n = strcspn(p, ",");
    mlr_kind_t kind;
    if (mlr_kind_parse(p, n, &kind) || kind == MLR_KIND_UNKNOWN)
      return mlr_fail(err, "--kinds: '%.*s' is not one of definite, indirect, possible, "
                           "reachable, all, none", (int)n, p);
    k |= MLR_KINDS_BIT(kind);
    p += n;
    if (*p == ',') p++;
  }
  if (!k) return mlr_fail(err, "--kinds: empty list");
  *out = k;
  return 0;
}

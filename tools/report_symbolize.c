/* SPDX-License-Identifier: MIT */
/*
 * report_symbolize.c - offline symbolization of a dump's stacks with elfutils
 * libdw: function, file:line and inlined frames (as eu-addr2line -i), C++
 * names demangled, separate debug info by build id or .gnu_debuglink, ELF
 * symbol tables for stripped objects.
 * Each module gets its own Dwfl (reported at bias 0, so lookups use the ELF
 * address = return address - 1 - load bias), opened on first use; every
 * distinct address is resolved once (hash cache).  The compilation unit of an
 * address comes from .debug_aranges when it covers the address, else from a
 * table of every unit's DW_AT_low_pc/high_pc/DW_AT_ranges built once per
 * module (clang writes no .debug_aranges by default).  A module that is
 * missing, whose build id differs from the dump's, or that has no build id
 * and changed since the dump gives frames with a note, never symbols from the
 * wrong file.  Frames inside libmemledger.so are dropped.
 */
#include "report_priv.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* One address range of a compilation unit, in DWARF addresses. */
typedef struct cu_range_s {
  Dwarf_Addr lo, hi; // [lo, hi)
  Dwarf_Off off;     // the unit's offset in .debug_info (sort key for ties)
  Dwarf_Die cu;      // the unit's DIE (valid as long as the module's Dwfl)
} cu_range_t;

typedef struct modstate_s {
  bool tried;
  bool self; // libmemledger.so: its frames are dropped
  bool ghost; // a shifted copy of another line of the same object (see mark_ghosts)
  Dwfl *dwfl;
  Dwfl_Module *mod;
  const char *note; // why there are no symbols, or NULL
  /* Units by address, for addresses .debug_aranges does not cover: */
  bool cu_built;    // cu_ranges has been built (it may be empty)
  Dwarf_Addr cu_bias; // DWARF address = ELF address - cu_bias
  size_t ncu;
  cu_range_t *cu_ranges; // sorted by lo
} modstate_t;

typedef struct addr_key_s {
  uint64_t addr;
  int64_t module; // the module it was resolved in (-1: none)
} addr_key_t;

typedef struct addr_entry_s {
  addr_key_t key;
  size_t n;
  mlr_frame_t *frames; // in the pool
  UT_hash_handle hh;
} addr_entry_t;

typedef struct sym_s {
  mlr_dump_t *d;
  const mlr_symbolize_opts_t *opts;
  Dwfl_Callbacks cb;
  char *debug_path;
  modstate_t *ms;
  size_t *order; // module indexes sorted by lo
  addr_entry_t *cache;
  bool has_unloaded; // the dump lists objects unloaded before it
} sym_t;

/* ---- names ---------------------------------------------------------------------- */

static const char *demangle(sym_t *s, const char *name) {
  if (!name) return NULL;
  if (name[0] == '_' && name[1] == 'Z') {
    int status = -1;
    char *dm = __cxa_demangle(name, NULL, NULL, &status);
    if (dm && status == 0) {
      const char *r = mlr_pool_strdup(s->d, dm);
      free(dm);
      return r;
    }
    free(dm);
  }
  return mlr_pool_strdup(s->d, name);
}

static const char *die_name(sym_t *s, Dwarf_Die *die) {
  Dwarf_Attribute attr;
  const char *name =
      dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (!name)
    name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  if (!name) name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
  return name ? demangle(s, name) : NULL;
}

static bool is_function(Dwarf_Die *die) {
  int tag = dwarf_tag(die);
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
         tag == DW_TAG_entry_point;
}

/* ---- modules --------------------------------------------------------------------- */

static const char *base_name(const char *p) {
  const char *b = strrchr(p, '/');
  return b ? b + 1 : p;
}

/* Whether the file of module m, which the dump records without a build id,
 * is no longer the object that was mapped.  When the dump recorded the
 * file's size and mtime ([module_files]): either differs (under --sysroot,
 * whose copies are newer than the dump by nature: the size).  Otherwise,
 * for older dumps, guesses: it has a build id now; or its PT_LOAD span
 * (lowest p_vaddr to highest p_vaddr + p_memsz) is not the dump's [lo, hi)
 * less the load bias; or it was modified after the dump (not under
 * --sysroot); a rebuild that keeps the span and the mtime order goes
 * unseen.  Returns why, or NULL when it looks unchanged. */
static const char *module_changed(sym_t *s, const mlr_module_t *m, Dwfl_Module *mod,
                                  const struct stat *st) {
  bool sysroot = s->opts && s->opts->sysroot && *s->opts->sysroot;
  if (m->has_file) {
    uint64_t mtime = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    if ((uint64_t)st->st_size != m->file_size) return "its size differs";
    if (!sysroot && mtime != m->file_mtime_ns) return "its mtime differs";
    return NULL;
  }
  const unsigned char *bits;
  GElf_Addr vaddr, ebias;
  if (dwfl_module_build_id(mod, &bits, &vaddr) > 0) return "the file has a build id now";
  Elf *elf = dwfl_module_getelf(mod, &ebias);
  size_t phnum;
  if (elf && elf_getphdrnum(elf, &phnum) == 0) {
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < phnum; i++) {
      GElf_Phdr ph;
      if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD) continue;
      if (ph.p_vaddr < lo) lo = ph.p_vaddr;
      if (ph.p_vaddr + ph.p_memsz > hi) hi = ph.p_vaddr + ph.p_memsz;
    }
    if (lo != UINT64_MAX && (lo != m->lo - m->base || hi != m->hi - m->base))
      return "its load segments differ";
  }
  double t;
  if (!sysroot && mlr_dump_time(s->d, &t) &&
      (double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9 > t)
    return "modified after the dump";
  return NULL;
}

static void open_module(sym_t *s, int mi) {
  modstate_t *ms = &s->ms[mi];
  const mlr_module_t *m = &s->d->modules[mi];
  ms->tried = true;
  if (strchr(m->path, '/') == NULL) {
    ms->note =
        strncmp(m->path, "linux-vdso", 10) == 0 || strncmp(m->path, "linux-gate", 10) == 0
            ? "vDSO, not on disk"
            : "module path is not a file";
    return;
  }
  char *path = NULL;
  if (s->opts && s->opts->sysroot && *s->opts->sysroot) {
    if (asprintf(&path, "%s%s", s->opts->sysroot, m->path) < 0) mlr_oom();
  } else {
    path = mlr_xstrdup(m->path);
  }
  /* The dump names the file: open nothing but a regular file, and never
   * wait in open() (a FIFO would block until a writer came). */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ms->note = fd < 0 ? "module file missing" : "not a regular file";
    if (fd >= 0) close(fd);
    free(path);
    return;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  ms->dwfl = dwfl_begin(&s->cb);
  if (!ms->dwfl) mlr_oom();
  dwfl_report_begin(ms->dwfl);
  /* On success libdw owns fd (and find_elf is not used for this module). */
  ms->mod = dwfl_report_elf(ms->dwfl, base_name(m->path), path, fd, 0, true);
  dwfl_report_end(ms->dwfl, NULL, NULL);
  free(path);
  if (!ms->mod) close(fd);
  if (!ms->mod) {
    ms->note = "not a readable ELF file";
    return;
  }
  if (m->build_id) {
    const unsigned char *bits;
    GElf_Addr vaddr;
    int len = dwfl_module_build_id(ms->mod, &bits, &vaddr);
    char hex[2 * 256 + 1];
    if (len <= 0 || len > 256) {
      ms->note = "build id differs (the file has none)";
      ms->mod = NULL;
      return;
    }
    for (int i = 0; i < len; i++)
      snprintf(hex + 2 * i, 3, "%02x", bits[i]);
    if (strcmp(hex, m->build_id) != 0) {
      ms->note = "build id differs from the dump's (file changed)";
      ms->mod = NULL;
      return;
    }
  } else {
    const char *why = module_changed(s, m, ms->mod, &st);
    if (why) {
      ms->note = "changed since the dump";
      ms->mod = NULL;
      fprintf(stderr,
              "memledger: warning: module %s changed since the dump (%s): frames not "
              "symbolized\n",
              mlr_safe(m->path), why);
    }
  }
}

/* ---- units by address ---------------------------------------------------------------
 * dwfl_module_addrdie finds a unit through .debug_aranges only (elfutils
 * 0.188).  clang writes none unless asked (-gdwarf-aranges), and a program
 * linked from gcc and clang objects has them for some units only.  For an
 * address they do not cover, every unit's ranges (DW_AT_low_pc/high_pc or
 * DW_AT_ranges; libdw reads DWARF 5's .debug_rnglists and .debug_addr) are
 * collected once per module into a sorted table. */

/* By lo; equal ranges by unit offset, the first unit last: the lookup scans
 * back from the last range at or below the address, so it meets the first
 * unit first.  ld.bfd points the DWARF of a discarded COMDAT copy (an
 * inline function or template instance emitted by several units) at the
 * copy it kept, which comes from the first of them in link order. */
static int by_range_lo(const void *a, const void *b) {
  const cu_range_t *x = a, *y = b;
  if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
  return x->off > y->off ? -1 : x->off < y->off;
}

static void build_cu_ranges(modstate_t *ms) {
  ms->cu_built = true;
  Dwarf *dw = dwfl_module_getdwarf(ms->mod, &ms->cu_bias);
  if (!dw) return;
  size_t cap = 0;
  Dwarf_CU *cu = NULL;
  Dwarf_Half version;
  uint8_t type;
  Dwarf_Die cudie, subdie;
  while (dwarf_get_units(dw, cu, &cu, &version, &type, &cudie, &subdie) == 0) {
    if (type == DW_UT_type || type == DW_UT_split_type) continue;
    Dwarf_Addr base, lo, hi;
    Dwarf_Off cuoff = dwarf_dieoffset(&cudie);
    ptrdiff_t off = 0;
    while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
      /* 0: a function the linker discarded (binutils' tombstone; address 0
       * of a shared object or PIE holds its ELF header, never code). */
      if (lo == 0 || lo >= hi) continue;
      if (ms->ncu == cap)
        ms->cu_ranges =
            mlr_xrealloc(ms->cu_ranges, (cap = cap ? 2 * cap : 64) * sizeof *ms->cu_ranges);
      ms->cu_ranges[ms->ncu++] = (cu_range_t){.lo = lo, .hi = hi, .off = cuoff, .cu = cudie};
    }
  }
  qsort(ms->cu_ranges, ms->ncu, sizeof *ms->cu_ranges, by_range_lo);
}

/* The unit whose ranges hold ELF address epc, from the table (built on first
 * use), with *bias set as dwfl_module_addrdie sets it; NULL when none. */
static Dwarf_Die *cu_by_ranges(modstate_t *ms, Dwarf_Addr epc, Dwarf_Addr *bias) {
  if (!ms->cu_built) build_cu_ranges(ms);
  if (epc < ms->cu_bias) return NULL;
  Dwarf_Addr a = epc - ms->cu_bias;
  size_t lo = 0, hi = ms->ncu;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (ms->cu_ranges[mid].lo <= a)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* Units do not overlap in a sane file; a few steps back tolerate some. */
  for (size_t i = lo; i-- > 0 && lo - i <= 8;) {
    if (a < ms->cu_ranges[i].hi) {
      *bias = ms->cu_bias;
      return &ms->cu_ranges[i].cu;
    }
  }
  return NULL;
}

/* ---- which module ------------------------------------------------------------------ */

/* The module containing pc (binary search over lo; ties broken by scanning). */
static int find_module(sym_t *s, uint64_t pc) {
  const mlr_dump_t *d = s->d;
  size_t lo = 0, hi = d->nmodules;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (d->modules[s->order[mid]].lo <= pc)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; i-- > 0;) {
    const mlr_module_t *m = &d->modules[s->order[i]];
    if (m->unloaded_epoch || s->ms[s->order[i]].ghost) continue; /* see find_module_for */
    if (pc >= m->lo && pc < m->hi) return (int)s->order[i];
    if (lo - i > 8) break; /* ranges do not nest deeply */
  }
  return -1;
}

/* The module pc was in when a stack of this epoch was interned: the first
 * object unloaded after that (its address range may since hold another
 * object), else what is loaded at dump time. */
static int find_module_for(sym_t *s, uint64_t pc, uint32_t epoch) {
  const mlr_dump_t *d = s->d;
  int best = -1;
  for (size_t i = 0; i < d->nmodules; i++) {
    const mlr_module_t *m = &d->modules[i];
    if (m->unloaded_epoch > epoch && !s->ms[i].ghost && pc >= m->lo && pc < m->hi &&
        (best < 0 || m->unloaded_epoch < d->modules[best].unloaded_epoch))
      best = (int)i;
  }
  return best >= 0 ? best : find_module(s, pc);
}

/* ---- one address --------------------------------------------------------------------
 */

typedef struct fvec_s {
  mlr_frame_t f[64];
  size_t n;
} fvec_t;

static mlr_frame_t *fpush(fvec_t *v, const mlr_frame_t *proto) {
  if (v->n >= sizeof v->f / sizeof v->f[0]) return NULL;
  v->f[v->n] = *proto;
  return &v->f[v->n++];
}

static void resolve(sym_t *s, uint64_t addr, int mi, fvec_t *v) {
  mlr_frame_t proto = {.addr = addr, .module = -1};
  uint64_t pc = addr ? addr - 1 : 0;
  if (mi < 0) {
    proto.note = "address outside every module";
    fpush(v, &proto);
    return;
  }
  const mlr_module_t *m = &s->d->modules[mi];
  modstate_t *ms = &s->ms[mi];
  if (!ms->tried) open_module(s, mi);
  if (ms->self) return; /* the tracker's own frame: dropped */
  proto.module = mi;
  proto.offset = addr - m->base;
  if (!ms->mod) {
    proto.note = ms->note;
    fpush(v, &proto);
    return;
  }
  Dwarf_Addr epc = pc - m->base; /* ELF address (module reported at bias 0) */
  Dwarf_Addr bias = 0;
  Dwarf_Die *cudie = dwfl_module_addrdie(ms->mod, epc, &bias);
  if (!cudie) cudie = cu_by_ranges(ms, epc, &bias);
  /* Split DWARF (-gsplit-dwarf): the functions are in the .dwo unit; libdw
   * finds it beside the object (DW_AT_dwo_name, DW_AT_comp_dir) and reads
   * its lines through the skeleton. */
  Dwarf_Die split;
  uint8_t utype;
  if (cudie && dwarf_cu_info(cudie->cu, NULL, &utype, NULL, &split, NULL, NULL, NULL) == 0 &&
      utype == DW_UT_skeleton && dwarf_tag(&split) == DW_TAG_compile_unit)
    cudie = &split;
  if (cudie) {
    Dwarf_Die *scopes = NULL;
    int n = dwarf_getscopes(cudie, epc - bias, &scopes);
    if (n > 0) {
      /* The physical nesting of the innermost scope (as eu-addr2line -i). */
      Dwarf_Die inner = scopes[0];
      free(scopes);
      scopes = NULL;
      n = dwarf_getscopes_die(&inner, &scopes);
    }
    if (n > 0) {
      Dwarf_Files *files = NULL;
      (void)dwarf_getsrcfiles(cudie, &files, NULL);
      /* Location inside the innermost function: the line table. */
      const char *file = NULL;
      unsigned line = 0;
      Dwarf_Line *dl = dwarf_getsrc_die(cudie, epc - bias);
      if (dl) {
        int ln = 0;
        const char *src = dwarf_linesrc(dl, NULL, NULL);
        if (src) file = mlr_pool_strdup(s->d, src);
        if (dwarf_lineno(dl, &ln) == 0 && ln > 0) line = (unsigned)ln;
      }
      size_t first = v->n;
      for (int i = 0; i < n; i++) {
        Dwarf_Die *die = &scopes[i];
        if (!is_function(die)) continue;
        mlr_frame_t *f = fpush(v, &proto);
        if (!f) break;
        f->function = die_name(s, die);
        f->file = file;
        f->line = line;
        if (dwarf_tag(die) != DW_TAG_inlined_subroutine) break;
        f->inlined = true;
        /* The caller's location is the call site of this inlined instance. */
        Dwarf_Attribute attr;
        Dwarf_Word val;
        file = NULL;
        line = 0;
        if (files &&
            dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &val) == 0) {
          const char *src = dwarf_filesrc(files, val, NULL, NULL);
          if (src) file = mlr_pool_strdup(s->d, src);
        }
        if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &val) == 0)
          line = (unsigned)val;
      }
      free(scopes);
      if (v->n > first) {
        /* A function name missing from DWARF: the symbol table's. */
        mlr_frame_t *last = &v->f[v->n - 1];
        if (!last->function)
          last->function = demangle(s, dwfl_module_addrname(ms->mod, epc));
        last->inlined = false;
        return;
      }
    } else {
      free(scopes);
    }
  }
  /* No DWARF for this address: the ELF symbol table (.symtab or .dynsym). */
  const char *name = dwfl_module_addrname(ms->mod, epc);
  if (name) {
    proto.function = demangle(s, name);
  } else {
    proto.note = "no symbols";
  }
  fpush(v, &proto);
}

static const addr_entry_t *lookup(sym_t *s, uint64_t addr, uint32_t epoch) {
  addr_entry_t *e;
  addr_key_t key;
  memset(&key, 0, sizeof key); /* the hash reads the padding too */
  key.addr = addr;
  key.module = s->has_unloaded ? find_module_for(s, addr ? addr - 1 : 0, epoch)
                               : find_module(s, addr ? addr - 1 : 0);
  HASH_FIND(hh, s->cache, &key, sizeof key, e);
  if (e) return e;
  fvec_t v;
  v.n = 0;
  resolve(s, addr, (int)key.module, &v);
  e = mlr_pool_alloc(s->d, sizeof *e);
  memset(e, 0, sizeof *e);
  e->key = key;
  e->n = v.n;
  if (v.n) {
    e->frames = mlr_pool_alloc(s->d, v.n * sizeof *e->frames);
    memcpy(e->frames, v.f, v.n * sizeof *e->frames);
  }
  HASH_ADD(hh, s->cache, key, sizeof e->key, e);
  return e;
}

/* ---- the dump ------------------------------------------------------------------------
 */

/* Lines that are a copy of another line of the same object shifted by whole
 * pages: same path, build id and epoch, lo, hi and base all moved by the
 * same amount, inside the other's range.  A dump taken from /proc/PID/maps
 * of an object whose segments share file pages (lld's default layout, no
 * -z separate-code: every segment's mapping starts at file offset 0 and so
 * with the ELF header) lists one line per segment, each with a wrong base;
 * the lowest is the object.  Ghost lines are never chosen for an address.
 * pre: s->order is sorted by lo. */
static void mark_ghosts(sym_t *s) {
  const mlr_dump_t *d = s->d;
  for (size_t k = 1; k < d->nmodules; k++) {
    const mlr_module_t *m = &d->modules[s->order[k]];
    for (size_t p = k; p-- > 0 && k - p <= 8;) {
      const mlr_module_t *o = &d->modules[s->order[p]];
      uint64_t shift = m->lo - o->lo;
      if (m->lo > o->lo && m->lo < o->hi && m->hi - o->hi == shift &&
          m->base - o->base == shift && m->unloaded_epoch == o->unloaded_epoch &&
          strcmp(m->path, o->path) == 0 &&
          (m->build_id ? o->build_id && strcmp(m->build_id, o->build_id) == 0
                       : !o->build_id)) {
        s->ms[s->order[k]].ghost = true;
        break;
      }
    }
  }
}

static const mlr_dump_t *sort_dump; /* for qsort: no qsort_r needed */
static int by_lo(const void *a, const void *b) {
  uint64_t x = sort_dump->modules[*(const size_t *)a].lo;
  uint64_t y = sort_dump->modules[*(const size_t *)b].lo;
  return x < y ? -1 : x > y;
}

/* st->frames from its raw addresses. */
static void symbolize_stack(sym_t *s, mlr_stack_t *st) {
  size_t n = 0, cap = st->nraw + 4;
  mlr_frame_t *fr = mlr_xmalloc(cap * sizeof *fr);
  for (size_t k = 0; k < st->nraw; k++) {
    const addr_entry_t *e = lookup(s, st->raw[k], st->epoch);
    if (n + e->n > cap) fr = mlr_xrealloc(fr, (cap = (n + e->n) * 2) * sizeof *fr);
    memcpy(fr + n, e->frames, e->n * sizeof *fr);
    n += e->n;
  }
  free(st->frames);
  st->frames = fr;
  st->nframes = n;
}

int mlr_symbolize(mlr_dump_t *d, const mlr_symbolize_opts_t *opts, mlr_err_t *err) {
  (void)err;
  sym_t s = {.d = d, .opts = opts};
  const char *dirs = opts && opts->debug_dirs ? opts->debug_dirs : "/usr/lib/debug";
  /* "-": no CRC check of .gnu_debuglink files (speed); ".debug" next to the
   * object; then the roots, each searched for .build-id/xx/yyyy.debug. */
  if (asprintf(&s.debug_path, "-:.debug:%s", dirs) < 0) mlr_oom();
  s.cb.find_elf = dwfl_build_id_find_elf;
  s.cb.find_debuginfo = dwfl_standard_find_debuginfo;
  s.cb.debuginfo_path = &s.debug_path;
  s.ms = mlr_xcalloc(d->nmodules, sizeof *s.ms);
  s.order = mlr_xcalloc(d->nmodules, sizeof *s.order);
  for (size_t i = 0; i < d->nmodules; i++) {
    s.order[i] = i;
    if (d->modules[i].unloaded_epoch) s.has_unloaded = true;
    s.ms[i].self = strncmp(base_name(d->modules[i].path), "libmemledger.so", 15) == 0;
  }
  sort_dump = d;
  qsort(s.order, d->nmodules, sizeof *s.order, by_lo);
  mark_ghosts(&s);

  mlr_progress_t pr;
  mlr_progress_begin(&pr, "symbolizing %zu stacks", d->nstacks + d->nres);
  for (size_t i = 0; i < d->nstacks + d->nres; i++) {
    /* the heap's stacks, then the creation stacks of the other resources */
    symbolize_stack(&s, i < d->nstacks ? &d->stacks[i] : &d->res[i - d->nstacks].stack);
    if (i % 64 == 0) mlr_progress_tick(&pr, i, d->nstacks + d->nres);
  }
  mlr_progress_end(&pr);

  HASH_CLEAR(hh, s.cache);
  for (size_t i = 0; i < d->nmodules; i++) {
    if (s.ms[i].dwfl) dwfl_end(s.ms[i].dwfl);
    free(s.ms[i].cu_ranges);
  }
  free(s.ms);
  free(s.order);
  free(s.debug_path);
  return 0;
}

/* ---- helpers for the formats ----------------------------------------------------------
 */

const char *mlr_frame_name(const mlr_dump_t *d, const mlr_frame_t *f, char *buf,
                           size_t size) {
  if (f->function) return f->function;
  if (f->module >= 0)
    snprintf(buf, size, "%s+0x%llx", mlr_module_name(d, f->module),
             (unsigned long long)f->offset);
  else
    snprintf(buf, size, "0x%llx", (unsigned long long)f->addr);
  return buf;
}

/* SPDX-License-Identifier: MIT */
/*
 * ehframe.c - the .eh_frame unwinder of ehframe.h (layer: core).
 *
 * Three parts: the module list (built by ml_eh_refresh outside allocation
 * paths, published lock-free, never freed), the rule computation (FDE search
 * in .eh_frame_hdr, CIE/FDE parsing, the CFA program up to the call site),
 * and the walk with its cache.  Allocates nothing (mmap only); the walk
 * takes no lock and is async-signal-safe once the thread's stack bounds
 * are known (a refresh takes a spinlock around a pointer bump only).
 * Invariant: every load from a computed address is preceded by a check
 * that the address lies in a validated range (ml_eh_seg_has for object
 * data, [lo, hi - 8] for stack slots) computed without overflow.
 */
#include "ehframe.h"
#include "lock.h"
#include "prim.h"
#include "unwind.h"
#include <errno.h>
#include <stdatomic.h>

#if defined(__x86_64__) && defined(__linux__)

#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

/* ---- the module list ------------------------------------------------------- */

#define ML_EH_SEGS 6            // readable PT_LOAD segments kept per object
#define ML_EH_CACHE_BITS 14     // rule cache: 16 Ki words, 128 KiB
#define ML_EH_CACHE_SIZE (1u << ML_EH_CACHE_BITS)
#define ML_EH_TAG_SHIFT ML_EH_CACHE_BITS

typedef struct ml_eh_mod_s {
  uintptr_t text_lo, text_hi;   // executable PT_LOAD segments (lowest..highest)
  uintptr_t seg_lo[ML_EH_SEGS]; // readable PT_LOAD segments [lo, hi)
  uintptr_t seg_hi[ML_EH_SEGS];
  unsigned nsegs;
  const uint8_t *hdr;           // .eh_frame_hdr; NULL: no search table
  const int32_t *table;         // its (initial location, FDE) pairs, datarel sdata4
  uint32_t count;               // pairs in table
} ml_eh_mod_t;

typedef struct ml_eh_list_s {
  _Atomic uint64_t *cache;      // rule cache (shared by lists until an unload)
  unsigned long long adds, subs;// dl_iterate_phdr's load/unload counters
  size_t map_size;              // bytes mapped for this list
  unsigned n;                   // objects, sorted by text_lo
  ml_eh_mod_t mods[];
} ml_eh_list_t;

/* The current list.  Old lists stay mapped: a walker may still hold one. */
_Atomic(ml_eh_list_t *) ml_eh_cur;

typedef struct ml_eh_fill_s {
  ml_eh_list_t *l;
  unsigned cap;
  unsigned long long adds, subs;
  bool counters;                // adds/subs known
} ml_eh_fill_t;

static int ml_eh_count_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  ml_eh_fill_t *f = arg;
  if (!f->counters && size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
    f->adds = info->dlpi_adds;
    f->subs = info->dlpi_subs;
    f->counters = true;
  }
  f->cap++;
  return 0;
}

static bool ml_eh_seg_has(const ml_eh_mod_t *m, uintptr_t a, size_t len, unsigned *seg) {
  for (unsigned i = 0; i < m->nsegs; i++)
    if (a >= m->seg_lo[i] && a < m->seg_hi[i] && len <= m->seg_hi[i] - a) {
      if (seg) *seg = i;
      return true;
    }
  return false;
}

static int ml_eh_fill_cb(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  ml_eh_fill_t *f = arg;
  if (f->l->n >= f->cap) return 1;
  ml_eh_mod_t *m = &f->l->mods[f->l->n];
  memset(m, 0, sizeof *m);
  m->text_lo = UINTPTR_MAX;
  uintptr_t hdr = 0;
  for (unsigned i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
    if (ph->p_type == PT_LOAD) {
      if ((ph->p_flags & PF_X) && b > a) {
        if (a < m->text_lo) m->text_lo = a;
        if (b > m->text_hi) m->text_hi = b;
      }
      if ((ph->p_flags & PF_R) && b > a && m->nsegs < ML_EH_SEGS) {
        m->seg_lo[m->nsegs] = a;
        m->seg_hi[m->nsegs++] = b;
      }
    } else if (ph->p_type == PT_GNU_EH_FRAME) {
      hdr = a;
    }
  }
  if (!m->text_hi) return 0; /* nothing executable: not a frame's object */
  /* The search table: version 1, table encoding datarel|sdata4 (what
   * binutils and lld emit); without it the object's frames end walks. */
  const uint8_t *h = (const uint8_t *)hdr;
  if (h && ml_eh_seg_has(m, hdr, 12, NULL) && h[0] == 1 && h[3] == 0x3b) {
    const uint8_t *p = h + 4;
    bool ok = true;
    /* eh_frame_ptr: skip (udata4/sdata4 forms, possibly pcrel/datarel) */
    if ((h[1] & 0x0f) == 0x03 || (h[1] & 0x0f) == 0x0b) p += 4;
    else if ((h[1] & 0x0f) == 0x04 || (h[1] & 0x0f) == 0x0c || h[1] == 0x00) p += 8;
    else ok = false;
    uint64_t count = 0;
    if (ok && ml_eh_seg_has(m, (uintptr_t)p, 8, NULL)) {
      if ((h[2] & 0x0f) == 0x03 || (h[2] & 0x0f) == 0x0b) {
        uint32_t c;
        memcpy(&c, p, 4);
        count = c;
        p += 4;
      } else if ((h[2] & 0x0f) == 0x04 || (h[2] & 0x0f) == 0x0c || h[2] == 0x00) {
        memcpy(&count, p, 8);
        p += 8;
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    if (ok && count && count < (1u << 28) && ml_eh_seg_has(m, (uintptr_t)p, count * 8, NULL)) {
      m->hdr = h;
      m->table = (const int32_t *)(const void *)p;
      m->count = (uint32_t)count;
    }
  }
  f->l->n++;
  return 0;
}

/* Lists and caches are carved from mappings that double from 512 KiB to
 * 8 MiB (touched only as used), not mapped one by one: a refresh right
 * after a dlclose should not take the addresses the unloaded object
 * leaves, which the loader would otherwise give to the next object (and
 * the dump's history of unloaded objects is tested on that); and address
 * space is taken in proportion to use (a program under `ulimit -v` gets
 * its heap).  Page-aligned pieces (a cache is madvise'd); never returned.
 * The lock guards the bump only. */
#define ML_EH_POOL_FIRST ((size_t)512 << 10)
#define ML_EH_POOL_MAX ((size_t)8 << 20)
static ml_lock_t ml_eh_pool_lock = ML_LOCK_INITIALIZER;
static char *ml_eh_pool_next, *ml_eh_pool_end;
static size_t ml_eh_pool_chunk = ML_EH_POOL_FIRST;

static void *ml_eh_take(size_t size) {
  size = (size + 4095) & ~(size_t)4095;
  ml_lock(&ml_eh_pool_lock);
  if ((size_t)(ml_eh_pool_end - ml_eh_pool_next) < size) {
    size_t chunk = size > ml_eh_pool_chunk ? size : ml_eh_pool_chunk;
    if (ml_eh_pool_chunk < ML_EH_POOL_MAX) ml_eh_pool_chunk *= 2;
    char *p = ml_prim_map(chunk);
    if (!p) {
      ml_unlock(&ml_eh_pool_lock);
      return NULL;
    }
    ml_eh_pool_next = p; /* the old chunk's rest is abandoned */
    ml_eh_pool_end = p + chunk;
  }
  void *r = ml_eh_pool_next;
  ml_eh_pool_next += size;
  ml_unlock(&ml_eh_pool_lock);
  return r;
}

static _Atomic uint64_t *ml_eh_new_cache(void) {
  return ml_eh_take(ML_EH_CACHE_SIZE * sizeof(uint64_t));
}

void ml_eh_refresh(void) {
  int saved = errno;
  for (int tries = 0; tries < 64; tries++) {
    ml_eh_list_t *old = atomic_load_explicit(&ml_eh_cur, memory_order_acquire);
    ml_eh_fill_t f = {0};
    dl_iterate_phdr(ml_eh_count_cb, &f);
    if (old && f.counters && f.adds == old->adds && f.subs == old->subs) break;
    f.cap += 16; /* objects loaded between the two passes */
    size_t size = sizeof(ml_eh_list_t) + f.cap * sizeof(ml_eh_mod_t);
    ml_eh_list_t *l = ml_eh_take(size);
    if (!l) break;
    l->map_size = size;
    f.l = l;
    dl_iterate_phdr(ml_eh_fill_cb, &f);
    l->adds = f.adds;
    l->subs = f.subs;
    /* Sorted by text start, for the binary search (insertion: few objects). */
    for (unsigned i = 1; i < l->n; i++) {
      ml_eh_mod_t t = l->mods[i];
      unsigned j = i;
      for (; j > 0 && l->mods[j - 1].text_lo > t.text_lo; j--) l->mods[j] = l->mods[j - 1];
      l->mods[j] = t;
    }
    /* Rules stay valid while no object goes away; after an unload another
     * object may reuse the addresses: start a new cache. */
    bool fresh = !old || !f.counters || f.subs != old->subs;
    l->cache = fresh ? ml_eh_new_cache() : old->cache;
    if (!l->cache) break; /* the list's pages are lost: out of memory anyway */
    if (atomic_compare_exchange_strong_explicit(&ml_eh_cur, &old, l, memory_order_acq_rel,
                                                memory_order_acquire)) {
      /* The old cache may still be probed and written by a walker holding
       * the old list: drop its pages (they read back as zeros: misses)
       * instead of unmapping it. */
      if (fresh && old && old->cache)
        madvise((void *)old->cache, ML_EH_CACHE_SIZE * sizeof(uint64_t), MADV_DONTNEED);
      break;
    }
    /* Another refresh published first: ours was never seen (its memory is
     * not reused: rare), retry. */
  }
  errno = saved;
}

unsigned ml_eh_module_count(void) {
  ml_eh_list_t *l = atomic_load_explicit(&ml_eh_cur, memory_order_acquire);
  return l ? l->n : 0;
}

static const ml_eh_mod_t *ml_eh_find(const ml_eh_list_t *l, uintptr_t pc) {
  unsigned lo = 0, hi = l->n;
  while (lo < hi) { /* first object starting after pc */
    unsigned mid = (lo + hi) / 2;
    if (l->mods[mid].text_lo <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return NULL;
  const ml_eh_mod_t *m = &l->mods[lo - 1];
  return pc < m->text_hi ? m : NULL;
}

/* ---- rules ------------------------------------------------------------------- */

enum {
  ML_EH_KIND_NONE = 0,   // not computed / no object
  ML_EH_KIND_STEP = 1,   // a normal frame
  ML_EH_KIND_SIGNAL = 2, // glibc's __restore_rt: registers from the ucontext
  ML_EH_KIND_STOP = 3,   // outermost frame, or a rule this walker cannot follow
};

typedef struct ml_eh_rule_s {
  unsigned kind;
  bool cfa_rbp;    // CFA = rbp + cfa_off (else rsp + cfa_off)
  bool rbp_saved;  // caller's rbp at CFA + rbp_off (else unchanged)
  int64_t cfa_off;
  int64_t rbp_off;
} ml_eh_rule_t;

/* Packed rule, 31 bits, under a 33-bit tag (return address >> 14; user
 * addresses are below 2^47) in one 64-bit cache word: a racing writer
 * replaces the whole word, so a reader sees a tag and its own rule or a
 * miss, never a mix.  Fields laid out for the walk's hot path. */
#define ML_EH_W_CFA_OFF 0x7fffu        // bits 0..14: CFA offset, 0..32767
#define ML_EH_W_CFA_RBP (1u << 15)     // CFA = rbp + off (else rsp + off)
#define ML_EH_W_RBP_SAVED (1u << 16)   // caller's rbp at CFA - 8 * field
#define ML_EH_W_RBP_SHIFT 17           // bits 17..28: -rbp_off / 8
#define ML_EH_W_KIND_SHIFT 29          // bits 29..30: kind
#define ML_EH_W_RULE ((UINT64_C(1) << 31) - 1)
#define ML_EH_W_BIG (UINT64_C(1) << 40) // not cached: take the rule from ml_eh_rule_t

static bool ml_eh_pack(const ml_eh_rule_t *r, uint64_t *out) {
  uint64_t w = (uint64_t)r->kind << ML_EH_W_KIND_SHIFT;
  if (r->kind == ML_EH_KIND_STEP) {
    if (r->cfa_off < 0 || r->cfa_off > (int64_t)ML_EH_W_CFA_OFF) return false;
    w |= (uint64_t)r->cfa_off | (r->cfa_rbp ? ML_EH_W_CFA_RBP : 0);
    if (r->rbp_saved) {
      if (r->rbp_off >= 0 || (r->rbp_off & 7) || -r->rbp_off / 8 > 4095) return false;
      w |= ML_EH_W_RBP_SAVED | (uint64_t)(-r->rbp_off / 8) << ML_EH_W_RBP_SHIFT;
    }
  }
  *out = w;
  return true;
}

/* The slot is the low bits of ra, the tag its other bits: (slot, tag) is
 * ra, so a hit is exact.  No hash: the probe is on the walk's dependency
 * chain (return address -> slot -> rule -> stack slot -> return address),
 * and mixing bits in would not make random collisions rarer. */
static inline unsigned ml_eh_slot(uintptr_t ra) {
  return (unsigned)(ra & (ML_EH_CACHE_SIZE - 1));
}

/* A bounded reader over one readable segment of an object. */
typedef struct ml_eh_rd_s {
  const uint8_t *p, *end;
  bool bad;
} ml_eh_rd_t;

static inline bool ml_eh_need(ml_eh_rd_t *c, size_t n) {
  if (c->bad || (size_t)(c->end - c->p) < n) {
    c->bad = true;
    return false;
  }
  return true;
}

static uint64_t ml_eh_u(ml_eh_rd_t *c, size_t n) {
  uint64_t v = 0;
  if (!ml_eh_need(c, n)) return 0;
  memcpy(&v, c->p, n); /* little endian */
  c->p += n;
  return v;
}

static uint64_t ml_eh_uleb(ml_eh_rd_t *c) {
  uint64_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    if (!ml_eh_need(c, 1) || shift > 63) {
      c->bad = true;
      return 0;
    }
    uint8_t b = *c->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

static int64_t ml_eh_sleb(ml_eh_rd_t *c) {
  uint64_t v = 0;
  unsigned shift = 0;
  uint8_t b;
  do {
    if (!ml_eh_need(c, 1) || shift > 63) {
      c->bad = true;
      return 0;
    }
    b = *c->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
  return (int64_t)v;
}

/* A DW_EH_PE_* encoded pointer.  Applications: absolute, pcrel, datarel
 * (.eh_frame_hdr); indirect reads through a validated address. */
static uintptr_t ml_eh_ptr(ml_eh_rd_t *c, uint8_t enc, const ml_eh_mod_t *m) {
  if (enc == 0xff) return 0; /* omit */
  uintptr_t at = (uintptr_t)c->p;
  uint64_t v;
  switch (enc & 0x0f) {
  case 0x00: v = ml_eh_u(c, 8); break;
  case 0x01: v = ml_eh_uleb(c); break;
  case 0x02: v = ml_eh_u(c, 2); break;
  case 0x03: v = ml_eh_u(c, 4); break;
  case 0x04: v = ml_eh_u(c, 8); break;
  case 0x09: v = (uint64_t)ml_eh_sleb(c); break;
  case 0x0a: v = (uint64_t)(int64_t)(int16_t)ml_eh_u(c, 2); break;
  case 0x0b: v = (uint64_t)(int64_t)(int32_t)ml_eh_u(c, 4); break;
  case 0x0c: v = ml_eh_u(c, 8); break;
  default: c->bad = true; return 0;
  }
  switch (enc & 0x70) {
  case 0x00: break;
  case 0x10: v += at; break;
  case 0x30: v += (uintptr_t)m->hdr; break;
  default: c->bad = true; return 0;
  }
  if (enc & 0x80) {
    if (!ml_eh_seg_has(m, (uintptr_t)v, 8, NULL)) {
      c->bad = true;
      return 0;
    }
    memcpy(&v, (const void *)(uintptr_t)v, 8);
  }
  return (uintptr_t)v;
}

/* Point c at the content of the record (CIE or FDE) at a: from after its
 * length field to its end, which must lie within a's segment.  False on a
 * zero (terminator) or out-of-range length. */
static bool ml_eh_record(const ml_eh_mod_t *m, uintptr_t a, ml_eh_rd_t *c) {
  unsigned s;
  if (!ml_eh_seg_has(m, a, 4, &s)) return false;
  c->p = (const uint8_t *)a;
  c->end = (const uint8_t *)m->seg_hi[s];
  c->bad = false;
  uint64_t len = ml_eh_u(c, 4);
  if (len == 0xffffffffu) len = ml_eh_u(c, 8);
  if (c->bad || len == 0 || len > (uint64_t)(c->end - c->p)) return false;
  c->end = c->p + len;
  return true;
}

enum { ML_EH_RBP_SAME, ML_EH_RBP_AT, ML_EH_RBP_BAD };
enum { ML_EH_RIP_AT, ML_EH_RIP_UNDEF, ML_EH_RIP_BAD };

typedef struct ml_eh_row_s {
  int cfa_reg;      // 7 rsp, 6 rbp, -1 anything else (expression, other register)
  int64_t cfa_off;
  int rbp_how;
  int64_t rbp_off;
  int rip_how;
  int64_t rip_off;
} ml_eh_row_t;

#define ML_EH_STATES 8 // DW_CFA_remember_state depth

typedef struct ml_eh_cie_s {
  uint64_t code_align;
  int64_t data_align;
  uint64_t ra_reg;
  uint8_t fde_enc;      // 'R'
  bool aug_z;           // 'z': FDEs carry an augmentation length
  bool signal;          // 'S'
  ml_eh_rd_t insns;     // initial instructions
} ml_eh_cie_t;

static bool ml_eh_parse_cie(const ml_eh_mod_t *m, uintptr_t a, ml_eh_cie_t *cie) {
  ml_eh_rd_t c;
  if (!ml_eh_record(m, a, &c)) return false;
  if (ml_eh_u(&c, 4) != 0) return false; /* CIE id in .eh_frame */
  uint8_t version = (uint8_t)ml_eh_u(&c, 1);
  if (version != 1 && version != 3) return false;
  char aug[8];
  unsigned na = 0;
  for (;;) {
    if (!ml_eh_need(&c, 1)) return false;
    char ch = (char)*c.p++;
    if (!ch) break;
    if (na == sizeof aug - 1) return false;
    aug[na++] = ch;
  }
  aug[na] = 0;
  cie->code_align = ml_eh_uleb(&c);
  cie->data_align = ml_eh_sleb(&c);
  cie->ra_reg = version == 1 ? ml_eh_u(&c, 1) : ml_eh_uleb(&c);
  cie->fde_enc = 0; /* absptr */
  cie->aug_z = false;
  cie->signal = false;
  if (aug[0] == 'z') {
    cie->aug_z = true;
    uint64_t alen = ml_eh_uleb(&c);
    if (c.bad || alen > (uint64_t)(c.end - c.p)) return false;
    const uint8_t *after = c.p + alen;
    for (unsigned i = 1; i < na; i++) {
      switch (aug[i]) {
      case 'R': cie->fde_enc = (uint8_t)ml_eh_u(&c, 1); break;
      case 'L': (void)ml_eh_u(&c, 1); break;
      case 'P': {
        uint8_t penc = (uint8_t)ml_eh_u(&c, 1);
        (void)ml_eh_ptr(&c, (uint8_t)(penc & 0x7f), m); /* skip it; never deref */
        break;
      }
      case 'S': cie->signal = true; break;
      default: i = na; break; /* unknown: the length lets us skip the rest */
      }
    }
    c.p = after;
  } else if (na) {
    return false; /* "eh" and other pre-'z' forms */
  }
  if (c.bad || cie->code_align == 0) return false;
  cie->insns = c;
  return true;
}

/* Run CFA instructions; stop before the first row past target (or at the
 * end).  init: the row after the CIE's instructions (for DW_CFA_restore). */
static bool ml_eh_run(ml_eh_rd_t *c, const ml_eh_cie_t *cie, const ml_eh_mod_t *m,
                      uintptr_t loc, uintptr_t target, ml_eh_row_t *row,
                      const ml_eh_row_t *init) {
  ml_eh_row_t stack[ML_EH_STATES];
  unsigned depth = 0;
  while (c->p < c->end && !c->bad) {
    uint8_t op = *c->p++;
    uint64_t reg = 0;
    int64_t off = 0;
    uint64_t delta = 0;
    bool advance = false;
    switch (op >> 6) {
    case 1: delta = op & 0x3f; advance = true; break;
    case 2: reg = op & 0x3f; off = (int64_t)ml_eh_uleb(c) * cie->data_align; goto set_offset;
    case 3: reg = op & 0x3f; goto restore;
    default: break;
    }
    if (!advance) {
      switch (op) {
      case 0x00: break; /* nop */
      case 0x01: { /* set_loc */
        uintptr_t nl = ml_eh_ptr(c, cie->fde_enc, m);
        if (nl > target) return !c->bad;
        loc = nl;
        break;
      }
      case 0x02: delta = ml_eh_u(c, 1); advance = true; break;
      case 0x03: delta = ml_eh_u(c, 2); advance = true; break;
      case 0x04: delta = ml_eh_u(c, 4); advance = true; break;
      case 0x05: reg = ml_eh_uleb(c); off = (int64_t)ml_eh_uleb(c) * cie->data_align;
        goto set_offset;
      case 0x11: reg = ml_eh_uleb(c); off = ml_eh_sleb(c) * cie->data_align; goto set_offset;
      case 0x2f: reg = ml_eh_uleb(c); off = -(int64_t)ml_eh_uleb(c) * cie->data_align;
        goto set_offset;
      case 0x06: reg = ml_eh_uleb(c); goto restore;
      case 0x07: /* undefined */
        reg = ml_eh_uleb(c);
        if (reg == 16) row->rip_how = ML_EH_RIP_UNDEF;
        else if (reg == 6) row->rbp_how = ML_EH_RBP_SAME; /* nothing to restore */
        break;
      case 0x08: /* same_value */
        reg = ml_eh_uleb(c);
        if (reg == 6) row->rbp_how = ML_EH_RBP_SAME;
        else if (reg == 16) row->rip_how = ML_EH_RIP_BAD;
        break;
      case 0x09: /* register */
        reg = ml_eh_uleb(c);
        (void)ml_eh_uleb(c);
        if (reg == 6) row->rbp_how = ML_EH_RBP_BAD;
        else if (reg == 16) row->rip_how = ML_EH_RIP_BAD;
        break;
      case 0x0a:
        if (depth == ML_EH_STATES) return false;
        stack[depth++] = *row;
        break;
      case 0x0b: {
        if (depth == 0) return false;
        /* the CFA is part of the remembered state too (as libgcc and
         * libunwind do) */
        *row = stack[--depth];
        break;
      }
      case 0x0c: row->cfa_reg = (int)ml_eh_uleb(c); row->cfa_off = (int64_t)ml_eh_uleb(c);
        break;
      case 0x12: row->cfa_reg = (int)ml_eh_uleb(c);
        row->cfa_off = ml_eh_sleb(c) * cie->data_align;
        break;
      case 0x0d: row->cfa_reg = (int)ml_eh_uleb(c); break;
      case 0x0e: row->cfa_off = (int64_t)ml_eh_uleb(c); break;
      case 0x13: row->cfa_off = ml_eh_sleb(c) * cie->data_align; break;
      case 0x0f: { /* def_cfa_expression */
        uint64_t n = ml_eh_uleb(c);
        if (!ml_eh_need(c, n)) return false;
        c->p += n;
        row->cfa_reg = -1;
        break;
      }
      case 0x10:   /* expression */
      case 0x16: { /* val_expression */
        reg = ml_eh_uleb(c);
        uint64_t n = ml_eh_uleb(c);
        if (!ml_eh_need(c, n)) return false;
        c->p += n;
        if (reg == 6) row->rbp_how = ML_EH_RBP_BAD;
        else if (reg == 16) row->rip_how = ML_EH_RIP_BAD;
        break;
      }
      case 0x14: /* val_offset */
      case 0x15: /* val_offset_sf */
        reg = ml_eh_uleb(c);
        if (op == 0x14) (void)ml_eh_uleb(c);
        else (void)ml_eh_sleb(c);
        if (reg == 6) row->rbp_how = ML_EH_RBP_BAD;
        else if (reg == 16) row->rip_how = ML_EH_RIP_BAD;
        break;
      case 0x2e: (void)ml_eh_uleb(c); break; /* GNU_args_size */
      default: return false;                /* unknown: give up on this frame */
      }
    }
    if (advance) {
      uint64_t d = delta * cie->code_align;
      if (loc + d > target || loc + d < loc) return !c->bad;
      loc += d;
    }
    continue;
  set_offset:
    if (reg == 6) {
      row->rbp_how = ML_EH_RBP_AT;
      row->rbp_off = off;
    } else if (reg == 16) {
      row->rip_how = ML_EH_RIP_AT;
      row->rip_off = off;
    }
    continue;
  restore:
    if (!init) return false; /* DW_CFA_restore inside a CIE */
    if (reg == 6) {
      row->rbp_how = init->rbp_how;
      row->rbp_off = init->rbp_off;
    } else if (reg == 16) {
      row->rip_how = init->rip_how;
      row->rip_off = init->rip_off;
    }
  }
  return !c->bad;
}

/* glibc's x86_64 signal trampoline: mov $15,%rax; syscall (rt_sigreturn). */
static const uint8_t ml_eh_restore_rt[9] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};

/* The rule for the frame whose return address (or exact pc + 1) is ra. */
ML_NOINLINE static void ml_eh_compute(const ml_eh_mod_t *m, uintptr_t ra, ml_eh_rule_t *r) {
  r->kind = ML_EH_KIND_STOP;
  r->cfa_rbp = r->rbp_saved = false;
  r->cfa_off = r->rbp_off = 0;
  if (ml_eh_seg_has(m, ra, sizeof ml_eh_restore_rt, NULL) &&
      memcmp((const void *)ra, ml_eh_restore_rt, sizeof ml_eh_restore_rt) == 0) {
    r->kind = ML_EH_KIND_SIGNAL;
    return;
  }
  if (!m->table) return;
  uintptr_t pc = ra - 1, hdr = (uintptr_t)m->hdr;
  /* The last table entry whose start is at or below pc. */
  uint32_t lo = 0, hi = m->count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (hdr + (intptr_t)m->table[2 * mid] <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return;
  uintptr_t fde = hdr + (intptr_t)m->table[2 * (lo - 1) + 1];
  ml_eh_rd_t c;
  if (!ml_eh_record(m, fde, &c)) return;
  uintptr_t id_at = (uintptr_t)c.p;
  uint32_t cie_off = (uint32_t)ml_eh_u(&c, 4);
  if (c.bad || cie_off == 0 || cie_off > id_at) return;
  ml_eh_cie_t cie;
  if (!ml_eh_parse_cie(m, id_at - cie_off, &cie) || cie.signal || cie.ra_reg != 16) return;
  uintptr_t begin = ml_eh_ptr(&c, cie.fde_enc, m);
  uintptr_t range = ml_eh_ptr(&c, (uint8_t)(cie.fde_enc & 0x0f), m);
  if (c.bad || pc < begin || pc - begin >= range) return;
  if (cie.aug_z) {
    uint64_t alen = ml_eh_uleb(&c);
    if (!ml_eh_need(&c, alen)) return;
    c.p += alen;
  }
  ml_eh_row_t row = {.cfa_reg = -1, .rbp_how = ML_EH_RBP_SAME, .rip_how = ML_EH_RIP_BAD};
  ml_eh_rd_t ci = cie.insns;
  if (!ml_eh_run(&ci, &cie, m, begin, UINTPTR_MAX, &row, NULL)) return;
  ml_eh_row_t init = row;
  if (!ml_eh_run(&c, &cie, m, begin, pc, &row, &init)) return;
  if (row.rip_how == ML_EH_RIP_UNDEF) return; /* outermost frame: stop */
  if (row.rip_how != ML_EH_RIP_AT || row.rip_off != -8) return;
  if ((row.cfa_reg != 7 && row.cfa_reg != 6) || row.rbp_how == ML_EH_RBP_BAD) return;
  r->kind = ML_EH_KIND_STEP;
  r->cfa_rbp = row.cfa_reg == 6;
  r->cfa_off = row.cfa_off;
  r->rbp_saved = row.rbp_how == ML_EH_RBP_AT;
  r->rbp_off = row.rbp_off;
}

/* A cache miss for return address ra: compute the rule and cache it when
 * it packs.  Returns the packed rule, ML_EH_W_BIG | kind with the rule in
 * *big when it does not pack, or 0 when ra is in no listed object. */
ML_NOINLINE static uint64_t ml_eh_miss(const ml_eh_list_t *l, uintptr_t ra, ml_eh_rule_t *big) {
  const ml_eh_mod_t *m = ml_eh_find(l, ra - 1);
  if (!m) return 0;
  ml_eh_compute(m, ra, big);
  uint64_t w;
  if (!ml_eh_pack(big, &w)) return ML_EH_W_BIG | (uint64_t)big->kind << ML_EH_W_KIND_SHIFT;
  if (ra >> 47 == 0)
    atomic_store_explicit(&l->cache[ml_eh_slot(ra)], (ra >> ML_EH_TAG_SHIFT) << 31 | w,
                          memory_order_relaxed);
  return w;
}

/* ---- the walk --------------------------------------------------------------- */

/* ucontext_t on x86_64 Linux: uc_flags, uc_link, uc_stack (24 bytes), then
 * mcontext's gregs[], of which REG_RBP = 10, REG_RSP = 15, REG_RIP = 16. */
#define ML_EH_UC_GREGS 40
#define ML_EH_UC_RBP (ML_EH_UC_GREGS + 8 * 10)
#define ML_EH_UC_RSP (ML_EH_UC_GREGS + 8 * 15)
#define ML_EH_UC_RIP (ML_EH_UC_GREGS + 8 * 16)

/* Note that the walk read *addr == val and that its result depends on it. */
ML_INLINE void ml_eh_log_add(ml_eh_log_t *log, uintptr_t addr, uintptr_t val) {
  intptr_t off = (intptr_t)(addr - log->base);
  if (ml_unlikely(log->n == log->cap || off != (int32_t)off)) {
    log->bad = true;
    return;
  }
  log->off[log->n] = (int32_t)off;
  log->val[log->n++] = val;
}

/* The walk; with log (a constant NULL in ml_eh_walk, so that the plain walk
 * pays nothing for it) every value it depends on is noted.  Not
 * instrumented by ASan: it reads other frames' return-address and
 * saved-register slots on purpose (validated against the stack bounds). */
__attribute__((always_inline, no_sanitize_address)) static inline unsigned
ml_eh_walk_body(const ml_eh_list_t *l, uintptr_t pc, uintptr_t sp, uintptr_t fp,
                uintptr_t *frames, unsigned max, ml_eh_log_t *log) {
  if (ml_unlikely(!l) || max == 0) return 0;
  /* Where the current fp was read from (0: it is the starting register). */
  uintptr_t fp_at = 0;
  ml_eh_rule_t big;
  uintptr_t lo, hi, slo;
  __asm__("mov %%rsp, %0" : "=r"(lo));
  ml_unwind_stack_bounds(&slo, &hi);
  /* Unknown bounds, or on another stack (sigaltstack): nothing to walk.
   * Slots read: 8 bytes in [lo, hi - 8]; lo is our own stack pointer, so
   * everything read lies between it and the stack's top: mapped. */
  if (hi < 4096 || lo < slo || lo >= hi - 256) return 0;
  uintptr_t ra = pc + 1; /* the first frame: its exact pc, as a return address */
  _Atomic uint64_t *cache = l->cache;
  unsigned n = 0;
  while (n < max) {
    uint64_t w = atomic_load_explicit(&cache[ml_eh_slot(ra)], memory_order_relaxed);
    if (ml_likely(w >> 31 == (uint64_t)ra >> ML_EH_TAG_SHIFT)) {
      w &= ML_EH_W_RULE;
    } else {
      w = ml_eh_miss(l, ra, &big);
      if (!w) break;
    }
    uintptr_t nsp, npc, nfp = fp;
    unsigned kind = (unsigned)(w >> ML_EH_W_KIND_SHIFT) & 3;
    if (ml_likely(kind == ML_EH_KIND_STEP)) {
      uintptr_t cfa_off, rbp_back = 0;
      bool cfa_rbp, saved;
      if (ml_likely(!(w & ML_EH_W_BIG))) {
        cfa_off = w & ML_EH_W_CFA_OFF;
        cfa_rbp = w & ML_EH_W_CFA_RBP;
        saved = w & ML_EH_W_RBP_SAVED;
        rbp_back = ((w >> ML_EH_W_RBP_SHIFT) & 0xfff) * 8;
      } else {
        cfa_off = (uintptr_t)big.cfa_off;
        cfa_rbp = big.cfa_rbp;
        saved = big.rbp_saved;
        rbp_back = (uintptr_t)-big.rbp_off;
      }
      if (log && cfa_rbp) {
        if (fp_at) ml_eh_log_add(log, fp_at, fp);
        else log->fp0 = true;
      }
      uintptr_t cfa = (cfa_rbp ? fp : sp) + cfa_off;
      /* the return address at cfa - 8, and the frame moves up */
      if (cfa <= sp || cfa < lo + 8 || cfa > hi) break;
      npc = ((const uintptr_t *)cfa)[-1];
      if (log) ml_eh_log_add(log, cfa - 8, npc);
      if (saved) {
        uintptr_t at = cfa - rbp_back;
        if (at < lo || at > hi - 8) break;
        nfp = *(const uintptr_t *)at;
        if (log) fp_at = at;
      }
      nsp = cfa;
    } else if (kind == ML_EH_KIND_SIGNAL) {
      if (log) log->bad = true; /* not worth noting: never cached */
      /* sp is the trampoline's: the ucontext the kernel pushed. */
      if (sp < lo || sp > hi - (ML_EH_UC_RIP + 8)) break;
      npc = *(const uintptr_t *)(sp + ML_EH_UC_RIP);
      nsp = *(const uintptr_t *)(sp + ML_EH_UC_RSP);
      nfp = *(const uintptr_t *)(sp + ML_EH_UC_RBP);
      if (nsp <= sp || nsp > hi || !npc) break;
      frames[n++] = npc;
      /* The interrupted frame is at its exact pc, not after a call. */
      ra = npc + 1;
      sp = nsp;
      fp = nfp;
      fp_at = 0; /* (log only: the walk is not cached) */
      continue;
    } else {
      break;
    }
    if (!npc) break;
    if (log && log->mark) log->mark[n] = (uint16_t)log->n;
    frames[n++] = npc;
    ra = npc;
    sp = nsp;
    fp = nfp;
  }
  return n;
}

ML_NOINLINE unsigned ml_eh_walk(uintptr_t pc, uintptr_t sp, uintptr_t fp, uintptr_t *frames,
                                unsigned max) {
  return ml_eh_walk_body(atomic_load_explicit(&ml_eh_cur, memory_order_acquire), pc, sp, fp,
                         frames, max, NULL);
}

ML_NOINLINE unsigned ml_eh_walk_logged(uintptr_t pc, uintptr_t sp, uintptr_t fp,
                                       uintptr_t *frames, unsigned max, ml_eh_log_t *log) {
  const ml_eh_list_t *l = atomic_load_explicit(&ml_eh_cur, memory_order_acquire);
  log->list = l;
  log->base = sp;
  log->n = 0;
  log->fp0 = log->bad = false;
  if (log->cap > UINT16_MAX) log->cap = UINT16_MAX;
  return ml_eh_walk_body(l, pc, sp, fp, frames, max, log);
}


ML_NOINLINE unsigned ml_eh_backtrace(uintptr_t *frames, unsigned max) {
  uintptr_t pc, sp, fp;
  __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                   : "=r"(pc), "=r"(sp), "=r"(fp));
  return ml_eh_walk(pc, sp, fp, frames, max);
}

#else /* not x86_64 Linux: a stub */

unsigned ml_eh_walk(uintptr_t pc, uintptr_t sp, uintptr_t fp, uintptr_t *frames,
                    unsigned max) {
  (void)pc, (void)sp, (void)fp, (void)frames, (void)max;
  return 0;
}
unsigned ml_eh_backtrace(uintptr_t *frames, unsigned max) {
  (void)frames, (void)max;
  return 0;
}
unsigned ml_eh_walk_logged(uintptr_t pc, uintptr_t sp, uintptr_t fp, uintptr_t *frames,
                           unsigned max, ml_eh_log_t *log) {
  (void)pc, (void)sp, (void)fp, (void)frames, (void)max;
  log->bad = true;
  return 0;
}
_Atomic(struct ml_eh_list_s *) ml_eh_cur; /* always NULL here */
void ml_eh_refresh(void) {}
unsigned ml_eh_module_count(void) { return 0; }

#endif

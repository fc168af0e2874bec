/* SPDX-License-Identifier: MIT */
/*
 * res_map.c - the program's anonymous mappings with their creation stacks
 * (res.h, res_rec.h; layer: core).
 *
 * The program's own mmap, mmap64, munmap and mremap (preload front) reach
 * here; jemalloc's and memledger's own mappings never do (they call
 * ml_prim_mmap: prim.h, src/jemalloc.syms).  A record per anonymous
 * mapping, in ML_MAP_SLOTS slots mapped at the first one, changed under
 * ml_maps.lock, which is held across the system call so that the kernel
 * handing out an address another thread just unmapped, and our records,
 * change in the same order (mappings are made at system-call rate; the
 * recursion guard is held meanwhile, so a signal handler's mmap on the same
 * thread passes through unrecorded instead of waiting on the lock).  A dump
 * reads the slots without the lock: `start` publishes a record (release,
 * after the other fields) and is cleared before they change, so a record
 * being cut is missing from a snapshot of that instant, never torn.
 * Ranges cover whole pages.  mprotect is not followed: `prot` is the one
 * the mapping was made (or last moved by mremap) with.  File mappings are
 * not recorded, but a MAP_FIXED one cuts the records it replaces.
 */
#include "res.h"
#include "res_rec.h"
#include "core.h"
#include "lock.h"
#include "prim.h"
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#define ML_MAP_SLOTS 16384

enum { ML_MAP_MMAP, ML_MAP_MREMAP };

typedef struct ml_anon_s {
  _Atomic uintptr_t start; // 0 = free slot
  uint64_t len;            // bytes, whole pages
  uint32_t stack;          // creation stack
  uint8_t prot;            // PROT_* at creation
  uint8_t shared;          // MAP_SHARED
  uint8_t call;            // ML_MAP_MMAP or ML_MAP_MREMAP
} ml_anon_t;

static struct {
  ml_lock_t lock;        // changes to the slots
  ml_anon_t *_Atomic slots; // mapped at the first record
  _Atomic unsigned used; // 1 + the highest slot ever used (the readers' bound)
  unsigned free_from;    // no free slot below this one
  uint64_t dropped;      // mappings not recorded: every slot taken
} ml_maps;

static uint64_t ml_map_pages(size_t len) {
  static uint64_t page; /* the same for every thread: a racy first store is fine */
  if (ml_unlikely(!page)) page = (uint64_t)sysconf(_SC_PAGESIZE);
  return ((uint64_t)len + page - 1) & ~(page - 1);
}

/* ---- the slots (ml_maps.lock held) ---------------------------------------------- */

static void ml_map_publish(ml_anon_t *m, uintptr_t start, uint64_t len) {
  m->len = len;
  atomic_store_explicit(&m->start, start, memory_order_release);
}

static void ml_map_unpublish(ml_anon_t *m) {
  atomic_store_explicit(&m->start, 0, memory_order_release);
  ml_anon_t *s = atomic_load_explicit(&ml_maps.slots, memory_order_relaxed);
  if ((unsigned)(m - s) < ml_maps.free_from) ml_maps.free_from = (unsigned)(m - s);
}

static bool ml_map_add(const ml_anon_t *like, uintptr_t start, uint64_t len) {
  ml_anon_t *s = atomic_load_explicit(&ml_maps.slots, memory_order_relaxed);
  if (!s) {
    s = ml_prim_map(ML_MAP_SLOTS * sizeof(ml_anon_t));
    if (!s) return false;
    atomic_store_explicit(&ml_maps.slots, s, memory_order_release);
  }
  unsigned n = atomic_load_explicit(&ml_maps.used, memory_order_relaxed);
  unsigned i = ml_maps.free_from < n ? ml_maps.free_from : n;
  while (i < n && atomic_load_explicit(&s[i].start, memory_order_relaxed)) i++;
  if (i >= ML_MAP_SLOTS) {
    ml_maps.free_from = ML_MAP_SLOTS;
    ml_maps.dropped++;
    return false;
  }
  ml_maps.free_from = i + 1;
  ml_anon_t *m = &s[i];
  m->stack = like->stack;
  m->prot = like->prot;
  m->shared = like->shared;
  m->call = like->call;
  ml_map_publish(m, start, len);
  if (i == n) atomic_store_explicit(&ml_maps.used, n + 1, memory_order_release);
  return true;
}

/* Take [lo, hi) out of every record: whole ones go, the others are cut at
 * the head, at the tail, or in two.  Records do not overlap (the kernel's
 * mappings do not), so the scan stops when the records met cover the
 * range; it goes from the newest slots down, since a mapping tends to go
 * soon after it came (a program with thousands alive pays for the ones
 * it made later than the one it unmaps). */
static void ml_map_cut(uintptr_t lo, uintptr_t hi) {
  ml_anon_t *s = atomic_load_explicit(&ml_maps.slots, memory_order_relaxed);
  if (!s) return;
  uintptr_t left = hi - lo;
  for (unsigned i = atomic_load_explicit(&ml_maps.used, memory_order_relaxed); i-- > 0 && left;) {
    ml_anon_t *m = &s[i];
    uintptr_t a = atomic_load_explicit(&m->start, memory_order_relaxed), b = a + m->len;
    if (!a || b <= lo || a >= hi) continue;
    left -= (b < hi ? b : hi) - (a > lo ? a : lo);
    ml_map_unpublish(m);
    if (a < lo) ml_map_publish(m, a, lo - a);
    if (b > hi) {
      if (a < lo) ml_map_add(m, hi, b - hi); /* the middle went: the tail is new */
      else ml_map_publish(m, hi, b - hi);
    }
  }
}

/* The record holding addr, or NULL. */
static ml_anon_t *ml_map_find(uintptr_t addr) {
  ml_anon_t *s = atomic_load_explicit(&ml_maps.slots, memory_order_relaxed);
  if (!s) return NULL;
  unsigned n = atomic_load_explicit(&ml_maps.used, memory_order_relaxed);
  for (unsigned i = 0; i < n; i++) {
    uintptr_t a = atomic_load_explicit(&s[i].start, memory_order_relaxed);
    if (a && addr >= a && addr - a < s[i].len) return &s[i];
  }
  return NULL;
}

/* ---- the calls --------------------------------------------------------------------- */

/* What this call may change: ML_MAP_PASS (not recording, or the tracker's
 * own call), ML_MAP_CUT (a memledger_disable() region: its mappings are
 * not recorded, but unmapping still takes records out), ML_MAP_RECORD.
 * Other than PASS, the guard and the lock are held, and *stack (unless
 * NULL: no record will be made) is set. */
enum { ML_MAP_PASS, ML_MAP_CUT, ML_MAP_RECORD };
static int ml_map_begin(uint32_t *stack) {
  if (ml_res_enter(stack)) {
    ml_lock(&ml_maps.lock);
    return ML_MAP_RECORD;
  }
  if (!ml_tls.guard || ml_tls.guard != ml_tls.disabled ||
      atomic_load_explicit(&ml_core.state, memory_order_acquire) != ML_STATE_READY)
    return ML_MAP_PASS;
  if (stack) *stack = 0;
  ml_guard_enter();
  ml_lock(&ml_maps.lock);
  return ML_MAP_CUT;
}

static void ml_map_end(void) {
  ml_unlock(&ml_maps.lock);
  ml_guard_leave();
  if (ml_core.rss_check) ml_core.rss_check(); /* MEMLEDGER_DUMP_AT on the resident size */
}

void *ml_res_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  uint32_t stack = 0;
  int mode = ml_map_begin(flags & MAP_ANONYMOUS ? &stack : NULL);
  if (mode == ML_MAP_PASS) return ml_prim_mmap(addr, len, prot, flags, fd, off);
  void *p = ml_prim_mmap(addr, len, prot, flags, fd, off);
  int saved = errno;
  if (p != MAP_FAILED) {
    uintptr_t a = (uintptr_t)p;
    uint64_t n = ml_map_pages(len);
    /* MAP_FIXED replaced what was there; any other new range overlaps no
     * record (unless one is stale: a munmap made by a direct system call). */
    if (flags & MAP_FIXED) ml_map_cut(a, a + n);
    if (mode == ML_MAP_RECORD && (flags & MAP_ANONYMOUS)) {
      ml_anon_t like = {0, 0, stack, (uint8_t)prot, (flags & MAP_TYPE) != MAP_PRIVATE,
                       ML_MAP_MMAP};
      ml_map_add(&like, a, n);
    }
  }
  ml_map_end();
  errno = saved;
  return p;
}

int ml_res_munmap(void *addr, size_t len) {
  if (ml_map_begin(NULL) == ML_MAP_PASS) return ml_prim_munmap(addr, len);
  int rc = ml_prim_munmap(addr, len);
  int saved = errno;
  if (rc == 0) ml_map_cut((uintptr_t)addr, (uintptr_t)addr + ml_map_pages(len));
  ml_map_end();
  errno = saved;
  return rc;
}

void *ml_res_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr) {
  uint32_t stack;
  int mode = ml_map_begin(&stack);
  if (mode == ML_MAP_PASS) return ml_prim_mremap(old, old_len, new_len, flags, new_addr);
  void *p = ml_prim_mremap(old, old_len, new_len, flags, new_addr);
  int saved = errno;
  if (p != MAP_FAILED) {
    uintptr_t a = (uintptr_t)old, q = (uintptr_t)p;
    ml_anon_t *from = ml_map_find(a);
    ml_anon_t like = {0};
    if (from) like = *from;
    like.stack = stack;
    like.call = ML_MAP_MREMAP;
    /* old_len 0 duplicates a shared mapping, MREMAP_DONTUNMAP leaves the
     * old range mapped: the old record stays in both cases. */
    if (old_len && !(flags & MREMAP_DONTUNMAP)) ml_map_cut(a, a + ml_map_pages(old_len));
    if (flags & MREMAP_FIXED) ml_map_cut(q, q + ml_map_pages(new_len)); /* replaced */
    if (from && mode == ML_MAP_RECORD) ml_map_add(&like, q, ml_map_pages(new_len));
  }
  ml_map_end();
  errno = saved;
  return p;
}

/* ---- fork and the dump -------------------------------------------------------------- */

void ml_res_maps_fork_prepare(void) { ml_lock(&ml_maps.lock); }
void ml_res_maps_fork_parent(void) { ml_unlock(&ml_maps.lock); }
void ml_res_maps_fork_child(void) { ml_lock_init(&ml_maps.lock); }

void ml_res_maps_visit(bool frozen, ml_res_emit_t emit, void *ctx) {
  (void)frozen; /* lock-free either way */
  ml_anon_t *s = atomic_load_explicit(&ml_maps.slots, memory_order_acquire);
  if (!s) return;
  unsigned n = atomic_load_explicit(&ml_maps.used, memory_order_acquire);
  static char detail[16];
  for (unsigned i = 0; i < n; i++) {
    uintptr_t a = atomic_load_explicit(&s[i].start, memory_order_acquire);
    if (!a) continue;
    ml_anon_t m = s[i];
    detail[0] = m.prot & PROT_READ ? 'r' : '-';
    detail[1] = m.prot & PROT_WRITE ? 'w' : '-';
    detail[2] = m.prot & PROT_EXEC ? 'x' : '-';
    const char *call = m.call == ML_MAP_MREMAP ? " mremap" : " mmap";
    size_t k = 0;
    do detail[3 + k] = call[k];
    while (call[k++]);
    ml_res_line_t l = {m.stack, m.shared ? "anon-shared" : "anon-private", m.len, a, detail};
    emit(ctx, &l);
  }
}

/* SPDX-License-Identifier: MIT */
/*
 * scan.c - the reachability scan: memcheck's leak kinds for the unfreed
 * tracked blocks (layer: output).  See scan.h.
 *
 * Algorithm (valgrind's memcheck/mc_leakcheck.c, re-done here): every block
 * starts unreached.  Roots are scanned word by word (every aligned 8-byte
 * word); a value equal to a block's start makes it reachable, a value inside
 * it makes an unreached block possibly reachable; a block whose state
 * improves is pushed on a work stack and scanned in turn, passing on
 * "reachable" only when it is reachable itself.  Then each block still
 * unreached, in address order, leads a clique: everything unreached that it
 * reaches becomes indirectly lost (a former leader included), the leaders
 * that remain are definitely lost.  The marking stops as soon as every
 * block is reachable (ml_all_reached).  No recursion: the work stack is
 * mmap'd.
 *
 * Roots: every private readable and writable mapping of /proc/self/maps
 * (data and bss of every object, the heap, thread stacks with their TLS and
 * thread descriptors, the program's anonymous memory) minus: tracked blocks
 * (they are scanned when reached), memledger's own memory (its object,
 * record tables and this scan's arrays: they point at every block),
 * jemalloc's metadata (noted by jehooks.c: its extent descriptors point at
 * every large block), the dumping thread's stack below the dump's frames,
 * and, when every block is tracked (threshold <= 8, nothing dropped),
 * jemalloc's heap itself (its free regions hold stale pointers; memcheck
 * does not scan freed memory either).  Pages neither in memory nor in swap
 * (/proc/self/pagemap) are not read: never written, they hold no pointer
 * (ml_scan_mem).  The program may add roots and
 * reachable blocks (memledger.h): its root regions are scanned word by word
 * whatever they hold, and the blocks it said to ignore start out reachable
 * (LSan's __lsan_register_root_region and __lsan_ignore_object).
 * Registers: the dumping thread's are
 * on its stack (saved by ml_scan_save_regs, or in the signal frame of an
 * interrupted thread); other threads' registers at fork time cannot be had
 * from a snapshot (no ptrace), and their whole stack mappings are scanned
 * instead of the live part only, which errs towards "reachable".
 *
 * Memory: the records and kinds in one MAP_SHARED mapping (a helper child
 * writes the kinds back); sort buffer, bitmap, work stack and root list
 * mapped by the marking process.  Locks: ml_scan_collect in a thread takes
 * each arena's lock in turn; everything else takes none.  Marking runs in
 * a process of its own (a snapshot child, or the helper forked here), with
 * SIGSEGV/SIGBUS caught to skip a range that cannot be read, or, when the
 * dumping thread is the program's only one, in the program's process
 * itself, reading by copies (process_vm_readv: an unreadable page ends the
 * copy, no handler is installed) with the thread's signals held back (scan.h,
 * ML_SCAN_SELF).  It opens /proc/self/pagemap for the time of the marking
 * (in a child, a descriptor the program never sees; in the process, while
 * its only thread is in the dump).
 */
#include "scan.h"
#include "core.h"
#include "options.h"
#include "prim.h"
#include "track.h"
#include "treg.h"
#include "young.h"
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <sys/auxv.h>

#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

const char *ml_kind_name(unsigned k) {
  static const char *const names[] = {
#define ML_KIND_NAME(id, name) name,
      ML_KINDS(ML_KIND_NAME)
#undef ML_KIND_NAME
  };
  return k < ML_ARRAY_SIZE(names) ? names[k] : "-";
}

/* Tests: scan only the roots given with ml_scan_add_root (none of the
 * process's memory), so that what points where is known exactly. */
ML_TESTABLE bool ml_scan_extra_roots_only;

/* ---- what the program registers (memledger.h) ------------------------------------ *
 * Root regions (memledger_register_root_region) and ignored blocks
 * (memledger_ignore_object), in fixed tables of this object: no malloc, no
 * lock (a snapshot child reads them frozen, and a lock held at a fork would
 * stay held in the child).  A slot is claimed by a compare-and-swap of its
 * key from 0 to ML_REG_BUSY, filled, then published by storing the key
 * with release: a reader sees a slot whole or not at all.  The tables are
 * never roots themselves (ml_mark_all excludes them): a region's address
 * or an ignored block's must not make a block reachable. */
#define ML_ROOT_REGIONS 256
#define ML_IGNORED 4096
#define ML_REG_BUSY ((uintptr_t)1)

static struct {
  struct {
    _Atomic uintptr_t lo;  // 0: free; ML_REG_BUSY: being filled
    uintptr_t hi;
  } root[ML_ROOT_REGIONS];
  struct {
    _Atomic uintptr_t ptr; // the block's start; 0 free, ML_REG_BUSY filling
    uint64_t seq;          // its record's sequence number: a block allocated
                           // later at the same address is not ignored
  } ignored[ML_IGNORED];
} ml_reg;

/* Claim a free slot among n whose keys start at key0, stride bytes apart
 * (its key becomes ML_REG_BUSY).  Returns its index, or -1 when none. */
static long ml_reg_claim(_Atomic uintptr_t *key0, size_t stride, size_t n) {
  for (size_t i = 0; i < n; i++) {
    _Atomic uintptr_t *key = (_Atomic uintptr_t *)((char *)key0 + i * stride);
    uintptr_t zero = 0;
    if (atomic_compare_exchange_strong(key, &zero, ML_REG_BUSY)) return (long)i;
  }
  return -1;
}

bool ml_scan_add_root(const void *addr, size_t size) {
  uintptr_t lo = (uintptr_t)addr;
  if (lo <= ML_REG_BUSY || !size || lo + size < lo) return false;
  long i = ml_reg_claim(&ml_reg.root[0].lo, sizeof ml_reg.root[0], ML_ROOT_REGIONS);
  if (i < 0) return false;
  ml_reg.root[i].hi = lo + size;
  atomic_store_explicit(&ml_reg.root[i].lo, lo, memory_order_release);
  return true;
}

bool ml_scan_remove_root(const void *addr, size_t size) {
  uintptr_t lo = (uintptr_t)addr;
  for (size_t i = 0; i < ML_ROOT_REGIONS; i++) {
    uintptr_t cur = lo;
    if (atomic_load(&ml_reg.root[i].lo) == lo && ml_reg.root[i].hi == lo + size &&
        atomic_compare_exchange_strong(&ml_reg.root[i].lo, &cur, 0))
      return true;
  }
  return false;
}

/* Is the ignored entry i stale (its block freed, or the address reused)? */
static bool ml_ignored_stale(size_t i) {
  uintptr_t p = atomic_load_explicit(&ml_reg.ignored[i].ptr, memory_order_acquire);
  if (p <= ML_REG_BUSY) return false;
  ml_rec_t r;
  return !ml_track_find(p, &r) || ml_rec_seq(&r) != ml_reg.ignored[i].seq;
}

int ml_scan_ignore(const void *p) {
  ml_rec_t r;
  uintptr_t ptr = (uintptr_t)p;
  if (ptr <= ML_REG_BUSY || !ml_track_find(ptr, &r)) return 1;
  uint64_t seq = ml_rec_seq(&r);
  for (size_t i = 0; i < ML_IGNORED; i++)
    if (atomic_load(&ml_reg.ignored[i].ptr) == ptr && ml_reg.ignored[i].seq == seq) return 0;
  long i = ml_reg_claim(&ml_reg.ignored[0].ptr, sizeof ml_reg.ignored[0], ML_IGNORED);
  for (size_t k = 0; i < 0 && k < ML_IGNORED; k++) { /* full: reclaim a stale entry */
    uintptr_t old = atomic_load(&ml_reg.ignored[k].ptr);
    if (ml_ignored_stale(k) &&
        atomic_compare_exchange_strong(&ml_reg.ignored[k].ptr, &old, ML_REG_BUSY))
      i = (long)k;
  }
  if (i < 0) return -1;
  ml_reg.ignored[i].seq = seq;
  atomic_store_explicit(&ml_reg.ignored[i].ptr, ptr, memory_order_release);
  return 0;
}

/* ---- registers ------------------------------------------------------------------ */

ML_NOINLINE void ml_scan_save_regs(uintptr_t *regs) {
  memset(regs, 0, ML_SCAN_NREGS * sizeof *regs);
#if defined(__x86_64__)
  __asm__ volatile("movq %%rbx, 0(%0)\n\tmovq %%rbp, 8(%0)\n\tmovq %%r12, 16(%0)\n\t"
                   "movq %%r13, 24(%0)\n\tmovq %%r14, 32(%0)\n\tmovq %%r15, 40(%0)"
                   :
                   : "r"(regs)
                   : "memory");
#elif defined(__aarch64__)
  __asm__ volatile("stp x19, x20, [%0, #0]\n\tstp x21, x22, [%0, #16]\n\t"
                   "stp x23, x24, [%0, #32]\n\tstp x25, x26, [%0, #48]\n\t"
                   "stp x27, x28, [%0, #64]\n\tstr x29, [%0, #80]"
                   :
                   : "r"(regs)
                   : "memory");
#else
  __builtin_unwind_init(); /* spills them into this frame, below sp: lost */
#endif
}

/* ---- collect ---------------------------------------------------------------------- */

/* The shared mapping starts with what a helper child reports back. */
typedef struct ml_scan_hdr_s {
  _Atomic int done;       // 1: classified
  int why;                // index into ml_why[] when not
  uint64_t ns, root_bytes, block_bytes, faults, absent_bytes;
  char pad[8];
} ml_scan_hdr_t;

static const char *const ml_why[] = {
    "",
    "no memory for the scan",
    "cannot read /proc/self/maps",
    "the scan process could not be started",
    "the scan process died",
    "more than 2^32 blocks",
};

static size_t ml_scan_bytes(size_t cap) {
  return sizeof(ml_scan_hdr_t) + cap * sizeof(ml_rec_t) + cap;
}

typedef struct ml_copy_s {
  ml_scan_t *s;
  size_t over; // records beyond cap
} ml_copy_t;

static void ml_copy_one(const ml_rec_t *r, void *arg) {
  ml_copy_t *c = arg;
  if (c->s->n < c->s->cap) c->s->recs[c->s->n++] = *r;
  else c->over++;
}


int ml_scan_collect(ml_scan_t *s, bool frozen) {
  memset(s, 0, sizeof *s);
  s->why = "";
  ml_tables_t *t = &ml_core.tables;
  size_t want = 0;
  for (unsigned i = 0; i < t->narenas; i++) want += t->arenas[i].n.live; /* a hint */
  for (int tries = 0; tries < 4; tries++) {
    size_t cap = want + want / 8 + 1024;
    size_t bytes = ml_scan_bytes(cap);
    void *m = ml_prim_mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return ENOMEM;
    s->map_bytes = bytes;
    s->recs = (ml_rec_t *)((ml_scan_hdr_t *)m + 1);
    s->kind = (uint8_t *)(s->recs + cap);
    s->cap = cap;
    s->n = 0;
    memset(&s->counts, 0, sizeof s->counts);
    ml_copy_t c = {s, 0};
    for (unsigned i = 0; i < t->narenas; i++) {
      ml_counts_t n;
      uint64_t t0 = frozen ? 0 : ml_prim_now_ns();
      ml_tables_visit(t, i, frozen, ml_copy_one, &c, &n);
      if (!frozen && ml_prim_now_ns() - t0 > s->lock_ns) s->lock_ns = ml_prim_now_ns() - t0;
      ml_counts_add(&s->counts, &n);
    }
    ml_young_visit(frozen, ml_copy_one, &c);
    ml_young_counts_add(&s->counts);
    if (!c.over) return 0;
    want = s->n + c.over + want / 2; /* other threads went on: again, bigger */
    ml_prim_munmap(m, bytes);
    s->recs = NULL;
  }
  memset(s, 0, sizeof *s);
  return ENOMEM;
}

void ml_scan_release(ml_scan_t *s) {
  if (s->recs) ml_prim_munmap((ml_scan_hdr_t *)s->recs - 1, s->map_bytes);
  memset(s, 0, sizeof *s);
}

/* ---- sorting (LSD radix on the ptr field; no recursion, no allocation) --------- */

static void ml_sort_recs(ml_rec_t *a, ml_rec_t *tmp, size_t n) {
  size_t cnt[2048];
  ml_rec_t *src = a, *dst = tmp;
  for (unsigned shift = 0; shift < 64; shift += 11) {
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) cnt[(src[i].ptr >> shift) & 2047]++;
    if (n && cnt[(src[0].ptr >> shift) & 2047] == n) continue; /* one digit: in order */
    size_t sum = 0;
    for (size_t d = 0; d < 2048; d++) {
      size_t k = cnt[d];
      cnt[d] = sum;
      sum += k;
    }
    for (size_t i = 0; i < n; i++) dst[cnt[(src[i].ptr >> shift) & 2047]++] = src[i];
    ml_rec_t *x = src;
    src = dst;
    dst = x;
  }
  if (src != a) memcpy(a, src, n * sizeof *a);
}

/* Sort with a buffer of our own; insertion sort when none can be had. */
static void ml_sort_any(ml_rec_t *a, size_t n) {
  ml_rec_t *tmp = n > 1 ? ml_prim_map(n * sizeof *tmp) : NULL;
  if (tmp) {
    ml_sort_recs(a, tmp, n);
    ml_prim_unmap(tmp, n * sizeof *tmp);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    ml_rec_t x = a[i];
    size_t j = i;
    for (; j > 0 && a[j - 1].ptr > x.ptr; j--) a[j] = a[j - 1];
    a[j] = x;
  }
}

void ml_scan_sort_by_stack_kind(ml_scan_t *s, size_t max_stack) {
  for (size_t i = 0; i < s->n; i++) {
    uint32_t id = ml_rec_stack(&s->recs[i]);
    if (id > max_stack) id = 0;
    s->recs[i].ptr = ((uintptr_t)id << 3) | (s->classified ? s->kind[i] : ML_KIND_UNKNOWN);
  }
  ml_sort_any(s->recs, s->n);
}

/* ---- marking ------------------------------------------------------------------------ */

/* memcheck's states, in order of improvement. */
enum { ML_ST_UNREACHED, ML_ST_INDIRECT, ML_ST_POSSIBLE, ML_ST_REACHABLE };

typedef struct ml_mark_s {
  const ml_rec_t *r;       // blocks by address
  uint8_t *st;             // state per block
  size_t n;
  uintptr_t lo_all, hi_all;// [lowest start, highest end)
  uint32_t *first;         // per 2^grain-byte granule of [lo_all, hi_all): the
                           // first block ending after its start (ngran + 1)
  unsigned grain;
  size_t first_bytes;
  uint32_t *stack;         // work stack of block indexes
  size_t top, stack_cap;
  long clique;             // leader of the clique being traced, -1 for none
  bool prior_definite;     // the memory being scanned is a root or reachable
  uint64_t faults;
  int pagemap;             // /proc/self/pagemap, or -1: every page is read
  uintptr_t page;          // the page size
  uint64_t absent;         // bytes not read: pages neither in memory nor in swap
  size_t reached;          // blocks found reachable (ML_ST_REACHABLE)
  uint64_t unread;         // bytes of ranges left when every block was reachable
  long pid;                // marking in the program's own process: its pid, whose
                           // memory is read through process_vm_readv into copy[]
                           // (no fault can reach the program); 0: read directly
  uintptr_t *copy;         // ML_COPY_BYTES
} ml_mark_t;

/* Every block is reachable: no word read from now on can change a state
 * (ml_hit leaves a reachable block alone, and no clique is left to trace),
 * so the marking stops.  What that saves depends on where the last pointer
 * sits (roots are read in address order: the program's data and bss come
 * before its heap): a block held by a global is found before the memory
 * after it is read; sqlite3's exit leaves 3 blocks whose last pointer lies
 * near the end of its heap (bench/README.md, "The leak scan"). */
ML_INLINE bool ml_all_reached(const ml_mark_t *m) { return m->reached == m->n; }

static ml_mark_t ml_m; /* one marking per process at a time */

ML_INLINE uintptr_t ml_blk_end(const ml_rec_t *r) {
  size_t sz = ml_rec_size(r);
  return r->ptr + (sz ? sz : 1); /* memcheck: a 0-byte block covers 1 byte */
}

/* The block containing v, or -1.  The granule index narrows the search to
 * the blocks that overlap v's granule (a handful: the granule is sized to
 * the number of blocks), so a word costs one or two loads, not a binary
 * search over every block: most words of a big heap point into it. */
ML_INLINE long ml_find(const ml_mark_t *m, uintptr_t v) {
  if (v < m->lo_all || v >= m->hi_all) return -1;
  size_t g = (v - m->lo_all) >> m->grain;
  size_t lo = m->first[g], hi = m->first[g + 1]; /* candidates: [lo, hi] */
  if (hi >= m->n) hi = m->n - 1;
  if (lo > hi || m->r[lo].ptr > v) return -1;
  while (lo < hi) { /* the last block starting at or below v */
    size_t mid = lo + (hi - lo + 1) / 2;
    if (m->r[mid].ptr <= v) lo = mid;
    else hi = mid - 1;
  }
  return v < ml_blk_end(&m->r[lo]) ? (long)lo : -1;
}

static void ml_push(ml_mark_t *m, size_t i) {
  if (m->top < m->stack_cap) m->stack[m->top++] = (uint32_t)i;
}

/* A word that points into block i (noinline: the state lives in memory when
 * a fault jumps out of the scanning loop). */
static ML_NOINLINE void ml_hit(ml_mark_t *m, size_t i, uintptr_t v) {
  uint8_t st = m->st[i];
  if (m->clique >= 0) {
    /* Tracing lost blocks: whatever is unreached joins the clique. */
    if (st == ML_ST_UNREACHED && (long)i != m->clique) {
      m->st[i] = ML_ST_INDIRECT;
      ml_push(m, i);
    }
    return;
  }
  if (st == ML_ST_REACHABLE) return;
  if (v == m->r[i].ptr && m->prior_definite) {
    m->st[i] = ML_ST_REACHABLE;
    m->reached++;
    ml_push(m, i);
  } else if (st == ML_ST_UNREACHED) {
    m->st[i] = ML_ST_POSSIBLE;
    ml_push(m, i);
  }
}

/* Words in batches: those inside [lo_all, hi_all) have their granule's
 * entry and then their candidate record prefetched before any is looked
 * up, so that the cache misses of a pointer-dense heap overlap instead of
 * following one another. */
#define ML_BATCH 16

static void ml_scan_words(ml_mark_t *m, uintptr_t lo, uintptr_t hi) {
  lo = (lo + 7) & ~(uintptr_t)7;
  uintptr_t p = lo, span = m->hi_all - m->lo_all;
  for (; p + 8 * ML_BATCH <= hi; p += 8 * ML_BATCH) {
    if (ml_unlikely(ml_all_reached(m))) {
      m->unread += hi - p;
      return;
    }
    uintptr_t v[ML_BATCH];
    unsigned k = 0;
    for (unsigned j = 0; j < ML_BATCH; j++) {
      uintptr_t x = ((const volatile uintptr_t *)p)[j];
      if (x - m->lo_all < span) {
        v[k++] = x;
        __builtin_prefetch(&m->first[(x - m->lo_all) >> m->grain]);
      }
    }
    if (!k) continue;
    for (unsigned j = 0; j < k; j++) {
      size_t f = m->first[(v[j] - m->lo_all) >> m->grain];
      if (f < m->n) __builtin_prefetch(&m->r[f]);
    }
    for (unsigned j = 0; j < k; j++) {
      long i = ml_find(m, v[j]);
      if (ml_unlikely(i >= 0)) ml_hit(m, (size_t)i, v[j]);
    }
  }
  for (; p + 8 <= hi; p += 8) {
    uintptr_t v = *(const volatile uintptr_t *)p;
    long i = ml_find(m, v);
    if (ml_unlikely(i >= 0)) ml_hit(m, (size_t)i, v);
  }
}

/* Marking in the program's process (ml_scan_classify: a process with one
 * thread, which is the dumping one) reads memory by copies: a page that
 * cannot be read ends the copy there instead of raising a signal, so no
 * handler is installed and the program's dispositions stay untouched.  A
 * range is copied and scanned ML_COPY_BYTES at a time; a copy that stops
 * short skips the rest of the range, as a fault does in a helper. */
#define ML_COPY_BYTES (64 * 1024)

static void ml_scan_copied(ml_mark_t *m, uintptr_t lo, uintptr_t hi) {
  lo = (lo + 7) & ~(uintptr_t)7;
  while (lo + 8 <= hi) {
    if (ml_all_reached(m)) {
      m->unread += hi - lo;
      return;
    }
    size_t want = (hi - lo < ML_COPY_BYTES ? hi - lo : ML_COPY_BYTES) & ~(size_t)7;
    struct iovec local = {m->copy, want}, remote = {(void *)lo, want};
    long got = ml_prim_sys(SYS_process_vm_readv, m->pid, (long)&local, 1, (long)&remote, 1, 0);
    if (got > 0) {
      uintptr_t buf = (uintptr_t)m->copy;
      ml_scan_words(m, buf, buf + ((size_t)got & ~(size_t)7));
    }
    if (got < (long)want) {
      m->faults++;
      return;
    }
    lo += want;
  }
}

/* Faults: a range that cannot be read is skipped from the faulting word on. */
static sigjmp_buf ml_fault_jb;
static volatile sig_atomic_t ml_fault_armed;

static void ml_on_fault(int sig) {
  if (ml_fault_armed) siglongjmp(ml_fault_jb, 1);
  /* Not ours: die by it. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  __sigaction(sig, &dfl, NULL);
}

static void ml_scan_guarded(ml_mark_t *m, uintptr_t lo, uintptr_t hi) {
  if (m->pid) {
    ml_scan_copied(m, lo, hi);
    return;
  }
  if (sigsetjmp(ml_fault_jb, 0)) {
    ml_fault_armed = 0;
    m->faults++;
    return;
  }
  ml_fault_armed = 1;
  ml_scan_words(m, lo, hi);
  ml_fault_armed = 0;
}

/* Pages that are neither in memory nor in swap were never written (or
 * were discarded: MADV_DONTNEED, MADV_FREE): they read as zeros, or as the
 * unmodified file of a private file mapping, and neither can hold a
 * pointer the program stored.  Skipping them is what keeps an exit dump
 * of a program with many threads fast: glibc keeps dead threads' stacks
 * mapped (8 MiB each, mostly untouched) and jemalloc keeps the address
 * space it retains mapped read-write; larson (mimalloc-bench) leaves 1.8
 * GB of such root memory at exit, which took 0.7 s to read.  The answer
 * comes from /proc/self/pagemap (bit 63: present, bit 62: swapped), read
 * in the marking process, whose page tables fork copied from the
 * program's.  Ranges under ML_PRESENCE_MIN_PAGES pages are read whole (a
 * pread costs more than reading them). */
#define ML_PM_PRESENT (UINT64_C(1) << 63)
#define ML_PM_SWAPPED (UINT64_C(1) << 62)
#define ML_PRESENCE_MIN_PAGES 16
#define ML_PRESENCE_BATCH 512 /* pagemap entries per read */

/* Scan [lo, hi) but its absent pages; the bytes read. */
static uint64_t ml_scan_mem_all(ml_mark_t *m, uintptr_t lo, uintptr_t hi);
static uint64_t ml_scan_mem(ml_mark_t *m, uintptr_t lo, uintptr_t hi) {
  uint64_t unread = m->unread;
  uint64_t read = ml_scan_mem_all(m, lo, hi);
  return read - (m->unread - unread);
}

/* The same, counting as read what a stop left unread (ml_all_reached). */
static uint64_t ml_scan_mem_all(ml_mark_t *m, uintptr_t lo, uintptr_t hi) {
  if (hi <= lo || ml_all_reached(m)) return 0;
  const uintptr_t pg = m->page;
  if (m->pagemap < 0 || hi - lo < ML_PRESENCE_MIN_PAGES * pg) {
    ml_scan_guarded(m, lo, hi);
    return hi - lo;
  }
  uint64_t read = 0, e[ML_PRESENCE_BATCH];
  uintptr_t run = 0; /* start of the present run being gathered, 0: none */
  uintptr_t page = lo & ~(pg - 1);
  while (page < hi) {
    if (ml_all_reached(m)) return read; /* what follows is neither read nor absent */
    size_t want = (size_t)((hi - page + pg - 1) / pg);
    if (want > ML_PRESENCE_BATCH) want = ML_PRESENCE_BATCH;
    long got = ml_sys4(SYS_pread64, m->pagemap, e, want * 8, (page / pg) * 8);
    if (got < 8) { /* pagemap refused: read the rest whole */
      if (!run) run = page;
      break;
    }
    size_t k = (size_t)got / 8;
    for (size_t j = 0; j < k; j++, page += pg) {
      bool in = (e[j] & (ML_PM_PRESENT | ML_PM_SWAPPED)) != 0;
      if (in && !run) {
        run = page;
      } else if (!in && run) {
        uintptr_t a = run > lo ? run : lo;
        ml_scan_guarded(m, a, page);
        read += page - a;
        run = 0;
      }
      if (!in) {
        uintptr_t a = page > lo ? page : lo, b = page + pg < hi ? page + pg : hi;
        m->absent += b - a;
      }
    }
  }
  if (run) {
    uintptr_t a = run > lo ? run : lo;
    ml_scan_guarded(m, a, hi);
    read += hi - a;
  }
  return read;
}

/* Scan the blocks on the work stack until it is empty. */
static void ml_drain(ml_mark_t *m, ml_scan_t *s) {
  if (ml_all_reached(m)) m->top = 0;
  while (m->top) {
    size_t i = m->stack[--m->top];
    const ml_rec_t *r = &m->r[i];
    m->prior_definite = m->st[i] == ML_ST_REACHABLE;
    s->block_bytes += ml_scan_mem(m, r->ptr, r->ptr + ml_rec_size(r));
  }
}

/* Root memory [lo, hi) minus the tracked blocks (and their slack) inside. */
static void ml_scan_root(ml_mark_t *m, ml_scan_t *s, uintptr_t lo, uintptr_t hi) {
  if (hi <= lo) return;
  m->prior_definite = true;
  /* First block that ends after lo. */
  size_t a = 0, b = m->n;
  while (a < b) {
    size_t mid = a + (b - a) / 2;
    if (m->r[mid].ptr < lo) a = mid + 1;
    else b = mid;
  }
  if (a > 0 && ml_blk_end(&m->r[a - 1]) > lo) a--;
  uintptr_t cur = lo;
  for (size_t i = a; i < m->n && m->r[i].ptr < hi && cur < hi; i++) {
    const ml_rec_t *r = &m->r[i];
    if (r->ptr > cur) {
      s->root_bytes += ml_scan_mem(m, cur, r->ptr);
      m->prior_definite = true;
    }
    size_t sz = ml_rec_size(r), us = ml_backend.ctl ? ml_backend.good_size(sz) : sz;
    uintptr_t end = r->ptr + (us > sz ? us : sz ? sz : 1);
    if (end > cur) cur = end;
  }
  if (cur < hi) s->root_bytes += ml_scan_mem(m, cur, hi);
  ml_drain(m, s);
}

/* ---- roots ------------------------------------------------------------------------------ */

typedef struct ml_range_s {
  uintptr_t lo, hi;
} ml_range_t;

typedef struct ml_roots_s {
  ml_range_t *v;     // root mappings, in address order
  size_t n, cap;
  ml_range_t *ex;    // exclusions (sorted before use)
  size_t nex, capex;
  uintptr_t sp;      // the dumping thread's stack: scanned from here
} ml_roots_t;

static void ml_exclude(ml_roots_t *R, uintptr_t lo, uintptr_t hi) {
  if (hi > lo && R->nex < R->capex) R->ex[R->nex++] = (ml_range_t){lo, hi};
}

static int ml_root_map(const ml_map_t *mp, void *arg) {
  ml_roots_t *R = arg;
  const char *path = mp->path;
  if (mp->perms[0] != 'r' || mp->perms[1] != 'w' || mp->perms[3] != 'p') return 0;
  if (path[0] == '[' && strcmp(path, "[stack]") != 0 && strcmp(path, "[heap]") != 0 &&
      strncmp(path, "[anon", 5) != 0)
    return 0; /* [vvar], [vdso], [vsyscall], [uprobes]: the kernel's */
  if (strncmp(path, "/dev/", 5) == 0) return 0; /* device memory */
  if (R->n < R->cap) R->v[R->n++] = (ml_range_t){mp->lo, mp->hi};
  if (R->sp >= mp->lo && R->sp < mp->hi) ml_exclude(R, mp->lo, R->sp);
  return 0;
}

static void ml_exclude_jemaps(ml_roots_t *R, ml_jemap_t what) {
  const ml_jemaps_t *m = ml_jemaps_get(what);
  unsigned n = atomic_load(&m->n);
  if (n > ML_JEMAPS) n = ML_JEMAPS;
  for (unsigned i = 0; i < n; i++) {
    uintptr_t lo = atomic_load_explicit(&m->r[i].lo, memory_order_acquire);
    if (lo) ml_exclude(R, lo, m->r[i].hi);
  }
}

/* Sort exclusions (as records keyed by lo) and merge overlaps. */
static void ml_exclusions_sort(ml_roots_t *R) {
  for (size_t i = 1; i < R->nex; i++) { /* few hundred at most: insertion */
    ml_range_t x = R->ex[i];
    size_t j = i;
    for (; j > 0 && R->ex[j - 1].lo > x.lo; j--) R->ex[j] = R->ex[j - 1];
    R->ex[j] = x;
  }
  size_t k = 0;
  for (size_t i = 0; i < R->nex; i++) {
    if (k && R->ex[i].lo <= R->ex[k - 1].hi) {
      if (R->ex[i].hi > R->ex[k - 1].hi) R->ex[k - 1].hi = R->ex[i].hi;
    } else {
      R->ex[k++] = R->ex[i];
    }
  }
  R->nex = k;
}

/* ---- the whole marking, in a process of its own ------------------------------------------ */

static void *ml_map_or_null(size_t bytes) { return bytes ? ml_prim_map(bytes) : NULL; }

/* Returns 0 or an index into ml_why. */
static int ml_mark_all(ml_scan_t *s, uintptr_t sp, long self_pid) {
  uint64_t t0 = ml_prim_now_ns();
  ml_mark_t *m = &ml_m;
  memset(m, 0, sizeof *m);
  m->clique = -1;
  m->pagemap = -1;
  m->pid = self_pid;
  ml_roots_t R; /* (every mapping is undone at out:, the early ones too) */
  memset(&R, 0, sizeof R);
  int why = 0;
  if (s->n >= UINT32_MAX / 2) return 5;
  if (!s->n) { /* nothing to classify: no roots to read */
    s->ns = ml_prim_now_ns() - t0;
    return 0;
  }
  m->r = s->recs;
  m->st = s->kind;
  m->n = s->n;
  memset(m->st, ML_ST_UNREACHED, s->n);

  /* The granule index: about 4 granules per block, 2^26 at most. */
  if (m->n) {
    m->lo_all = m->r[0].ptr;
    for (size_t i = 0; i < m->n; i++) {
      uintptr_t e = ml_blk_end(&m->r[i]);
      if (e > m->hi_all) m->hi_all = e;
    }
    size_t span = m->hi_all - m->lo_all, want = 4 * m->n + 4096;
    if (want > ((size_t)1 << 26)) want = (size_t)1 << 26;
    m->grain = 3;
    while ((span >> m->grain) > want) m->grain++;
    size_t ngran = (span >> m->grain) + 1;
    m->first_bytes = (ngran + 1) * sizeof *m->first;
    m->first = ml_map_or_null(m->first_bytes);
    if (!m->first) {
      why = 1;
      goto out;
    }
    size_t i = 0;
    for (size_t g = 0; g <= ngran; g++) {
      uintptr_t base = m->lo_all + ((uintptr_t)g << m->grain);
      while (i < m->n && ml_blk_end(&m->r[i]) <= base) i++;
      m->first[g] = (uint32_t)i;
    }
    m->stack_cap = 2 * m->n + 16;
    m->stack = ml_map_or_null(m->stack_cap * sizeof *m->stack);
    if (!m->stack) {
      why = 1;
      goto out;
    }
  }

  if (m->pid) {
    m->copy = ml_map_or_null(ML_COPY_BYTES);
    if (!m->copy) {
      why = 1;
      goto out;
    }
  }
  m->page = getauxval(AT_PAGESZ);
  if (!m->page) m->page = 4096;
  m->pagemap = (int)ml_sys4(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);

  /* The roots. */
  R.sp = sp;
  R.cap = 1 << 17;
  R.capex = ML_JEMAPS * 2 + 4096 + ML_TREG_MAX;
  R.v = ml_map_or_null(R.cap * sizeof *R.v);
  R.ex = ml_map_or_null(R.capex * sizeof *R.ex);
  if (!R.v || !R.ex) {
    why = 1;
    goto out;
  }
  /* Memledger's own memory: its object (when it is ours alone), tables, this scan. */
  if (ml_backend.text_is_ours) {
    ml_module_t me;
    ml_prim_module_self(&me);
    ml_exclude(&R, me.lo, me.hi);
  }
  ml_tables_t *t = &ml_core.tables;
  ml_exclude(&R, (uintptr_t)t->arenas, (uintptr_t)(t->arenas + t->narenas));
  for (unsigned i = 0; i < t->narenas; i++) {
    const ml_rec_t *slots = t->arenas[i].slots;
    if (slots)
      ml_exclude(&R, (uintptr_t)slots - ML_CACHE_LINE,
                 (uintptr_t)(slots + ((const size_t *)slots)[-ML_CACHE_LINE / 8]));
  }
  ml_exclude(&R, (uintptr_t)((ml_scan_hdr_t *)s->recs - 1),
             (uintptr_t)((ml_scan_hdr_t *)s->recs - 1) + s->map_bytes);
  ml_exclude(&R, (uintptr_t)m->first, (uintptr_t)m->first + m->first_bytes);
  ml_exclude(&R, (uintptr_t)m->stack, (uintptr_t)(m->stack + m->stack_cap));
  ml_exclude(&R, (uintptr_t)R.v, (uintptr_t)(R.v + R.cap));
  ml_exclude(&R, (uintptr_t)R.ex, (uintptr_t)(R.ex + R.capex));
  if (m->copy) ml_exclude(&R, (uintptr_t)m->copy, (uintptr_t)m->copy + ML_COPY_BYTES);
  ml_exclude(&R, (uintptr_t)&ml_reg, (uintptr_t)(&ml_reg + 1));
  for (unsigned i = 0; i < ml_young_caches(); i++) { /* they hold every young block's address */
    uintptr_t lo = ml_young_cache_at(i);
    if (lo) ml_exclude(&R, lo, lo + ((const ml_young_t *)lo)->bytes);
  }
  ml_exclude(&R, s->skip_lo, s->skip_hi);
  ml_exclude_jemaps(&R, ML_JEMAP_META);
  if (ml_gate.threshold <= 8 && !s->counts.dropped &&
      !atomic_load(&ml_jemaps_get(ML_JEMAP_HEAP)->incomplete))
    ml_exclude_jemaps(&R, ML_JEMAP_HEAP);
  if (!ml_scan_extra_roots_only && ml_prim_maps_foreach(ml_root_map, &R) < 0) {
    why = 2;
    goto out;
  }
  ml_exclusions_sort(&R);

  /* Phase 1: everything reachable from the roots, and from the blocks the
   * program said to ignore (memledger_ignore_object: reachable, like
   * LSan's ignored objects, and what they point to with them). */
  for (size_t i = 0; i < ML_IGNORED; i++) {
    uintptr_t p = atomic_load_explicit(&ml_reg.ignored[i].ptr, memory_order_acquire);
    long k = p > ML_REG_BUSY ? ml_find(m, p) : -1;
    if (k < 0 || m->r[k].ptr != p || ml_rec_seq(&m->r[k]) != ml_reg.ignored[i].seq) continue;
    if (m->st[k] != ML_ST_REACHABLE) {
      m->st[k] = ML_ST_REACHABLE;
      m->reached++;
      ml_push(m, (size_t)k);
    }
  }
  ml_drain(m, s);
  size_t e = 0;
  for (size_t i = 0; i < R.n && !ml_all_reached(m); i++) {
    uintptr_t lo = R.v[i].lo, hi = R.v[i].hi;
    while (lo < hi) {
      while (e < R.nex && R.ex[e].hi <= lo) e++;
      if (e < R.nex && R.ex[e].lo < hi) {
        if (R.ex[e].lo > lo) ml_scan_root(m, s, lo, R.ex[e].lo);
        lo = R.ex[e].hi;
      } else {
        ml_scan_root(m, s, lo, hi);
        lo = hi;
      }
    }
  }
  /* The program's root regions, word by word whatever they hold (a
   * tracked block's memory included: the program says it is a root). */
  m->prior_definite = true;
  for (size_t i = 0; i < ML_ROOT_REGIONS; i++) {
    uintptr_t lo = atomic_load_explicit(&ml_reg.root[i].lo, memory_order_acquire);
    if (lo <= ML_REG_BUSY) continue;
    m->prior_definite = true;
    s->root_bytes += ml_scan_mem(m, lo, ml_reg.root[i].hi);
    ml_drain(m, s);
  }

  /* Phase 2: cliques of lost blocks. */
  for (size_t i = 0; i < m->n; i++) {
    if (m->st[i] != ML_ST_UNREACHED) continue;
    m->clique = (long)i;
    ml_push(m, i);
    ml_drain(m, s);
  }
  m->clique = -1;
  for (size_t i = 0; i < m->n; i++) {
    static const uint8_t kind[] = {ML_KIND_DEFINITE, ML_KIND_INDIRECT, ML_KIND_POSSIBLE,
                                   ML_KIND_REACHABLE};
    m->st[i] = kind[m->st[i]];
  }
out:
  if (m->pagemap >= 0) ml_sys1(SYS_close, m->pagemap);
  m->pagemap = -1;
  ml_prim_unmap(R.v, R.cap * sizeof *R.v);
  ml_prim_unmap(R.ex, R.capex * sizeof *R.ex);
  ml_prim_unmap(m->first, m->first_bytes);
  ml_prim_unmap(m->stack, m->stack_cap * sizeof *m->stack);
  if (m->copy) ml_prim_unmap(m->copy, ML_COPY_BYTES);
  m->copy = NULL;
  s->faults = m->faults;
  s->absent_bytes = m->absent;
  s->ns = ml_prim_now_ns() - t0;
  return why;
}

/* Catch faults while marking (this process only). */
static void ml_fault_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ml_on_fault;
  sa.sa_flags = SA_NODEFER;
  __sigaction(SIGSEGV, &sa, NULL);
  __sigaction(SIGBUS, &sa, NULL);
  unsigned long faults = (1UL << (SIGSEGV - 1)) | (1UL << (SIGBUS - 1));
  ml_sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, &faults, NULL, sizeof faults);
}

static void ml_fault_handlers_off(void) {
  unsigned long faults = (1UL << (SIGSEGV - 1)) | (1UL << (SIGBUS - 1));
  ml_sys4(SYS_rt_sigprocmask, SIG_BLOCK, &faults, NULL, sizeof faults);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  __sigaction(SIGSEGV, &dfl, NULL);
  __sigaction(SIGBUS, &dfl, NULL);
}

const char *ml_scan_where_name(ml_scan_where_t where) {
  static const char *const names[] = {"snapshot", "helper", "self"};
  return (unsigned)where < ML_ARRAY_SIZE(names) ? names[where] : "?";
}

/* Can this process copy its own memory (process_vm_readv: ENOSYS on a
 * kernel built without it; a seccomp filter never gets here, dumps stop
 * when the program installs one)?  Asked at each dump. */
static bool ml_scan_can_copy(long pid) {
  uintptr_t probe = 0x6d6c, got = 0;
  struct iovec local = {&got, sizeof got}, remote = {&probe, sizeof probe};
  long n = ml_prim_sys(SYS_process_vm_readv, pid, (long)&local, 1, (long)&remote, 1, 0);
  return n == (long)sizeof got && got == probe;
}

void ml_scan_classify(ml_scan_t *s, uintptr_t sp, ml_scan_where_t where) {
  s->where = where;
  if (!s->recs) return;
  if (!ml_option_get(ML_OPT_LEAK_SCAN)) {
    s->why = "off (MEMLEDGER_LEAK_SCAN=0)";
    return;
  }
  ml_scan_hdr_t *h = (ml_scan_hdr_t *)s->recs - 1;
  /* Sorted here, so that a helper that dies leaves the records whole. */
  ml_sort_any(s->recs, s->n);
  if (where == ML_SCAN_SNAPSHOT) {
    ml_fault_handlers();
    int why = ml_mark_all(s, sp, 0);
    ml_fault_handlers_off();
    s->classified = why == 0;
    s->why = ml_why[why];
    return;
  }
  long self = where == ML_SCAN_SELF ? ml_sys0(SYS_getpid) : 0;
  if (self > 0 && ml_scan_can_copy(self)) {
    /* The only thread: nothing but a signal handler could change memory
     * while it is read; signals wait until the marking is done. */
    unsigned long all = ~0UL, old = 0;
    ml_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
    int why = ml_mark_all(s, sp, self);
    ml_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
    s->classified = why == 0;
    s->why = ml_why[why];
    return;
  }
  s->where = ML_SCAN_HELPER;
  /* A helper with a frozen copy of this process: the program's threads
   * (and this one) never scan their live memory. */
  long pid = ml_sys5(SYS_clone, 0 /* exit signal 0: invisible */, 0, 0, 0, 0);
  if (pid == 0) {
    unsigned long all = ~0UL;
    ml_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof all);
    ml_sys2(SYS_prctl, PR_SET_NAME, "memledger-scan");
    ml_fault_handlers();
    int why = ml_mark_all(s, sp, 0);
    h->why = why;
    h->ns = s->ns;
    h->root_bytes = s->root_bytes;
    h->block_bytes = s->block_bytes;
    h->faults = s->faults;
    h->absent_bytes = s->absent_bytes;
    atomic_store_explicit(&h->done, why == 0, memory_order_release);
    for (;;) ml_sys1(SYS_exit_group, 0);
  }
  if (pid < 0) {
    s->why = ml_why[3];
    return;
  }
  int st;
  long r;
  do r = ml_sys4(SYS_wait4, pid, &st, __WCLONE, 0);
  while (r == -EINTR);
  if (!atomic_load_explicit(&h->done, memory_order_acquire)) {
    s->why = ml_why[h->why > 0 && (size_t)h->why < ML_ARRAY_SIZE(ml_why) ? h->why : 4];
    return;
  }
  s->classified = true;
  s->why = "";
  s->ns = h->ns;
  s->root_bytes = h->root_bytes;
  s->block_bytes = h->block_bytes;
  s->faults = h->faults;
  s->absent_bytes = h->absent_bytes;
}

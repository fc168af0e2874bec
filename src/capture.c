/* SPDX-License-Identifier: MIT */
/*
 * capture.c - the per-thread cache of eh walks (layer: core): lookup,
 * the words' compare, misses, blocks, statistics (why a hit is exact:
 * capture.h).  Memory: one block per stack a thread ran on (mmap, 24 KiB,
 * touched as used), kept in a registry keyed by the stack's top and
 * reused by the next thread on that stack, or by any thread once its
 * thread ended (treg.h); a thread that finds the registry full walks
 * uncached.  Takes no lock.  Never allocates through malloc.
 */
#include "capture.h"
#include "prim.h"
#include "treg.h"

ML_NOINLINE uint32_t ml_capture_walk(ml_unwind_mode_t mode, uintptr_t ra) {
#if defined(__x86_64__) && defined(__linux__)
  if (mode == ML_UNWIND_LIBUNWIND && !ml_unwind_unw_backtrace) return ml_capture_eh(ra);
#endif
  uintptr_t buf[ML_UNWIND_BUF_FRAMES];
  const uintptr_t *frames;
  unsigned n = ml_unwind_capture(mode, buf, &frames, ml_core.max_frames, ml_core.skip_frames, ra);
  if (ml_unlikely(n == 0))
    atomic_fetch_add_explicit(&ml_core.unwind_failures, 1, memory_order_relaxed);
  return ml_stacks_intern(&ml_core.stacks, frames, n);
}

#if defined(__x86_64__) && defined(__linux__)

ML_TLS ml_cap_block_t *ml_cap_mine;
static ML_TLS bool ml_cap_none; // this thread gets no block (no bounds, no memory)

/* The blocks ever made, by stack top (treg.h). */
static ml_treg_t ml_cap_reg;

/* The object list or the walk's length changed (a dlopen or dlclose, new
 * options): forget every way. */
static ML_NOINLINE void ml_cap_block_reset(ml_cap_block_t *b, const void *list,
                                           uint64_t limits) {
  for (unsigned w = 0; w < b->ways; w++) {
    b->e[w].sp = 0;
    b->tag[w] = 0;
  }
  b->list = list;
  b->limits = limits;
}

static size_t ml_cap_block_bytes(unsigned ways) {
  return sizeof(ml_cap_block_t) + ways * sizeof(ml_cap_entry_t);
}

/* This thread's block of `ways` ways: the one left on this stack by a
 * thread that ended, or a new one (a block of another size that this
 * stack had is given back).  NULL when the thread gets none. */
static ML_NOINLINE ml_cap_block_t *ml_cap_thread_init(unsigned ways) {
  uintptr_t lo, hi;
  ml_unwind_stack_bounds(&lo, &hi);
  ml_cap_none = true;
  ml_cap_mine = NULL;
  if (hi <= 1) return NULL;
  ml_cap_block_t *b = ml_treg_claim(&ml_cap_reg, ml_cap_block_bytes(ways), hi, NULL);
  if (!b) return NULL;
  b->ways = ways;
  b->last = 0;
  b->hot = &b->e[0];
  /* A block left by another thread: its walks are not this thread's (its
   * counters stay: they are the stack's). */
  ml_cap_block_reset(b, ml_eh_list_now(), ml_core.frame_limits);
  ml_cap_none = false;
  ml_cap_mine = b;
  return b;
}

/* Pack the n words a walk noted straight into e's off[] and val[] (in
 * the order read) as singles and pairs, in one pass: two words noted one
 * after the other at adjacent offsets (a frame's return address and its
 * saved %rbp, in either order) make a pair; the rest are singles, moved
 * down in place (a single's new index is never above its old one), the
 * pairs set aside and put at the arrays' end (ml_cap_entry_t: they fit
 * beside the singles, n <= ML_CAPTURE_WORDS plus the repeats).  A word
 * noted twice is compared twice (harmless).  Then padded with repeats. */
static void ml_cap_pack_words(ml_cap_entry_t *e, unsigned n) {
  int32_t *off = e->off;
  uintptr_t *val = e->val;
  unsigned np = 0, ns = 0;
  int32_t poff[ML_CAPTURE_WORDS / 2 + 2];
  uintptr_t pval[ML_CAPTURE_WORDS + 4];
  for (unsigned i = 0; i < n;) {
    if (i + 1 < n && (off[i + 1] == off[i] + 8 || off[i + 1] == off[i] - 8)) {
      unsigned a = off[i + 1] > off[i] ? i : i + 1; /* the lower of the two */
      poff[np] = off[a];
      pval[2 * np] = val[a];
      pval[2 * np + 1] = val[a == i ? i + 1 : i];
      np++;
      i += 2;
    } else {
      off[ns] = off[i];
      val[ns] = val[i];
      ns++;
      i++;
    }
  }
  for (; ns % 4; ns++) { /* repeat the last single */
    off[ns] = off[ns - 1];
    val[ns] = val[ns - 1];
  }
  if (np % 2) { /* repeat the last pair */
    poff[np] = poff[np - 1];
    pval[2 * np] = pval[2 * np - 2];
    pval[2 * np + 1] = pval[2 * np - 1];
    np++;
  }
  ML_STATIC_ASSERT(ML_CAPTURE_WORDS + 3 + 2 <= ML_CAP_SLOTS, "singles and pairs apart");
  for (unsigned k = 0; k < np; k++) {
    off[ML_CAP_POFF(k)] = poff[k];
    val[ML_CAP_PVAL(k)] = pval[2 * k];
    val[ML_CAP_PVAL(k) + 1] = pval[2 * k + 1];
  }
  e->npairs = (uint16_t)np;
  e->nsingles = (uint16_t)ns;
}

/* Do e's noted words all still hold their values?  Every noted word lies
 * between sp and the stack's top: the first walk read it from there.
 * Branch-free: a hit compares every word anyway, and a miss is followed by a walk that costs
 * far more.  Two singles share one 16-byte compare too (movq + movhps: 6
 * instructions per two words, where load, xor and or of each cost 8);
 * their values are 16-byte aligned as the pairs' are (nsingles is a
 * multiple of 4).  The compares are unrolled, entered by the count (up to
 * 16 groups of 4 singles or of 2 pairs: 64 words, the default 32 frames'
 * worth with frame pointers), so a hit runs no loop whose exit is a branch
 * to predict: in the mixed workload that exit mispredicted once per
 * capture (callgrind's branch model: 28k of 233k mispredicts per 100k
 * pairs), and the loops' counters cost 20 instructions.  Longer walks
 * take the loops.  Inlined once, into ml_capture_eh_at, which the three
 * tracked paths call (bench/README.md, "Capture hits without a loop"). */
__attribute__((no_sanitize_address, always_inline)) static inline bool
ml_cap_same(const ml_cap_entry_t *e, uintptr_t sp) {
  const int32_t *off = e->off;
  const uintptr_t *val = e->val;
  unsigned np = e->npairs, ns = e->nsingles;
#define ML_CAP_AT(k) ((const void *)(sp + (intptr_t)off[k]))
#define ML_CAP_TWO(j) \
  _mm_xor_si128(_mm_castpd_si128(_mm_loadh_pd( \
                    _mm_castsi128_pd(_mm_loadl_epi64((const __m128i *)ML_CAP_AT(j))), \
                    (const double *)ML_CAP_AT((j) + 1))), \
                _mm_load_si128((const __m128i *)(val + (j))))
#define ML_CAP_PAIR(i) \
  _mm_xor_si128(_mm_loadu_si128((const __m128i *)ML_CAP_AT(ML_CAP_POFF(i))), \
                _mm_load_si128((const __m128i *)(val + ML_CAP_PVAL(i))))
  __m128i acc = _mm_setzero_si128();
/* Groups 28 down to 1 (ML_CAPTURE_WORDS words in singles or in pairs):
 * case g compares group g - 1 and falls through. */
  ML_STATIC_ASSERT(ML_CAPTURE_WORDS <= 4 * 28, "a case for every count of groups");
#define ML_CAP_GROUPS(M) \
  M(28) M(27) M(26) M(25) M(24) M(23) M(22) M(21) M(20) M(19) M(18) M(17) \
  M(16) M(15) M(14) M(13) M(12) M(11) M(10) M(9) M(8) M(7) M(6) M(5) M(4) M(3) M(2) M(1)
#define ML_CAP_S(g) \
  case g: \
    acc = _mm_or_si128(acc, _mm_or_si128(ML_CAP_TWO(4 * (g) - 4), ML_CAP_TWO(4 * (g) - 2))); \
    __attribute__((fallthrough));
#define ML_CAP_P(g) \
  case g: \
    acc = _mm_or_si128(acc, _mm_or_si128(ML_CAP_PAIR(2 * (g) - 2), ML_CAP_PAIR(2 * (g) - 1))); \
    __attribute__((fallthrough));
  switch (ns / 4) {
  default:
    __builtin_unreachable();
    ML_CAP_GROUPS(ML_CAP_S)
  case 0:
    break;
  }
  switch (np / 2) {
  default:
    __builtin_unreachable();
    ML_CAP_GROUPS(ML_CAP_P)
  case 0:
    break;
  }
#undef ML_CAP_GROUPS
#undef ML_CAP_S
#undef ML_CAP_P
  return _mm_movemask_epi8(_mm_cmpeq_epi8(acc, _mm_setzero_si128())) == 0xffff;
}

/* A way's tag: 7 bits of a hash of its key's stack pointer and return
 * address, and the top bit set, so that no tag is an empty way's 0. */
ML_INLINE uint8_t ml_cap_tag(uintptr_t sp, uintptr_t ra) {
  return (uint8_t)(((sp ^ ra) * UINT64_C(0x9E3779B97F4A7C15)) >> 57 | 0x80);
}

/* Does b, this thread's block, miss too often for its ways?  One capture
 * in 8 walking a stack interned already (a walk the block forgot, not a
 * new stack), weighed every 64 such walks. */
static bool ml_cap_weigh(ml_cap_block_t *b) {
  uint64_t re = b->rewalks - b->mark_rewalks;
  if (re < 64) return false;
  uint64_t all = b->hits + b->misses - b->mark_all;
  b->mark_rewalks = b->rewalks;
  b->mark_all = b->hits + b->misses;
  return 8 * re >= all;
}

/* A capture the cache did not answer: walk from (pc, sp, fp) and remember
 * the walk in b's way b->next (b may be NULL: made here, or reset for a
 * new object list or new limits). */
static ML_NOINLINE uint32_t ml_capture_eh_miss(ml_cap_block_t *b, uintptr_t ra, uintptr_t pc,
                                               uintptr_t sp, uintptr_t fp) {
  unsigned max = ml_core.max_frames, skip = ml_core.skip_frames;
  uint64_t limits = ml_core.frame_limits; /* the two */
  unsigned want = ml_unwind_want(max, skip);
  if (ml_unlikely(!b) && !ml_cap_none) b = ml_cap_thread_init(ML_CAPTURE_WAYS_FIRST);
  /* (the small block goes back to the registry: without memory for the
   * large one, this thread's walks are not cached from then on) */
  if (b && b->ways < ML_CAPTURE_WAYS && ml_unlikely(ml_cap_weigh(b)))
    b = ml_cap_thread_init(ML_CAPTURE_WAYS);
  ml_cap_entry_t *e = NULL;
  unsigned w = 0;
  if (ml_likely(b != NULL)) {
    const void *list = ml_eh_list_now();
    if (b->list != list || b->limits != limits) ml_cap_block_reset(b, list, limits);
    /* (a changed object list or changed limits send the hit path here) */
    w = b->next;
    e = &b->e[w];
    b->last = w;
    b->hot = e;
    b->next = (w + 1) % b->ways;
  }

  uintptr_t buf[ML_UNWIND_BUF_FRAMES];
  const uintptr_t *frames;
  unsigned n;
  ml_eh_log_t log;
  uint16_t mark[ML_UNWIND_BUF_FRAMES];
  if (e) {
    e->sp = 0; /* it receives the new walk */
    b->tag[w] = 0;
    log.off = e->off;
    log.val = e->val;
    log.mark = mark;
    log.cap = ML_CAPTURE_WORDS;
    n = ml_eh_walk_logged(pc, sp, fp, buf, want, &log);
  } else {
    n = ml_eh_walk(pc, sp, fp, buf, want);
  }
  if (ml_unlikely(ml_unwind_check_period) && ml_unwind_check_due()) ml_unwind_check(buf, n, want);
  unsigned k = ml_unwind_keep(buf, n, &frames, ml_core.max_frames, ml_core.skip_frames, ra);
  if (ml_unlikely(k == 0))
    atomic_fetch_add_explicit(&ml_core.unwind_failures, 1, memory_order_relaxed);
  size_t known = ml_stacks_count(&ml_core.stacks);
  uint32_t id = ml_stacks_intern(&ml_core.stacks, frames, k);
  if (e) {
    b->rewalks += id && id <= known;
    if (!log.bad && id && log.list == b->list && limits == b->limits) {
      e->fp = fp;
      e->ra = ra;
      e->id = id;
      /* Cut at the last frame kept, unless the walk ended by itself
       * (then why it ended depends on the words read after it). */
      unsigned used = (unsigned)(frames - buf) + k;
      ml_cap_pack_words(e, k == ml_core.max_frames && used < n ? mark[used - 1] : log.n);
      e->fp0 = log.fp0;
      e->sp = sp;
      b->tag[w] = ml_cap_tag(sp, ra);
      b->misses++;
    } else {
      b->uncacheable++;
    }
  }
  return id;
}

/* The compare of the search's ways that mostly differ (ml_cap_search). */
__attribute__((no_sanitize_address, always_inline)) static inline bool
ml_cap_first_change(const ml_cap_entry_t *e, uintptr_t sp) {
  /* The hit's 16-byte compares, four words at a time, leaving at the
   * first group that changed: the search tries the ways with the key's tag
   * in turn; in a program whose recursion brings several paths to one
   * stack pointer (cfrac: 5.3 ways tried per search) all but one differ,
   * most of them early, and where the search finds its way at the first
   * try (python with every object tracked: 1.01 ways per search) the
   * compare is of every word, which one by one cost it 116 instructions
   * against the branch-free compare's 83. */
  const int32_t *off = e->off;
  const uintptr_t *val = e->val;
  unsigned np = e->npairs, ns = e->nsingles;
  const __m128i zero = _mm_setzero_si128();
  for (unsigned j = 0; j < ns; j += 4) {
    __m128i d = _mm_or_si128(ML_CAP_TWO(j), ML_CAP_TWO(j + 2));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(d, zero)) != 0xffff) return false;
  }
  for (unsigned i = 0; i < np; i += 2) {
    __m128i d = _mm_or_si128(ML_CAP_PAIR(i), ML_CAP_PAIR(i + 1));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(d, zero)) != 0xffff) return false;
  }
  return true;
}
#undef ML_CAP_AT
#undef ML_CAP_TWO
#undef ML_CAP_PAIR

#ifdef ML_TESTING
bool ml_cap_words_same(const ml_cap_entry_t *e, uintptr_t sp) { return ml_cap_first_change(e, sp); }
bool ml_cap_words_same_all(const ml_cap_entry_t *e, uintptr_t sp) { return ml_cap_same(e, sp); }
#endif

/* Does e (its key) describe a walk from (sp, fp) for ra? */
ML_INLINE bool ml_cap_key_is(const ml_cap_entry_t *e, uintptr_t sp, uintptr_t fp, uintptr_t ra) {
  return e->sp == sp && e->ra == ra && (!e->fp0 || e->fp == fp);
}

/* A hit under MEMLEDGER_UNWIND_CHECK: when due, walk again and compare
 * with the remembered stack, and the walk with libunwind's.  Called (by a
 * tail call) from the recorder's capture: libunwind then walks from here
 * through as many of memledger's frames as from a miss (ml_unwind_check
 * walks want + 4 frames: one frame more of ours cut the outermost off). */
static ML_NOINLINE uint32_t ml_cap_hit_checked(const ml_cap_entry_t *e, uintptr_t pc,
                                               uintptr_t sp, uintptr_t fp, uintptr_t ra) {
  uint32_t id = e->id;
  if (!ml_unwind_check_due()) return id;
  unsigned want = ml_unwind_want(ml_core.max_frames, ml_core.skip_frames);
  uintptr_t buf[ML_UNWIND_BUF_FRAMES];
  const uintptr_t *frames;
  unsigned n = ml_eh_walk(pc, sp, fp, buf, want);
  unsigned k = ml_unwind_keep(buf, n, &frames, ml_core.max_frames, ml_core.skip_frames, ra);
  const ml_stack_t *st = ml_stacks_get(&ml_core.stacks, id);
  bool same = st && st->nframes == k;
  for (unsigned i = 0; same && i < k; i++) same = st->frames[i] == frames[i];
  ml_unwind_check_cached(same);
  ml_unwind_check(buf, n, want); /* and the walk with libunwind's */
  return id;
}

/* A hit: count it (and check it: a tail call, as every call that leaves
 * ml_capture_eh_at is). */
ML_INLINE uint32_t ml_cap_hit(ml_cap_block_t *b, const ml_cap_entry_t *e, uintptr_t pc,
                              uintptr_t sp, uintptr_t fp, uintptr_t ra) {
  b->hits++;
  if (ml_unlikely(ml_unwind_check_period)) return ml_cap_hit_checked(e, pc, sp, fp, ra);
  return e->id;
}

/* The capture the way of the last hit did not answer (b is this thread's
 * block, with the current object list and limits): the other ways whose
 * tag is the key's (paths that alternate at one stack pointer), then a
 * walk.  The tags, 16 bytes in the block's header, are compared at once:
 * looking at each way's key took ~150 instructions and a cache line per
 * way tried (python with every object tracked: half its captures are not
 * the last way's; bench/README.md, "One call per capture hit"). */
static ML_NOINLINE uint32_t ml_cap_search(ml_cap_block_t *b, uintptr_t ra, uintptr_t pc,
                                          uintptr_t sp, uintptr_t fp) {
  ML_STATIC_ASSERT(ML_CAPTURE_WAYS == 64 && ML_CAPTURE_WAYS_FIRST == 16,
                   "16-byte compares of the tags, into a 64-bit mask");
  __m128i t = _mm_set1_epi8((char)ml_cap_tag(sp, ra));
#define ML_CAP_TAGS(i) \
  ((uint64_t)(unsigned)_mm_movemask_epi8( \
       _mm_cmpeq_epi8(_mm_load_si128((const __m128i *)&b->tag[i]), t)) \
   << (i))
  uint64_t m = ML_CAP_TAGS(0);
  if (b->ways == ML_CAPTURE_WAYS) m |= ML_CAP_TAGS(16) | ML_CAP_TAGS(32) | ML_CAP_TAGS(48);
#undef ML_CAP_TAGS
  /* The way that followed the last one the last time first: paths that
   * take turns at one stack pointer in a fixed order (cfrac's recursion:
   * 5.3 ways compared per search) are then found at the first try.  That
   * way, the likely answer (python: 1.01 ways compared per search), gets
   * the hit's branch-free compare; the others, which mostly differ, the
   * compare that leaves at the first change (python with every object
   * tracked: 3.897G -> 3.798G instructions; it costs a second copy of the
   * unrolled compare in the instruction cache). */
  ml_cap_entry_t *prev = &b->e[b->last];
  unsigned w = prev->succ;
  m &= ~((uint64_t)1 << b->last);
  if ((m >> w) & 1) {
    m &= ~((uint64_t)1 << w);
    if (ml_cap_key_is(&b->e[w], sp, fp, ra) && ml_cap_same(&b->e[w], sp)) goto hit;
  }
  for (; m; m &= m - 1) {
    w = (unsigned)__builtin_ctzll(m);
    if (ml_cap_key_is(&b->e[w], sp, fp, ra) && ml_cap_first_change(&b->e[w], sp)) goto hit;
  }
  return ml_capture_eh_miss(b, ra, pc, sp, fp);
hit:
  prev->succ = (uint8_t)w;
  b->last = w;
  b->hot = &b->e[w];
  return ml_cap_hit(b, &b->e[w], pc, sp, fp, ra);
}

/* ml_capture_eh_at (capture.h).  The way of the last hit first (a loop
 * allocating from one place), with the words' compare inlined; every
 * other way out is a tail call (ml_cap_search, ml_cap_hit_checked), so
 * the hit is one call from the recorder and the compare's registers are
 * this function's (bench/README.md, "One call per capture hit"). */
ML_NOINLINE uint32_t ml_capture_eh_at(uintptr_t ra, uintptr_t pc, uintptr_t sp, uintptr_t fp) {
  ml_cap_block_t *b = ml_cap_mine;
  if (ml_likely(b != NULL) && ml_likely(b->list == ml_eh_list_now()) &&
      ml_likely(b->limits == ml_core.frame_limits)) {
    const ml_cap_entry_t *e = b->hot;
    if (ml_likely(ml_cap_key_is(e, sp, fp, ra)) && ml_likely(ml_cap_same(e, sp)))
      return ml_cap_hit(b, e, pc, sp, fp, ra);
    return ml_cap_search(b, ra, pc, sp, fp);
  }
  return ml_capture_eh_miss(b, ra, pc, sp, fp);
}

/* Out of line (tests, benchmarks, ml_capture_walk's fallback). */
ML_NOINLINE uint32_t ml_capture_eh(uintptr_t ra) { return ml_capture_eh_here(ra); }

void ml_capture_thread_release(void) {
  ml_cap_block_t *b = ml_cap_mine;
  ml_cap_mine = NULL;
  ml_cap_none = true; /* walks uncached from now on */
  if (b) ml_treg_release(b);
}

void ml_capture_thread_renew(void) {
  ml_capture_thread_release();
  ml_cap_none = false;
}

size_t ml_capture_metadata_bytes(void) {
  size_t sum = 0;
  unsigned n = ml_treg_count(&ml_cap_reg);
  for (unsigned i = 0; i < n; i++) {
    const ml_cap_block_t *b = ml_treg_get(&ml_cap_reg, i);
    if (b) sum += __atomic_load_n(&b->bytes, __ATOMIC_RELAXED);
  }
  return sum;
}

void ml_capture_stats(ml_capture_stats_t *out) {
  ml_capture_stats_t s = {0};
  unsigned n = ml_treg_count(&ml_cap_reg);
  for (unsigned i = 0; i < n; i++) {
    const ml_cap_block_t *b = ml_treg_get(&ml_cap_reg, i);
    if (!b) continue;
    s.hits += __atomic_load_n(&b->hits, __ATOMIC_RELAXED);
    s.misses += __atomic_load_n(&b->misses, __ATOMIC_RELAXED);
    s.uncacheable += __atomic_load_n(&b->uncacheable, __ATOMIC_RELAXED);
  }
  *out = s;
}

#else /* no eh walk on this architecture: frame pointers */

uint32_t ml_capture_eh(uintptr_t ra) { return ml_capture_walk(ML_UNWIND_FP, ra); }
void ml_capture_stats(ml_capture_stats_t *out) { *out = (ml_capture_stats_t){0}; }
size_t ml_capture_metadata_bytes(void) { return 0; }
void ml_capture_thread_release(void) {}
void ml_capture_thread_renew(void) {}

#endif

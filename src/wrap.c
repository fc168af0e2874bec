/* SPDX-License-Identifier: MIT */
/*
 * wrap.c - the link-time front (layer: front): __wrap_malloc and friends for
 * a library linked with -Wl,--wrap=malloc,... (pkg-config memledger-wrap),
 * generated from the STD rows of hooks.def.
 *
 * The backend here is the process's own allocator, not a private jemalloc:
 * blocks cross the wrapped library's boundary (allocated inside, freed by
 * the program, or the reverse), so both sides must use the same heap.  The
 * static flavour (libmemledger-wrap.a, linked into the wrapped library)
 * reaches it through __real_malloc, which --wrap binds to malloc; the shared
 * flavour (libmemledger-wrap.so, built without --wrap) calls malloc itself.
 * The gate is the usable size the allocator reports (glibc's is a header
 * read).  What this mode cannot see: frees made outside the wrapped code.
 * A tracked block freed outside stays recorded until its address is handed
 * out again inside, when the old record is counted as replaced
 * (`replaced_records` in the dump) instead of reported; a block allocated
 * outside and freed inside is counted as `foreign_frees`.
 */
#include "wrap.h"
#include "young.h"
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

void *ML_REAL(malloc)(size_t n);
void ML_REAL(free)(void *p);
void *ML_REAL(calloc)(size_t nmemb, size_t size);
void *ML_REAL(realloc)(void *p, size_t n);
void *ML_REAL(reallocarray)(void *p, size_t nmemb, size_t size);
int ML_REAL(posix_memalign)(void **out, size_t align, size_t n);
void *ML_REAL(aligned_alloc)(size_t align, size_t n);
void *ML_REAL(memalign)(size_t align, size_t n);
void *ML_REAL(valloc)(size_t n);
void *ML_REAL(pvalloc)(size_t n);

/* ---- the backend table for the core ------------------------------------- */

static size_t ml_w_usable(void *p) { return ML_REAL(malloc_usable_size)(p); }

/* The allocator's own rounding, learnt by asking it (init and dumps only;
 * the caller holds the recursion guard, so nothing here is recorded). */
static size_t ml_w_good_size(size_t n) {
  void *p = ML_REAL(malloc)(n ? n : 1);
  size_t u = p ? ML_REAL(malloc_usable_size)(p) : n;
  ML_REAL(free)(p);
  return u;
}

const ml_backend_t ml_backend = {
    .usable_size = ml_w_usable,
    .good_size = ml_w_good_size,
    .ctl = NULL,
#ifdef ML_WRAP_STATIC
    .text_is_ours = false, /* linked into someone else's library */
#else
    .text_is_ours = true,
#endif
};

/* ---- bodies --------------------------------------------------------------- */

ML_NOINLINE void ml_w_track(void *p, size_t n, uintptr_t ra, uintptr_t fa) {
  if (ML_W_TRACKED(p)) ml_track_alloc_from(p, n, ra, fa);
}

ML_NOINLINE void ml_w_untrack(void *p) {
  if (!ml_track_free(p)) ml_track_foreign_free();
}

ML_INLINE void *ml_w_malloc(size_t n, uintptr_t ra, uintptr_t fa) {
  void *p = ML_REAL(malloc)(n);
  if (ml_unlikely(n >= ml_gate.cutoff) && p) ml_w_track(p, n, ra, fa);
  return p;
}

ML_INLINE void ml_w_free(void *p) {
  if (p && ML_W_TRACKED(p)) ml_w_untrack(p);
  ML_REAL(free)(p);
}

ML_INLINE void *ml_w_calloc(size_t nmemb, size_t size, uintptr_t ra, uintptr_t fa) {
  void *p = ML_REAL(calloc)(nmemb, size);
  size_t n = nmemb * size; /* no overflow: calloc succeeded */
  if (ml_unlikely(n >= ml_gate.cutoff) && p) ml_w_track(p, n, ra, fa);
  return p;
}

static ML_NOINLINE void *ml_w_realloc_slow(void *p, size_t n, uintptr_t ra, uintptr_t fa) {
  ml_rec_t old;
  bool had = ML_W_TRACKED(p) && ml_track_take(p, &old);
  void *q = ML_REAL(realloc)(p, n);
  if (!q) {
    if (had && n) ml_track_put_back(&old, ml_rec_size(&old)); /* failed: p is unchanged */
    return NULL;                           /* n == 0: glibc freed p */
  }
  ml_w_track(q, n, ra, fa);
  return q;
}

ML_INLINE void *ml_w_realloc(void *p, size_t n, uintptr_t ra, uintptr_t fa) {
  if (!p) return ml_w_malloc(n, ra, fa); /* realloc(NULL, n) is malloc(n) */
  if (n >= ml_gate.cutoff || ML_W_TRACKED(p)) return ml_w_realloc_slow(p, n, ra, fa);
  return ML_REAL(realloc)(p, n);
}

/* ---- the generated entry points -------------------------------------------- */

/* Signatures from hooks.def; each forwards to its body above. */
#define ML_W_BODY_malloc(n) ml_w_malloc(n, ML_RA, ML_FA)
#define ML_W_BODY_free(p) ml_w_free(p)
#define ML_W_BODY_calloc(m, s) ml_w_calloc(m, s, ML_RA, ML_FA)
#define ML_W_BODY_realloc(p, n) ml_w_realloc(p, n, ML_RA, ML_FA)
#define ML_W_BODY_reallocarray(p, m, s)                                         \
  __extension__({                                                               \
    size_t n_;                                                                  \
    __builtin_mul_overflow(m, s, &n_)                                           \
        ? (errno = ENOMEM, (void *)NULL)                                        \
        : ml_w_realloc(p, n_, ML_RA, ML_FA);                                    \
  })
#define ML_W_ALIGNED(call, n)                                                   \
  __extension__({                                                               \
    void *q_ = call;                                                            \
    if (q_) ml_w_track(q_, n, ML_RA, ML_FA);                                    \
    q_;                                                                         \
  })
#define ML_W_BODY_posix_memalign(out, a, n)                                     \
  __extension__({                                                               \
    int rc_ = ML_REAL(posix_memalign)(out, a, n);                               \
    if (rc_ == 0) ml_w_track(*(out), n, ML_RA, ML_FA);                          \
    rc_;                                                                        \
  })
#define ML_W_BODY_aligned_alloc(a, n) ML_W_ALIGNED(ML_REAL(aligned_alloc)(a, n), n)
#define ML_W_BODY_memalign(a, n) ML_W_ALIGNED(ML_REAL(memalign)(a, n), n)
#define ML_W_BODY_valloc(n) ML_W_ALIGNED(ML_REAL(valloc)(n), n)
#define ML_W_BODY_pvalloc(n) ML_W_ALIGNED(ML_REAL(pvalloc)(n), n)
#define ML_W_BODY_malloc_usable_size(p) ML_REAL(malloc_usable_size)(p)

#define ML_HOOK_STD(ret, name, params, args)                                    \
  ML_EXPORT ret __wrap_##name params;                                           \
  ret __wrap_##name params { return ML_W_BODY_##name args; }
#define ML_HOOK_JE(ret, name, params, args)
#define ML_HOOK_LIBC(ret, name, params, args)
#define ML_HOOK(family, ret, name, impl, params, args) ML_HOOK_##family(ret, name, params, args)
#include "hooks.def"
#undef ML_HOOK

__attribute__((constructor(101))) static void ml_wrap_constructor(void) {
  ml_young_disable(); /* every record in the shared tables (young.h) */
  ml_init_process(false); /* no sigaction hook here */
}

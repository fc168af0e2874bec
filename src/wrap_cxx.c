/* SPDX-License-Identifier: MIT */
/*
 * wrap_cxx.c - the link-time front for C++ (layer: front): __wrap_ versions
 * of operator new and delete, generated from hooks_cxx.def, for a wrapped
 * library linked with `pkg-config --libs memledger-wrap-cxx`.
 *
 * Why: libstdc++'s operator new lives in libstdc++.so and calls the
 * process's malloc itself, so --wrap=malloc on one library never sees that
 * library's `new`.  Wrapping the operators catches them at the library's own
 * call sites.  Each wrapper calls the real operator (libstdc++'s, which may
 * throw std::bad_alloc straight through this C frame: x86-64 C code has
 * unwind tables) and records the block by its usable size, like wrap.c.
 * The real operators are weak references, so libmemledger-wrap.so does
 * not load libstdc++: these wrappers only run in a library linked with the
 * C++ --wrap flags, which uses libstdc++ and has it loaded.
 */
#include "track.h"
#include <malloc.h>

#ifdef ML_WRAP_STATIC
#define ML_REAL(f) __real_##f
#else
#define ML_REAL(f) f
#endif

size_t ML_REAL(malloc_usable_size)(void *p);

#define ML_NEW(name, params, args, size) void *ML_REAL(name) params __attribute__((weak));
#define ML_DELETE(name, params, args) void ML_REAL(name) params __attribute__((weak));
#include "hooks_cxx.def"
#undef ML_NEW
#undef ML_DELETE

#define ML_RA ((uintptr_t)__builtin_return_address(0))
#define ML_FA ((uintptr_t)__builtin_frame_address(0))

static ML_NOINLINE void ml_wc_track(void *p, size_t n, uintptr_t ra, uintptr_t fa) {
  if (ML_REAL(malloc_usable_size)(p) >= ml_gate.threshold) ml_track_alloc_from(p, n, ra, fa);
}

static ML_NOINLINE void ml_wc_untrack(void *p) {
  if (ML_REAL(malloc_usable_size)(p) >= ml_gate.threshold && !ml_track_free(p))
    ml_track_foreign_free();
}

#define ML_NEW(name, params, args, size)                                        \
  ML_EXPORT void *__wrap_##name params;                                         \
  void *__wrap_##name params {                                                  \
    void *p = ML_REAL(name) args;                                               \
    if (p && (size) >= ml_gate.cutoff) ml_wc_track(p, size, ML_RA, ML_FA);      \
    return p;                                                                   \
  }
#define ML_DELETE(name, params, args)                                           \
  ML_EXPORT void __wrap_##name params;                                          \
  void __wrap_##name params {                                                   \
    if (p) ml_wc_untrack(p);                                                    \
    ML_REAL(name) args;                                                         \
  }
#include "hooks_cxx.def"
#undef ML_NEW
#undef ML_DELETE

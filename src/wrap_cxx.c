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
#include "wrap.h"
#include <malloc.h>

#define ML_NEW(name, params, args, size, align) void *ML_REAL(name) params __attribute__((weak));
#define ML_DELETE(name, params, args, size, align) void ML_REAL(name) params __attribute__((weak));
#include "hooks_cxx.def"
#undef ML_NEW
#undef ML_DELETE

#define ML_NEW(name, params, args, size, align)                                 \
  ML_EXPORT void *__wrap_##name params;                                         \
  void *__wrap_##name params {                                                  \
    void *p = ML_REAL(name) args;                                               \
    if (p && (size) >= ml_gate.cutoff) ml_w_track(p, size, ML_RA, ML_FA);       \
    return p;                                                                   \
  }
#define ML_DELETE(name, params, args, size, align)                              \
  ML_EXPORT void __wrap_##name params;                                          \
  void __wrap_##name params {                                                   \
    if (p && (size) >= ml_gate.cutoff && ML_W_TRACKED(p)) ml_w_untrack(p);      \
    ML_REAL(name) args;                                                         \
  }
#include "hooks_cxx.def"
#undef ML_NEW
#undef ML_DELETE

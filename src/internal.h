/* SPDX-License-Identifier: MIT */
/*
 * internal.h - attributes, assertions and small helpers shared by every module
 * of the library (src/).  Header only; no state.  Nothing here allocates,
 * locks or is unsafe in a signal handler.
 */
#ifndef ML_INTERNAL_H
#define ML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* ---- attributes ---------------------------------------------------------- */
#define ML_HIDDEN __attribute__((visibility("hidden")))
#define ML_EXPORT __attribute__((visibility("default")))
#define ML_NOINLINE __attribute__((noinline))
#define ML_INLINE static inline __attribute__((always_inline))
#define ML_COLD __attribute__((cold))
#define ML_UNUSED __attribute__((unused))
#define ML_NO_INSTRUMENT __attribute__((no_instrument_function))
/* Thread-local storage in a preloaded object must be initial-exec: otherwise
 * every access goes through __tls_get_addr, which may allocate on first use. */
#define ML_TLS __thread __attribute__((tls_model("initial-exec")))
#define ml_likely(x) __builtin_expect(!!(x), 1)
#define ml_unlikely(x) __builtin_expect(!!(x), 0)

#define ML_STATIC_ASSERT(c, msg) _Static_assert(c, msg)
#define ML_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ML_CACHE_LINE 64

/* Symbols that tests need but release builds keep static (jemalloc JET_EXTERN). */
#ifdef ML_TESTING
#define ML_TESTABLE
#else
#define ML_TESTABLE static
#endif

#ifdef ML_DEBUG
static const bool ml_config_debug = true;
#else
static const bool ml_config_debug = false;
#endif

/* ml_assert: checked in debug builds only; reports through the raw write path
 * (never printf) and aborts.  Defined in log.c. */
void ml_assert_fail(const char *expr, const char *file, int line) ML_HIDDEN
    __attribute__((noreturn));
#define ml_assert(e)                                                          \
  do {                                                                        \
    if (ml_config_debug && ml_unlikely(!(e)))                                 \
      ml_assert_fail(#e, __FILE__, __LINE__);                                 \
  } while (0)

/* Spin-wait hint. */
ML_INLINE void ml_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ---- small integer helpers ----------------------------------------------- */
ML_INLINE bool ml_is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

ML_INLINE size_t ml_next_pow2(size_t x) {
  if (x <= 1) return 1;
  return (size_t)1 << (64 - __builtin_clzll((unsigned long long)(x - 1)));
}

ML_INLINE unsigned ml_log2(size_t x) { /* pre: x is a power of two */
  return (unsigned)__builtin_ctzll((unsigned long long)x);
}

/* Pointer hash: blocks are at least 16-byte aligned; the multiplicative hash
 * spreads the remaining bits into the top of the word, where callers take
 * their bits (arena index first, then the slot inside the arena). */
ML_INLINE uint64_t ml_hash_ptr(uintptr_t p) {
  return (uint64_t)(p >> 4) * UINT64_C(0x9E3779B97F4A7C15);
}

#endif /* ML_INTERNAL_H */

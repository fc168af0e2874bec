/* SPDX-License-Identifier: MIT */
/*
 * ehframe_plugin.c - a module test_ehframe.c loads, unloads and loads again:
 * a recursion of depth d (built -O2 -fomit-frame-pointer) that calls back.
 */
#ifdef __clang__
#define ML_P_NOIPA __attribute__((noinline, visibility("default")))
#else
#define ML_P_NOIPA __attribute__((noipa, visibility("default")))
#endif

unsigned ml_t_plugin_run(unsigned d, void (*cb)(void));

static volatile unsigned ml_p_sink;

ML_P_NOIPA unsigned ml_t_plugin_run(unsigned d, void (*cb)(void)) {
  unsigned a = ml_p_sink * d, b = ml_p_sink ^ d;
  if (d == 0) {
    cb();
    return 0;
  }
  unsigned r = ml_t_plugin_run(d - 1, cb);
  if (d % 3 == 0) cb();
  __asm__ __volatile__("" : : : "memory");
  return r + a * b;
}

// SPDX-License-Identifier: MIT
/*
 * ehframe_cxx.cc - the C++ exception path of test_ehframe.c: a throw
 * through frames with cleanups, each cleanup (a destructor, run from its
 * frame's landing pad during phase 2 of the unwinding) and the catch
 * compare the eh walk with libunwind's.  Built -O2 -fomit-frame-pointer.
 */
extern "C" void ml_t_compare_here(void);
extern "C" int ml_t_cxx_exception_path(int depth);

namespace {
struct Probe {
  int d;
  ~Probe() {
    if (d % 2 == 0) ml_t_compare_here();
  }
};

__attribute__((noinline)) int thrower(int d) {
  Probe p{d};
  if (d == 0) throw 42;
  int r = thrower(d - 1);
  asm volatile("" : : : "memory");
  return r + 1;
}
} // namespace

extern "C" int ml_t_cxx_exception_path(int depth) {
  try {
    return thrower(depth);
  } catch (int v) {
    ml_t_compare_here();
    return v;
  }
}

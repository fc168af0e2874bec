// SPDX-License-Identifier: MIT
// shadow_cxx.cc - for shadow_cxx.sh.  Compiled with -finstrument-functions
// and linked with libmemledger.  An exception is thrown through 20
// instrumented frames (thrower x 20) and caught in main; then
// fresh_outer -> fresh_inner -> malloc(33333) leaks a block: its shadow
// stack must not show the frames the exception skipped.  Then grow_vec
// grows a std::vector<int> (never deleted) to 8192 elements: its last
// buffer (32768 bytes) is unfreed, with grow_vec on its stack.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#define NOINLINE __attribute__((noinline))

static volatile int sink;

NOINLINE static void thrower(int n) {
  if (n <= 1) throw std::runtime_error("deep");
  thrower(n - 1);
  sink = sink + 1;
}

NOINLINE static void fresh_inner() {
  void *p = std::malloc(33333);
  std::memset(p, 1, 33333);
  sink = sink + 1;
}
NOINLINE static void fresh_outer() {
  fresh_inner();
  sink = sink + 1;
}

NOINLINE static std::vector<int> *grow_vec() {
  auto *v = new std::vector<int>;
  for (int i = 0; i < 8192; i++) v->push_back(i);
  return v;
}

int main() {
  int caught = 0;
  try {
    thrower(20);
  } catch (const std::exception &e) {
    caught = std::strcmp(e.what(), "deep") == 0;
  }
  std::printf("caught=%d\n", caught);
  fresh_outer();
  std::vector<int> *v = grow_vec();
  std::printf("vector=%zu capacity=%zu\n", v->size(), v->capacity());
  return caught ? 0 : 1;
}

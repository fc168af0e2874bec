// SPDX-License-Identifier: MIT
// delete_prog.cc - C++ new and delete in a loop (bench/delete.sh): N
// objects of 64 bytes through a ring of 256 (untracked at the default
// threshold), then N/10 of 4 KiB (tracked).  Compiled as C++17, so every
// delete of these types is a sized one (operator delete(void*, size_t)).
#include <cstdio>
#include <cstdlib>

struct Small {
  char b[64];
};
struct Large {
  char b[4096];
};

int main(int argc, char **argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  Small *ring[256] = {};
  for (long i = 0; i < n; i++) {
    unsigned k = (unsigned)(i * 2654435761u) >> 24;
    delete ring[k];
    ring[k] = new Small;
  }
  for (Small *p : ring) delete p;
  Large *t = nullptr;
  for (long i = 0; i < n / 10; i++) {
    delete t;
    t = new Large;
  }
  delete t;
  std::puts("ok");
  return 0;
}

// SPDX-License-Identifier: MIT
//
// prog_cxx.cc - C++ allocation paths under the preload, for cxx.sh:
// new/delete, new[]/delete[], std::vector growth, std::string, std::map, an
// exception thrown and caught, and one leak: new char[5000] in leak_5000().
// Prints results that do not depend on the allocator, through write(2)
// (no stdio buffer).  "prog_cxx maps" prints whether libstdc++ is mapped;
// "prog_cxx oom" what operator new does when no allocator can give the
// block (the new-handler's calls, std::bad_alloc, the nothrow forms' NULL)
// and whether over-aligned blocks are aligned.
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>
#include <fcntl.h>
#include <unistd.h>

static void *volatile sink;

static void say(const std::string &s) {
  std::string line = s + "\n";
  (void)!write(1, line.data(), line.size());
}

__attribute__((noinline)) static void leak_5000() {
  char *p = new char[5000];
  std::memset(p, 'L', 5000);
  sink = p;
}

__attribute__((noinline)) static long scalars() {
  long sum = 0;
  for (int i = 0; i < 1000; i++) {
    int *a = new int(i);
    sink = a;
    sum += *a;
    delete a;
    int *b = new int[1000];  // 4000 bytes: tracked
    sink = b;
    b[999] = i;
    sum += b[999];
    delete[] b;
    char *c = new char[100];
    sink = c;
    c[0] = 1;
    delete[] c;
  }
  return sum;
}

__attribute__((noinline)) static unsigned long containers() {
  std::vector<int> v;
  for (int i = 0; i < 200000; i++) v.push_back(i);  // grows through tracked sizes
  unsigned long h = 0;
  for (int x : v) h = h * 31 + (unsigned)x;
  std::vector<std::string> words;
  for (int i = 0; i < 500; i++) words.push_back(std::string(i % 50 + 1, (char)('a' + i % 26)));
  std::string big;
  for (const auto &w : words) big += w;
  for (char ch : big) h = h * 131 + (unsigned char)ch;
  std::map<int, std::string> m;
  for (int i = 0; i < 1000; i++) m[i * 7 % 1000] = std::to_string(i);
  for (const auto &kv : m) h = h * 7 + kv.first + kv.second.size();
  return h ^ big.size();
}

__attribute__((noinline)) static std::string throws(int n) {
  try {
    if (n > 0) throw std::runtime_error(std::string(3000, 'e') + std::to_string(n));
  } catch (const std::runtime_error &e) {
    return std::to_string(std::strlen(e.what()));
  }
  return "not thrown";
}

static int maps() {
  static char buf[1 << 20];
  int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return 1;
  size_t len = 0;
  ssize_t n;
  while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)n;
  close(fd);
  buf[len] = 0;
  say(std::string("libstdc++ mapped: ") + (std::strstr(buf, "libstdc++") ? "yes" : "no"));
  return 0;
}

static int handler_calls;
static void handler() {
  if (++handler_calls >= 2) std::set_new_handler(nullptr);
}

static std::string calls() {
  std::string r = " after " + std::to_string(handler_calls) + " handler calls";
  handler_calls = 0;
  std::set_new_handler(handler);
  return r;
}

struct alignas(256) aligned_256 {
  char c[300];
};

static int oom() {
  const std::size_t huge = (std::size_t)1 << 62; // no allocator gives this
  std::set_new_handler(handler);
  std::string r;
  try {
    sink = ::operator new(huge);
    r = "a block";
  } catch (const std::bad_alloc &) {
    r = "bad_alloc";
  }
  say("new: " + r + calls());
  void *q = ::operator new(huge, std::nothrow);
  say(std::string("nothrow new: ") + (q ? "a block" : "null") + calls());
  try {
    sink = ::operator new[](huge, std::align_val_t(64));
    r = "a block";
  } catch (const std::bad_alloc &) {
    r = "bad_alloc";
  }
  say("aligned new[]: " + r + calls());
  q = ::operator new(huge, std::align_val_t(64), std::nothrow);
  say(std::string("aligned nothrow new: ") + (q ? "a block" : "null") + calls());
  aligned_256 *a = new aligned_256;     // untracked size
  aligned_256 *b = new aligned_256[20]; // 6 KiB: tracked
  say(std::string("aligned to 256: ") +
      ((std::uintptr_t)a % 256 == 0 && (std::uintptr_t)b % 256 == 0 ? "yes" : "no"));
  delete a;
  delete[] b;
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && std::strcmp(argv[1], "maps") == 0) return maps();
  if (argc > 1 && std::strcmp(argv[1], "oom") == 0) return oom();
  say("scalars: " + std::to_string(scalars()));
  say("containers: " + std::to_string(containers()));
  for (int i = 1; i <= 3; i++) say("exception: " + throws(i));
  leak_5000();
  sink = nullptr;
  say("done");
  return 0;
}

// SPDX-License-Identifier: MIT
/*
 * prog_ehdiff.cc - tracked allocations (4 KiB) from code built -O2
 * -fomit-frame-pointer, for unwind_eh.sh, which runs it under the preload
 * with MEMLEDGER_UNWIND_CHECK=1 (every eh stack compared with libunwind's):
 * deep chains of frames of different shapes (big frames, alloca, every
 * callee-saved register live, tail calls, recursion), the same stacks again
 * and again, a signal handler that allocates, longjmp out of a chain, a C++
 * exception whose cleanups and catch allocate, threads, and a plugin
 * (argv[1], optional) dlopen'ed, called back from, dlclosed and loaded
 * again, then loaded and unloaded 200 times by one thread while two others
 * allocate (the object list is replaced under their walks).  Prints "done"
 * and exits 0.
 */
#include <alloca.h>
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define NOIPA __attribute__((noipa))

static volatile unsigned sink;

static NOIPA void alloc_here() {
  void *p = malloc(4096);
  memset(p, 1, 64);
  sink += static_cast<unsigned char *>(p)[7];
  free(p);
  char *q = new char[5000];
  q[0] = 1;
  sink += q[0];
  delete[] q;
}

static NOIPA unsigned rec(unsigned d);

static NOIPA unsigned big(unsigned d) {
  volatile char buf[9000];
  buf[d % sizeof buf] = static_cast<char>(d);
  unsigned r = rec(d - 1);
  return r + buf[(d * 7) % sizeof buf];
}

static NOIPA unsigned dyn(unsigned d) {
  volatile char *p = static_cast<volatile char *>(alloca(16 + (d % 13) * 24));
  p[0] = static_cast<char>(d);
  unsigned r = rec(d - 1);
  return r + p[0];
}

static NOIPA unsigned regs(unsigned d) {
  unsigned a = sink * 3, b = sink ^ 5, c = sink + d, e = sink * d, f = sink - d, g = sink | 9,
           h = sink & 0x55;
  unsigned r = rec(d - 1);
  return r + a + b * c + e * f + g * h + (a ^ e) + (b ^ f) + (c ^ g) + (d ^ h);
}

static NOIPA unsigned tail(unsigned d) {
  sink = d;
  return rec(d - 1);
}

static NOIPA unsigned rec(unsigned d) {
  if (d % 3 == 0) alloc_here();
  if (d == 0) return 0;
  unsigned r;
  switch (d % 5) {
  case 0: r = big(d); break;
  case 1: r = dyn(d); break;
  case 2: r = regs(d); break;
  case 3: return tail(d);
  default: r = rec(d - 1); break;
  }
  asm volatile("" : : : "memory");
  return r + 1;
}

static void on_usr1(int) { alloc_here(); } // raised synchronously: not inside malloc

static jmp_buf jb;
static NOIPA void jump_down(unsigned d) {
  if (d == 0) {
    alloc_here();
    if (sink != 0xdead) longjmp(jb, 1);
    return;
  }
  jump_down(d - 1);
  asm volatile("" : : : "memory");
}

struct Cleanup {
  unsigned d;
  ~Cleanup() {
    if (d % 2 == 0) alloc_here();
  }
};
static NOIPA int thrower(unsigned d) {
  Cleanup c{d};
  if (d == 0) throw 42;
  int r = thrower(d - 1);
  asm volatile("" : : : "memory");
  return r + 1;
}

static void *thread_main(void *arg) {
  for (unsigned i = 0; i < 40; i++) rec(static_cast<unsigned>(reinterpret_cast<uintptr_t>(arg)) + i);
  return nullptr;
}

int main(int argc, char **argv) {
  for (int round = 0; round < 3; round++)
    for (unsigned d = 1; d < 100; d += 5) rec(d);

  struct sigaction sa = {};
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);
  for (int i = 0; i < 10; i++) raise(SIGUSR1);

  for (volatile unsigned i = 0; i < 10; i++)
    if (setjmp(jb) == 0) jump_down(5 + i);
  rec(20);

  for (unsigned d = 1; d < 10; d++) {
    try {
      thrower(d);
    } catch (int) {
      alloc_here();
    }
  }

  pthread_t th[3];
  for (uintptr_t i = 0; i < 3; i++)
    pthread_create(&th[i], nullptr, thread_main, reinterpret_cast<void *>(10 + 15 * i));
  for (auto &t : th) pthread_join(t, nullptr);

  if (argc > 1) {
    for (int round = 0; round < 2; round++) {
      void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        printf("dlopen: %s\n", dlerror());
        return 1;
      }
      auto run = reinterpret_cast<unsigned (*)(unsigned, void (*)())>(dlsym(h, "ml_t_plugin_run"));
      for (unsigned d = 1; d < 20; d += 3) run(d, alloc_here);
      dlclose(h);
    }
  }
  if (argc > 1) {
    static const char *path;
    path = argv[1];
    pthread_t cycler, workers[2];
    pthread_create(&cycler, nullptr, [](void *) -> void * {
      for (int i = 0; i < 200; i++) {
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (h) dlclose(h);
      }
      return nullptr;
    }, nullptr);
    for (auto &w : workers) pthread_create(&w, nullptr, thread_main, reinterpret_cast<void *>(25));
    pthread_join(cycler, nullptr);
    for (auto &w : workers) pthread_join(w, nullptr);
  }
  printf("done\n");
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * prog_kinds.c - blocks of every leak kind, for kinds.sh (memledger's leak
 * scan) and for valgrind's memcheck on the same program.  No stdio: its
 * buffers would be blocks memcheck frees at exit (__libc_freeres) and
 * memledger does not see freed.  Every block is at least 1024 bytes
 * (tracked at the default threshold) unless said.  Each block's size tells
 * its expected kind in kinds.sh:
 *   reachable: 1100 (a global), 1200 (another thread's stack while it is
 *     blocked), 1300 (only from an untracked 64-byte block a global holds),
 *     1400 (thread-local variable of the main thread), 1500 (thread-local
 *     variable of the blocked thread);
 *   definite:  2100 (its only pointer overwritten), 2200 (head of a lost
 *     list), 2300 (one of a lost cycle of two);
 *   indirect:  3200 (tail of that list), 3300 (the other of the cycle);
 *   possible:  4100 (a global points 40 bytes into it).
 * Modes: "reachable" (the global's block only), "basic" (no threads: for
 * memcheck's summary), "all" (also the
 * thread, TLS and untracked-holder cases), "signal" (as "all", with a
 * dump signal while the thread is blocked, before exit).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile keep_global;        // 1100
void *volatile keep_small;         // untracked 64-byte block -> 1300
void *volatile keep_interior;      // 4100 + 40
static __thread void *volatile keep_tls; // 1400

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, stop;

static void *xcalloc(size_t n) {
  void *p = calloc(1, n);
  if (!p) _exit(3);
  return p;
}

static __attribute__((noinline)) void lose_one(void) {
  void *volatile p = xcalloc(2100);
  p = NULL;
  (void)p;
}

/* The stores go through volatile: the compiler would drop a store into a
 * block nobody reads again (memcheck then sees no pointer either). */
static __attribute__((noinline)) void lose_list(void) {
  void *volatile *head = xcalloc(2200);
  head[0] = xcalloc(3200);
  head = NULL;
}

static __attribute__((noinline)) void lose_cycle(void) {
  void *volatile *a = xcalloc(2300), *volatile *b = xcalloc(3300);
  a[0] = (void *)b;
  b[0] = (void *)a;
  a = b = NULL;
}

/* Wipe the dead part of the stack, where the calls above left copies. */
static __attribute__((noinline)) void wipe_stack(void) {
  volatile char buf[16384];
  memset((char *)buf, 0, sizeof buf);
}

static __thread void *volatile thread_tls; // 1500 (in the thread)

static void *holder(void *arg) {
  (void)arg;
  void *volatile mine = xcalloc(1200); /* only on this thread's stack */
  thread_tls = xcalloc(1500);
  pthread_mutex_lock(&mu);
  ready = 1;
  pthread_cond_broadcast(&cv);
  while (!stop) pthread_cond_wait(&cv, &mu); /* blocked, until exit */
  pthread_mutex_unlock(&mu);
  return (void *)mine;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "basic";
  keep_global = xcalloc(1100);
  if (strcmp(mode, "reachable") == 0) return 0; /* nothing lost */
  keep_interior = (char *)xcalloc(4100) + 40;
  lose_one();
  lose_list();
  lose_cycle();
  if (strcmp(mode, "basic") != 0) {
    void *volatile *small = xcalloc(64); /* below the threshold: untracked by default */
    small[0] = xcalloc(1300);
    keep_small = (void *)small;
    keep_tls = xcalloc(1400);
    pthread_t t;
    if (pthread_create(&t, NULL, holder, NULL) != 0) return 2;
    pthread_detach(t);
    pthread_mutex_lock(&mu);
    while (!ready) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    if (strcmp(mode, "signal") == 0) {
      wipe_stack();
      raise(SIGUSR2); /* a snapshot dump; the exit dump waits for it */
    }
  }
  wipe_stack();
  return 0; /* the holder thread is still blocked at exit */
}

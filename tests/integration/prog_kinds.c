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
 *     list), 2300 (one of a lost cycle of two), 2400 (its only pointer in
 *     a 1 MiB block freed just before exit: freed memory holds no root, for
 *     memcheck as for memledger's exit dump, which has jemalloc return its
 *     free pages first);
 *   indirect:  3200 (tail of that list), 3300 (the other of the cycle);
 *   possible:  4100 (a global points 40 bytes into it).
 * Mode "register" (x86_64): a 3700-byte block whose only pointer is in a
 * callee-saved register (r12) while the program calls memledger_dump():
 * reachable in that dump, definitely lost at exit.
 * Modes: "reachable" (the global's block only), "small" (only 1000 lost
 * blocks of 100 bytes: untracked at the default threshold), "basic" (no threads: for
 * memcheck's summary), "all" (also the
 * thread, TLS and untracked-holder cases), "signal" (as "all", with a
 * dump signal while the thread is blocked, before exit).
 */
#include <dlfcn.h>
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

/* The last allocation of the program: 1 MiB is above jemalloc's thread
 * cache limit, so the freed block is free memory of its arena at exit
 * (nothing allocated after it can reuse it and overwrite the pointer). */
static __attribute__((noinline)) void lose_via_freed(void) {
  void *volatile *big = malloc(1 << 20);
  if (!big) _exit(3);
  big[65536] = xcalloc(2400); /* 512 KiB in */
  free((void *)big);
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

#if defined(__x86_64__)
/* reg_only_dump(alloc, dump, size): p = alloc(size) kept in r12 only, the
 * 16 KiB below the stack pointer zeroed (malloc's dead frames), dump(NULL,
 * 0); nothing of p is left in a register or the live stack afterwards. */
void reg_only_dump(void *(*alloc)(size_t), int (*dump)(char *, size_t), size_t size);
__asm__(".text\n"
        ".globl reg_only_dump\n"
        ".type reg_only_dump, @function\n"
        "reg_only_dump:\n"
        "  push %r12\n  push %r13\n  push %r14\n" /* rsp 16-aligned again */
        "  mov %rdi, %r14\n  mov %rsi, %r13\n  mov %rdx, %rdi\n"
        "  call *%r14\n"
        "  mov %rax, %r12\n"
        "  lea -16384(%rsp), %rdi\n  mov $2048, %ecx\n  xor %eax, %eax\n  rep stosq\n"
        "  xor %edi, %edi\n  xor %esi, %esi\n"
        "  call *%r13\n"
        "  xor %eax, %eax\n"
        "  pop %r14\n  pop %r13\n  pop %r12\n"
        "  lea -16384(%rsp), %rdi\n  mov $2048, %ecx\n  rep stosq\n"
        "  ret\n"
        ".size reg_only_dump, .-reg_only_dump\n");
#endif

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "basic";
  if (strcmp(mode, "register") == 0) {
#if defined(__x86_64__)
    int (*dump)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "memledger_dump");
    if (!dump) return 4; /* not under the preload */
    reg_only_dump(malloc, dump, 3700);
    dump = NULL;
    wipe_stack();
    return 0;
#else
    return 5; /* no such test here */
#endif
  }
  keep_global = xcalloc(1100);
  if (strcmp(mode, "small") == 0) { /* 1000 lost blocks below the default threshold */
    for (int i = 0; i < 1000; i++) {
      void *volatile p = xcalloc(100);
      p = NULL;
      (void)p;
    }
    return 0;
  }
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
  lose_via_freed();
  wipe_stack();
  return 0; /* the holder thread is still blocked at exit */
}

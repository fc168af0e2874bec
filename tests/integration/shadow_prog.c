/* SPDX-License-Identifier: MIT */
/*
 * shadow_prog.c - for shadow_stacks.sh.  Compiled with
 * -finstrument-functions and linked with libmemledger, whose hooks keep the
 * shadow stacks.  One scenario per run, each leaking blocks of known sizes
 * from known call chains:
 *   chain     a -> b -> c -> malloc(11111)
 *   longjmp   longjmp out of a recursion of depth 50, then
 *             after_jump -> malloc(22222)
 *   threads   4 threads, each tK_outer -> tK_inner -> malloc(30000 + K),
 *             all allocating while the others are inside their chains; then
 *             100 short threads (10 at a time) each leaking one block from
 *             its own chain shortN_mid -> shortN_leaf -> malloc(40000 + N),
 *             N = 100..199
 *   deep      a recursion of depth 3000 (deep_r0, deep_r2, deep_r1 in turn)
 *             -> deep_leaf -> malloc(50000); back in main,
 *             shallow_a -> shallow_b -> malloc(50001)
 *   deepjmp   longjmp out of a recursion of depth 3000, then
 *             jmp_a -> jmp_b -> malloc(60000)
 *   signal    sig_rec x 100 -> raise(SIGUSR1) -> on_signal -> sig_leaf ->
 *             malloc(70000); back in sig_rec: malloc(70001)
 *   altsignal the same on a sigaltstack, sizes 80000 and 80001
 * Prints "done" at the end.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static volatile int sink;


static void touch(void *p, size_t n) {
  if (p) memset(p, 0x42, n);
}

/* ---- chain ------------------------------------------------------------- */
NOINLINE void c(void);
NOINLINE void b(void);
NOINLINE void a(void);
NOINLINE void c(void) { touch(malloc(11111), 11111); sink++; }
NOINLINE void b(void) { c(); sink++; }
NOINLINE void a(void) { b(); sink++; }

/* ---- longjmp ----------------------------------------------------------- */
static jmp_buf jb;
static NOINLINE void jump_rec(int n) {
  if (n <= 1) {
    if (n == 1) longjmp(jb, 1);
    return;
  }
  jump_rec(n - 1);
  sink++;
}
static NOINLINE void after_jump(void) { touch(malloc(22222), 22222); sink++; }

/* ---- threads ------------------------------------------------------------- */
static pthread_barrier_t bar;
#define LONG_THREAD(K)                                                         \
  static NOINLINE void t##K##_inner(void) {                                    \
    pthread_barrier_wait(&bar);                                                \
    touch(malloc(30000 + K), 30000 + K);                                       \
    pthread_barrier_wait(&bar);                                                \
    sink++;                                                                    \
  }                                                                            \
  static NOINLINE void t##K##_outer(void) { t##K##_inner(); sink++; }         \
  static void *t##K##_main(void *arg) { (void)arg; t##K##_outer(); return NULL; }
LONG_THREAD(0)
LONG_THREAD(1)
LONG_THREAD(2)
LONG_THREAD(3)

#define SHORT(N)                                                               \
  static NOINLINE void short##N##_leaf(void) {                                 \
    touch(malloc(40000 + N), 40000 + N);                                       \
    sink++;                                                                    \
  }                                                                            \
  static NOINLINE void short##N##_mid(void) { short##N##_leaf(); sink++; }
#define SHORT10(T)                                                             \
  SHORT(T##0) SHORT(T##1) SHORT(T##2) SHORT(T##3) SHORT(T##4)                  \
  SHORT(T##5) SHORT(T##6) SHORT(T##7) SHORT(T##8) SHORT(T##9)
/* N written as 1TU so that every name is distinct (100..199); size 40000+N */
SHORT10(10) SHORT10(11) SHORT10(12) SHORT10(13) SHORT10(14)
SHORT10(15) SHORT10(16) SHORT10(17) SHORT10(18) SHORT10(19)
#define P10(T)                                                                 \
  short##T##0_mid, short##T##1_mid, short##T##2_mid, short##T##3_mid,          \
  short##T##4_mid, short##T##5_mid, short##T##6_mid, short##T##7_mid,          \
  short##T##8_mid, short##T##9_mid
static void (*const short_fns[100])(void) = {P10(10), P10(11), P10(12), P10(13), P10(14),
                                             P10(15), P10(16), P10(17), P10(18), P10(19)};
static void *short_main(void *arg) {
  short_fns[(size_t)arg]();
  return NULL;
}

static int run_threads(void) {
  pthread_t t[4];
  void *(*fn[4])(void *) = {t0_main, t1_main, t2_main, t3_main};
  pthread_barrier_init(&bar, NULL, 4);
  for (int i = 0; i < 4; i++)
    if (pthread_create(&t[i], NULL, fn[i], NULL)) return 1;
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  for (int batch = 0; batch < 10; batch++) {
    pthread_t s[10];
    for (int i = 0; i < 10; i++)
      if (pthread_create(&s[i], NULL, short_main, (void *)(size_t)(batch * 10 + i))) return 1;
    for (int i = 0; i < 10; i++) pthread_join(s[i], NULL);
  }
  return 0;
}

/* ---- deep ---------------------------------------------------------------- */
/* Three functions in turn, so that a stack's innermost frames tell which
 * depths they come from: deep_rK(n) has K = n % 3, and deep_r1(1) calls
 * deep_leaf.  The complete stack reads deep_leaf deep_r1 deep_r2 deep_r0
 * deep_r1 ...; the outermost 1024 frames of the shadow stack would not. */
static NOINLINE void deep_r0(int n);
static NOINLINE void deep_r1(int n);
static NOINLINE void deep_r2(int n);
static void (*const deep_tab[3])(int) = {deep_r0, deep_r1, deep_r2};
static NOINLINE void deep_leaf(void) { touch(malloc(50000), 50000); sink++; }
#define DEEP_R(K)                                                              \
  static NOINLINE void deep_r##K(int n) {                                      \
    if (n <= 1) deep_leaf();                                                   \
    else deep_tab[(n - 1) % 3](n - 1);                                         \
    sink++;                                                                    \
  }
DEEP_R(0)
DEEP_R(1)
DEEP_R(2)
static NOINLINE void shallow_b(void) { touch(malloc(50001), 50001); sink++; }
static NOINLINE void shallow_a(void) { shallow_b(); sink++; }

/* ---- deepjmp --------------------------------------------------------------- */
static NOINLINE void deep_jump_rec(int n) {
  if (n <= 1) {
    if (n == 1) longjmp(jb, 1);
    return;
  }
  deep_jump_rec(n - 1);
  sink++;
}
static NOINLINE void jmp_b(void) { touch(malloc(60000), 60000); sink++; }
static NOINLINE void jmp_a(void) { jmp_b(); sink++; }

/* ---- signal -------------------------------------------------------------- */
static size_t sig_base;
static NOINLINE void sig_leaf(void) { touch(malloc(sig_base), sig_base); sink++; }
static NOINLINE void on_signal(int sig) {
  (void)sig;
  sig_leaf();
  sink++;
}
static NOINLINE void sig_rec(int n) {
  if (n <= 1) {
    raise(SIGUSR1);
    touch(malloc(sig_base + 1), sig_base + 1);
  } else {
    sig_rec(n - 1);
  }
  sink++;
}
static int run_signal(int alt) {
  static char altstack[1 << 16];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  if (alt) {
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    if (sigaltstack(&ss, NULL)) return 1;
    sa.sa_flags = SA_ONSTACK;
  }
  if (sigaction(SIGUSR1, &sa, NULL)) return 1;
  sig_base = alt ? 80000 : 70000;
  sig_rec(100);
  return 0;
}

int main(int argc, char **argv) {
  const char *m = argc > 1 ? argv[1] : "";
  int rc = 0;
  if (strcmp(m, "chain") == 0) {
    a();
  } else if (strcmp(m, "longjmp") == 0) {
    if (setjmp(jb) == 0) jump_rec(50);
    after_jump();
  } else if (strcmp(m, "threads") == 0) {
    rc = run_threads();
  } else if (strcmp(m, "deep") == 0) {
    deep_tab[3000 % 3](3000);
    shallow_a();
  } else if (strcmp(m, "deepjmp") == 0) {
    if (setjmp(jb) == 0) deep_jump_rec(3000);
    jmp_a();
  } else if (strcmp(m, "signal") == 0) {
    rc = run_signal(0);
  } else if (strcmp(m, "altsignal") == 0) {
    rc = run_signal(1);
  } else {
    fprintf(stderr, "usage: %s chain|longjmp|threads|deep|deepjmp|signal|altsignal\n", argv[0]);
    return 2;
  }
  printf("done\n");
  return rc;
}

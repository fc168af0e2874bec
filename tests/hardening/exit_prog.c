/* SPDX-License-Identifier: MIT */
/*
 * exit_prog.c - for exit_paths.sh.  Linked with libht_exitdso (its
 * constructor holds 6007 bytes that its destructor frees).  Every mode first
 * leaks one block of 4001 bytes from main, then:
 *   return      returns 0 from main
 *   thread      3 threads allocate and free; a 4th calls exit(0) while they
 *               run and main waits in pthread_join
 *   _exit       _exit(0)
 *   quick_exit  quick_exit(0)
 *   abort       abort()
 *   segv        writes through a null pointer (SIGSEGV)
 *   atexit      an atexit handler allocates and frees (8009, 8011) and frees
 *               a block of 8013 bytes main allocated; returns 0
 * Output through write(2) only.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *ht_exitdso_block(void);

static void *volatile sink;
static void *volatile held;
static atomic_int go;

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void *churn(void *arg) {
  unsigned s = (unsigned)(size_t)arg + 1;
  void *keep[8] = {0};
  for (;;) {
    s = s * 1103515245u + 12345u;
    unsigned k = (s >> 8) % 8;
    free(keep[k]);
    keep[k] = malloc(1 + (s >> 12) % 5000);
    atomic_store(&go, 1);
  }
  return NULL;
}
static void *exiter(void *arg) {
  (void)arg;
  while (!atomic_load(&go)) usleep(1000);
  usleep(50000);
  say("exiting\n");
  exit(0);
}

static void at_exit_handler(void) {
  void *a = malloc(8009);
  void *b = calloc(1, 8011);
  memset(a, 1, 8009);
  free(a);
  free(b);
  free(held);
  held = NULL;
}

int main(int argc, char **argv) {
  if (argc < 2 || !ht_exitdso_block()) return 2;
  const char *mode = argv[1];
  sink = malloc(4001);
  memset(sink, 4, 4001);
  if (strcmp(mode, "return") == 0) return 0;
  if (strcmp(mode, "thread") == 0) {
    pthread_t th[4];
    for (long i = 0; i < 3; i++) pthread_create(&th[i], NULL, churn, (void *)i);
    pthread_create(&th[3], NULL, exiter, NULL);
    pthread_join(th[3], NULL); /* never returns: exit() ends the process */
    return 3;
  }
  if (strcmp(mode, "_exit") == 0) _exit(0);
  if (strcmp(mode, "quick_exit") == 0) quick_exit(0);
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "segv") == 0) {
    volatile int *volatile p = NULL;
    *p = 1;
    return 4;
  }
  if (strcmp(mode, "atexit") == 0) {
    held = malloc(8013);
    memset(held, 8, 8013);
    atexit(at_exit_handler);
    return 0;
  }
  return 2;
}

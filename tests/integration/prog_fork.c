/* SPDX-License-Identifier: MIT */
/*
 * prog_fork.c - fork from a threaded program, for fork.sh.  Usage:
 *
 *   prog_fork [wait]
 *
 * Before forking: 2 x 7001 bytes leaked from prefork_leak() (live in the
 * parent, so inherited by the child), and two threads allocating and freeing
 * 2048-byte and 64-byte blocks in a loop, so that the fork happens while they
 * allocate.  The child checks that allocation works (tracked and untracked
 * sizes, realloc, contents), leaks 1 x 6007 bytes from child_leak(), prints
 * "child <pid> ok" and, with "wait", "child waiting" and then reads its
 * standard input to end of file, then exits normally with exit(0).  The parent
 * waits for it, stops and joins its threads, frees their blocks, prints
 * "parent <pid> child-status <status>" and exits 0.
 * Output through write(2) only: no stdio buffer is allocated.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;
static void *keep(void *p) {
  sink = p;
  return p;
}

static void say(const char *fmt, long a, long b) {
  char line[256];
  int n = snprintf(line, sizeof line, fmt, a, b);
  if (n > 0) (void)!write(1, line, (size_t)n);
}

static atomic_int stop;
static atomic_long iterations;

static void *churn(void *arg) {
  (void)arg;
  void *held[16] = {0};
  for (unsigned i = 0; !atomic_load(&stop); i++) {
    unsigned k = i % 16;
    free(held[k]);
    held[k] = malloc(i % 2 ? 2048 : 64);
    if (!held[k]) abort();
    memset(held[k], (int)i, 64);
    atomic_fetch_add(&iterations, 1);
    if (i % 1024 == 0) usleep(100); /* keep the machine usable */
  }
  for (unsigned k = 0; k < 16; k++) free(held[k]);
  return NULL;
}

__attribute__((noinline)) static void prefork_leak(void) {
  for (volatile int i = 0; i < 2; i++) memset(keep(malloc(7001)), 7, 7001);
}

__attribute__((noinline)) static void child_leak(void) {
  memset(keep(malloc(6007)), 6, 6007);
}

/* The allocator works in the child: sizes on both sides of the threshold. */
__attribute__((noinline)) static int child_works(void) {
  size_t sizes[] = {16, 700, 1024, 5000, 70000, 1 << 20};
  for (int round = 0; round < 100; round++)
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
      unsigned char *p = keep(malloc(sizes[i]));
      if (!p) return 0;
      memset(p, (int)i, sizes[i]);
      p = keep(realloc(p, sizes[i] * 2));
      if (!p) return 0;
      for (size_t j = 0; j < sizes[i]; j++)
        if (p[j] != (unsigned char)i) return 0;
      free(p);
      p = keep(calloc(1, sizes[i]));
      if (!p || p[sizes[i] - 1]) return 0;
      free(p);
    }
  return 1;
}

int main(int argc, char **argv) {
  int wait_mode = argc > 1 && strcmp(argv[1], "wait") == 0;
  prefork_leak();
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&th[i], NULL, churn, NULL) != 0) return 3;
  while (atomic_load(&iterations) < 20000) usleep(1000);

  pid_t pid = fork();
  if (pid < 0) return 4;
  if (pid == 0) {
    /* only this thread exists here */
    if (!child_works()) {
      say("child %ld FAILED%ld\n", (long)getpid(), 0);
      exit(5);
    }
    child_leak();
    sink = NULL;
    say("child %ld ok%.0ld\n", (long)getpid(), 0);
    if (wait_mode) {
      say("child waiting%.0ld%.0ld\n", 0, 0);
      char buf[64];
      while (read(0, buf, sizeof buf) > 0) {}
    }
    exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {}
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  say("parent %ld child-status %ld\n", (long)getpid(),
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

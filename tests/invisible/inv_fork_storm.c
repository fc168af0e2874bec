/* SPDX-License-Identifier: MIT */
/*
 * inv_fork_storm.c NTHREADS NFORKS - NTHREADS threads each fork() NFORKS
 * times; each child allocates and frees a few blocks and exits 0 (exit(),
 * so its exit dump is written); each parent thread waits for its child.
 * Meanwhile the main thread sends the dump signal to the process every
 * 5 ms.  Run with MEMLEDGER_MIN_SIZE=0 (every block tracked).  Prints
 * "children=N failed=M".
 */
#include "inv_util.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>

static int nforks;
static atomic_int children, failed, running;

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < nforks; i++) {
    void *p = malloc(64 + i);
    pid_t pid = fork();
    if (pid == 0) {
      void *q[4];
      for (int j = 0; j < 4; j++) memset(q[j] = malloc(16 << (j * 3)), j, 16);
      for (int j = 0; j < 4; j++) free(q[j]);
      free(p);
      exit(0);
    }
    free(p);
    if (pid < 0) {
      atomic_fetch_add(&failed, 1);
      continue;
    }
    int st;
    pid_t r;
    do r = waitpid(pid, &st, 0);
    while (r < 0);
    atomic_fetch_add(&children, 1);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) atomic_fetch_add(&failed, 1);
  }
  atomic_fetch_sub(&running, 1);
  return NULL;
}

int main(int argc, char **argv) {
  int nthreads = argc > 1 ? atoi(argv[1]) : 4;
  nforks = argc > 2 ? atoi(argv[2]) : 50;
  pthread_t t[64];
  if (nthreads > 64) nthreads = 64;
  atomic_store(&running, nthreads);
  for (int i = 0; i < nthreads; i++) pthread_create(&t[i], NULL, worker, NULL);
  while (atomic_load(&running) > 0) {
    kill(getpid(), SIGUSR2);
    inv_sleep_ms(5);
  }
  for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
  printf("children=%d failed=%d\n", atomic_load(&children), atomic_load(&failed));
  return 0;
}

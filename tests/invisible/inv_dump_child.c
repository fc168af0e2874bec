/* SPDX-License-Identifier: MIT */
/*
 * inv_dump_child.c [child] - the process that writes a dump on the dump
 * signal must not be visible to the program: counts SIGCHLD in a handler,
 * sends itself SIGUSR2 5 times (waiting for each dump file), then reports
 * waitpid(-1, WNOHANG) and wait().  With "child", first forks one child of
 * its own (exit status 7 after 300 ms): wait() must return exactly it, and
 * the next wait() ECHILD.  Prints "key=value" lines.
 */
#include "inv_util.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static volatile sig_atomic_t nchld;
static void on_chld(int sig) {
  (void)sig;
  nchld++;
}

static const char *err_name(int e) { return e == ECHILD ? "ECHILD" : e == 0 ? "0" : strerror(e); }

int main(int argc, char **argv) {
  int with_child = argc > 1 && strcmp(argv[1], "child") == 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_chld;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
  void *keep[4];
  for (int i = 0; i < 4; i++) memset(keep[i] = malloc(4096), i, 4096);

  pid_t own = -1;
  if (with_child) {
    own = fork();
    if (own == 0) {
      inv_sleep_ms(300);
      _exit(7);
    }
  }
  int dumps = 0;
  for (int i = 1; i <= 5; i++) {
    kill(getpid(), SIGUSR2);
    dumps += inv_wait_dump(getpid(), i, 10);
  }
  inv_sleep_ms(500); /* our own child has exited by now; any helper too */
  printf("dumps=%d\n", dumps);
  int st = 0;
  if (!with_child) {
    errno = 0;
    pid_t r = waitpid(-1, &st, WNOHANG);
    printf("waitpid=%d %s\n", (int)r, r < 0 ? err_name(errno) : "");
  }
  errno = 0;
  pid_t r = wait(&st);
  if (with_child)
    printf("wait=%s status=%d\n", r == own ? "own-child" : r < 0 ? err_name(errno) : "other",
           r > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  else
    printf("wait=%d %s\n", (int)r, r < 0 ? err_name(errno) : "");
  if (with_child) {
    errno = 0;
    r = wait(&st);
    printf("wait-again=%d %s\n", (int)r, r < 0 ? err_name(errno) : "");
  }
  printf("sigchld=%d\n", (int)nchld);
  for (int i = 0; i < 4; i++) free(keep[i]);
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * inv_restart.c - calls interrupted by a dump.  The dump signal (SIGUSR2) is
 * sent with pthread_kill to the thread blocked in the call, 300 ms in; the
 * call would complete at 1 s.  signal(7): with SA_RESTART, read(2) and
 * write(2) on a pipe are restarted, so the program never sees EINTR from
 * them; poll(2), epoll_wait(2) and nanosleep(2) are never restarted, whatever
 * the flags (nanosleep returns EINTR with the remaining time): for those the
 * outcome is only reported ("note ..."), and the script does not assert it.
 * Lines: "read: n=1" / "read: EINTR", "write: n=4096" / "write: EINTR",
 * "note nanosleep: ...", "note poll: ...", "dumps=N".
 */
#include "inv_util.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

static int pfd[2];
static pthread_t target;

static void *kicker(void *arg) { /* signal the blocked thread at 300 ms */
  (void)arg;
  inv_sleep_ms(300);
  pthread_kill(target, SIGUSR2);
  return NULL;
}
static void *late_writer(void *arg) {
  (void)arg;
  inv_sleep_ms(1000);
  if (write(pfd[1], "x", 1) != 1) abort();
  return NULL;
}
static void *late_reader(void *arg) {
  (void)arg;
  inv_sleep_ms(1000);
  static char buf[1 << 16];
  ssize_t n = read(pfd[0], buf, sizeof buf);
  (void)n;
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
  void *keep[4];
  for (int i = 0; i < 4; i++) memset(keep[i] = malloc(4096), i, 4096);
  pthread_t k, w;
  target = pthread_self();
  int ndump = 0, seq = 0;

  /* read on an empty pipe */
  if (pipe(pfd) != 0) return 2;
  pthread_create(&w, NULL, late_writer, NULL);
  pthread_create(&k, NULL, kicker, NULL);
  char c;
  errno = 0;
  ssize_t n = read(pfd[0], &c, 1);
  printf(n == 1 ? "read: n=1\n" : "read: %s\n", n < 0 ? (errno == EINTR ? "EINTR" : strerror(errno)) : "short");
  pthread_join(w, NULL);
  pthread_join(k, NULL);
  ndump += inv_wait_dump(getpid(), ++seq, 10);

  /* write on a full pipe (4096 <= PIPE_BUF: all or nothing) */
  int fl = fcntl(pfd[1], F_GETFL);
  fcntl(pfd[1], F_SETFL, fl | O_NONBLOCK);
  static char fill[4096];
  while (write(pfd[1], fill, sizeof fill) > 0) {
  }
  fcntl(pfd[1], F_SETFL, fl);
  pthread_create(&w, NULL, late_reader, NULL);
  pthread_create(&k, NULL, kicker, NULL);
  errno = 0;
  n = write(pfd[1], fill, sizeof fill);
  if (n == (ssize_t)sizeof fill)
    printf("write: n=4096\n");
  else
    printf("write: %s\n", n < 0 ? (errno == EINTR ? "EINTR" : strerror(errno)) : "short");
  pthread_join(w, NULL);
  pthread_join(k, NULL);
  ndump += inv_wait_dump(getpid(), ++seq, 10);

  /* nanosleep(1 s): never restarted by the kernel */
  pthread_create(&k, NULL, kicker, NULL);
  struct timespec req = {1, 0}, rem = {0, 0};
  double t0 = now_s();
  errno = 0;
  int r = nanosleep(&req, &rem);
  printf("note nanosleep: returned %d%s after %.2f s, remaining %.2f s\n", r,
         r < 0 && errno == EINTR ? " (EINTR)" : "", now_s() - t0,
         (double)rem.tv_sec + rem.tv_nsec / 1e9);
  pthread_join(k, NULL);
  ndump += inv_wait_dump(getpid(), ++seq, 10);

  /* poll(no fds, 1000 ms): never restarted either */
  pthread_create(&k, NULL, kicker, NULL);
  t0 = now_s();
  errno = 0;
  r = poll(NULL, 0, 1000);
  printf("note poll: returned %d%s after %.2f s\n", r, r < 0 && errno == EINTR ? " (EINTR)" : "",
         now_s() - t0);
  pthread_join(k, NULL);
  ndump += inv_wait_dump(getpid(), ++seq, 10);

  printf("dumps=%d\n", ndump);
  for (int i = 0; i < 4; i++) free(keep[i]);
  return 0;
}

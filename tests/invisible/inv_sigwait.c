/* SPDX-License-Identifier: MIT */
/*
 * inv_sigwait.c MODE - a program that takes the dump signal (SIGUSR2) for
 * itself: blocks it in every thread (before starting a second thread) and
 * receives it with sigwaitinfo ("sigwaitinfo") or from a signalfd
 * ("signalfd").  Sends it to itself 5 times with kill() (process-directed),
 * receiving each within 5 s.  Prints "received=N/5".
 */
#include "inv_util.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

static void *idle(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  int use_fd = argc > 1 && strcmp(argv[1], "signalfd") == 0;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  pthread_t t;
  pthread_create(&t, NULL, idle, NULL); /* inherits the mask */
  void *keep[4];
  for (int i = 0; i < 4; i++) memset(keep[i] = malloc(4096), i, 4096);
  int sfd = -1;
  if (use_fd) {
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) return 3;
  }
  int got = 0;
  for (int i = 0; i < 5; i++) {
    kill(getpid(), SIGUSR2);
    if (use_fd) {
      struct pollfd p = {sfd, POLLIN, 0};
      int r;
      do r = poll(&p, 1, 5000);
      while (r < 0 && errno == EINTR);
      struct signalfd_siginfo si;
      if (r == 1 && read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR2) got++;
    } else {
      struct timespec ts = {5, 0};
      siginfo_t si;
      int r;
      do r = sigtimedwait(&set, &si, &ts);
      while (r < 0 && errno == EINTR);
      if (r == SIGUSR2) got++;
    }
  }
  printf("received=%d/5\n", got);
  for (int i = 0; i < 4; i++) free(keep[i]);
  return 0;
}

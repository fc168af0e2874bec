/* SPDX-License-Identifier: MIT */
/*
 * prog_opts.c - small behaviours for options.sh.  Usage:
 *
 *   prog_opts printf            10 lines with printf (stdout fully buffered
 *                               when redirected), one 3000-byte leak, exit 0
 *   prog_opts noleak STATUS     a line with write(2), no tracked block left,
 *                               exit STATUS
 *   prog_opts wait              "ready", then read stdin to end of file
 *   prog_opts signal            own SIGUSR2 handler via signal()
 *   prog_opts sigaction         own SIGUSR2 handler via sigaction()
 * The last two print "ready", wait (sigsuspend) until the handler has run,
 * then print "handler ran <n>" and exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;
static volatile sig_atomic_t handled;

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void on_usr2(int sig) {
  (void)sig;
  handled++;
}

static int own_handler(int use_sigaction) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  sigprocmask(SIG_BLOCK, &block, &old);
  if (use_sigaction) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR2, &sa, NULL) != 0) return 3;
  } else {
    if (signal(SIGUSR2, on_usr2) == SIG_ERR) return 3;
  }
  say("ready\n");
  while (!handled) sigsuspend(&old);
  char line[64];
  int n = snprintf(line, sizeof line, "handler ran %d\n", (int)handled);
  (void)!write(1, line, (size_t)n);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "printf") == 0) {
    for (int i = 0; i < 10; i++) printf("line %d of 10\n", i + 1);
    sink = malloc(3000);
    memset(sink, 1, 3000);
    sink = NULL;
    return 0;
  }
  if (strcmp(mode, "noleak") == 0) {
    char *p = malloc(5000);
    memset(p, 1, 5000);
    sink = p;
    free(p);
    say("no leak\n");
    return argc > 2 ? atoi(argv[2]) : 0;
  }
  if (strcmp(mode, "wait") == 0) {
    say("ready\n");
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {}
    say("bye\n");
    return 0;
  }
  if (strcmp(mode, "signal") == 0) return own_handler(0);
  if (strcmp(mode, "sigaction") == 0) return own_handler(1);
  return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * inv_sigview.c - the signal dispositions the program sees.  For SIGUSR2,
 * SIGTERM, SIGINT and SIGSEGV: the initial action (sigaction(sig, NULL,
 * &old)), the previous action returned when installing its own handler, the
 * action read back, the previous action returned when restoring `old`, the
 * action read back after that; then the same round with signal().  Each
 * reported handler is named SIG_DFL, SIG_IGN, "own" (the program's handler)
 * or "foreign:<file>" (dladdr), so that a handler inside libmemledger.so
 * shows as such.  One line per signal; identical with and without the preload.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void own(int sig) { (void)sig; }

static const char *name(void (*h)(int), char *buf, size_t n) {
  if (h == SIG_DFL) return "SIG_DFL";
  if (h == SIG_IGN) return "SIG_IGN";
  if (h == SIG_ERR) return "SIG_ERR";
  if (h == own) return "own";
  Dl_info di;
  if (dladdr((void *)h, &di) && di.dli_fname) {
    const char *b = strrchr(di.dli_fname, '/');
    snprintf(buf, n, "foreign:%s", b ? b + 1 : di.dli_fname);
  } else {
    snprintf(buf, n, "foreign:%p", (void *)h);
  }
  return buf;
}

static void view(const char *sname, int sig) {
  char b[6][300];
  struct sigaction old, prev, now, sa;
  memset(&old, 0, sizeof old);
  memset(&sa, 0, sizeof sa);
  sigaction(sig, NULL, &old);
  sa.sa_handler = own;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(sig, &sa, &prev);
  const char *p1 = name(prev.sa_handler, b[0], sizeof b[0]);
  sigaction(sig, NULL, &now);
  const char *n1 = name(now.sa_handler, b[1], sizeof b[1]);
  sigaction(sig, &old, &prev);
  const char *p2 = name(prev.sa_handler, b[2], sizeof b[2]);
  sigaction(sig, NULL, &now);
  const char *n2 = name(now.sa_handler, b[3], sizeof b[3]);
  const char *s1 = name(signal(sig, own), b[4], sizeof b[4]);
  const char *s2 = name(signal(sig, SIG_DFL), b[5], sizeof b[5]);
  char b6[300];
  const char *s3 = name(signal(sig, SIG_DFL), b6, sizeof b6);
  char b7[300];
  printf("%s initial=%s prev=%s now=%s restore-prev=%s restored=%s signal:%s,%s,%s\n", sname,
         name(old.sa_handler, b7, sizeof b7), p1, n1, p2, n2, s1, s2, s3);
}

int main(void) {
  view("SIGUSR2", SIGUSR2);
  view("SIGTERM", SIGTERM);
  view("SIGINT", SIGINT);
  view("SIGSEGV", SIGSEGV);
  return 0;
}

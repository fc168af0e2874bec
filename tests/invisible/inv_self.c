/* SPDX-License-Identifier: MIT */
/*
 * inv_self.c MODE - what a single-threaded program sees of itself, before
 * and after a dump on the dump signal (SIGUSR2 sent to itself, then waiting
 * up to 10 s for the dump file):
 *   "open":   the descriptor open("/dev/null") returns at start, after 4
 *             tracked 4 KiB allocations, and after the dump ("3 3 3").
 *   "status": the Threads: line of /proc/self/status and the descriptors
 *             listed in /proc/self/fd (without the one used to read it),
 *             before and after the dump.
 * Prints "dump ok"/"no dump" in both modes.
 */
#include "inv_util.h"
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

static int first_open(void) {
  int fd = open("/dev/null", O_RDONLY);
  if (fd >= 0) close(fd);
  return fd;
}

static void status(const char *when) {
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Threads:", 8) == 0) printf("%s threads: %d\n", when, atoi(line + 8));
  fclose(f);
  DIR *d = opendir("/proc/self/fd");
  if (!d) return;
  int own = dirfd(d), fds[1024], n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 1024) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd != own) fds[n++] = fd;
  }
  closedir(d);
  /* readdir's order is the kernel's: sort */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      int t = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = t;
    }
  printf("%s fds:", when);
  for (int i = 0; i < n; i++) printf(" %d", fds[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "open";
  int st = strcmp(mode, "status") == 0;
  int a = 0, b = 0, c = 0;
  if (st)
    status("before");
  else
    a = first_open();
  void *p[4];
  for (int i = 0; i < 4; i++) memset(p[i] = malloc(4096), i, 4096);
  if (!st) b = first_open();
  kill(getpid(), SIGUSR2);
  int ok = inv_wait_dump(getpid(), 1, 10);
  inv_sleep_ms(100); /* whatever wrote the dump has had time to go */
  if (st)
    status("after");
  else {
    c = first_open();
    printf("open: %d %d %d\n", a, b, c);
  }
  printf(ok ? "dump ok\n" : "no dump\n");
  for (int i = 0; i < 4; i++) free(p[i]);
  return 0;
}

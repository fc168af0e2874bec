/* SPDX-License-Identifier: MIT */
/*
 * hostile_prog.c - for hostile_config.sh.  Output through write(2) only.
 *   hostile_prog plain     leaks 3 blocks (2001, 3001, 4001 bytes), frees
 *                          others, prints "ok", exits 0
 *   hostile_prog nofile    leaks the 3 blocks, lowers RLIMIT_NOFILE to the
 *                          descriptors already open (and fills the gaps
 *                          below it with /dev/null), asks memledger_dump()
 *                          (prints "api1 -1 <errno name>" or "api1 0"),
 *                          raises SIGUSR2 (waits 300 ms), restores the limit,
 *                          leaks 5003, asks again ("api2 0 <path>"), "ok"
 *   hostile_prog records N leaks N blocks of 2000 bytes, memledger_dump()
 *                          ("api1 0 <path>"), frees them all, leaks 10 blocks
 *                          of 3001, prints "ok" and exits
 *   hostile_prog sigign    (started with SIGUSR2 ignored) leaks the 3 blocks,
 *                          raises SIGUSR2 and waits 300 ms; "ok"
 * memledger_dump is looked up with dlsym (the program is not linked with
 * memledger); without it, "api1 none".
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void *volatile sink[16];
static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void leak3(void) {
  static const size_t sz[3] = {2001, 3001, 4001};
  for (int i = 0; i < 3; i++) {
    sink[i] = malloc(sz[i]);
    memset(sink[i], i, sz[i]);
  }
  for (int i = 0; i < 50; i++) free(malloc(100 + 97 * (size_t)i));
}

static void nap(void) {
  struct timespec ts = {0, 300 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

typedef int (*dump_fn)(char *, size_t);

static void api(const char *tag) {
  dump_fn f = (dump_fn)dlsym(RTLD_DEFAULT, "memledger_dump");
  char line[4300], path[4096] = "";
  if (!f) {
    snprintf(line, sizeof line, "%s none\n", tag);
  } else {
    errno = 0;
    int rc = f(path, sizeof path);
    int e = errno;
    if (rc == 0) snprintf(line, sizeof line, "%s 0 %s\n", tag, path);
    else snprintf(line, sizeof line, "%s %d %s\n", tag, rc, e == EMFILE ? "EMFILE" : strerror(e));
  }
  say(line);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "plain";
  if (strcmp(mode, "plain") == 0) {
    leak3();
    say("ok\n");
    return 0;
  }
  if (strcmp(mode, "nofile") == 0) {
    leak3();
    int top = -1;
    for (int fd = 0; fd < 4096; fd++)
      if (fcntl(fd, F_GETFD) != -1) top = fd;
    struct rlimit old, low;
    if (getrlimit(RLIMIT_NOFILE, &old) != 0) return 3;
    low = old;
    low.rlim_cur = (rlim_t)(top + 1);
    if (setrlimit(RLIMIT_NOFILE, &low) != 0) return 3;
    /* fill the gaps below the limit: then no descriptor is left */
    int filled[4096], nf = 0;
    while (nf < 4096) {
      int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      filled[nf++] = fd;
    }
    api("api1");
    raise(SIGUSR2);
    nap();
    if (setrlimit(RLIMIT_NOFILE, &old) != 0) return 3;
    for (int i = 0; i < nf; i++) close(filled[i]);
    sink[3] = malloc(5003);
    memset(sink[3], 5, 5003);
    api("api2");
    say("ok\n");
    return 0;
  }
  if (strcmp(mode, "records") == 0 && argc > 2) {
    long n = atol(argv[2]);
    void **v = calloc((size_t)n, sizeof *v); /* n*8 bytes: tracked too when >= 1024 */
    if (!v) return 3;
    for (long i = 0; i < n; i++) {
      v[i] = malloc(2000);
      if (!v[i]) return 4;
      memset(v[i], 1, 2000);
    }
    api("api1");
    for (long i = 0; i < n; i++) free(v[i]);
    free(v);
    for (int i = 0; i < 10; i++) sink[i] = malloc(3001);
    say("ok\n");
    return 0;
  }
  if (strcmp(mode, "sigign") == 0) {
    leak3();
    raise(SIGUSR2);
    nap();
    say("ok\n");
    return 0;
  }
  return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * inv_daemon.c MODE - a daemon-like program: closes every descriptor from 3
 * (MODE "loop": close(3..1023); "close_range": close_range(3, ~0U, 0);
 * "closefrom": closefrom(3)), makes a socketpair and sends 64 records of
 * 4 KiB through it (in turn from either end to the other), sending itself
 * the dump signal (SIGUSR2) every 8th record.  Each record must come back intact, and nothing else may arrive
 * (a library that kept a descriptor number it no longer owns would write
 * into, or read from, the socket).  Then waits (10 s) for the first signal
 * dump.  Prints "data ok" or what went wrong, and "dump ok"/"no dump".
 * Exit 77 when the MODE's call does not exist here.
 */
#include "inv_util.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define REC 4096
#define NREC 64

static int read_full(int fd, unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, 5000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1; /* 5 s without data: something took it */
    ssize_t k = read(fd, buf + got, n - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    got += (size_t)k;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "loop";
  if (strcmp(mode, "loop") == 0) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
  } else if (strcmp(mode, "close_range") == 0) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
      fprintf(stderr, "close_range: %s\n", strerror(errno));
      return 77;
    }
#else
    return 77;
#endif
  } else if (strcmp(mode, "closefrom") == 0) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
    closefrom(3);
#else
    return 77;
#endif
  } else {
    return 2;
  }

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 3;
  unsigned char out[REC], in[REC];
  const char *bad = NULL;
  int badrec = -1;
  for (int r = 0; r < NREC && !bad; r++) {
    for (int i = 0; i < REC; i++) out[i] = (unsigned char)(r * 31 + i * 7);
    void *hold = malloc(REC); /* a tracked block per record */
    memcpy(hold, out, REC);
    int wr = sv[r & 1], rd = sv[!(r & 1)]; /* both directions in turn */
    if (write(wr, out, REC) != REC) bad = "short write", badrec = r;
    if (r % 8 == 0) kill(getpid(), SIGUSR2);
    if (!bad && read_full(rd, in, REC) != 0) bad = "data missing", badrec = r;
    if (!bad && memcmp(in, out, REC) != 0) bad = "data changed", badrec = r;
    free(hold);
  }
  if (!bad) {
    struct pollfd p[2] = {{sv[0], POLLIN, 0}, {sv[1], POLLIN, 0}};
    if (poll(p, 2, 200) > 0) bad = "extra data arrived";
  }
  if (bad)
    printf("data bad: %s (record %d)\n", bad, badrec);
  else
    printf("data ok\n");
  printf(inv_wait_dump(getpid(), 1, 10) ? "dump ok\n" : "no dump\n");
  return 0;
}

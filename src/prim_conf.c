/* SPDX-License-Identifier: MIT */
/*
 * prim_conf.c - reading the configuration file (layer: platform): the one
 * file whose owner and mode decide whether it is read.  A file of its own
 * because the memledger command links it too (it computes a process's
 * options with the library's loader, tools/libopts.c).  open, fstat, read
 * and close only: no allocation, no lock; not for signal handlers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "prim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t ml_prim_read_trusted(const char *path, char *buf, size_t size) {
  struct stat st;
  size_t len = 0;
  int fd, err = 0, saved = errno; /* called from inside malloc */

  if (size == 0) return -EINVAL;
  /* O_NONBLOCK: a FIFO put there must not hang the program's start. */
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    err = errno;
    errno = saved;
    return -(ssize_t)err;
  }
  /* Checked on the descriptor: the file read is the file checked. */
  if (fstat(fd, &st) != 0)
    err = errno;
  else if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
           (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    err = EPERM;
  else if ((uintmax_t)st.st_size >= size)
    err = EFBIG;
  while (err == 0 && len < size - 1) {
    ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    len += (size_t)n;
  }
  if (err == 0 && len == size - 1) { /* full: more means it grew meanwhile */
    char more;
    ssize_t n;
    while ((n = read(fd, &more, 1)) < 0 && errno == EINTR) {
    }
    if (n != 0) err = n > 0 ? EFBIG : errno;
  }
  close(fd);
  buf[err == 0 ? len : 0] = '\0';
  errno = saved;
  return err != 0 ? -(ssize_t)err : (ssize_t)len;
}

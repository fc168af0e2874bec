/* SPDX-License-Identifier: MIT */
/*
 * leak_basic.c - a small program with real leaks, for the README's first
 * command.  Run under memledger with the default threshold (1024 bytes):
 *
 *   make_session_cache()  leaks 3 blocks of 4096 bytes  (one stack)
 *   load_config()         leaks 1 block of 10000 bytes  (another stack)
 *   parse_line() x 100    leaks 100 blocks of 64 bytes  (below the threshold:
 *                         not tracked, by design)
 *   build_index()         allocates 8192 bytes and frees them (not a leak)
 *
 * Expected exit report: 4 unfreed blocks, 22288 bytes, from 2 stacks.
 * It writes with write(2), not stdio, so that no stdio buffer joins the count,
 * and every block passes through a volatile pointer, so that an optimising
 * compiler cannot remove an allocation whose result looks unused.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink; /* last block handed out; overwritten each time */

static void *keep(void *p) {
  sink = p;
  return p;
}

__attribute__((noinline)) static void make_session_cache(void) {
  for (int i = 0; i < 3; i++) memset(keep(malloc(4096)), 0, 4096);
}

__attribute__((noinline)) static char *load_config(void) {
  char *cfg = keep(malloc(10000));
  memset(cfg, 'x', 10000);
  return cfg;
}

__attribute__((noinline)) static char *parse_line(int i) {
  char *s = keep(malloc(64));
  s[0] = (char)i;
  return s;
}

__attribute__((noinline)) static void build_index(void) {
  char *idx = keep(calloc(1, 8192));
  idx[100] = 1;
  free(sink);
}

int main(void) {
  make_session_cache();
  char *cfg = load_config();
  for (int i = 0; i < 100; i++) (void)parse_line(i);
  build_index();
  cfg[0] = 0;
  sink = NULL; /* the last references are gone: real leaks */
  static const char msg[] = "leak_basic: done\n";
  (void)!write(1, msg, sizeof msg - 1);
  return 0;
}

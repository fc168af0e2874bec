/* SPDX-License-Identifier: MIT */
/*
 * prog_grow.c - for tests/tools/diff.sh: a program that grows.  Each line
 * read on stdin is one step: grow_cache leaks 2 more blocks of 2048 bytes;
 * at step 1 only, temp_buffer holds 1 block of 3000 bytes (freed at step 2);
 * from step 2 on, late_table leaks 1 block of 4096 per step.  Prints
 * "step N" after each step; exits 0 at EOF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;
static void *temp;

__attribute__((noinline)) static void grow_cache(void) {
  for (int i = 0; i < 2; i++)
    memset(sink = malloc(2048), 1, 2048);
}
__attribute__((noinline)) static void temp_buffer(void) {
  memset(temp = malloc(3000), 1, 3000);
}
__attribute__((noinline)) static void late_table(void) {
  memset(sink = malloc(4096), 1, 4096);
}

int main(void) {
  char buf[64];
  int step = 0;
  while (read(0, buf, sizeof buf) > 0) {
    step++;
    grow_cache();
    if (step == 1) temp_buffer();
    if (step == 2) {
      free(temp);
      temp = NULL;
    }
    if (step >= 2) late_table();
    char line[32];
    int n = snprintf(line, sizeof line, "step %d\n", step);
    (void)!write(1, line, (size_t)n);
  }
  sink = NULL;
  return 0;
}

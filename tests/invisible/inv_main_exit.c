/* SPDX-License-Identifier: MIT */
/*
 * inv_main_exit.c - the main thread ends with pthread_exit() while another
 * thread runs on for 300 ms (allocating tracked 4 KiB blocks) and then
 * returns ("return": the process ends with status 0 when its last thread
 * ends) or calls exit(5) ("exit").  A resident helper thread of the library
 * would keep the process alive forever.
 */
#include "inv_util.h"
#include <pthread.h>
#include <string.h>

static int use_exit;

static void *late(void *arg) {
  (void)arg;
  inv_sleep_ms(300);
  void *p[8];
  for (int i = 0; i < 8; i++) memset(p[i] = malloc(4096), i, 4096);
  for (int i = 0; i < 8; i++) free(p[i]);
  if (use_exit) exit(5);
  return NULL;
}

int main(int argc, char **argv) {
  use_exit = argc > 1 && strcmp(argv[1], "exit") == 0;
  pthread_t t;
  if (pthread_create(&t, NULL, late, NULL) != 0) return 2;
  pthread_exit(NULL);
}

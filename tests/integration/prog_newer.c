/* SPDX-License-Identifier: MIT */
/*
 * prog_newer.c - blocks allocated before and after dumps (newer.sh): 3
 * blocks of 3001 bytes, a worker's block of 5001; dump 1; the worker's
 * second block of 5001 (its sequence numbers were taken before the dump),
 * one 3001-byte block freed, 2 blocks of 6001; dump 2; exit (dump 3).
 * memledger_dump is found with dlsym (exit 4 without the preload).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *volatile keep[16];
static pthread_barrier_t step;

static void *worker(void *arg) {
  (void)arg;
  keep[10] = malloc(5001);
  pthread_barrier_wait(&step); /* allocated: main dumps */
  pthread_barrier_wait(&step); /* dumped */
  keep[11] = malloc(5001);
  return NULL;
}

int main(void) {
  int (*memledger_dump)(char *, size_t);
  *(void **)&memledger_dump = dlsym(RTLD_DEFAULT, "memledger_dump");
  if (!memledger_dump) return 4;
  pthread_t th;
  pthread_barrier_init(&step, NULL, 2);
  for (int i = 0; i < 3; i++) keep[i] = malloc(3001);
  if (pthread_create(&th, NULL, worker, NULL) != 0) return 1;
  pthread_barrier_wait(&step);
  if (memledger_dump(NULL, 0) != 0) return 2;
  pthread_barrier_wait(&step);
  pthread_join(th, NULL);
  free(keep[0]);
  keep[0] = NULL;
  for (int i = 3; i < 5; i++) keep[i] = malloc(6001);
  if (memledger_dump(NULL, 0) != 0) return 3;
  puts("ok");
  return 0;
}

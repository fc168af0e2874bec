/* SPDX-License-Identifier: MIT */
/*
 * cache.c - the rebuildable library of examples/wrap, with a real leak: the
 * cache never evicts, so every cache_put keeps its entry for good.  Built
 * with `pkg-config --cflags memledger-instrument` and linked with
 * `pkg-config --libs memledger-wrap`: its allocations are tracked with
 * shadow stacks, and the exit dump shows, for the 8 entries of 4096 bytes
 * the example stores, the stack cache_entry_new <- cache_put <- the caller.
 */
#include "cache.h"
#include <stdlib.h>
#include <string.h>

typedef struct entry {
  struct entry *next;
  char key[64];
  size_t size;
  unsigned char value[]; /* size bytes */
} entry_t;

static entry_t *cache_head;

static entry_t *cache_entry_new(const char *key, size_t size) {
  entry_t *e = malloc(sizeof *e + size); /* the leak: never freed */
  if (!e) return NULL;
  strncpy(e->key, key, sizeof e->key - 1);
  e->key[sizeof e->key - 1] = 0;
  e->size = size;
  return e;
}

int cache_put(const char *key, const void *value, size_t size) {
  entry_t *e = cache_entry_new(key, size);
  if (!e) return -1;
  memcpy(e->value, value, size);
  e->next = cache_head;
  cache_head = e;
  return 0;
}

const void *cache_get(const char *key) {
  for (entry_t *e = cache_head; e; e = e->next)
    if (strcmp(e->key, key) == 0) return e->value;
  return NULL;
}

size_t cache_reindex(void) {
  size_t n = 0;
  for (entry_t *e = cache_head; e; e = e->next) n++;
  entry_t **index = calloc(n + 1024, sizeof *index); /* tracked, then freed */
  size_t i = 0;
  for (entry_t *e = cache_head; e && index; e = e->next) index[i++] = e;
  free(index);
  return i;
}

/* SPDX-License-Identifier: MIT */
/* cache.h - a tiny string cache: the rebuildable library of examples/wrap. */
#ifndef CACHE_H
#define CACHE_H
#include <stddef.h>
/* Store a copy of value (size bytes) under key; returns 0, or -1. */
int cache_put(const char *key, const void *value, size_t size);
/* The stored value of key, or NULL. */
const void *cache_get(const char *key);
/* Build and throw away a temporary index (allocates and frees). */
size_t cache_reindex(void);
#endif

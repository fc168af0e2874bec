/* SPDX-License-Identifier: MIT */
/*
 * cache_app.c - uses the cache library of examples/wrap.  Not rebuilt with
 * memledger: only the library is.  Expected exit dump: 8 unfreed blocks of
 * sizeof(entry) + 4096 bytes, from one stack (cache_entry_new <- cache_put
 * <- load_entries); the reindex buffer was freed and is not reported.
 */
#include "cache.h"
#include <stdio.h>
#include <string.h>

static void load_entries(void) {
  static char page[4096];
  for (int i = 0; i < 8; i++) {
    char key[32];
    snprintf(key, sizeof key, "page-%d", i);
    memset(page, 'a' + i, sizeof page);
    cache_put(key, page, sizeof page);
  }
}

int main(void) {
  load_entries();
  printf("cache_app: %zu entries, page-3 starts with '%c'\n", cache_reindex(),
         *(const char *)cache_get("page-3"));
  return 0;
}

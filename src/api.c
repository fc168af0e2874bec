/* SPDX-License-Identifier: MIT */
/*
 * api.c - the public functions of include/memledger.h (layer: front).
 * Thin: each calls into the core.  Not for signal handlers.
 */
#include "../include/memledger.h"
#include "triggers.h"
#include "fmt.h"
#include "track.h"
#include <errno.h>
#include <string.h>

MEMLEDGER_API const char *memledger_version(void) { return MEMLEDGER_VERSION; }

MEMLEDGER_API int memledger_dump(char *path, size_t size) {
  if (!ml_init_maybe()) {
    errno = EAGAIN;
    return -1;
  }
  ml_dump_result_t res;
  if (ml_triggers_api_dump(&res) != 0) {
    errno = res.err;
    return -1;
  }
  if (path && size) ml_strlcpy(path, res.path, size);
  return 0;
}

MEMLEDGER_API int memledger_stats(memledger_stats_t *out) {
  memset(out, 0, sizeof *out);
  if (!ml_init_maybe()) return -1;
  ml_counts_t c;
  ml_guard_enter();
  ml_tables_counts(&ml_core.tables, &c);
  ml_guard_leave();
  out->threshold = ml_gate.threshold;
  out->tracked_allocs = c.allocs;
  out->tracked_frees = c.frees;
  out->live_blocks = c.live;
  out->live_bytes = c.live_bytes;
  out->dropped_records = c.dropped;
  out->stacks = ml_stacks_count(&ml_core.stacks);
  return 0;
}

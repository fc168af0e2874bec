/* SPDX-License-Identifier: MIT */
/*
 * api.c - the public functions of include/memledger.h (layer: front).
 * Thin: each calls into the core.  Not for signal handlers.
 */
#include "../include/memledger.h"
#include "triggers.h"
#include "fmt.h"
#include "log.h"
#include "options.h"
#include "scan.h"
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
  if (ml_triggers_api_dump(ML_TRIGGER_API, &res) != 0) {
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
  ml_track_counts(&c);
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

/* ---- leak checking ---------------------------------------------------------- */

MEMLEDGER_API int memledger_leak_check(memledger_leaks_t *out) {
  memledger_leaks_t mine;
  if (!out) out = &mine;
  memset(out, 0, sizeof *out);
  if (!ml_init_maybe()) {
    out->error = EAGAIN;
    return 0;
  }
  int saved = errno;
  ml_dump_result_t res;
  int rc = ml_triggers_api_dump(ML_TRIGGER_LEAK_CHECK, &res);
  errno = saved;
  if (rc == 0) ml_strlcpy(out->dump, res.path, sizeof out->dump);
  else out->error = res.err ? res.err : EIO;
  if (!res.classified) {
    if (!out->error) out->error = ENODATA;
    return 0;
  }
  out->checked = 1;
  out->definite_blocks = res.kind_blocks[ML_KIND_DEFINITE];
  out->definite_bytes = res.kind_bytes[ML_KIND_DEFINITE];
  out->indirect_blocks = res.kind_blocks[ML_KIND_INDIRECT];
  out->indirect_bytes = res.kind_bytes[ML_KIND_INDIRECT];
  out->possible_blocks = res.kind_blocks[ML_KIND_POSSIBLE];
  out->possible_bytes = res.kind_bytes[ML_KIND_POSSIBLE];
  out->reachable_blocks = res.kind_blocks[ML_KIND_REACHABLE];
  out->reachable_bytes = res.kind_bytes[ML_KIND_REACHABLE];
  bool lost = res.lost != 0;
  if (lost && !ml_option_get(ML_OPT_QUIET))
    ml_info("leak check: definitely lost: %llu bytes in %llu blocks, indirectly lost: %llu "
            "bytes in %llu blocks; dump: %s",
            (unsigned long long)out->definite_bytes, (unsigned long long)out->definite_blocks,
            (unsigned long long)out->indirect_bytes, (unsigned long long)out->indirect_blocks,
            out->dump[0] ? out->dump : "(not written)");
  return lost;
}

MEMLEDGER_API void memledger_ignore_object(const void *p) {
  if (!p || !ml_init_maybe()) return;
  ml_guard_enter();
  int rc = ml_scan_ignore(p);
  ml_guard_leave();
  if (rc < 0) {
    static int once;
    ml_log_once(&once, ML_LOG_WARNING, "memledger_ignore_object: 4096 ignored blocks are "
                "live already: %p is not ignored", p);
  }
}

/* Each level of disable holds a level of the recursion guard, so that the
 * allocation paths skip recording as they do for the tracker's own
 * allocations (nothing is added to them); the free path tells the two
 * apart (track.c, ml_recording). */
MEMLEDGER_API void memledger_disable(void) {
  ml_tls.disabled++;
  ml_guard_enter();
}

MEMLEDGER_API void memledger_enable(void) {
  if (ml_tls.disabled <= 0) {
    static int once;
    ml_log_once(&once, ML_LOG_WARNING, "memledger_enable() without memledger_disable() "
                "on this thread: ignored");
    return;
  }
  ml_guard_leave();
  ml_tls.disabled--;
}

MEMLEDGER_API void memledger_register_root_region(const void *p, size_t size) {
  if (!p || !size || ml_scan_add_root(p, size)) return;
  static int once;
  ml_log_once(&once, ML_LOG_WARNING, "memledger_register_root_region: 256 regions are "
              "registered already: [%p, +%zu) is not a root", p, size);
}

MEMLEDGER_API void memledger_unregister_root_region(const void *p, size_t size) {
  if (!p || !size || ml_scan_remove_root(p, size)) return;
  static int once;
  ml_log_once(&once, ML_LOG_WARNING, "memledger_unregister_root_region: [%p, +%zu) was "
              "not registered", p, size);
}

/* SPDX-License-Identifier: MIT */
/*
 * dump_collect.c - stage 1 of a dump: the unfreed records aggregated per
 * stack (layer: output).  See dump.h.
 *
 * The accumulators (one per stack id) live in scratch memory reserved ahead
 * of time by ml_dump_reserve: at start, and before every snapshot, in the
 * program, so that a snapshot child maps nothing and a dump still works
 * when an address-space limit has been reached.  A reservation that grows
 * installs a new area with a compare-and-swap and never unmaps the old one
 * (a concurrent dump may still use it; their total stays below twice the
 * newest).  In a thread, each arena is locked while its records are
 * aggregated; frozen (a snapshot child), nothing is locked.  No malloc;
 * ml_dump_reserve and the frozen path are async-signal-safe.
 */
#include "dump.h"
#include "prim.h"
#include "res.h"
#include "young.h"
#include "track.h"
#include <errno.h>
#include <string.h>

#define ML_ACC_MIN 4096 /* accumulators reserved at start: 192 KiB */

typedef struct ml_scratch_s {
  size_t cap;    // accumulators
  ml_acc_t acc[];
} ml_scratch_t;

static _Atomic(ml_scratch_t *) ml_scratch;

bool ml_dump_reserve(size_t nstacks) {
  size_t want = nstacks + 1;
  ml_scratch_t *cur = atomic_load_explicit(&ml_scratch, memory_order_acquire);
  if (cur && cur->cap >= want) return true;
  size_t cap = ml_next_pow2(2 * want);
  if (cap < ML_ACC_MIN) cap = ML_ACC_MIN;
  ml_scratch_t *fresh = ml_prim_map(sizeof *fresh + cap * sizeof(ml_acc_t));
  if (!fresh) return false;
  fresh->cap = cap;
  for (;;) {
    if (atomic_compare_exchange_strong(&ml_scratch, &cur, fresh)) return true;
    if (cur && cur->cap >= want) { /* another reservation won: keep it */
      ml_prim_unmap(fresh, sizeof *fresh + cap * sizeof(ml_acc_t));
      return true;
    }
  }
}

typedef struct ml_agg_s {
  ml_acc_t *acc;
  size_t nstacks, cap;
  ml_dump_result_t *res;
  uint64_t usable;
  uint64_t since; // sequence numbers from here on are newer than the previous dump
} ml_agg_t;

/* The accumulator of stack `id`, taking in stacks published since collect
 * began as far as the scratch reaches (id 0 beyond it). */
static ml_acc_t *ml_agg_acc(ml_agg_t *g, uint32_t id) {
  if (ml_unlikely(id > g->nstacks)) {
    /* Interned after collect began (a thread's dump: the other threads
     * run on): take in the stacks published since, as far as reserved. */
    size_t now = ml_stacks_count(&ml_core.stacks);
    if (now > g->cap - 1) now = g->cap - 1;
    if (now > g->nstacks) {
      memset(g->acc + g->nstacks + 1, 0, (now - g->nstacks) * sizeof(ml_acc_t));
      g->nstacks = now;
    }
    if (id > g->nstacks) id = 0; /* beyond the reservation: no stack */
  }
  return &g->acc[id];
}

static void ml_agg_one(const ml_rec_t *r, void *arg) {
  ml_agg_t *g = arg;
  ml_acc_t *a = ml_agg_acc(g, ml_rec_stack(r));
  size_t sz = ml_rec_size(r);
  size_t us = ml_backend.good_size(sz);
  if (!a->blocks || sz < a->min_size) a->min_size = sz;
  if (sz > a->max_size) a->max_size = sz;
  if (!a->blocks || ml_rec_seq(r) < a->oldest_seq) a->oldest_seq = ml_rec_seq(r);
  if (!a->blocks && a != g->acc) g->res->stacks++; /* id 0 is not a stack */
  if (ml_rec_seq(r) >= g->since) {
    a->newer++;
    a->newer_bytes += sz;
  }
  a->blocks++;
  a->bytes += sz;
  a->usable += us;
  g->res->blocks++;
  g->res->bytes += sz;
  g->usable += us;
}

static void ml_agg_res(void *arg, const ml_res_line_t *l) {
  ml_agg_t *g = arg;
  if (l->stack) ml_agg_acc(g, l->stack)->res_refs++;
}

ml_dump_since_t ml_dump_mark(uint64_t now_ns) {
  atomic_fetch_add_explicit(&ml_core.seq_epoch, 1, memory_order_relaxed);
  uint64_t seq = atomic_load_explicit(&ml_core.seq, memory_order_relaxed) + 1;
  ml_dump_since_t prev;
  prev.seq = atomic_exchange(&ml_core.dump_mark_seq, seq);
  prev.ns = atomic_exchange(&ml_core.dump_mark_ns, now_ns);
  return prev;
}

int ml_dump_collect(bool frozen, ml_collect_t *c, ml_dump_result_t *res,
                    const ml_scan_t *scan, uint64_t since_seq) {
  memset(c, 0, sizeof *c);
  c->nstacks = ml_stacks_count(&ml_core.stacks);
  if (!ml_dump_reserve(c->nstacks)) return ENOMEM;
  ml_scratch_t *s = atomic_load_explicit(&ml_scratch, memory_order_acquire);
  c->acc = s->acc;
  memset(c->acc, 0, (c->nstacks + 1) * sizeof(ml_acc_t));
  ml_agg_t g = {c->acc, c->nstacks, s->cap, res, 0, since_seq};
  if (scan) {
    /* The scan's copy: its records are the ones classified. */
    for (size_t i = 0; i < scan->n; i++) ml_agg_one(&scan->recs[i], &g);
    c->n = scan->counts;
    res->pause_ns = scan->lock_ns;
  } else {
    ml_tables_t *t = &ml_core.tables;
    for (unsigned i = 0; i < t->narenas; i++) {
      ml_counts_t n;
      uint64_t t0 = frozen ? 0 : ml_prim_now_ns();
      ml_tables_visit(t, i, frozen, ml_agg_one, &g, &n);
      if (!frozen) {
        uint64_t dt = ml_prim_now_ns() - t0;
        if (dt > res->pause_ns) res->pause_ns = dt;
      }
      ml_counts_add(&c->n, &n);
    }
    ml_young_visit(frozen, ml_agg_one, &g);
    ml_young_counts_add(&c->n);
  }
  /* The stacks that resources refer to are written with the others. */
#define ML_RES_MARK(name, visit, hex) visit(frozen, ml_agg_res, &g);
  ML_RES_SECTIONS(ML_RES_MARK)
#undef ML_RES_MARK
  c->usable = g.usable;
  c->nstacks = g.nstacks;
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * bm_table.c - the unfreed-block tables and the stack table alone
 * (issue #5), on private instances (not the core's), 16 arenas:
 *
 *   table_insert/N   one ml_tables_insert with N records live
 *   table_remove/N   one ml_tables_remove with N records live
 *   table_find/N     one ml_tables_find of a live record (random order)
 *   intern_known/K   ml_stacks_intern of one of K known 20-frame stacks
 *                    (random order: the slot and node are rarely cached)
 *   metadata/N       build a table of N records (and BM_META_STACKS stacks)
 *                    from empty; counters: table bytes per live record
 *                    (budget <= 64, DESIGN.md), the stack table's bytes,
 *                    and both together per record
 *
 * Inserts and removes are timed in chunks of BM_CHUNK operations, the
 * opposite operation of each chunk untimed, so the table stays at N live
 * records (N .. N + BM_CHUNK).  Records are made up; their addresses are
 * 64-byte apart, as small blocks' are.
 */
#include "bm.h"
#include "stacks.h"
#include "table.h"
#include <stdio.h>
#include <stdlib.h>

#define BM_ARENAS 16
#define BM_CHUNK 1024
#define BM_FRAMES 20
#define BM_META_STACKS 2000
#define BM_BASE UINT64_C(0x7f3a00000000)

static uintptr_t bm_addr(uint64_t i) { return (uintptr_t)(BM_BASE + i * 64); }

BM_INLINE uint64_t bm_xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* A table with records 0..n-1 live, made once per n and kept (Google
 * Benchmark calls a case several times while it estimates the iterations;
 * every run leaves the table as it found it). */
static ml_tables_t *bm_table_fill(uint64_t n) {
  static struct {
    uint64_t n;
    ml_tables_t t;
  } cache[4];
  for (int i = 0; i < 4; i++)
    if (cache[i].n == n) return &cache[i].t;
  for (int k = 0; k < 4; k++) {
    if (cache[k].n) continue;
    ml_tables_t *t = &cache[k].t;
    if (ml_tables_init(t, BM_ARENAS, (size_t)n * 4 + 4 * BM_CHUNK)) return NULL;
    for (uint64_t i = 0; i < n; i++) {
      ml_rec_t r = ml_rec_make(bm_addr(i), 64 + (i & 1023), 1, i, 1 + (uint32_t)(i % 1000));
      if (!ml_tables_insert(t, &r)) return NULL;
    }
    cache[k].n = n;
    return t;
  }
  return NULL;
}

typedef enum bm_op_e { BM_INSERT, BM_REMOVE, BM_FIND } bm_op_t;

static void bm_table_run(bm_state *st) {
  bm_op_t op = (bm_op_t)(intptr_t)bm_udata(st);
  uint64_t live = (uint64_t)bm_range(st, 0);
  ml_tables_t *tp = bm_table_fill(live);
  if (!tp) {
    bm_skip_with_error(st, "table setup failed");
    return;
  }
  uint64_t next = live, n, seed = 88172645463325252ull, lost = 0;
  while (bm_keep_running_batch(st, &n)) {
    if (op == BM_FIND) {
      for (uint64_t i = 0; i < n; i++) {
        ml_rec_t r;
        lost += !ml_tables_find(tp, bm_addr(bm_xorshift(&seed) % live), &r);
        bm_clobber_memory();
      }
      continue;
    }
    for (uint64_t done = 0; done < n;) {
      uint64_t c = n - done < BM_CHUNK ? n - done : BM_CHUNK;
      if (op == BM_INSERT) {
        for (uint64_t i = 0; i < c; i++) {
          ml_rec_t r = ml_rec_make(bm_addr(next + i), 4096, 1, next + i, 7);
          lost += !ml_tables_insert(tp, &r);
        }
        bm_pause_timing(st);
        for (uint64_t i = 0; i < c; i++)
          lost += !ml_tables_remove(tp, bm_addr(next + i), NULL);
        bm_resume_timing(st);
      } else {
        bm_pause_timing(st);
        for (uint64_t i = 0; i < c; i++) {
          ml_rec_t r = ml_rec_make(bm_addr(next + i), 4096, 1, next + i, 7);
          lost += !ml_tables_insert(tp, &r);
        }
        bm_resume_timing(st);
        for (uint64_t i = 0; i < c; i++)
          lost += !ml_tables_remove(tp, bm_addr(next + i), NULL);
      }
      next += c;
      done += c;
    }
  }
  bm_set_items_processed(st, (int64_t)bm_iterations(st));
  if (lost) bm_skip_with_error(st, "a record was not stored or not found");
}

static void bm_stack_of(uint64_t k, uintptr_t *frames) {
  for (unsigned i = 0; i < BM_FRAMES; i++) /* return addresses of a typical binary */
    frames[i] = (uintptr_t)(UINT64_C(0x55d0c0de1000) + 0x1a3 * (uint64_t)i * (i + 7) +
                            (k * 0x9e37) % 0x100000);
}

static void bm_intern_run(bm_state *st) {
  uint64_t known = (uint64_t)bm_range(st, 0);
  ml_stacks_t s;
  if (ml_stacks_init(&s, (size_t)known + 16)) {
    bm_skip_with_error(st, "ml_stacks_init failed");
    return;
  }
  uintptr_t(*frames)[BM_FRAMES] = malloc(known * sizeof *frames);
  for (uint64_t k = 0; k < known; k++) {
    bm_stack_of(k, frames[k]);
    (void)ml_stacks_intern(&s, frames[k], BM_FRAMES);
  }
  uint64_t n, seed = 0x853c49e6748fea9bull, bad = 0;
  while (bm_keep_running_batch(st, &n))
    for (uint64_t i = 0; i < n; i++) {
      uint64_t k = bm_xorshift(&seed) % known;
      uint32_t id = ml_stacks_intern(&s, frames[k], BM_FRAMES);
      bad += id != (uint32_t)k + 1; /* interned in order: ids 1.. */
    }
  bm_set_items_processed(st, (int64_t)bm_iterations(st));
  bm_counter_set(st, "stacks", (double)ml_stacks_count(&s), BM_COUNTER_DEFAULT);
  free(frames);
  ml_stacks_destroy(&s);
  if (bad) bm_skip_with_error(st, "interning a known stack gave another id");
}

static void bm_meta_run(bm_state *st) {
  uint64_t live = (uint64_t)bm_range(st, 0);
  double table = 0, stacks = 0;
  while (bm_keep_running(st)) {
    ml_tables_t t;
    ml_stacks_t s;
    if (ml_tables_init(&t, BM_ARENAS, 64ull << 20) || ml_stacks_init(&s, 1u << 20)) {
      bm_skip_with_error(st, "init failed");
      return;
    }
    uintptr_t frames[BM_FRAMES];
    for (uint64_t i = 0; i < live; i++) {
      bm_stack_of(i % BM_META_STACKS, frames);
      uint32_t id = ml_stacks_intern(&s, frames, BM_FRAMES);
      ml_rec_t r = ml_rec_make(bm_addr(i), 4096, 1, i, id);
      (void)ml_tables_insert(&t, &r);
    }
    ml_counts_t c;
    ml_tables_counts(&t, &c);
    table = (double)ml_tables_metadata_bytes(&t);
    stacks = (double)s.mapped;
    if (c.live != live) bm_skip_with_error(st, "records lost");
    ml_tables_destroy(&t);
    ml_stacks_destroy(&s);
  }
  bm_counter_set(st, "bytes_per_block", table / (double)live, BM_COUNTER_DEFAULT);
  bm_counter_set(st, "stack_bytes", stacks, BM_COUNTER_DEFAULT);
  bm_counter_set(st, "total_per_block", (table + stacks) / (double)live, BM_COUNTER_DEFAULT);
  bm_counter_set(st, "stacks", BM_META_STACKS, BM_COUNTER_DEFAULT);
}

int main(int argc, char **argv) {
  static const int64_t lives[] = {10000, 1000000};
  static const char *names[] = {"table_insert", "table_remove", "table_find"};
  char buf[32];
  snprintf(buf, sizeof buf, "%d", BM_ARENAS);
  bm_add_context("arenas", buf);
  for (int op = 0; op < 3; op++) {
    bm_bench *b = bm_register(names[op], bm_table_run, (void *)(intptr_t)op);
    for (int i = 0; i < 2; i++)
      bm_bench_arg(b, lives[i]);
  }
  bm_bench_arg(bm_bench_arg(bm_register("intern_known", bm_intern_run, NULL), 1000), 100000);
  bm_bench *m = bm_register("metadata", bm_meta_run, NULL);
  for (int i = 0; i < 2; i++)
    bm_bench_arg(m, lives[i]);
  bm_bench_unit(bm_bench_iterations(m, 1), BM_MS);
  return bm_main(argc, argv);
}

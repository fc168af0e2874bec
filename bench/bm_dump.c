/* SPDX-License-Identifier: MIT */
/*
 * bm_dump.c - dumps under load: with N live tracked blocks in the core's
 * tables (made-up records over BM_STACKS interned stacks, inserted
 * directly) and H MiB of real heap (malloc'd and touched, so that a fork
 * has that much to copy the page tables of), while C threads keep
 * allocating and freeing tracked blocks through memledger's front (4 KiB,
 * frame-pointer stacks), thread 0 writes dumps into a temporary
 * MEMLEDGER_DIR, under its recursion guard, one of two ways:
 *   snap:0  in the thread, each arena locked while its records are
 *           aggregated (ml_dump_write: the exit dump's way);
 *   snap:1  from a snapshot child, waited for (ml_triggers_api_dump: the
 *           way memledger_dump() and the dump signal take; the signal's
 *           handler does not wait, so the signalled thread's pause is the
 *           fork alone).
 *
 *   dump/blocks:N/churn:C/heap_mib:H/snap:S   one iteration = one dump
 *                           (wall time: the time to the linked file,
 *                           measured around the call)
 *
 * Counters (the maximum over the run's dumps unless said):
 *   pause_ns       res.pause_ns: snap 0, the longest time one arena was
 *                  locked; snap 1, the fork as the requesting thread saw it
 *   total_ns       res.total_ns: the time to the linked file
 *   ops_during_per_s, ops_idle_per_s  the churners' malloc+free pairs per
 *                  second while dumps ran and between them (throughput)
 *   wait_max_ns    the longest malloc+free pair any allocating thread saw
 *                  while a dump ran; wait_p99_ns its 99th percentile
 *   idle_max_ns    the same outside dumps (the machine's own noise: on a
 *   idle_p99_ns    shared 2-CPU machine a preempted thread waits milliseconds)
 *   file_bytes     size of the dump file
 *   first_pause_ns, first_total_ns  the same of an unmeasured dump made before
 *                  the churners start: the process's first dump at a size
 *                  maps and faults in the dump's scratch memory (cold)
 * Budgets (DESIGN.md): no allocating thread waits more than 1 ms at a time
 * (wait_max_ns; pause_ns is the part the dump's locks are responsible for);
 * a dump of 1 M blocks complete within 2 s (total_ns).
 *
 * The core is started as in the other benchmarks (bm_front_init: no exit
 * dump, no dump signal); only these explicit dumps write files, each
 * removed after it is measured.
 */
#include "bm.h"
#include "bm_front.h"
#include "dump.h"
#include "track.h"
#include "triggers.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BM_STACKS 4000
#define BM_FRAMES 20
#define BM_MAX_CHURN 2
#define BM_BASE UINT64_C(0x3a0000000000) // made-up records: no block is there
#define BM_HBUCKETS 65536                // histogram: 16 ns buckets up to ~1 ms
#define BM_HSHIFT 4

static char bm_dir[] = "/tmp/memledger-bmdump.XXXXXX";
static uint64_t bm_fake; // made-up records in the core's tables right now
static uint32_t bm_stack_ids[BM_STACKS];

static uint64_t bm_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Bring the made-up records to exactly n (they are the lowest indices). */
static int bm_fake_set(uint64_t n) {
  if (!bm_stack_ids[0]) {
    uintptr_t frames[BM_FRAMES];
    for (unsigned k = 0; k < BM_STACKS; k++) {
      for (unsigned i = 0; i < BM_FRAMES; i++)
        frames[i] = (uintptr_t)(UINT64_C(0x55d0c0de1000) + 0x1a3 * (uint64_t)i * (i + 7) +
                                (uint64_t)k * 0x40);
      bm_stack_ids[k] = ml_stacks_intern(&ml_core.stacks, frames, BM_FRAMES);
      if (!bm_stack_ids[k]) return -1;
    }
  }
  for (; bm_fake < n; bm_fake++) {
    uint64_t i = bm_fake;
    ml_rec_t r = ml_rec_make((uintptr_t)(BM_BASE + i * 64), 1024 + (i % 7) * 512, 1, i,
                             bm_stack_ids[(i * 2654435761u) % BM_STACKS]);
    if (!ml_tables_insert(&ml_core.tables, &r)) return -1;
  }
  for (; bm_fake > n; bm_fake--)
    if (!ml_tables_remove(&ml_core.tables, (uintptr_t)(BM_BASE + (bm_fake - 1) * 64), NULL))
      return -1;
  return 0;
}

typedef struct bm_churn_s {
  pthread_t th;
  uint32_t *during, *idle; // histograms
  uint64_t during_max, idle_max, during_n, idle_n;
} bm_churn_t;

static _Atomic int bm_stop, bm_dumping;

static void *bm_churn_main(void *arg) {
  bm_churn_t *c = arg;
  void *(*volatile alloc)(size_t) = bm_ml_malloc;
  void (*volatile release)(void *) = bm_ml_free;
  void *keep[64] = {0};
  unsigned k = 0;
  while (!atomic_load_explicit(&bm_stop, memory_order_relaxed)) {
    int d = atomic_load_explicit(&bm_dumping, memory_order_relaxed);
    uint64_t t0 = bm_now();
    void *p = alloc(4096);
    release(keep[k]); /* a small ring: frees are of older blocks */
    keep[k] = p;
    uint64_t dt = bm_now() - t0;
    k = (k + 1) & 63;
    d |= atomic_load_explicit(&bm_dumping, memory_order_relaxed);
    uint64_t b = dt >> BM_HSHIFT;
    if (b >= BM_HBUCKETS) b = BM_HBUCKETS - 1;
    if (d) {
      c->during[b]++;
      c->during_n++;
      if (dt > c->during_max) c->during_max = dt;
    } else {
      c->idle[b]++;
      c->idle_n++;
      if (dt > c->idle_max) c->idle_max = dt;
    }
  }
  for (unsigned i = 0; i < 64; i++)
    release(keep[i]);
  return NULL;
}

static double bm_p99(uint32_t *h, uint64_t n) {
  if (!n) return 0;
  uint64_t want = n - n / 100, seen = 0;
  for (unsigned b = 0; b < BM_HBUCKETS; b++) {
    seen += h[b];
    if (seen >= want) return (double)((uint64_t)(b + 1) << BM_HSHIFT);
  }
  return (double)((uint64_t)BM_HBUCKETS << BM_HSHIFT);
}

/* H MiB of real heap, touched: what a fork must copy the page tables of. */
static void **bm_heap;
static size_t bm_heap_n;

static void bm_heap_set(size_t mib) {
  for (size_t i = 0; i < bm_heap_n; i++) free(bm_heap[i]);
  free(bm_heap);
  bm_heap = NULL;
  bm_heap_n = mib;
  if (!mib) return;
  bm_heap = calloc(mib, sizeof *bm_heap);
  ml_guard_enter(); /* untracked: the records are the made-up ones */
  for (size_t i = 0; i < mib; i++) {
    bm_heap[i] = malloc(1 << 20);
    if (bm_heap[i]) memset(bm_heap[i], 1, 1 << 20);
  }
  ml_guard_leave();
}

static int bm_one_dump(bool snap, ml_dump_result_t *res) {
  ml_guard_enter();
  int rc = snap ? ml_triggers_api_dump(ML_TRIGGER_API, res) : ml_dump_write(ML_TRIGGER_API, res);
  ml_guard_leave();
  return rc;
}

static void bm_dump_run(bm_state *st) {
  uint64_t blocks = (uint64_t)bm_range(st, 0);
  int churn = (int)bm_range(st, 1);
  size_t heap_mib = (size_t)bm_range(st, 2);
  bool snap = bm_range(st, 3) != 0;
  bm_heap_set(heap_mib);
  if (bm_fake_set(blocks)) {
    bm_skip_with_error(st, "cannot insert the records (MEMLEDGER_MAX_RECORDS?)");
    return;
  }
  bm_front_set_unwind(BM_UNWIND_FP, 0, 0);
  /* A first dump before the churners start (not in the loop): when it is
   * the process's first at this size it maps and faults in the dump's
   * scratch memory, part of it under arena locks. */
  ml_dump_result_t first;
  int frc = bm_one_dump(snap, &first);
  if (frc) {
    bm_skip_with_error(st, "ml_dump_write failed");
    return;
  }
  unlink(first.path);
  bm_churn_t cs[BM_MAX_CHURN];
  size_t hsz = BM_HBUCKETS * sizeof(uint32_t);
  atomic_store(&bm_stop, 0);
  for (int i = 0; i < churn; i++) {
    cs[i] = (bm_churn_t){.during = calloc(1, hsz), .idle = calloc(1, hsz)};
    pthread_create(&cs[i].th, NULL, bm_churn_main, &cs[i]);
  }
  uint64_t pause = 0, total = 0, file = 0, dumped = 0, t_during = 0, t_idle = 0;
  const char *err = NULL;
  while (bm_keep_running(st)) {
    /* Outside dumps for a while (not timed): the churners' baseline. */
    bm_pause_timing(st);
    struct timespec gap = {0, 20 * 1000 * 1000};
    uint64_t g0 = bm_now();
    nanosleep(&gap, NULL);
    t_idle += bm_now() - g0;
    bm_resume_timing(st);
    ml_dump_result_t res;
    uint64_t d0 = bm_now();
    atomic_store(&bm_dumping, 1);
    int rc = bm_one_dump(snap, &res);
    atomic_store(&bm_dumping, 0);
    t_during += bm_now() - d0;
    bm_pause_timing(st);
    if (rc) {
      err = "ml_dump_write failed";
    } else {
      struct stat sb;
      if (stat(res.path, &sb) == 0) file = (uint64_t)sb.st_size;
      unlink(res.path);
      if (res.blocks < blocks) err = "the dump has fewer blocks than are live";
      if (res.pause_ns > pause) pause = res.pause_ns;
      if (res.total_ns > total) total = res.total_ns;
      dumped = res.blocks;
    }
    bm_resume_timing(st);
    if (err) break;
  }
  atomic_store(&bm_stop, 1);
  uint64_t wmax = 0, imax = 0, wn = 0, in = 0;
  uint32_t *wh = calloc(1, hsz), *ih = calloc(1, hsz);
  for (int i = 0; i < churn; i++) {
    pthread_join(cs[i].th, NULL);
    for (unsigned b = 0; b < BM_HBUCKETS; b++) {
      wh[b] += cs[i].during[b];
      ih[b] += cs[i].idle[b];
    }
    wn += cs[i].during_n;
    in += cs[i].idle_n;
    if (cs[i].during_max > wmax) wmax = cs[i].during_max;
    if (cs[i].idle_max > imax) imax = cs[i].idle_max;
    free(cs[i].during);
    free(cs[i].idle);
  }
  if (err) {
    bm_skip_with_error(st, err);
  } else {
    bm_counter_set(st, "pause_ns", (double)pause, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "total_ns", (double)total, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "wait_max_ns", (double)wmax, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "wait_p99_ns", bm_p99(wh, wn), BM_COUNTER_DEFAULT);
    bm_counter_set(st, "idle_max_ns", (double)imax, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "idle_p99_ns", bm_p99(ih, in), BM_COUNTER_DEFAULT);
    bm_counter_set(st, "wait_ops", (double)wn, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "ops_during_per_s", t_during ? (double)wn * 1e9 / (double)t_during : 0,
                   BM_COUNTER_DEFAULT);
    bm_counter_set(st, "ops_idle_per_s", t_idle ? (double)in * 1e9 / (double)t_idle : 0,
                   BM_COUNTER_DEFAULT);
    bm_counter_set(st, "first_pause_ns", (double)first.pause_ns, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "first_total_ns", (double)first.total_ns, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "file_bytes", (double)file, BM_COUNTER_DEFAULT);
    bm_counter_set(st, "blocks", (double)dumped, BM_COUNTER_DEFAULT);
  }
  free(wh);
  free(ih);
}

static void bm_cleanup(void) {
  bm_fake_set(0);
  bm_heap_set(0);
  rmdir(bm_dir);
}

int main(int argc, char **argv) {
  if (!mkdtemp(bm_dir)) {
    perror("bm_dump: mkdtemp");
    return 1;
  }
  setenv("MEMLEDGER_DIR", bm_dir, 1); /* read by ml_init_process */
  if (bm_front_init()) return 1;
  atexit(bm_cleanup);
  bm_add_context("jemalloc", bm_front_jemalloc_version());
  bm_add_context("dump_dir", bm_dir);
  /* 100 k blocks with 100 MiB of heap, 1 M with 1 GiB; each way. */
  static const int64_t blocks[] = {100000, 1000000}, heap[] = {100, 1024};
  bm_bench *b = bm_register("dump", bm_dump_run, NULL);
  for (int snap = 0; snap <= 1; snap++)
    for (int i = 0; i < 2; i++)
      for (int c = 1; c <= BM_MAX_CHURN; c++) {
        int64_t a[4] = {blocks[i], c, heap[i], snap};
        bm_bench_args(b, a, 4);
      }
  bm_bench_use_real_time(bm_bench_unit(bm_bench_iterations(b, 5), BM_MS));
  return bm_main(argc, argv);
}

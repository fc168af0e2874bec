/* SPDX-License-Identifier: MIT */
/*
 * fmt_driver.c - runs the jeprof, pprof and html formats (tools/report_*.c)
 * on reports built without the symbolizer or the report builder, so that
 * tests/tools-formats/ checks the formats alone.
 *
 *   fmt_driver [options] FORMAT OUT     a hand-made report (see sample())
 *   fmt_driver [options] --dump FILE FORMAT OUT
 *                                       a real dump, read by the
 *                                       command's reader, not symbolized
 * FORMAT: jeprof, pprof or html.  Options: --weight count, --top N,
 * --title T, --empty (no stacks at all), --many N (N more stacks, each with
 * a function of its own: grows the formats' tables).  Exit status 0, or 1
 * with a message.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

// ---- the hand-made report ---------------------------------------------------
/* Addresses: the program at 0x555500000000, libc at 0x7f0000000000,
 * libnoid.so (no build id, no symbols) at 0x7f1000000000. */
#define EXE 0x555500000000ull
#define LIBC 0x7f0000000000ull
#define NOID 0x7f1000000000ull

static mlr_kv_t header[] = {
    {"pid", "4242"}, {"ppid", "1"}, {"exe", "/opt/demo/bin/server"},
    {"cmdline", "/opt/demo/bin/server --port 80"}, {"time", "2026-11-22T22:40:02.131Z"},
    {"unix_time_ns", "1795387202131082517"}, {"trigger", "signal"}, {"sequence", "3"},
    {"threshold", "1024"}, {"unwind", "libunwind"}, {"max_frames", "32"},
};
static mlr_kv_t totals[] = {{"tracked_allocs", "100"}, {"dropped_records", "0"},
                            {"stack_table_full", "2"}, {"unwind_failures", "0"}};
static mlr_kv_t resources[] = {{"VmRSS", "12345 kB"}, {"VmHWM", "23456 kB"}, {"threads", "3"}};
static mlr_module_t modules[] = {
    {LIBC, LIBC + 0x1d0000, LIBC, "0123456789abcdef0123456789abcdef01234567",
     "/lib/x86_64-linux-gnu/libc.so.6"},
    {EXE, EXE + 0x10000, EXE, "aabbccddeeff00112233445566778899aabbccdd", "/opt/demo/bin/server"},
    {NOID, NOID + 0x4000, NOID, NULL, "/opt/demo/lib/libnoid.so"},
    {0x7fff00000000ull, 0x7fff00002000ull, 0x7fff00000000ull, "feed", "linux-vdso.so.1"},
};

/* Stack 1: make_session_cache with an inlined helper, called from main. */
static uint64_t raw1[] = {EXE + 0x1211, EXE + 0x10a3, LIBC + 0x2724a};
static mlr_frame_t fr1[] = {
    {EXE + 0x1211, 1, 0x1211, "cache_alloc", "/src/demo/cache.h", 12, true, NULL},
    {EXE + 0x1211, 1, 0x1211, "make_session_cache", "/src/demo/server.c", 30, false, NULL},
    {EXE + 0x10a3, 1, 0x10a3, "main", "/src/demo/server.c", 88, false, NULL},
    {LIBC + 0x2724a, 0, 0x2724a, "__libc_start_call_main", NULL, 0, false, NULL},
};
/* Stack 2: load_config, called from the same place in main. */
static uint64_t raw2[] = {EXE + 0x1300, EXE + 0x10a3, LIBC + 0x2724a};
static mlr_frame_t fr2[] = {
    {EXE + 0x1300, 1, 0x1300, "load_config", "/src/demo/config.c", 41, false, NULL},
    {EXE + 0x10a3, 1, 0x10a3, "main", "/src/demo/server.c", 88, false, NULL},
    {LIBC + 0x2724a, 0, 0x2724a, "__libc_start_call_main", NULL, 0, false, NULL},
};
/* Stack 3: a module without symbols, an address outside every module, and a
 * name that must be escaped in HTML and JSON. */
static uint64_t raw3[] = {NOID + 0x1a2b, 0x1234, EXE + 0x1400};
static mlr_frame_t fr3[] = {
    {NOID + 0x1a2b, 2, 0x1a2b, NULL, NULL, 0, false, "no symbols"},
    {0x1234, -1, 0x1234, NULL, NULL, 0, false, "no module"},
    {EXE + 0x1400, 1, 0x1400, "tricky<int></script><!--&\"'", "/src/demo/t.cc", 7, false, NULL},
};
/* Suppressed: one stack from libc. */
static uint64_t raw5[] = {LIBC + 0x9000};
static mlr_frame_t fr5[] = {{LIBC + 0x9000, 0, 0x9000, "_dl_allocate_tls", NULL, 0, false, NULL}};

static mlr_stack_t stacks[] = {
    {1, 3, raw1, 3, 12288, 12288, 4096, 4096, 1, 4, fr1, NULL},
    {2, 3, raw2, 1, 10000, 10240, 10000, 10000, 4, 3, fr2, NULL},
    {3, 3, raw3, 2, 3000, 4096, 1000, 2000, 7, 3, fr3, NULL},
    {0, 0, NULL, 2, 4096, 4096, 2048, 2048, 9, 0, NULL, NULL},
    {5, 1, raw5, 1, 2048, 2048, 2048, 2048, 2, 1, fr5, "glibc-tls"},
};

static mlr_dump_t sample_dump = {
    .path = "/tmp/memledger.4242.3.dump", .version = 1,
    .unfreed_blocks = 9, .unfreed_bytes = 31432, .usable_bytes = 32768,
    .nheader = sizeof header / sizeof *header, .header = header,
    .ntotals = sizeof totals / sizeof *totals, .totals = totals,
    .nresources = sizeof resources / sizeof *resources, .resources = resources,
    .nmodules = sizeof modules / sizeof *modules, .modules = modules,
    .nstacks = sizeof stacks / sizeof *stacks, .stacks = stacks,
};

/* N stacks "many_<i>" <- main <- __libc_start_call_main, sizes 2048 + i. */
static void *many_mem[4]; // freed by main

static void add_many(mlr_dump_t *d, size_t n) {
  mlr_stack_t *st = many_mem[0] = calloc(d->nstacks + n, sizeof *st);
  mlr_frame_t *fr = many_mem[1] = calloc(n * 3, sizeof *fr);
  uint64_t *raw = many_mem[2] = calloc(n * 3, sizeof *raw);
  char *names = many_mem[3] = calloc(n, 32);
  if (!st || !fr || !raw || !names) abort();
  memcpy(st, d->stacks, d->nstacks * sizeof *st);
  for (size_t i = 0; i < n; i++) {
    uint64_t *r = raw + i * 3;
    mlr_frame_t *f = fr + i * 3;
    char *name = names + i * 32;
    snprintf(name, 32, "many_%zu", i);
    r[0] = EXE + 0x2000 + i * 16, r[1] = EXE + 0x10a3, r[2] = LIBC + 0x2724a;
    f[0] = (mlr_frame_t){r[0], 1, r[0] - EXE, name, "/src/demo/many.c", (unsigned)i + 1, false, NULL};
    f[1] = fr1[2];
    f[2] = fr1[3];
    st[d->nstacks + i] = (mlr_stack_t){(uint32_t)(100 + i), 3, r, 1, 2048 + i, 4096, 2048 + i,
                                       2048 + i, 100 + i, 3, f, NULL};
  }
  d->stacks = st;
  d->nstacks += n;
}

// ---- main ----------------------------------------------------------------------
static int by_bytes(const void *a, const void *b) {
  const mlr_stack_t *x = *(mlr_stack_t *const *)a, *y = *(mlr_stack_t *const *)b;
  return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : (x->id > y->id) - (x->id < y->id);
}

static int usage(void) {
  fprintf(stderr, "usage: fmt_driver [--weight count] [--top N] [--title T] [--empty] "
                  "[--dump FILE] jeprof|pprof|html OUT\n");
  return 1;
}

int main(int argc, char **argv) {
  mlr_report_t r = {.sort = MLR_SORT_BYTES, .weight = MLR_WEIGHT_BYTES};
  mlr_format_opts_t o = {0};
  const char *dump = NULL;
  bool empty = false;
  size_t many = 0;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--weight") == 0 && i + 1 < argc) r.weight = strcmp(argv[++i], "count") == 0 ? MLR_WEIGHT_COUNT : MLR_WEIGHT_BYTES;
    else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) r.top = strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc) o.title = argv[++i];
    else if (strcmp(argv[i], "--html-rows") == 0 && i + 1 < argc) {
      o.html_rows = strtoul(argv[++i], NULL, 10);
      if (!o.html_rows) o.html_rows = SIZE_MAX;
    }
    else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) dump = argv[++i];
    else if (strcmp(argv[i], "--empty") == 0) empty = true;
    else if (strcmp(argv[i], "--many") == 0 && i + 1 < argc) many = strtoul(argv[++i], NULL, 10);
    else return usage();
  }
  if (argc - i != 2) return usage();
  const char *format = argv[i], *outpath = argv[i + 1];

  mlr_dump_t real;
  mlr_dump_t *d = &sample_dump;
  if (dump) {
    mlr_err_t rerr;
    if (mlr_dump_read(dump, &real, &rerr) < 0) {
      fprintf(stderr, "fmt_driver: %s\n", rerr.msg);
      return 1;
    }
    d = &real;
  }
  if (many) add_many(d, many);
  r.dump = d;
  r.shown = calloc(d->nstacks + 1, sizeof *r.shown);
  r.suppressed = calloc(d->nstacks + 1, sizeof *r.suppressed);
  for (size_t k = 0; k < d->nstacks && !empty; k++) {
    mlr_stack_t *s = &d->stacks[k];
    if (s->suppressed_by) {
      r.suppressed[r.nsuppressed++] = s;
      r.suppressed_blocks += s->blocks, r.suppressed_bytes += s->bytes;
    } else {
      r.shown[r.nshown++] = s;
      r.shown_blocks += s->blocks, r.shown_bytes += s->bytes;
    }
  }
  qsort(r.shown, r.nshown, sizeof *r.shown, by_bytes);

  FILE *out = strcmp(outpath, "-") == 0 ? stdout : fopen(outpath, "w");
  if (!out) {
    perror(outpath);
    return 1;
  }
  mlr_err_t err = {{0}};
  int rc;
  if (strcmp(format, "jeprof") == 0) rc = mlr_format_jeprof(out, &r, &o, &err);
  else if (strcmp(format, "pprof") == 0) rc = mlr_format_pprof(out, &r, &o, &err);
  else if (strcmp(format, "html") == 0) rc = mlr_format_html(out, &r, &o, &err);
  else return usage();
  free(r.shown);
  free(r.suppressed);
  if (dump) mlr_dump_free(&real);
  for (size_t k = 0; k < sizeof many_mem / sizeof *many_mem; k++) free(many_mem[k]);
  if (rc < 0) {
    fprintf(stderr, "fmt_driver: %s\n", err.msg);
    return 1;
  }
  if (out != stdout && fclose(out) != 0) {
    perror(outpath);
    return 1;
  }
  return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * test_dump.c - unit tests for dump.c against doc/dump-format.md: with a
 * fake backend (good_size rounds up to 16, no mallctl) and records put into
 * the core's tables directly (exact sizes, sequence numbers and stacks) or
 * through ml_track_alloc, ml_dump_write(ML_TRIGGER_API) is called under the
 * recursion guard, as the dumper does, into a fresh mkdtemp directory per
 * test.  Checked: one file named memledger.<pid>.<n>.dump and no .tmp left;
 * the first three lines; the section order; [header] and [totals] values;
 * [stacks] (only referenced stacks) and [unfreed] aggregated per stack
 * (count, bytes, usable, min, max, oldest sequence) and their sums; stack
 * id 0; sequence numbers across dumps; an existing file is never replaced
 * (and the header names the file's sequence); many records; and a dump
 * directory that cannot be written (ENOTDIR, under a regular file, since
 * tests may run as root) fails with one error line, even twice, and leaves
 * no file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ml_test.h"

#include "dump.h"
#include "log.h"
#include "options.h"
#include "track.h"
#include "young.h"

extern char **environ;

/* ---- the fake backend ----------------------------------------------------- */

static size_t ml_test_usable_size(void *p) {
  (void)p;
  return 4096;
}

static size_t ml_test_good_size(size_t n) { return (n + 15) & ~(size_t)15; }

const ml_backend_t ml_backend = {ml_test_usable_size, ml_test_good_size, NULL};

/* ---- fixtures ------------------------------------------------------------- */

#define ML_TEST_BASE ((uintptr_t)0x600000000000)

static char ml_test_dir[64];
static char ml_test_name[256]; /* ml_test_dump_name's result */
static int ml_test_pipe[2] = {-1, -1};
static char ml_test_log[65536];

/* Point MEMLEDGER_DIR at dir (options are read once: reset and reload). */
static void ml_test_set_dir(const char *dir) {
  assert_int_equal(setenv("MEMLEDGER_DIR", dir, 1), 0);
  ml_options_reset();
  assert_true(ml_options_load() >= 0);
  assert_string_equal(ml_option_str(ML_OPT_DIR), dir);
}

/* Everything logged since the previous call. */
static const char *ml_test_logged(void) {
  size_t len = 0;
  ssize_t n;
  while (len < sizeof ml_test_log - 1 &&
         (n = read(ml_test_pipe[0], ml_test_log + len, sizeof ml_test_log - 1 - len)) > 0)
    len += (size_t)n;
  ml_test_log[len] = '\0';
  return ml_test_log;
}

static int ml_test_group_setup(void **state) {
  (void)state;
  ml_test_clear_env();
  setenv("MEMLEDGER_MIN_SIZE", "1000", 1);
  setenv("MEMLEDGER_ARENAS", "4", 1);
  setenv("MEMLEDGER_UNWIND", "fp", 1);
  /* The records here are made up (no blocks behind them): no leak scan,
   * every [unfreed] line says kind "-" (scan: tests/integration/kinds.sh). */
  setenv("MEMLEDGER_LEAK_SCAN", "0", 1);
  ml_options_reset();
  if (!ml_init_maybe()) return -1;
  if (pipe(ml_test_pipe) != 0) return -1;
  fcntl(ml_test_pipe[0], F_SETFL, O_NONBLOCK);
  ml_log_reset();
  ml_log_set_fd(ml_test_pipe[1]);
  ml_log_set_max(-1);
  return 0;
}

static int ml_test_group_teardown(void **state) {
  (void)state;
  ml_log_set_fd(2);
  close(ml_test_pipe[0]);
  close(ml_test_pipe[1]);
  ml_test_clear_env();
  return 0;
}

/* A fresh dump directory, empty tables and stacks, dump numbering from 1. */
static int ml_test_setup(void **state) {
  (void)state;
  strcpy(ml_test_dir, "/tmp/ml-test-dump-XXXXXX");
  if (!mkdtemp(ml_test_dir)) return -1;
  ml_test_set_dir(ml_test_dir);
  ml_tables_destroy(&ml_core.tables);
  ml_young_clear();
  if (ml_tables_init(&ml_core.tables, 4, 1 << 20) != 0) return -1;
  ml_stacks_destroy(&ml_core.stacks);
  if (ml_stacks_init(&ml_core.stacks, 1 << 20) != 0) return -1;
  ml_core.empty_stack = 0;
  ml_dump_after_fork_child(); /* the numbering (and the lock) start again */
  ml_test_logged();
  return 0;
}

/* Remove the directory and what the test left in it (one level deep). */
static int ml_test_teardown(void **state) {
  DIR *d = opendir(ml_test_dir);
  struct dirent *e;
  char path[512];

  (void)state;
  if (d) {
    while ((e = readdir(d)) != NULL) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(path, sizeof path, "%s/%s", ml_test_dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(ml_test_dir);
  return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* Dump the way the dumper thread does: under the recursion guard. */
static int ml_test_dump(ml_dump_result_t *res) {
  int rc;
  ml_guard_enter();
  rc = ml_dump_write(ML_TRIGGER_API, res);
  ml_guard_leave();
  return rc;
}

/* Record a block directly: the address is derived from a counter. */
static void ml_test_add(uint32_t stack, size_t size, uint64_t seq) {
  static size_t next;
  ml_rec_t r = ml_rec_make(ML_TEST_BASE + (++next) * 4096, size, 1, seq, stack);
  assert_true(ml_tables_insert(&ml_core.tables, &r));
}

static uint32_t ml_test_stack(uintptr_t f0, uintptr_t f1, unsigned n) {
  uintptr_t f[2] = {f0, f1};
  uint32_t id = ml_stacks_intern(&ml_core.stacks, f, n);
  assert_int_not_equal(id, 0);
  return id;
}

/* Name of dump n of this process. */
static const char *ml_test_dump_name(unsigned n) {
  snprintf(ml_test_name, sizeof ml_test_name, "memledger.%d.%u.dump", (int)getpid(), n);
  return ml_test_name;
}

/* The whole file dir/name, NUL-terminated (free it). */
static char *ml_test_read(const char *name) {
  char path[4096];
  struct stat st;
  char *buf;
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", ml_test_dir, name);
  f = fopen(path, "r");
  assert_non_null(f);
  assert_int_equal(fstat(fileno(f), &st), 0);
  buf = malloc((size_t)st.st_size + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
  buf[st.st_size] = '\0';
  fclose(f);
  return buf;
}

/* The directory's entries, sorted, joined by spaces ("" when empty). */
static const char *ml_test_listing(const char *dir) {
  static char out[4096];
  char names[32][256];
  size_t n = 0, len = 0;
  DIR *d = opendir(dir);
  struct dirent *e;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL && n < 32)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      snprintf(names[n++], sizeof names[0], "%s", e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
  out[0] = '\0';
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? " " : "", names[i]);
  return out;
}

/* Line n (from 1) of text, without its newline ("" past the end). */
static const char *ml_test_line(const char *text, unsigned n) {
  static char line[4096];
  const char *p = text, *e;
  for (unsigned k = 1; k < n && p; k++) {
    p = strchr(p, '\n');
    if (p) p++;
  }
  if (!p || !*p) return "";
  e = strchr(p, '\n');
  snprintf(line, sizeof line, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
  return line;
}

/* The lines of a section (between "[name]\n" and the next "[" line), in a
 * static buffer; fails when the section is missing. */
static const char *ml_test_section(const char *text, const char *name) {
  static char body[1 << 20];
  char head[64];
  const char *p, *e;

  snprintf(head, sizeof head, "\n%s\n", name);
  p = strstr(text, head);
  if (!p) fail_msg("no %s section", name);
  p += strlen(head);
  if (*p == '[') return ""; /* empty: the next section follows at once */
  e = strstr(p, "\n[");
  e = e ? e + 1 : p + strlen(p);
  snprintf(body, sizeof body, "%.*s", (int)(e - p), p);
  return body;
}

/* The value of "key: value" in a section body. */
static const char *ml_test_value(const char *body, const char *key) {
  static char val[4096];
  char k[128];
  const char *p, *e;

  snprintf(k, sizeof k, "%s: ", key);
  for (p = body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, k, strlen(k)) == 0) {
      p += strlen(k);
      e = strchr(p, '\n');
      snprintf(val, sizeof val, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
      return val;
    }
  fail_msg("no key %s", key);
  return "";
}

/* Three stacks with blocks and one without:
 *   stack 1 (2 frames): 1000 @ seq 5, 3000 @ 2, 2000 @ 9
 *   stack 2 (1 frame):  4096 @ 7
 *   stack 3 (2 frames): 1500 @ 11, 1500 @ 12
 *   stack 4:            interned, no blocks
 * 6 blocks, 13096 bytes; usable 1008+3008+2000 + 4096 + 1504*2 = 13120. */
static void ml_test_add_standard(void) {
  uint32_t s1 = ml_test_stack(0x401000, 0x402000, 2);
  uint32_t s2 = ml_test_stack(0x403000, 0, 1);
  uint32_t s3 = ml_test_stack(0x404abc, 0x7f0000405def, 2);
  uint32_t s4 = ml_test_stack(0x406000, 0, 1);
  assert_int_equal(s1, 1);
  assert_int_equal(s2, 2);
  assert_int_equal(s3, 3);
  assert_int_equal(s4, 4);
  ml_test_add(s1, 1000, 5);
  ml_test_add(s2, 4096, 7);
  ml_test_add(s1, 3000, 2);
  ml_test_add(s3, 1500, 11);
  ml_test_add(s1, 2000, 9);
  ml_test_add(s3, 1500, 12);
}

/* ---- the file --------------------------------------------------------------- */

static void test_dump_writes_one_complete_file(void **state) {
  ml_dump_result_t res;
  char want[4096];
  char *text;

  (void)state;
  ml_test_add_standard();
  memset(&res, 0xa5, sizeof res);
  assert_int_equal(ml_test_dump(&res), 0);
  assert_int_equal(res.err, 0);
  assert_int_equal(res.blocks, 6);
  assert_int_equal(res.bytes, 13096);
  assert_int_equal(res.stacks, 3);
  assert_true(res.total_ns > 0);
  snprintf(want, sizeof want, "%s/%s", ml_test_dir, ml_test_dump_name(1));
  assert_string_equal(res.path, want);
  /* exactly that file: no temporary left behind */
  assert_string_equal(ml_test_listing(ml_test_dir), ml_test_dump_name(1));

  text = ml_test_read(ml_test_dump_name(1));
  assert_string_equal(ml_test_line(text, 1), "memledger-dump 2");
  assert_string_equal(ml_test_line(text, 2), "unfreed: 6 blocks, 13096 bytes");
  assert_string_equal(ml_test_line(text, 3), "usable: 13120 bytes");
  assert_string_equal(ml_test_line(text, 4), "[header]");
  /* the sections, in order, each once; [end] is the last line */
  {
    static const char *const order[] = {"[header]",  "[totals]", "[resources]",
                                        "[modules]", "[stacks]", "[unfreed]",
                                        "[end]"};
    const char *prev = text;
    for (size_t i = 0; i < ML_ARRAY_SIZE(order); i++) {
      char head[32];
      const char *at;
      snprintf(head, sizeof head, "\n%s\n", order[i]);
      at = strstr(text, head);
      assert_non_null(at);
      assert_true(at > prev);
      assert_null(strstr(at + 1, head)); /* once */
      prev = at;
    }
    assert_string_equal(prev, "\n[end]\n");
  }
  assert_null(strchr(text, '\t'));
  free(text);
  assert_string_equal(ml_test_logged(), ""); /* nothing to say */
}

static void test_dump_unfreed_aggregates_per_stack(void **state) {
  ml_dump_result_t res;
  char *text;

  (void)state;
  ml_test_add_standard();
  assert_int_equal(ml_test_dump(&res), 0);
  text = ml_test_read(ml_test_dump_name(1));
  /* id blocks bytes usable smallest largest oldest-seq */
  assert_string_equal(ml_test_section(text, "[unfreed]"), "1 3 6000 6016 1000 3000 2 -\n"
                                                          "2 1 4096 4096 4096 4096 7 -\n"
                                                          "3 2 3000 3008 1500 1500 11 -\n");
  /* only referenced stacks, frames in lower-case hex */
  assert_string_equal(ml_test_section(text, "[stacks]"), "1 2 401000 402000\n"
                                                         "2 1 403000\n"
                                                         "3 2 404abc 7f0000405def\n");
  free(text);
}

static void test_dump_stack_zero_collects_uninterned(void **state) {
  ml_dump_result_t res;
  char *text;

  (void)state;
  ml_test_add(ml_test_stack(0x401000, 0, 1), 2048, 3);
  ml_test_add(0, 5000, 20);
  ml_test_add(0, 1200, 30);
  assert_int_equal(ml_test_dump(&res), 0);
  assert_int_equal(res.blocks, 3);
  assert_int_equal(res.bytes, 8248);
  text = ml_test_read(ml_test_dump_name(1));
  assert_string_equal(ml_test_line(text, 2), "unfreed: 3 blocks, 8248 bytes");
  assert_string_equal(ml_test_section(text, "[unfreed]"), "0 2 6200 6208 1200 5000 20 -\n"
                                                          "1 1 2048 2048 2048 2048 3 -\n");
  assert_string_equal(ml_test_section(text, "[stacks]"), "1 1 401000\n");
  free(text);
}

static void test_dump_empty_tables(void **state) {
  ml_dump_result_t res;
  char *text;

  (void)state;
  ml_test_stack(0x401000, 0, 1); /* a stack, but no block */
  assert_int_equal(ml_test_dump(&res), 0);
  assert_int_equal(res.blocks, 0);
  assert_int_equal(res.stacks, 0);
  text = ml_test_read(ml_test_dump_name(1));
  assert_string_equal(ml_test_line(text, 2), "unfreed: 0 blocks, 0 bytes");
  assert_string_equal(ml_test_line(text, 3), "usable: 0 bytes");
  assert_string_equal(ml_test_section(text, "[stacks]"), "");
  assert_string_equal(ml_test_section(text, "[unfreed]"), "");
  free(text);
}

static void test_dump_header_and_totals(void **state) {
  ml_dump_result_t res;
  const char *body;
  char *text, num[32];

  (void)state;
  ml_test_add_standard();
  ml_test_add(1, 7000, 40);
  /* one block freed: the totals count it, [unfreed] does not */
  {
    ml_counts_t c;
    ml_rec_t r = {0};
    long n = 0;
    for (unsigned a = 0; a < ml_core.tables.narenas && n == 0; a++) {
      ml_rec_t buf[16];
      n = ml_tables_snapshot(&ml_core.tables, a, buf, 16, &c);
      if (n > 0) r = buf[0];
    }
    assert_true(n > 0);
    assert_true(ml_tables_remove(&ml_core.tables, r.ptr, NULL));
  }
  assert_int_equal(ml_test_dump(&res), 0);
  text = ml_test_read(ml_test_dump_name(1));

  body = ml_test_section(text, "[header]");
  snprintf(num, sizeof num, "%d", (int)getpid());
  assert_string_equal(ml_test_value(body, "pid"), num);
  snprintf(num, sizeof num, "%d", (int)getppid());
  assert_string_equal(ml_test_value(body, "ppid"), num);
  assert_string_equal(ml_test_value(body, "trigger"), "api");
  assert_string_equal(ml_test_value(body, "sequence"), "1");
  assert_string_equal(ml_test_value(body, "threshold"), "1000");
  assert_string_equal(ml_test_value(body, "unwind"), "fp");
  assert_int_equal(strlen(ml_test_value(body, "time")),
                   strlen("2026-11-22T22:40:02.131Z"));
  assert_non_null(strstr(ml_test_value(body, "options"), "min_size=1000 unwind=fp "));
  assert_non_null(strstr(ml_test_value(body, "exe"), "test_dump"));

  body = ml_test_section(text, "[totals]");
  assert_string_equal(ml_test_value(body, "tracked_allocs"), "7");
  assert_string_equal(ml_test_value(body, "tracked_frees"), "1");
  assert_string_equal(ml_test_value(body, "tracked_live_blocks"), "6");
  snprintf(num, sizeof num, "%llu", (unsigned long long)res.bytes);
  assert_string_equal(ml_test_value(body, "tracked_live_bytes"), num);
  assert_string_equal(ml_test_value(body, "tracked_bytes_allocated"), "20096");
  assert_string_equal(ml_test_value(body, "dropped_records"), "0");
  assert_string_equal(ml_test_value(body, "replaced_records"), "0");
  assert_string_equal(ml_test_value(body, "stacks"), "4");
  assert_string_equal(ml_test_value(body, "foreign_frees"), "0");
  assert_string_equal(ml_test_value(body, "shadow_overflows"), "0");
  assert_null(strstr(body, "heap_allocated")); /* no mallctl: no heap_* lines */
  /* [unfreed] sums to the unfreed: line */
  {
    unsigned long long blocks = 0, bytes = 0, b, y;
    char line2[128];
    for (const char *p = ml_test_section(text, "[unfreed]"); *p;
         p = strchr(p, '\n') + 1) {
      assert_int_equal(sscanf(p, "%*u %llu %llu", &b, &y), 2);
      blocks += b;
      bytes += y;
    }
    snprintf(line2, sizeof line2, "unfreed: %llu blocks, %llu bytes", blocks, bytes);
    assert_string_equal(ml_test_line(text, 2), line2);
    assert_int_equal(blocks, 6);
  }
  /* [modules] lists at least this program */
  assert_non_null(strstr(ml_test_section(text, "[modules]"), "test_dump"));
  free(text);
}

/* [module_files]: one line per [modules] object that is a regular file,
 * in the same order, with the size and mtime stat gives now; the same
 * whether the lines were gathered during the [modules] pass or, past the
 * gathering buffer, made by a second pass over the maps. */
extern size_t ml_w_files_cap;
static void test_dump_module_files_match_modules(void **state) {
  (void)state;
  size_t caps[] = {ml_w_files_cap, 100, 0};
  ml_test_add_standard();
  for (unsigned k = 0; k < ML_ARRAY_SIZE(caps); k++) {
    size_t saved = ml_w_files_cap;
    ml_w_files_cap = caps[k];
    ml_dump_result_t res;
    int rc = ml_test_dump(&res);
    ml_w_files_cap = saved;
    assert_int_equal(rc, 0);
    char *text = ml_test_read(ml_test_dump_name(k + 1));
    char *mods = strdup(ml_test_section(text, "[modules]")); /* (one static body) */
    const char *files = ml_test_section(text, "[module_files]");
    char want[8192];
    size_t len = 0;
    unsigned nfiles = 0;
    for (const char *p = mods; *p; p = strchr(p, '\n') + 1) {
      unsigned long lo;
      char path[4096];
      if (sscanf(p, "%lx %*s %*s %*s %4095s", &lo, path) != 2)
        fail_msg("a [modules] line of other fields: %.*s", (int)(strchr(p, '\n') - p), p);
      struct stat st;
      if (path[0] != '/' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      len += (size_t)snprintf(want + len, sizeof want - len, "%lx %llu %llu\n", lo,
                              (unsigned long long)st.st_size,
                              (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                                  (unsigned long long)st.st_mtim.tv_nsec);
      assert_true(len < sizeof want);
      nfiles++;
    }
    assert_true(nfiles >= 3); /* this program, libc, the loader at least */
    if (strcmp(files, want) != 0)
      fail_msg("buffer of %zu bytes: [module_files]\n%s\nwanted\n%s", caps[k], files, want);
    free(mods);
    free(text);
  }
}

/* ---- numbering -------------------------------------------------------------- */

static void test_dump_second_dump_gets_sequence_2(void **state) {
  ml_dump_result_t res;
  char want[512];
  char *text;

  (void)state;
  ml_test_add_standard();
  assert_int_equal(ml_test_dump(&res), 0);
  ml_test_add(2, 1000, 50);
  assert_int_equal(ml_test_dump(&res), 0);
  assert_true(strstr(res.path, ml_test_dump_name(2)) != NULL);
  snprintf(want, sizeof want, "%s ", ml_test_dump_name(1));
  strcat(want, ml_test_dump_name(2));
  assert_string_equal(ml_test_listing(ml_test_dir), want);
  text = ml_test_read(ml_test_dump_name(2));
  assert_string_equal(ml_test_value(ml_test_section(text, "[header]"), "sequence"), "2");
  assert_string_equal(ml_test_line(text, 2), "unfreed: 7 blocks, 14096 bytes");
  free(text);
  /* the first is untouched */
  text = ml_test_read(ml_test_dump_name(1));
  assert_string_equal(ml_test_line(text, 2), "unfreed: 6 blocks, 13096 bytes");
  free(text);
}

/* Dumps 1 and 2, then a file of ours under dump 3's name. */
static void ml_test_take_name_3(void) {
  ml_dump_result_t res;
  char path[4096];
  FILE *f;

  ml_test_add_standard();
  assert_int_equal(ml_test_dump(&res), 0);
  assert_int_equal(ml_test_dump(&res), 0);
  snprintf(path, sizeof path, "%s/%s", ml_test_dir, ml_test_dump_name(3));
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("not a dump\n", f);
  fclose(f);
}

static void test_dump_existing_file_is_never_replaced(void **state) {
  ml_dump_result_t res;
  char want[1024];
  char *text;

  (void)state;
  ml_test_take_name_3();
  assert_int_equal(ml_test_dump(&res), 0);
  assert_int_equal(res.err, 0);
  assert_non_null(strstr(res.path, ml_test_dump_name(4)));
  text = ml_test_read(ml_test_dump_name(3));
  assert_string_equal(text, "not a dump\n"); /* ours, unchanged */
  free(text);
  text = ml_test_read(ml_test_dump_name(4));
  assert_string_equal(ml_test_line(text, 1), "memledger-dump 2");
  assert_non_null(strstr(text, "\n[end]\n"));
  free(text);
  /* and the next dump goes on from there */
  assert_int_equal(ml_test_dump(&res), 0);
  assert_non_null(strstr(res.path, ml_test_dump_name(5)));
  want[0] = '\0';
  for (unsigned n = 1; n <= 5; n++) {
    strcat(want, ml_test_dump_name(n));
    if (n < 5) strcat(want, " ");
  }
  assert_string_equal(ml_test_listing(ml_test_dir), want);
}

/* doc/dump-format.md: "sequence: <n> of the file name". */
static void test_dump_sequence_header_matches_file_name(void **state) {
  ml_dump_result_t res;
  char *text;

  (void)state;
  ml_test_take_name_3();
  assert_int_equal(ml_test_dump(&res), 0);
  assert_non_null(strstr(res.path, ml_test_dump_name(4)));
  text = ml_test_read(ml_test_dump_name(4));
  assert_string_equal(ml_test_value(ml_test_section(text, "[header]"), "sequence"), "4");
  free(text);
}

/* ---- volume, and records from the recorder ---------------------------------- */

static void test_dump_many_records(void **state) {
  enum { N = 30000 };
  ml_dump_result_t res;
  char *text, want[256];
  uint32_t s1 = ml_test_stack(0x401000, 0, 1), s2 = ml_test_stack(0x402000, 0, 1);
  unsigned long long y1 = 0, u1 = 0, y2 = 0, u2 = 0;

  (void)state;
  /* block i: stack 1 when i % 3, else 2; size 1024 + i % 100; seq 100 + i.
   * Far more records than the snapshot's first scratch area holds. */
  for (size_t i = 0; i < N; i++) {
    size_t size = 1024 + i % 100;
    ml_test_add(i % 3 ? s1 : s2, size, 100 + i);
    if (i % 3) {
      y1 += size;
      u1 += (size + 15) & ~(size_t)15;
    } else {
      y2 += size;
      u2 += (size + 15) & ~(size_t)15;
    }
  }
  assert_int_equal(ml_test_dump(&res), 0);
  assert_int_equal(res.blocks, N);
  assert_int_equal(res.bytes, y1 + y2);
  text = ml_test_read(ml_test_dump_name(1));
  snprintf(want, sizeof want,
           "1 20000 %llu %llu 1024 1123 101 -\n2 10000 %llu %llu 1024 1123 100 -\n", y1, u1,
           y2, u2);
  assert_string_equal(ml_test_section(text, "[unfreed]"), want);
  free(text);
}

static volatile size_t ml_test_sink, ml_test_three = 3;

static __attribute__((noipa)) void ml_test_alloc_here(void *p, size_t n) {
  ml_track_alloc(p, n);
  ml_test_sink = 1; /* not a tail call */
}

static __attribute__((noipa)) void ml_test_alloc_there(void *p, size_t n) {
  ml_track_alloc(p, n);
  ml_test_sink = 2;
}

static void test_dump_records_from_track_alloc(void **state) {
  ml_dump_result_t res;
  char *text;
  const char *stacks;
  char want[4096];

  (void)state;
  ml_unwind_set_own_range(0, 0);             /* keep this binary's frames */
  for (size_t k = 0; k < ml_test_three; k++) /* one call site */
    ml_test_alloc_here((void *)(ML_TEST_BASE + (1000 + k) * 4096), 2000 + k);
  ml_test_alloc_there((void *)(ML_TEST_BASE + 2000 * 4096), 5000);
  assert_int_equal(ml_test_dump(&res), 0);
  assert_int_equal(res.blocks, 4);
  assert_int_equal(res.stacks, 2);
  text = ml_test_read(ml_test_dump_name(1));
  {
    ml_rec_t r1, r2;
    assert_true(ml_track_find(ML_TEST_BASE + 1000 * 4096, &r1));
    assert_true(ml_track_find(ML_TEST_BASE + 2000 * 4096, &r2));
    snprintf(want, sizeof want,
             "%u 3 6003 6032 2000 2002 %llu -\n%u 1 5000 5008 5000 5000 %llu -\n",
             ml_rec_stack(&r1), (unsigned long long)ml_rec_seq(&r1), ml_rec_stack(&r2),
             (unsigned long long)ml_rec_seq(&r2));
    assert_true(ml_rec_stack(&r1) < ml_rec_stack(&r2));
    assert_string_equal(ml_test_section(text, "[unfreed]"), want);
    /* each [stacks] line is the interned stack */
    stacks = ml_test_section(text, "[stacks]");
    for (int k = 0; k < 2; k++) {
      const ml_stack_t *st = ml_stacks_get(&ml_core.stacks, ml_rec_stack(k ? &r2 : &r1));
      size_t len = (size_t)snprintf(want, sizeof want, "%u %u", st->id, st->nframes);
      assert_non_null(st);
      assert_true(st->nframes >= 2);
      for (unsigned f = 0; f < st->nframes; f++)
        len += (size_t)snprintf(want + len, sizeof want - len, " %lx",
                                (unsigned long)st->frames[f]);
      assert_string_equal(ml_test_line(stacks, (unsigned)k + 1), want);
    }
  }
  free(text);
}

/* ---- failure ------------------------------------------------------------------ */

static int ml_test_count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

static void test_dump_unwritable_dir_fails_once_and_leaves_no_file(void **state) {
  ml_dump_result_t res;
  char file[128], sub[160];
  const char *out;
  FILE *f;

  (void)state;
  ml_test_add_standard();
  /* a directory below a regular file: ENOTDIR, even for root */
  snprintf(file, sizeof file, "%s/file", ml_test_dir);
  f = fopen(file, "w");
  assert_non_null(f);
  fclose(f);
  snprintf(sub, sizeof sub, "%s/sub", file);
  ml_test_set_dir(sub);

  for (int round = 0; round < 2; round++) {
    memset(&res, 0xa5, sizeof res);
    assert_int_equal(ml_test_dump(&res), -1);
    assert_int_equal(res.err, ENOTDIR);
    assert_string_equal(res.path, "");
  }
  out = ml_test_logged();
  assert_int_equal(ml_test_count(out, "memledger: error: dump failed"), 1);
  assert_int_equal(ml_test_count(out, "\n"), 1);
  assert_non_null(strstr(out, "ENOTDIR"));
  /* nothing written anywhere */
  assert_string_equal(ml_test_listing(ml_test_dir), "file");
  /* the lock was released: a dump to a good directory works */
  ml_test_set_dir(ml_test_dir);
  assert_int_equal(ml_test_dump(&res), 0);
  assert_int_equal(res.blocks, 6);
}

/* ---- main ------------------------------------------------------------------------ */

#define ML_TEST(f) cmocka_unit_test_setup_teardown(f, ml_test_setup, ml_test_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      ML_TEST(test_dump_writes_one_complete_file),
      ML_TEST(test_dump_unfreed_aggregates_per_stack),
      ML_TEST(test_dump_stack_zero_collects_uninterned),
      ML_TEST(test_dump_empty_tables),
      ML_TEST(test_dump_header_and_totals),
      ML_TEST(test_dump_module_files_match_modules),
      ML_TEST(test_dump_second_dump_gets_sequence_2),
      ML_TEST(test_dump_existing_file_is_never_replaced),
      ML_TEST(test_dump_sequence_header_matches_file_name),
      ML_TEST(test_dump_many_records),
      ML_TEST(test_dump_records_from_track_alloc),
      ML_TEST(test_dump_unwritable_dir_fails_once_and_leaves_no_file),
  };
  return cmocka_run_group_tests_name("dump", tests, ml_test_group_setup,
                                     ml_test_group_teardown);
}

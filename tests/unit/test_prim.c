/* SPDX-License-Identifier: MIT */
/*
 * test_prim.c - unit tests for prim_linux.c, each primitive checked against
 * what libc or /proc reports for this test process (environment, descriptors
 * opened by the test, loaded modules and their build ids).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "prim.h"

extern char **environ;

static int ml_test_argc;
static char **ml_test_argv;

static void test_prim_write_all_writes_and_reports_errno(void **state) {
  char out[4096], in[sizeof(out)];
  int p[2];
  (void)state;
  for (size_t i = 0; i < sizeof(out); i++) out[i] = (char)(i * 7);
  assert_int_equal(pipe(p), 0);
  assert_int_equal(ml_prim_write_all(p[1], out, sizeof(out)), 0);
  assert_int_equal(ml_prim_write_all(p[1], out, 0), 0);
  assert_int_equal(read(p[0], in, sizeof(in)), (ssize_t)sizeof(in));
  assert_memory_equal(in, out, sizeof(out));
  close(p[0]);
  close(p[1]);
  assert_int_equal(ml_prim_write_all(p[1], out, 1), EBADF);
}

static void test_prim_getenv_matches_exact_name(void **state) {
  char buf[32];
  (void)state;
  setenv("MEMLEDGER_XY", "long-name", 1);
  unsetenv("MEMLEDGER_X");
  /* MEMLEDGER_X is a prefix of MEMLEDGER_XY but not set itself. */
  assert_int_equal(ml_prim_getenv("MEMLEDGER_X", buf, sizeof(buf)), 0);
  setenv("MEMLEDGER_X", "short", 1);
  assert_int_equal(ml_prim_getenv("MEMLEDGER_X", buf, sizeof(buf)), 1);
  assert_string_equal(buf, "short");
  assert_int_equal(ml_prim_getenv("MEMLEDGER_XY", buf, sizeof(buf)), 1);
  assert_string_equal(buf, "long-name");
  /* A longer name than any variable, and a name that is a prefix of one. */
  assert_int_equal(ml_prim_getenv("MEMLEDGER_XYZ", buf, sizeof(buf)), 0);
  assert_int_equal(ml_prim_getenv("MEMLEDGER_", buf, sizeof(buf)), 0);
  /* Names are case-sensitive. */
  assert_int_equal(ml_prim_getenv("memledger_x", buf, sizeof(buf)), 0);
  unsetenv("MEMLEDGER_X");
  unsetenv("MEMLEDGER_XY");
}

static void test_prim_getenv_truncates_and_handles_empty(void **state) {
  char buf[4];
  (void)state;
  setenv("MEMLEDGER_X", "abcdef", 1);
  assert_int_equal(ml_prim_getenv("MEMLEDGER_X", buf, sizeof(buf)), 1);
  assert_string_equal(buf, "abc");
  assert_int_equal(ml_prim_getenv("MEMLEDGER_X", buf, 1), 1);
  assert_string_equal(buf, "");
  setenv("MEMLEDGER_X", "", 1);
  assert_int_equal(ml_prim_getenv("MEMLEDGER_X", buf, sizeof(buf)), 1);
  assert_string_equal(buf, "");
  unsetenv("MEMLEDGER_X");
}

static void test_prim_getenv_without_environ_returns_minus_one(void **state) {
  char **saved = environ;
  char buf[8];
  (void)state;
  environ = NULL;
  int r1 = ml_prim_getenv("PATH", buf, sizeof(buf));
  int r2 = ml_prim_env_foreach("", NULL, NULL);
  environ = saved;
  assert_int_equal(r1, -1);
  assert_int_equal(r2, -1);
}

typedef struct {
  int n;
  char names[8][32];
  char values[8][32];
} ml_seen_t;

static void ml_collect(const char *name, size_t name_len, const char *value,
                       void *arg) {
  ml_seen_t *s = arg;
  assert_true(s->n < 8 && name_len < 32);
  memcpy(s->names[s->n], name, name_len);
  s->names[s->n][name_len] = '\0';
  snprintf(s->values[s->n], sizeof(s->values[0]), "%s", value);
  s->n++;
}

static const char *ml_seen_value(const ml_seen_t *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0) return s->values[i];
  return NULL;
}

static void test_prim_env_foreach_visits_prefix_only(void **state) {
  ml_seen_t seen = {0};
  (void)state;
  setenv("MLTESTPFX_ONE", "1", 1);
  setenv("MLTESTPFX_TWO", "a=b", 1);
  setenv("MLTESTPF", "not-matched", 1);
  assert_int_equal(ml_prim_env_foreach("MLTESTPFX_", ml_collect, &seen), 2);
  assert_int_equal(seen.n, 2);
  assert_string_equal(ml_seen_value(&seen, "MLTESTPFX_ONE"), "1");
  assert_string_equal(ml_seen_value(&seen, "MLTESTPFX_TWO"), "a=b");
  assert_null(ml_seen_value(&seen, "MLTESTPF"));
  unsetenv("MLTESTPFX_ONE");
  unsetenv("MLTESTPFX_TWO");
  unsetenv("MLTESTPF");
  seen.n = 0;
  assert_int_equal(ml_prim_env_foreach("MLTESTPFX_", ml_collect, &seen), 0);
}

static void test_prim_identity_and_clocks(void **state) {
  struct timespec a, b;
  cpu_set_t set;
  (void)state;
  assert_false(ml_prim_is_secure());
  assert_int_equal(ml_prim_getpid(), getpid());
  assert_int_equal(ml_prim_gettid(), gettid());
  clock_gettime(CLOCK_MONOTONIC, &a);
  uint64_t t1 = ml_prim_now_ns();
  clock_gettime(CLOCK_MONOTONIC, &b);
  assert_true(t1 >= (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec);
  assert_true(t1 <= (uint64_t)b.tv_sec * 1000000000u + (uint64_t)b.tv_nsec);
  uint64_t rt = ml_prim_realtime_ns() / 1000000000u;
  assert_true(rt + 2 >= (uint64_t)time(NULL) && rt <= (uint64_t)time(NULL));
  assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
  assert_int_equal(ml_prim_ncpus(), (unsigned)CPU_COUNT(&set));
}

static void test_prim_map_is_zero_filled_and_writable(void **state) {
  size_t size = 10000, page = (size_t)sysconf(_SC_PAGESIZE);
  size_t rounded = (size + page - 1) / page * page;
  (void)state;
  unsigned char *p = ml_prim_map(size);
  assert_non_null(p);
  for (size_t i = 0; i < rounded; i++) assert_int_equal(p[i], 0);
  memset(p, 0xa5, rounded); /* the whole rounded-up range is ours */
  ml_prim_unmap(p, size);
  /* Failure is NULL, never MAP_FAILED. */
  assert_null(ml_prim_map(SIZE_MAX / 2));
}

static void test_prim_read_file_reads_proc_status(void **state) {
  char buf[8192], small[7];
  (void)state;
  ssize_t n = ml_prim_read_file("/proc/self/status", buf, sizeof(buf));
  assert_true(n > 0 && n < (ssize_t)sizeof(buf));
  assert_int_equal(strlen(buf), (size_t)n);
  assert_non_null(strstr(buf, "VmRSS:"));
  assert_int_equal(ml_prim_read_file("/proc/self/status", small, sizeof(small)),
                   6);
  assert_string_equal(small, "Name:\t");
  assert_int_equal(
      ml_prim_read_file("/nonexistent/memledger", buf, sizeof(buf)), -ENOENT);
  assert_int_equal(ml_prim_read_file("/proc/self", buf, sizeof(buf)), -EISDIR);
}

static void test_prim_fd_counts_sees_pipe_socket_and_files(void **state) {
  ml_fd_counts_t before, during, after;
  int p[2], sv[2], devnull, file, efd;
  (void)state;
  assert_int_equal(ml_prim_fd_counts(&before), 0);
  assert_int_equal(before.total, before.file + before.socket + before.pipe +
                                     before.anon + before.device +
                                     before.other);
  assert_int_equal(pipe(p), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_true((devnull = open("/dev/null", O_RDONLY)) >= 0);
  assert_true((file = open("/proc/self/status", O_RDONLY)) >= 0);
  assert_true((efd = eventfd(0, 0)) >= 0);

  assert_int_equal(ml_prim_fd_counts(&during), 0);
  assert_int_equal(during.total, before.total + 7);
  assert_int_equal(during.pipe, before.pipe + 2);
  assert_int_equal(during.socket, before.socket + 2);
  assert_int_equal(during.device, before.device + 1);
  assert_int_equal(during.file, before.file + 1);
  assert_int_equal(during.anon, before.anon + 1);
  assert_int_equal(during.other, before.other);

  close(p[0]), close(p[1]), close(sv[0]), close(sv[1]);
  close(devnull), close(file), close(efd);
  assert_int_equal(ml_prim_fd_counts(&after), 0);
  assert_memory_equal(&after, &before, sizeof(before));
}

static void test_prim_fd_counts_many_descriptors(void **state) {
  /* More entries than one getdents64 buffer holds (2 KiB, ~24 bytes each). */
  enum { N = 300 };
  static int fds[N];
  ml_fd_counts_t before, during;
  (void)state;
  assert_int_equal(ml_prim_fd_counts(&before), 0);
  for (int i = 0; i < N; i++) assert_true((fds[i] = dup(0)) >= 0);
  assert_int_equal(ml_prim_fd_counts(&during), 0);
  assert_int_equal(during.total, before.total + N);
  for (int i = 0; i < N; i++) close(fds[i]);
}

static void test_prim_exe_path_equals_readlink(void **state) {
  char want[4096], got[4096], tiny[4];
  (void)state;
  ssize_t n = readlink("/proc/self/exe", want, sizeof(want) - 1);
  assert_true(n > 0);
  want[n] = '\0';
  assert_int_equal(ml_prim_exe_path(got, sizeof(got)), n);
  assert_string_equal(got, want);
  assert_int_equal(ml_prim_exe_path(tiny, sizeof(tiny)), -ENAMETOOLONG);
}

static void test_prim_cmdline_joins_argv_with_spaces(void **state) {
  char want[4096] = "", got[4096];
  (void)state;
  for (int i = 0; i < ml_test_argc; i++) {
    if (i > 0) strcat(want, " ");
    strcat(want, ml_test_argv[i]);
  }
  assert_int_equal(ml_prim_cmdline(got, sizeof(got)), (ssize_t)strlen(want));
  assert_string_equal(got, want);
  /* Truncated to the buffer, still terminated. */
  assert_int_equal(ml_prim_cmdline(got, 4), 3);
  assert_memory_equal(got, want, 3);
  assert_int_equal(got[3], '\0');
}

typedef struct {
  int calls;
  uintptr_t main_addr, libc_addr;
  bool saw_main, saw_libc;
  ml_module_t libc;
} ml_mods_t;

static int ml_check_module(const ml_module_t *m, void *arg) {
  ml_mods_t *s = arg;
  s->calls++;
  assert_non_null(m->path);
  if (m->hi == 0) return 0; /* an object without PT_LOAD: nothing to check */
  assert_true(m->lo < m->hi);
  assert_true(m->text_lo < m->text_hi);
  assert_true(m->lo <= m->text_lo && m->text_hi <= m->hi);
  assert_true(m->build_id_len <= sizeof(m->build_id));
  if (s->main_addr >= m->text_lo && s->main_addr < m->text_hi) {
    s->saw_main = true;
    assert_string_equal(m->path, "");
  }
  if (s->libc_addr >= m->text_lo && s->libc_addr < m->text_hi) {
    s->saw_libc = true;
    assert_non_null(strstr(m->path, "libc.so"));
    s->libc = *m;
  }
  return 0;
}

static int ml_stop_at_first(const ml_module_t *m, void *arg) {
  (void)m;
  ++*(int *)arg;
  return 7;
}

/* The note {namesz 4, descsz, type 3, "GNU\0", id} must appear in the file. */
static void ml_assert_build_id_in_file(const char *path, const ml_module_t *m) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  rewind(f);
  char *data = malloc((size_t)size);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
  fclose(f);

  unsigned char note[12 + 4 + sizeof(m->build_id)];
  uint32_t hdr[3] = {4, m->build_id_len, 3};
  memcpy(note, hdr, sizeof(hdr));
  memcpy(note + 12, "GNU", 4);
  memcpy(note + 16, m->build_id, m->build_id_len);
  assert_non_null(memmem(data, (size_t)size, note, 16 + m->build_id_len));
  free(data);
}

static void test_prim_modules_lists_main_and_libc_with_build_id(void **state) {
  ml_mods_t s = {0};
  int calls = 0;
  (void)state;
  s.main_addr = (uintptr_t)&test_prim_modules_lists_main_and_libc_with_build_id;
  s.libc_addr = (uintptr_t)dlsym(RTLD_DEFAULT, "getauxval");
  assert_true(s.libc_addr != 0);
  assert_int_equal(ml_prim_modules(ml_check_module, &s), 0);
  assert_true(s.calls >= 2);
  assert_true(s.saw_main);
  assert_true(s.saw_libc);
  assert_true(s.libc.build_id_len > 0);
  ml_assert_build_id_in_file(s.libc.path, &s.libc);
  /* A non-zero return stops the walk and is passed back. */
  assert_int_equal(ml_prim_modules(ml_stop_at_first, &calls), 7);
  assert_int_equal(calls, 1);
}

/* ml_prim_module_self describes this program (the object the code is
 * linked into) as the maps-based listing does: same range, same base. */
typedef struct ml_self_s {
  uintptr_t addr;
  ml_module_t m;
  int found;
} ml_self_t;

static int ml_find_holder(const ml_module_t *m, void *arg) {
  ml_self_t *a = arg;
  if (a->addr >= m->lo && a->addr < m->hi) {
    a->m = *m;
    a->found++;
  }
  return 0;
}

static void test_prim_module_self_equals_the_maps(void **state) {
  (void)state;
  ml_self_t a = {.addr = (uintptr_t)&test_prim_module_self_equals_the_maps};
  assert_true(ml_prim_modules_maps(ml_find_holder, &a) >= 0);
  assert_int_equal(a.found, 1);
  ml_module_t me;
  ml_prim_module_self(&me);
  assert_true(me.lo <= a.addr && a.addr < me.hi);
  assert_int_equal(me.lo, a.m.lo);
  assert_int_equal(me.hi, a.m.hi);
  assert_int_equal(me.base, a.m.base);
  assert_int_equal(me.text_lo, a.m.text_lo);
  assert_int_equal(me.text_hi, a.m.text_hi);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prim_module_self_equals_the_maps),
      cmocka_unit_test(test_prim_write_all_writes_and_reports_errno),
      cmocka_unit_test(test_prim_getenv_matches_exact_name),
      cmocka_unit_test(test_prim_getenv_truncates_and_handles_empty),
      cmocka_unit_test(test_prim_getenv_without_environ_returns_minus_one),
      cmocka_unit_test(test_prim_env_foreach_visits_prefix_only),
      cmocka_unit_test(test_prim_identity_and_clocks),
      cmocka_unit_test(test_prim_map_is_zero_filled_and_writable),
      cmocka_unit_test(test_prim_read_file_reads_proc_status),
      cmocka_unit_test(test_prim_fd_counts_sees_pipe_socket_and_files),
      cmocka_unit_test(test_prim_fd_counts_many_descriptors),
      cmocka_unit_test(test_prim_exe_path_equals_readlink),
      cmocka_unit_test(test_prim_cmdline_joins_argv_with_spaces),
      cmocka_unit_test(test_prim_modules_lists_main_and_libc_with_build_id),
  };
  ml_test_argc = argc;
  ml_test_argv = argv;
  return cmocka_run_group_tests_name("prim", tests, NULL, NULL);
}

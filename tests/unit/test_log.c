/* SPDX-License-Identifier: MIT */
/*
 * test_log.c - unit tests for log.c.  Output is captured through a pipe
 * (ml_log_set_fd) and compared byte for byte: prefixes, the thread tag,
 * truncation, the cap and its suppressed line, the early buffer and its
 * flush, and the recursion guard (provoked from a signal handler that runs
 * while a message is blocked in write()).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Large enough for everything a test logs (the early buffer is 8 KiB). */
static char ml_out[65536];
static int ml_pipe[2];

static int ml_setup(void **state) {
  (void)state;
  ml_log_reset();
  if (pipe2(ml_pipe, O_CLOEXEC) != 0) return -1;
  fcntl(ml_pipe[0], F_SETFL, O_NONBLOCK);
  ml_log_set_fd(ml_pipe[1]);
  return 0;
}

static int ml_teardown(void **state) {
  (void)state;
  ml_log_reset();
  close(ml_pipe[0]);
  close(ml_pipe[1]);
  return 0;
}

/* Everything written since the last call, NUL-terminated. */
static const char *ml_captured(void) {
  size_t len = 0;
  ssize_t n;

  while ((n = read(ml_pipe[0], ml_out + len, sizeof(ml_out) - 1 - len)) > 0)
    len += (size_t)n;
  assert_true(n < 0 && errno == EAGAIN);
  ml_out[len] = '\0';
  return ml_out;
}

static void test_log_levels_have_their_prefix(void **state) {
  (void)state;
  ml_info("hello %d", 5);
  ml_warning("careful %s", "now");
  ml_error("failed: %s (errno %d)", "ENOENT", 2);
  ml_log(ML_LOG_INFO, "%s", "");
  assert_string_equal(ml_captured(),
                      "memledger: hello 5\n"
                      "memledger: warning: careful now\n"
                      "memledger: error: failed: ENOENT (errno 2)\n"
                      "memledger: \n");
}

static void test_log_adds_newline_only_when_missing(void **state) {
  (void)state;
  ml_info("one\n");
  ml_info("two");
  ml_info("three\n\n");
  assert_string_equal(ml_captured(), "memledger: one\n"
                                     "memledger: two\n"
                                     "memledger: three\n\n");
}

static void test_log_truncates_long_message_keeping_newline(void **state) {
  char longmsg[1000], want[513];
  (void)state;
  memset(longmsg, 'a', sizeof(longmsg) - 1);
  longmsg[sizeof(longmsg) - 1] = '\0';
  ml_warning("%s", longmsg);
  strcpy(want, "memledger: warning: ");
  memset(want + strlen(want), 'a', 511 - strlen(want));
  want[511] = '\n'; /* 512 bytes in all, the newline kept */
  want[512] = '\0';
  assert_string_equal(ml_captured(), want);
}

typedef struct {
  pid_t tid;
  int main_tid; // value for ml_log_set_main_tid before logging, or -1
} ml_thread_arg_t;

static void *ml_log_from_thread(void *p) {
  ml_thread_arg_t *a = p;
  a->tid = (pid_t)syscall(SYS_gettid);
  ml_warning("from thread");
  ml_info("info %d", 1);
  return NULL;
}

static void test_log_thread_tag_for_other_threads(void **state) {
  ml_thread_arg_t a = {0, 0};
  pthread_t t;
  char want[256];
  (void)state;
  ml_log_set_main_tid((int)syscall(SYS_gettid));
  ml_warning("from main");
  assert_int_equal(pthread_create(&t, NULL, ml_log_from_thread, &a), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  snprintf(want, sizeof(want),
           "memledger: warning: from main\n"
           "memledger: warning: thread %d: from thread\n"
           "memledger: thread %d: info 1\n",
           (int)a.tid, (int)a.tid);
  assert_string_equal(ml_captured(), want);

  /* Without a main tid, no thread is tagged. */
  ml_log_set_main_tid(0);
  assert_int_equal(pthread_create(&t, NULL, ml_log_from_thread, &a), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_string_equal(ml_captured(), "memledger: warning: from thread\n"
                                     "memledger: info 1\n");
}

static void test_log_cap_prints_one_suppressed_line(void **state) {
  (void)state;
  ml_log_set_max(3);
  ml_warning("w1");
  ml_error("e2");
  ml_info("info is not counted");
  ml_warning("w3");
  ml_warning("w4");
  ml_error("e5");
  ml_info("info is never capped");
  ml_warning("w6");
  assert_string_equal(ml_captured(), "memledger: warning: w1\n"
                                     "memledger: error: e2\n"
                                     "memledger: info is not counted\n"
                                     "memledger: warning: w3\n"
                                     "memledger: warning: further messages "
                                     "suppressed (MEMLEDGER_MAX_ERRORS=3)\n"
                                     "memledger: info is never capped\n");
}

static void test_log_cap_defaults_to_16(void **state) {
  char want[4096] = "";
  (void)state;
  for (int i = 0; i < 20; i++) ml_warning("w%d", i);
  for (int i = 0; i < 16; i++)
    snprintf(want + strlen(want), sizeof(want) - strlen(want),
             "memledger: warning: w%d\n", i);
  strcat(want, "memledger: warning: further messages suppressed "
               "(MEMLEDGER_MAX_ERRORS=16)\n");
  assert_string_equal(ml_captured(), want);
}

static void test_log_cap_zero_and_unlimited(void **state) {
  (void)state;
  ml_log_set_max(0);
  ml_error("dropped");
  ml_error("dropped too");
  assert_string_equal(ml_captured(), "memledger: warning: further messages "
                                     "suppressed (MEMLEDGER_MAX_ERRORS=0)\n");
  ml_log_reset();
  ml_log_set_fd(ml_pipe[1]);
  ml_log_set_max(-1);
  for (int i = 0; i < 100; i++) ml_warning("x");
  const char *out = ml_captured();
  assert_int_equal(strlen(out), 100 * strlen("memledger: warning: x\n"));
  assert_null(strstr(out, "suppressed"));
}

static void test_log_once_prints_once_per_flag(void **state) {
  static int flag_a, flag_b;
  (void)state;
  ml_log_once(&flag_a, ML_LOG_WARNING, "first %c", 'a');
  ml_log_once(&flag_a, ML_LOG_WARNING, "again %c", 'a');
  ml_log_once(&flag_b, ML_LOG_ERROR, "first %c", 'b');
  assert_int_equal(flag_a, 1);
  assert_string_equal(ml_captured(), "memledger: warning: first a\n"
                                     "memledger: error: first b\n");
}

static void test_log_buffers_until_ready(void **state) {
  (void)state;
  ml_log_unready();
  ml_info("early %d", 1);
  ml_error("early %d", 2);
  assert_string_equal(ml_captured(), "");
  ml_log_ready();
  ml_info("late");
  ml_log_ready(); /* idempotent */
  assert_string_equal(ml_captured(), "memledger: early 1\n"
                                     "memledger: error: early 2\n"
                                     "memledger: late\n");
}

static void test_log_early_overflow_keeps_what_fits(void **state) {
  char msg[100], line[128], want[16384] = "";
  size_t len, kept;
  (void)state;
  memset(msg, 'm', sizeof(msg) - 1);
  msg[sizeof(msg) - 1] = '\0';
  len = (size_t)snprintf(line, sizeof(line), "memledger: %s\n", msg);
  kept = 8192 / len;
  ml_log_unready();
  for (int i = 0; i < 100; i++) ml_info("%s", msg);
  assert_string_equal(ml_captured(), "");
  ml_log_ready();
  for (size_t i = 0; i < kept; i++) strcat(want, line);
  snprintf(want + strlen(want), sizeof(want) - strlen(want),
           "memledger: warning: %zu early message(s) lost (startup buffer "
           "full)\n",
           100 - kept);
  assert_string_equal(ml_captured(), want);
}

static void test_log_reset_restores_defaults(void **state) {
  int saved_stderr, p[2];
  char buf[256];
  ssize_t n;
  (void)state;
  ml_log_set_max(0);
  ml_log_set_main_tid(1); /* not us: every message would be tagged */
  ml_warning("suppressed");
  ml_log_reset();
  /* The default descriptor is 2; capture it for one message. */
  assert_int_equal(pipe(p), 0);
  saved_stderr = dup(2);
  dup2(p[1], 2);
  ml_warning("to stderr");
  dup2(saved_stderr, 2);
  close(saved_stderr);
  close(p[1]);
  n = read(p[0], buf, sizeof(buf) - 1);
  close(p[0]);
  assert_true(n > 0);
  buf[n] = '\0';
  assert_string_equal(buf, "memledger: warning: to stderr\n");
  assert_string_equal(ml_captured(), "memledger: warning: further messages "
                                     "suppressed (MEMLEDGER_MAX_ERRORS=0)\n");
}

/* ---- recursion ----------------------------------------------------------
 * The main thread logs into a full pipe and blocks in write(); a helper sends
 * it SIGUSR1, whose handler logs again on the same thread.  That nested
 * message must be dropped; then the helper drains the pipe. */

#if defined(__SANITIZE_THREAD__)
#define ML_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ML_UNDER_TSAN 1
#endif
#endif
#ifndef ML_UNDER_TSAN
#define ML_UNDER_TSAN 0
#endif

static volatile sig_atomic_t ml_handler_ran;

static void ml_nested_handler(int sig) {
  (void)sig;
  ml_handler_ran = 1; /* first: if the message is not dropped, it blocks */
  ml_error("nested message");
}

typedef struct {
  pthread_t main; // thread to signal
  pid_t main_tid; // its tid, for /proc/self/task/<tid>/syscall
  size_t filled;  // bytes to drain before the message
  int ok;         // 1 when the main thread was seen blocked in write
} ml_helper_t;

/* The system call number tid is blocked in, or -1. */
static long ml_blocked_syscall(pid_t tid) {
  char path[64], buf[64];
  long nr = -1;
  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  if (fgets(buf, sizeof(buf), f) != NULL && buf[0] >= '0' && buf[0] <= '9')
    nr = strtol(buf, NULL, 10);
  fclose(f);
  return nr;
}

static void *ml_helper(void *p) {
  ml_helper_t *h = p;
  char buf[4096];

  for (int i = 0; i < 5000 && ml_blocked_syscall(h->main_tid) != SYS_write; i++)
    usleep(1000);
  h->ok = ml_blocked_syscall(h->main_tid) == SYS_write;
  pthread_kill(h->main, SIGUSR1);
  for (int i = 0; i < 5000 && !ml_handler_ran; i++) usleep(1000);
  for (size_t left = h->filled; left > 0;) {
    ssize_t n = read(ml_pipe[0], buf, left < sizeof(buf) ? left : sizeof(buf));
    if (n > 0)
      left -= (size_t)n;
    else
      usleep(1000); /* the read end is non-blocking */
  }
  return NULL;
}

static void test_log_drops_message_logged_while_writing(void **state) {
  struct sigaction sa, old;
  ml_helper_t h = {pthread_self(), (pid_t)syscall(SYS_gettid), 0, 0};
  pthread_t t;
  char fill[4096];
  ssize_t n;
  (void)state;
  if (access("/proc/self/syscall", R_OK) != 0)
    skip(); /* kernel without CONFIG_HAVE_ARCH_TRACEHOOK */
  if (ML_UNDER_TSAN)
    skip(); /* TSan defers the handler to its next interceptor, after write */
  /* Fill the pipe: whole pages, then single bytes, until it would block. */
  memset(fill, 'f', sizeof(fill));
  fcntl(ml_pipe[1], F_SETFL, O_NONBLOCK);
  while ((n = write(ml_pipe[1], fill, sizeof(fill))) > 0) h.filled += (size_t)n;
  while ((n = write(ml_pipe[1], fill, 1)) > 0) h.filled += (size_t)n;
  fcntl(ml_pipe[1], F_SETFL, 0);

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = ml_nested_handler; /* no SA_RESTART: write gets EINTR */
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  ml_handler_ran = 0;
  assert_int_equal(pthread_create(&t, NULL, ml_helper, &h), 0);
  ml_warning("outer message");
  assert_int_equal(pthread_join(t, NULL), 0);
  sigaction(SIGUSR1, &old, NULL);

  assert_true(h.ok);
  assert_true(ml_handler_ran);
  assert_string_equal(ml_captured(), "memledger: warning: outer message\n");
  /* The guard is released afterwards. */
  ml_info("after");
  assert_string_equal(ml_captured(), "memledger: after\n");
}

#define ML_TEST(f) cmocka_unit_test_setup_teardown(f, ml_setup, ml_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      ML_TEST(test_log_levels_have_their_prefix),
      ML_TEST(test_log_adds_newline_only_when_missing),
      ML_TEST(test_log_truncates_long_message_keeping_newline),
      ML_TEST(test_log_thread_tag_for_other_threads),
      ML_TEST(test_log_cap_prints_one_suppressed_line),
      ML_TEST(test_log_cap_defaults_to_16),
      ML_TEST(test_log_cap_zero_and_unlimited),
      ML_TEST(test_log_once_prints_once_per_flag),
      ML_TEST(test_log_buffers_until_ready),
      ML_TEST(test_log_early_overflow_keeps_what_fits),
      ML_TEST(test_log_reset_restores_defaults),
      ML_TEST(test_log_drops_message_logged_while_writing),
  };
  return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}

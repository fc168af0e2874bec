/* SPDX-License-Identifier: MIT */
/*
 * test_options.c - unit tests for src/options.c: the value grammar (bool,
 * int, size, enum, signal, path), loading from the environment with its exact
 * warnings (bad value, clamp, power of two, unknown name, secure mode), the
 * abort switch, and the listings.  Warnings are captured through
 * ml_log_set_fd on a pipe; the environment is set with setenv and every
 * MEMLEDGER_* variable is removed before and after each test.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ml_test.h"

#include "log.h"
#include "options.h"

extern char **environ;
/* The secure-execution check and the configuration file options.c uses
 * (ML_TESTING builds only). */
extern bool (*ml_opt_is_secure)(void);
extern const char *ml_opt_conf_path;

/* Allocations while ml_test_count_mallocs is set: the loader runs inside the
 * program's first malloc and must not call it.  The whole family goes to
 * glibc's own entry points, so that what is freed came from the same heap.
 * Not in sanitizer builds (make check-sanitizers), whose runtime owns
 * malloc: there the test is skipped. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ML_TEST_COUNTS_MALLOC 0
#else
#define ML_TEST_COUNTS_MALLOC 1
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
#endif
static volatile bool ml_test_count_mallocs;
static volatile int ml_test_mallocs;
#if ML_TEST_COUNTS_MALLOC
void *malloc(size_t size) {
  if (ml_test_count_mallocs) ml_test_mallocs++;
  return __libc_malloc(size);
}
void *calloc(size_t n, size_t size) {
  if (ml_test_count_mallocs) ml_test_mallocs++;
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t size) {
  if (ml_test_count_mallocs) ml_test_mallocs++;
  return __libc_realloc(p, size);
}
void free(void *p) { __libc_free(p); }
#endif

/* ---- fixtures ----------------------------------------------------------- */

static int ml_test_pipe[2] = {-1, -1};
static char ml_test_out[65536];

static bool ml_test_secure_yes(void) { return true; }
static bool ml_test_secure_no(void) { return false; }

static int ml_test_setup(void **state) {
  (void)state;
  ml_test_clear_env();
  if (pipe(ml_test_pipe) != 0) return -1;
  fcntl(ml_test_pipe[0], F_SETFL, O_NONBLOCK);
  ml_log_reset();
  ml_log_set_fd(ml_test_pipe[1]);
  ml_log_ready();
  ml_log_set_max(-1);
  ml_opt_is_secure = ml_test_secure_no;
  /* The machine's own file (if any) stays out of the tests. */
  ml_opt_conf_path = "/nonexistent/memledger.conf";
  ml_options_reset();
  return 0;
}

static int ml_test_teardown(void **state) {
  (void)state;
  ml_test_clear_env();
  ml_log_set_fd(2);
  ml_log_reset();
  close(ml_test_pipe[0]);
  close(ml_test_pipe[1]);
  ml_options_reset();
  return 0;
}

/* Everything logged since the previous call, NUL-terminated. */
static const char *ml_test_output(void) {
  size_t len = 0;
  ssize_t n;

  while (len < sizeof(ml_test_out) - 1 &&
         (n = read(ml_test_pipe[0], ml_test_out + len,
                   sizeof(ml_test_out) - 1 - len)) > 0)
    len += (size_t)n;
  ml_test_out[len] = '\0';
  return ml_test_out;
}

static int ml_test_count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

/* Set one variable, reload, and return what was logged. */
static const char *ml_test_load1(const char *name, const char *value,
                                 int *problems) {
  ml_test_clear_env();
  if (name != NULL) assert_int_equal(setenv(name, value, 1), 0);
  ml_options_reset();
  ml_test_output(); /* drop anything earlier */
  *problems = ml_options_load();
  return ml_test_output();
}

/* ---- table -------------------------------------------------------------- */

static void test_options_table_env_names_match_table_names(void **state) {
  (void)state;
  for (int i = 0; i < ML_OPT_COUNT; i++) {
    const ml_opt_desc_t *d = &ml_opt_desc[i];
    char want[128];
    size_t n = (size_t)snprintf(want, sizeof(want), "MEMLEDGER_%s", d->name);

    for (size_t k = 10; k < n; k++)
      want[k] = (char)toupper((unsigned char)want[k]);
    assert_string_equal(d->env, want);
    assert_non_null(d->doc);
    if (d->type == ML_OPT_TYPE_INT || d->type == ML_OPT_TYPE_SIZE) {
      assert_true(d->min <= d->def && d->def <= d->max);
    }
    if (d->type == ML_OPT_TYPE_ENUM || d->type == ML_OPT_TYPE_PATH)
      assert_non_null(d->values);
    /* the defaults are in effect before any load */
    assert_int_equal(ml_option_state((ml_opt_t)i), ML_OPT_UNINIT);
    assert_true(ml_option_get((ml_opt_t)i) == d->def);
  }
  assert_string_equal(ml_opt_desc[ML_OPT_MIN_SIZE].env, "MEMLEDGER_MIN_SIZE");
}

/* ---- bool --------------------------------------------------------------- */

static void test_options_bool_accepts_on_off(void **state) {
  static const char *const yes[] = {"1",   "true", "TRUE", "yes",
                                    "Yes", "on",   "ON",   ""};
  static const char *const no[] = {"0",  "false", "False", "no",
                                   "NO", "off",   "Off"};
  static const char *const bad[] = {"2",   "y",     "n",  " on",   "on ",
                                    "onn", "truee", "-1", "enable"};
  long long v;

  (void)state;
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    v = -7;
    assert_int_equal(ml_parse_bool(yes[i], &v), 0);
    assert_int_equal(v, 1);
  }
  for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
    v = -7;
    assert_int_equal(ml_parse_bool(no[i], &v), 0);
    assert_int_equal(v, 0);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = -7;
    assert_int_equal(ml_parse_bool(bad[i], &v), -1);
    assert_int_equal(v, -7); /* untouched on error */
  }
}

static void test_options_bool_empty_value_means_true(void **state) {
  int problems;
  const char *out = ml_test_load1("MEMLEDGER_QUIET", "", &problems);

  (void)state;
  assert_int_equal(problems, 0);
  assert_string_equal(out, "");
  assert_int_equal(ml_option_get(ML_OPT_QUIET), 1);
  assert_int_equal(ml_option_state(ML_OPT_QUIET), ML_OPT_SET);
  assert_int_equal(ml_option_state(ML_OPT_ENABLED), ML_OPT_DEFAULTED);
}

/* ---- int ---------------------------------------------------------------- */

static void test_options_int_rejects_trailing_garbage(void **state) {
  static const char *const bad[] = {"12x", " 12", "12 ",  "",
                                    "+",   "-",   "0x10", "1e3",
                                    "1.0", "--1", "12\n", "\xd9\xa1"};
  long long v;

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = -7;
    assert_int_equal(ml_parse_int(bad[i], LLONG_MIN, LLONG_MAX, &v), -1);
    assert_int_equal(v, -7);
  }
  assert_int_equal(ml_parse_int("+12", 0, 100, &v), 0);
  assert_int_equal(v, 12);
  assert_int_equal(ml_parse_int("-1", -1, 100, &v), 0);
  assert_int_equal(v, -1);
  assert_int_equal(ml_parse_int("007", 0, 100, &v), 0);
  assert_int_equal(v, 7);
}

static void test_options_int_overflow_is_an_error(void **state) {
  long long v = -7;

  (void)state;
  assert_int_equal(
      ml_parse_int("9223372036854775807", LLONG_MIN, LLONG_MAX, &v), 0);
  assert_true(v == LLONG_MAX);
  assert_int_equal(
      ml_parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v), 0);
  assert_true(v == LLONG_MIN);
  v = -7;
  assert_int_equal(
      ml_parse_int("9223372036854775808", LLONG_MIN, LLONG_MAX, &v), -1);
  assert_int_equal(
      ml_parse_int("-9223372036854775809", LLONG_MIN, LLONG_MAX, &v), -1);
  assert_int_equal(ml_parse_int("99999999999999999999999", 0, 10, &v), -1);
  assert_int_equal(v, -7);
}

static void test_options_int_out_of_range_clamps(void **state) {
  long long v;

  (void)state;
  assert_int_equal(ml_parse_int("500", 1, 128, &v), 1);
  assert_int_equal(v, 128);
  assert_int_equal(ml_parse_int("-5", 1, 128, &v), 1);
  assert_int_equal(v, 1);
  assert_int_equal(ml_parse_int("128", 1, 128, &v), 0);
  assert_int_equal(v, 128);
  assert_int_equal(ml_parse_int("1", 1, 128, &v), 0);
  assert_int_equal(v, 1);
}

/* ---- size --------------------------------------------------------------- */

static void test_options_size_suffixes(void **state) {
  static const struct {
    const char *text;
    long long value;
  } cases[] = {
      {"0", 0},
      {"1024", 1024},
      {"64K", 64 << 10},
      {"64k", 64 << 10},
      {"64KB", 64 << 10},
      {"64kb", 64 << 10},
      {"64KiB", 64 << 10},
      {"64kib", 64 << 10},
      {"1M", 1 << 20},
      {"2g", 2LL << 30},
      {"3GiB", 3LL << 30},
      {"1T", 1LL << 40},
      {"512B", 512},
      {"512b", 512},
      {"0K", 0},
      {"0001m", 1 << 20},
  };
  long long v;

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    v = -7;
    assert_int_equal(ml_parse_size(cases[i].text, 0, 1LL << 50, &v), 0);
    assert_true(v == cases[i].value);
  }
}

static void test_options_size_rejects_bad_suffixes(void **state) {
  static const char *const bad[] = {"",      "K",   "5iB",  "1.5M", "64KBB",
                                    "64 K",  " 64", "64K ", "-1",   "+1",
                                    "1KiBB", "1X",  "1P",   "1KM",  "1Ki"};
  long long v;

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = -7;
    assert_int_equal(ml_parse_size(bad[i], 0, 1LL << 50, &v), -1);
    assert_int_equal(v, -7);
  }
}

static void test_options_size_overflow_clamps(void **state) {
  long long v;

  (void)state;
  /* digits that overflow 64 bits */
  assert_int_equal(ml_parse_size("99999999999999999999999", 0, 1LL << 40, &v),
                   1);
  assert_true(v == 1LL << 40);
  /* a unit that overflows: 2^34 T = 2^74 */
  assert_int_equal(ml_parse_size("17179869184T", 0, 1LL << 40, &v), 1);
  assert_true(v == 1LL << 40);
  /* 2^63 fits in 64 unsigned bits but not in long long */
  assert_int_equal(ml_parse_size("8388608T", 0, LLONG_MAX, &v), 1);
  assert_true(v == LLONG_MAX);
  /* above max, below min */
  assert_int_equal(ml_parse_size("2T", 0, 1LL << 40, &v), 1);
  assert_true(v == 1LL << 40);
  assert_int_equal(ml_parse_size("10", 1024, 1LL << 36, &v), 1);
  assert_int_equal(v, 1024);
  /* but an overflowing number with garbage after it is still a syntax error */
  v = -7;
  assert_int_equal(ml_parse_size("99999999999999999999999X", 0, 100, &v), -1);
  assert_int_equal(v, -7);
}

/* ---- enum --------------------------------------------------------------- */

static void test_options_enum_case_insensitive(void **state) {
  const char *values = ml_opt_desc[ML_OPT_UNWIND].values;
  long long v;

  (void)state;
  assert_string_equal(values, "auto|libunwind|fp|none|shadow|eh");
  assert_int_equal(ml_parse_enum("auto", values, &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(ml_parse_enum("LibUnwind", values, &v), 0);
  assert_int_equal(v, 1);
  assert_int_equal(ml_parse_enum("FP", values, &v), 0);
  assert_int_equal(v, 2);
  assert_int_equal(ml_parse_enum("None", values, &v), 0);
  assert_int_equal(v, 3);
  assert_int_equal(ml_parse_enum("SHADOW", values, &v), 0);
  assert_int_equal(v, 4);
  assert_int_equal(ml_parse_enum("Eh", values, &v), 0);
  assert_int_equal(v, 5);
  v = -7;
  assert_int_equal(ml_parse_enum("", values, &v), -1);
  assert_int_equal(ml_parse_enum("f", values, &v), -1);
  assert_int_equal(ml_parse_enum("fpx", values, &v), -1);
  assert_int_equal(ml_parse_enum("auto|fp", values, &v), -1);
  assert_int_equal(ml_parse_enum(" fp", values, &v), -1);
  assert_int_equal(ml_parse_enum("1", values, &v), -1);
  assert_int_equal(v, -7);
}

static void test_options_enum_loads_by_name(void **state) {
  int problems;
  const char *out = ml_test_load1("MEMLEDGER_UNWIND", "Fp", &problems);

  (void)state;
  assert_int_equal(problems, 0);
  assert_string_equal(out, "");
  assert_int_equal(ml_option_get(ML_OPT_UNWIND), 2);

  out = ml_test_load1("MEMLEDGER_UNWIND", "dwarf", &problems);
  assert_int_equal(problems, 1);
  assert_string_equal(out,
                      "memledger: warning: MEMLEDGER_UNWIND=\"dwarf\" is not "
                      "valid (expected one of auto|libunwind|fp|none|shadow|eh); using "
                      "the default auto\n");
  assert_int_equal(ml_option_get(ML_OPT_UNWIND), 0);
}

/* ---- signal ------------------------------------------------------------- */

static void test_options_signal_names_and_numbers(void **state) {
  static const struct {
    const char *text;
    int sig;
  } cases[] = {
      {"USR2", SIGUSR2},    {"SIGUSR2", SIGUSR2},
      {"sigusr1", SIGUSR1}, {"usr1", SIGUSR1},
      {"HUP", SIGHUP},      {"INT", SIGINT},
      {"QUIT", SIGQUIT},    {"ALRM", SIGALRM},
      {"TERM", SIGTERM},    {"CHLD", SIGCHLD},
      {"CONT", SIGCONT},    {"TSTP", SIGTSTP},
      {"TTIN", SIGTTIN},    {"TTOU", SIGTTOU},
      {"URG", SIGURG},      {"XCPU", SIGXCPU},
      {"XFSZ", SIGXFSZ},    {"VTALRM", SIGVTALRM},
      {"SigProf", SIGPROF}, {"WINCH", SIGWINCH},
      {"IO", SIGIO},        {"PWR", SIGPWR},
      {"SIGSYS", SIGSYS},   {"12", 12},
      {"10", 10},           {"0", 0},
      {"off", 0},           {"NONE", 0},
  };
  long long v;

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    v = -7;
    assert_int_equal(ml_parse_signal(cases[i].text, 0, 64, &v), 0);
    assert_int_equal(v, cases[i].sig);
  }
  assert_int_equal(ml_parse_signal("RTMIN", 0, 64, &v), 0);
  assert_int_equal(v, SIGRTMIN);
  assert_int_equal(ml_parse_signal("SIGRTMIN+3", 0, 64, &v), 0);
  assert_int_equal(v, SIGRTMIN + 3);
  assert_int_equal(ml_parse_signal("rtmax-2", 0, 64, &v), 0);
  assert_int_equal(v, SIGRTMAX - 2);
  assert_int_equal(ml_parse_signal("SIGRTMAX", 0, 64, &v), 0);
  assert_int_equal(v, SIGRTMAX);
  assert_int_equal(ml_parse_signal("40", 0, 64, &v), 0);
  assert_int_equal(v, 40);
}

static void test_options_signal_refuses_sigkill(void **state) {
  static const char *const bad[] = {
      "KILL",
      "SIGKILL",
      "9",
      "STOP",
      "SIGSTOP",
      "19",
      "SEGV",
      "11",
      "BUS",
      "7",
      "ILL",
      "4",
      "FPE",
      "8",
      "ABRT",
      "6",
      "TRAP",
      "5",
      "IOT",
      /* not signals, or not usable ones */
      "",
      "SIG",
      "USR3",
      " USR2",
      "USR2 ",
      "65",
      "99999999999999999999",
      "-1",
      "+12",
      "SIG12",
      "32",
      "33",
      "RTMIN+100",
      "RTMAX+1",
      "RTMIN-1",
      "RTMAX-100",
      "RTMIN+",
      "RTMIN+x",
      "RTMINX",
      "offf",
  };
  long long v;

  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = -7;
    if (ml_parse_signal(bad[i], 0, 64, &v) != -1)
      fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(v, -7);
  }
  /* a name outside [min, max] is refused too */
  assert_int_equal(ml_parse_signal("USR2", 13, 64, &v), -1);
  assert_int_equal(ml_parse_signal("off", 1, 64, &v), -1);
}

static void test_options_signal_bad_value_warns(void **state) {
  int problems;
  const char *out = ml_test_load1("MEMLEDGER_SIGNAL", "SIGKILL", &problems);

  (void)state;
  assert_int_equal(problems, 1);
  assert_string_equal(
      out, "memledger: warning: MEMLEDGER_SIGNAL=\"SIGKILL\" is not valid "
           "(expected a signal name such as USR2 or RTMIN+1, or a number "
           "1..64, but not KILL, STOP, SEGV, BUS, ILL, FPE, ABRT or TRAP; "
           "0/off/none = off); using the default 12\n");
  assert_int_equal(ml_option_get(ML_OPT_SIGNAL), SIGUSR2);

  out = ml_test_load1("MEMLEDGER_SIGNAL", "SIGRTMIN+2", &problems);
  assert_int_equal(problems, 0);
  assert_string_equal(out, "");
  assert_int_equal(ml_option_get(ML_OPT_SIGNAL), SIGRTMIN + 2);
}

/* ---- loading: bad values, clamps, unknown names ------------------------- */

static void test_options_bad_value_warns_once_and_keeps_default(void **state) {
  int problems;
  const char *out = ml_test_load1("MEMLEDGER_MAX_FRAMES", "abc", &problems);

  (void)state;
  assert_int_equal(problems, 1);
  assert_string_equal(out,
                      "memledger: warning: MEMLEDGER_MAX_FRAMES=\"abc\" is "
                      "not valid (expected an integer 1..128); using the "
                      "default 32\n");
  assert_int_equal(ml_test_count(out, "warning:"), 1);
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 32);
  assert_int_equal(ml_option_state(ML_OPT_MAX_FRAMES), ML_OPT_DEFAULTED);

  out = ml_test_load1("MEMLEDGER_ENABLED", "maybe", &problems);
  assert_int_equal(problems, 1);
  assert_string_equal(out, "memledger: warning: MEMLEDGER_ENABLED=\"maybe\" is "
                           "not valid (expected 1/0, true/false, yes/no or "
                           "on/off); using the default 1\n");
  assert_int_equal(ml_option_get(ML_OPT_ENABLED), 1);

  out = ml_test_load1("MEMLEDGER_MIN_SIZE", "1.5K", &problems);
  assert_int_equal(problems, 1);
  assert_string_equal(out, "memledger: warning: MEMLEDGER_MIN_SIZE=\"1.5K\" is "
                           "not valid (expected a size 0..1T with an optional "
                           "K/M/G/T suffix); using the default 1K\n");
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 1024);
}

static void test_options_bad_value_is_escaped_and_cut(void **state) {
  char longv[200];
  int problems;
  const char *out =
      ml_test_load1("MEMLEDGER_VERBOSE", "1\t\"\\\x01", &problems);

  (void)state;
  assert_int_equal(problems, 1);
  assert_string_equal(out, "memledger: warning: MEMLEDGER_VERBOSE=\"1\\x09\\\""
                           "\\\\\\x01\" is not valid (expected an integer "
                           "0..2); using the default 0\n");

  memset(longv, '7', sizeof(longv) - 1);
  longv[sizeof(longv) - 1] = '\0';
  out = ml_test_load1("MEMLEDGER_VERBOSE", longv, &problems);
  assert_int_equal(problems, 1);
  /* 48 bytes of the value, then "..." */
  assert_non_null(strstr(out,
                         "=\"777777777777777777777777777777777777777777777777"
                         "...\" is not valid"));
}

static void test_options_out_of_range_clamps_and_warns(void **state) {
  int problems;
  const char *out = ml_test_load1("MEMLEDGER_MAX_FRAMES", "500", &problems);

  (void)state;
  assert_int_equal(problems, 1);
  assert_string_equal(out,
                      "memledger: warning: MEMLEDGER_MAX_FRAMES=500 is out "
                      "of range 1..128; using 128\n");
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 128);
  assert_int_equal(ml_option_state(ML_OPT_MAX_FRAMES), ML_OPT_SET);

  out = ml_test_load1("MEMLEDGER_MAX_STACKS", "1G", &problems);
  assert_int_equal(problems, 1);
  assert_string_equal(out, "memledger: warning: MEMLEDGER_MAX_STACKS=1G is out "
                           "of range 1K..16M; using 16M\n");
  assert_int_equal(ml_option_get(ML_OPT_MAX_STACKS), 1LL << 24);

  out = ml_test_load1("MEMLEDGER_MAX_ERRORS", "-5", &problems);
  assert_int_equal(problems, 1);
  assert_string_equal(out, "memledger: warning: MEMLEDGER_MAX_ERRORS=-5 is out "
                           "of range -1..1000000; using -1\n");
  assert_int_equal(ml_option_get(ML_OPT_MAX_ERRORS), -1);

  /* a valid value in range says nothing */
  out = ml_test_load1("MEMLEDGER_MAX_RECORDS", "2M", &problems);
  assert_int_equal(problems, 0);
  assert_string_equal(out, "");
  assert_int_equal(ml_option_get(ML_OPT_MAX_RECORDS), 2 << 20);
}

static void test_options_unknown_variable_suggests_near_name(void **state) {
  static const struct {
    const char *name, *want;
  } cases[] = {
      /* deletion, insertion, substitution, case, transposition */
      {"MEMLEDGER_MAX_FRAME", "MEMLEDGER_MAX_FRAMES"},
      {"MEMLEDGER_MAX_FRAMESS", "MEMLEDGER_MAX_FRAMES"},
      {"MEMLEDGER_MAX_FRAMEZ", "MEMLEDGER_MAX_FRAMES"},
      {"MEMLEDGER_max_frames", "MEMLEDGER_MAX_FRAMES"},
      {"MEMLEDGER_MAX_FARMES", "MEMLEDGER_MAX_FRAMES"},
      {"MEMLEDGER_DIRR", "MEMLEDGER_DIR"},
      {"MEMLEDGER_SIGNALS", "MEMLEDGER_SIGNAL"},
      {"MEMLEDGER_MINSIZE", "MEMLEDGER_MIN_SIZE"},
  };
  char want[256];
  int problems;
  const char *out;

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    out = ml_test_load1(cases[i].name, "1", &problems);
    snprintf(want, sizeof(want),
             "memledger: warning: unknown option %s ignored; did you mean "
             "%s?\n",
             cases[i].name, cases[i].want);
    assert_int_equal(problems, 1);
    assert_string_equal(out, want);
  }

  /* two edits away: no suggestion */
  out = ml_test_load1("MEMLEDGER_MAX_FRAM", "1", &problems);
  assert_int_equal(problems, 1);
  assert_string_equal(out, "memledger: warning: unknown option "
                           "MEMLEDGER_MAX_FRAM ignored\n");
  out = ml_test_load1("MEMLEDGER_COLOUR", "1", &problems);
  assert_string_equal(out, "memledger: warning: unknown option "
                           "MEMLEDGER_COLOUR ignored\n");
  out = ml_test_load1("MEMLEDGER_", "1", &problems);
  assert_string_equal(out, "memledger: warning: unknown option MEMLEDGER_ "
                           "ignored\n");
  /* the known option next to it still applies */
  ml_test_clear_env();
  assert_int_equal(setenv("MEMLEDGER_QUIET", "1", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_QUIETT", "1", 1), 0);
  ml_options_reset();
  ml_test_output();
  assert_int_equal(ml_options_load(), 1);
  assert_string_equal(ml_test_output(),
                      "memledger: warning: unknown option MEMLEDGER_QUIETT "
                      "ignored; did you mean MEMLEDGER_QUIET?\n");
  assert_int_equal(ml_option_get(ML_OPT_QUIET), 1);
}

static void test_options_arenas_rounded_to_pow2(void **state) {
  static const struct {
    const char *text;
    long long value;
    const char *warning;
  } cases[] = {
      {"12", 16,
       "memledger: warning: MEMLEDGER_ARENAS=12 is not a power of "
       "two; using 16\n"},
      {"3", 4,
       "memledger: warning: MEMLEDGER_ARENAS=3 is not a power of two; "
       "using 4\n"},
      {"1000", 1024,
       "memledger: warning: MEMLEDGER_ARENAS=1000 is not a power "
       "of two; using 1024\n"},
      {"5000", 1024,
       "memledger: warning: MEMLEDGER_ARENAS=5000 is out of range "
       "0..1024; using 1024\n"},
      {"16", 16, ""},
      {"1", 1, ""},
      {"0", 0, ""},
  };
  int problems;

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *out =
        ml_test_load1("MEMLEDGER_ARENAS", cases[i].text, &problems);
    assert_string_equal(out, cases[i].warning);
    assert_int_equal(problems, cases[i].warning[0] != '\0');
    assert_int_equal(ml_option_get(ML_OPT_ARENAS), cases[i].value);
  }
}

/* ---- paths -------------------------------------------------------------- */

static void test_options_path_is_stored(void **state) {
  char big[4097];
  int problems;
  const char *out;

  (void)state;
  assert_string_equal(ml_option_str(ML_OPT_DIR), ".");
  out = ml_test_load1("MEMLEDGER_DIR", "/var/tmp/dumps with space", &problems);
  assert_int_equal(problems, 0);
  assert_string_equal(out, "");
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/var/tmp/dumps with space");
  assert_int_equal(ml_option_state(ML_OPT_DIR), ML_OPT_SET);

  /* 4095 bytes fit, 4096 do not */
  memset(big, 'd', sizeof(big) - 1);
  big[0] = '/';
  big[4095] = '\0';
  out = ml_test_load1("MEMLEDGER_DIR", big, &problems);
  assert_int_equal(problems, 0);
  assert_string_equal(ml_option_str(ML_OPT_DIR), big);

  big[4095] = 'd';
  big[4096] = '\0';
  out = ml_test_load1("MEMLEDGER_DIR", big, &problems);
  assert_int_equal(problems, 1);
  assert_int_equal(ml_test_count(out, "\n"), 1);
  assert_non_null(strstr(out, "memledger: warning: MEMLEDGER_DIR=\"/ddd"));
  assert_non_null(strstr(out, "...\" is not valid (expected a non-empty path "
                              "of at most 4095 bytes); using the default "
                              "\".\"\n"));
  assert_string_equal(ml_option_str(ML_OPT_DIR), ".");

  out = ml_test_load1("MEMLEDGER_DIR", "", &problems);
  assert_int_equal(problems, 1);
  assert_string_equal(out,
                      "memledger: warning: MEMLEDGER_DIR=\"\" is not valid "
                      "(expected a non-empty path of at most 4095 "
                      "bytes); using the default \".\"\n");
  assert_string_equal(ml_option_str(ML_OPT_DIR), ".");
}

/* ---- MEMLEDGER_OPTIONS ------------------------------------------------------ */

static void test_options_list_sets_options(void **state) {
  int problems;
  const char *out;

  (void)state;
  out = ml_test_load1("MEMLEDGER_OPTIONS", "min_size=0:unwind=fp:dir=/x",
                      &problems);
  assert_int_equal(problems, 0);
  assert_string_equal(out, "");
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 0);
  assert_int_equal(ml_option_state(ML_OPT_MIN_SIZE), ML_OPT_SET);
  assert_int_equal(ml_option_get(ML_OPT_UNWIND), 2); // "fp" in auto|libunwind|fp|...
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/x");
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 32);
  assert_int_equal(ml_option_state(ML_OPT_MAX_FRAMES), ML_OPT_DEFAULTED);

  /* commas, blanks, empty items, a quoted value holding the separators, a
   * bare name (a boolean's empty value: true), the last occurrence wins */
  out = ml_test_load1("MEMLEDGER_OPTIONS",
                      " max_frames = 8 ,, quiet ,dir='/tmp/a:b,c' ,"
                      "max_frames=12:signal=\"USR1\"",
                      &problems);
  assert_int_equal(problems, 0);
  assert_string_equal(out, "");
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 12);
  assert_int_equal(ml_option_get(ML_OPT_QUIET), 1);
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/tmp/a:b,c");
  assert_int_equal(ml_option_get(ML_OPT_SIGNAL), SIGUSR1);

  /* empty: nothing */
  out = ml_test_load1("MEMLEDGER_OPTIONS", "", &problems);
  assert_int_equal(problems, 0);
  assert_string_equal(out, "");
}

static void test_options_variable_wins_over_list(void **state) {
  (void)state;
  assert_int_equal(setenv("MEMLEDGER_OPTIONS", "min_size=4K:max_frames=8", 1),
                   0);
  assert_int_equal(setenv("MEMLEDGER_MIN_SIZE", "8K", 1), 0);
  assert_int_equal(ml_options_load(), 0);
  assert_string_equal(ml_test_output(), "");
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 8192);
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 8);

  /* a bad variable leaves the list's value in effect */
  ml_options_reset();
  assert_int_equal(setenv("MEMLEDGER_MIN_SIZE", "big", 1), 0);
  assert_int_equal(ml_options_load(), 1);
  assert_string_equal(ml_test_output(),
                      "memledger: warning: MEMLEDGER_MIN_SIZE=\"big\" is not "
                      "valid (expected a size 0..1T with an optional K/M/G/T "
                      "suffix); using 4K\n");
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 4096);
}

static void test_options_list_bad_value_and_unknown_name_warn_once(void **state) {
  int problems;
  const char *out;

  (void)state;
  out = ml_test_load1("MEMLEDGER_OPTIONS",
                      "max_frames=abc:mni_size=0:MIN_SIZE=1:colour=1:"
                      "skip_frames=99:arenas=12",
                      &problems);
  assert_int_equal(problems, 6);
  assert_string_equal(
      out,
      "memledger: warning: unknown option mni_size in MEMLEDGER_OPTIONS "
      "ignored; did you mean min_size?\n"
      "memledger: warning: unknown option MIN_SIZE in MEMLEDGER_OPTIONS "
      "ignored; did you mean min_size?\n"
      "memledger: warning: unknown option colour in MEMLEDGER_OPTIONS "
      "ignored\n"
      "memledger: warning: MEMLEDGER_OPTIONS: max_frames=\"abc\" is not valid "
      "(expected an integer 1..128); using the default 32\n"
      "memledger: warning: MEMLEDGER_OPTIONS: skip_frames=99 is out of range "
      "0..16; using 16\n"
      "memledger: warning: MEMLEDGER_OPTIONS: arenas=12 is not a power of "
      "two; using 16\n");
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 32);
  assert_int_equal(ml_option_get(ML_OPT_SKIP_FRAMES), 16);
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 1024);
  /* MEMLEDGER_OPTIONS itself is no unknown variable */
  assert_null(strstr(out, "unknown option MEMLEDGER_OPTIONS"));

  /* malformed items: an unclosed quote, text after a closing quote or a
   * name; the items around them still apply */
  out = ml_test_load1("MEMLEDGER_OPTIONS",
                      "quiet=1:dir='/a'b:max_frames 9:=4:verbose=1:dir=\"/c",
                      &problems);
  assert_int_equal(problems, 4);
  assert_string_equal(
      out,
      "memledger: warning: MEMLEDGER_OPTIONS: \"dir='/a'b\" is not "
      "name=value (no name, a quote not closed, or text after the name or the "
      "closing quote); ignored\n"
      "memledger: warning: MEMLEDGER_OPTIONS: \"max_frames 9\" is not "
      "name=value (no name, a quote not closed, or text after the name or the "
      "closing quote); ignored\n"
      "memledger: warning: MEMLEDGER_OPTIONS: \"=4\" is not "
      "name=value (no name, a quote not closed, or text after the name or the "
      "closing quote); ignored\n"
      "memledger: warning: MEMLEDGER_OPTIONS: \"dir=\\\"/c\" is not "
      "name=value (no name, a quote not closed, or text after the name or the "
      "closing quote); ignored\n");
  assert_int_equal(ml_option_get(ML_OPT_QUIET), 1);
  assert_int_equal(ml_option_get(ML_OPT_VERBOSE), 1);
  assert_string_equal(ml_option_str(ML_OPT_DIR), ".");
}

static void test_options_list_max_errors_caps_its_warnings(void **state) {
  (void)state;
  /* max_errors from the list caps the list's own warnings */
  assert_int_equal(setenv("MEMLEDGER_OPTIONS",
                          "max_errors=1:max_frames=x:verbose=y:quiet=z", 1),
                   0);
  ml_log_reset();
  ml_log_set_fd(ml_test_pipe[1]);
  ml_log_ready();
  assert_int_equal(ml_options_load(), 3);
  assert_int_equal(ml_test_count(ml_test_output(), "memledger: warning: "
                                                   "MEMLEDGER_OPTIONS: "),
                   1);
  assert_int_equal(ml_option_get(ML_OPT_MAX_ERRORS), 1);
}

/* ---- the configuration file ------------------------------------------------- */

static char ml_test_conf[] = "/tmp/ml-test-conf.XXXXXX";

/* Write text to a fresh file for ml_opt_conf_path, with mode. */
static void ml_test_write_conf(const char *text, mode_t mode) {
  int fd;

  strcpy(ml_test_conf, "/tmp/ml-test-conf.XXXXXX");
  fd = mkstemp(ml_test_conf);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  assert_int_equal(fchmod(fd, mode), 0);
  close(fd);
  ml_opt_conf_path = ml_test_conf;
}

static void test_options_conf_file_is_the_lowest_source(void **state) {
  const char *out;

  (void)state;
  if (geteuid() != 0) skip(); /* the file must be owned by root */
  ml_test_write_conf("# memledger options\n"
                     "min_size = 2K\n"
                     "  max_frames=8, skip_frames=2\n"
                     "\n"
                     "dir = /var/tmp/dumps with space  \r\n"
                     "signal=USR1 # not a comment\n"
                     "quiet=1:verbose=1\n",
                     0644);
  assert_int_equal(setenv("MEMLEDGER_OPTIONS", "max_frames=16", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_SKIP_FRAMES", "3", 1), 0);
  assert_int_equal(ml_options_load(), 1);
  /* '#' starts a comment only where an item could start */
  out = ml_test_output();
  assert_int_equal(ml_test_count(out, "\n"), 1);
  assert_int_equal(strncmp(out, "memledger: warning: ", 20), 0);
  assert_int_equal(strncmp(out + 20, ml_test_conf, strlen(ml_test_conf)), 0);
  assert_string_equal(out + 20 + strlen(ml_test_conf),
                      ": signal=\"USR1 # not a comment\" is not valid"
                      " (expected a signal name such as USR2 or "
                      "RTMIN+1, or a number 1..64, but not KILL, STOP, SEGV, "
                      "BUS, ILL, FPE, ABRT or TRAP; 0/off/none = off); using "
                      "the default 12\n");
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 2048);    // the file
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 16);    // the list
  assert_int_equal(ml_option_get(ML_OPT_SKIP_FRAMES), 3);    // the variable
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/var/tmp/dumps with space");
  assert_int_equal(ml_option_get(ML_OPT_QUIET), 1);
  assert_int_equal(ml_option_get(ML_OPT_SIGNAL), SIGUSR2);
  /* the listing names the file as the source */
  ml_test_output();
  ml_options_print();
  assert_non_null(strstr(ml_test_output(), "(MEMLEDGER_MIN_SIZE, /tmp/ml-test-conf."));
  assert_non_null(strstr(ml_test_out, "(MEMLEDGER_MAX_FRAMES, MEMLEDGER_OPTIONS)"));
  assert_non_null(strstr(ml_test_out, "(MEMLEDGER_SKIP_FRAMES, environment)"));
  unlink(ml_test_conf);
}

/* Load with the file written by ml_test_write_conf and check that it was
 * ignored with the one warning "<path> is ignored: <why>", errno unchanged;
 * then remove it. */
static void ml_test_conf_ignored(const char *why) {
  char want[256];

  ml_options_reset();
  errno = 4242;
  assert_int_equal(ml_options_load(), 1);
  assert_int_equal(errno, 4242);
  snprintf(want, sizeof(want), "memledger: warning: %s is ignored: %s\n",
           ml_test_conf, why);
  assert_string_equal(ml_test_output(), want);
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 1024);
  unlink(ml_test_conf);
}

static void test_options_conf_file_untrusted_is_ignored(void **state) {
  /* writable by others; owned by another user (nobody) */
  static const struct {
    mode_t mode;
    uid_t owner;
  } cases[] = {{0666, 0}, {0644, 65534}};

  (void)state;
  if (geteuid() != 0) skip();
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ml_test_write_conf("min_size=2K\n", cases[i].mode);
    assert_int_equal(chown(ml_test_conf, cases[i].owner, 0), 0);
    ml_test_conf_ignored("it must be a regular file owned by root and not "
                         "writable by group or others");
  }

  /* a directory; a missing file says nothing */
  ml_options_reset();
  ml_opt_conf_path = "/tmp";
  assert_int_equal(ml_options_load(), 1);
  assert_non_null(strstr(ml_test_output(), "/tmp is ignored: it must be a regular file"));
  ml_options_reset();
  ml_opt_conf_path = "/nonexistent/memledger.conf";
  assert_int_equal(ml_options_load(), 0);
  assert_string_equal(ml_test_output(), "");
}

static void test_options_conf_file_size_limit_and_errno(void **state) {
  static char text[8194];
  const char *line = "min_size=2K\n";

  (void)state;
  if (geteuid() != 0) skip();
  /* 8192 bytes: read; errno unchanged (the loader runs inside malloc) */
  memset(text, '#', sizeof(text));
  text[8191 - strlen(line)] = '\n';
  memcpy(text + 8192 - strlen(line), line, strlen(line) + 1);
  assert_int_equal(strlen(text), 8192);
  ml_test_write_conf(text, 0644);
  errno = 4242;
  assert_int_equal(ml_options_load(), 0);
  assert_int_equal(errno, 4242);
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 2048);
  unlink(ml_test_conf);

  /* 8193 bytes: ignored */
  memmove(text + 1, text, 8193);
  ml_test_write_conf(text, 0644);
  ml_test_conf_ignored("larger than 8192 bytes");

  /* missing: errno unchanged too */
  ml_options_reset();
  ml_opt_conf_path = "/nonexistent/memledger.conf";
  errno = 4242;
  assert_int_equal(ml_options_load(), 0);
  assert_int_equal(errno, 4242);
}

static void test_options_load_does_not_allocate(void **state) {
  (void)state;
  if (!ML_TEST_COUNTS_MALLOC) skip();
  if (geteuid() == 0)
    ml_test_write_conf("# defaults\nmin_size=2K\nmax_frames=abc\ncolour=1\n", 0644);
  assert_int_equal(setenv("MEMLEDGER_OPTIONS",
                          "unwind=fp:dir='/tmp/a:b':mni_size=1:skip_frames=99", 1),
                   0);
  assert_int_equal(setenv("MEMLEDGER_VERBOSE", "x", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_TYPO", "1", 1), 0);
  ml_test_mallocs = 0;
  ml_test_count_mallocs = true;
  int problems = ml_options_load();
  ml_options_print();
  ml_test_count_mallocs = false;
  assert_int_equal(ml_test_mallocs, 0);
  assert_int_equal(problems, geteuid() == 0 ? 6 : 4);
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/tmp/a:b");
  if (geteuid() == 0) unlink(ml_test_conf);
  /* the counter counts */
  ml_test_count_mallocs = true;
  void *volatile p = malloc(16);
  ml_test_count_mallocs = false;
  free(p);
  assert_int_equal(ml_test_mallocs, 1);
}

/* ---- secure-execution mode --------------------------------------------------- */

static void test_options_secure_ignores_the_environment(void **state) {
  const char *out;

  (void)state;
  ml_opt_is_secure = ml_test_secure_yes;
  assert_int_equal(setenv("MEMLEDGER_DIR", "/tmp/evil", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_LEAK_EXITCODE", "3", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_MIN_SIZE", "0", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_TYPO", "0", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_OPTIONS", "dir=/tmp/evil:unwind=fp:"
                                               "abort_on_bad_option=1:x=1", 1),
                   0);
  assert_int_equal(ml_options_load(), 0);
  out = ml_test_output();
  assert_string_equal(out, "memledger: warning: secure-execution mode "
                           "(set-uid, set-gid or capabilities): the "
                           "MEMLEDGER_* variables are ignored; options come "
                           "from /nonexistent/memledger.conf only\n");
  for (int i = 0; i < ML_OPT_COUNT; i++)
    if (i != ML_OPT_ENABLED) {
      assert_int_equal(ml_option_state((ml_opt_t)i), ML_OPT_DEFAULTED);
      assert_int_equal(ml_option_get((ml_opt_t)i), ml_opt_desc[i].def);
    }
  assert_string_equal(ml_option_str(ML_OPT_DIR), ".");
  /* no directory from root: no dump, so no tracking */
  assert_false(ml_options_dir_trusted());
  assert_int_equal(ml_option_get(ML_OPT_ENABLED), 0);
  ml_options_print();
  assert_non_null(strstr(ml_test_output(),
                         "(MEMLEDGER_ENABLED, secure-execution mode without a "
                         "dir in the configuration file)"));

  /* nothing set: silent, and still off */
  ml_test_clear_env();
  ml_options_reset();
  assert_int_equal(ml_options_load(), 0);
  assert_string_equal(ml_test_output(), "");
  assert_int_equal(ml_option_get(ML_OPT_ENABLED), 0);

  /* the program itself may still choose the directory */
  assert_int_equal(ml_option_set_text(ML_OPT_DIR, "/srv/dumps"), 0);
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/srv/dumps");
  assert_true(ml_options_dir_trusted());

  /* not secure: the same environment counts */
  ml_opt_is_secure = ml_test_secure_no;
  ml_options_reset();
  assert_int_equal(setenv("MEMLEDGER_LEAK_EXITCODE", "3", 1), 0);
  assert_int_equal(ml_options_load(), 0);
  assert_int_equal(ml_option_get(ML_OPT_LEAK_EXITCODE), 3);
  assert_int_equal(ml_option_get(ML_OPT_ENABLED), 1);
  assert_true(ml_options_dir_trusted());
}

static void test_options_secure_reads_the_conf_file(void **state) {
  (void)state;
  if (geteuid() != 0) skip();
  ml_opt_is_secure = ml_test_secure_yes;
  ml_test_write_conf("dir=/var/lib/memledger\nleak_exitcode=4\n", 0600);
  assert_int_equal(setenv("MEMLEDGER_LEAK_EXITCODE", "9", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_DIR", "/tmp/evil", 1), 0);
  assert_int_equal(ml_options_load(), 0);
  assert_non_null(strstr(ml_test_output(), "the MEMLEDGER_* variables are ignored"));
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/var/lib/memledger");
  assert_int_equal(ml_option_get(ML_OPT_LEAK_EXITCODE), 4);
  assert_int_equal(ml_option_get(ML_OPT_ENABLED), 1);
  assert_true(ml_options_dir_trusted());
  unlink(ml_test_conf);

  /* a file without dir: tracking off */
  ml_options_reset();
  ml_test_write_conf("leak_exitcode=4\n", 0600);
  assert_int_equal(ml_options_load(), 0);
  assert_int_equal(ml_option_get(ML_OPT_LEAK_EXITCODE), 4);
  assert_false(ml_options_dir_trusted());
  assert_int_equal(ml_option_get(ML_OPT_ENABLED), 0);
  unlink(ml_test_conf);
}

/* ---- load, set_text, abort ---------------------------------------------- */

static void test_options_load_reads_several_in_table_order(void **state) {
  (void)state;
  assert_int_equal(setenv("MEMLEDGER_VERBOSE", "x", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_ENABLED", "off", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_SKIP_FRAMES", "99", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_MIN_SIZE", "4k", 1), 0);
  assert_int_equal(ml_options_load(), 2);
  assert_string_equal(
      ml_test_output(),
      "memledger: warning: MEMLEDGER_SKIP_FRAMES=99 is out of "
      "range 0..16; using 16\n"
      "memledger: warning: MEMLEDGER_VERBOSE=\"x\" is not valid "
      "(expected an integer 0..2); using the default 0\n");
  assert_int_equal(ml_option_get(ML_OPT_ENABLED), 0);
  assert_int_equal(ml_option_get(ML_OPT_MIN_SIZE), 4096);
  assert_int_equal(ml_option_get(ML_OPT_SKIP_FRAMES), 16);
  assert_int_equal(ml_option_get(ML_OPT_VERBOSE), 0);
}

static void test_options_load_is_idempotent(void **state) {
  (void)state;
  assert_int_equal(setenv("MEMLEDGER_MAX_FRAMES", "abc", 1), 0);
  assert_int_equal(ml_options_load(), 1);
  assert_int_equal(ml_test_count(ml_test_output(), "warning:"), 1);
  assert_int_equal(setenv("MEMLEDGER_MAX_FRAMES", "64", 1), 0);
  assert_int_equal(ml_options_load(), 0); /* frozen: nothing re-read */
  assert_string_equal(ml_test_output(), "");
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 32);
  ml_options_reset();
  assert_int_equal(ml_option_state(ML_OPT_MAX_FRAMES), ML_OPT_UNINIT);
  assert_int_equal(ml_options_load(), 0);
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 64);
}

static void test_options_load_without_environ_keeps_defaults(void **state) {
  char **saved = environ;
  int rc;

  (void)state;
  assert_int_equal(setenv("MEMLEDGER_MAX_FRAMES", "64", 1), 0);
  saved = environ;
  environ = NULL;
  rc = ml_options_load();
  environ = saved;
  assert_int_equal(rc, -1);
  for (int i = 0; i < ML_OPT_COUNT; i++) {
    assert_int_equal(ml_option_state((ml_opt_t)i), ML_OPT_UNINIT);
    assert_true(ml_option_get((ml_opt_t)i) == ml_opt_desc[i].def);
  }
  assert_string_equal(ml_test_output(), "");
  /* a later call reads them */
  assert_int_equal(ml_options_load(), 0);
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 64);
}

static void test_options_set_text_applies_and_rejects(void **state) {
  (void)state;
  assert_int_equal(ml_option_set_text(ML_OPT_MAX_FRAMES, "64"), 0);
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 64);
  assert_int_equal(ml_option_state(ML_OPT_MAX_FRAMES), ML_OPT_SET);
  assert_string_equal(ml_test_output(), "");

  assert_int_equal(ml_option_set_text(ML_OPT_MAX_FRAMES, "x"), -1);
  assert_string_equal(ml_test_output(),
                      "memledger: warning: max_frames=\"x\" is not valid "
                      "(expected an integer 1..128); using 64\n");
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 64);

  /* clamped: applied, with a warning */
  assert_int_equal(ml_option_set_text(ML_OPT_MAX_FRAMES, "1000"), 0);
  assert_string_equal(ml_test_output(), "memledger: warning: max_frames=1000 "
                                        "is out of range 1..128; using 128\n");
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 128);

  /* the environment overrides a programmatic value; absence keeps it */
  assert_int_equal(ml_option_set_text(ML_OPT_SKIP_FRAMES, "3"), 0);
  assert_int_equal(setenv("MEMLEDGER_MAX_FRAMES", "16", 1), 0);
  assert_int_equal(ml_options_load(), 0);
  assert_int_equal(ml_option_get(ML_OPT_MAX_FRAMES), 16);
  assert_int_equal(ml_option_get(ML_OPT_SKIP_FRAMES), 3);
}

static void
test_options_abort_on_bad_option_aborts_after_reporting(void **state) {
  pid_t pid;
  int status;
  const char *out;

  (void)state;
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    setenv("MEMLEDGER_ABORT_ON_BAD_OPTION", "1", 1);
    setenv("MEMLEDGER_MAX_FRAMES", "abc", 1);
    setenv("MEMLEDGER_TYPO", "1", 1);
    ml_options_reset();
    ml_options_load();
    _exit(0); /* not reached when the load aborts */
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGABRT);
  out = ml_test_output();
  assert_string_equal(out,
                      "memledger: warning: MEMLEDGER_MAX_FRAMES=\"abc\" is not "
                      "valid (expected an integer 1..128); using the default "
                      "32\n"
                      "memledger: warning: unknown option MEMLEDGER_TYPO "
                      "ignored\n"
                      "memledger: error: invalid options and "
                      "MEMLEDGER_ABORT_ON_BAD_OPTION=1: aborting\n");
}

static void test_options_abort_on_bad_option_needs_a_problem(void **state) {
  (void)state;
  assert_int_equal(setenv("MEMLEDGER_ABORT_ON_BAD_OPTION", "yes", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_MAX_FRAMES", "16", 1), 0);
  assert_int_equal(ml_options_load(), 0); /* returns: nothing was wrong */
  assert_string_equal(ml_test_output(), "");
  assert_int_equal(ml_option_get(ML_OPT_ABORT_ON_BAD_OPTION), 1);
}

static void test_options_max_errors_caps_option_warnings(void **state) {
  const char *out;

  (void)state;
  ml_log_reset(); /* the default cap (and the default fd) */
  ml_log_set_fd(ml_test_pipe[1]);
  assert_int_equal(setenv("MEMLEDGER_MAX_ERRORS", "1", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_MAX_FRAMES", "abc", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_VERBOSE", "abc", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_QUIET", "abc", 1), 0);
  assert_int_equal(ml_options_load(), 3);
  out = ml_test_output();
  /* the cap already applies to the option warnings themselves */
  assert_int_equal(ml_test_count(out, " is not valid "), 1);
  assert_non_null(strstr(out, "MEMLEDGER_MAX_FRAMES=\"abc\""));
  assert_null(strstr(out, "MEMLEDGER_VERBOSE"));
  assert_int_equal(ml_test_count(out, "further messages suppressed"), 1);
  assert_int_equal(ml_option_get(ML_OPT_MAX_ERRORS), 1);
}

/* ---- duration and limit (MEMLEDGER_INTERVAL, MEMLEDGER_DUMP_AT) --------- */

static void test_options_duration_suffixes(void **state) {
  static const struct {
    const char *text;
    long long ms;
  } cases[] = {{"0", 0},        {"30", 30000},  {"30s", 30000}, {"30S", 30000},
               {"5m", 300000},  {"2h", 7200000}, {"500ms", 500}, {"1MS", 1}};
  static const char *const bad[] = {"", "s", "1.5s", "10 s", "-1s", "1d", "1sec", "m5"};
  long long v;

  (void)state;
  for (size_t i = 0; i < ML_ARRAY_SIZE(cases); i++) {
    v = -7;
    assert_int_equal(ml_parse_duration(cases[i].text, 0, 1LL << 40, &v), 0);
    assert_true(v == cases[i].ms);
  }
  for (size_t i = 0; i < ML_ARRAY_SIZE(bad); i++) {
    v = -7;
    assert_int_equal(ml_parse_duration(bad[i], 0, 1LL << 40, &v), -1);
    assert_int_equal(v, -7);
  }
  /* too long: clamped to max */
  assert_int_equal(ml_parse_duration("99999999999999999999h", 0, 1000, &v), 1);
  assert_int_equal(v, 1000);
  assert_int_equal(ml_option_set_text(ML_OPT_INTERVAL, "90s"), 0);
  assert_true(ml_option_get(ML_OPT_INTERVAL) == 90000);
}

static void test_options_limit_size_or_percent(void **state) {
  static const char *const bad[] = {"%", "0%", "101%", "-5%", "5%%", "5 %", "1.5%", "2X"};
  long long v;

  (void)state;
  assert_int_equal(ml_parse_limit("2G", 0, 1LL << 50, &v), 0);
  assert_true(v == 2LL << 30);
  assert_int_equal(ml_parse_limit("80%", 0, 1LL << 50, &v), 0);
  assert_true(v == -80);
  assert_int_equal(ml_parse_limit("100%", 0, 1LL << 50, &v), 0);
  assert_true(v == -100);
  for (size_t i = 0; i < ML_ARRAY_SIZE(bad); i++) {
    v = -7;
    assert_int_equal(ml_parse_limit(bad[i], 0, 1LL << 50, &v), -1);
    assert_int_equal(v, -7);
  }
  assert_int_equal(ml_option_set_text(ML_OPT_DUMP_AT, "75%"), 0);
  assert_true(ml_option_get(ML_OPT_DUMP_AT) == -75);
}

/* ---- listings ----------------------------------------------------------- */

/* The default of option i as the listings show it (independent of
 * options.c's own formatting). */
static void ml_test_default_text(int i, char *buf, size_t size) {
  const ml_opt_desc_t *d = &ml_opt_desc[i];

  if (d->type == ML_OPT_TYPE_PATH) {
    snprintf(buf, size, "%s", d->values);
  } else if (d->type == ML_OPT_TYPE_ENUM) {
    const char *v = d->values;
    for (long long k = 0; k < d->def; k++) v = strchr(v, '|') + 1;
    snprintf(buf, size, "%.*s", (int)strcspn(v, "|"), v);
  } else {
    snprintf(buf, size, "%lld", d->def);
  }
}

static void test_options_format_lists_every_option(void **state) {
  char buf[4096], want[4096], val[64];
  size_t n, len = 0;

  (void)state;
  for (int i = 0; i < ML_OPT_COUNT; i++) {
    ml_test_default_text(i, val, sizeof(val));
    len += (size_t)snprintf(want + len, sizeof(want) - len, "%s%s=%s",
                            i ? " " : "", ml_opt_desc[i].name, val);
  }
  n = ml_options_format(buf, sizeof(buf));
  assert_string_equal(buf, want);
  assert_int_equal(n, strlen(want));
  assert_non_null(strstr(buf, "enabled=1 min_size=1024 unwind=auto "));
  assert_int_equal(ml_test_count(buf, "="), ML_OPT_COUNT);

  /* effective values after a load: enum by name, signal by number, path */
  assert_int_equal(setenv("MEMLEDGER_UNWIND", "FP", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_SIGNAL", "SIGUSR1", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_DIR", "/tmp/a b", 1), 0);
  assert_int_equal(setenv("MEMLEDGER_MIN_SIZE", "64K", 1), 0);
  assert_int_equal(ml_options_load(), 0);
  ml_options_format(buf, sizeof(buf));
  assert_non_null(strstr(buf, " unwind=fp "));
  assert_non_null(strstr(buf, " signal=10 "));
  assert_non_null(strstr(buf, " dir=/tmp/a b "));
  assert_non_null(strstr(buf, " min_size=65536 "));
}

static void test_options_anchor_dir_against_start_cwd(void **state) {
  (void)state;
  /* the default "." is the start directory itself */
  assert_int_equal(ml_options_load(), 0);
  assert_true(ml_options_anchor_dir("/srv/app"));
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/srv/app");
  assert_int_equal(ml_option_state(ML_OPT_DIR), ML_OPT_SET);
  ml_options_reset();
  assert_int_equal(setenv("MEMLEDGER_DIR", "././dumps", 1), 0);
  assert_int_equal(ml_options_load(), 0);
  assert_true(ml_options_anchor_dir("/"));
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/dumps");
  /* absolute already, or no absolute start directory: unchanged */
  assert_false(ml_options_anchor_dir("/srv"));
  ml_options_reset();
  assert_int_equal(setenv("MEMLEDGER_DIR", "d", 1), 0);
  assert_int_equal(ml_options_load(), 0);
  assert_false(ml_options_anchor_dir("(unreachable)/x"));
  assert_string_equal(ml_option_str(ML_OPT_DIR), "d");
  assert_true(ml_options_anchor_dir("/srv"));
  assert_string_equal(ml_option_str(ML_OPT_DIR), "/srv/d");
}

static void test_options_format_truncates_safely(void **state) {
  char buf[16];
  size_t n;

  (void)state;
  memset(buf, 'X', sizeof(buf));
  n = ml_options_format(buf, 10);
  assert_int_equal(n, 9);
  assert_string_equal(buf, "enabled=1");
  assert_int_equal(buf[10], 'X'); /* nothing written past size */
  n = ml_options_format(buf, 1);
  assert_int_equal(n, 0);
  assert_string_equal(buf, "");
  assert_int_equal(ml_options_format(buf, 0), 0);
}

static void test_options_print_shows_values_and_sources(void **state) {
  const char *out;

  (void)state;
  assert_int_equal(setenv("MEMLEDGER_MAX_FRAMES", "64", 1), 0);
  assert_int_equal(ml_options_load(), 0);
  assert_int_equal(ml_option_set_text(ML_OPT_QUIET, "on"), 0);
  ml_test_output();
  ml_options_print();
  out = ml_test_output();
  assert_int_equal(strncmp(out, "memledger: effective options:\n", 30), 0);
  assert_int_equal(ml_test_count(out, "\n"), ML_OPT_COUNT + 1);
  assert_non_null(strstr(out, "\nmemledger:   min_size            = 1024       "
                              "(MEMLEDGER_MIN_SIZE, default)\n"));
  assert_non_null(strstr(out, "\nmemledger:   max_frames          = 64         "
                              "(MEMLEDGER_MAX_FRAMES, environment)\n"));
  assert_non_null(strstr(out, "\nmemledger:   quiet               = 1          "
                              "(MEMLEDGER_QUIET, program)\n"));
  assert_non_null(strstr(out, "\nmemledger:   unwind              = auto       "
                              "(MEMLEDGER_UNWIND, default)\n"));
  for (int i = 0; i < ML_OPT_COUNT; i++)
    assert_non_null(strstr(out, ml_opt_desc[i].env));
}

/* ---- main --------------------------------------------------------------- */

#define ML_TEST(f)                                                             \
  cmocka_unit_test_setup_teardown(f, ml_test_setup, ml_test_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      ML_TEST(test_options_table_env_names_match_table_names),
      ML_TEST(test_options_bool_accepts_on_off),
      ML_TEST(test_options_bool_empty_value_means_true),
      ML_TEST(test_options_int_rejects_trailing_garbage),
      ML_TEST(test_options_int_overflow_is_an_error),
      ML_TEST(test_options_int_out_of_range_clamps),
      ML_TEST(test_options_size_suffixes),
      ML_TEST(test_options_size_rejects_bad_suffixes),
      ML_TEST(test_options_size_overflow_clamps),
      ML_TEST(test_options_duration_suffixes),
      ML_TEST(test_options_limit_size_or_percent),
      ML_TEST(test_options_enum_case_insensitive),
      ML_TEST(test_options_enum_loads_by_name),
      ML_TEST(test_options_signal_names_and_numbers),
      ML_TEST(test_options_signal_refuses_sigkill),
      ML_TEST(test_options_signal_bad_value_warns),
      ML_TEST(test_options_bad_value_warns_once_and_keeps_default),
      ML_TEST(test_options_bad_value_is_escaped_and_cut),
      ML_TEST(test_options_out_of_range_clamps_and_warns),
      ML_TEST(test_options_unknown_variable_suggests_near_name),
      ML_TEST(test_options_arenas_rounded_to_pow2),
      ML_TEST(test_options_path_is_stored),
      ML_TEST(test_options_list_sets_options),
      ML_TEST(test_options_variable_wins_over_list),
      ML_TEST(test_options_list_bad_value_and_unknown_name_warn_once),
      ML_TEST(test_options_list_max_errors_caps_its_warnings),
      ML_TEST(test_options_conf_file_is_the_lowest_source),
      ML_TEST(test_options_conf_file_untrusted_is_ignored),
      ML_TEST(test_options_conf_file_size_limit_and_errno),
      ML_TEST(test_options_load_does_not_allocate),
      ML_TEST(test_options_secure_ignores_the_environment),
      ML_TEST(test_options_secure_reads_the_conf_file),
      ML_TEST(test_options_load_reads_several_in_table_order),
      ML_TEST(test_options_load_is_idempotent),
      ML_TEST(test_options_load_without_environ_keeps_defaults),
      ML_TEST(test_options_set_text_applies_and_rejects),
      ML_TEST(test_options_abort_on_bad_option_aborts_after_reporting),
      ML_TEST(test_options_abort_on_bad_option_needs_a_problem),
      ML_TEST(test_options_max_errors_caps_option_warnings),
      ML_TEST(test_options_format_lists_every_option),
      ML_TEST(test_options_anchor_dir_against_start_cwd),
      ML_TEST(test_options_format_truncates_safely),
      ML_TEST(test_options_print_shows_values_and_sources),
  };
  return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}

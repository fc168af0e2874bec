/* SPDX-License-Identifier: MIT */
/*
 * test_fmt.c - unit tests for fmt.c: ml_snprintf is compared with the libc
 * snprintf over a table of formats and buffer sizes (truncation, size 0 and
 * 1 included), plus the documented differences and the string helpers.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "fmt.h"

/* Sizes each vector is formatted with: 0 and 1 are the edge cases, the
 * small ones truncate inside fields, 256 fits every vector. */
static const size_t ml_sizes[] = {0, 1, 2, 3, 5, 8, 13, 256};

/* Format with both implementations at every size; compare the return value
 * and the full buffer (so that bytes past the NUL must be untouched too). */
#define CHECK_VS_LIBC(...)                                                     \
  do {                                                                         \
    for (size_t i_ = 0; i_ < sizeof(ml_sizes) / sizeof(ml_sizes[0]); i_++) {   \
      char want[300], got[300];                                                \
      memset(want, '#', sizeof(want));                                         \
      memset(got, '#', sizeof(got));                                           \
      int wn = snprintf(want, ml_sizes[i_], __VA_ARGS__);                      \
      int gn = ml_snprintf(got, ml_sizes[i_], __VA_ARGS__);                    \
      if (wn != gn || memcmp(want, got, sizeof(want)) != 0)                    \
        fail_msg("%s (size %zu): libc %d \"%.*s\", ml %d \"%.*s\"",            \
                 #__VA_ARGS__, ml_sizes[i_], wn, (int)sizeof(want), want, gn,  \
                 (int)sizeof(got), got);                                       \
    }                                                                          \
  } while (0)

static void test_fmt_matches_snprintf_on_vectors(void **state) {
  (void)state;
  CHECK_VS_LIBC("plain text, no conversions");
  CHECK_VS_LIBC("100%% sure");
  CHECK_VS_LIBC("%c%c%c", 'a', 'b', 'c');
  CHECK_VS_LIBC("[%5c|%-5c]", 'x', 'y');
  CHECK_VS_LIBC("%s and %s", "one", "two");
  CHECK_VS_LIBC("[%10s|%-10s]", "right", "left");
  CHECK_VS_LIBC("[%.3s|%.0s|%.10s]", "abcdef", "gone", "short");
  CHECK_VS_LIBC("[%.*s]", 4, "abcdefgh");
  CHECK_VS_LIBC("[%*s|%*s]", 6, "ab", -6, "cd");
  CHECK_VS_LIBC("[%-8.2s]", "xyz");
  CHECK_VS_LIBC("%d %i %d %d", 0, 42, -42, INT_MAX);
  CHECK_VS_LIBC("%d", INT_MIN);
  CHECK_VS_LIBC("[%5d|%-5d|%05d|%05d]", 42, 42, 42, -42);
  CHECK_VS_LIBC("[%.3d|%.0d|%.0d|%8.3d]", 5, 0, 3, -5);
  CHECK_VS_LIBC("%u %u", 0u, UINT_MAX);
  CHECK_VS_LIBC("%x %X %x %X", 0u, 0u, 0xdeadbeefu, 0xdeadbeefu);
  CHECK_VS_LIBC("[%08x|%-8X|%2x]", 0xabcu, 0xabcu, 0x12345u);
  CHECK_VS_LIBC("%ld %ld %lu %lx", LONG_MIN, LONG_MAX, ULONG_MAX, ULONG_MAX);
  CHECK_VS_LIBC("%lld %llu %llx", LLONG_MIN, ULLONG_MAX, 0x123456789abcdefULL);
  CHECK_VS_LIBC("%zu %zd %zx", SIZE_MAX, (ssize_t)-1, (size_t)4096);
  CHECK_VS_LIBC("%jd %ju", INTMAX_MIN, UINTMAX_MAX);
  CHECK_VS_LIBC("%p", (void *)0x7ffdeadbeef0);
  CHECK_VS_LIBC("[%20p|%-20p]", (void *)0x1000, (void *)0xabc);
  CHECK_VS_LIBC("pid %d: %s (%s, errno %d) at 0x%zx?", 1234, "open failed",
                "ENOENT", 2, (size_t)0);
  CHECK_VS_LIBC("%s", "a string that is longer than most of the sizes tried");
}

/* Formats that compilers warn about: an empty format, '0' combined with '-'
 * or with a precision (the '0' is then ignored), and h/hh given values that
 * do not fit (they are converted to short/char). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-zero-length"
static void test_fmt_matches_snprintf_on_ignored_flags(void **state) {
  (void)state;
  CHECK_VS_LIBC("");
  CHECK_VS_LIBC("[%-05d|%-08x]", 7, 0xabu);
  CHECK_VS_LIBC("[%08.3d|%06.0d]", 5, 0);
  CHECK_VS_LIBC("%hd %hu %hhd %hhu %hx", 70000, 70000, 300, 300, 0x12345);
  CHECK_VS_LIBC("%hd %hhd", -70000, -200);
}
#pragma GCC diagnostic pop

static void test_fmt_size_zero_writes_nothing(void **state) {
  char buf[4] = {'#', '#', '#', '#'};
  (void)state;
  assert_int_equal(ml_snprintf(buf, 0, "hello %d", 12345), 11);
  assert_memory_equal(buf, "####", 4);
  assert_int_equal(ml_snprintf(NULL, 0, "%s", "abc"), 3);
  assert_int_equal(ml_snprintf(buf, 1, "hello"), 5);
  assert_int_equal(buf[0], '\0');
  assert_int_equal(buf[1], '#');
}

static void test_fmt_null_string_prints_null(void **state) {
  char buf[32];
  const char *volatile nul = NULL; /* hide it from -Wformat-overflow */
  (void)state;
  assert_int_equal(ml_snprintf(buf, sizeof(buf), "[%s]", nul), 8);
  assert_string_equal(buf, "[(null)]");
  assert_int_equal(ml_snprintf(buf, sizeof(buf), "[%8s]", nul), 10);
  assert_string_equal(buf, "[  (null)]");
}

static void test_fmt_pointer_is_0x_hex(void **state) {
  char buf[32];
  (void)state;
  assert_int_equal(ml_snprintf(buf, sizeof(buf), "%p", (void *)0x1f), 4);
  assert_string_equal(buf, "0x1f");
  /* glibc prints "(nil)"; the contract is always 0x + hex. */
  assert_int_equal(ml_snprintf(buf, sizeof(buf), "%p", (void *)NULL), 3);
  assert_string_equal(buf, "0x0");
}

/* The conversions below are deliberately outside the supported subset. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
static void test_fmt_unknown_conversion_copied_verbatim(void **state) {
  char buf[64];
  (void)state;
  assert_int_equal(ml_snprintf(buf, sizeof(buf), "a%qb"), 4);
  assert_string_equal(buf, "a%qb");
  assert_int_equal(ml_snprintf(buf, sizeof(buf), "[%-5y] %d", 7), 8);
  assert_string_equal(buf, "[%-5y] 7");
  assert_int_equal(ml_snprintf(buf, sizeof(buf), "tail %"), 6);
  assert_string_equal(buf, "tail %");
  assert_int_equal(ml_snprintf(buf, sizeof(buf), "tail %0l"), 8);
  assert_string_equal(buf, "tail %0l");
}
#pragma GCC diagnostic pop

static void test_fmt_integer_to_text(void **state) {
  char buf[21];
  (void)state;
  assert_int_equal(ml_u64_to_dec(0, buf), 1);
  assert_string_equal(buf, "0");
  assert_int_equal(ml_u64_to_dec(UINT64_MAX, buf), 20);
  assert_string_equal(buf, "18446744073709551615");
  assert_int_equal(ml_u64_to_hex(0, buf), 1);
  assert_string_equal(buf, "0");
  assert_int_equal(ml_u64_to_hex(UINT64_MAX, buf), 16);
  assert_string_equal(buf, "ffffffffffffffff");
  assert_int_equal(ml_u64_to_hex(0xA0B1, buf), 4);
  assert_string_equal(buf, "a0b1");
}

static void test_fmt_strlcpy_truncates_and_terminates(void **state) {
  char buf[6];
  (void)state;
  memset(buf, '#', sizeof(buf));
  assert_int_equal(ml_strlcpy(buf, "abc", sizeof(buf)), 3);
  assert_string_equal(buf, "abc");
  assert_int_equal(ml_strlcpy(buf, "abcdefghij", sizeof(buf)), 10);
  assert_string_equal(buf, "abcde");
  buf[0] = 'x';
  assert_int_equal(ml_strlcpy(buf, "zzz", 0), 3);
  assert_int_equal(buf[0], 'x');
}

static void test_fmt_strcasecmp_is_ascii_case_insensitive(void **state) {
  (void)state;
  assert_int_equal(ml_strcasecmp("MemLedger", "memledger"), 0);
  assert_true(ml_strcasecmp("abc", "abd") < 0);
  assert_true(ml_strcasecmp("abd", "ABC") > 0);
  assert_true(ml_strcasecmp("ab", "abc") < 0);
  assert_true(ml_strcasecmp("abc", "ab") > 0);
  assert_int_equal(ml_strcasecmp("", ""), 0);
  assert_int_equal(ml_strncasecmp("SIGUSR2", "sigusr1", 6), 0);
  assert_true(ml_strncasecmp("SIGUSR2", "sigusr1", 7) > 0);
  assert_int_equal(ml_strncasecmp("a", "b", 0), 0);
  /* Non-ASCII bytes compare as they are. */
  assert_true(ml_strcasecmp("\xc3\x89", "\xc3\xa9") != 0);
}

static void test_fmt_errno_name_table(void **state) {
  static const struct {
    int err;
    const char *name;
  } known[] = {
      {EPERM, "EPERM"},
      {ENOENT, "ENOENT"},
      {EINTR, "EINTR"},
      {EIO, "EIO"},
      {EBADF, "EBADF"},
      {EAGAIN, "EAGAIN"},
      {ENOMEM, "ENOMEM"},
      {EACCES, "EACCES"},
      {EEXIST, "EEXIST"},
      {EXDEV, "EXDEV"},
      {ENOTDIR, "ENOTDIR"},
      {EINVAL, "EINVAL"},
      {ENFILE, "ENFILE"},
      {EMFILE, "EMFILE"},
      {EFBIG, "EFBIG"},
      {ENOSPC, "ENOSPC"},
      {EROFS, "EROFS"},
      {ERANGE, "ERANGE"},
      {ENAMETOOLONG, "ENAMETOOLONG"},
      {ELOOP, "ELOOP"},
      {ENOSYS, "ENOSYS"},
      {ENOTSUP, "ENOTSUP"},
      {EDQUOT, "EDQUOT"},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    assert_string_equal(ml_errno_name(known[i].err), known[i].name);
  /* Every errno from EPERM to ERANGE has a name. */
  for (int e = EPERM; e <= ERANGE; e++)
    assert_string_not_equal(ml_errno_name(e), "E?");
  assert_string_equal(ml_errno_name(0), "E?");
  assert_string_equal(ml_errno_name(-1), "E?");
  assert_string_equal(ml_errno_name(100000), "E?");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fmt_matches_snprintf_on_vectors),
      cmocka_unit_test(test_fmt_matches_snprintf_on_ignored_flags),
      cmocka_unit_test(test_fmt_size_zero_writes_nothing),
      cmocka_unit_test(test_fmt_null_string_prints_null),
      cmocka_unit_test(test_fmt_pointer_is_0x_hex),
      cmocka_unit_test(test_fmt_unknown_conversion_copied_verbatim),
      cmocka_unit_test(test_fmt_integer_to_text),
      cmocka_unit_test(test_fmt_strlcpy_truncates_and_terminates),
      cmocka_unit_test(test_fmt_strcasecmp_is_ascii_case_insensitive),
      cmocka_unit_test(test_fmt_errno_name_table),
  };
  return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}

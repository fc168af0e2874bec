/* SPDX-License-Identifier: MIT */
/*
 * ml_test.h - helpers shared by the unit tests (tests/unit/).  Header only.
 */
#ifndef ML_TEST_H
#define ML_TEST_H

#include <stdlib.h>
#include <string.h>

extern char **environ;

#ifdef cmocka_unit_test /* after <cmocka.h> */
#include <sys/wait.h>
#include <unistd.h>

/* child's result (0 to 4) in a forked copy of this process (a snapshot);
 * any other status fails the test. */
static inline int ml_test_in_snapshot(int (*child)(void)) {
  pid_t pid = fork();
  if (pid == 0) _exit(child());
  assert_true(pid > 0);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_in_range(WEXITSTATUS(st), 0, 4);
  return WEXITSTATUS(st);
}
#endif

/* Remove every MEMLEDGER_* variable (names first: unsetenv edits environ). */
static inline void ml_test_clear_env(void) {
  char names[64][256];
  size_t n = 0;
  for (char **e = environ; *e != NULL && n < 64; e++) {
    const char *eq = strchr(*e, '=');
    size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
    if (strncmp(*e, "MEMLEDGER_", 10) == 0 && len < sizeof names[0]) {
      memcpy(names[n], *e, len);
      names[n++][len] = '\0';
    }
  }
  for (size_t i = 0; i < n; i++)
    unsetenv(names[i]);
}

#endif /* ML_TEST_H */

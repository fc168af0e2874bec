/* SPDX-License-Identifier: MIT */
/*
 * log.c - diagnostics on stderr, the implementation of log.h, and
 * ml_assert_fail (layer: output).
 *
 * Formats into a 512-byte stack buffer and writes with ml_prim_write_all.
 * Never allocates.  Before ml_log_ready() messages go to a static buffer
 * under a private spin lock (held only for a memcpy or the flush, never while
 * logging recursively); afterwards writes are direct and lock-free.  Not for
 * signal handlers.  Invariant: each message is whole, ends in '\n' and goes
 * out in one ml_prim_write_all call; the "further messages suppressed" line
 * is written at most once per reset.
 */
#include "log.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "prim.h"

#define ML_LOG_LINE 512       // bytes per message, '\n' included
#define ML_LOG_EARLY 8192     // bytes kept before ml_log_ready()
#define ML_LOG_DEFAULT_MAX 16 // MEMLEDGER_MAX_ERRORS default

static int ml_log_fd = 2;                    // where messages go
static long ml_log_max = ML_LOG_DEFAULT_MAX; // cap on warnings+errors; <0: none
static unsigned long ml_log_count;           // warnings+errors issued
static int ml_log_suppressed;                // suppressed line written
static int ml_log_main_tid;                  // 0: no thread tags
static int ml_log_is_ready;                  // 0: buffer in ml_log_early
static ML_TLS int ml_log_busy;               // this thread is writing one

static char ml_log_early[ML_LOG_EARLY]; // messages before ready
static size_t ml_log_early_len;         // bytes used in ml_log_early
static unsigned long ml_log_early_lost; // messages that did not fit
static bool ml_log_early_lock;          // guards the three above

/* ---- early buffer ------------------------------------------------------- */

static void ml_log_lock(void) {
  while (__atomic_test_and_set(&ml_log_early_lock, __ATOMIC_ACQUIRE))
    sched_yield();
}

static void ml_log_unlock(void) {
  __atomic_clear(&ml_log_early_lock, __ATOMIC_RELEASE);
}

/* Write errors are ignored: stderr is where they would be reported. */
static void ml_log_write(const char *buf, size_t len) {
  (void)ml_prim_write_all(__atomic_load_n(&ml_log_fd, __ATOMIC_RELAXED), buf,
                          len);
}

/* One whole message: written now, or kept whole in the early buffer. */
static void ml_log_emit(const char *buf, size_t len) {
  if (ml_likely(__atomic_load_n(&ml_log_is_ready, __ATOMIC_ACQUIRE))) {
    ml_log_write(buf, len);
    return;
  }
  ml_log_lock();
  if (ml_log_is_ready) { /* became ready while we waited */
    ml_log_unlock();
    ml_log_write(buf, len);
    return;
  }
  if (ml_log_early_lost == 0 && len <= ML_LOG_EARLY - ml_log_early_len) {
    memcpy(ml_log_early + ml_log_early_len, buf, len);
    ml_log_early_len += len;
  } else {
    ml_log_early_lost++; /* later ones too: keep the order without gaps */
  }
  ml_log_unlock();
}

void ml_log_ready(void) {
  ml_log_lock();
  if (!ml_log_is_ready) {
    ml_log_write(ml_log_early, ml_log_early_len);
    if (ml_log_early_lost > 0) {
      char note[128];
      int n = ml_snprintf(note, sizeof(note),
                          "memledger: warning: %lu early message(s) lost "
                          "(startup buffer full)\n",
                          ml_log_early_lost);
      ml_log_write(note, (size_t)n);
    }
    ml_log_early_len = 0;
    ml_log_early_lost = 0;
    __atomic_store_n(&ml_log_is_ready, 1, __ATOMIC_RELEASE);
  }
  ml_log_unlock();
}

/* ---- messages ----------------------------------------------------------- */

/* Count a warning or error against the cap.  False when it must be dropped;
 * the first drop writes the suppressed line instead. */
static bool ml_log_admit(void) {
  unsigned long n = __atomic_add_fetch(&ml_log_count, 1, __ATOMIC_RELAXED);
  long max = __atomic_load_n(&ml_log_max, __ATOMIC_RELAXED);
  char line[128];

  if (max < 0 || n <= (unsigned long)max) return true;
  if (__atomic_exchange_n(&ml_log_suppressed, 1, __ATOMIC_RELAXED) == 0) {
    int len = ml_snprintf(line, sizeof(line),
                          "memledger: warning: further messages suppressed "
                          "(MEMLEDGER_MAX_ERRORS=%ld)\n",
                          max);
    ml_log_emit(line, (size_t)len);
  }
  return false;
}

/* Prefixes and text into buf; returns the length, '\n' included. */
static size_t ml_log_format(char *buf, ml_log_level_t level, const char *fmt,
                            va_list ap) {
  const char *lvl = level == ML_LOG_WARNING ? "warning: "
                    : level == ML_LOG_ERROR ? "error: "
                                            : "";
  int main_tid = __atomic_load_n(&ml_log_main_tid, __ATOMIC_RELAXED);
  size_t len = (size_t)ml_snprintf(buf, ML_LOG_LINE, "memledger: %s", lvl);

  if (main_tid != 0) {
    pid_t tid = ml_prim_gettid();
    if (tid != main_tid)
      len += (size_t)ml_snprintf(buf + len, ML_LOG_LINE - len,
                                 "thread %d: ", (int)tid);
  }
  len += (size_t)ml_vsnprintf(buf + len, ML_LOG_LINE - len, fmt, ap);
  if (len > ML_LOG_LINE - 1) len = ML_LOG_LINE - 1; /* truncated */
  if (buf[len - 1] != '\n') buf[len++] = '\n';
  return len;
}

void ml_vlog(ml_log_level_t level, const char *fmt, va_list ap) {
  char buf[ML_LOG_LINE];

  if (ml_log_busy) return; /* logging from inside logging: drop */
  ml_log_busy = 1;
  if (level == ML_LOG_INFO || ml_log_admit())
    ml_log_emit(buf, ml_log_format(buf, level, fmt, ap));
  ml_log_busy = 0;
}

void ml_log(ml_log_level_t level, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  ml_vlog(level, fmt, ap);
  va_end(ap);
}

void ml_log_once(int *flag, ml_log_level_t level, const char *fmt, ...) {
  va_list ap;

  if (__atomic_exchange_n(flag, 1, __ATOMIC_ACQ_REL) != 0) return;
  va_start(ap, fmt);
  ml_vlog(level, fmt, ap);
  va_end(ap);
}

/* ---- settings ----------------------------------------------------------- */

void ml_log_set_max(long max) {
  __atomic_store_n(&ml_log_max, max < 0 ? -1 : max, __ATOMIC_RELAXED);
}

void ml_log_set_fd(int fd) {
  __atomic_store_n(&ml_log_fd, fd, __ATOMIC_RELAXED);
}

void ml_log_set_main_tid(int tid) {
  __atomic_store_n(&ml_log_main_tid, tid, __ATOMIC_RELAXED);
}

/* Defaults, except that output is left ready (direct writes): after a fork
 * the parent had flushed already, and tests see each write at once.  The
 * early buffer's contents, if any, are discarded. */
void ml_log_reset(void) {
  ml_log_fd = 2;
  ml_log_max = ML_LOG_DEFAULT_MAX;
  ml_log_count = 0;
  ml_log_suppressed = 0;
  ml_log_main_tid = 0;
  ml_log_early_len = 0;
  ml_log_early_lost = 0;
  ml_log_busy = 0;
  __atomic_clear(&ml_log_early_lock, __ATOMIC_RELAXED);
  __atomic_store_n(&ml_log_is_ready, 1, __ATOMIC_RELEASE);
}

#ifdef ML_TESTING
void ml_log_unready(void) {
  __atomic_store_n(&ml_log_is_ready, 0, __ATOMIC_RELEASE);
}
#endif

/* ---- assertions --------------------------------------------------------- */

/* Raw writes only: the failed assertion may be in fmt.c or in this file. */
void ml_assert_fail(const char *expr, const char *file, int line) {
  static const char head[] = "memledger: assertion failed: ";
  char num[12];
  size_t i = sizeof(num);
  unsigned u = line < 0 ? 0u : (unsigned)line;

  num[--i] = '\n';
  do {
    num[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0 && i > 0);
  (void)ml_prim_write_all(2, head, sizeof(head) - 1);
  (void)ml_prim_write_all(2, expr, strlen(expr));
  (void)ml_prim_write_all(2, " at ", 4);
  (void)ml_prim_write_all(2, file, strlen(file));
  (void)ml_prim_write_all(2, ":", 1);
  (void)ml_prim_write_all(2, num + i, sizeof(num) - i);
  abort();
}

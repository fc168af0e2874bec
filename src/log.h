/* SPDX-License-Identifier: MIT */
/*
 * log.h - the one path for diagnostics on stderr (layer: output).
 *
 * Every message is "memledger: " [level ": "] [ "thread <tid>: " ] text "\n",
 * formatted with ml_vsnprintf into a 512-byte stack buffer and written with
 * ml_prim_write_all.  Never allocates; a thread-local flag drops messages
 * issued while a message is being written (recursion); warnings and errors
 * are capped by ml_log_set_max (MEMLEDGER_MAX_ERRORS), after which one
 * "further messages suppressed" line is printed.  Messages logged before
 * ml_log_ready() are kept in a static 8 KiB buffer and flushed by it.
 * Not async-signal-safe (the cap counter is atomic, but the message ordering
 * is not guaranteed); the signal handler never logs.
 */
#ifndef ML_LOG_H
#define ML_LOG_H

#include "internal.h"
#include <stdarg.h>

typedef enum ml_log_level_e {
  ML_LOG_INFO,    // "memledger: text"
  ML_LOG_WARNING, // "memledger: warning: text"   (counted against the cap)
  ML_LOG_ERROR,   // "memledger: error: text"     (counted against the cap)
} ml_log_level_t;

void ml_log(ml_log_level_t level, const char *fmt, ...) ML_HIDDEN
    __attribute__((format(printf, 2, 3)));
void ml_vlog(ml_log_level_t level, const char *fmt, va_list ap) ML_HIDDEN;
#define ml_info(...) ml_log(ML_LOG_INFO, __VA_ARGS__)
#define ml_warning(...) ml_log(ML_LOG_WARNING, __VA_ARGS__)
#define ml_error(...) ml_log(ML_LOG_ERROR, __VA_ARGS__)

/* Warn at most once per flag: `flag` is a caller-owned static int, set
 * atomically so that two threads cannot both print. */
void ml_log_once(int *flag, ml_log_level_t level, const char *fmt, ...)
    ML_HIDDEN __attribute__((format(printf, 3, 4)));

/* Maximum number of warnings+errors to print; -1 = unlimited (default 16). */
void ml_log_set_max(long max) ML_HIDDEN;
/* The descriptor messages go to (default 2).  For tests. */
void ml_log_set_fd(int fd) ML_HIDDEN;
/* The pid whose thread ids are "main" (no "thread <tid>: " tag).  Set at init
 * and again in a forked child. */
void ml_log_set_main_tid(int tid) ML_HIDDEN;
/* Output is ready: flush what was buffered before, then write directly. */
void ml_log_ready(void) ML_HIDDEN;
/* Reset counters and settings to their defaults (tests, and the child after
 * fork); output is left ready, i.e. written directly, not buffered. */
void ml_log_reset(void) ML_HIDDEN;
#ifdef ML_TESTING
/* Back to buffering as before ml_log_ready(), to test the early buffer. */
void ml_log_unready(void) ML_HIDDEN;
#endif

#endif /* ML_LOG_H */

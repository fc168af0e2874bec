/* SPDX-License-Identifier: MIT */
/*
 * libopts.h - the library's MEMLEDGER_* options as another process sees
 * them.  The command links the library's own option code (src/options.c,
 * src/fmt.c) and runs its loader over that process's environment, so it
 * computes exactly the values the library uses there: one grammar (and one
 * order of sources: file, MEMLEDGER_OPTIONS, MEMLEDGER_<NAME>), with the
 * library's fallbacks (an invalid or refused MEMLEDGER_SIGNAL such as KILL
 * means the default, SIGUSR2) and its warnings.
 */
#ifndef MLT_LIBOPTS_H
#define MLT_LIBOPTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mlt_libopts_s {
  bool enabled;        // MEMLEDGER_ENABLED
  bool secure_off;     // off: secure-execution mode, no dir from root
  int signal;          // the dump signal the library uses; 0 = off
  long long trace_pid; // MEMLEDGER_TRACE_PID (0 = every process tracks)
  bool min_size_set;   // MEMLEDGER_MIN_SIZE given (variable, list or file)
  char dir[4096];      // MEMLEDGER_DIR as the library uses it
  char warnings[2048]; // what the library warns about them, one per line
} mlt_libopts_t;

/* Load the options from env (NAME=value strings, NULL-terminated) and the
 * configuration file as the library does at initialisation, with
 * MEMLEDGER_OPTIONS; secure: the process runs in secure-execution mode
 * (AT_SECURE: the environment is ignored, only the file counts). */
void mlt_libopts_load(char *const *env, bool secure, mlt_libopts_t *out);

/* The library's grammar for a MEMLEDGER_SIGNAL value: the signal (0 = off),
 * or -1 when the library would reject it (and use its default). */
int mlt_parse_signal(const char *value);

#endif /* MLT_LIBOPTS_H */

/* SPDX-License-Identifier: MIT */
/*
 * dumper.h - dump triggers (layer: output): the dump signal, the dumper
 * thread it wakes, the exit dump and the API call.
 */
#ifndef ML_DUMPER_H
#define ML_DUMPER_H

#include "internal.h"
#include "dump.h"

/* Install the signal handler and start the dumper thread (constructor time).
 * Failures are reported once and leave the other triggers working. */
void ml_dumper_start(void) ML_HIDDEN;

/* The program installs `handler` for `sig` (from the sigaction/signal hooks).
 * If sig is the dump signal and the handler is not ours, signal dumps stop;
 * for a handler of the program's own (not SIG_DFL or SIG_IGN) a message says
 * so, once.  async-signal-safe. */
void ml_dumper_signal_claimed(int sig, void (*handler)(int)) ML_HIDDEN;

/* The exit dump, registered with __cxa_atexit without a DSO handle at
 * constructor time, so it runs after every other exit handler and every
 * library destructor (_dl_fini is registered after it). */
void ml_dumper_at_exit(void *unused) ML_HIDDEN;

/* A dump requested by the program (memledger_dump). */
int ml_dumper_request(ml_dump_result_t *res) ML_HIDDEN;

/* fork: the child gets its own pipe and dumper thread (or none). */
void ml_dumper_after_fork_child(bool follow) ML_HIDDEN;

#endif /* ML_DUMPER_H */

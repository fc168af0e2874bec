/* SPDX-License-Identifier: MIT */
/*
 * triggers.h - when dumps are written (layer: output): the dump signal, the
 * fatal signals, exit and the API, and how the program sees the signals
 * involved.
 *
 * Nothing is resident: no thread, no descriptor.  The dump signal's handler
 * forks a snapshot child with a raw clone (no atfork handlers, exit signal
 * 0: no SIGCHLD, invisible to wait() and waitpid(-1)) that writes the dump
 * from its copy of the address space and exits; memledger reaps it.  The
 * program's threads run on; the signalled thread waits for the fork only.
 * Fatal signals left at their default action (TERM, INT, HUP, QUIT: the
 * exit dump; SEGV, BUS, ABRT, FPE, ILL: a crash dump) are dumped through a
 * snapshot before the signal proceeds.  With the preload front, sigaction()
 * and signal() show the program its own actions (ml_triggers_sigaction),
 * whatever memledger installed underneath.  The handlers are
 * async-signal-safe; the rest is not meant for signal handlers unless
 * stated.
 */
#ifndef ML_TRIGGERS_H
#define ML_TRIGGERS_H

#include "dump.h"
#include "internal.h"
#include <signal.h>

/* Process start (the constructor): the shared page, the scratch
 * reservation, the handlers.  virtual_signals: the front interposes
 * sigaction, so the fatal-signal handlers can be hidden from the program. */
void ml_triggers_start(bool virtual_signals) ML_HIDDEN;

/* The exit dump, registered with __cxa_atexit without a DSO handle at
 * constructor time, so it runs after every other exit handler and every
 * library destructor (_dl_fini is registered after it).  Waits for dump
 * children still writing first. */
void ml_triggers_at_exit(void *unused) ML_HIDDEN;

/* A dump requested by the program (trigger API: memledger_dump; LEAK_CHECK:
 * memledger_leak_check): a snapshot, waited for (written in the calling
 * thread when no child can be made).  res gets the child's result, the
 * leak scan's counts included, even when the file could not be written. */
int ml_triggers_api_dump(ml_trigger_t trigger, ml_dump_result_t *res) ML_HIDDEN;

/* The program calls sigaction(sig, act, old).  Returns true when memledger
 * manages sig and answered the call itself (*old gets the program's own
 * previous action, the kernel gets what serves both), false to pass the
 * call through.  async-signal-safe. */
bool ml_triggers_sigaction(int sig, const struct sigaction *act, struct sigaction *old,
                           int *rc) ML_HIDDEN;

/* The program takes the signals in `set` synchronously (signalfd, sigwait
 * and friends): one warning when the dump signal is among them. */
void ml_triggers_sigset_taken(const sigset_t *set, const char *how) ML_HIDDEN;

/* The dump signal memledger handles, 0 = none (off, or the program's own
 * handler had it at start). */
int ml_triggers_dump_signal(void) ML_HIDDEN;
/* True once the program installed a seccomp filter (see below). */
bool ml_triggers_sandboxed(void) ML_HIDDEN;

/* The program is about to install a seccomp filter: from now on no dump is
 * written (a filter may kill the process for a system call a dump needs);
 * one message says so, before the filter exists.  installed=false undoes
 * it when the call failed. */
void ml_triggers_seccomp(bool installed) ML_HIDDEN;

/* An allocation got NULL from jemalloc: counted; the first one (in a
 * program's own call, while recording) takes an alloc-failure snapshot
 * before the caller gets the NULL.  Keeps errno.  async-signal-safe. */
void ml_triggers_alloc_failed(void) ML_HIDDEN ML_COLD;

/* Reap snapshot children that have finished (ml_core.reap). */
void ml_triggers_reap(void) ML_HIDDEN;

/* fork: the child has no dump children of its own yet and numbers its
 * dumps from 1. */
void ml_triggers_after_fork_child(void) ML_HIDDEN;

#endif /* ML_TRIGGERS_H */

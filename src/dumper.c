/* SPDX-License-Identifier: MIT */
/*
 * dumper.c - dump triggers (layer: output).
 *
 * The dump signal's handler only writes one byte to a non-blocking pipe; a
 * dumper thread (all signals blocked, recursion guard set for its lifetime)
 * reads it and writes the dump, so no dump is ever written inside a handler.
 * The exit dump runs last in exit(): see ml_dumper_at_exit.  Locks: the dump
 * lock (dump.c) only.  The handler is async-signal-safe; nothing else here is.
 * One stdio call, on purpose: fflush(NULL) before _exit with the leak exit
 * status, at exit time only (exit() would flush after its handlers, and
 * _exit skips that).
 */
#include "dumper.h"
#include "fmt.h"
#include "log.h"
#include "options.h"
#include "prim.h"
#include "track.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

/* glibc's own entry, so that our sigaction hook (preload.c) does not see us. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

static struct {
  int sig;             // the dump signal, 0 = none
  int pipe_rd, pipe_wr;
  _Atomic bool claimed; // the program took the signal over
} ml_dumper = {0, -1, -1, false};

static void ml_dumper_on_signal(int sig) {
  (void)sig;
  int saved = errno;
  char c = 'd';
  /* Non-blocking: a full pipe already holds a pending request. */
  ssize_t r = write(ml_dumper.pipe_wr, &c, 1);
  (void)r;
  errno = saved;
}

void ml_dumper_signal_claimed(int sig, void (*handler)(int)) {
  if (sig != ml_dumper.sig || sig == 0 || handler == ml_dumper_on_signal) return;
  if (atomic_exchange(&ml_dumper.claimed, true)) return;
  /* Resetting to the default or ignoring is not a handler of the program's
   * own (programs reset every signal in a forked child before exec): dumps
   * on the signal stop, quietly. */
  if (handler == SIG_DFL || handler == SIG_IGN) return;
  static int once;
  ml_log_once(&once, ML_LOG_WARNING,
              "the program installs its own handler for signal %d: the program wins, "
              "and dumps on that signal are off (set MEMLEDGER_SIGNAL to another signal, "
              "or call memledger_dump())", sig);
}

static void *ml_dumper_main(void *arg) {
  (void)arg;
  ml_guard_enter();
  prctl(PR_SET_NAME, "memledger", 0, 0, 0);
  char buf[64];
  for (;;) {
    ssize_t n = read(ml_dumper.pipe_rd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* the pipe is gone */
    ml_dump_result_t res;
    if (ml_dump_write(ML_TRIGGER_SIGNAL, &res) == 0 && ml_option_get(ML_OPT_VERBOSE) >= 2)
      ml_info("dump written to %s (%llu blocks, %llu bytes)", res.path,
              (unsigned long long)res.blocks, (unsigned long long)res.bytes);
  }
  return NULL;
}

static bool ml_dumper_thread_start(void) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  /* The reader blocks; only the writer (the handler) must not. */
  fcntl(fds[0], F_SETFL, 0);
  ml_dumper.pipe_rd = fds[0];
  ml_dumper.pipe_wr = fds[1];
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 << 10);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits this mask */
  pthread_t th;
  int rc = pthread_create(&th, &attr, ml_dumper_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    close(fds[0]);
    close(fds[1]);
    ml_dumper.pipe_rd = ml_dumper.pipe_wr = -1;
    ml_error("cannot start the dumper thread (%s): dumps on signal are off",
             ml_errno_name(rc));
    return false;
  }
  return true;
}

void ml_dumper_start(void) {
  int sig = (int)ml_option_get(ML_OPT_SIGNAL);
  if (sig <= 0) return;
  struct sigaction old;
  if (__sigaction(sig, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
      old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    ml_warning("signal %d already has a handler: the program wins, and dumps on that "
               "signal are off (set MEMLEDGER_SIGNAL to another signal)", sig);
    return;
  }
  if (!ml_dumper_thread_start()) return;
  ml_dumper.sig = sig;
  struct sigaction sa = {0};
  sa.sa_handler = ml_dumper_on_signal;
  sa.sa_flags = SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  __sigaction(sig, &sa, NULL);
}

void ml_dumper_after_fork_child(bool follow) {
  /* The pipe is shared with the parent, whose dumper would eat our requests. */
  if (ml_dumper.pipe_rd >= 0) close(ml_dumper.pipe_rd);
  if (ml_dumper.pipe_wr >= 0) close(ml_dumper.pipe_wr);
  ml_dumper.pipe_rd = ml_dumper.pipe_wr = -1;
  if (follow && ml_dumper.sig && !atomic_load(&ml_dumper.claimed)) {
    if (!ml_dumper_thread_start()) ml_dumper.sig = 0;
  }
}

int ml_dumper_request(ml_dump_result_t *res) {
  ml_guard_enter();
  int rc = ml_dump_write(ML_TRIGGER_API, res);
  ml_guard_leave();
  return rc;
}

void ml_dumper_at_exit(void *unused) {
  (void)unused;
  if (atomic_load(&ml_core.state) != ML_STATE_READY) return;
  ml_guard_enter();
  ml_dump_result_t res = {0};
  int rc = -1;
  if (ml_option_get(ML_OPT_DUMP_AT_EXIT)) rc = ml_dump_write(ML_TRIGGER_EXIT, &res);
  /* From here on allocations and frees still work but are not recorded. */
  atomic_store(&ml_core.state, ML_STATE_SHUTDOWN);
  if (rc == 0 && !ml_option_get(ML_OPT_QUIET)) {
    ml_info("%llu unfreed blocks, %llu bytes, from %llu stacks (blocks of %zu bytes "
            "and more); dump: %s",
            (unsigned long long)res.blocks, (unsigned long long)res.bytes,
            (unsigned long long)res.stacks, ml_gate.threshold, res.path);
  }
  int code = (int)ml_option_get(ML_OPT_LEAK_EXITCODE);
  if (rc == 0 && code && res.blocks) {
    /* exit() flushes stdio only after its handlers: do it now, then leave
     * with the leak status without running anything twice. */
    fflush(NULL);
    _exit(code);
  }
  ml_guard_leave();
}

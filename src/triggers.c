/* SPDX-License-Identifier: MIT */
/*
 * triggers.c - when dumps are written, and the signals as the program sees
 * them (layer: output).  See triggers.h.
 *
 * Snapshot: the handler (or a waiting caller) makes a child with a raw
 * clone(2) whose exit signal is 0: no atfork handler runs, no SIGCHLD is
 * sent, and wait()/waitpid(-1) without __WCLONE/__WALL never return it.
 * The child blocks every signal, reads the tables frozen (table.c: readable
 * at any instant, no lock), writes the dump with raw system calls and
 * memory reserved ahead, counts itself finished in the page it shares with
 * the program, and exits.  It never calls jemalloc, libunwind, stdio or
 * the loader: their locks may have been held by threads it does not have.
 * The program reaps finished children at its next tracked allocation, next
 * dump or exit (until then a finished child is a zombie).  Up to
 * ML_CHILDREN snapshots may be in flight; more requests are dropped with
 * one message.
 *
 * Signals as the program sees them: memledger installs its handler for the
 * dump signal, and (preload front) for fatal signals left at their default
 * action; sigaction() and signal() answer with the program's own actions
 * (ml_trig.sig[].prog), and the kernel gets the program's handler as soon
 * as the program installs one: the program always wins.  The signal state
 * is changed under a spinlock taken with every signal blocked, so handlers
 * on the same thread never find it held.  The handlers themselves are
 * async-signal-safe.
 */
#include "triggers.h"
#include "core.h"
#include "fmt.h"
#include "log.h"
#include "options.h"
#include "prim.h"
#include "ehframe.h"
#include "young.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef __WCLONE
#define __WCLONE 0x80000000
#endif

/* glibc's own entry, so that the sigaction hook (preload.c) does not see us. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

#define ML_CHILDREN 16

/* The signals memledger may dump on before the program dies. */
static const int ml_fatal_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT,
                                       SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

typedef struct ml_sig_s {
  bool managed;          // memledger answers sigaction for this signal
  bool ours;             // the kernel has memledger's handler
  bool fatal;            // dump, then die by the signal (else: the dump signal)
  struct sigaction prog; // the program's own action, as it believes
} ml_sig_t;

static struct {
  _Atomic int child[ML_CHILDREN]; // snapshot children: pid, 0 free, -1 starting
  _Atomic unsigned reaped_seen;   // ml_dump_shared->finished at the last scan
  _Atomic unsigned requests;      // waited snapshots, for the result slots
  int dump_sig;                   // the dump signal, 0 = none
  _Atomic bool seccomp;           // the program installed a seccomp filter
  _Atomic int dying;              // a fatal signal is being handled
  ml_lock_t lock;                 // the signal table
  ml_sig_t sig[NSIG];
  /* MEMLEDGER_INTERVAL: a kernel POSIX timer sending the dump signal. */
  int timer;                      // kernel timer id, -1 = none
  bool timer_armed;               // running (the dump signal is ours)
  /* MEMLEDGER_DUMP_AT */
  uint64_t limit_step;            // bytes; 0 = off
  _Atomic uint64_t limit_next;    // the next crossing that dumps
  _Atomic uint64_t rss_next;      // the same for the resident size
  _Atomic uint64_t rss_checked;   // ml_prim_now_ns() of the last look at it
  _Atomic bool failed_dumped;     // the alloc-failure dump was taken
} ml_trig = {.timer = -1};

/* ---- small raw helpers ------------------------------------------------------ */

typedef struct { unsigned long w[1]; } ml_ksigset_t; /* the kernel's 64 signals */

static void ml_block_all(ml_ksigset_t *old) {
  ml_ksigset_t all = {{~0UL}};
  ml_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, sizeof all);
}

static void ml_restore_mask(const ml_ksigset_t *old) {
  ml_sys4(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, sizeof *old);
}

/* The signal table's lock, taken with every signal blocked (so a handler
 * on this thread never finds it held); *mask keeps the thread's mask. */
static void ml_sig_lock(ml_ksigset_t *mask) {
  ml_block_all(mask);
  ml_lock(&ml_trig.lock);
}

static void ml_sig_unlock(const ml_ksigset_t *mask) {
  ml_unlock(&ml_trig.lock);
  ml_restore_mask(mask);
}

static void ml_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* ---- snapshot children ------------------------------------------------------ */

/* Reap child slot i if it has exited (or wait for it).  true when gone. */
static bool ml_child_collect(int i, bool wait) {
  int pid = atomic_load(&ml_trig.child[i]);
  if (pid <= 0) return pid == 0;
  int st;
  long r;
  do r = waitpid(pid, &st, (wait ? 0 : WNOHANG) | __WCLONE);
  while (r < 0 && errno == EINTR);
  if (r == 0) return false; /* still writing */
  /* Reaped, or reaped by somebody else (a waitpid with __WALL). */
  if (atomic_compare_exchange_strong(&ml_trig.child[i], &pid, 0))
    atomic_fetch_sub(&ml_core.dump_children, 1);
  return true;
}

static void ml_reap_all(bool wait) {
  int saved = errno;
  for (int i = 0; i < ML_CHILDREN; i++) (void)ml_child_collect(i, wait);
  errno = saved;
}

void ml_triggers_reap(void) {
  unsigned fin = atomic_load_explicit(&ml_dump_shared->finished, memory_order_acquire);
  if (fin == atomic_load_explicit(&ml_trig.reaped_seen, memory_order_relaxed)) return;
  atomic_store_explicit(&ml_trig.reaped_seen, fin, memory_order_relaxed);
  ml_reap_all(false);
}

/* The child: write the dump from the frozen copy, report, exit. */
static __attribute__((noreturn)) void ml_snapshot_child(ml_trigger_t trigger, int signo,
                                                        pid_t pid, unsigned req,
                                                        uint64_t when,
                                                        ml_dump_since_t since,
                                                        uintptr_t root, uintptr_t skip_lo,
                                                        uintptr_t skip_hi) {
  ml_ksigset_t ignored;
  ml_block_all(&ignored);
  ml_tls.guard++;
  ml_log_set_main_tid(ml_prim_gettid());
  ml_sys2(SYS_prctl, PR_SET_NAME, "memledger-dump");
  ml_dump_req_t q = {trigger, signo, true, pid, when, since, root, skip_lo, skip_hi};
  ml_dump_result_t res;
  int rc = ml_dump_write_req(&q, &res);
  /* A failed allocation says where its dump is (the program may not live
   * long); the other unattended dumps only with MEMLEDGER_VERBOSE=2. */
  bool say = trigger == ML_TRIGGER_ALLOC_FAILURE
                 ? !ml_option_get(ML_OPT_QUIET)
                 : (trigger == ML_TRIGGER_SIGNAL || trigger == ML_TRIGGER_INTERVAL ||
                    trigger == ML_TRIGGER_LIMIT) && ml_option_get(ML_OPT_VERBOSE) >= 2;
  if (rc == 0 && say)
    ml_info("%s: dump written to %s (%llu blocks, %llu bytes)", ml_trigger_name(trigger),
            res.path, (unsigned long long)res.blocks, (unsigned long long)res.bytes);
  if (req) {
    unsigned s = req % ML_DUMP_SLOTS;
    ml_dump_shared->slot[s].res = res;
    atomic_store_explicit(&ml_dump_shared->slot[s].req, req, memory_order_release);
  }
  atomic_fetch_add_explicit(&ml_dump_shared->finished, 1, memory_order_release);
  for (;;) ml_sys1(SYS_exit_group, rc == 0 ? 0 : 1);
}

/* Take a snapshot dump.  wait: block until the child is done and fill *res
 * (else res may be NULL).  root: ml_dump_req_t.root (0: the child's own
 * frame).  Returns 0, or -1 with errno set.  async-signal-safe. */
static int ml_snapshot_from(ml_trigger_t trigger, int signo, bool wait, ml_dump_result_t *res,
                            uintptr_t root, uintptr_t skip_lo, uintptr_t skip_hi) {
  if (res) memset(res, 0, sizeof *res);
  if (atomic_load(&ml_trig.seccomp)) {
    if (res) res->err = EPERM; /* not a failure to fall back from */
    errno = EPERM;
    return -1;
  }
  ml_reap_all(false);
  /* The accumulators the child needs, mapped here while mapping is free. */
  (void)ml_dump_reserve(ml_stacks_count(&ml_core.stacks));
  int slot = -1;
  for (int i = 0; i < ML_CHILDREN && slot < 0; i++) {
    int zero = 0;
    if (atomic_compare_exchange_strong(&ml_trig.child[i], &zero, -1)) slot = i;
  }
  if (slot < 0) {
    static int once;
    ml_log_once(&once, ML_LOG_WARNING, "%d dumps are still being written: a dump request "
                "was dropped", ML_CHILDREN);
    errno = EAGAIN;
    return -1;
  }
  unsigned req = wait ? atomic_fetch_add(&ml_trig.requests, 1) + 1 : 0;
  pid_t self = ml_prim_getpid();
  /* The header's time is the snapshot's: children of snapshots taken in a
   * row may run (and number their files) in any order. */
  uint64_t when = ml_prim_realtime_ns();
  ml_dump_since_t since = ml_dump_mark(when);
  uint64_t t0 = ml_prim_now_ns();
  long pid = ml_sys5(SYS_clone, 0 /* exit signal 0 */, 0, 0, 0, 0);
  if (pid == 0) ml_snapshot_child(trigger, signo, self, req, when, since, root, skip_lo, skip_hi);
  uint64_t pause = ml_prim_now_ns() - t0;
  if (pid < 0) {
    atomic_store(&ml_trig.child[slot], 0);
    static int once;
    ml_log_once(&once, ML_LOG_ERROR, "dump failed: cannot fork the snapshot process: %s "
                "(errno %d)", ml_errno_name((int)-pid), (int)-pid);
    errno = (int)-pid;
    return -1;
  }
  atomic_fetch_add(&ml_core.dump_children, 1);
  atomic_store(&ml_trig.child[slot], (int)pid);
  if (!wait) return 0;
  (void)ml_child_collect(slot, true);
  unsigned s = req % ML_DUMP_SLOTS;
  if (atomic_load_explicit(&ml_dump_shared->slot[s].req, memory_order_acquire) != req) {
    errno = EIO; /* the child died before reporting */
    return -1;
  }
  *res = ml_dump_shared->slot[s].res;
  res->pause_ns = pause;
  if (res->err) {
    errno = res->err;
    return -1;
  }
  return 0;
}

static int ml_snapshot(ml_trigger_t trigger, int signo, bool wait, ml_dump_result_t *res) {
  return ml_snapshot_from(trigger, signo, wait, res, 0, 0, 0);
}

int ml_triggers_api_dump(ml_trigger_t trigger, ml_dump_result_t *res) {
  ml_guard_enter();
  int rc = ml_snapshot(trigger, 0, true, res);
  if (rc != 0 && res->err == 0) /* no child could be made: write it here */
    rc = ml_dump_write(trigger, res);
  ml_guard_leave();
  return rc;
}

/* ---- MEMLEDGER_INTERVAL: the timer -------------------------------------------- */

/* si_value of our timer's signals. */
#define ML_TIMER_COOKIE 0x6d6c6474 /* "mldt" */

/* Create the timer (raw timer_create: glibc's wrapper is not needed for
 * SIGEV_SIGNAL, and SIGEV_THREAD, which would make a thread, is never
 * used).  Process-directed: the kernel gives the signal to a thread that
 * does not block it.  Returns false when it cannot be made. */
static bool ml_timer_create(void) {
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = ml_trig.dump_sig;
  ev.sigev_value.sival_int = ML_TIMER_COOKIE;
  int id = -1;
  long rc = ml_sys3(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id);
  if (rc < 0) {
    static int once;
    ml_log_once(&once, ML_LOG_WARNING, "MEMLEDGER_INTERVAL: cannot create the timer: %s "
                "(errno %d); no periodic dumps", ml_errno_name((int)-rc), (int)-rc);
    return false;
  }
  ml_trig.timer = id;
  return true;
}

/* Start (on) or stop the timer.  The first period starts now.
 * async-signal-safe. */
static void ml_timer_arm(bool on) {
  if (ml_trig.timer < 0 || ml_trig.timer_armed == on) return;
  long long ms = on ? ml_option_get(ML_OPT_INTERVAL) : 0;
  struct itimerspec its;
  its.it_value.tv_sec = its.it_interval.tv_sec = (time_t)(ms / 1000);
  its.it_value.tv_nsec = its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
  if (ml_sys4(SYS_timer_settime, ml_trig.timer, 0, &its, NULL) == 0) ml_trig.timer_armed = on;
}

/* Make and start the timer when MEMLEDGER_INTERVAL asks for one and the
 * dump signal is memledger's.  pre: ml_trig.lock held, signals blocked. */
static void ml_timer_start(void) {
  if (ml_option_get(ML_OPT_INTERVAL) <= 0) return;
  int sig = ml_trig.dump_sig;
  if (sig <= 0 || !ml_trig.sig[sig].managed) {
    ml_warning("MEMLEDGER_INTERVAL needs the dump signal (MEMLEDGER_SIGNAL is off or the "
               "program handles it): no periodic dumps");
    return;
  }
  ml_trig.timer_armed = false;
  if (ml_timer_create()) ml_timer_arm(ml_trig.sig[sig].ours);
}

/* ---- MEMLEDGER_DUMP_AT: the live-bytes limit -------------------------------------- */

/* Tracked live bytes now: the arenas' counters read without their locks
 * (each is exact, their sum a moment's approximation). */
static uint64_t ml_live_bytes(void) {
  ml_counts_t young = {0};
  ml_young_counts_add(&young);
  uint64_t sum = young.live_bytes;
  for (unsigned i = 0; i < ml_core.tables.narenas; i++)
    sum += __atomic_load_n(&ml_core.tables.arenas[i].n.live_bytes, __ATOMIC_RELAXED);
  return sum;
}

/* A limit dump when `now` has reached *next, which moves on to the step
 * above it; the thread that moves it takes the snapshot (it waits for the
 * fork only). */
static void ml_limit_cross(_Atomic uint64_t *next_at, uint64_t now, int reason) {
  uint64_t next = atomic_load_explicit(next_at, memory_order_relaxed);
  if (now < next) return;
  uint64_t step = ml_trig.limit_step;
  if (!atomic_compare_exchange_strong(next_at, &next, (now / step + 1) * step))
    return; /* another thread got there first */
  int saved = errno;
  ml_tls.guard++;
  (void)ml_snapshot(ML_TRIGGER_LIMIT, reason, false, NULL);
  ml_tls.guard--;
  errno = saved;
}

/* ml_core.rss_check: the resident size's peak (getrusage's ru_maxrss, a
 * raw system call: it reaches a level exactly when the resident size first
 * does), looked at by one thread at most every ML_RSS_EVERY_NS.  Called
 * from jemalloc mapping an extent (under its locks: the snapshot child
 * never calls jemalloc), the program's mmap, and limit_check. */
#define ML_RSS_EVERY_NS 1000000
static void ml_limit_rss_check(void) {
  uint64_t now = ml_prim_now_ns();
  uint64_t last = atomic_load_explicit(&ml_trig.rss_checked, memory_order_relaxed);
  if (now - last < ML_RSS_EVERY_NS ||
      !atomic_compare_exchange_strong(&ml_trig.rss_checked, &last, now))
    return;
  struct rusage ru;
  if (ml_sys2(SYS_getrusage, RUSAGE_SELF, &ru) != 0) return;
  ml_limit_cross(&ml_trig.rss_next, (uint64_t)ru.ru_maxrss * 1024, ML_LIMIT_RESIDENT);
}

/* ml_core.limit_check: a thread that allocated limit_every tracked bytes
 * since its last check.  Runs under the guard. */
static void ml_limit_check(void) {
  ml_limit_cross(&ml_trig.limit_next, ml_live_bytes(), ML_LIMIT_TRACKED);
  ml_limit_rss_check();
}

/* The smaller of RLIMIT_AS and the cgroup v2 memory.max that apply, in
 * bytes; 0 when neither is set. */
static uint64_t ml_memory_limit(const char **what) {
  uint64_t lim = 0;
  struct rlimit rl;
  if (ml_sys4(SYS_prlimit64, 0, RLIMIT_AS, NULL, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    lim = rl.rlim_cur;
    *what = "RLIMIT_AS";
  }
  /* cgroup v2: the line "0::<path>" of /proc/self/cgroup. */
  static char buf[4096];
  static char path[4200];
  ssize_t n = ml_prim_read_file("/proc/self/cgroup", buf, sizeof buf);
  const char *p = n > 0 ? strstr(buf, "0::") : NULL;
  if (p && (p == buf || p[-1] == '\n')) {
    p += 3;
    size_t len = strcspn(p, "\n");
    if (len == 1) len = 0; /* the root: "/" */
    ml_snprintf(path, sizeof path, "/sys/fs/cgroup%.*s/memory.max", (int)len, p);
    char val[64];
    uint64_t v = 0;
    if (ml_prim_read_file(path, val, sizeof val) > 0 && val[0] >= '0' && val[0] <= '9') {
      for (const char *c = val; *c >= '0' && *c <= '9'; c++) v = v * 10 + (uint64_t)(*c - '0');
      if (v && (!lim || v < lim)) {
        lim = v;
        *what = "the cgroup's memory.max";
      }
    }
  }
  return lim;
}

static void ml_limit_start(void) {
  long long v = ml_option_get(ML_OPT_DUMP_AT);
  if (v == 0) return;
  uint64_t step = (uint64_t)v;
  if (v < 0) {
    const char *what = NULL;
    uint64_t lim = ml_memory_limit(&what);
    if (!lim) {
      ml_warning("MEMLEDGER_DUMP_AT=%lld%%: neither RLIMIT_AS nor a cgroup memory.max is "
                 "set; no limit dumps", -v);
      return;
    }
    step = lim / 100 * (uint64_t)-v;
    if (ml_option_get(ML_OPT_VERBOSE) >= 1)
      ml_info("MEMLEDGER_DUMP_AT=%lld%% of %s (%llu bytes): %llu bytes", -v, what,
              (unsigned long long)lim, (unsigned long long)step);
  }
  if (step == 0) return;
  ml_trig.limit_step = step;
  atomic_store(&ml_trig.limit_next, step);
  atomic_store(&ml_trig.rss_next, step);
  /* Precision: each thread looks after every 1/64 of the step it
   * allocates (64 KiB to 16 MiB). */
  uint64_t every = step / 64;
  every = every < (64 << 10) ? (64 << 10) : every > (16 << 20) ? (16 << 20) : every;
  ml_core.limit_check = ml_limit_check;
  ml_core.limit_every = every;
  ml_core.rss_check = ml_limit_rss_check;
}

/* ---- the first failed allocation --------------------------------------------------- */

void ml_triggers_alloc_failed(void) {
  atomic_fetch_add_explicit(&ml_core.alloc_failures, 1, memory_order_relaxed);
  /* The tracker's own allocations are not the program's; those of a
   * memledger_disable() region are (its guard levels are the disabled ones). */
  if (ml_tls.guard != ml_tls.disabled || atomic_load(&ml_core.state) != ML_STATE_READY ||
      !ml_option_get(ML_OPT_DUMP_ON_FAILURE) ||
      atomic_load(&ml_trig.failed_dumped) || atomic_exchange(&ml_trig.failed_dumped, true))
    return;
  int saved = errno;
  ml_tls.guard++;
  (void)ml_snapshot(ML_TRIGGER_ALLOC_FAILURE, 0, false, NULL);
  ml_tls.guard--;
  errno = saved;
}

/* ---- the handlers ------------------------------------------------------------- */

static void ml_install(int sig, bool ours, const struct sigaction *prog);

/* Dump, then let the signal do what its default action does. */
static void ml_on_fatal(int sig) {
  if (atomic_exchange(&ml_trig.dying, 1)) {
    /* Another thread is dumping: it ends the process when done. */
    for (int i = 0; i < 600; i++) ml_sleep_ms(100);
  } else if (atomic_load(&ml_core.state) == ML_STATE_READY &&
             ml_option_get(ML_OPT_DUMP_AT_EXIT) && !atomic_load(&ml_trig.seccomp)) {
    ml_tls.guard++;
    bool crash = sig != SIGTERM && sig != SIGINT && sig != SIGHUP && sig != SIGQUIT;
    ml_dump_result_t res;
    int rc = ml_snapshot(crash ? ML_TRIGGER_CRASH : ML_TRIGGER_FATAL, sig, true, &res);
    atomic_store(&ml_core.state, ML_STATE_SHUTDOWN);
    if (rc == 0 && !ml_option_get(ML_OPT_QUIET))
      ml_info("killed by signal %d: %llu unfreed blocks, %llu bytes, from %llu stacks "
              "(blocks of %zu bytes and more); dump: %s", sig,
              (unsigned long long)res.blocks, (unsigned long long)res.bytes,
              (unsigned long long)res.stacks, ml_gate.threshold, res.path);
    ml_tls.guard--;
  }
  /* The default action, as if memledger had not been there: restore it and
   * send the signal again; it is blocked in this handler, so it arrives as
   * the handler returns (a fault also recurs at the faulting instruction). */
  ml_ksigset_t old;
  ml_sig_lock(&old);
  ml_install(sig, false, &ml_trig.sig[sig].prog);
  ml_sig_unlock(&old);
  ml_sys3(SYS_tgkill, ml_prim_getpid(), ml_prim_gettid(), sig);
}

/* What of the signal frame below the interrupted stack pointer the leak
 * scan skips: everything after the general registers (the rest of the
 * context, the signal's info, the vector state, alignment) up to the red
 * zone under the interrupted sp.  Parts of it the kernel never writes (the
 * libc context's longer signal mask, padding, vector components in their
 * initial state) keep old stack words: the address of a block a function
 * had saved there long before, which made the block look reachable.  The
 * red zone (a leaf function's live data) is read.  0, 0 when the frame is
 * not below the interrupted sp on one stack. */
static void ml_sig_frame_skip(void *uc, uintptr_t *lo, uintptr_t *hi) {
#if defined(__x86_64__) && defined(__linux__)
  if (!uc) return;
  ucontext_t *u = uc;
  uintptr_t after = (uintptr_t)&u->uc_mcontext.gregs[NGREG];
  uintptr_t sp = (uintptr_t)u->uc_mcontext.gregs[REG_RSP];
  if (sp > after + 128 && sp - after < (1u << 20)) {
    *lo = after;
    *hi = sp - 128;
  }
#else
  (void)uc, (void)lo, (void)hi;
#endif
}

static void ml_on_signal(int sig, siginfo_t *info, void *uc) {
  int saved = errno;
  if (sig == ml_trig.dump_sig && !ml_trig.sig[sig].fatal) {
    if (atomic_load(&ml_core.state) == ML_STATE_READY) {
      /* Our timer's signals are SI_TIMER with its cookie (a kill or a
       * plain sigqueue is not; a forged one only names a dump wrongly). */
      bool timer = info && info->si_code == SI_TIMER &&
                   info->si_value.sival_int == ML_TIMER_COOKIE;
      ml_tls.guard++;
      /* The leak scan reads the stack from the interrupted context up
       * (its general registers, then the program's frames), not this
       * handler's frames, nor the rest of the signal frame
       * (ml_sig_frame_skip). */
      uintptr_t skip_lo = 0, skip_hi = 0;
      ml_sig_frame_skip(uc, &skip_lo, &skip_hi);
      (void)ml_snapshot_from(timer ? ML_TRIGGER_INTERVAL : ML_TRIGGER_SIGNAL, 0, false, NULL,
                             (uintptr_t)uc, skip_lo, skip_hi);
      ml_tls.guard--;
    }
  } else {
    ml_on_fatal(sig);
  }
  errno = saved;
}

/* Give the kernel memledger's handler (ours) or the program's action.
 * pre: ml_trig.lock held with every signal blocked. */
static void ml_install(int sig, bool ours, const struct sigaction *prog) {
  ml_sig_t *s = &ml_trig.sig[sig];
  if (ours) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = ml_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    __sigaction(sig, &sa, NULL);
  } else {
    __sigaction(sig, prog, NULL);
  }
  s->ours = ours;
  /* The timer sends the dump signal: only while memledger handles it (the
   * program's own handler must never see signals it did not ask for). */
  if (sig == ml_trig.dump_sig && !s->fatal) ml_timer_arm(ours);
}

bool ml_triggers_sigaction(int sig, const struct sigaction *act, struct sigaction *old,
                           int *rc) {
  if (sig <= 0 || sig >= NSIG || !ml_trig.sig[sig].managed) return false;
  ml_ksigset_t mask;
  ml_sig_lock(&mask);
  ml_sig_t *s = &ml_trig.sig[sig];
  struct sigaction prev = s->prog;
  *rc = 0;
  if (act) {
    /* Validate through the kernel first (the program's action, briefly):
     * a bad sa_flags or a SIGKILL-like refusal answers as it would. */
    if (__sigaction(sig, act, NULL) != 0) {
      int e = errno;
      ml_install(sig, s->ours, &s->prog);
      ml_sig_unlock(&mask);
      errno = e;
      *rc = -1;
      return true;
    }
    s->prog = *act;
    bool dfl = act->sa_handler == SIG_DFL; /* the same bits as sa_sigaction */
    bool ours = dfl && atomic_load(&ml_core.state) != ML_STATE_SHUTDOWN;
    ml_install(sig, ours, act);
    if (!s->fatal && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
      static int once;
      ml_log_once(&once, ML_LOG_WARNING,
                  "the program installs its own handler for signal %d: the program wins, "
                  "and dumps on that signal are off until it restores the default (set "
                  "MEMLEDGER_SIGNAL to another signal, or call memledger_dump())", sig);
    }
  }
  ml_sig_unlock(&mask);
  if (old) *old = prev;
  return true;
}

void ml_triggers_sigset_taken(const sigset_t *set, const char *how) {
  int sig = ml_trig.dump_sig;
  if (!set || sig <= 0 || sigismember(set, sig) != 1) return;
  static int once;
  ml_log_once(&once, ML_LOG_WARNING,
              "the program takes signal %d through %s: dump requests on that signal go to "
              "the program, not to memledger (set MEMLEDGER_SIGNAL to another signal, or "
              "call memledger_dump())", sig, how);
}

void ml_triggers_seccomp(bool installed) {
  if (!installed) {
    atomic_store(&ml_trig.seccomp, false);
    return;
  }
  if (atomic_exchange(&ml_trig.seccomp, true)) return;
  if (atomic_load(&ml_core.state) != ML_STATE_READY) return;
  static int once;
  ml_log_once(&once, ML_LOG_WARNING,
              "the program installs a seccomp filter: dumps are skipped from now on, the "
              "exit dump included (a filter may kill the process for a system call a dump "
              "needs)");
}

/* ---- start, exit, fork --------------------------------------------------------- */

/* Manage sig: remember the program's action and install ours if it has
 * none (SIG_DFL).  A handler already there wins. */
static void ml_manage(int sig, bool fatal) {
  struct sigaction cur;
  if (__sigaction(sig, NULL, &cur) != 0) return;
  bool dfl = cur.sa_handler == SIG_DFL;
  if (fatal && !dfl) return; /* ignored or handled: nothing to dump before */
  if (!fatal && !dfl && cur.sa_handler != SIG_IGN) {
    ml_warning("signal %d already has a handler: the program wins, and dumps on that "
               "signal are off (set MEMLEDGER_SIGNAL to another signal)", sig);
    return;
  }
  ml_sig_t *s = &ml_trig.sig[sig];
  s->prog = cur;
  s->fatal = fatal;
  s->managed = true;
  ml_install(sig, true, &cur);
}

void ml_triggers_start(bool virtual_signals) {
  ml_core.reap = ml_triggers_reap;
  ml_dump_load_suppressions();
  (void)ml_dump_share();
  (void)ml_dump_reserve(0);
  ml_ksigset_t mask;
  ml_sig_lock(&mask);
  int sig = (int)ml_option_get(ML_OPT_SIGNAL);
  if (sig > 0 && sig < NSIG) {
    ml_trig.dump_sig = sig;
    ml_manage(sig, false);
    if (!ml_trig.sig[sig].managed) ml_trig.dump_sig = 0;
  }
  /* Without a sigaction hook the program would see our handlers: fatal
   * signals are dumped only where they can be hidden. */
  if (virtual_signals)
    for (size_t i = 0; i < ML_ARRAY_SIZE(ml_fatal_signals); i++)
      if (ml_fatal_signals[i] != sig) ml_manage(ml_fatal_signals[i], true);
  ml_timer_start();
  ml_sig_unlock(&mask);
  ml_limit_start();
}

int ml_triggers_dump_signal(void) { return ml_trig.dump_sig; }

bool ml_triggers_sandboxed(void) { return atomic_load(&ml_trig.seccomp); }

static ML_NOINLINE void ml_triggers_at_exit_from(uintptr_t root, uintptr_t skip_hi);

/* Where the frames of libc's exit machinery end, above this handler: exit,
 * __run_exit_handlers, and after main returned __libc_start_call_main and
 * __libc_start_main too (every frame from here up whose code is libc's,
 * up to the first that is not: the program's frame that called exit, or
 * _start).  They hold no root of the program's, only words its calls left
 * in slots they never wrote (leak_basic: main's pointer to a leaked block,
 * saved by a function it called, under __run_exit_handlers' frame): read,
 * a leaked block looked reachable.  The stack address just above the last
 * such frame's return-address slot, found by its value; 0 when the walk
 * does not show this shape. */
static ML_NOINLINE uintptr_t ml_exit_frames_end(void) {
#if defined(__x86_64__) && defined(__linux__)
  uintptr_t frames[32], pc, sp, fp;
  __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                   : "=r"(pc), "=r"(sp), "=r"(fp));
  /* The walk notes every stack word it reads: the return-address slots
   * among them, so the slot of a frame's return address is known exactly
   * (not searched for by value). */
  int32_t off[160];
  uintptr_t val[160];
  ml_eh_log_t log = {.off = off, .val = val, .cap = 160};
  unsigned n = ml_eh_walk_logged(pc, sp, fp, frames, 32, &log);
  Dl_info libc, d;
  if (log.bad || !dladdr((void *)(uintptr_t)&exit, &libc)) return 0;
#define ML_IN_LIBC(a) (dladdr((void *)((a) - 1), &d) && d.dli_fbase == libc.dli_fbase)
  unsigned i = 0;
  while (i < n && !ML_IN_LIBC(frames[i])) i++; /* ours (and the handler's) */
  unsigned j = i;
  while (j < n && ML_IN_LIBC(frames[j])) j++;
#undef ML_IN_LIBC
  if (i == n || j == n || j == i) return 0;
  /* frames[j] (the return into the first frame that is not libc's) was
   * read from the last libc frame's return-address slot, its top. */
  for (unsigned k = 0; k < log.n; k++)
    if (val[k] == frames[j]) return sp + (intptr_t)off[k] + sizeof(uintptr_t);
#endif
  return 0;
}

/* The program's registers as the exit handlers got them, saved in this
 * small frame: the exit dump's leak scan reads them and the stack from
 * here up, except libc's exit frames (ml_exit_frames_end), not the dump's
 * own frames below (their stale words would make blocks look reachable). */
void ml_triggers_at_exit(void *unused) {
  (void)unused;
  uintptr_t regs[ML_SCAN_NREGS];
  ml_scan_save_regs(regs);
  ml_triggers_at_exit_from((uintptr_t)regs, ml_exit_frames_end());
  __asm__ volatile("" : : "r"(regs) : "memory"); /* not a tail call: regs stay */
}

static ML_NOINLINE void ml_triggers_at_exit_from(uintptr_t root, uintptr_t skip_hi) {
  if (atomic_load(&ml_core.state) != ML_STATE_READY) return;
  if (atomic_load(&ml_trig.seccomp)) { /* said when the filter came */
    atomic_store(&ml_core.state, ML_STATE_SHUTDOWN);
    return;
  }
  ml_guard_enter();
  ml_timer_arm(false); /* no periodic dump races the exit dump */
  /* Dumps still being written finish first (their files are complete when
   * the program's exit is seen, as `memledger run` expects). */
  ml_reap_all(true);
  ml_dump_result_t res = {0};
  int rc = -1;
  if (ml_option_get(ML_OPT_DUMP_AT_EXIT))
    rc = ml_dump_write_from(ML_TRIGGER_EXIT, &res, root,
                            skip_hi ? root + ML_SCAN_NREGS * sizeof(uintptr_t) : 0, skip_hi);
  /* From here on allocations and frees still work but are not recorded. */
  atomic_store(&ml_core.state, ML_STATE_SHUTDOWN);
  if (rc == 0 && !ml_option_get(ML_OPT_QUIET)) {
    char lost[64] = "";
    if (res.classified)
      ml_snprintf(lost, sizeof lost, "; %llu definitely or indirectly lost",
                  (unsigned long long)res.lost);
    ml_info("%llu unfreed blocks, %llu bytes, from %llu stacks (blocks of %zu bytes "
            "and more%s); dump: %s",
            (unsigned long long)res.blocks, (unsigned long long)res.bytes,
            (unsigned long long)res.stacks, ml_gate.threshold, lost, res.path);
  }
  int code = (int)ml_option_get(ML_OPT_LEAK_EXITCODE);
  /* With leak kinds, what the report fails on: definitely and indirectly
   * lost blocks (not stdio's buffers, nor a forked child's inherited ones). */
  if (rc == 0 && code && (res.classified ? res.lost : res.blocks)) {
    /* exit() flushes stdio only after its handlers: do it now, then leave
     * with the leak status without running anything twice.  (The one stdio
     * call of the library, at exit time only.) */
    fflush(NULL);
    _exit(code);
  }
  ml_guard_leave();
}

void ml_triggers_after_fork_child(void) {
  /* The parent's dump children are not ours; our numbering starts again,
   * in a page of our own. */
  for (int i = 0; i < ML_CHILDREN; i++) atomic_store(&ml_trig.child[i], 0);
  atomic_store(&ml_core.dump_children, 0);
  ml_lock_init(&ml_trig.lock);
  atomic_store(&ml_trig.dying, 0);
  (void)ml_dump_share();
  atomic_store(&ml_trig.reaped_seen, 0);
  ml_dump_after_fork_child();
  /* Timers are not inherited: a child that follows fork (a pre-forking
   * server's worker) gets a timer of its own, running while the dump
   * signal is memledger's. */
  ml_trig.timer = -1;
  ml_trig.timer_armed = false;
  if (ml_option_get(ML_OPT_FOLLOW_FORK) && atomic_load(&ml_core.state) == ML_STATE_READY &&
      ml_option_get(ML_OPT_INTERVAL) > 0 && ml_trig.dump_sig > 0 &&
      ml_trig.sig[ml_trig.dump_sig].managed && ml_timer_create())
    ml_timer_arm(ml_trig.sig[ml_trig.dump_sig].ours);
}

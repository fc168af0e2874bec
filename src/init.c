/* SPDX-License-Identifier: MIT */
/*
 * init.c - life cycle of the core (layer: core): lazy initialisation on the
 * first call, the constructor, fork handlers, and the state machine
 *   UNINIT -> INITIALIZING (one thread; its own recursive calls pass through)
 *          -> READY | DISABLED -> SHUTDOWN (after the exit dump).
 *
 * The first malloc may come from ld.so or libc before any constructor runs,
 * possibly before `environ` is set: then the options keep their defaults and
 * are read again by the constructor, which drops records the new threshold
 * would not track.  Everything here runs under the recursion guard, so the
 * tracker's own allocations (libunwind, pthread_create, pthread_atfork) are
 * never recorded.  Memory comes from mmap.  Locks: fork's prepare takes the
 * dump lock, the stack table's lock, every arena lock in index order, then
 * the mappings' lock (res_map.c).
 * The dump triggers (triggers.c) are started here; they depend on the
 * core's state (core.h), never on this file.
 */
#include "beacon.h"
#include "core.h"
#include "dump.h"
#include "log.h"
#include "options.h"
#include "prim.h"
#include "res_fd.h"
#include "res_rec.h"
#include "track.h"
#include "triggers.h"
#include "young.h"
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>

extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

/* Our executable segment, from our own program headers (no loader lock). */
static void ml_init_own_range(void) {
  ml_module_t me;
  ml_prim_module_self(&me);
  if (me.text_hi) ml_unwind_set_own_range(me.text_lo, me.text_hi);
}

/* Smallest request size whose usable size reaches the threshold. */
static size_t ml_init_cutoff(size_t threshold) {
  if (threshold == 0) return 0;
  size_t lo = 1, hi = threshold; /* good_size(threshold) >= threshold */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ml_backend.good_size(mid) >= threshold) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/* MEMLEDGER_ENABLED, and MEMLEDGER_TRACE_PID: a process exec'd by another
 * process than the one `memledger run` marked passes through (its forks
 * never get here: they keep the state they inherit). */
static bool ml_init_wanted(void) {
  long long only = ml_option_get(ML_OPT_TRACE_PID);
  return ml_option_get(ML_OPT_ENABLED) && (only == 0 || only == ml_prim_getpid());
}

static void ml_init_gate(void) {
  if (!ml_init_wanted()) {
    ml_gate.cutoff = ml_gate.threshold = SIZE_MAX;
    return;
  }
  size_t t = (size_t)ml_option_get(ML_OPT_MIN_SIZE);
  ml_gate.threshold = t;
  ml_gate.cutoff = ml_init_cutoff(t);
}

static void ml_init_unwind_options(void) {
  ml_core.unwind = (ml_unwind_mode_t)ml_option_get(ML_OPT_UNWIND);
  ml_core.max_frames = (unsigned)ml_option_get(ML_OPT_MAX_FRAMES);
  ml_core.skip_frames = (unsigned)ml_option_get(ML_OPT_SKIP_FRAMES);
}

/* The real initialisation; runs once, on the thread that won the race. */
static int ml_init_once(void) {
  ml_log_set_main_tid(ml_prim_gettid());
  ml_core.options_loaded = ml_options_load() >= 0;
  if (!ml_init_wanted()) return ML_STATE_DISABLED;
  unsigned narenas = (unsigned)ml_option_get(ML_OPT_ARENAS);
  if (narenas == 0) {
    narenas = (unsigned)ml_next_pow2(8 * ml_prim_ncpus());
    if (narenas < 16) narenas = 16;
  }
  if (ml_tables_init(&ml_core.tables, narenas, (size_t)ml_option_get(ML_OPT_MAX_RECORDS)) ||
      ml_stacks_init(&ml_core.stacks, (size_t)ml_option_get(ML_OPT_MAX_STACKS) < ML_REC_STACK_MAX
                                          ? (size_t)ml_option_get(ML_OPT_MAX_STACKS)
                                          : ML_REC_STACK_MAX)) {
    ml_error("cannot map memory for the tables: tracking is off");
    return ML_STATE_DISABLED;
  }
  if (ml_backend.text_is_ours) ml_init_own_range();
  ml_init_unwind_options();
  ml_unwind_init_early();
  ml_init_gate();
  ml_res_fd_init(); /* the descriptors this process image starts with */
  return ML_STATE_READY;
}

bool ml_init_maybe(void) {
  int s = atomic_load_explicit(&ml_core.state, memory_order_acquire);
  if (ml_likely(s == ML_STATE_READY)) return true;
  if (s == ML_STATE_UNINIT) {
    int expected = ML_STATE_UNINIT;
    if (atomic_compare_exchange_strong(&ml_core.state, &expected, ML_STATE_INITIALIZING)) {
      atomic_store(&ml_core.init_tid, (int)ml_prim_gettid());
      ml_guard_enter();
      int final = ml_init_once();
      if (final != ML_STATE_READY) ml_gate.cutoff = ml_gate.threshold = SIZE_MAX;
      ml_guard_leave();
      atomic_store_explicit(&ml_core.state, final, memory_order_release);
      return final == ML_STATE_READY;
    }
    s = expected;
  }
  if (s == ML_STATE_INITIALIZING) {
    /* Our own recursion (an allocation made by the initialisation) passes;
     * other threads wait: initialisation is short and takes no lock. */
    if (atomic_load(&ml_core.init_tid) == (int)ml_prim_gettid()) return false;
    while ((s = atomic_load_explicit(&ml_core.state, memory_order_acquire)) ==
           ML_STATE_INITIALIZING)
      sched_yield();
  }
  return s == ML_STATE_READY;
}

/* ---- fork ------------------------------------------------------------------ */

static void ml_fork_prepare(void) {
  ml_guard_enter();
  ml_lock(&ml_dump_lock);
  ml_stacks_lock(&ml_core.stacks);
  ml_tables_lock_all(&ml_core.tables);
  ml_res_maps_fork_prepare();
}

static void ml_fork_parent(void) {
  ml_res_maps_fork_parent();
  ml_tables_unlock_all(&ml_core.tables);
  ml_stacks_unlock(&ml_core.stacks);
  ml_unlock(&ml_dump_lock);
  ml_guard_leave();
}

static void ml_fork_child(void) {
  /* Only this thread survives; the locks it took in prepare are simply
   * re-initialised (they have no owner to restore). */
  ml_tables_reinit_locks(&ml_core.tables);
  ml_stacks_reinit_lock(&ml_core.stacks);
  ml_res_maps_fork_child();
  ml_res_threads_after_fork_child();
  ml_triggers_after_fork_child();
  ml_log_reset();
  ml_log_set_max(ml_option_get(ML_OPT_MAX_ERRORS));
  ml_log_set_main_tid(ml_prim_gettid());
  bool follow = ml_option_get(ML_OPT_FOLLOW_FORK) != 0;
  if (!follow && atomic_load(&ml_core.state) == ML_STATE_READY) {
    /* The parent's records stay with the parent: the child neither records
     * nor dumps, and its frees take the fast path. */
    ml_gate.cutoff = ml_gate.threshold = SIZE_MAX;
    atomic_store(&ml_core.state, ML_STATE_DISABLED);
    ml_beacon_update("fork"); /* `memledger dump` of this child refuses */
  }
  ml_guard_leave();
}

/* ---- constructor ------------------------------------------------------------ */

/* Why tracking is off in this process, for the beacon (beacon.h). */
static const char *ml_init_off_reason(void) {
  if (!ml_options_dir_trusted()) return "secure";
  if (!ml_option_get(ML_OPT_ENABLED)) return "enabled";
  if (!ml_init_wanted()) return "trace_pid";
  return "init";
}

/* The working directory at start anchors a relative dump directory. */
static void ml_init_anchor_dir(void) {
  char cwd[4096];
  long n = ml_sys2(SYS_getcwd, cwd, sizeof cwd);
  if (n > 0 && cwd[0] == '/') (void)ml_options_anchor_dir(cwd);
}

static bool ml_keep_tracked(const ml_rec_t *r, void *arg) {
  (void)arg;
  return ml_backend.usable_size((void *)r->ptr) >= ml_gate.threshold;
}

void ml_init_process(bool virtual_signals) {
  ml_init_maybe();
  ml_guard_enter();
  if (!ml_core.options_loaded && atomic_load(&ml_core.state) != ML_STATE_UNINIT) {
    /* The first allocation came before environ was set: read the options
     * now.  Enabling later is not possible (the tables were not made). */
    ml_options_reset();
    ml_core.options_loaded = ml_options_load() >= 0;
    if (atomic_load(&ml_core.state) == ML_STATE_READY) {
      ml_init_unwind_options();
      ml_init_gate();
      ml_tables_filter(&ml_core.tables, ml_keep_tracked, NULL);
      ml_young_filter(ml_keep_tracked, NULL);
      if (ml_gate.threshold == SIZE_MAX) atomic_store(&ml_core.state, ML_STATE_DISABLED);
    }
  }
  ml_log_ready();
  if (ml_option_get(ML_OPT_VERBOSE) >= 1) ml_options_print();
  /* A seccomp filter from before exec may kill the process for getcwd or
   * memfd_create (systemd's SystemCallFilter= does by default): then no
   * anchor and no beacon (`memledger dump` reads the environment). */
  bool sandboxed = ml_prim_seccomp_on();
  if (atomic_load(&ml_core.state) == ML_STATE_READY) {
    pthread_atfork(ml_fork_prepare, ml_fork_parent, ml_fork_child);
    /* No DSO handle: not run by __cxa_finalize of this library, but by exit()
     * after every handler registered later, _dl_fini (library destructors)
     * included, which __libc_start_main registers after us. */
    __cxa_atexit(ml_triggers_at_exit, NULL, NULL);
    ml_unwind_init_process(ml_core.unwind); /* eh's object list; libunwind if asked */
    if (!sandboxed) ml_init_anchor_dir();
    ml_triggers_start(virtual_signals);
    if (!sandboxed) ml_beacon_publish(NULL);
  } else if (!sandboxed) {
    ml_beacon_publish(ml_init_off_reason());
  }
  ml_guard_leave();
}

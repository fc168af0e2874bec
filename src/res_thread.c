/* SPDX-License-Identifier: MIT */
/*
 * res_thread.c - the program's threads with their creation stacks (res.h,
 * res_rec.h; layer: core).
 *
 * A record per thread made by pthread_create, in ML_THR_SLOTS slots mapped
 * at the first one.  Its flags word is the whole state: claimed by the
 * creator (BUSY, until pthread_create has returned), published (LIVE),
 * DETACHED, ENDED, HELD (a join or detach is under way); 0 is a free
 * slot.  The thread's end is recorded by the trampoline that wraps its
 * start routine (a cleanup handler: return, pthread_exit and cancellation
 * alike).  A record goes when its thread is
 * joined, or when a detached thread ends; whoever sets the last of
 * DETACHED and ENDED with BUSY and HELD clear frees it, so exactly one
 * does.  A join or detach holds the record (HELD) from before the real
 * call until after it: once the real call has let glibc reuse the
 * pthread_t, a new thread's lookup must not find this record.  No
 * lock anywhere: a dump reads the flags (acquire) and then the fields,
 * which never change while LIVE except the name (double-buffered) and tid.
 * Never allocates through malloc; async-signal-safe readers.
 */
#include "res.h"
#include "res_rec.h"
#include "capture.h"
#include "core.h"
#include "prim.h"
#include "young.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define ML_THR_SLOTS 4096

enum {
  ML_THR_BUSY = 1u,     // the creator is still writing it
  ML_THR_LIVE = 2u,     // published: listed in dumps
  ML_THR_DETACHED = 4u, // detached (by attribute or pthread_detach)
  ML_THR_ENDED = 8u,    // its start routine is over
  ML_THR_HELD = 16u,    // a join or detach of it is under way
};

typedef struct ml_thr_s {
  _Atomic unsigned flags;  // 0 = free slot
  uint32_t stack;          // creation stack
  _Atomic int tid;         // kernel thread id once started
  _Atomic unsigned name_at; // which of name[] is current
  uint64_t bytes;          // stack + guard
  pthread_t th;            // written before LIVE
  void *(*fn)(void *);     // the program's start routine and argument
  void *arg;
  char name[2][16];        // pthread_setname_np's, "" when never set
} ml_thr_t;

static struct {
  ml_thr_t *_Atomic slots; // mapped at the first thread
  _Atomic unsigned used;   // 1 + the highest slot ever claimed (the readers' bound)
} ml_thr;

/* ---- shared with res_map.c ------------------------------------------------- */

bool ml_res_enter(uint32_t *stack) {
  if (atomic_load_explicit(&ml_core.state, memory_order_acquire) != ML_STATE_READY ||
      ml_tls.guard)
    return false;
  ml_guard_enter();
  if (stack) *stack = ml_capture_stack_id(0, 0);
  return true;
}

/* ---- the store ---------------------------------------------------------------- */

static ml_thr_t *ml_thr_slots(void) {
  ml_thr_t *s = atomic_load_explicit(&ml_thr.slots, memory_order_acquire);
  if (ml_likely(s)) return s;
  ml_thr_t *fresh = ml_prim_map(ML_THR_SLOTS * sizeof(ml_thr_t));
  if (!fresh) return NULL;
  if (atomic_compare_exchange_strong(&ml_thr.slots, &s, fresh)) return fresh;
  ml_prim_unmap(fresh, ML_THR_SLOTS * sizeof(ml_thr_t)); /* another thread won */
  return s;
}

/* The lowest free slot, claimed (BUSY), or NULL when all are taken.  The
 * lowest: the readers and ml_res_thread_find scan up to the highest slot
 * ever used, which so stays near the most threads alive at once. */
static ml_thr_t *ml_thr_claim(void) {
  ml_thr_t *s = ml_thr_slots();
  if (!s) return NULL;
  for (unsigned i = 0; i < ML_THR_SLOTS; i++) {
    unsigned zero = 0;
    if (atomic_load_explicit(&s[i].flags, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong(&s[i].flags, &zero, ML_THR_BUSY)) {
      unsigned used = atomic_load(&ml_thr.used);
      while (used < i + 1 && !atomic_compare_exchange_weak(&ml_thr.used, &used, i + 1)) {}
      return &s[i];
    }
  }
  return NULL;
}

static void ml_thr_free(ml_thr_t *t) {
  atomic_store_explicit(&t->flags, 0, memory_order_release);
}

static bool ml_thr_gone(unsigned f) {
  unsigned gone = ML_THR_DETACHED | ML_THR_ENDED;
  return (f & gone) == gone && !(f & (ML_THR_BUSY | ML_THR_HELD));
}

/* Set `set` and clear `clear` in t's flags; free t when that made it a
 * detached, ended thread nobody is still writing. */
static void ml_thr_settle(ml_thr_t *t, unsigned set, unsigned clear) {
  unsigned old = atomic_load(&t->flags), now;
  do now = (old | set) & ~clear;
  while (!atomic_compare_exchange_weak(&t->flags, &old, now));
  if (ml_thr_gone(now) && !ml_thr_gone(old)) ml_thr_free(t);
}

/* ---- pthread_create and the thread's end ----------------------------------------- */

static ML_TLS ml_thr_t *ml_thr_self; /* this thread's record, if we made it */

static void ml_thr_end(void *arg) {
  ml_thr_t *t = arg;
  /* Its per-thread blocks to the next thread (treg.h): a program that
   * never joins its threads would otherwise make a pair per thread, and
   * every cross-thread free would look at more caches. */
  ml_young_thread_release();
  ml_capture_thread_release();
  ml_thr_self = NULL;
  atomic_store_explicit(&t->tid, 0, memory_order_relaxed);
  ml_thr_settle(t, ML_THR_ENDED, 0);
}

ML_TLS uintptr_t ml_res_thread_caller;

static void *ml_thr_start(void *arg) {
  ml_thr_t *t = arg;
  ml_res_thread_caller = (uintptr_t)__builtin_return_address(0);
  ml_thr_self = t;
  void *(*fn)(void *) = t->fn;
  void *fn_arg = t->arg;
  atomic_store_explicit(&t->tid, (int)ml_prim_gettid(), memory_order_relaxed);
  void *ret;
  pthread_cleanup_push(ml_thr_end, t);
  ret = fn(fn_arg);
  pthread_cleanup_pop(1);
  return ret;
}

/* What glibc maps for the thread's stack: the attribute's stack size (else
 * the process default, from RLIMIT_STACK at start) plus its guard, each
 * rounded to pages (nptl allocate_stack). */
static uint64_t ml_thr_stack_bytes(const pthread_attr_t *attr) {
  pthread_attr_t def;
  if (!attr) {
    if (pthread_getattr_default_np(&def) != 0) return 0;
    attr = &def;
  }
  size_t size = 0, guard = 0;
  (void)pthread_attr_getstacksize(attr, &size);
  (void)pthread_attr_getguardsize(attr, &guard);
  if (attr == &def) pthread_attr_destroy(&def);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  return ((size + page - 1) & ~(page - 1)) + ((guard + page - 1) & ~(page - 1));
}

int ml_res_thread_create(ml_pthread_create_t real, pthread_t *th, const pthread_attr_t *attr,
                         void *(*fn)(void *), void *arg) {
  uint32_t stack;
  if (!ml_res_enter(&stack)) return real(th, attr, fn, arg);
  int saved = errno;
  ml_thr_t *t = ml_thr_claim();
  if (!t) {
    ml_guard_leave();
    errno = saved;
    return real(th, attr, fn, arg);
  }
  int detach = PTHREAD_CREATE_JOINABLE;
  if (attr) (void)pthread_attr_getdetachstate(attr, &detach);
  t->stack = stack;
  t->bytes = ml_thr_stack_bytes(attr);
  t->fn = fn;
  t->arg = arg;
  t->name[0][0] = t->name[1][0] = 0;
  atomic_store_explicit(&t->name_at, 0, memory_order_relaxed);
  atomic_store_explicit(&t->tid, 0, memory_order_relaxed);
  if (detach == PTHREAD_CREATE_DETACHED) atomic_fetch_or(&t->flags, ML_THR_DETACHED);
  ml_guard_leave();
  errno = saved;
  int rc = real(th, attr, ml_thr_start, t);
  saved = errno;
  if (rc != 0) {
    ml_thr_free(t);
  } else {
    t->th = *th;
    ml_thr_settle(t, ML_THR_LIVE, ML_THR_BUSY);
  }
  errno = saved;
  return rc;
}

/* ---- join, detach, name ----------------------------------------------------------- */

/* The published, not held record of th, or NULL. */
static ml_thr_t *ml_thr_lookup(pthread_t th) {
  ml_thr_t *s = atomic_load_explicit(&ml_thr.slots, memory_order_acquire);
  if (!s) return NULL;
  unsigned n = atomic_load(&ml_thr.used);
  for (unsigned i = 0; i < n; i++) {
    unsigned f = atomic_load_explicit(&s[i].flags, memory_order_acquire);
    if ((f & (ML_THR_LIVE | ML_THR_HELD)) == ML_THR_LIVE && pthread_equal(s[i].th, th))
      return &s[i];
  }
  return NULL;
}

void *ml_res_thread_find(pthread_t th) {
  for (;;) {
    ml_thr_t *t = ml_thr_lookup(th);
    if (!t) return NULL;
    unsigned f = atomic_load(&t->flags);
    while ((f & (ML_THR_LIVE | ML_THR_HELD)) == ML_THR_LIVE)
      if (atomic_compare_exchange_weak(&t->flags, &f, f | ML_THR_HELD)) {
        if (pthread_equal(t->th, th)) return t;
        ml_thr_settle(t, 0, ML_THR_HELD); /* reused meanwhile: not ours */
        break;
      }
    /* taken meanwhile (another join of the same thread): look again */
  }
}

void ml_res_thread_joined(void *rec, int rc) {
  if (!rec) return;
  if (rc == 0) ml_thr_free(rec);
  else ml_thr_settle(rec, 0, ML_THR_HELD);
}

void ml_res_thread_detached(void *rec, int rc) {
  if (rec) ml_thr_settle(rec, rc == 0 ? ML_THR_DETACHED : 0, ML_THR_HELD);
}

void ml_res_thread_named(pthread_t th, const char *name) {
  /* A thread naming itself may run before its creator has published it. */
  ml_thr_t *t = pthread_equal(th, pthread_self()) ? ml_thr_self : ml_thr_lookup(th);
  if (!t) return;
  unsigned next = atomic_load_explicit(&t->name_at, memory_order_relaxed) ^ 1u;
  size_t n = strnlen(name, sizeof t->name[0] - 1);
  memcpy(t->name[next], name, n);
  t->name[next][n] = 0;
  atomic_store_explicit(&t->name_at, next, memory_order_release);
}

void ml_res_threads_after_fork_child(void) {
  ml_thr_t *s = atomic_load(&ml_thr.slots);
  if (!s) return;
  pthread_t self = pthread_self();
  unsigned n = atomic_load(&ml_thr.used);
  for (unsigned i = 0; i < n; i++) {
    unsigned f = atomic_load(&s[i].flags);
    if (!f) continue;
    if ((f & ML_THR_LIVE) && !(f & ML_THR_ENDED) && pthread_equal(s[i].th, self))
      atomic_store(&s[i].tid, (int)ml_prim_gettid());
    else
      ml_thr_free(&s[i]); /* a thread the child does not have */
  }
}

/* ---- the dump --------------------------------------------------------------------- */

void ml_res_threads_visit(bool frozen, ml_res_emit_t emit, void *ctx) {
  (void)frozen; /* lock-free either way */
  ml_thr_t *s = atomic_load_explicit(&ml_thr.slots, memory_order_acquire);
  if (!s) return;
  unsigned n = atomic_load(&ml_thr.used);
  static char name[16];
  for (unsigned i = 0; i < n; i++) {
    unsigned f = atomic_load_explicit(&s[i].flags, memory_order_acquire);
    if (!(f & ML_THR_LIVE)) continue;
    bool ended = f & ML_THR_ENDED;
    if (ended && (f & ML_THR_DETACHED)) continue; /* gone, being freed */
    const char *at = s[i].name[atomic_load_explicit(&s[i].name_at, memory_order_acquire) & 1];
    memcpy(name, at, sizeof name);
    name[sizeof name - 1] = 0;
    ml_res_line_t l = {s[i].stack, ended ? "ended" : (f & ML_THR_DETACHED) ? "detached" : "running",
                       s[i].bytes, ended ? 0 : (uint64_t)atomic_load(&s[i].tid), name};
    emit(ctx, &l);
  }
}

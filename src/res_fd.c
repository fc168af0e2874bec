/* SPDX-License-Identifier: MIT */
/*
 * res_fd.c - the program's descriptors with their creation stacks (res.h,
 * res_fd.h; layer: recording).
 *
 * The store is a two-level array of 32-bit words indexed by descriptor
 * number: a static directory of chunk pointers, chunks of 4096 words mapped
 * on first use (a race maps twice; the compare-and-swap loser unmaps its
 * own) and kept for the life of the process.  Writers are the descriptor
 * hooks, one relaxed store per event; the kernel hands a number to one
 * opener at a time and the hooks end a record before the close that frees
 * the number, so two writers of one word never race in a correct program.
 * A fork copies the store with the descriptor table; an exec starts a new
 * one (ml_res_fd_init marks what it inherits).
 *
 * The visitor lists /proc/self/fd, not the store: what is open is the
 * kernel's word (a raw close, SCM_RIGHTS or a library's private open are
 * invisible to the hooks); the store only says where each came from.  In a
 * snapshot child /proc/self/fd is the child's own table, the program's as
 * the fork left it plus the dump's own descriptors, which are marked
 * ML_FD_OWN by the hooks (the dump runs under the recursion guard).
 */
#include "res_fd.h"
#include "capture.h"
#include "fmt.h"
#include "options.h"
#include "prim.h"
#include "res.h"
#include "track.h"
#include <errno.h>
#include <string.h>

#define ML_FD_CHUNK_BITS 12
#define ML_FD_CHUNK (1u << ML_FD_CHUNK_BITS)
#define ML_FD_LIMIT (1u << 24) /* numbers beyond are not recorded ("unseen") */
#define ML_FD_CALL_SHIFT ML_REC_STACK_BITS
#define ML_FD_CALL_MASK 0x7fu
#define ML_FD_DIR (UINT32_C(1) << 31)

_Static_assert(ML_FD_NCALLS <= ML_FD_CALL_MASK, "the call fits in 7 bits");
_Static_assert(ML_REC_STACK_BITS + 7 < 32, "stack, call and dir fit in a word");

static struct {
  _Atomic(_Atomic uint32_t *) chunk[ML_FD_LIMIT >> ML_FD_CHUNK_BITS];
  bool hooked; // the preload front records; else no [fds] lines
} ml_fd;

static const char *const ml_fd_call_names[ML_FD_NCALLS] = {
    [ML_FD_NONE] = "unseen",
#define ML_FD_CALL_NAME(name) [ML_FD_CALL_##name] = #name,
    ML_FD_CALLS(ML_FD_CALL_NAME)
#undef ML_FD_CALL_NAME
    [ML_FD_INHERITED] = "inherited",
    [ML_FD_OWN] = "memledger",
};

/* The word of fd; NULL when its chunk is not mapped (and make: cannot be). */
static _Atomic uint32_t *ml_fd_word(unsigned fd, bool make) {
  if (fd >= ML_FD_LIMIT) return NULL;
  _Atomic(_Atomic uint32_t *) *slot = &ml_fd.chunk[fd >> ML_FD_CHUNK_BITS];
  _Atomic uint32_t *c = atomic_load_explicit(slot, memory_order_acquire);
  if (ml_unlikely(!c)) {
    if (!make) return NULL;
    _Atomic uint32_t *fresh = ml_prim_map(ML_FD_CHUNK * sizeof(uint32_t));
    if (!fresh) return NULL;
    if (atomic_compare_exchange_strong(slot, &c, fresh)) c = fresh;
    else ml_prim_unmap(fresh, ML_FD_CHUNK * sizeof(uint32_t));
  }
  return &c[fd & (ML_FD_CHUNK - 1)];
}

static void ml_fd_set(int fd, uint32_t w) {
  _Atomic uint32_t *p = ml_fd_word((unsigned)fd, true);
  if (p) atomic_store_explicit(p, w, memory_order_relaxed);
}

static uint32_t ml_fd_get(int fd) {
  _Atomic uint32_t *p = ml_fd_word((unsigned)fd, false);
  return p ? atomic_load_explicit(p, memory_order_relaxed) : 0;
}

static uint32_t ml_fd_make(ml_fd_call_t call, bool dir, uint32_t stack) {
  return (stack & ML_REC_STACK_MAX) | ((uint32_t)call << ML_FD_CALL_SHIFT) |
         (dir ? ML_FD_DIR : 0);
}

static ml_fd_call_t ml_fd_call_of(uint32_t w) {
  return (ml_fd_call_t)((w >> ML_FD_CALL_SHIFT) & ML_FD_CALL_MASK);
}

/* ---- recording -------------------------------------------------------------- */

static int ml_fd_inherit(int fd, const char *target, void *arg) {
  (void)target;
  (void)arg;
  ml_fd_set(fd, ml_fd_make(ML_FD_INHERITED, false, 0));
  return 0;
}

void ml_res_fd_init(void) {
  if (!ml_option_get(ML_OPT_TRACK_FDS)) return;
  (void)ml_prim_fd_foreach("/proc/self/fd", NULL, 0, ml_fd_inherit, NULL);
}

void ml_res_fd_hooked(void) { ml_fd.hooked = true; }

void ml_res_fd_created(int fd, ml_fd_call_t call, bool dir, uintptr_t ra) {
  int saved = errno;
  if (ml_unlikely(atomic_load_explicit(&ml_core.state, memory_order_acquire) !=
                  ML_STATE_READY)) {
    if (!ml_init_maybe()) goto out;
  }
  if (!ml_option_get(ML_OPT_TRACK_FDS)) goto out;
  uint32_t stack = 0;
  if (ml_tls.guard > ml_tls.disabled) {
    call = ML_FD_OWN; /* the dump's file, a /proc read: never the program's */
  } else if (ml_tls.guard == 0) {
    ml_guard_enter();
    stack = ml_capture_stack_id(ra, 0);
    ml_guard_leave();
  } /* else memledger_disable(): the call without its stack */
  ml_fd_set(fd, ml_fd_make(call, dir, stack));
out:
  errno = saved;
}

void ml_res_fd_adopted(int fd, ml_fd_call_t call, bool dir, uintptr_t ra) {
  uint32_t w = ml_fd_get(fd);
  ml_fd_call_t had = ml_fd_call_of(w);
  if (had == ML_FD_NONE || had == ML_FD_INHERITED) ml_res_fd_created(fd, call, dir, ra);
  else if (dir && !(w & ML_FD_DIR)) ml_fd_set(fd, w | ML_FD_DIR);
}

void ml_res_fd_closed(int fd) {
  _Atomic uint32_t *p = ml_fd_word((unsigned)fd, false);
  if (p && atomic_load_explicit(p, memory_order_relaxed))
    atomic_store_explicit(p, 0, memory_order_relaxed);
}

void ml_res_fd_closed_range(unsigned lo, unsigned hi) {
  if (hi >= ML_FD_LIMIT) hi = ML_FD_LIMIT - 1;
  for (unsigned fd = lo; fd <= hi && fd >= lo;) {
    unsigned end = (fd | (ML_FD_CHUNK - 1)) < hi ? (fd | (ML_FD_CHUNK - 1)) : hi;
    _Atomic uint32_t *c =
        atomic_load_explicit(&ml_fd.chunk[fd >> ML_FD_CHUNK_BITS], memory_order_acquire);
    if (c)
      for (unsigned i = fd; i <= end; i++)
        if (atomic_load_explicit(&c[i & (ML_FD_CHUNK - 1)], memory_order_relaxed))
          atomic_store_explicit(&c[i & (ML_FD_CHUNK - 1)], 0, memory_order_relaxed);
    if (end == hi) break;
    fd = end + 1;
  }
}

/* ---- the [fds] section --------------------------------------------------------- */

typedef struct ml_fd_visit_s {
  ml_res_emit_t emit;
  void *ctx;
  char detail[4200]; // "<call> <target>"
} ml_fd_visit_t;

static int ml_fd_line(int fd, const char *target, void *arg) {
  ml_fd_visit_t *v = arg;
  uint32_t w = ml_fd_get(fd);
  ml_fd_call_t call = ml_fd_call_of(w);
  if (call == ML_FD_OWN) return 0;
  if (call >= ML_FD_NCALLS) call = ML_FD_NONE;
  const char *kind = ml_prim_fd_kind(target);
  if ((w & ML_FD_DIR) && kind[0] == 'f') kind = "dir";
  ml_snprintf(v->detail, sizeof v->detail, "%s %s", ml_fd_call_names[call],
              target[0] ? target : "-");
  ml_res_line_t l = {call == ML_FD_INHERITED ? 0 : w & ML_REC_STACK_MAX, kind, 0,
                     (uint64_t)fd, v->detail};
  v->emit(v->ctx, &l);
  return 0;
}

void ml_res_fds_visit(bool frozen, ml_res_emit_t emit, void *ctx) {
  (void)frozen; /* both read /proc/self/fd: a snapshot child's is the
                 * program's table as the fork left it */
  if (!ml_fd.hooked || !ml_option_get(ML_OPT_TRACK_FDS)) return;
  /* One dump at a time (the dump lock, or a snapshot child): static. */
  static ml_fd_visit_t v;
  static char target[4096];
  v.emit = emit;
  v.ctx = ctx;
  (void)ml_prim_fd_foreach("/proc/self/fd", target, sizeof target, ml_fd_line, &v);
}

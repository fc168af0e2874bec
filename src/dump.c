/* SPDX-License-Identifier: MIT */
/*
 * dump.c - snapshot, aggregation and the versioned text dump (layer: output).
 *
 * Snapshot: each arena is locked only while its live records are copied into
 * a scratch area (mmap'd, kept between dumps), so allocating threads wait at
 * most for the copy of their own arena.  Aggregation then runs unlocked over
 * the copy, into per-stack accumulators indexed by stack id.  The file is
 * written through a 64 KiB static buffer (the dump lock serialises writers)
 * to ".memledger.<pid>.<n>.tmp" in the dump directory, then renamed to
 * "memledger.<pid>.<n>.dump" with RENAME_NOREPLACE: a dump never replaces a
 * file, and a failed dump leaves no file.  No malloc, no stdio.
 */
#include "dump.h"
#include "fmt.h"
#include "log.h"
#include "options.h"
#include "modules.h"
#include "prim.h"
#include "shadow.h"
#include "track.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

ml_lock_t ml_dump_lock = ML_LOCK_INITIALIZER;

static unsigned ml_dump_seq; /* dumps written by this process */

/* ---- scratch memory ------------------------------------------------------ */

typedef struct ml_acc_s {
  uint64_t blocks, bytes, usable;
  uint64_t min_size, max_size, oldest_seq;
} ml_acc_t;

static struct {
  ml_rec_t *recs; // snapshot of every arena, concatenated
  size_t recs_cap;
  ml_acc_t *acc;  // per stack id
  size_t acc_cap;
} ml_scratch;

static bool ml_scratch_reserve(void **p, size_t *cap, size_t want, size_t elem) {
  if (*cap >= want) return true;
  size_t n = ml_next_pow2(want);
  void *fresh = ml_prim_map(n * elem);
  if (!fresh) return false;
  if (*p) ml_prim_unmap(*p, *cap * elem);
  *p = fresh;
  *cap = n;
  return true;
}

/* ---- the writer ---------------------------------------------------------- */

typedef struct ml_writer_s {
  int fd;
  int err;      // first write error
  size_t len;
  char buf[65536];
} ml_writer_t;

static ml_writer_t ml_w;

static void ml_w_flush(ml_writer_t *w) {
  if (w->len && !w->err) w->err = ml_prim_write_all(w->fd, w->buf, w->len);
  w->len = 0;
}

static void ml_w_raw(ml_writer_t *w, const char *s, size_t n) {
  while (n) {
    if (w->len == sizeof w->buf) ml_w_flush(w);
    size_t k = sizeof w->buf - w->len;
    if (k > n) k = n;
    memcpy(w->buf + w->len, s, k);
    w->len += k;
    s += k;
    n -= k;
  }
}

static void ml_w_str(ml_writer_t *w, const char *s) { ml_w_raw(w, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void ml_w_fmt(ml_writer_t *w,
                                                           const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = ml_vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  ml_w_raw(w, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* A free-form value on one line: control characters become '?'. */
static void ml_w_text(ml_writer_t *w, const char *s) {
  for (; *s; s++) {
    char c = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    ml_w_raw(w, &c, 1);
  }
}

/* ---- header pieces --------------------------------------------------------- */

static const char *ml_trigger_name(ml_trigger_t t) {
  switch (t) {
  case ML_TRIGGER_SIGNAL: return "signal";
  case ML_TRIGGER_EXIT: return "exit";
  default: return "api";
  }
}

static const char *ml_unwind_name(ml_unwind_mode_t m) {
  switch (m) {
  case ML_UNWIND_AUTO: return "auto";
  case ML_UNWIND_FP: return "fp";
  case ML_UNWIND_NONE: return "none";
  case ML_UNWIND_SHADOW: return "shadow";
  default: return "libunwind";
  }
}

/* UTC civil time from a Unix time (Howard Hinnant's days_from_civil inverse),
 * because gmtime_r is not on the list of functions known not to lock. */
static void ml_w_time(ml_writer_t *w, uint64_t ns) {
  int64_t secs = (int64_t)(ns / 1000000000u);
  int64_t days = secs / 86400, rem = secs % 86400;
  int64_t z = days + 719468, era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  ml_w_fmt(w, "time: %04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lluZ\n", (long long)y,
           (long long)m, (long long)d, (long long)(rem / 3600), (long long)(rem / 60 % 60),
           (long long)(rem % 60), (unsigned long long)(ns / 1000000u % 1000u));
  ml_w_fmt(w, "unix_time_ns: %llu\n", (unsigned long long)ns);
}

static uint64_t ml_ctl_u64(const char *name) {
  if (!ml_backend.ctl) return 0;
  size_t v = 0, len = sizeof v;
  if (ml_backend.ctl(name, &v, &len, NULL, 0) != 0) return 0;
  return v;
}

static void ml_w_resources(ml_writer_t *w) {
  static char status[8192];
  ml_w_str(w, "[resources]\n");
  if (ml_prim_read_file("/proc/self/status", status, sizeof status) > 0) {
    static const char *const keys[] = {"VmPeak:", "VmSize:", "VmHWM:", "VmRSS:",
                                       "VmData:", "Threads:"};
    for (size_t k = 0; k < ML_ARRAY_SIZE(keys); k++) {
      const char *p = strstr(status, keys[k]);
      if (!p) continue;
      p += strlen(keys[k]);
      while (*p == ' ' || *p == '\t') p++;
      const char *e = strchr(p, '\n');
      size_t n = e ? (size_t)(e - p) : strlen(p);
      ml_w_str(w, keys[k][0] == 'T' ? "threads:" : keys[k]);
      ml_w_raw(w, " ", 1);
      ml_w_raw(w, p, n);
      ml_w_raw(w, "\n", 1);
    }
  }
  ml_fd_counts_t fds;
  if (ml_prim_fd_counts(&fds) == 0)
    ml_w_fmt(w, "fds: total %u file %u socket %u pipe %u anon %u device %u other %u\n",
             fds.total, fds.file, fds.socket, fds.pipe, fds.anon, fds.device, fds.other);
  static const struct { int res; const char *name; } limits[] = {
      {RLIMIT_NOFILE, "nofile"}, {RLIMIT_AS, "as"},     {RLIMIT_DATA, "data"},
      {RLIMIT_STACK, "stack"},   {RLIMIT_CORE, "core"}, {RLIMIT_NPROC, "nproc"},
      {RLIMIT_FSIZE, "fsize"},   {RLIMIT_MEMLOCK, "memlock"}};
  for (size_t i = 0; i < ML_ARRAY_SIZE(limits); i++) {
    struct rlimit rl;
    if (getrlimit(limits[i].res, &rl) != 0) continue;
    char soft[24], hard[24];
    if (rl.rlim_cur == RLIM_INFINITY) ml_strlcpy(soft, "unlimited", sizeof soft);
    else ml_u64_to_dec(rl.rlim_cur, soft);
    if (rl.rlim_max == RLIM_INFINITY) ml_strlcpy(hard, "unlimited", sizeof hard);
    else ml_u64_to_dec(rl.rlim_max, hard);
    ml_w_fmt(w, "limit_%s: %s %s\n", limits[i].name, soft, hard);
  }
}

static int ml_w_module(const ml_module_t *m, void *arg) {
  ml_writer_t *w = arg;
  static char exe[4096];
  const char *path = m->path;
  if (!path || !*path) {
    if (m->lo == 0) return 0;
    path = ml_prim_exe_path(exe, sizeof exe) > 0 ? exe : "[main]";
  }
  ml_w_fmt(w, "%lx %lx %lx ", (unsigned long)m->lo, (unsigned long)m->hi,
           (unsigned long)m->base);
  if (m->build_id_len) {
    char hex[3];
    for (unsigned i = 0; i < m->build_id_len; i++) {
      ml_snprintf(hex, sizeof hex, "%02x", m->build_id[i]);
      ml_w_raw(w, hex, 2);
    }
  } else {
    ml_w_raw(w, "-", 1);
  }
  ml_w_raw(w, " ", 1);
  ml_w_text(w, path);
  ml_w_raw(w, "\n", 1);
  return 0;
}

/* ---- the dump -------------------------------------------------------------- */

static void ml_dump_fail(ml_dump_result_t *res, int err, const char *what,
                         const char *path) {
  static int once_open, once_write, once_rename, once_mem;
  int *flag = what[0] == 'c' ? &once_open
              : what[0] == 'w' ? &once_write
              : what[0] == 'r' ? &once_rename
                               : &once_mem;
  res->err = err ? err : EIO;
  ml_log_once(flag, ML_LOG_ERROR, "dump failed: cannot %s %s: %s (errno %d); "
              "tracking goes on and a later dump will include everything",
              what, path, ml_errno_name(res->err), res->err);
}

/* Snapshot every arena into ml_scratch.recs.  Returns the record count, or
 * -1 when scratch memory cannot be mapped. */
static long ml_dump_snapshot(ml_dump_result_t *res) {
  ml_tables_t *t = &ml_core.tables;
  size_t used = 0;
  /* Size and fault in the scratch area before any arena is locked: page
   * faults of fresh memory under a lock would stretch the pause (the
   * estimate is read without locks; the loop below grows it if short). */
  size_t estimate = 0;
  for (unsigned i = 0; i < t->narenas; i++)
    estimate += __atomic_load_n(&t->arenas[i].n.live, __ATOMIC_RELAXED);
  estimate += estimate / 4 + 1024;
  if (!ml_scratch_reserve((void **)&ml_scratch.recs, &ml_scratch.recs_cap, estimate,
                          sizeof(ml_rec_t)))
    return -1;
  for (size_t off = 0; off < estimate * sizeof(ml_rec_t); off += 4096)
    ((volatile char *)ml_scratch.recs)[off] = 0;
  for (unsigned i = 0; i < t->narenas; i++) {
    for (;;) {
      uint64_t t0 = ml_prim_now_ns();
      long n = ml_tables_snapshot(t, i, ml_scratch.recs + used,
                                  ml_scratch.recs_cap - used, NULL);
      uint64_t dt = ml_prim_now_ns() - t0;
      if (dt > res->pause_ns) res->pause_ns = dt;
      if (n >= 0) {
        used += (size_t)n;
        break;
      }
      /* Grow (keeping what is already copied) and retry this arena. */
      size_t want = used + (size_t)-n + (size_t)-n / 4 + 1024;
      ml_rec_t *old = ml_scratch.recs;
      size_t old_cap = ml_scratch.recs_cap;
      size_t n2 = ml_next_pow2(want);
      ml_rec_t *fresh = ml_prim_map(n2 * sizeof(ml_rec_t));
      if (!fresh) return -1;
      if (old) {
        memcpy(fresh, old, used * sizeof(ml_rec_t));
        ml_prim_unmap(old, old_cap * sizeof(ml_rec_t));
      }
      ml_scratch.recs = fresh;
      ml_scratch.recs_cap = n2;
    }
  }
  return (long)used;
}

int ml_dump_write(ml_trigger_t trigger, ml_dump_result_t *res) {
  memset(res, 0, sizeof *res);
  uint64_t t_start = ml_prim_now_ns();
  ml_lock(&ml_dump_lock);

  long nrec = ml_dump_snapshot(res);
  size_t nstacks = ml_stacks_count(&ml_core.stacks);
  if (nrec < 0 || !ml_scratch_reserve((void **)&ml_scratch.acc, &ml_scratch.acc_cap,
                                      nstacks + 1, sizeof(ml_acc_t))) {
    ml_dump_fail(res, ENOMEM, "map", "scratch memory");
    ml_unlock(&ml_dump_lock);
    return -1;
  }
  ml_acc_t *acc = ml_scratch.acc;
  memset(acc, 0, (nstacks + 1) * sizeof *acc);
  uint64_t usable_total = 0;
  for (long i = 0; i < nrec; i++) {
    const ml_rec_t *r = &ml_scratch.recs[i];
    uint32_t id = ml_rec_stack(r);
    if (id > nstacks) id = 0; /* cannot happen: ids are published first */
    ml_acc_t *a = &acc[id];
    size_t sz = ml_rec_size(r);
    size_t us = ml_backend.good_size(sz);
    if (!a->blocks || sz < a->min_size) a->min_size = sz;
    if (sz > a->max_size) a->max_size = sz;
    if (!a->blocks || ml_rec_seq(r) < a->oldest_seq) a->oldest_seq = ml_rec_seq(r);
    if (!a->blocks && id) res->stacks++; /* id 0 is not a stack */
    a->blocks++;
    a->bytes += sz;
    a->usable += us;
    res->blocks++;
    res->bytes += sz;
    usable_total += us;
  }

  /* ---- the file ---- */
  const char *dir = ml_option_str(ML_OPT_DIR);
  pid_t pid = ml_prim_getpid();
  /* The first number whose name is free (a pid reused from an earlier run
   * may have left files), so that the header names its own file; the rename
   * below still refuses to replace one that appears meanwhile. */
  unsigned seq;
  for (int tries = 0;; tries++) {
    seq = ++ml_dump_seq;
    ml_snprintf(res->path, sizeof res->path, "%s/memledger.%d.%u.dump", dir, (int)pid, seq);
    if (access(res->path, F_OK) != 0 || tries > 1000) break;
  }
  res->path[0] = 0;
  char tmp[4096];
  ml_snprintf(tmp, sizeof tmp, "%s/.memledger.%d.%u.tmp", dir, (int)pid, seq);
  ml_writer_t *w = &ml_w;
  w->len = 0;
  w->err = 0;
  /* A write past RLIMIT_FSIZE raises SIGXFSZ, whose default action would
   * kill the program: block it while writing (the write then fails with
   * EFBIG, reported like any write error) and discard one it raised. */
  sigset_t xfsz, old_mask;
  sigemptyset(&xfsz);
  sigaddset(&xfsz, SIGXFSZ);
  pthread_sigmask(SIG_BLOCK, &xfsz, &old_mask);
  w->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (w->fd < 0) {
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    ml_dump_seq = seq - 1; /* no file: the number stays free */
    ml_dump_fail(res, errno, "create", tmp);
    ml_unlock(&ml_dump_lock);
    return -1;
  }

  ml_w_fmt(w, "memledger-dump %d\n", ML_DUMP_FORMAT_VERSION);
  ml_w_fmt(w, "unfreed: %llu blocks, %llu bytes\n", (unsigned long long)res->blocks,
           (unsigned long long)res->bytes);
  ml_w_fmt(w, "usable: %llu bytes\n", (unsigned long long)usable_total);

  static char text[8192];
  ml_w_str(w, "[header]\n");
  ml_w_fmt(w, "pid: %d\nppid: %d\n", (int)pid, (int)getppid());
  ml_w_str(w, "exe: ");
  ml_w_text(w, ml_prim_exe_path(text, sizeof text) > 0 ? text : "?");
  ml_w_str(w, "\ncmdline: ");
  ml_w_text(w, ml_prim_cmdline(text, sizeof text) >= 0 ? text : "?");
  ml_w_raw(w, "\n", 1);
  ml_w_time(w, ml_prim_realtime_ns());
  ml_w_fmt(w, "trigger: %s\nsequence: %u\n", ml_trigger_name(trigger), seq);
  ml_w_fmt(w, "threshold: %zu\nunwind: %s\nmax_frames: %u\n", ml_gate.threshold,
           ml_unwind_name(ml_core.unwind), ml_core.max_frames);
  ml_options_format(text, sizeof text);
  ml_w_str(w, "options: ");
  ml_w_text(w, text);
  ml_w_raw(w, "\n", 1);

  ml_counts_t c;
  ml_tables_counts(&ml_core.tables, &c);
  size_t meta = ml_tables_metadata_bytes(&ml_core.tables) + ml_core.stacks.mapped;
  ml_w_str(w, "[totals]\n");
  ml_w_fmt(w, "tracked_allocs: %llu\ntracked_frees: %llu\n", (unsigned long long)c.allocs,
           (unsigned long long)c.frees);
  ml_w_fmt(w, "tracked_bytes_allocated: %llu\ntracked_bytes_freed: %llu\n",
           (unsigned long long)c.bytes_alloc, (unsigned long long)c.bytes_freed);
  ml_w_fmt(w, "tracked_live_blocks: %llu\ntracked_live_bytes: %llu\n",
           (unsigned long long)c.live, (unsigned long long)c.live_bytes);
  ml_w_fmt(w, "dropped_records: %llu\nreplaced_records: %llu\n",
           (unsigned long long)c.dropped, (unsigned long long)c.replaced);
  ml_w_fmt(w, "stack_table_full: %llu\nunwind_failures: %llu\nstacks: %zu\n",
           (unsigned long long)ml_core.stacks.overflow,
           (unsigned long long)atomic_load(&ml_core.unwind_failures), nstacks);
  ml_w_fmt(w, "foreign_frees: %llu\n", (unsigned long long)atomic_load(&ml_core.foreign_frees));
  ml_w_fmt(w, "shadow_overflows: %llu\n", (unsigned long long)atomic_load(&ml_shadow_overflows));
  ml_w_fmt(w, "metadata_bytes: %zu\n", meta);
  /* Everything else comes from jemalloc's own statistics ("epoch" refreshes
   * them); they count every block, tracked or not.  The link-time flavour
   * has no jemalloc: no heap_* lines. */
  if (!ml_backend.ctl) goto heap_done;
  uint64_t epoch = 1;
  size_t elen = sizeof epoch;
  if (ml_backend.ctl) ml_backend.ctl("epoch", &epoch, &elen, &epoch, elen);
  uint64_t allocated = ml_ctl_u64("stats.allocated");
  ml_w_fmt(w, "heap_allocated: %llu\nheap_active: %llu\nheap_resident: %llu\n"
              "heap_mapped: %llu\n",
           (unsigned long long)allocated, (unsigned long long)ml_ctl_u64("stats.active"),
           (unsigned long long)ml_ctl_u64("stats.resident"),
           (unsigned long long)ml_ctl_u64("stats.mapped"));
  ml_w_fmt(w, "heap_requests: %llu\n",
           (unsigned long long)(ml_ctl_u64("stats.arenas.4096.small.nrequests") +
                                ml_ctl_u64("stats.arenas.4096.large.nrequests")));
  ml_w_fmt(w, "untracked_live_bytes: %llu\n",
           (unsigned long long)(allocated > usable_total ? allocated - usable_total : 0));
heap_done:

  ml_w_resources(w);

  ml_w_str(w, "[modules]\n");
  ml_prim_modules(ml_w_module, w);
  size_t nun;
  const ml_unloaded_t *un = ml_modules_unloaded(&nun);
  if (nun) {
    ml_w_str(w, "[unloaded]\n");
    for (size_t i = 0; i < nun; i++) {
      ml_w_fmt(w, "%u ", un[i].epoch);
      ml_w_module(&un[i].m, w);
    }
  }

  ml_w_str(w, "[stacks]\n");
  for (size_t id = 1; id <= nstacks; id++) {
    if (!acc[id].blocks) continue;
    const ml_stack_t *st = ml_stacks_get(&ml_core.stacks, (uint32_t)id);
    if (!st) continue;
    ml_w_fmt(w, "%zu %u", id, st->nframes);
    for (unsigned f = 0; f < st->nframes; f++)
      ml_w_fmt(w, " %lx", (unsigned long)st->frames[f]);
    ml_w_raw(w, "\n", 1);
  }
  if (nun) {
    /* The epoch each listed stack was interned at (0 lines omitted). */
    ml_w_str(w, "[stack_epochs]\n");
    for (size_t id = 1; id <= nstacks; id++) {
      const ml_stack_t *st = acc[id].blocks ? ml_stacks_get(&ml_core.stacks, (uint32_t)id) : NULL;
      if (st && st->epoch) ml_w_fmt(w, "%zu %u\n", id, st->epoch);
    }
  }
  ml_w_str(w, "[unfreed]\n");
  for (size_t id = 0; id <= nstacks; id++) {
    const ml_acc_t *a = &acc[id];
    if (!a->blocks) continue;
    ml_w_fmt(w, "%zu %llu %llu %llu %llu %llu %llu\n", id, (unsigned long long)a->blocks,
             (unsigned long long)a->bytes, (unsigned long long)a->usable,
             (unsigned long long)a->min_size, (unsigned long long)a->max_size,
             (unsigned long long)a->oldest_seq);
  }
  ml_w_str(w, "[end]\n");
  ml_w_flush(w);
  int werr = w->err;
  if (close(w->fd) != 0 && !werr) werr = errno;
  if (werr == EFBIG && !sigismember(&old_mask, SIGXFSZ)) {
    static const struct timespec zero = {0, 0};
    (void)sigtimedwait(&xfsz, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  if (werr) {
    unlink(tmp);
    ml_dump_seq = seq - 1;
    ml_dump_fail(res, werr, "write", tmp);
    ml_unlock(&ml_dump_lock);
    return -1;
  }

  /* Publish under a name that is not taken yet; never replace a file. */
  for (int tries = 0;; tries++) {
    ml_snprintf(res->path, sizeof res->path, "%s/memledger.%d.%u.dump", dir, (int)pid, seq);
    long rc = syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, res->path, RENAME_NOREPLACE);
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
      /* No RENAME_NOREPLACE on this filesystem: link() also refuses to replace. */
      rc = link(tmp, res->path);
      if (rc == 0) unlink(tmp);
    }
    if (rc == 0) break;
    if (errno != EEXIST || tries > 1000) {
      int e = errno;
      unlink(tmp);
      ml_dump_fail(res, e, "rename to", res->path);
      res->path[0] = 0;
      ml_unlock(&ml_dump_lock);
      return -1;
    }
    seq = ++ml_dump_seq;
  }
  res->total_ns = ml_prim_now_ns() - t_start;
  ml_unlock(&ml_dump_lock);
  return 0;
}

void ml_dump_after_fork_child(void) {
  ml_dump_seq = 0;
  ml_lock_init(&ml_dump_lock);
}

/* SPDX-License-Identifier: MIT */
/*
 * dump_write.c - stages 2 to 4 of a dump: open, write, publish (layer:
 * output).  See dump.h; the format is doc/dump-format.md.
 *
 * Open: an anonymous file in the dump directory (O_TMPFILE, mode 0600), or,
 * where the filesystem has none, a temporary name with 64 random bits in it
 * (O_EXCL, O_NOFOLLOW, 0600), so that nobody can plant or block the name.
 * Write: through a 64 KiB static buffer (one writer at a time: the dump
 * lock in the program; a snapshot child is alone).  Publish: linked in as
 * "memledger.<pid>.<n>.dump" without replacing anything, taking the next
 * number while a name is taken; a failed dump leaves no file and gives its
 * number back.  No malloc, no stdio, no loader; the frozen path (a
 * snapshot child) takes no lock and is async-signal-safe.  In a thread,
 * SIGXFSZ is held back while writing so a dump past RLIMIT_FSIZE fails
 * with EFBIG instead of killing the program.
 */
#include "capture.h"
#include "dump.h"
#include "fmt.h"
#include "log.h"
#include "modules.h"
#include "options.h"
#include "pagemap.h"
#include "prim.h"
#include "res.h"
#include "shadow.h"
#include "track.h"
#include "young.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

ml_lock_t ml_dump_lock = ML_LOCK_INITIALIZER;

static ml_dump_shared_t ml_dump_private;
ml_dump_shared_t *ml_dump_shared = &ml_dump_private;

const char *ml_trigger_name(ml_trigger_t t) {
  static const char *const names[] = {
#define ML_TRIGGER_NAME(id, name) name,
      ML_TRIGGERS(ML_TRIGGER_NAME)
#undef ML_TRIGGER_NAME
  };
  return (unsigned)t < ML_ARRAY_SIZE(names) ? names[t] : "?";
}

bool ml_dump_share(void) {
  ml_dump_shared_t *s = ml_prim_mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return false;
  ml_dump_shared_t *old = ml_dump_shared;
  memcpy(s->failed_once, old->failed_once, sizeof s->failed_once);
  ml_dump_shared = s;
  if (old != &ml_dump_private) ml_prim_munmap(old, sizeof *old);
  return true;
}

void ml_dump_after_fork_child(void) {
  atomic_store(&ml_dump_shared->seq, 0);
  ml_lock_init(&ml_dump_lock);
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

/* A free-form value on one line (n bytes of s, or up to its NUL): control
 * characters become '?'. */
static void ml_w_text_n(ml_writer_t *w, const char *s, size_t n) {
  for (; n && *s; s++, n--) {
    char c = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    ml_w_raw(w, &c, 1);
  }
}

static void ml_w_text(ml_writer_t *w, const char *s) { ml_w_text_n(w, s, SIZE_MAX); }

/* ---- header pieces --------------------------------------------------------- */

/* The program's default suppressions (memledger.h).  Weak: a program that
 * does not define the hook leaves it NULL.  In the preload flavour the
 * library sees the program's definition only when the executable exports
 * it (-rdynamic, --export-dynamic-symbol, or linked with libmemledger). */
extern const char *memledger_default_suppressions(void) __attribute__((weak));

#define ML_SUPP_MAX 65536 /* bytes of suppression text written at most */
static const char *ml_supp_text;
static size_t ml_supp_len;

void ml_dump_load_suppressions(void) {
  const char *t = memledger_default_suppressions ? memledger_default_suppressions() : NULL;
  if (!t || !*t) return;
  size_t n = strnlen(t, ML_SUPP_MAX + 1);
  if (n > ML_SUPP_MAX) {
    while (n && t[n - 1] != '\n') n--; /* whole lines only */
    ml_warning("memledger_default_suppressions: the text is longer than %d bytes; only "
               "its first %zu bytes are used", ML_SUPP_MAX, n);
  }
  ml_supp_text = t;
  ml_supp_len = n;
}

/* One "suppression:" header line per line of the text (blank lines too:
 * they separate memledger's rules); leading blanks and a final '\r' are
 * dropped. */
static void ml_w_suppressions(ml_writer_t *w) {
  const char *s = ml_supp_text, *end = s + ml_supp_len;
  while (s && s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *e = nl ? nl : end;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    size_t n = (size_t)(e - s);
    if (n && s[n - 1] == '\r') n--;
    ml_w_str(w, "suppression: ");
    ml_w_text_n(w, s, n);
    ml_w_raw(w, "\n", 1);
    s = e + 1;
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
  size_t v = 0, len = sizeof v;
  if (ml_backend.ctl(name, &v, &len, NULL, 0) != 0) return 0;
  return v;
}

/* The value of "Key:" in a /proc status text, or NULL; *n its length. */
static const char *ml_status_value(const char *status, const char *key, size_t *n) {
  const char *p = strstr(status, key);
  if (!p) return NULL;
  p += strlen(key);
  while (*p == ' ' || *p == '\t') p++;
  const char *e = strchr(p, '\n');
  *n = e ? (size_t)(e - p) : strlen(p);
  return p;
}

static void ml_proc_path(char *buf, size_t size, pid_t pid, const char *leaf) {
  if (pid > 0) ml_snprintf(buf, size, "/proc/%d/%s", (int)pid, leaf);
  else ml_snprintf(buf, size, "/proc/self/%s", leaf);
}

/* The program's /proc/<pid>/status (a snapshot child's own differs). */
static char ml_status[8192];

/* Is the dumping thread the process's only one (ml_status: read by this
 * dump, before anything else)?  Then its leak scan marks in the process
 * itself, without a helper (scan.h: ML_SCAN_SELF): a fork of the process
 * and its page tables was most of a short program's exit dump
 * (bench/README.md, "Start-up and exit of short programs"). */
static bool ml_dump_one_thread(bool have_status) {
  size_t n;
  const char *v = have_status ? ml_status_value(ml_status, "Threads:", &n) : NULL;
  return v && n == 1 && v[0] == '1';
}

static void ml_w_resources(ml_writer_t *w, bool have_status, const ml_fd_counts_t *fds,
                           bool have_fds) {
  ml_w_str(w, "[resources]\n");
  if (have_status) {
    static const char *const keys[] = {"VmPeak:", "VmSize:", "VmHWM:", "VmRSS:",
                                       "VmData:", "Threads:"};
    for (size_t k = 0; k < ML_ARRAY_SIZE(keys); k++) {
      size_t n;
      const char *p = ml_status_value(ml_status, keys[k], &n);
      if (!p) continue;
      ml_w_str(w, keys[k][0] == 'T' ? "threads:" : keys[k]);
      ml_w_raw(w, " ", 1);
      ml_w_raw(w, p, n);
      ml_w_raw(w, "\n", 1);
    }
  }
  if (have_fds)
    ml_w_fmt(w, "fds: total %u file %u socket %u pipe %u anon %u device %u other %u\n",
             fds->total, fds->file, fds->socket, fds->pipe, fds->anon, fds->device,
             fds->other);
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

/* ---- stage 3: the content ------------------------------------------------- */

static void ml_w_header(ml_writer_t *w, const ml_dump_req_t *q, unsigned seq,
                        bool have_status, uint64_t since_ns) {
  static char text[8192];
  ml_w_str(w, "[header]\n");
  int ppid = 0;
  size_t n;
  const char *v = have_status ? ml_status_value(ml_status, "PPid:", &n) : NULL;
  if (v)
    for (size_t i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) ppid = ppid * 10 + (v[i] - '0');
  else if (!q->frozen) ppid = (int)getppid();
  ml_w_fmt(w, "pid: %d\nppid: %d\n", (int)q->pid, ppid);
  ml_w_str(w, "exe: ");
  ml_w_text(w, ml_prim_exe_path(text, sizeof text) > 0 ? text : "?");
  ml_w_str(w, "\ncmdline: ");
  ml_w_text(w, ml_prim_cmdline(text, sizeof text) >= 0 ? text : "?");
  ml_w_raw(w, "\n", 1);
  ml_w_time(w, q->time_ns ? q->time_ns : ml_prim_realtime_ns());
  ml_w_fmt(w, "newer_since: %llu\n", (unsigned long long)since_ns);
  ml_w_fmt(w, "trigger: %s\n", ml_trigger_name(q->trigger));
  if (q->trigger == ML_TRIGGER_LIMIT)
    ml_w_fmt(w, "limit_reason: %s\n", q->signo == ML_LIMIT_RESIDENT ? "resident" : "tracked");
  else if (q->signo)
    ml_w_fmt(w, "signal: %d\n", q->signo);
  ml_w_fmt(w, "sequence: %u\n", seq);
  ml_w_fmt(w, "threshold: %zu\nunwind: %s\nmax_frames: %u\n", ml_gate.threshold,
           ml_unwind_mode_name(ml_core.unwind), ml_core.max_frames);
  ml_options_format(text, sizeof text);
  ml_w_str(w, "options: ");
  ml_w_text(w, text);
  ml_w_raw(w, "\n", 1);
  ml_w_suppressions(w);
}

/* jemalloc's own statistics: they count every block, tracked or not. */
typedef struct ml_heap_stats_s {
  bool have;
  uint64_t allocated, active, resident, mapped, requests;
} ml_heap_stats_t;

/* Read them (as the program has them: before an exit dump's purge).
 * Reading takes jemalloc's locks, which a snapshot child may find held by
 * a thread it does not have: only a thread's dump has them.  The link-time
 * flavour has no jemalloc: no heap_* lines either. */
static void ml_heap_stats(const ml_dump_req_t *q, ml_heap_stats_t *h) {
  memset(h, 0, sizeof *h);
  if (q->frozen || !ml_backend.ctl) return;
  uint64_t epoch = 1;
  size_t elen = sizeof epoch;
  ml_backend.ctl("epoch", &epoch, &elen, &epoch, elen);
  h->allocated = ml_ctl_u64("stats.allocated");
  h->active = ml_ctl_u64("stats.active");
  h->resident = ml_ctl_u64("stats.resident");
  h->mapped = ml_ctl_u64("stats.mapped");
  h->requests = ml_ctl_u64("stats.arenas.4096.small.nrequests") +
                ml_ctl_u64("stats.arenas.4096.large.nrequests");
  h->have = true;
}

/* The exit dump's leak scan reads jemalloc's heap as roots (its untracked
 * blocks may hold the only pointer to a tracked one), free memory included:
 * jemalloc keeps freed pages for reuse (dirty_decay_ms, 10 s by default).
 * Their words are stale pointers of freed blocks, which made lost blocks
 * look reachable (memcheck reads no freed memory), and they were most of
 * what the scan read: python with PYTHONMALLOC=malloc had 2.6 MB of active
 * heap and 130 MB of such pages at exit (49 ms of scan; bench/README.md,
 * "The leak scan").  At exit only, the program being done with them, every
 * arena returns them to the system first; the scan skips the pages that
 * are then absent (ml_scan_mem).  A dump while the program runs leaves
 * jemalloc alone (the program would fault them in again) and reads them.
 * Free regions of slabs still in use are read either way. */
static void ml_dump_purge_at_exit(const ml_dump_req_t *q) {
  if (q->trigger != ML_TRIGGER_EXIT || q->frozen || !ml_backend.ctl) return;
  ml_backend.ctl("arena.4096.purge", NULL, NULL, NULL, 0); /* MALLCTL_ARENAS_ALL */
}

static void ml_w_totals(ml_writer_t *w, const ml_collect_t *c, const ml_dump_result_t *res,
                        const ml_scan_t *scan, const ml_heap_stats_t *heap) {
  size_t meta = ml_tables_metadata_bytes(&ml_core.tables) + ml_young_metadata_bytes() +
                ml_capture_metadata_bytes() + ml_core.stacks.mapped + ml_pagemap_mapped();
  ml_w_str(w, "[totals]\n");
  ml_w_fmt(w, "tracked_allocs: %llu\ntracked_frees: %llu\n", (unsigned long long)c->n.allocs,
           (unsigned long long)c->n.frees);
  ml_w_fmt(w, "tracked_bytes_allocated: %llu\ntracked_bytes_freed: %llu\n",
           (unsigned long long)c->n.bytes_alloc, (unsigned long long)c->n.bytes_freed);
  ml_w_fmt(w, "tracked_live_blocks: %llu\ntracked_live_bytes: %llu\n",
           (unsigned long long)res->blocks, (unsigned long long)res->bytes);
  ml_w_fmt(w, "dropped_records: %llu\nreplaced_records: %llu\n",
           (unsigned long long)c->n.dropped, (unsigned long long)c->n.replaced);
  ml_w_fmt(w, "stack_table_full: %llu\nunwind_failures: %llu\nstacks: %zu\n",
           (unsigned long long)ml_core.stacks.overflow,
           (unsigned long long)atomic_load(&ml_core.unwind_failures), c->nstacks);
  ml_w_fmt(w, "foreign_frees: %llu\n", (unsigned long long)atomic_load(&ml_core.foreign_frees));
  ml_w_fmt(w, "alloc_failures: %llu\n", (unsigned long long)atomic_load(&ml_core.alloc_failures));
  ml_w_fmt(w, "shadow_overflows: %llu\n", (unsigned long long)atomic_load(&ml_shadow_overflows));
  ml_w_fmt(w, "metadata_bytes: %zu\n", meta);
  ml_w_fmt(w, "records_moved: %llu\n", (unsigned long long)ml_young_moves());
  if (scan && scan->classified) {
    ml_w_fmt(w, "leak_scan: done\nleak_scan_ms: %llu\nleak_scan_root_bytes: %llu\n"
                "leak_scan_block_bytes: %llu\nleak_scan_faults: %llu\n"
                "leak_scan_absent_bytes: %llu\nleak_scan_process: %s\n",
             (unsigned long long)(scan->ns / 1000000u), (unsigned long long)scan->root_bytes,
             (unsigned long long)scan->block_bytes, (unsigned long long)scan->faults,
             (unsigned long long)scan->absent_bytes,
             ml_scan_where_name((ml_scan_where_t)scan->where));
  } else {
    ml_w_str(w, "leak_scan: not done: ");
    ml_w_text(w, scan && scan->why && scan->why[0] ? scan->why : "no memory for the scan");
    ml_w_raw(w, "\n", 1);
  }
  if (!heap->have) return;
  ml_w_fmt(w, "heap_allocated: %llu\nheap_active: %llu\nheap_resident: %llu\n"
              "heap_mapped: %llu\n",
           (unsigned long long)heap->allocated, (unsigned long long)heap->active,
           (unsigned long long)heap->resident, (unsigned long long)heap->mapped);
  ml_w_fmt(w, "heap_requests: %llu\n", (unsigned long long)heap->requests);
  ml_w_fmt(w, "untracked_live_bytes: %llu\n",
           (unsigned long long)(heap->allocated > c->usable ? heap->allocated - c->usable : 0));
}

/* [module_files]: the size and mtime of each [modules] file as the dump
 * saw it, so that a later report knows whether a file without build id is
 * still the one that was mapped.  stat only (nothing is opened), regular
 * files only; a deleted or replaced-by-nothing file gets no line.  The
 * line goes into line (at least 64 bytes); its length, or 0. */
static size_t ml_module_file_line(const ml_module_t *m, char *line, size_t cap) {
  struct stat st;
  if (!m->path || m->path[0] != '/' ||
      ml_sys4(SYS_newfstatat, AT_FDCWD, m->path, &st, 0) != 0 || !S_ISREG(st.st_mode))
    return 0;
  int n = ml_snprintf(line, cap, "%lx %llu %llu\n", (unsigned long)m->lo,
                      (unsigned long long)st.st_size,
                      (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                          (unsigned long long)st.st_mtim.tv_nsec);
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static int ml_w_module_file(const ml_module_t *m, void *arg) {
  char line[80];
  size_t n = ml_module_file_line(m, line, sizeof line);
  if (n) ml_w_raw(arg, line, n);
  return 0;
}

/* The [module_files] lines, gathered while [modules] is written: one read
 * of /proc/self/maps for both sections, not one each (a read of the maps
 * was a quarter of a short program's exit dump: bench/README.md,
 * "Start-up and exit of short programs").  Past 32 KiB of lines (about
 * 700 objects) the section is made by a second read, as before.  One
 * writer at a time (ml_w). */
static struct {
  size_t len;
  bool full;
  char buf[32768];
} ml_w_files;
ML_TESTABLE size_t ml_w_files_cap = sizeof ml_w_files.buf; /* tests lower it */

static int ml_w_module_and_file(const ml_module_t *m, void *arg) {
  ml_w_module(m, arg);
  if (!ml_w_files.full) {
    char line[80];
    size_t n = ml_module_file_line(m, line, sizeof line);
    if (n > ml_w_files_cap - ml_w_files.len) {
      ml_w_files.full = true;
    } else {
      memcpy(ml_w_files.buf + ml_w_files.len, line, n);
      ml_w_files.len += n;
    }
  }
  return 0;
}

static void ml_w_modules(ml_writer_t *w, size_t *nun_out) {
  ml_w_str(w, "[modules]\n");
  ml_w_files.len = 0;
  ml_w_files.full = false;
  ml_prim_modules_maps(ml_w_module_and_file, w);
  size_t nun;
  const ml_unloaded_t *un = ml_modules_unloaded(&nun);
  *nun_out = nun;
  if (nun) {
    ml_w_str(w, "[unloaded]\n");
    for (size_t i = 0; i < nun; i++) {
      ml_w_fmt(w, "%u ", un[i].epoch);
      ml_w_module(&un[i].m, w);
    }
  }
  ml_w_str(w, "[module_files]\n");
  if (!ml_w_files.full) ml_w_raw(w, ml_w_files.buf, ml_w_files.len);
  else ml_prim_modules_maps(ml_w_module_file, w);
}

static void ml_w_unfreed(ml_writer_t *w, size_t id, const ml_acc_t *a, unsigned kind) {
  ml_w_fmt(w, "%zu %llu %llu %llu %llu %llu %llu %s\n", id, (unsigned long long)a->blocks,
           (unsigned long long)a->bytes, (unsigned long long)a->usable,
           (unsigned long long)a->min_size, (unsigned long long)a->max_size,
           (unsigned long long)a->oldest_seq, ml_kind_name(kind));
}

/* [unfreed] from the scan's records: one line per (stack, kind). */
static void ml_w_groups(ml_writer_t *w, ml_scan_t *scan, size_t nstacks) {
  ml_scan_sort_by_stack_kind(scan, nstacks);
  ml_acc_t a;
  for (size_t i = 0; i < scan->n;) {
    uintptr_t key = scan->recs[i].ptr;
    memset(&a, 0, sizeof a);
    for (; i < scan->n && scan->recs[i].ptr == key; i++) {
      const ml_rec_t *r = &scan->recs[i];
      size_t sz = ml_rec_size(r);
      if (!a.blocks || sz < a.min_size) a.min_size = sz;
      if (sz > a.max_size) a.max_size = sz;
      if (!a.blocks || ml_rec_seq(r) < a.oldest_seq) a.oldest_seq = ml_rec_seq(r);
      a.blocks++;
      a.bytes += sz;
      a.usable += ml_backend.good_size(sz);
    }
    ml_w_unfreed(w, key >> 3, &a, key & 7);
  }
}

static void ml_w_stacks(ml_writer_t *w, const ml_collect_t *c, size_t nun, ml_scan_t *scan) {
  const ml_acc_t *acc = c->acc;
  ml_w_str(w, "[stacks]\n");
  for (size_t id = 1; id <= c->nstacks; id++) {
    if (!ml_acc_listed(&acc[id])) continue;
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
    for (size_t id = 1; id <= c->nstacks; id++) {
      const ml_stack_t *st =
          ml_acc_listed(&acc[id]) ? ml_stacks_get(&ml_core.stacks, (uint32_t)id) : NULL;
      if (st && st->epoch) ml_w_fmt(w, "%zu %u\n", id, st->epoch);
    }
  }
  if (scan && ml_option_get(ML_OPT_ADDRESSES)) {
    /* Every block, by address (the scan's order), before the groups below
     * reorder the records. */
    ml_w_str(w, "[blocks]\n");
    for (size_t i = 0; i < scan->n; i++) {
      const ml_rec_t *r = &scan->recs[i];
      unsigned k = scan->classified && scan->kind[i] < ML_KIND_COUNT ? scan->kind[i]
                                                                      : ML_KIND_UNKNOWN;
      ml_w_fmt(w, "%lx %u %s %zu\n", (unsigned long)r->ptr, (unsigned)ml_rec_stack(r),
               ml_kind_name(k), ml_rec_size(r));
    }
  }
  ml_w_str(w, "[unfreed]\n");
  if (scan) {
    ml_w_groups(w, scan, c->nstacks);
  } else {
    for (size_t id = 0; id <= c->nstacks; id++) {
      const ml_acc_t *a = &acc[id];
      if (a->blocks) ml_w_unfreed(w, id, a, ML_KIND_UNKNOWN);
    }
  }
  ml_w_str(w, "[newer]\n");
  for (size_t id = 0; id <= c->nstacks; id++) {
    if (acc[id].newer)
      ml_w_fmt(w, "%zu %llu %llu\n", id, (unsigned long long)acc[id].newer,
               (unsigned long long)acc[id].newer_bytes);
  }
}

/* [fds], [threads], [mappings]: one line per live record (res.h). */
typedef struct ml_w_res_s {
  ml_writer_t *w;
  size_t nstacks; // stacks written above: a later one is written as "-"
  bool hex;
} ml_w_res_t;

static void ml_w_res_line(void *arg, const ml_res_line_t *l) {
  ml_w_res_t *x = arg;
  if (l->stack && l->stack <= x->nstacks)
    ml_w_fmt(x->w, "%u ", (unsigned)l->stack);
  else
    ml_w_str(x->w, "- ");
  ml_w_text(x->w, l->kind);
  ml_w_fmt(x->w, x->hex ? " %llu %llx " : " %llu %llu ", (unsigned long long)l->bytes,
           (unsigned long long)l->id);
  ml_w_text(x->w, l->detail && l->detail[0] ? l->detail : "-");
  ml_w_raw(x->w, "\n", 1);
}

static void ml_w_res(ml_writer_t *w, const ml_collect_t *c, bool frozen) {
  ml_w_res_t x = {w, c->nstacks, false};
#define ML_RES_WRITE(name, visit, id_hex)                                      \
  ml_w_str(w, "[" name "]\n");                                                \
  x.hex = id_hex;                                                              \
  visit(frozen, ml_w_res_line, &x);
  ML_RES_SECTIONS(ML_RES_WRITE)
#undef ML_RES_WRITE
}

/* ---- stages 2 and 4: the file ---------------------------------------------- */

static void ml_dump_fail(ml_dump_result_t *res, int err, const char *what,
                         const char *path) {
  /* Once per kind for the program and its snapshot children together. */
  int *once = ml_dump_shared->failed_once;
  int *flag = what[0] == 'c' ? &once[0] : what[0] == 'w' ? &once[1] : what[0] == 'l' ? &once[2] : &once[3];
  res->err = err ? err : EIO;
  ml_log_once(flag, ML_LOG_ERROR, "dump failed: cannot %s %s: %s (errno %d); "
              "tracking goes on and a later dump will include everything",
              what, path, ml_errno_name(res->err), res->err);
}

/* Numbers: the next one (shared with snapshot children); a failed dump
 * gives its number back when nobody took a later one meanwhile. */
static unsigned ml_seq_take(void) { return atomic_fetch_add(&ml_dump_shared->seq, 1) + 1; }
static void ml_seq_give_back(unsigned seq) {
  unsigned expected = seq;
  atomic_compare_exchange_strong(&ml_dump_shared->seq, &expected, seq - 1);
}

static void ml_dump_name(char *buf, size_t size, const char *dir, pid_t pid, unsigned seq) {
  ml_snprintf(buf, size, "%s/memledger.%d.%u.dump", dir, (int)pid, seq);
}

/* 64 bits nobody can guess (getrandom, else the clock and our ids). */
static uint64_t ml_random64(void) {
  uint64_t r = 0;
  if (ml_sys3(SYS_getrandom, &r, sizeof r, 1 /* GRND_NONBLOCK */) == (long)sizeof r) return r;
  r = ml_prim_now_ns() ^ (ml_prim_realtime_ns() << 17) ^ ((uint64_t)ml_prim_gettid() << 40);
  return r * UINT64_C(0x9E3779B97F4A7C15);
}

/* Stage 2.  Returns the descriptor, or -errno; tmp[0] == 0 for an
 * anonymous file, else the temporary name. */
static int ml_dump_open(const char *dir, pid_t pid, char *tmp, size_t size) {
  tmp[0] = 0;
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return -errno;
  ml_snprintf(tmp, size, "%s/.memledger.%d.%016llx.tmp", dir, (int)pid,
              (unsigned long long)ml_random64());
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    tmp[0] = 0;
    return -e;
  }
  return fd;
}

/* Stage 4: give the file its name, never replacing one.  0 or an errno. */
static int ml_dump_link(int fd, const char *tmp, const char *path) {
  if (!tmp[0]) {
    char self[40];
    ml_snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) return 0;
    if (errno == EEXIST) return EEXIST;
    /* No /proc: linking by descriptor needs CAP_DAC_READ_SEARCH. */
    return linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0 ? 0 : errno;
  }
  long rc = ml_sys5(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
  if (rc == 0) return 0;
  if (rc != -EINVAL && rc != -ENOSYS) return (int)-rc;
  /* No RENAME_NOREPLACE on this filesystem: link() also refuses to replace. */
  if (link(tmp, path) != 0) return errno;
  unlink(tmp);
  return 0;
}

int ml_dump_write_req(const ml_dump_req_t *q, ml_dump_result_t *res) {
  memset(res, 0, sizeof *res);
  uint64_t t_start = ml_prim_now_ns();
  if (!q->frozen) ml_lock(&ml_dump_lock);
  int rc = -1;
  static ml_scan_t scan; /* one dump at a time: the dump lock, or a child */
  bool have_scan = false;

  /* What the program holds, before this dump opens anything. */
  char path[64];
  ml_proc_path(path, sizeof path, q->frozen ? q->pid : 0, "status");
  bool have_status = ml_prim_read_file(path, ml_status, sizeof ml_status) > 0;
  ml_fd_counts_t fds;
  ml_proc_path(path, sizeof path, q->frozen ? q->pid : 0, "fd");
  bool have_fds = ml_prim_fd_counts_in(path, &fds) == 0;

  /* The leak scan: records copied, then classified in a process of its
   * own (this one when it is a snapshot child).  Its stack root starts at
   * the request's root, else at regs, above this function's frames. */
  uintptr_t regs[ML_SCAN_NREGS];
  ml_scan_save_regs(regs);
  have_scan = ml_scan_collect(&scan, q->frozen) == 0;
  ml_heap_stats_t heap;
  ml_heap_stats(q, &heap);
  if (have_scan) ml_dump_purge_at_exit(q);
  scan.skip_lo = q->skip_lo;
  scan.skip_hi = q->skip_hi;
  if (have_scan)
    ml_scan_classify(&scan, q->root ? q->root : (uintptr_t)regs,
                     q->frozen ? ML_SCAN_SNAPSHOT
                     : ml_dump_one_thread(have_status) ? ML_SCAN_SELF
                                                       : ML_SCAN_HELPER);
  ml_collect_t c;
  /* A thread's dump marks the present here; a snapshot's was marked by
   * the program just before the fork. */
  ml_dump_since_t since = q->frozen ? q->since : ml_dump_mark(ml_prim_realtime_ns());
  int err = ml_dump_collect(q->frozen, &c, res, have_scan ? &scan : NULL, since.seq);
  if (have_scan && scan.classified) {
    res->classified = true;
    for (size_t i = 0; i < scan.n; i++) {
      unsigned k = scan.kind[i] < ML_KIND_COUNT ? scan.kind[i] : ML_KIND_UNKNOWN;
      res->kind_blocks[k]++;
      res->kind_bytes[k] += ml_rec_size(&scan.recs[i]);
    }
    res->lost = res->kind_blocks[ML_KIND_DEFINITE] + res->kind_blocks[ML_KIND_INDIRECT];
  }
  if (err) {
    ml_dump_fail(res, err, "map", "scratch memory");
    goto out;
  }

  const char *dir = ml_option_str(ML_OPT_DIR);
  if (!ml_options_dir_trusted()) {
    /* Secure-execution mode and no directory from root: tracking is off
     * (options.c), so no trigger gets here; this keeps it so. */
    ml_dump_fail(res, EPERM, "create a file (secure-execution mode) in", dir);
    goto out;
  }
  /* The first number whose name is free (a pid reused from an earlier run
   * may have left files), so that the header names its own file; the link
   * below still refuses to replace one that appears meanwhile. */
  unsigned seq;
  for (int tries = 0;; tries++) {
    seq = ml_seq_take();
    ml_dump_name(res->path, sizeof res->path, dir, q->pid, seq);
    if (access(res->path, F_OK) != 0 || tries > 1000) break;
  }
  res->path[0] = 0;
  char tmp[4096];
  ml_writer_t *w = &ml_w;
  w->len = 0;
  w->err = 0;
  sigset_t xfsz, old_mask;
  sigemptyset(&xfsz);
  sigaddset(&xfsz, SIGXFSZ);
  if (!q->frozen) pthread_sigmask(SIG_BLOCK, &xfsz, &old_mask);
  w->fd = ml_dump_open(dir, q->pid, tmp, sizeof tmp);
  if (w->fd < 0) {
    if (!q->frozen) pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    ml_seq_give_back(seq);
    ml_dump_fail(res, -w->fd, "create a file in", dir);
    goto out;
  }

  ml_w_fmt(w, "memledger-dump %d\n", ML_DUMP_FORMAT_VERSION);
  ml_w_fmt(w, "unfreed: %llu blocks, %llu bytes\n", (unsigned long long)res->blocks,
           (unsigned long long)res->bytes);
  ml_w_fmt(w, "usable: %llu bytes\n", (unsigned long long)c.usable);
  ml_w_header(w, q, seq, have_status, since.ns);
  ml_w_totals(w, &c, res, have_scan ? &scan : NULL, &heap);
  ml_w_resources(w, have_status, &fds, have_fds);
  size_t nun;
  ml_w_modules(w, &nun);
  ml_w_stacks(w, &c, nun, have_scan ? &scan : NULL);
  ml_w_res(w, &c, q->frozen);
  ml_w_str(w, "[end]\n");
  ml_w_flush(w);

  int werr = w->err;
  for (int tries = 0; !werr; tries++) {
    ml_dump_name(res->path, sizeof res->path, dir, q->pid, seq);
    werr = ml_dump_link(w->fd, tmp, res->path);
    if (werr != EEXIST || tries > 1000) break;
    werr = 0;
    seq = ml_seq_take();
  }
  if (close(w->fd) != 0 && !werr && tmp[0]) werr = errno;
  if (werr) {
    if (tmp[0]) unlink(tmp);
    ml_seq_give_back(seq);
    ml_dump_fail(res, werr, w->err ? "write" : "link", w->err ? dir : res->path);
    res->path[0] = 0;
  } else {
    rc = 0;
  }
  if (!q->frozen) {
    if (werr == EFBIG && !sigismember(&old_mask, SIGXFSZ)) {
      static const struct timespec zero = {0, 0};
      (void)sigtimedwait(&xfsz, NULL, &zero); /* the one our write raised */
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  }
  res->total_ns = ml_prim_now_ns() - t_start;
out:
  if (have_scan) ml_scan_release(&scan);
  if (!q->frozen) ml_unlock(&ml_dump_lock);
  return rc;
}

int ml_dump_write(ml_trigger_t trigger, ml_dump_result_t *res) {
  return ml_dump_write_from(trigger, res, 0, 0, 0);
}

int ml_dump_write_from(ml_trigger_t trigger, ml_dump_result_t *res, uintptr_t root,
                       uintptr_t skip_lo, uintptr_t skip_hi) {
  ml_dump_req_t q = {trigger, 0, false, ml_prim_getpid()};
  q.root = root;
  q.skip_lo = skip_lo;
  q.skip_hi = skip_hi;
  return ml_dump_write_req(&q, res);
}

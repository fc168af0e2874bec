/* SPDX-License-Identifier: MIT */
/*
 * prim.h - the platform contract (layer: platform).  Operating-system
 * primitives the rest of the library may use from inside malloc.
 *
 * Every function here is implemented in prim_linux.c with raw system calls or
 * with libc functions known not to allocate.  None of them calls malloc,
 * stdio, getenv or takes a lock that an allocation might hold.  Functions
 * marked async-signal-safe may be called from a signal handler.
 */
#ifndef ML_PRIM_H
#define ML_PRIM_H

#include "internal.h"
#include <sys/types.h>

/* ---- raw system calls --------------------------------------------------- */

/* A system call without glibc's wrapper: returns the kernel's value
 * (-errno on failure) and leaves errno alone.  Inline assembly on x86_64
 * and aarch64, so that the library never calls glibc's syscall(), which the
 * preload front interposes (to see seccomp filters being installed).
 * async-signal-safe. */
long ml_prim_sys(long nr, long a, long b, long c, long d, long e, long f) ML_HIDDEN;
#define ml_sys0(nr) ml_prim_sys((nr), 0, 0, 0, 0, 0, 0)
#define ml_sys1(nr, a) ml_prim_sys((nr), (long)(a), 0, 0, 0, 0, 0)
#define ml_sys2(nr, a, b) ml_prim_sys((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define ml_sys3(nr, a, b, c) ml_prim_sys((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define ml_sys4(nr, a, b, c, d) \
  ml_prim_sys((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define ml_sys5(nr, a, b, c, d, e) \
  ml_prim_sys((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* ---- output ------------------------------------------------------------- */

/* Write all of buf to fd, looping on partial writes and EINTR, through
 * syscall(SYS_write).  Returns 0 on success, or the errno value of the first
 * failure.  async-signal-safe. */
int ml_prim_write_all(int fd, const void *buf, size_t len) ML_HIDDEN;

/* ---- environment -------------------------------------------------------- */

/* Look NAME up in `environ` by scanning it (never getenv).  The name match is
 * exact (environment names are case-sensitive).  Copies the value into buf
 * (NUL-terminated, truncated to size-1).
 * Returns: 1 found, 0 not found, -1 environ not available yet (try later).
 * pre: size >= 1. */
int ml_prim_getenv(const char *name, char *buf, size_t size) ML_HIDDEN;

/* Iterate over every variable in `environ` whose name starts with prefix.
 * fn receives the name (up to '='), its length and the value.  Returns the
 * number visited, -1 when environ is not available. */
typedef void (*ml_prim_env_fn)(const char *name, size_t name_len,
                               const char *value, void *arg);
int ml_prim_env_foreach(const char *prefix, ml_prim_env_fn fn, void *arg)
    ML_HIDDEN;

/* True when the process runs in secure-execution mode (set-uid, set-gid,
 * capabilities): getauxval(AT_SECURE).  Environment paths are then ignored. */
bool ml_prim_is_secure(void) ML_HIDDEN;

/* ---- identity and time -------------------------------------------------- */

pid_t ml_prim_getpid(void) ML_HIDDEN; /* syscall(SYS_getpid); async-signal-safe */
pid_t ml_prim_gettid(void) ML_HIDDEN; /* syscall(SYS_gettid); async-signal-safe */
/* CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds (clock_gettime, vDSO). */
uint64_t ml_prim_now_ns(void) ML_HIDDEN;
uint64_t ml_prim_realtime_ns(void) ML_HIDDEN;
/* Number of online CPUs (sched_getaffinity count, at least 1). */
unsigned ml_prim_ncpus(void) ML_HIDDEN;

/* ---- memory ------------------------------------------------------------- */

/* Anonymous private read-write mapping of size bytes (rounded up to pages),
 * zero-filled.  Returns NULL on failure (never MAP_FAILED).  Map and unmap
 * leave errno unchanged. */
void *ml_prim_map(size_t size) ML_HIDDEN;
/* The same, its pages faulted in by the kernel at once (MAP_POPULATE): for
 * a mapping about to be written all over. */
void *ml_prim_map_filled(size_t size) ML_HIDDEN;
void ml_prim_unmap(void *p, size_t size) ML_HIDDEN;
/* The whole pages within [p, p + size) read as zeros from now on and are no
 * longer resident (MADV_DONTNEED); the mapping stays.  False when the
 * kernel refused (they then keep their contents).  errno unchanged. */
bool ml_prim_discard(void *p, size_t size) ML_HIDDEN;

/* mmap, munmap and mremap as glibc's wrappers behave on Linux (the system
 * call; -1 or MAP_FAILED with errno on failure), without going through
 * those symbols: the preload front interposes them to record the program's
 * own mappings (res_map.c), and memledger's mappings and jemalloc's (the
 * build renames its mmap and munmap calls to these, src/jemalloc.syms) are
 * not the program's.  mremap's new_addr is used only with MREMAP_FIXED,
 * as glibc does.  async-signal-safe. */
void *ml_prim_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) ML_HIDDEN;
int ml_prim_munmap(void *addr, size_t len) ML_HIDDEN;
void *ml_prim_mremap(void *old, size_t old_len, size_t new_len, int flags,
                     void *new_addr) ML_HIDDEN;

/* ---- files -------------------------------------------------------------- */

/* Read up to size-1 bytes of a small file (e.g. /proc/self/status) into buf,
 * NUL-terminated.  Returns the length, or -errno. */
ssize_t ml_prim_read_file(const char *path, char *buf, size_t size) ML_HIDDEN;

/* True when /proc/self/status says a seccomp filter (or strict mode) is in
 * effect, e.g. one inherited across exec; false when it says none or
 * cannot be read. */
bool ml_prim_seccomp_on(void) ML_HIDDEN;

/* Read a configuration file that only root can have written: a regular
 * file owned by uid 0, not writable by group or others (checked on the open
 * descriptor).  Up to size-1 bytes into buf, NUL-terminated.  Returns the
 * length; -ENOENT/-ENOTDIR when missing, -EPERM when not trusted, -EFBIG
 * when it does not fit, other -errno; errno is left unchanged.  Lives in
 * prim_conf.c (the memledger command links it too). */
ssize_t ml_prim_read_trusted(const char *path, char *buf, size_t size) ML_HIDDEN;

/* Count this process's open file descriptors by kind, by listing
 * /proc/self/fd (ml_prim_fd_foreach, ml_prim_fd_kind).
 * The descriptor used for the listing itself is not counted. */
typedef struct ml_fd_counts_s {
  unsigned total;   // all descriptors
  unsigned file;    // regular files and directories (path starting with '/')
  unsigned socket;  // "socket:[...]"
  unsigned pipe;    // "pipe:[...]"
  unsigned anon;    // "anon_inode:..." (eventfd, epoll, timerfd, ...), "/memfd:..."
  unsigned device;  // paths under /dev/
  unsigned other;   // anything else
} ml_fd_counts_t;
int ml_prim_fd_counts(ml_fd_counts_t *out) ML_HIDDEN; /* 0 or -errno */
/* The same from another /proc/<pid>/fd directory: a dump's snapshot child
 * counts the program's descriptors.  async-signal-safe. */
int ml_prim_fd_counts_in(const char *dir, ml_fd_counts_t *out) ML_HIDDEN;

/* Call fn for every descriptor listed in dir (/proc/self/fd or another
 * /proc/<pid>/fd), in the kernel's order, until it returns non-zero, with
 * the link's text in buf (NUL-terminated, cut to size-1 bytes; buf NULL:
 * no readlink, fn gets NULL).  Raw system calls only (getdents64,
 * readlinkat): no libc wrapper, errno unchanged; the listing's own
 * descriptor is not listed.  Returns what the last fn returned, or -errno
 * when dir cannot be read.  async-signal-safe. */
typedef int (*ml_prim_fd_fn)(int fd, const char *target, void *arg);
int ml_prim_fd_foreach(const char *dir, char *buf, size_t size, ml_prim_fd_fn fn,
                       void *arg) ML_HIDDEN;
/* The kind of descriptor a /proc/self/fd link text names: "device" (under
 * /dev/), "file" (any other path), "socket", "pipe", "anon" (anon_inode:,
 * and memfd_create's /memfd:), "other".  async-signal-safe. */
const char *ml_prim_fd_kind(const char *target) ML_HIDDEN;

/* Path of the running executable (readlink /proc/self/exe), NUL-terminated.
 * Returns the length, or -errno. */
ssize_t ml_prim_exe_path(char *buf, size_t size) ML_HIDDEN;

/* The command line (/proc/self/cmdline), with the NUL separators replaced by
 * spaces.  Returns the length, or -errno. */
ssize_t ml_prim_cmdline(char *buf, size_t size) ML_HIDDEN;

/* ---- loaded modules ----------------------------------------------------- */

/* One loaded object, as dl_iterate_phdr sees it. */
typedef struct ml_module_s {
  const char *path;        // dlpi_name; "" for the main program (see exe)
  uintptr_t base;          // load bias (dlpi_addr)
  uintptr_t lo, hi;        // lowest and highest address of its PT_LOAD segments
  uintptr_t text_lo, text_hi; // the executable PT_LOAD segment(s) range
  uint8_t build_id[64];    // NT_GNU_BUILD_ID note contents
  unsigned build_id_len;   // 0 when the object has none
} ml_module_t;

/* Call fn for every loaded object (dl_iterate_phdr).  dl_iterate_phdr takes
 * the loader's lock: never call this from a signal handler or from a dump's
 * snapshot child (the lock may have been held by a thread that the child
 * does not have).  fn returns non-zero to stop the iteration.  Returns what
 * the last fn call returned. */
typedef int (*ml_prim_module_fn)(const ml_module_t *m, void *arg);
int ml_prim_modules(ml_prim_module_fn fn, void *arg) ML_HIDDEN;

/* The same from /proc/self/maps and the ELF headers in memory: every
 * readable file mapping at offset 0 that starts with an ELF header (and the
 * vDSO, named "linux-vdso.so.1" as the loader names it).  Takes no lock and
 * allocates nothing (a static buffer: callers are serialised by the dump
 * lock or are a dump's single-threaded child).  Returns what the last fn
 * call returned, or -errno when the file cannot be read.
 * async-signal-safe. */
int ml_prim_modules_maps(ml_prim_module_fn fn, void *arg) ML_HIDDEN;

/* The object this code is linked into (its own ELF header, __ehdr_start),
 * as ml_prim_modules_maps would describe it, without reading the maps.
 * async-signal-safe. */
void ml_prim_module_self(ml_module_t *m) ML_HIDDEN;

/* One line of /proc/self/maps. */
typedef struct ml_map_s {
  uintptr_t lo, hi;  // [lo, hi)
  char perms[5];     // "rw-p", NUL-terminated
  uintptr_t offset;  // file offset
  const char *path;  // the rest of the line ("" for anonymous memory)
} ml_map_t;

/* Call fn for every mapping of /proc/self/maps, in address order, until
 * it returns non-zero.  Returns what the last fn call returned, or -errno
 * when the file cannot be read.  Static buffer: callers are serialised (the
 * dump lock, or a dump's single-threaded child); fn must not call it
 * again.  async-signal-safe. */
typedef int (*ml_prim_map_fn)(const ml_map_t *m, void *arg);
int ml_prim_maps_foreach(ml_prim_map_fn fn, void *arg) ML_HIDDEN;

#endif /* ML_PRIM_H */

/* SPDX-License-Identifier: MIT */
/*
 * prim_linux.c - the Linux implementation of prim.h (layer: platform).
 *
 * Raw system calls and the few libc functions that neither allocate nor lock
 * (clock_gettime, mmap, getauxval, readlinkat, dl_iterate_phdr).  No stdio,
 * no getenv, no opendir, no glibc syscall() (interposed by the preload
 * front).  Only dl_iterate_phdr takes a lock (the loader's); the functions
 * marked async-signal-safe in prim.h are.  Invariant: every descriptor
 * opened here is O_CLOEXEC and closed before returning.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include "prim.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- raw system calls --------------------------------------------------- */

long ml_prim_sys(long nr, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
#else
  int saved = errno;
  long r = syscall(nr, a, b, c, d, e, f);
  if (r == -1) r = -errno;
  errno = saved;
  return r;
#endif
}

/* ---- output ------------------------------------------------------------- */

int ml_prim_write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;

  while (len > 0) {
    long n = ml_sys3(SYS_write, fd, p, len);
    if (n < 0) {
      if (n == -EINTR) continue;
      return (int)-n;
    }
    if (n == 0) return EIO; /* cannot happen for len > 0; never spin */
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* ---- environment -------------------------------------------------------- */

int ml_prim_getenv(const char *name, char *buf, size_t size) {
  size_t nlen = strlen(name);
  char **env = environ;

  if (env == NULL) return -1;
  for (; *env != NULL; env++) {
    const char *e = *env;
    if (strncmp(e, name, nlen) == 0 && e[nlen] == '=') {
      const char *v = e + nlen + 1;
      size_t vlen = strlen(v);
      if (vlen > size - 1) vlen = size - 1;
      memcpy(buf, v, vlen);
      buf[vlen] = '\0';
      return 1;
    }
  }
  return 0;
}

int ml_prim_env_foreach(const char *prefix, ml_prim_env_fn fn, void *arg) {
  size_t plen = strlen(prefix);
  char **env = environ;
  int n = 0;

  if (env == NULL) return -1;
  for (; *env != NULL; env++) {
    const char *e = *env, *eq;
    if (strncmp(e, prefix, plen) != 0) continue;
    eq = strchr(e, '=');
    if (eq == NULL) continue; /* not a NAME=value entry */
    fn(e, (size_t)(eq - e), eq + 1, arg);
    n++;
  }
  return n;
}

bool ml_prim_is_secure(void) { return getauxval(AT_SECURE) != 0; }

/* ---- identity and time -------------------------------------------------- */

pid_t ml_prim_getpid(void) { return (pid_t)ml_sys0(SYS_getpid); }
pid_t ml_prim_gettid(void) { return (pid_t)ml_sys0(SYS_gettid); }

static uint64_t ml_clock_ns(clockid_t clk) {
  struct timespec ts;

  if (clock_gettime(clk, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

uint64_t ml_prim_now_ns(void) { return ml_clock_ns(CLOCK_MONOTONIC); }
uint64_t ml_prim_realtime_ns(void) { return ml_clock_ns(CLOCK_REALTIME); }

unsigned ml_prim_ncpus(void) {
  /* The raw system call with a mask of 8192 CPUs: glibc's cpu_set_t holds
   * 1024, and CPU_ALLOC (for more) calls malloc. */
  unsigned long mask[8192 / (8 * sizeof(unsigned long))];
  long n = ml_sys3(SYS_sched_getaffinity, 0, sizeof(mask), mask);
  unsigned count = 0;

  if (n <= 0) return 1;
  for (size_t i = 0; i < (size_t)n / sizeof(mask[0]); i++)
    count += (unsigned)__builtin_popcountl(mask[i]);
  return count > 0 ? count : 1;
}

/* ---- memory ------------------------------------------------------------- */

/* Both keep errno: they run inside the program's malloc calls, whose errno
 * must not change when they succeed. */
void *ml_prim_map(size_t size) {
  int saved = errno;
  void *p = ml_prim_mmap(NULL, size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  errno = saved;
  return p == MAP_FAILED ? NULL : p;
}

void *ml_prim_map_filled(size_t size) {
  int saved = errno;
  void *p = ml_prim_mmap(NULL, size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  errno = saved;
  return p == MAP_FAILED ? NULL : p;
}

void ml_prim_unmap(void *p, size_t size) {
  int saved = errno;
  if (p != NULL) ml_prim_munmap(p, size);
  errno = saved;
}

/* 4 KiB pages: with larger ones the kernel refuses an unaligned range and
 * the pages stay as they were. */
bool ml_prim_discard(void *p, size_t size) {
  const uintptr_t page = 4096;
  uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1), hi = ((uintptr_t)p + size) & ~(page - 1);
  if (hi <= lo) return true;
  return ml_sys3(SYS_madvise, lo, hi - lo, MADV_DONTNEED) == 0;
}

/* The kernel's result as glibc's wrappers return it: -1 (MAP_FAILED) and
 * errno on failure. */
static long ml_prim_errno_ret(long r) {
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds (make check-sanitizers: units only, never preloaded)
 * go through libc, whose mmap and munmap the sanitizer sees: memory
 * unmapped and mapped again at the same address is then new memory to it,
 * not a race between its old and new users. */
void *ml_prim_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return mmap(addr, len, prot, flags, fd, off);
}

int ml_prim_munmap(void *addr, size_t len) { return munmap(addr, len); }
#else
void *ml_prim_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return (void *)ml_prim_errno_ret(ml_prim_sys(SYS_mmap, (long)addr, (long)len, prot, flags,
                                               fd, (long)off));
}

int ml_prim_munmap(void *addr, size_t len) {
  return (int)ml_prim_errno_ret(ml_sys2(SYS_munmap, addr, len));
}
#endif

void *ml_prim_mremap(void *old, size_t old_len, size_t new_len, int flags, void *new_addr) {
  if (!(flags & MREMAP_FIXED)) new_addr = NULL;
  return (void *)ml_prim_errno_ret(ml_sys5(SYS_mremap, old, old_len, new_len, flags, new_addr));
}

/* ---- files -------------------------------------------------------------- */

bool ml_prim_seccomp_on(void) {
  char st[4096];
  if (ml_prim_read_file("/proc/self/status", st, sizeof st) <= 0) return false;
  const char *v = strstr(st, "\nSeccomp:");
  if (!v) return false;
  for (v += 9; *v == ' ' || *v == '\t'; v++) {}
  return *v >= '1' && *v <= '9';
}

ssize_t ml_prim_read_file(const char *path, char *buf, size_t size) {
  size_t len = 0;
  int fd;

  if (size == 0) return -EINVAL;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  while (len < size - 1) {
    ssize_t n = read(fd, buf + len, size - 1 - len);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      close(fd);
      return -err;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  return (ssize_t)len;
}

/* The kernel's struct linux_dirent64 (getdents64(2)). */
struct ml_dirent64 {
  uint64_t d_ino;          // inode number
  int64_t d_off;           // offset of the next entry
  unsigned short d_reclen; // size of this record
  unsigned char d_type;    // DT_* file type
  char d_name[];           // NUL-terminated name
};

const char *ml_prim_fd_kind(const char *t) {
  /* memfd_create's files are anonymous too, though named like a path */
  if (strncmp(t, "/memfd:", 7) == 0) return "anon";
  if (t[0] == '/') return strncmp(t, "/dev/", 5) == 0 ? "device" : "file";
  if (strncmp(t, "socket:[", 8) == 0) return "socket";
  if (strncmp(t, "pipe:[", 6) == 0) return "pipe";
  if (strncmp(t, "anon_inode:", 11) == 0) return "anon";
  return "other";
}

static int ml_fd_count(int fd, const char *t, void *arg) {
  ml_fd_counts_t *out = arg;
  (void)fd;
  const char *k = ml_prim_fd_kind(t);
  out->total++;
  switch (k[0]) {
  case 'd': out->device++; break;
  case 'f': out->file++; break;
  case 's': out->socket++; break;
  case 'p': out->pipe++; break;
  case 'a': out->anon++; break;
  default: out->other++; break;
  }
  return 0;
}

int ml_prim_fd_counts(ml_fd_counts_t *out) { return ml_prim_fd_counts_in("/proc/self/fd", out); }

int ml_prim_fd_counts_in(const char *dir, ml_fd_counts_t *out) {
  char target[64]; /* only the prefix matters: truncation is fine */
  memset(out, 0, sizeof(*out));
  return ml_prim_fd_foreach(dir, target, sizeof target, ml_fd_count, out);
}

int ml_prim_fd_foreach(const char *dir, char *buf, size_t size, ml_prim_fd_fn fn, void *arg) {
  char dents[2048] __attribute__((aligned(8)));
  int err = 0, stop = 0;
  long dfd = ml_sys4(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dfd < 0) return (int)dfd;
  while (!stop) {
    long n = ml_sys3(SYS_getdents64, dfd, dents, sizeof(dents));
    if (n < 0) {
      err = (int)-n;
      break;
    }
    if (n == 0) break;
    for (long off = 0; off < n && !stop;) {
      const struct ml_dirent64 *d = (const void *)(dents + off);
      const char *name = d->d_name;
      long fd = 0;
      off += d->d_reclen;
      if (name[0] < '0' || name[0] > '9') continue; /* "." and ".." */
      for (const char *c = name; *c >= '0' && *c <= '9'; c++)
        fd = fd * 10 + (*c - '0');
      if (fd == dfd) continue;
      if (buf) {
        long tlen = ml_sys4(SYS_readlinkat, dfd, name, buf, size - 1);
        if (tlen < 0) continue; /* closed since the listing: not open now */
        buf[tlen] = '\0';
      }
      stop = fn((int)fd, buf, arg);
    }
  }
  ml_sys1(SYS_close, dfd);
  return stop ? stop : -err;
}

ssize_t ml_prim_exe_path(char *buf, size_t size) {
  ssize_t n;

  if (size < 2) return -ENAMETOOLONG;
  n = readlink("/proc/self/exe", buf, size - 1);
  if (n < 0) return -errno;
  /* readlink truncates silently; a cut path would name another file. */
  if ((size_t)n >= size - 1) return -ENAMETOOLONG;
  buf[n] = '\0';
  return n;
}

ssize_t ml_prim_cmdline(char *buf, size_t size) {
  ssize_t n = ml_prim_read_file("/proc/self/cmdline", buf, size);

  if (n <= 0) return n;
  if (buf[n - 1] == '\0') buf[--n] = '\0'; /* the last argument's NUL */
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\0') buf[i] = ' ';
  return n;
}

/* ---- loaded modules ----------------------------------------------------- */

typedef struct ml_modules_arg_s {
  ml_prim_module_fn fn; // the caller's callback
  void *arg;            // and its argument
} ml_modules_arg_t;

/* True when [lo, hi) lies inside one PT_LOAD segment, i.e. is mapped. */
static bool ml_in_load(uintptr_t bias, const ElfW(Phdr) *phdr, unsigned phnum, uintptr_t lo,
                       uintptr_t hi) {
  for (unsigned i = 0; i < phnum; i++) {
    const ElfW(Phdr) *ph = &phdr[i];
    uintptr_t s = bias + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && lo >= s && hi <= s + ph->p_memsz) return true;
  }
  return false;
}

/* Find the NT_GNU_BUILD_ID note in one PT_NOTE segment [p, end).  Name and
 * descriptor are padded to the segment's alignment: 4 normally, 8 for
 * segments such as .note.gnu.property (as glibc's and elfutils' readers do). */
static void ml_find_build_id(uintptr_t p, uintptr_t end, uintptr_t align, ml_module_t *m) {
  while (end - p >= sizeof(ElfW(Nhdr))) {
    const ElfW(Nhdr) *nh = (const void *)p;
    uintptr_t name = p + sizeof(*nh);
    uintptr_t desc = name + ((nh->n_namesz + align - 1) & ~(align - 1));
    uintptr_t next = desc + ((nh->n_descsz + align - 1) & ~(align - 1));

    if (next > end || next <= p) return; /* malformed */
    if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
        memcmp((const void *)name, "GNU", 4) == 0) {
      size_t len = nh->n_descsz;
      if (len > sizeof(m->build_id)) len = sizeof(m->build_id);
      memcpy(m->build_id, (const void *)desc, len);
      m->build_id_len = (unsigned)len;
      return;
    }
    p = next;
  }
}

/* Fill m from an object's program headers at load bias `bias`.  Notes are
 * read only where [ok_lo, ok_hi) says memory is readable. */
static void ml_module_fill(ml_module_t *m, const char *path, uintptr_t bias,
                           const ElfW(Phdr) *phdr, unsigned phnum, uintptr_t ok_lo,
                           uintptr_t ok_hi) {
  memset(m, 0, sizeof(*m));
  m->path = path;
  m->base = bias;
  m->lo = m->text_lo = UINTPTR_MAX;
  for (unsigned i = 0; i < phnum; i++) {
    const ElfW(Phdr) *ph = &phdr[i];
    uintptr_t lo = bias + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (ph->p_type != PT_LOAD) continue;
    if (lo < m->lo) m->lo = lo;
    if (hi > m->hi) m->hi = hi;
    if ((ph->p_flags & PF_X) != 0) {
      if (lo < m->text_lo) m->text_lo = lo;
      if (hi > m->text_hi) m->text_hi = hi;
    }
  }
  if (m->lo == UINTPTR_MAX) m->lo = 0;
  if (m->text_lo == UINTPTR_MAX) m->text_lo = 0;
  for (unsigned i = 0; i < phnum && m->build_id_len == 0; i++) {
    const ElfW(Phdr) *ph = &phdr[i];
    uintptr_t p = bias + ph->p_vaddr, end = p + ph->p_memsz;
    if (ph->p_type != PT_NOTE || p < ok_lo || end > ok_hi || end < p) continue;
    if (!ml_in_load(bias, phdr, phnum, p, end)) continue;
    ml_find_build_id(p, end, ph->p_align == 8 ? 8 : 4, m);
  }
}

static int ml_module_cb(struct dl_phdr_info *info, size_t size, void *data) {
  const ml_modules_arg_t *a = data;
  ml_module_t m;

  (void)size;
  ml_module_fill(&m, info->dlpi_name != NULL ? info->dlpi_name : "", info->dlpi_addr,
                 info->dlpi_phdr, info->dlpi_phnum, 0, UINTPTR_MAX);
  return a->fn(&m, a->arg);
}

int ml_prim_modules(ml_prim_module_fn fn, void *arg) {
  ml_modules_arg_t a = {fn, arg};
  return dl_iterate_phdr(ml_module_cb, &a);
}

/* One mapping of /proc/self/maps at offset 0: an ELF object's first
 * segment when it starts with an ELF header of our class. */
static int ml_maps_object(uintptr_t lo, uintptr_t hi, const char *path,
                          ml_prim_module_fn fn, void *arg) {
  const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)lo;
  if (hi - lo < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
      eh->e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
      (eh->e_type != ET_DYN && eh->e_type != ET_EXEC) ||
      eh->e_phentsize != sizeof(ElfW(Phdr)))
    return 0;
  uintptr_t ph_lo = lo + eh->e_phoff, ph_hi = ph_lo + (uintptr_t)eh->e_phnum * sizeof(ElfW(Phdr));
  if (ph_lo < lo || ph_hi > hi || ph_hi < ph_lo) return 0;
  const ElfW(Phdr) *ph = (const ElfW(Phdr) *)ph_lo;
  /* This mapping holds the segment at file offset 0: its start is that
   * segment's page-aligned address plus the load bias. */
  uintptr_t bias = 0;
  bool found = false;
  for (unsigned i = 0; i < eh->e_phnum; i++)
    if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
      bias = lo - (ph[i].p_vaddr & ~(uintptr_t)4095);
      found = true;
      break;
    }
  if (!found) return 0;
  ml_module_t m;
  ml_module_fill(&m, path, bias, ph, eh->e_phnum, lo, hi);
  return fn(&m, arg);
}

/* The linker's: our own ELF header, followed in memory by the program
 * headers (an array of unknown size, which the header and its program
 * headers are read from: no object bound to overstep).  init.c takes its
 * own text range from here too. */
extern const char __ehdr_start[];

void ml_prim_module_self(ml_module_t *m) {
  const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)__ehdr_start;
  const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
  uintptr_t bias = 0;
  for (unsigned i = 0; i < eh->e_phnum; i++)
    if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
      bias = (uintptr_t)eh - (ph[i].p_vaddr & ~(uintptr_t)4095);
      break;
    }
  ml_module_fill(m, "", bias, ph, eh->e_phnum, 0, UINTPTR_MAX);
}

static char ml_maps_buf[65536]; /* serialised: see prim.h */

static uintptr_t ml_hex(const char **p) {
  uintptr_t v = 0;
  for (;; (*p)++) {
    char c = **p;
    unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                 : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                        : 16;
    if (d == 16) return v;
    v = v * 16 + d;
  }
}

/* One line: "lo-hi perms offset dev inode   path".  Returns false when it
 * is not in that form. */
static bool ml_maps_parse(char *line, ml_map_t *m) {
  const char *p = line;
  m->lo = ml_hex(&p);
  if (*p++ != '-') return false;
  m->hi = ml_hex(&p);
  if (*p++ != ' ') return false;
  for (int i = 0; i < 4; i++) {
    if (!p[i]) return false;
    m->perms[i] = p[i];
  }
  m->perms[4] = 0;
  p += 4;
  if (*p++ != ' ') return false;
  m->offset = ml_hex(&p);
  for (int field = 0; field < 2; field++) { /* dev, inode */
    while (*p == ' ') p++;
    while (*p && *p != ' ') p++;
  }
  while (*p == ' ') p++;
  m->path = p;
  return true;
}

int ml_prim_maps_foreach(ml_prim_map_fn fn, void *arg) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t have = 0;
  int rc = 0;
  for (;;) {
    ssize_t n = read(fd, ml_maps_buf + have, sizeof(ml_maps_buf) - 1 - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += (size_t)n;
    ml_maps_buf[have] = 0;
    char *line = ml_maps_buf, *nl;
    while (rc == 0 && (nl = strchr(line, '\n')) != NULL) {
      *nl = 0;
      ml_map_t m;
      if (ml_maps_parse(line, &m)) rc = fn(&m, arg);
      line = nl + 1;
    }
    if (rc) break;
    have = (size_t)(ml_maps_buf + have - line);
    memmove(ml_maps_buf, line, have);
    if (have == sizeof(ml_maps_buf) - 1) have = 0; /* a line longer than the buffer */
  }
  close(fd);
  return rc;
}

typedef struct ml_maps_obj_s {
  ml_prim_module_fn fn;
  void *arg;
  /* The last object reported: its path's hash and the range its loaded
   * segments span, to recognise its own later mappings. */
  uint64_t last_hash;
  uintptr_t last_lo, last_hi;
} ml_maps_obj_t;

static uint64_t ml_path_hash(const char *s) {
  uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
  return h;
}

/* Called back with each object found: remember it, then pass it on. */
static int ml_maps_object_seen(const ml_module_t *mod, void *arg) {
  ml_maps_obj_t *a = arg;
  a->last_hash = ml_path_hash(mod->path);
  a->last_lo = mod->lo;
  a->last_hi = mod->hi;
  return a->fn(mod, a->arg);
}

/* A readable mapping at offset 0 of a file, or the vDSO: an object?  Not
 * when it lies inside the object just reported from the same file: a
 * linker that packs a small object's segments into its first file page
 * (lld's default) maps that page once per segment, each at offset 0. */
static int ml_maps_object_line(const ml_map_t *m, void *arg) {
  ml_maps_obj_t *a = arg;
  if (m->perms[0] != 'r' || m->offset != 0) return 0;
  const char *path = m->path;
  if (strcmp(path, "[vdso]") == 0) path = "linux-vdso.so.1";
  else if (path[0] != '/') return 0;
  if (m->lo >= a->last_lo && m->lo < a->last_hi && ml_path_hash(path) == a->last_hash)
    return 0;
  return ml_maps_object(m->lo, m->hi, path, ml_maps_object_seen, a);
}

int ml_prim_modules_maps(ml_prim_module_fn fn, void *arg) {
  ml_maps_obj_t a = {fn, arg, 0, 0, 0};
  return ml_prim_maps_foreach(ml_maps_object_line, &a);
}

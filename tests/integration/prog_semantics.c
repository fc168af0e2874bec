/* SPDX-License-Identifier: MIT */
/*
 * prog_semantics.c - glibc semantics of every malloc entry point, for
 * semantics.sh.  Run with and without the preload; prints one line
 * "<check>: <observation>" per check, observations that do not depend on the
 * allocator (no addresses, no usable sizes beyond comparisons), so that the
 * two outputs must be identical.  Lines starting with "x-" are memledger's
 * own promises beyond glibc (not compared with glibc).
 *
 *   prog_semantics          the glibc checks
 *   prog_semantics je       jemalloc's API through the preload (dlsym), with
 *                           memledger_dump() dumps around mallocx/sdallocx
 *   prog_semantics maps     whether libstdc++ is mapped in this process
 *   prog_semantics cxx-late libstdc++ dlopen'ed by this C program, then
 *                           operator new(size, nothrow) of a size no
 *                           allocator gives, found with dlsym: NULL
 * Output through write(2) only: no stdio buffer is allocated.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The checks pass impossible sizes and use blocks after a failed realloc on
 * purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif

static void *volatile sink;
static void *keep(void *p) {
  sink = p;
  return p;
}
/* Arguments the compiler cannot see: no folding of impossible requests and
 * no warnings about them. */
static size_t opaque(size_t v) {
  volatile size_t x = v;
  return x;
}

static void say(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  (void)!write(1, line, (size_t)n);
}

static const char *ename(int e) {
  switch (e) {
  case 0: return "0";
  case ENOMEM: return "ENOMEM";
  case EINVAL: return "EINVAL";
  case EAGAIN: return "EAGAIN";
  default: {
    static char buf[32];
    snprintf(buf, sizeof buf, "errno%d", e);
    return buf;
  }
  }
}

static int aligned(const void *p, size_t a) { return p && ((uintptr_t)p % a) == 0; }

static int all_bytes(const unsigned char *p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return 0;
  return 1;
}

/* ---- the glibc checks ------------------------------------------------------ */

static void check_malloc(void) {
  void *p = keep(malloc(0));
  say("malloc0: %s", p ? "non-null" : "null");
  free(p);
  say("malloc0_free: survived");

  errno = 0;
  free(NULL);
  say("free_null: errno=%s", ename(errno));

  size_t sizes[] = {1, 100, 1000, 5000, 100000, 3 << 20};
  int bad = 0;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    unsigned char *q = keep(malloc(sizes[i]));
    if (!q || malloc_usable_size(q) < sizes[i]) bad++;
    if (q) memset(q, 0x5a, sizes[i]);
    free(q);
  }
  say("malloc_usable_ge_request: %s", bad ? "NO" : "yes");
  say("malloc_usable_size_null: %zu", malloc_usable_size(NULL));

  errno = 0;
  p = keep(malloc(opaque(SIZE_MAX / 2)));
  say("malloc_huge: %s errno=%s", p ? "non-null" : "null", ename(errno));
  free(p);

  errno = 0;
  p = keep(malloc(opaque(SIZE_MAX)));
  say("malloc_max: %s errno=%s", p ? "non-null" : "null", ename(errno));
  free(p);

  /* free keeps errno, for small and tracked blocks alike */
  int kept = 1;
  size_t fsizes[] = {16, 5000, 200000};
  for (size_t i = 0; i < 3; i++) {
    p = keep(malloc(fsizes[i]));
    errno = 4242;
    free(p);
    if (errno != 4242) kept = 0;
  }
  say("free_keeps_errno: %s", kept ? "yes" : "NO");
}

static void check_calloc(void) {
  size_t sizes[] = {24, 800, 3000, 70000, 1 << 21};
  int zero = 1;
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    /* dirty a block of the same size first, so that a reused block shows */
    unsigned char *d = keep(malloc(sizes[i]));
    if (d) memset(d, 0xa5, sizes[i]);
    free(d);
    unsigned char *z = keep(calloc(1, sizes[i]));
    if (!z || !all_bytes(z, sizes[i], 0)) zero = 0;
    free(z);
    z = keep(calloc(sizes[i] / 8 ? sizes[i] / 8 : 1, 8));
    if (!z || !all_bytes(z, sizes[i], 0)) zero = 0;
    free(z);
  }
  say("calloc_zeroes: %s", zero ? "yes" : "NO");

  errno = 0;
  void *p = keep(calloc(opaque(SIZE_MAX / 2), 3));
  say("calloc_overflow: %s errno=%s", p ? "non-null" : "null", ename(errno));
  errno = 0;
  p = keep(calloc(opaque((size_t)1 << 33), (size_t)1 << 33));
  say("calloc_overflow2: %s errno=%s", p ? "non-null" : "null", ename(errno));
  p = keep(calloc(0, 0));
  say("calloc0: %s", p ? "non-null" : "null");
  free(p);
}

static void check_realloc(void) {
  unsigned char *p = keep(realloc(NULL, 3000));
  say("realloc_null: %s usable_ge=%d", p ? "non-null" : "null",
      p && malloc_usable_size(p) >= 3000);
  free(p);

  /* growth and shrink keep the contents, across the tracking threshold */
  size_t steps[] = {10, 900, 1500, 100000, 4000, 200, 70000, 16};
  unsigned char *q = NULL;
  size_t have = 0;
  int same = 1;
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    unsigned char *r = keep(realloc(q, steps[i]));
    if (!r) {
      same = 0;
      break;
    }
    size_t k = have < steps[i] ? have : steps[i];
    for (size_t j = 0; j < k; j++)
      if (r[j] != (unsigned char)(j * 7 + 1)) same = 0;
    for (size_t j = 0; j < steps[i]; j++) r[j] = (unsigned char)(j * 7 + 1);
    q = r;
    have = steps[i];
  }
  say("realloc_keeps_contents: %s", same ? "yes" : "NO");

  errno = 0;
  void *z = keep(realloc(q, opaque(0)));
  say("realloc_zero: %s errno=%s", z ? "non-null" : "null", ename(errno));
  if (z) free(z);

  p = keep(malloc(5000));
  memset(p, 0x33, 5000);
  errno = 0;
  z = keep(realloc(p, opaque(0)));
  say("realloc_zero_tracked: %s errno=%s", z ? "non-null" : "null", ename(errno));
  if (z) free(z);

  p = keep(malloc(2000));
  memset(p, 0x44, 2000);
  errno = 0;
  z = keep(realloc(p, opaque(SIZE_MAX / 2)));
  say("realloc_huge: %s errno=%s old_intact=%d", z ? "non-null" : "null", ename(errno),
      all_bytes(p, 2000, 0x44));
  free(z ? z : p);

  /* reallocarray */
  p = keep(reallocarray(NULL, 100, 30));
  say("reallocarray_null: %s", p ? "non-null" : "null");
  memset(p, 0x77, 3000);
  errno = 0;
  z = keep(reallocarray(p, opaque(SIZE_MAX / 4), 8));
  say("reallocarray_overflow: %s errno=%s old_intact=%d", z ? "non-null" : "null",
      ename(errno), all_bytes(p, 3000, 0x77));
  unsigned char *g = keep(reallocarray(p, 1000, 20));
  say("reallocarray_grow: %s kept=%d", g ? "non-null" : "null", g && all_bytes(g, 3000, 0x77));
  free(g ? g : p);
}

static void check_aligned(void) {
  /* posix_memalign */
  void *out = (void *)0x1234;
  int rc = posix_memalign(&out, opaque(3), 100);
  say("posix_memalign_3: rc=%s out_untouched=%d", ename(rc), out == (void *)0x1234);
  out = (void *)0x1234;
  rc = posix_memalign(&out, opaque(24), 100);
  say("posix_memalign_24: rc=%s out_untouched=%d", ename(rc), out == (void *)0x1234);
  out = (void *)0x1234;
  rc = posix_memalign(&out, opaque(4), 100); /* a power of two, not a multiple of void* */
  say("posix_memalign_4: rc=%s out_untouched=%d", ename(rc), out == (void *)0x1234);
  out = (void *)0x1234;
  rc = posix_memalign(&out, opaque(0), 100);
  say("posix_memalign_0: rc=%s out_untouched=%d", ename(rc), out == (void *)0x1234);
  int good = 1;
  size_t aligns[] = {8, 16, 64, 256, 4096, 65536};
  size_t sizes[] = {0, 1, 100, 3000, 100000};
  for (size_t a = 0; a < sizeof aligns / sizeof *aligns; a++)
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
      out = NULL;
      rc = posix_memalign(&out, aligns[a], sizes[s]);
      if (rc != 0 || !aligned(out, aligns[a]) || malloc_usable_size(out) < sizes[s]) good = 0;
      if (out) memset(out, 1, sizes[s]);
      free(out);
    }
  say("posix_memalign_good: %s", good ? "aligned" : "NO");
  errno = 0;
  out = (void *)0x1234;
  rc = posix_memalign(&out, 64, opaque(SIZE_MAX / 2));
  say("posix_memalign_huge: rc=%s out_untouched=%d", ename(rc), out == (void *)0x1234);

  /* aligned_alloc */
  good = 1;
  for (size_t a = 0; a < sizeof aligns / sizeof *aligns; a++)
    for (size_t s = 1; s < sizeof sizes / sizeof *sizes; s++) {
      void *p = keep(aligned_alloc(aligns[a], sizes[s]));
      if (!aligned(p, aligns[a]) || malloc_usable_size(p) < sizes[s]) good = 0;
      if (p) memset(p, 1, sizes[s]);
      free(p);
    }
  say("aligned_alloc_good: %s", good ? "aligned" : "NO");
  /* glibc < 2.38 rounds a non-power-of-two alignment up; 2.38 and later
   * (and memledger) refuse it with EINVAL: semantics.sh knows. */
  errno = 0;
  void *p = keep(aligned_alloc(opaque(24), 100));
  say("aligned_alloc_npot: %s errno=%s", p ? "non-null" : "null", ename(errno));
  free(p);

  /* memalign rounds a non-power-of-two alignment up */
  good = 1;
  size_t npot[] = {3, 24, 48, 100, 1000, 3000, 5000};
  for (size_t a = 0; a < sizeof npot / sizeof *npot; a++) {
    size_t want = 1;
    while (want < npot[a]) want <<= 1;
    for (size_t s = 1; s < sizeof sizes / sizeof *sizes; s++) {
      p = keep(memalign(npot[a], sizes[s]));
      if (!aligned(p, want) || malloc_usable_size(p) < sizes[s]) good = 0;
      free(p);
    }
  }
  say("memalign_npot_rounded_up: %s", good ? "aligned" : "NO");
  p = keep(memalign(4096, 5000));
  say("memalign_4096: %s", aligned(p, 4096) ? "aligned" : "NO");
  free(p);
  errno = 0;
  p = keep(memalign(opaque(SIZE_MAX / 2 + 2), 100));
  say("memalign_huge_alignment: %s errno=%s", p ? "non-null" : "null", ename(errno));

  /* valloc / pvalloc */
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  good = 1;
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    p = keep(valloc(sizes[s]));
    if (!aligned(p, page) || malloc_usable_size(p) < sizes[s]) good = 0;
    free(p);
    p = keep(pvalloc(sizes[s]));
    if (!aligned(p, page) || malloc_usable_size(p) < sizes[s]) good = 0;
    if (sizes[s] && malloc_usable_size(p) < (sizes[s] + page - 1) / page * page) good = 0;
    free(p);
  }
  say("valloc_pvalloc_page_aligned: %s", good ? "yes" : "NO");
  p = keep(pvalloc(0));
  say("pvalloc0: %s", aligned(p, page) ? "non-null page-aligned" : "NO");
  say("x-pvalloc0_usable_ge_page: %s", p && malloc_usable_size(p) >= page ? "yes" : "NO");
  free(p);
  errno = 0;
  p = keep(pvalloc(opaque(SIZE_MAX - 10)));
  say("pvalloc_overflow: %s errno=%s", p ? "non-null" : "null", ename(errno));
}

/* ---- jemalloc's API ---------------------------------------------------------- */

#define LG_ALIGN(la) ((int)(la)) /* MALLOCX_LG_ALIGN */
#define ZERO_FLAG 0x40           /* MALLOCX_ZERO */

typedef void *(*mallocx_t)(size_t, int);
typedef void *(*rallocx_t)(void *, size_t, int);
typedef size_t (*xallocx_t)(void *, size_t, size_t, int);
typedef size_t (*sallocx_t)(const void *, int);
typedef void (*dallocx_t)(void *, int);
typedef void (*sdallocx_t)(void *, size_t, int);
typedef size_t (*nallocx_t)(size_t, int);
typedef int (*mallctl_t)(const char *, void *, size_t *, void *, size_t);
typedef int (*dump_t)(char *, size_t);

static int je_mode(void) {
  mallocx_t mallocx_ = (mallocx_t)dlsym(RTLD_DEFAULT, "mallocx");
  rallocx_t rallocx_ = (rallocx_t)dlsym(RTLD_DEFAULT, "rallocx");
  xallocx_t xallocx_ = (xallocx_t)dlsym(RTLD_DEFAULT, "xallocx");
  sallocx_t sallocx_ = (sallocx_t)dlsym(RTLD_DEFAULT, "sallocx");
  dallocx_t dallocx_ = (dallocx_t)dlsym(RTLD_DEFAULT, "dallocx");
  sdallocx_t sdallocx_ = (sdallocx_t)dlsym(RTLD_DEFAULT, "sdallocx");
  nallocx_t nallocx_ = (nallocx_t)dlsym(RTLD_DEFAULT, "nallocx");
  mallctl_t mallctl_ = (mallctl_t)dlsym(RTLD_DEFAULT, "mallctl");
  dump_t dump_ = (dump_t)dlsym(RTLD_DEFAULT, "memledger_dump");
  say("je_resolved: %d %d %d %d %d %d %d %d %d", !!mallocx_, !!rallocx_, !!xallocx_,
      !!sallocx_, !!dallocx_, !!sdallocx_, !!nallocx_, !!mallctl_, !!dump_);
  if (!mallocx_ || !rallocx_ || !xallocx_ || !sallocx_ || !dallocx_ || !sdallocx_ ||
      !nallocx_ || !mallctl_ || !dump_)
    return 1;

  const char *ver = NULL;
  size_t len = sizeof ver;
  int rc = mallctl_("version", &ver, &len, NULL, 0);
  say("je_mallctl_version: rc=%d starts_with_digit=%d", rc,
      ver && ver[0] >= '0' && ver[0] <= '9');

  say("je_nallocx: %d", nallocx_(5003, 0) >= 5003 && nallocx_(100, 0) >= 100);

  char path[4096];
  /* dump 1: a tracked mallocx block (5003 bytes) is live */
  unsigned char *p = keep(mallocx_(5003, LG_ALIGN(12) | ZERO_FLAG));
  say("je_mallocx: non-null=%d aligned=%d zeroed=%d sallocx_eq_nallocx=%d", p != NULL,
      aligned(p, 4096), p && all_bytes(p, 5003, 0),
      p && sallocx_(p, 0) == nallocx_(5003, LG_ALIGN(12)));
  memset(p, 0x6b, 5003);
  say("je_xallocx_same: %d", xallocx_(p, 5003, 0, 0) == sallocx_(p, 0));
  rc = dump_(path, sizeof path);
  say("je_dump1: rc=%d", rc);
  say("x-je_dump1_path: %s", path);

  /* dump 2: rallocx moved it to 20011 bytes */
  unsigned char *q = keep(rallocx_(p, 20011, 0));
  say("je_rallocx: non-null=%d kept=%d usable_ge=%d", q != NULL, q && all_bytes(q, 5003, 0x6b),
      q && sallocx_(q, 0) >= 20011);
  rc = dump_(path, sizeof path);
  say("je_dump2: rc=%d", rc);
  say("x-je_dump2_path: %s", path);

  /* dump 4: xallocx grew it in place, or left it as it was */
  size_t u = xallocx_(q, 40000, 0, 0);
  say("je_xallocx_grow: usable_ok=%d", u >= 20011 && u == sallocx_(q, 0));
  say("x-je_xallocx_size: %d", u >= 40000 ? 40000 : 20011);
  rc = dump_(path, sizeof path);
  say("je_dump4: rc=%d", rc);
  say("x-je_dump4_path: %s", path);

  /* dump 3: sdallocx freed it; a small mallocx/dallocx pair changes nothing */
  sdallocx_(q, u >= 40000 ? 40000 : 20011, 0);
  void *s = keep(mallocx_(64, 0));
  dallocx_(s, 0);
  void *t = keep(mallocx_(7001, 0));
  dallocx_(t, 0);
  rc = dump_(path, sizeof path);
  say("je_dump3: rc=%d", rc);
  say("x-je_dump3_path: %s", path);
  return 0;
}

/* Whether libstdc++ is mapped: /proc/self/maps read with read(2). */
static int maps_mode(void) {
  static char buf[1 << 20];
  int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return 1;
  size_t len = 0;
  ssize_t n;
  while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t)n;
  close(fd);
  buf[len] = 0;
  say("libstdc++ mapped: %s", strstr(buf, "libstdc++") ? "yes" : "no");
  say("libmemledger mapped: %s", strstr(buf, "libmemledger") ? "yes" : "no");
  return 0;
}

/* A C++ runtime loaded after start: operator new's failures still reach
 * it (the nothrow form returns NULL, not an abort). */
static int cxx_late_mode(void) {
  void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
  if (!h) {
    say("cxx-late: no libstdc++.so.6");
    return 1;
  }
  void *(*nothrow_new)(size_t, const void *) =
      (void *(*)(size_t, const void *))dlsym(RTLD_DEFAULT, "_ZnwmRKSt9nothrow_t");
  void (*nothrow_tag) = dlsym(RTLD_DEFAULT, "_ZSt7nothrow");
  if (!nothrow_new || !nothrow_tag) {
    say("cxx-late: no operator new");
    return 1;
  }
  void *p = nothrow_new((size_t)1 << 62, nothrow_tag);
  say("cxx-late: operator new(huge, nothrow): %s", p ? "a block" : "null");
  void *q = nothrow_new(100, nothrow_tag);
  say("cxx-late: operator new(100, nothrow): %s", q ? "a block" : "null");
  free(q);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "cxx-late") == 0) return cxx_late_mode();
  if (argc > 1 && strcmp(argv[1], "je") == 0) return je_mode();
  if (argc > 1 && strcmp(argv[1], "maps") == 0) return maps_mode();
  check_malloc();
  check_calloc();
  check_realloc();
  check_aligned();
  say("done: yes");
  return 0;
}

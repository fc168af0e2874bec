/* SPDX-License-Identifier: MIT */
/*
 * beacon.c - the dump beacon: a memfd mapping whose name tells `memledger
 * dump` the dump signal and directory (layer: output).  See beacon.h.
 *
 * Why a memfd name: the command must learn these from the process, not from
 * /proc/PID/environ, which programs such as redis-server rewrite.  Named
 * anonymous mappings (prctl PR_SET_VMA_ANON_NAME) need
 * CONFIG_ANON_VMA_NAME, which many kernels lack; a memfd's name shows in
 * /proc/PID/maps on every kernel since 3.17.  The descriptor exists only
 * between memfd_create and close, in the constructor (or a fork child's
 * handler): the program never sees it.  A fork child inherits the mapping,
 * which stays right unless the child stops tracking (then it is replaced);
 * exec drops it.
 */
#include "beacon.h"
#include "fmt.h"
#include "options.h"
#include "prim.h"
#include "triggers.h"
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif

#define ML_BEACON_NAME_MAX 249 /* the kernel's limit, without the NUL */

static struct {
  void *page;                          // the mapping, NULL when none
  char name[ML_BEACON_NAME_MAX + 1];   // its name
} ml_beacon;

/* Append dir percent-encoded; false when it does not fit. */
static bool ml_beacon_put_dir(char *buf, size_t *len, const char *dir) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = *len;
  for (const unsigned char *p = (const unsigned char *)dir; *p; p++) {
    bool enc = *p <= ' ' || *p >= 0x7f || *p == '%' || *p == ':';
    if (n + (enc ? 3 : 1) > ML_BEACON_NAME_MAX) return false;
    if (enc) {
      buf[n++] = '%';
      buf[n++] = hex[*p >> 4];
      buf[n++] = hex[*p & 15];
    } else {
      buf[n++] = (char)*p;
    }
  }
  buf[n] = 0;
  *len = n;
  return true;
}

void ml_beacon_publish(const char *off) {
  char name[ML_BEACON_NAME_MAX + 1];
  int want = (int)ml_option_get(ML_OPT_SIGNAL), sig = off ? 0 : ml_triggers_dump_signal();
  int n = ml_snprintf(name, sizeof name, "memledger:1:track=%d", off == NULL);
  if (off) n += ml_snprintf(name + n, sizeof name - (size_t)n, ":off=%s", off);
  n += ml_snprintf(name + n, sizeof name - (size_t)n, ":sig=%d", sig);
  if (!off && sig != want && want > 0)
    n += ml_snprintf(name + n, sizeof name - (size_t)n, ":want=%d", want);
  const char *dir = ml_option_str(ML_OPT_DIR);
  size_t len = (size_t)n, keep = len;
  if (!off && dir[0] == '/' && len + 5 < sizeof name) {
    memcpy(name + len, ":dir=", 6);
    len += 5;
    if (!ml_beacon_put_dir(name, &len, dir)) name[len = keep] = 0; /* too long:
                                       the command falls back to the environment */
  }
  if (ml_triggers_sandboxed()) return; /* a filter may kill for memfd_create */
  if (ml_beacon.page && !strcmp(name, ml_beacon.name)) return;
  long fd = ml_sys2(SYS_memfd_create, name, MFD_CLOEXEC);
  if (fd < 0) return;
  /* Over the old page when there is one: the beacon is never missing. */
  long p = ml_prim_sys(SYS_mmap, (long)ml_beacon.page, 4096, PROT_NONE,
                       MAP_PRIVATE | (ml_beacon.page ? MAP_FIXED : 0), fd, 0);
  ml_sys1(SYS_close, fd);
  if (p < 0 && p > -4096) return;
  ml_beacon.page = (void *)p;
  memcpy(ml_beacon.name, name, len + 1);
}

void ml_beacon_update(const char *off) {
  if (ml_beacon.page) ml_beacon_publish(off);
}

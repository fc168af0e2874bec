/* SPDX-License-Identifier: MIT */
/*
 * prog_lsan_api.c - the LeakSanitizer-like interface of memledger.h, for
 * lsan_api.sh: memledger_leak_check, memledger_ignore_object,
 * memledger_disable/enable, memledger_register/unregister_root_region and
 * the program's memledger_default_suppressions.  Not linked with memledger:
 * the functions are found with dlsym (exit 4 without the preload).  Prints
 * "key=value" lines; every block is at least 1024 bytes (tracked at the
 * default threshold), and its size says what it is for:
 *   5100 lost after memledger_ignore_object, 5200 held only by it,
 *   5300 ignored, freed, its address handed out again and lost,
 *   6100 lost in a region of memledger_disable, 6200 tracked before the
 *   region and freed in it, 7100 held only from a shared mapping (a root
 *   region for a while), 8100 lost in lose_for_supp (the default
 *   suppressions name it), 9100 definitely lost, 9200 indirectly lost.
 * Modes: check, ignore, disable, roots, supp.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../include/memledger.h"

/* The program's own suppressions (exported: see local.mk). */
const char *memledger_default_suppressions(void) {
  return "# compiled into prog_lsan_api\n"
         "leak:lose_for_supp\n";
}

static int (*leak_check)(memledger_leaks_t *);
static void (*ignore_object)(const void *);
static void (*ml_disable)(void), (*ml_enable)(void);
static void (*register_root)(const void *, size_t), (*unregister_root)(const void *, size_t);
static int (*stats)(memledger_stats_t *);

void *volatile keep, *volatile keep2;

static void *xmalloc(size_t n) {
  void *p = calloc(1, n);
  if (!p) exit(3);
  return p;
}

/* Wipe the dead part of the stack, where calls left copies of pointers. */
static __attribute__((noinline)) void wipe_stack(void) {
  volatile char buf[16384];
  memset((char *)buf, 0, sizeof buf);
}

/* One leak check, printed as key=rc,definite,indirect,possible,reachable
 * (blocks) and key_dump=path. */
static int check(const char *key) {
  wipe_stack();
  memledger_leaks_t l;
  memset(&l, 0xff, sizeof l);
  int rc = leak_check(&l);
  printf("%s=%d checked=%d definite=%llu/%llu indirect=%llu/%llu possible=%llu reachable=%llu\n",
         key, rc, l.checked, (unsigned long long)l.definite_blocks,
         (unsigned long long)l.definite_bytes, (unsigned long long)l.indirect_blocks,
         (unsigned long long)l.indirect_bytes, (unsigned long long)l.possible_blocks,
         (unsigned long long)l.reachable_blocks);
  printf("%s_dump=%s\n", key, l.dump);
  fflush(stdout);
  return rc;
}

static __attribute__((noinline)) void lose(size_t n) {
  void *volatile p = xmalloc(n);
  p = NULL;
  (void)p;
}

static __attribute__((noinline)) void lose_list(void) {
  void *volatile *head = xmalloc(9100);
  head[0] = xmalloc(9200);
  head = NULL;
}

static __attribute__((noinline)) void lose_for_supp(void) {
  void *volatile p = xmalloc(8100);
  p = NULL;
  (void)p;
}

/* Ignore a block that holds another, then lose both. */
static __attribute__((noinline)) void lose_ignored(void) {
  void *volatile *p = xmalloc(5100);
  p[0] = xmalloc(5200);
  ignore_object((void *)p);
  ignore_object((char *)p + 8); /* not a block start: nothing */
  ignore_object((void *)&keep2); /* not a block: nothing */
  p = NULL;
}

/* Ignore a block, free it, get its address again and lose that one. */
static __attribute__((noinline)) int lose_reused(void) {
  void *p = xmalloc(5300);
  ignore_object(p);
  free(p);
  void *volatile q = xmalloc(5300);
  int same = q == p;
  q = NULL;
  return same;
}

static __attribute__((noinline)) void roots(void) {
  void **shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) exit(3);
  shared[3] = xmalloc(7100);
  check("shared");        /* a shared mapping is not a root */
  register_root(shared, 4096);
  register_root(shared, 4096); /* twice: unregistered once, still a root */
  check("registered");
  unregister_root(shared, 4096);
  check("registered_twice");
  unregister_root(shared, 4096);
  unregister_root(shared, 4096); /* not registered any more: a warning */
  check("unregistered");
}

static __attribute__((noinline)) void disabled(void) {
  memledger_stats_t s0, s1;
  keep2 = xmalloc(6200);
  stats(&s0);
  ml_disable();
  ml_disable(); /* nested */
  lose(6100);
  ml_enable();
  lose(6100); /* still disabled: one level left */
  free(keep2); /* a tracked block freed in the region: seen */
  keep2 = NULL;
  ml_enable();
  stats(&s1);
  printf("disabled_allocs=%llu disabled_frees=%llu\n",
         (unsigned long long)(s1.tracked_allocs - s0.tracked_allocs),
         (unsigned long long)(s1.tracked_frees - s0.tracked_frees));
  ml_enable(); /* one too many: a warning, nothing else */
  lose(6100);  /* tracked again */
}

#define FIND(var, name)                                                        \
  do {                                                                         \
    *(void **)&var = dlsym(RTLD_DEFAULT, name);                                \
    if (!var) return 4;                                                        \
  } while (0)

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "check";
  FIND(leak_check, "memledger_leak_check");
  FIND(ignore_object, "memledger_ignore_object");
  FIND(ml_disable, "memledger_disable");
  FIND(ml_enable, "memledger_enable");
  FIND(register_root, "memledger_register_root_region");
  FIND(unregister_root, "memledger_unregister_root_region");
  FIND(stats, "memledger_stats");
  keep = xmalloc(1100); /* reachable from a global throughout */
  if (!strcmp(mode, "check")) {
    check("clean");
    lose(9000);
    lose_list();
    check("lost");
    printf("null_rc=%d\n", leak_check(NULL));
  } else if (!strcmp(mode, "ignore")) {
    lose_ignored();
    check("ignored");
    printf("reused=%d\n", lose_reused());
    check("reused_check");
  } else if (!strcmp(mode, "disable")) {
    disabled();
    check("after_disable");
  } else if (!strcmp(mode, "roots")) {
    roots();
  } else if (!strcmp(mode, "supp")) {
    lose_for_supp();
    lose(9000);
    check("supp");
  } else {
    return 2;
  }
  return 0;
}

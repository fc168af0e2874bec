/* SPDX-License-Identifier: MIT */
/*
 * prog_res.c - threads and anonymous mappings for res_threads.sh and
 * res_maps.sh: the program makes them in named functions, says on stdout
 * what it made (addresses, tids, sizes), then writes a dump with
 * memledger_dump() (resolved with dlsym: the program is preloaded, not
 * linked) while they are in the state the test checks.
 *
 * Usage: prog_res threads | maps | fork | race
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* noinline, and no tail calls: each function keeps its own frame, so that
 * the creation stacks name it. */
#define NOINLINE __attribute__((noinline, optimize("no-optimize-sibling-calls")))

static void dump(void) {
  int (*d)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "memledger_dump");
  char path[4096];
  if (!d) {
    printf("dump none\n");
  } else if (d(path, sizeof path) == 0) {
    printf("dump %s\n", path);
  } else {
    printf("dump failed\n");
  }
  fflush(stdout);
}

/* ---- threads ------------------------------------------------------------- */

static sem_t started, release_running;

static void *run_wait(void *arg) {
  if (!strcmp(arg, "detached")) pthread_setname_np(pthread_self(), "ml-self");
  printf("tid %s %ld\n", (const char *)arg, (long)syscall(SYS_gettid));
  fflush(stdout);
  sem_post(&started);
  sem_wait(&release_running);
  return NULL;
}

static void *run_quick(void *arg) { return arg; }

static void *run_exit(void *arg) {
  pthread_exit(arg);
  return NULL;
}

static void *run_cancelled(void *arg) {
  (void)arg;
  sem_post(&started);
  for (;;) pause(); /* a cancellation point */
  return NULL;
}

/* pthread_create inlined into its caller, which keeps its own frame. */
static inline __attribute__((always_inline)) pthread_t spawn(void *(*fn)(void *), void *arg) {
  pthread_t t;
  pthread_create(&t, NULL, fn, arg);
  return t;
}

static NOINLINE pthread_t make_joined(void) { return spawn(run_quick, NULL); }
static NOINLINE pthread_t make_leaked_thread(void) { return spawn(run_quick, (void *)1); }
static NOINLINE pthread_t make_exiting_thread(void) { return spawn(run_exit, NULL); }
static NOINLINE pthread_t make_cancelled_thread(void) { return spawn(run_cancelled, NULL); }

static NOINLINE pthread_t make_running_thread(void) {
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 256 << 10);
  pthread_create(&t, &a, run_wait, "running");
  pthread_attr_destroy(&a);
  sem_wait(&started);
  pthread_setname_np(t, "ml-worker");
  return t;
}

static NOINLINE pthread_t make_detached_thread(void) {
  pthread_t t;
  pthread_create(&t, NULL, run_wait, "detached");
  sem_wait(&started);
  pthread_detach(t);
  return t;
}

static NOINLINE void make_detached_ended(void) {
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_create(&t, &a, run_quick, NULL);
  pthread_attr_destroy(&a);
}

/* A thread's end is recorded just before it is over: wait until the
 * kernel has it gone from the thread list. */
static void wait_threads(int n) {
  for (int i = 0; i < 2000; i++) {
    char buf[4096];
    FILE *f = fopen("/proc/self/status", "r");
    int count = -1;
    while (f && fgets(buf, sizeof buf, f))
      if (sscanf(buf, "Threads: %d", &count) == 1) break;
    if (f) fclose(f);
    if (count == n) return;
    usleep(1000);
  }
}

static int threads(void) {
  sem_init(&started, 0, 0);
  sem_init(&release_running, 0, 0);
  struct rlimit rl;
  getrlimit(RLIMIT_STACK, &rl);
  printf("rlimit_stack %llu\n", (unsigned long long)rl.rlim_cur);
  pthread_t j = make_joined();
  pthread_join(j, NULL);
  pthread_t e = make_exiting_thread();
  pthread_t t = make_leaked_thread();
  (void)t; /* never joined: its stack stays mapped */
  make_detached_ended();
  pthread_t c = make_cancelled_thread();
  sem_wait(&started);
  pthread_cancel(c);
  pthread_t r = make_running_thread();
  pthread_t d = make_detached_thread();
  /* main, running, detached, and e, t, c once ended */
  wait_threads(3);
  (void)c; /* cancelled, never joined */
  dump(); /* running, detached, ended (t, e, c) */
  sem_post(&release_running);
  sem_post(&release_running);
  pthread_join(r, NULL);
  pthread_join(e, NULL);
  wait_threads(1);
  dump(); /* t and c (ended, never joined) */
  (void)d;
  return 0;
}

/* ---- mappings ------------------------------------------------------------ */

static long page;

static NOINLINE char *map_whole(void) {
  return mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static NOINLINE char *map_to_cut(void) {
  return mmap(NULL, 10 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static NOINLINE char *map_shared(void) { /* mmap64: glibc's other name for mmap */
  return mmap64(NULL, 3 * page, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

static NOINLINE char *map_freed(void) {
  return mmap(NULL, 5 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static NOINLINE char *map_to_grow(void) {
  return mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static NOINLINE char *grow_mapping(char *p) {
  return mremap(p, 2 * page, 64 * page, MREMAP_MAYMOVE);
}

static NOINLINE char *map_to_replace(void) {
  return mmap(NULL, 6 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static NOINLINE char *replace_fixed(char *at) {
  return mmap(at, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static NOINLINE char *move_fixed(char *p, char *to) {
  return mremap(p, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, to);
}

#define SAY(name, p, n) printf("%s %lx %ld\n", name, (unsigned long)(p), (long)(n) * page)

static int maps(void) {
  page = sysconf(_SC_PAGESIZE);
  char *w = map_whole();
  SAY("whole", w, 4);
  /* 10 pages: the head (1), the middle (2 at 4..5) and the tail (1) go:
   * left are [1,4) and [6,9) */
  char *c = map_to_cut();
  munmap(c, page);
  munmap(c + 9 * page, page);
  munmap(c + 4 * page, 2 * page);
  SAY("cut-a", c + page, 3);
  SAY("cut-b", c + 6 * page, 3);
  char *s = map_shared();
  SAY("shared", s, 3);
  char *f = map_freed();
  munmap(f, 5 * page);
  SAY("freed", f, 5);
  char *g = grow_mapping(map_to_grow());
  SAY("grown", g, 64);
  /* MAP_FIXED over the middle of a 6-page mapping: [0,2) [2,4) new [4,6) */
  char *x = map_to_replace();
  char *y = replace_fixed(x + 2 * page);
  SAY("fixed-a", x, 2);
  SAY("fixed-new", y, 2);
  SAY("fixed-b", x + 4 * page, 2);
  /* move the first part onto a place we reserved (and unmapped) */
  char *hole = mmap(NULL, 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *m = move_fixed(x, hole);
  SAY("moved", m, 2);
  /* a file mapping is not recorded */
  FILE *tmp = tmpfile();
  fputs("x", tmp);
  fflush(tmp);
  char *file = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fileno(tmp), 0);
  SAY("file", file, 1);
  /* jemalloc's own mapping for a large block is not the program's */
  char *big = malloc(64 << 20);
  memset(big, 1, 4096);
  SAY("big", big, (64 << 20) / page);
  /* results and errno are the system call's */
  errno = 0;
  int rc = munmap((char *)w + 1, page);
  printf("munmap-unaligned %d %d\n", rc, errno == EINVAL);
  errno = 0;
  void *bad = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("mmap-zero %d %d\n", bad == MAP_FAILED, errno == EINVAL);
  errno = 0;
  void *badfix = mremap(w, 4 * page, 4 * page, MREMAP_FIXED, c);
  printf("mremap-fixed-alone %d %d\n", badfix == MAP_FAILED, errno == EINVAL);
  fflush(stdout);
  dump();
  return 0;
}

/* ---- race: 4 threads create, detach and join threads and map and unmap
 * memory at once; everything is joined, detached or unmapped at the end
 * but one 2-page mapping per worker. ------------------------------------------ */

static void *race_worker(void *arg) {
  (void)arg;
  for (int i = 0; i < 2000; i++) {
    pthread_t t = spawn(run_quick, NULL);
    char *p = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1;
    munmap(p + 4 * page, 4 * page);
    if (i % 2) pthread_join(t, NULL);
    else pthread_detach(t);
    munmap(p, 4 * page);
    munmap(p + 8 * page, i == 0 ? 6 * page : 8 * page); /* the first keeps 2 pages */
  }
  return NULL;
}

static int race(void) {
  page = sysconf(_SC_PAGESIZE);
  pthread_t w[4];
  for (int i = 0; i < 4; i++) pthread_create(&w[i], NULL, race_worker, NULL);
  for (int i = 0; i < 4; i++) pthread_join(w[i], NULL);
  wait_threads(1);
  dump();
  return 0;
}

/* ---- fork ------------------------------------------------------------------ */

static int forked(void) {
  page = sysconf(_SC_PAGESIZE);
  sem_init(&started, 0, 0);
  sem_init(&release_running, 0, 0);
  char *before = map_whole();
  SAY("before", before, 4);
  pthread_t r = make_running_thread();
  dump(); /* the parent before the fork: the running thread */
  pid_t pid = fork();
  if (pid == 0) {
    char *mine = map_shared();
    SAY("child-map", mine, 3);
    fflush(stdout);
    dump();
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  sem_post(&release_running);
  pthread_join(r, NULL);
  dump();
  return st == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "threads")) return threads();
  if (argc > 1 && !strcmp(argv[1], "maps")) return maps();
  if (argc > 1 && !strcmp(argv[1], "fork")) return forked();
  if (argc > 1 && !strcmp(argv[1], "race")) return race();
  fprintf(stderr, "usage: prog_res threads|maps|fork\n");
  return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * fork_prog.c - for fork_variants.sh.  Output through write(2) only.
 *   fork_prog forks N        3 threads allocate/free while the main thread
 *                            forks N children one after the other; each child
 *                            leaks 5003 bytes and exits normally.  Prints
 *                            "child <pid>" per child, then "done".
 *   fork_prog forkexec PROG  fork, the child execs PROG at once; "child <pid>"
 *   fork_prog spawn PROG     posix_spawn PROG; "child <pid>"
 *   fork_prog vfork PROG     vfork + execv PROG; "child <pid>"
 *   fork_prog daemon PIDFILE daemon(0, 0); the daemon leaks 4099 bytes,
 *                            writes its pid to PIDFILE.tmp, renames it to
 *                            PIDFILE, and exits normally.
 *   fork_prog threads        threads leak while exiting (pthread_exit: 3001),
 *                            being cancelled (3002) and detached (3003); the
 *                            main thread leaks 3004 and exits.
 *   fork_prog atfork N       pthread_atfork handlers that allocate and free
 *                            (tracked sizes); N forks while a thread
 *                            allocates; children exit at once.  "done".
 * Every parent waits for its children; the exit status is 0 unless a child
 * failed (then 1).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void say(const char *s) { (void)!write(1, s, strlen(s)); }
static void sayf(const char *fmt, long v) {
  char b[128];
  snprintf(b, sizeof b, fmt, v);
  say(b);
}
static void *volatile sink;
static atomic_int stop;

static void *churn(void *arg) {
  unsigned s = (unsigned)(size_t)arg + 1;
  void *keep[16] = {0};
  while (!atomic_load(&stop)) {
    s = s * 1103515245u + 12345u;
    unsigned k = (s >> 8) % 16;
    free(keep[k]);
    keep[k] = malloc(1 + (s >> 12) % 6000);
  }
  for (int i = 0; i < 16; i++) free(keep[i]);
  return NULL;
}

static int reap(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) return 1;
  return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int do_forks(int n) {
  pthread_t th[3];
  for (long i = 0; i < 3; i++) pthread_create(&th[i], NULL, churn, (void *)i);
  int bad = 0;
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      sink = malloc(5003);
      memset(sink, 1, 5003);
      void *t = malloc(20000);
      free(t);
      exit(0);
    }
    sayf("child %ld\n", pid);
    bad |= reap(pid);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  say("done\n");
  return bad;
}

static int do_exec(const char *how, char *prog) {
  char *args[] = {prog, NULL};
  pid_t pid;
  sink = malloc(4001); /* the parent's own leak */
  if (strcmp(how, "forkexec") == 0) {
    pid = fork();
    if (pid == 0) {
      execv(prog, args);
      _exit(127);
    }
  } else if (strcmp(how, "vfork") == 0) {
    pid = vfork();
    if (pid == 0) {
      execv(prog, args);
      _exit(127);
    }
  } else {
    if (posix_spawn(&pid, prog, NULL, NULL, args, environ) != 0) return 2;
  }
  if (pid < 0) return 2;
  sayf("child %ld\n", pid);
  return reap(pid);
}

static int do_daemon(const char *pidfile) {
  if (daemon(0, 0) != 0) return 2;
  sink = malloc(4099);
  memset(sink, 9, 4099);
  char tmp[4096], b[32];
  snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 3;
  int n = snprintf(b, sizeof b, "%ld\n", (long)getpid());
  (void)!write(fd, b, (size_t)n);
  close(fd);
  rename(tmp, pidfile);
  return 0;
}

static void *t_exit(void *a) {
  (void)a;
  sink = malloc(3001);
  pthread_exit(NULL);
}
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int cancel_ready;
static void *volatile cancel_block;
static void *t_cancel(void *a) {
  (void)a;
  cancel_block = malloc(3002);
  pthread_mutex_lock(&m);
  cancel_ready = 1;
  pthread_cond_signal(&c);
  pthread_mutex_unlock(&m);
  for (;;) pause(); /* a cancellation point */
  return NULL;
}
static atomic_int detached_done;
static void *volatile detached_block;
static void *t_detached(void *a) {
  (void)a;
  detached_block = malloc(3003);
  atomic_store(&detached_done, 1);
  return NULL;
}

static int do_threads(void) {
  pthread_t a, b, d;
  pthread_create(&a, NULL, t_exit, NULL);
  pthread_join(a, NULL);
  pthread_create(&b, NULL, t_cancel, NULL);
  pthread_mutex_lock(&m);
  while (!cancel_ready) pthread_cond_wait(&c, &m);
  pthread_mutex_unlock(&m);
  pthread_cancel(b);
  void *res;
  pthread_join(b, &res);
  if (res != PTHREAD_CANCELED) return 3;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  pthread_create(&d, &at, t_detached, NULL);
  while (!atomic_load(&detached_done)) usleep(1000);
  usleep(20000);
  sink = malloc(3004);
  say("done\n");
  return 0;
}

static void h_prepare(void) { void *p = malloc(10007); memset(p, 1, 10007); free(p); }
static void h_parent(void) { void *p = calloc(1, 10009); free(realloc(p, 20011)); }
static void h_child(void) { void *p = malloc(10013); memset(p, 2, 10013); free(p); }

static int do_atfork(int n) {
  pthread_atfork(h_prepare, h_parent, h_child);
  pthread_t th;
  pthread_create(&th, NULL, churn, (void *)7);
  int bad = 0;
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      void *p = malloc(7777);
      free(p);
      _exit(0); /* no exit dump: only the fork handlers are exercised */
    }
    bad |= reap(pid);
  }
  atomic_store(&stop, 1);
  pthread_join(th, NULL);
  say("done\n");
  return bad;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *mode = argv[1];
  if (strcmp(mode, "forks") == 0) return do_forks(argc > 2 ? atoi(argv[2]) : 5);
  if ((strcmp(mode, "forkexec") == 0 || strcmp(mode, "spawn") == 0 ||
       strcmp(mode, "vfork") == 0) && argc > 2)
    return do_exec(mode, argv[2]);
  if (strcmp(mode, "daemon") == 0 && argc > 2) return do_daemon(argv[2]);
  if (strcmp(mode, "threads") == 0) return do_threads();
  if (strcmp(mode, "atfork") == 0) return do_atfork(argc > 2 ? atoi(argv[2]) : 20);
  return 2;
}

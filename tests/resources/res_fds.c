/* SPDX-License-Identifier: MIT */
/*
 * res_fds.c - descriptors from every glibc entry point memledger hooks, for
 * fds.sh.  Prints one line per descriptor it keeps ("leak <call> <fd>
 * <kind>"; "unseen <fd> <kind>" for one opened by a raw system call) and
 * per descriptor it made and closed again (each closer), whose number it
 * then fills again by a raw dup3 ("unseen <fd> file" as well: the
 * closer must have ended the record).  Modes:
 *   all    every entry point, some closed (each closer), the rest kept;
 *          then memledger_dump() (a snapshot dump) and the exit dump
 *   fork   keeps two, forks; the child closes one, makes one, and exits
 *          (its own exit dump); the parent waits and exits
 *   exec   keeps one with O_CLOEXEC and one without, then execs itself
 *          in mode "after" (which keeps nothing and exits)
 * All descriptors are made in make_*() functions, which fds.sh looks for
 * in the creation stacks.  Output through dprintf (unbuffered).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern int __open_2(const char *path, int flags);
extern int __openat_2(int dfd, const char *path, int flags);
extern FILE *fopen64(const char *path, const char *mode);
extern FILE *freopen64(const char *path, const char *mode, FILE *f);
extern int fcntl64(int fd, int cmd, ...);
extern int pidfd_open(pid_t pid, unsigned int flags);

/* One line on stdout, unbuffered (dprintf: no stdio buffer to flush
 * before a fork or an exec). */
#define say(fmt, ...) dprintf(1, fmt "\n", ##__VA_ARGS__)

static void die(const char *what) {
  say("error %s", what);
  _exit(2);
}

static int must(int fd, const char *what) {
  if (fd < 0) die(what);
  return fd;
}

static void leak(const char *call, int fd, const char *kind) {
  say("leak %s %d %s", call, must(fd, call), kind);
}

/* The numbers closed by each closer, refilled at the end by raw dup3s:
 * a record not ended by its closer would show its old call there. */
static int closed_fds[64], nclosed;
static void closed(const char *how, int fd) {
  say("# closed by %s: %d", how, fd);
  if (nclosed < 64) closed_fds[nclosed++] = fd;
}

static char tmpdir[] = "/tmp/res_fds.XXXXXX";
static char tmppath[64];

/* A listening unix socket and a connected client: two accepts. */
static int listener, client1, client2;
__attribute__((noinline)) static void make_listener(void) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", tmpdir);
  listener = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  if (bind(listener, (struct sockaddr *)&a, sizeof a) || listen(listener, 4)) die("bind");
  client1 = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  client2 = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  if (connect(client1, (struct sockaddr *)&a, sizeof a) ||
      connect(client2, (struct sockaddr *)&a, sizeof a))
    die("connect");
  say("leak socket %d socket", listener);
  say("leak socket %d socket", client1);
  say("leak socket %d socket", client2);
}

/* One of each, kept. */
__attribute__((noinline)) static void make_kept(void) {
  int p[2];
  sigset_t ss;
  sigemptyset(&ss);
  sigaddset(&ss, SIGUSR1);

  leak("open", open("/etc/hostname", O_RDONLY), "file");
  leak("open", open("/", O_RDONLY | O_DIRECTORY), "dir");
  leak("open", open("/dev/null", O_WRONLY), "device");
  leak("open64", open64("/etc/hostname", O_RDONLY), "file");
  leak("openat", openat(AT_FDCWD, "/etc/hostname", O_RDONLY), "file");
  leak("openat64", openat64(AT_FDCWD, "/etc/hostname", O_RDONLY), "file");
  leak("open", __open_2("/etc/hostname", O_RDONLY), "file");
  leak("openat", __openat_2(AT_FDCWD, "/etc/hostname", O_RDONLY), "file");
  leak("creat", creat(tmppath, 0600), "file");
  leak("creat64", creat64(tmppath, 0600), "file");
  leak("fopen", fileno(fopen("/etc/hostname", "r")), "file");
  leak("fopen64", fileno(fopen64("/etc/hostname", "r")), "file");
  leak("tmpfile", fileno(tmpfile()), "file");
  leak("tmpfile64", fileno(tmpfile64()), "file");
  leak("popen", fileno(popen("true", "r")), "pipe");
  leak("opendir", dirfd(opendir("/")), "dir");
  leak("fdopendir", dirfd(fdopendir(syscall(SYS_openat, AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY))), "dir");
  leak("fdopen", fileno(fdopen(syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY), "r")), "file");
  /* freopen: the stream's old descriptor is closed, the new one kept */
  FILE *f = fopen("/etc/passwd", "r");
  if (!f) die("fopen");
  int old = fileno(f);
  f = freopen("/etc/hostname", "r", f);
  if (!f) die("freopen");
  leak("freopen", fileno(f), "file");
  if (fileno(f) != old) say("# freopen moved %d to %d", old, fileno(f));
  f = freopen64("/etc/passwd", "r", fopen("/etc/hostname", "r"));
  leak("freopen64", fileno(f), "file");
  leak("socket", socket(AF_INET, SOCK_DGRAM, 0), "socket");
  must(socketpair(AF_UNIX, SOCK_STREAM, 0, p), "socketpair");
  leak("socketpair", p[0], "socket");
  leak("socketpair", p[1], "socket");
  leak("accept", accept(listener, NULL, NULL), "socket");
  leak("accept4", accept4(listener, NULL, NULL, SOCK_CLOEXEC), "socket");
  must(pipe(p), "pipe");
  leak("pipe", p[0], "pipe");
  leak("pipe", p[1], "pipe");
  must(pipe2(p, O_CLOEXEC), "pipe2");
  leak("pipe2", p[0], "pipe");
  leak("pipe2", p[1], "pipe");
  leak("dup", dup(0), "device");
  leak("dup3", dup3(p[0], 200, O_CLOEXEC), "pipe");
  leak("fcntl", fcntl(p[0], F_DUPFD, 210), "pipe");
  leak("fcntl", fcntl(p[0], F_DUPFD_CLOEXEC, 220), "pipe");
  leak("fcntl64", fcntl64(p[0], F_DUPFD, 230), "pipe");
  leak("eventfd", eventfd(0, 0), "anon");
  leak("timerfd_create", timerfd_create(CLOCK_MONOTONIC, 0), "anon");
  leak("signalfd", signalfd(-1, &ss, 0), "anon");
  leak("epoll_create", epoll_create(1), "anon");
  leak("epoll_create1", epoll_create1(0), "anon");
  leak("inotify_init", inotify_init(), "anon");
  leak("inotify_init1", inotify_init1(0), "anon");
  leak("memfd_create", memfd_create("res_fds", 0), "anon");
  leak("pidfd_open", pidfd_open(getpid(), 0), "anon");
  /* dup2 onto an open descriptor: the socket made here is replaced */
  int s = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  leak("dup2", dup2(p[0], s), "pipe");
  /* not a duplicate: dup2(fd, fd) keeps the record it had */
  int h = must(open("/etc/hostname", O_RDONLY), "open");
  leak("open", dup2(h, h), "file");
  /* a raw system call: open, but its creation unseen */
  say("unseen %d file", must(syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY), "openat"));
  /* close_range(CLOSE_RANGE_CLOEXEC) closes nothing */
  int c = must(open("/etc/hostname", O_RDONLY), "open");
  if (close_range(c, c, CLOSE_RANGE_CLOEXEC)) die("close_range cloexec");
  leak("open", c, "file");
}

/* Made and closed again, each way (the numbers stay free afterwards). */
__attribute__((noinline)) static void make_closed(void) {
  int p[2];
  int a = must(open("/etc/hostname", O_RDONLY), "open");
  FILE *f = fopen("/etc/hostname", "r");
  DIR *d = opendir("/");
  FILE *pp = popen("true", "r");
  int s = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  must(pipe(p), "pipe");
  int e = must(eventfd(0, 0), "eventfd");
  int x = must(open("/etc/hostname", O_RDONLY), "open");
  int r0 = must(fcntl(x, F_DUPFD, 400), "fcntl");
  int r1 = must(fcntl(x, F_DUPFD, 400), "fcntl");
  int r2 = must(fcntl(x, F_DUPFD, 400), "fcntl");
  if (!f || !d || !pp) die("streams");
  int fd_f = fileno(f), fd_d = dirfd(d), fd_pp = fileno(pp);
  close(a);
  closed("close", a);
  fclose(f);
  closed("fclose", fd_f);
  closedir(d);
  closed("closedir", fd_d);
  pclose(pp);
  closed("pclose", fd_pp);
  close(s);
  closed("close", s);
  close(p[0]);
  close(p[1]);
  closed("close", p[0]);
  closed("close", p[1]);
  close(e);
  closed("close", e);
  close(x);
  closed("close", x);
  if (r0 != 400 || r1 != 401 || r2 != 402) die("fcntl: 400 to 402 taken");
  if (close_range(400, 402, 0)) die("close_range");
  closed("close_range", r0);
  closed("close_range", r1);
  closed("close_range", r2);
  int hi = must(fcntl(0, F_DUPFD, 300), "fcntl");
  closefrom(300);
  closed("closefrom", hi);
  /* every closed number again, by raw system calls: "unseen" */
  int raw = must(syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY), "openat");
  for (int i = 0; i < nclosed; i++)
    if (closed_fds[i] != raw && syscall(SYS_dup3, raw, closed_fds[i], 0) < 0) die("dup3");
  for (int i = 0; i < nclosed; i++) say("unseen %d file", closed_fds[i]);
  say("unseen %d file", raw);
}

static void dump_now(void) {
  int (*dump)(char *, size_t) = (int (*)(char *, size_t))dlsym(RTLD_DEFAULT, "memledger_dump");
  char path[4096];
  if (dump && dump(path, sizeof path) == 0) say("dumped %s", path);
}

/* fork: kept before, the child closes one and makes one. */
/* (the barrier keeps the call from being a tail call, which would leave
 * make_* out of the stack) */
#define NO_TAIL() __asm__ volatile("" ::: "memory")
__attribute__((noinline)) static int make_before_fork(const char *path) {
  int fd = open(path, O_RDONLY);
  NO_TAIL();
  return fd;
}
__attribute__((noinline)) static int make_in_child(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  NO_TAIL();
  return fd;
}

static int mode_fork(void) {
  int a = must(make_before_fork("/etc/hostname"), "open");
  int b = must(make_before_fork("/dev/null"), "open");
  say("leak open %d file", a);
  say("leak open %d device", b);
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    close(b);
    say("child %d closed %d", (int)getpid(), b);
    int s = must(make_in_child(), "socket");
    say("child %d socket %d", (int)getpid(), s);
    exit(0);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) die("child");
  say("parent %d", (int)getpid());
  return 0;
}

/* exec: the new image sees what survives as inherited. */
__attribute__((noinline)) static int make_for_exec(int flags) {
  int fd = open("/etc/hostname", O_RDONLY | flags);
  NO_TAIL();
  return fd;
}

static int mode_exec(void) {
  int keep = must(make_for_exec(0), "open");
  int gone = must(make_for_exec(O_CLOEXEC), "open");
  say("exec kept %d", keep);
  say("exec cloexec %d", gone);
  execl("/proc/self/exe", "res_fds", "after", (char *)NULL);
  die("exec");
  return 2;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "all";
  if (!strcmp(mode, "fork")) return mode_fork();
  if (!strcmp(mode, "exec")) return mode_exec();
  if (!strcmp(mode, "after")) {
    say("after %d", (int)getpid());
    return 0;
  }
  if (!mkdtemp(tmpdir)) die("mkdtemp");
  snprintf(tmppath, sizeof tmppath, "%s/creat", tmpdir);
  make_listener();
  make_kept();
  make_closed();
  dump_now();
  unlink(tmppath);
  char sock[64];
  snprintf(sock, sizeof sock, "%s/sock", tmpdir);
  unlink(sock);
  rmdir(tmpdir);
  return 0;
}

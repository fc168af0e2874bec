/* SPDX-License-Identifier: MIT */
/*
 * cmd_dump.c - `memledger dump PID`: ask a running process for a dump and
 * print the dump file's path.  The process's dump signal and directory come
 * from the process itself (/proc: the library's beacon in its maps, else its
 * environment as the library read it; signal masks, working directory,
 * mount namespace); a signal is sent only when
 * memledger's handler is installed for it, otherwise it says why and sends
 * nothing, so the target is never killed.
 * Runs outside the target process.  Exit statuses: 0 (a dump was written),
 * 1 operational error, 2 usage error.
 */
#include "cmd_common.h"
#include "libopts.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_dump[] =
    "Usage: memledger dump [OPTIONS] PID\n"
    "Send the dump signal to process PID, wait for the new dump file in its dump\n"
    "directory and print the file's path.  The signal, the directory and whether\n"
    "tracking is on come from the process: the library's memfd mapping named\n"
    "memledger:1:... in /proc/PID/maps; for older libraries, its MEMLEDGER_SIGNAL,\n"
    "MEMLEDGER_DIR and MEMLEDGER_ENABLED (or MEMLEDGER_OPTIONS, or the\n"
    "configuration file), read as the library reads them.  Nothing is sent\n"
    "unless the process catches that signal (SigCgt in /proc/PID/status) and does\n"
    "not block it in every thread.  For a 'memledger run' PID, its program is\n"
    "dumped.\n"
    "\n"
    "  -t, --timeout SECONDS   how long to wait (default 10)\n"
    "  -h, --help              this help\n";

/* The dump DIR/NAME was written on the dump signal (not by the interval
 * timer, a limit or a failed allocation meanwhile). */
static bool is_signal_dump(const char *dir, const char *name) {
  char path[3 * PATH_MAX + 64], line[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  bool yes = false;
  for (int i = 0; f && i < 64 && fgets(line, sizeof line, f); i++)
    if (!strncmp(line, "trigger: ", 9)) {
      yes = !strcmp(line + 9, "signal\n");
      break;
    }
  if (f) fclose(f);
  return yes;
}

/* ---- a process as /proc shows it
 * ------------------------------------------------------------- */

/* The whole of /proc/PID/<name> (malloc'd, NUL-terminated; *len without the
 * NUL), or NULL with errno. */
static char *proc_read(long pid, const char *name, size_t *len) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t n = 0, cap = 4096;
  char *buf = mlr_xrealloc(NULL, cap);
  for (;;) {
    if (n + 1 >= cap) buf = mlr_xrealloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

/* The value of field "Name:" of a /proc status text, or NULL. */
static const char *status_field(const char *st, const char *name) {
  size_t nl = strlen(name);
  for (const char *l = st; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (!strncmp(l, name, nl) && l[nl] == ':') {
      l += nl + 1;
      while (*l == ' ' || *l == '\t')
        l++;
      return l;
    }
  return NULL;
}

/* A signal mask field ("SigCgt:", hex) of a status text; 0 when absent. */
static uint64_t status_mask(const char *st, const char *name) {
  const char *v = status_field(st, name);
  return v ? strtoull(v, NULL, 16) : 0;
}

static bool mask_has(uint64_t mask, int sig) {
  return sig > 0 && sig <= 64 && (mask >> (sig - 1)) & 1;
}

/* Blocked in every thread of pid (then a process-directed signal only
 * waits): true only when every thread's SigBlk has sig. */
static bool blocked_everywhere_now(long pid, int sig);

/* blocked_everywhere_now, and still so 10 times over 200 ms: memledger's
 * own handler blocks every signal while it forks a snapshot (with
 * MEMLEDGER_INTERVAL, several times a second). */
static bool blocked_everywhere(long pid, int sig) {
  for (int i = 0; i < 10; i++) {
    if (!blocked_everywhere_now(pid, sig)) return false;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return true;
}

static bool blocked_everywhere_now(long pid, int sig) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/task", pid);
  DIR *dp = opendir(path);
  if (!dp) return false;
  bool all = true, any = false;
  struct dirent *de;
  while (all && (de = readdir(dp))) {
    if (!isdigit((unsigned char)de->d_name[0])) continue;
    char name[300];
    snprintf(name, sizeof name, "task/%s/status", de->d_name);
    char *st = proc_read(pid, name, NULL);
    if (!st) continue; /* the thread ended */
    any = true;
    if (!mask_has(status_mask(st, "SigBlk"), sig)) all = false;
    free(st);
  }
  closedir(dp);
  return any && all;
}

/* What of memledger pid maps or contains: "libmemledger.so",
 * "libmemledger-wrap.so", "static" (the library's own text found in its
 * executable: the static link-time flavour), or NULL. */
static const char *memledger_flavour(long pid) {
  char *maps = proc_read(pid, "maps", NULL);
  const char *what = NULL;
  if (maps) {
    if (strstr(maps, " /memfd:memledger:"))
      what = "beacon"; /* the library's (src/beacon.h), any flavour */
    else if (strstr(maps, "/libmemledger.so"))
      what = "libmemledger.so";
    else if (strstr(maps, "/libmemledger-wrap.so"))
      what = "libmemledger-wrap.so";
    free(maps);
  }
  if (what) return what;
  /* A message of the library's dump trigger (src/triggers.c): in its
   * .rodata, stripped or not; the command itself does not have it. */
  static const char mark[] = "dumps are still being written: a dump request";
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/exe", pid);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char buf[1 << 16];
  size_t keep = 0, n;
  while (!what && (n = fread(buf + keep, 1, sizeof buf - keep, f)) > 0) {
    n += keep;
    if (memmem(buf, n, mark, sizeof mark - 1)) what = "static";
    keep = sizeof mark - 1 < n ? sizeof mark - 1 : n;
    memmove(buf, buf + n - keep, keep);
  }
  fclose(f);
  return what;
}

/* Is pid a `memledger run` process (this command, running a program)? */
static bool is_memledger_run(long pid) {
  size_t n;
  char *cmd = proc_read(pid, "cmdline", &n);
  if (!cmd) return false;
  const char *a0 = cmd, *a1 = memchr(cmd, 0, n) ? cmd + strlen(cmd) + 1 : NULL;
  const char *base = strrchr(a0, '/') ? strrchr(a0, '/') + 1 : a0;
  bool run = a1 && a1 < cmd + n && !strcmp(a1, "run") &&
             (!strcmp(base, "memledger") || !strcmp(base, "lt-memledger"));
  free(cmd);
  return run;
}

/* The children of pid that are not zombies and carry memledger. */
static size_t children_with_memledger(long pid, long *out, size_t max) {
  DIR *dp = opendir("/proc");
  if (!dp) return 0;
  size_t n = 0;
  struct dirent *de;
  while (n < max && (de = readdir(dp))) {
    if (!isdigit((unsigned char)de->d_name[0])) continue;
    long c = atol(de->d_name);
    char *st = proc_read(c, "status", NULL);
    if (!st) continue;
    const char *pp = status_field(st, "PPid"), *state = status_field(st, "State");
    bool mine = pp && atol(pp) == pid && state && *state != 'Z';
    free(st);
    if (mine && memledger_flavour(c)) out[n++] = c;
  }
  closedir(dp);
  return n;
}

/* The NUL-separated environment text as a NULL-terminated vector into it. */
static char **env_vector(char *text, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (text[i] == 0) n++;
  char **v = mlr_xcalloc(n + 2, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < len; i += strlen(text + i) + 1)
    v[k++] = text + i;
  v[k] = NULL;
  return v;
}

/* AT_SECURE of pid's auxiliary vector (secure-execution mode). */
static bool proc_secure(long pid) {
  size_t len;
  unsigned long *aux = (unsigned long *)proc_read(pid, "auxv", &len);
  bool secure = false;
  if (!aux) return false;
  for (size_t i = 0; i + 1 < len / sizeof *aux; i += 2)
    if (aux[i] == 23 /* AT_SECURE */) secure = aux[i + 1] != 0;
  free(aux);
  return secure;
}

static const char *sig_name(int sig, char *buf, size_t size) {
  if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, size, "SIGRTMIN+%d (signal %d)", sig - SIGRTMIN, sig);
  else
    snprintf(buf, size, "SIG%s", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
  return buf;
}

/* ---- the library's beacon (src/beacon.h)
 * ------------------------------------------------------------- */

/* What the beacon of a process says. */
typedef struct beacon_s {
  int version;        // 0: no beacon (a library before it, or none could be made)
  bool track;         // tracking on
  char off[32];       // why not
  int sig, want;      // the signal handled (0 none); the configured one, if other
  bool have_dir;      // dir given (absolute, as the process sees it)
  char dir[PATH_MAX];
} beacon_t;

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0'
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
         : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The "/memfd:memledger:..." line of /proc/PID/maps, parsed into *b.
 * false when there is none (b->version 0). */
static bool beacon_read(long pid, beacon_t *b) {
  memset(b, 0, sizeof *b);
  char *maps = proc_read(pid, "maps", NULL), *l = maps;
  static const char mark[] = "/memfd:memledger:";
  while (l && (l = strstr(l, mark)) && l != maps && l[-1] != ' ')
    l += sizeof mark - 1; /* only at the start of a path field */
  if (!l) {
    free(maps);
    return false;
  }
  char *end = strchr(l, '\n');
  if (end) *end = 0;
  size_t n = strlen(l);
  static const char del[] = " (deleted)";
  if (n >= sizeof del - 1 && !strcmp(l + n - (sizeof del - 1), del)) l[n - (sizeof del - 1)] = 0;
  char *save = NULL, *f = strtok_r(l + sizeof mark - 1, ":", &save);
  b->version = f ? atoi(f) : 0;
  if (b->version < 1) b->version = 1;
  while ((f = strtok_r(NULL, ":", &save))) {
    char *v = strchr(f, '=');
    if (!v) continue;
    *v++ = 0;
    if (!strcmp(f, "track")) b->track = atoi(v) != 0;
    else if (!strcmp(f, "off")) snprintf(b->off, sizeof b->off, "%s", v);
    else if (!strcmp(f, "sig")) b->sig = atoi(v);
    else if (!strcmp(f, "want")) b->want = atoi(v);
    else if (!strcmp(f, "dir")) {
      size_t k = 0;
      for (const char *p = v; *p && k + 1 < sizeof b->dir; p++)
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
          b->dir[k++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
          p += 2;
        } else {
          b->dir[k++] = *p;
        }
      b->dir[k] = 0;
      b->have_dir = b->dir[0] == '/';
    }
  }
  free(maps);
  return true;
}

/* "/proc/PID/root" when pid sees another file system tree than this
 * command (another mount namespace, or a chroot), else "": the prefix that
 * makes its paths ours.  Reading it needs the permission that reading its
 * maps needs. */
static void root_prefix(long pid, char *buf, size_t size) {
  char a[64], b[64], path[64];
  struct stat s1, s2;
  buf[0] = 0;
  snprintf(path, sizeof path, "/proc/%ld/ns/mnt", pid);
  ssize_t na = readlink("/proc/self/ns/mnt", a, sizeof a - 1),
          nb = readlink(path, b, sizeof b - 1);
  bool other = na > 0 && nb > 0 && (na != nb || memcmp(a, b, (size_t)na));
  snprintf(path, sizeof path, "/proc/%ld/root/", pid);
  if (!other && stat("/", &s1) == 0 && stat(path, &s2) == 0)
    other = s1.st_dev != s2.st_dev || s1.st_ino != s2.st_ino;
  if (other) snprintf(buf, size, "/proc/%ld/root", pid);
}

/* The pid as the process itself sees it (the innermost of NSpid: its dump
 * files are named with it), else pid. */
static long own_pid(const char *st, long pid) {
  const char *v = status_field(st, "NSpid");
  long last = pid;
  while (v && *v && *v != '\n') {
    char *e;
    long x = strtol(v, &e, 10);
    if (e == v) break;
    last = x;
    for (v = e; *v == ' ' || *v == '\t'; v++) {}
  }
  return last > 0 ? last : pid;
}

/* ---- dump
 * -------------------------------------------------------------------------------- */

int mlc_cmd_dump(int argc, char **argv) {
  static const struct option lo[] = {{"timeout", required_argument, NULL, 't'},
                                     {"help", no_argument, NULL, 'h'},
                                     {0, 0, 0, 0}};
  double timeout = 10;
  int c;
  while ((c = getopt_long(argc, argv, "t:h", lo, NULL)) != -1) {
    if (c == 'h') {
      fputs(usage_dump, stdout);
      return 0;
    }
    if (c == 't') {
      char *e;
      timeout = strtod(optarg, &e);
      if (*e || e == optarg || !(timeout > 0) || timeout > 1e6)
        mlc_die_usage("dump ",
                      "--timeout: expected a positive number of seconds, not '%s'",
                      optarg);
      continue;
    }
    mlc_die_usage("dump ", "bad option");
  }
  if (argc - optind != 1) mlc_die_usage("dump ", "expected one PID");
  uint64_t v;
  if (!mlc_parse_u64(argv[optind], &v) || v == 0 || v > INT_MAX)
    mlc_die_usage("dump ", "'%s' is not a process id", argv[optind]);
  long pid = (long)v;
  if (kill((pid_t)pid, 0) != 0) {
    if (errno == ESRCH)
      mlc_msg("process %ld: no such process", pid);
    else if (errno == EPERM)
      mlc_msg("process %ld: not permitted to signal it (EPERM: another user's process)",
              pid);
    else
      mlc_msg("process %ld: %s", pid, strerror(errno));
    return 1;
  }
  char *st = proc_read(pid, "status", NULL);
  if (!st) {
    mlc_msg("process %ld: cannot read /proc/%ld/status: %s", pid, pid, strerror(errno));
    return 1;
  }
  const char *state = status_field(st, "State");
  if (state && (*state == 'Z' || *state == 'X')) {
    mlc_msg("process %ld is a zombie (exited): nothing sent", pid);
    free(st);
    return 1;
  }
  /* First: this command's executable holds the text memledger_flavour
   * looks for in static programs. */
  const char *flavour = NULL;
  if (is_memledger_run(pid)) {
    long kids[8];
    size_t nk = children_with_memledger(pid, kids, 8);
    if (nk != 1) {
      mlc_msg("process %ld is 'memledger run' and has %s: nothing sent", pid,
              nk ? "several programs with memledger (dump one of them)"
                 : "no running program with memledger");
      free(st);
      return 1;
    }
    mlc_msg("process %ld is 'memledger run': dumping its program, process %ld", pid,
            kids[0]);
    pid = kids[0];
    free(st);
    if (!(st = proc_read(pid, "status", NULL))) {
      mlc_msg("process %ld: cannot read /proc/%ld/status: %s", pid, pid, strerror(errno));
      return 1;
    }
  }
  flavour = memledger_flavour(pid);
  if (!flavour) {
    mlc_msg(
        "process %ld does not run memledger (no libmemledger.so or libmemledger-wrap.so "
        "in /proc/%ld/maps, nor the library in its executable)",
        pid, pid);
    free(st);
    return 1;
  }

  /* What the library published (its beacon), else the options exactly as
   * the library read them: its own loader over the process's environment
   * (as it was at exec; setenv later is not seen; redis-server and others
   * rewrite it).  The environment serves libraries older than the beacon,
   * and a dump directory too long for the beacon's name. */
  beacon_t *bc = mlr_xcalloc(1, sizeof *bc);
  bool have_beacon = beacon_read(pid, bc);
  long fpid = own_pid(st, pid);
  char root[64];
  root_prefix(pid, root, sizeof root);
  size_t elen;
  char *etext = NULL;
  char **env = NULL;
  mlt_libopts_t *o = mlr_xcalloc(1, sizeof *o);
  int rc = 1;
  char sn[64];
  if (!have_beacon || (bc->track && !bc->have_dir)) {
    etext = proc_read(pid, "environ", &elen);
    if (!etext) {
      mlc_msg("process %ld: cannot read its environment: %s", pid, strerror(errno));
      goto out;
    }
    env = env_vector(etext, elen);
    mlt_libopts_load(env, proc_secure(pid), o);
  }
  for (char *w = o->warnings, *nl; !have_beacon && *w; w = nl + 1) {
    nl = strchr(w, '\n');
    *nl = 0;
    /* MEMLEDGER_SIGNAL=..., "MEMLEDGER_OPTIONS: signal=..." and the same
     * in the configuration file; the secure-execution note */
    if (strstr(w, "MEMLEDGER_SIGNAL") || strstr(w, "MEMLEDGER_ENABLED") ||
        strstr(w, ": signal=") || strstr(w, ": enabled=") ||
        strstr(w, "secure-execution"))
      mlc_msg("note: process %ld: its library warned: %s", pid, w);
  }
  bool enabled = have_beacon ? bc->track : o->enabled;
  int sig = have_beacon ? bc->sig : o->signal;
  if (!enabled) {
    const char *why = "enabled=0";
    if (have_beacon ? !strcmp(bc->off, "secure") : o->secure_off)
      why = "secure-execution mode and no dir in the configuration file";
    else if (have_beacon && !strcmp(bc->off, "trace_pid"))
      why = "a program that another process than memledger run's program exec'd";
    else if (have_beacon && !strcmp(bc->off, "fork"))
      why = "a forked child with follow_fork=0";
    else if (have_beacon && !strcmp(bc->off, "init"))
      why = "its initialisation failed";
    mlc_msg("process %ld has tracking off (%s): it writes no dumps; nothing sent", pid, why);
    goto out;
  }
  if (sig == 0 && have_beacon && bc->want > 0) {
    mlc_msg("process %ld: its dump signal %s had the program's own handler when "
            "memledger started: dumps on it are off; nothing sent",
            pid, sig_name(bc->want, sn, sizeof sn));
    goto out;
  }
  if (sig == 0) {
    mlc_msg("process %ld has its dump signal off (MEMLEDGER_SIGNAL=0/off/none): nothing "
            "sent",
            pid);
    goto out;
  }
  uint64_t cgt = status_mask(st, "SigCgt"), ign = status_mask(st, "SigIgn");
  sig_name(sig, sn, sizeof sn);
  if (!mask_has(cgt, sig)) {
    mlc_msg(
        "process %ld has no handler for %s, its dump signal (%s; the library installs "
        "none when tracking is off in that process, e.g. a program exec'd under "
        "memledger run, or before its initialisation): nothing sent, the signal would "
        "%s it",
        pid, sn, mask_has(ign, sig) ? "it ignores the signal" : "not caught",
        mask_has(ign, sig) ? "not reach" : "kill");
    goto out;
  }
  if (blocked_everywhere(pid, sig)) {
    mlc_msg("process %ld blocks %s, its dump signal, in every thread: nothing sent", pid,
            sn);
    goto out;
  }
  /* The directory as the process sees it, under /proc/PID/root when its
   * file system tree is not ours (a container, a chroot). */
  char dir[2 * PATH_MAX + 64];
  if (have_beacon && bc->have_dir) {
    snprintf(dir, sizeof dir, "%s%s", root, bc->dir);
  } else if (o->dir[0] == '/') {
    snprintf(dir, sizeof dir, "%s%s", root, o->dir);
  } else {
    /* Relative: against its working directory now (a library before the
     * beacon resolves it at each dump; a newer one did at start, which
     * the beacon would have said unless the result was too long). */
    char cwdlink[64], cwd[PATH_MAX];
    snprintf(cwdlink, sizeof cwdlink, "/proc/%ld/cwd", pid);
    ssize_t n = root[0] ? (ssize_t)strlen(strcpy(cwd, cwdlink))
                        : readlink(cwdlink, cwd, sizeof cwd - 1);
    if (n < 0) {
      mlc_msg("process %ld: cannot read its working directory: %s", pid, strerror(errno));
      goto out;
    }
    cwd[n] = 0;
    if (*o->dir && strcmp(o->dir, "."))
      snprintf(dir, sizeof dir, "%s/%s", cwd, o->dir);
    else
      snprintf(dir, sizeof dir, "%s", cwd);
  }
  mlc_dumpname_t *before;
  size_t nbefore = mlc_list_dumps(dir, fpid, &before);
  unsigned long maxseq = 0;
  for (size_t i = 0; i < nbefore; i++)
    if (before[i].seq > maxseq) maxseq = before[i].seq;
  mlc_free_dumps(before, nbefore);
  if (kill((pid_t)pid, sig) != 0) {
    mlc_msg("process %ld: cannot send %s: %s", pid, sn, strerror(errno));
    goto out;
  }
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    mlc_dumpname_t *after;
    size_t nafter = mlc_list_dumps(dir, fpid, &after);
    unsigned long best = 0;
    for (size_t i = 0; i < nafter; i++)
      if (after[i].seq > maxseq && (!best || after[i].seq < best) &&
          is_signal_dump(dir, after[i].name))
        best = after[i].seq;
    mlc_free_dumps(after, nafter);
    if (best) {
      printf("%s/memledger.%ld.%lu.dump\n", dir, fpid, best);
      rc = fflush(stdout) == 0 ? 0 : 1;
      goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt =
        (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
    if (dt > timeout) break;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  mlc_msg(
      "process %ld wrote no dump in %s within %g s after %s (is the signal handled by "
      "the program itself?)",
      pid, dir, timeout, sn);
out:
  free(bc);
  free(o);
  free(env);
  free(etext);
  free(st);
  return rc;
}

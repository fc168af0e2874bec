/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - `memledger run [OPTIONS] PROGRAM [ARGS]`: run a program with
 * libmemledger.so preloaded (MEMLEDGER_* settings from the options), wait
 * for it, and report its exit dump (and with --children the last dump of
 * each process of its tree); --fail-on-leak turns remaining leaks into
 * exit status 99.
 * Runs outside the target process.  Passes the program's status through
 * (128+signal when it was killed, 126/127 when it could not be started).
 */
#include "cmd_common.h"
#include "libopts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char usage_run[] =
    "Usage: memledger run [OPTIONS] [--] PROG [ARGS]\n"
    "Run PROG with libmemledger.so preloaded; when it exits, report its exit dump\n"
    "(on stderr unless -o).  The exit status is PROG's (128+N when killed by\n"
    "signal N; 127 when PROG is not found, 126 when it cannot be executed).\n"
    "\n"
    "Run options (each sets a MEMLEDGER_* variable of the library):\n"
    "      --min-size SIZE     track blocks of at least SIZE bytes (K/M/G; default "
    "1024)\n"
    "      --unwind METHOD     auto, libunwind, fp or none\n"
    "      --max-frames N      deepest stack kept (1..128, default 32)\n"
    "  -d, --dir DIR           directory for dumps (default: the library's dir option:\n"
    "                          $MEMLEDGER_DIR, dir= in $MEMLEDGER_OPTIONS or the\n"
    "                          configuration file, else the current directory;\n"
    "                          created when missing)\n"
    "      --signal SIG        dump signal (name or number; 0 = off; default USR2)\n"
    "      --no-follow-fork    forked children do not track\n"
    "      --trace-children=yes|no  also track the programs that PROG's processes\n"
    "                          exec (default no: only PROG's process and its forks\n"
    "                          track, through MEMLEDGER_TRACE_PID)\n"
    "      --children          also report the newest dump of every other process of\n"
    "                          PROG's tree (not those of other processes that write\n"
    "                          into the same --dir)\n"
    "      --set NAME=VALUE    any other option: MEMLEDGER_NAME=VALUE\n"
    "      --fail-on-leak[=N]  exit 99 when more than N blocks (default 0) remain\n"
    "                          after suppressions and PROG itself exited 0 (with\n"
    "                          leak kinds: definitely and indirectly lost only);\n"
    "                          tracks every block unless --min-size is given\n"
    "      --lib PATH          the library to preload (default: $MEMLEDGER_LIB, the\n"
    "                          build tree, then " MLR_LIBDIR "/libmemledger.so)\n"
    "  -q, --quiet             no report, only the exit status (and --fail-on-leak)\n"
    "  -v, --verbose           say which library and dump are used; keep the\n"
    "                          library's own summary line\n"
    "\n" REPORT_OPTS_HELP "  -h, --help              this help\n";

static bool in_list(const mlc_dumpname_t *v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i].name, name)) return true;
  return false;
}

/* ---- the program's process tree
 * ---------------------------------------------------------- */

/* pid, ppid and trace_pid (its "options:" line) of a dump's [header]. */
static bool dump_ids(const char *path, long *pid, long *ppid, long *trace_pid) {
  FILE *f = fopen(path, "r");
  if (!f) return false;
  char *line = NULL;
  size_t cap = 0;
  bool in_header = false, got = false;
  *pid = *ppid = *trace_pid = 0;
  while (getline(&line, &cap, f) > 0) {
    if (line[0] == '[') {
      if (in_header) break;
      in_header = !strncmp(line, "[header]", 8);
      continue;
    }
    if (!in_header) continue;
    if (!strncmp(line, "pid: ", 5)) {
      *pid = atol(line + 5);
      got = true;
    } else if (!strncmp(line, "ppid: ", 6)) {
      *ppid = atol(line + 6);
    } else if (!strncmp(line, "options: ", 9)) {
      const char *t = strstr(line, " trace_pid=");
      if (t) *trace_pid = atol(t + 11);
    }
  }
  free(line);
  fclose(f);
  return got;
}

/* Mark the dumps of after[] (new since before[]) that come from the
 * program pid's process tree.  Without exec tracing every tracked process
 * of the tree carries the program's pid in MEMLEDGER_TRACE_PID, recorded in
 * its dumps' options: exact.  With it, the pid/ppid chain of the dumps from
 * the program (or from us, the subreaper of orphaned descendants). */
static void tree_filter(const char *dir, mlc_dumpname_t *after, size_t nafter,
                        const mlc_dumpname_t *before, size_t nbefore, long prog,
                        bool trace_exec) {
  long *pids = mlr_xcalloc(nafter + 1, sizeof *pids),
       *ppids = mlr_xcalloc(nafter + 1, sizeof *ppids);
  char path[PATH_MAX + 300];
  for (size_t i = 0; i < nafter; i++) {
    long tp = 0;
    pids[i] = -1;
    if (in_list(before, nbefore, after[i].name)) continue;
    snprintf(path, sizeof path, "%s/%s", dir, after[i].name);
    if (!dump_ids(path, &pids[i], &ppids[i], &tp)) {
      pids[i] = -1;
      continue;
    }
    if (!trace_exec) after[i].ours = tp == prog;
  }
  if (trace_exec) {
    long self = (long)getpid();
    for (bool more = true; more;) {
      more = false;
      for (size_t i = 0; i < nafter; i++) {
        if (after[i].ours || pids[i] < 0) continue;
        bool in = pids[i] == prog || ppids[i] == prog || ppids[i] == self;
        for (size_t k = 0; !in && k < nafter; k++)
          in = after[k].ours && pids[k] == ppids[i];
        if (in) after[i].ours = more = true;
      }
    }
  }
  free(pids);
  free(ppids);
}

/* ---- run
 * --------------------------------------------------------------------------------- */

static bool file_ok(const char *p) { return access(p, R_OK) == 0; }

/* The library to preload: $MEMLEDGER_LIB, the build tree around our own
 * executable (<builddir>/memledger, <builddir>/tools/memledger, or libtool's
 * <builddir>/.libs/[lt-]memledger), then the installed one. */
static char *find_lib(void) {
  const char *env = getenv("MEMLEDGER_LIB");
  if (env && *env) return mlr_xstrdup(env);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0;
    static const char *const rel[] = {"/.libs/libmemledger.so",
                                      "/../.libs/libmemledger.so", "/libmemledger.so"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
      char cand[PATH_MAX + 64];
      snprintf(cand, sizeof cand, "%s%s", self, rel[i]);
      /* "/libmemledger.so" next to us only inside a libtool .libs dir */
      if (i == 2 && (strlen(self) < 6 || strcmp(self + strlen(self) - 6, "/.libs")))
        continue;
      char *real = realpath(cand, NULL);
      if (real && file_ok(real)) return real;
      free(real);
    }
  }
  return mlr_xstrdup(MLR_LIBDIR "/libmemledger.so");
}

static volatile sig_atomic_t child_pid;
static void forward_signal(int sig) {
  if (child_pid > 0) kill((pid_t)child_pid, sig);
}

static void env_set(char ***envp, size_t *n, const char *name, const char *value) {
  size_t nl = strlen(name);
  char *kv;
  if (asprintf(&kv, "%s=%s", name, value) < 0) mlr_oom();
  for (size_t i = 0; i < *n; i++) {
    if (!strncmp((*envp)[i], name, nl) && (*envp)[i][nl] == '=') {
      (*envp)[i] = kv;
      return;
    }
  }
  *envp = mlr_xrealloc(*envp, (*n + 2) * sizeof **envp);
  (*envp)[(*n)++] = kv;
  (*envp)[*n] = NULL;
}

int mlc_cmd_run(int argc, char **argv) {
  static const struct option lo[] = {
      REPORT_LONGOPTS,
      {"min-size", required_argument, NULL, OPT_MIN_SIZE},
      {"unwind", required_argument, NULL, OPT_UNWIND},
      {"max-frames", required_argument, NULL, OPT_MAX_FRAMES},
      {"dir", required_argument, NULL, 'd'},
      {"signal", required_argument, NULL, OPT_SIGNAL},
      {"no-follow-fork", no_argument, NULL, OPT_NO_FOLLOW},
      {"children", no_argument, NULL, OPT_CHILDREN},
      {"set", required_argument, NULL, OPT_SET},
      {"fail-on-leak", optional_argument, NULL, OPT_FAIL},
      {"lib", required_argument, NULL, OPT_LIB},
      {"trace-children", required_argument, NULL, OPT_TRACE_CHILDREN},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {0, 0, 0, 0}};
  mlc_ropts_t r = {.color = -1};
  size_t nenv = 0;
  char **envp = NULL;
  for (char **e = environ; *e; e++)
    nenv++;
  envp = mlr_xcalloc(nenv + 1, sizeof *envp);
  memcpy(envp, environ, nenv * sizeof *envp);
  const char *dir = NULL, *lib_opt = NULL;
  bool children = false, quiet = false, verbose = false, fail = false, trace_exec = false;
  uint64_t fail_max = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+" REPORT_SHORTOPTS "d:qv", lo, NULL)) != -1) {
    switch (c) {
    case 'h': fputs(usage_run, stdout); return 0;
    case OPT_MIN_SIZE: env_set(&envp, &nenv, "MEMLEDGER_MIN_SIZE", optarg); break;
    case OPT_UNWIND: env_set(&envp, &nenv, "MEMLEDGER_UNWIND", optarg); break;
    case OPT_MAX_FRAMES: env_set(&envp, &nenv, "MEMLEDGER_MAX_FRAMES", optarg); break;
    case OPT_SIGNAL: env_set(&envp, &nenv, "MEMLEDGER_SIGNAL", optarg); break;
    case OPT_NO_FOLLOW: env_set(&envp, &nenv, "MEMLEDGER_FOLLOW_FORK", "0"); break;
    case 'd': dir = optarg; break;
    case OPT_CHILDREN: children = true; break;
    case OPT_LIB: lib_opt = optarg; break;
    case OPT_TRACE_CHILDREN:
      if (!strcmp(optarg, "yes"))
        trace_exec = true;
      else if (!strcmp(optarg, "no"))
        trace_exec = false;
      else
        mlc_die_usage("run ", "--trace-children: expected yes or no, not '%s'", optarg);
      break;
    case 'q': quiet = true; break;
    case 'v': verbose = true; break;
    case OPT_FAIL:
      fail = true;
      if (optarg && !mlc_parse_u64(optarg, &fail_max))
        mlc_die_usage("run ", "--fail-on-leak: expected a number of blocks, not '%s'",
                      optarg);
      break;
    case OPT_SET: {
      const char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg)
        mlc_die_usage("run ", "--set: expected NAME=VALUE, not '%s'", optarg);
      char name[128] = "MEMLEDGER_";
      size_t nl = (size_t)(eq - optarg);
      if (!strncasecmp(optarg, "MEMLEDGER_", 10)) {
        optarg += 10;
        nl -= 10;
      }
      if (nl == 0 || nl > 100) mlc_die_usage("run ", "--set: bad name in '%s'", optarg);
      for (size_t i = 0; i < nl; i++)
        name[10 + i] = optarg[i] == '-' ? '_' : (char)toupper((unsigned char)optarg[i]);
      name[10 + nl] = 0;
      env_set(&envp, &nenv, name, eq + 1);
      break;
    }
    default:
      if (c == '?' || !mlc_report_opt("run ", &r, c, optarg))
        mlc_die_usage("run ", "bad option");
    }
  }
  if (optind >= argc) mlc_die_usage("run ", "missing the program to run");
  mlc_find_format("run ", r.format ? r.format : "text", false);
  mlr_supp_t *supp = quiet && !fail ? NULL : mlc_load_supp(&r);

  /* The dump directory: made absolute, created when missing.  Without
   * --dir, the library's own choice (MEMLEDGER_DIR, MEMLEDGER_OPTIONS, the
   * configuration file). */
  mlt_libopts_t *libo = mlr_xcalloc(1, sizeof *libo);
  if (!dir) {
    mlt_libopts_load(environ, false, libo);
    dir = libo->dir;
  }
  if (r.ro.addresses) env_set(&envp, &nenv, "MEMLEDGER_ADDRESSES", "1"); /* --addresses */
  /* A CI gate tracks every block, as LeakSanitizer does, unless a threshold
   * was asked for (--min-size, --set MIN_SIZE=, MEMLEDGER_MIN_SIZE,
   * MEMLEDGER_OPTIONS or the configuration file). */
  if (fail) {
    mlt_libopts_t *child = mlr_xcalloc(1, sizeof *child);
    mlt_libopts_load(envp, false, child);
    if (!child->min_size_set) env_set(&envp, &nenv, "MEMLEDGER_MIN_SIZE", "0");
    free(child);
  }
  if (!*dir) dir = ".";
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    mlc_msg("--dir %s: %s", dir, strerror(errno));
    return 1;
  }
  char *adir = realpath(dir, NULL);
  struct stat st;
  if (!adir || stat(adir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    mlc_msg("--dir %s: %s", dir, adir ? "not a directory" : strerror(errno));
    return 1;
  }
  env_set(&envp, &nenv, "MEMLEDGER_DIR", adir);
  if (!verbose) env_set(&envp, &nenv, "MEMLEDGER_QUIET", "1");

  char *lib = lib_opt ? mlr_xstrdup(lib_opt) : find_lib();
  if (!file_ok(lib)) {
    mlc_msg("cannot find the library: %s: %s (set MEMLEDGER_LIB or --lib)", lib,
            strerror(errno));
    return 1;
  }
  if (lib[0] != '/') {
    char *real = realpath(lib, NULL);
    if (real) {
      free(lib);
      lib = real;
    }
  }
  const char *pre = getenv("LD_PRELOAD");
  char *ldp;
  if (asprintf(&ldp, "%s%s%s", lib, pre && *pre ? ":" : "", pre && *pre ? pre : "") < 0)
    mlr_oom();
  env_set(&envp, &nenv, "LD_PRELOAD", ldp);
  if (verbose) mlc_msg("preloading %s; dumps go to %s", lib, adir);

  mlc_dumpname_t *before;
  size_t nbefore = mlc_list_dumps(adir, 0, &before);

  int errpipe[2], gopipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0 || pipe2(gopipe, O_CLOEXEC) != 0) {
    mlc_msg("pipe: %s", strerror(errno));
    return 1;
  }
  /* Orphaned descendants come to us, not to init: their dumps' ppid is
   * then ours, which keeps them in the program's tree (--children). */
  if (children) (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    mlc_msg("fork: %s", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    close(errpipe[0]);
    close(gopipe[1]);
    char go;
    while (read(gopipe[0], &go, 1) < 0 && errno == EINTR) {
    }
    /* Only this process (and its forks) tracks: what it runs through
     * fork and exec passes through (the library compares its own pid). */
    if (!trace_exec) {
      char self[24];
      snprintf(self, sizeof self, "%ld", (long)getpid());
      env_set(&envp, &nenv, "MEMLEDGER_TRACE_PID", self);
    }
    environ = envp;
    execvp(argv[optind], argv + optind);
    int e = errno;
    (void)!write(errpipe[1], &e, sizeof e);
    _exit(127);
  }
  child_pid = pid;
  close(errpipe[1]);
  close(gopipe[0]);
  /* The terminal's ^C and ^\ go to the program; we report after it ends.
   * TERM and HUP sent to us are passed on. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  struct sigaction sa = {.sa_handler = forward_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  /* Dumps of this pid from an earlier process with the same pid stay out. */
  mlc_dumpname_t *stale;
  size_t nstale = mlc_list_dumps(adir, pid, &stale);
  (void)!write(gopipe[1], "g", 1);
  close(gopipe[1]);
  int exec_err = 0;
  ssize_t got;
  while ((got = read(errpipe[0], &exec_err, sizeof exec_err)) < 0 && errno == EINTR) {
  }
  close(errpipe[0]);
  int status;
  for (;;) { /* the program; orphans that came to us are reaped on the way */
    pid_t w = waitpid(children ? -1 : pid, &status, 0);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) {
      mlc_msg("waitpid: %s", strerror(errno));
      return 1;
    }
  }
  child_pid = 0;
  if (got == (ssize_t)sizeof exec_err) {
    if (exec_err == ENOENT)
      mlc_msg("%s: command not found", argv[optind]);
    else
      mlc_msg("%s: %s", argv[optind], strerror(exec_err));
    return exec_err == ENOENT ? 127 : 126;
  }
  int rc;
  if (WIFEXITED(status)) {
    rc = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    rc = 128 + WTERMSIG(status);
    mlc_msg("%s was killed by SIG%s", argv[optind],
            sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
  } else {
    rc = 1;
  }

  /* The exit dump: the newest of this pid (the exit dump comes last). */
  mlc_dumpname_t *after;
  size_t nafter = mlc_list_dumps(adir, 0, &after);
  const mlc_dumpname_t *mine = NULL;
  for (size_t i = 0; i < nafter; i++)
    if (after[i].pid == pid && !in_list(stale, nstale, after[i].name) &&
        (!mine || after[i].seq > mine->seq))
      mine = &after[i];
  uint64_t remaining = 0, total_remaining = 0;
  int report_rc = 0;
  FILE *out = NULL;
  if (!mine) {
    mlc_msg("no dump from process %ld in %s (%s)", (long)pid, adir,
            WIFSIGNALED(status)
                ? "killed before its exit dump"
                : "exited without the exit dump: _exit, exec of a set-uid program, "
                  "or MEMLEDGER_DUMP_AT_EXIT=0");
    if (fail && rc == 0) rc = 1;
  } else {
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", adir, mine->name);
    if (verbose) mlc_msg("exit dump: %s", path);
    out = quiet ? fopen("/dev/null", "w") : mlc_open_out(&r, stderr);
    if (!out) out = stderr;
    report_rc = mlc_report_one(path, &r, supp, out, &remaining);
    total_remaining += remaining;
    if (children) {
      tree_filter(adir, after, nafter, before, nbefore, pid, trace_exec);
      for (size_t i = 0; i < nafter; i++) {
        if (after[i].pid == pid || !after[i].ours) continue;
        bool newest = true; /* the last dump of each child */
        for (size_t k = 0; k < nafter; k++)
          if (after[k].pid == after[i].pid && after[k].seq > after[i].seq) newest = false;
        if (!newest) continue;
        snprintf(path, sizeof path, "%s/%s", adir, after[i].name);
        fputc('\n', out);
        int crc = mlc_report_one(path, &r, supp, out, &remaining);
        if (crc && !report_rc) report_rc = crc;
        total_remaining += remaining;
      }
    }
    if (out && mlc_close_out(&r, out, report_rc == 0) && !report_rc) report_rc = 1;
  }
  if (report_rc && rc == 0) rc = report_rc;
  if (fail && rc == 0 && mine && total_remaining > fail_max) {
    mlc_msg("%llu %s (definitely or indirectly lost, or unclassified) remain after "
            "suppressions (--fail-on-leak=%llu): exit status %d",
            (unsigned long long)total_remaining,
            mlr_plural(total_remaining, "block", "blocks"), (unsigned long long)fail_max,
            EXIT_LEAK);
    rc = EXIT_LEAK;
  }
  mlc_free_dumps(before, nbefore);
  mlc_free_dumps(after, nafter);
  mlc_free_dumps(stale, nstale);
  mlr_supp_free(supp);
  mlc_ropts_free(&r);
  free(lib);
  free(ldp);
  free(adir);
  return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * memledger.c - the memledger command: run a program under libmemledger.so
 * and report its exit dump (run), ask a running process for a dump (dump),
 * report a dump (report), compare two dumps (diff), follow a series of
 * dumps (trend).  This file dispatches; each subcommand is in
 * tools/cmd_<name>.c, what they share in tools/cmd_common.c.  Documented in
 * tools/memledger.1 and doc/memledger-command.md.
 * Runs outside the target process: ordinary stdio and malloc.  Exit statuses:
 * 0 ok, 1 operational error, 2 usage error or bad dump file, 99 leaks with
 * --fail-on-leak; run passes the program's status through (128+signal when
 * it was killed, 126/127 when it could not be started).
 */
#include "cmd_common.h"

#include <string.h>

static const char usage_main[] =
    "Usage: memledger COMMAND [OPTIONS] [ARGS]\n"
    "Leak accounting with libmemledger.so: run a program under it, take dumps,\n"
    "and report or compare them.\n"
    "\n"
    "Commands:\n"
    "  run [OPTIONS] -- PROG [ARGS]   run PROG with the library preloaded, then\n"
    "                                 report its exit dump\n"
    "  dump [--timeout S] PID         make a running process write a dump; print its "
    "path\n"
    "  report [OPTIONS] FILE          report a dump: unfreed blocks by stack\n"
    "  diff [OPTIONS] OLD NEW         growth per stack between two dumps\n"
    "  trend [OPTIONS] DUMP|DIR...    steady growth per stack over a series of dumps\n"
    "\n"
    "  memledger COMMAND --help       options of a command\n"
    "  memledger --version            version\n"
    "\n"
    "Exit status: 0 ok; 1 error; 2 usage error or bad dump file; 99 leaks found\n"
    "with --fail-on-leak; run passes the program's own status through.\n"
    "See memledger(1).\n";

/* ---- main
 * ---------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_main, stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    if (argc > 2 && strcmp(cmd, "help") == 0) {
      char *sub[] = {argv[0], argv[2], "--help", NULL};
      return main(3, sub);
    }
    fputs(usage_main, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
    printf("memledger %s (dump format 1)\n", MLR_VERSION);
    return 0;
  }
  /* getopt_long sees "memledger-CMD OPTIONS...": its messages name the command. */
  optind = 1;
  if (!strcmp(cmd, "run")) return mlc_cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "dump")) return mlc_cmd_dump(argc - 1, argv + 1);
  if (!strcmp(cmd, "report")) return mlc_cmd_report(argc - 1, argv + 1);
  if (!strcmp(cmd, "diff")) return mlc_cmd_diff(argc - 1, argv + 1);
  if (!strcmp(cmd, "trend")) return mlc_cmd_trend(argc - 1, argv + 1);
  mlc_die_usage(NULL, "unknown command '%s' (run, dump, report, diff, trend)", cmd);
}

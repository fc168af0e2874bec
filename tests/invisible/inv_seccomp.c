/* SPDX-License-Identifier: MIT */
/*
 * inv_seccomp.c MODE - a sandboxed program: sets a fully buffered stdout
 * (a static buffer, so that stdio needs no fstat later), allocates 8
 * tracked 4 KiB blocks, installs a seccomp filter that allows only read,
 * write, exit, exit_group, brk, mmap, munmap, mremap, madvise,
 * rt_sigreturn, rt_sigprocmask and futex and kills the process for
 * anything else (MODE "prctl": prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER);
 * "seccomp": syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog), as
 * libseccomp does), then prints 5 lines, allocates 8 more blocks and
 * returns 0 (stdout is flushed by exit()).  Exit 77 when the kernel refuses
 * the filter.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static char obuf[8192];

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "prctl";
  setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
  static void *keep[16];
  for (int i = 0; i < 8; i++) memset(keep[i] = malloc(4096), i, 4096);
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
#if defined(__x86_64__)
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
#elif defined(__aarch64__)
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_AARCH64, 1, 0),
#else
#error "add this architecture's AUDIT_ARCH"
#endif
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    ALLOW(__NR_read), ALLOW(__NR_write), ALLOW(__NR_exit), ALLOW(__NR_exit_group),
#ifdef __NR_brk
    ALLOW(__NR_brk),
#endif
    ALLOW(__NR_mmap), ALLOW(__NR_munmap), ALLOW(__NR_mremap), ALLOW(__NR_madvise),
    ALLOW(__NR_rt_sigreturn), ALLOW(__NR_rt_sigprocmask), ALLOW(__NR_futex),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fprintf(stderr, "PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
    return 77;
  }
  int rc;
  if (strcmp(mode, "seccomp") == 0)
    rc = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
  else
    rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
  if (rc != 0) {
    fprintf(stderr, "seccomp filter refused: %s\n", strerror(errno));
    return 77;
  }
  for (int i = 0; i < 5; i++) printf("line %d of the sandboxed program\n", i + 1);
  for (int i = 8; i < 16; i++) memset(keep[i] = malloc(4096), i, 4096);
  for (int i = 0; i < 4; i++) free(keep[i]);
  return 0;
}

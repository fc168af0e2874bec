/* SPDX-License-Identifier: MIT */
/*
 * fuzz_read.c - libFuzzer target for the dump reader (report_read.c):
 * any input must give either a dump whose [unfreed] sums match its unfreed
 * line, or an error message "name:line: ..."; never a crash, hang or leak.
 * Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined), not by
 * make check.
 */
#include "report_priv.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlr_dump_t d;
  mlr_err_t err;
  err.msg[0] = 0;
  if (mlr_dump_parse("fuzz", (const char *)data, size, &d, &err) == 0) {
    uint64_t b = 0, y = 0;
    for (size_t i = 0; i < d.nstacks; i++) {
      b += d.stacks[i].blocks;
      y += d.stacks[i].bytes;
      for (size_t k = 0; k < d.stacks[i].nraw; k++)
        (void)d.stacks[i].raw[k];
    }
    if (b != d.unfreed_blocks || y != d.unfreed_bytes) abort();
    for (size_t i = 0; i < d.nmodules; i++)
      if (!d.modules[i].path || d.modules[i].lo > d.modules[i].hi) abort();
    (void)mlr_kv_get(d.header, d.nheader, "pid");
    mlr_dump_free(&d);
  } else if (strncmp(err.msg, "fuzz:", 5) != 0) {
    abort();
  }
  return 0;
}

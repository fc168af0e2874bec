/* SPDX-License-Identifier: MIT */
/*
 * res_thread.c - the program's threads with their creation stacks (res.h).
 * Not recorded yet: the visitor lists nothing.
 */
#include "res.h"

void ml_res_threads_visit(bool frozen, ml_res_emit_t emit, void *ctx) {
  (void)frozen;
  (void)emit;
  (void)ctx;
}

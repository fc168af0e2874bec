/* SPDX-License-Identifier: MIT */
/*
 * res_map.c - the program's anonymous mappings with their creation stacks (res.h).
 * Not recorded yet: the visitor lists nothing.
 */
#include "res.h"

void ml_res_maps_visit(bool frozen, ml_res_emit_t emit, void *ctx) {
  (void)frozen;
  (void)emit;
  (void)ctx;
}

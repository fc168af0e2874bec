/* SPDX-License-Identifier: MIT */
/*
 * core.c - the definitions of the core's shared state (core.h).  No code.
 */
#include "core.h"

ml_gate_t ml_gate; /* zero: everything reaches the recorder until init */
ML_TLS ml_tls_t ml_tls;
ml_core_t ml_core = {.limit_every = UINT64_MAX};

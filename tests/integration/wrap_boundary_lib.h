/* SPDX-License-Identifier: MIT */
/* wrap_boundary_lib.h - the wrapped library of wrap_boundary.sh. */
#ifndef WRAP_BOUNDARY_LIB_H
#define WRAP_BOUNDARY_LIB_H
#include <stddef.h>
void *wb_lib_alloc(size_t n);
void wb_lib_free(void *p);
void *wb_lib_realloc(void *p, size_t n);
void *wb_lib_leak(size_t n);
int wb_lib_churn(void);
void *wb_lib_realloc_null(void);
#endif

/* SPDX-License-Identifier: MIT */
/*
 * backend.h - jemalloc, linked in from Debian's libjemalloc_pic.a with its
 * public names renamed to ml_je_* at build time (src/jemalloc.syms), so the
 * fronts call its fast paths directly (no PLT, no dlsym) and a process that
 * preloads us has exactly one heap.  The C++ part of the archive
 * (jemalloc_cpp.o, which needs libstdc++) is left out.  Hidden declarations
 * make the calls direct.  These may take jemalloc's internal locks.
 */
#ifndef ML_BACKEND_H
#define ML_BACKEND_H

#include "internal.h"

#define ML_JE ML_HIDDEN
void *ml_je_malloc(size_t n) ML_JE;
void ml_je_free(void *p) ML_JE;
void *ml_je_calloc(size_t nmemb, size_t size) ML_JE;
void *ml_je_realloc(void *p, size_t n) ML_JE;
int ml_je_posix_memalign(void **out, size_t align, size_t n) ML_JE;
void *ml_je_aligned_alloc(size_t align, size_t n) ML_JE;
void *ml_je_memalign(size_t align, size_t n) ML_JE;
size_t ml_je_malloc_usable_size(void *p) ML_JE;
void *ml_je_mallocx(size_t n, int flags) ML_JE;
void *ml_je_rallocx(void *p, size_t n, int flags) ML_JE;
size_t ml_je_xallocx(void *p, size_t n, size_t extra, int flags) ML_JE;
size_t ml_je_sallocx(const void *p, int flags) ML_JE;
void ml_je_dallocx(void *p, int flags) ML_JE;
void ml_je_sdallocx(void *p, size_t n, int flags) ML_JE;
size_t ml_je_nallocx(size_t n, int flags) ML_JE;
int ml_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
                  size_t newlen) ML_JE;
int ml_je_mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp) ML_JE;
int ml_je_mallctlbymib(const size_t *mib, size_t miblen, void *oldp,
                       size_t *oldlenp, void *newp, size_t newlen) ML_JE;
void ml_je_malloc_stats_print(void (*write_cb)(void *, const char *),
                              void *opaque, const char *opts) ML_JE;

#endif /* ML_BACKEND_H */

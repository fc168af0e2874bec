/* SPDX-License-Identifier: MIT */
/*
 * fmt.h - string formatting that never allocates (layer: platform).
 *
 * A subset of vsnprintf plus the few string helpers the library needs, so that
 * nothing in src/ calls stdio.  Everything here is reentrant, lock-free and
 * async-signal-safe.
 */
#ifndef ML_FMT_H
#define ML_FMT_H

#include "internal.h"
#include <stdarg.h>

/* Format into buf (size bytes, always NUL-terminated when size > 0).
 * Supported conversions: %% %c %s %d %i %u %x %X %p, with the length
 * modifiers l, ll, z, j (and h/hh accepted), the flags '-' and '0', a field
 * width and a precision for %s (e.g. %.*s).  %p prints 0x followed by hex.
 * A NULL %s prints "(null)".  Unknown conversions are copied verbatim.
 * Returns the length the full output would have had (like snprintf). */
int ml_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) ML_HIDDEN;
int ml_snprintf(char *buf, size_t size, const char *fmt, ...) ML_HIDDEN
    __attribute__((format(printf, 3, 4)));

/* Copy src into dst of size bytes, always NUL-terminated; returns strlen(src). */
size_t ml_strlcpy(char *dst, const char *src, size_t size) ML_HIDDEN;

/* ASCII case-insensitive comparison; returns <0, 0, >0 like strcasecmp. */
int ml_strcasecmp(const char *a, const char *b) ML_HIDDEN;
int ml_strncasecmp(const char *a, const char *b, size_t n) ML_HIDDEN;

/* Unsigned integer to text in base 10 or 16 (lower case, no prefix), into buf
 * of size >= 21; returns the number of characters written (NUL-terminated). */
size_t ml_u64_to_dec(uint64_t v, char *buf) ML_HIDDEN;
size_t ml_u64_to_hex(uint64_t v, char *buf) ML_HIDDEN;

/* The symbolic name of an errno value ("ENOENT"), or "E?" when unknown. */
const char *ml_errno_name(int err) ML_HIDDEN;

#endif /* ML_FMT_H */

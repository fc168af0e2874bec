/* SPDX-License-Identifier: MIT */
/*
 * fmt.c - allocation-free formatting: the ml_vsnprintf subset documented in
 * fmt.h, integer-to-text helpers, ASCII string helpers and errno names
 * (layer: platform).
 *
 * Never allocates, never locks, keeps no state: reentrant and
 * async-signal-safe.  Invariant: ml_vsnprintf never writes past buf[size-1],
 * always NUL-terminates when size > 0, and returns the untruncated length.
 */
#include "fmt.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/types.h>

/* ---- output cursor ------------------------------------------------------- */

/* len counts every character produced; only the first size-1 are stored. */
typedef struct ml_out_s {
  char *buf;   // destination (may be NULL when size == 0)
  size_t size; // capacity including the NUL
  size_t len;  // characters produced so far (untruncated)
} ml_out_t;

static void ml_out_put(ml_out_t *o, char c) {
  if (o->len + 1 < o->size) o->buf[o->len] = c;
  o->len++;
}

static void ml_out_fill(ml_out_t *o, char c, size_t n) {
  while (n-- > 0) ml_out_put(o, c);
}

static void ml_out_mem(ml_out_t *o, const char *s, size_t n) {
  if (o->len + 1 < o->size) {
    size_t room = o->size - 1 - o->len;
    memcpy(o->buf + o->len, s, n < room ? n : room);
  }
  o->len += n;
}

/* Flags of one conversion specification. */
typedef struct ml_spec_s {
  bool left;    // '-': pad on the right
  bool zero;    // '0': pad numbers with zeros after the sign/prefix
  size_t width; // minimum field width
  int prec;     // precision, -1 when absent
} ml_spec_t;

/* Emit prefix (sign or "0x"), `zeros` leading zeros, then body, padded to
 * the field width. */
static void ml_out_field(ml_out_t *o, const ml_spec_t *sp, const char *prefix,
                         const char *body, size_t blen, size_t zeros) {
  size_t plen = strlen(prefix), total = plen + zeros + blen;
  size_t pad = sp->width > total ? sp->width - total : 0;

  if (!sp->left && !sp->zero) ml_out_fill(o, ' ', pad);
  ml_out_mem(o, prefix, plen);
  if (!sp->left && sp->zero) ml_out_fill(o, '0', pad);
  ml_out_fill(o, '0', zeros);
  ml_out_mem(o, body, blen);
  if (sp->left) ml_out_fill(o, ' ', pad);
}

/* ---- integers ------------------------------------------------------------ */

size_t ml_u64_to_dec(uint64_t v, char *buf) {
  char tmp[20];
  size_t n = 0, i;

  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
  return n;
}

size_t ml_u64_to_hex(uint64_t v, char *buf) {
  static const char ml_hex[] = "0123456789abcdef";
  char tmp[16];
  size_t n = 0, i;

  do {
    tmp[n++] = ml_hex[v & 0xf];
    v >>= 4;
  } while (v != 0);
  for (i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
  return n;
}

static void ml_out_int(ml_out_t *o, ml_spec_t *sp, uint64_t mag, bool neg,
                       char conv) {
  char digits[24];
  size_t n, zeros = 0;
  const char *prefix = neg ? "-" : "";

  if (conv == 'p') prefix = "0x";
  n = (conv == 'd' || conv == 'u') ? ml_u64_to_dec(mag, digits)
                                   : ml_u64_to_hex(mag, digits);
  if (conv == 'X')
    for (size_t i = 0; i < n; i++)
      if (digits[i] >= 'a') digits[i] = (char)(digits[i] - 'a' + 'A');
  if (sp->prec >= 0) { /* C: a precision disables '0'; "%.0d" of 0 is "" */
    sp->zero = false;
    if (sp->prec == 0 && mag == 0) n = 0;
    if ((size_t)sp->prec > n) zeros = (size_t)sp->prec - n;
  }
  ml_out_field(o, sp, prefix, digits, n, zeros);
}

/* ---- ml_vsnprintf -------------------------------------------------------- */

/* Length modifiers. */
enum {
  ML_LEN_INT, ML_LEN_HH, ML_LEN_H, ML_LEN_L, ML_LEN_LL, ML_LEN_Z, ML_LEN_J
};

static int64_t ml_arg_signed(va_list *ap, int len) {
  switch (len) {
  case ML_LEN_HH: return (signed char)va_arg(*ap, int);
  case ML_LEN_H: return (short)va_arg(*ap, int);
  case ML_LEN_L: return va_arg(*ap, long);
  case ML_LEN_LL: return va_arg(*ap, long long);
  case ML_LEN_Z: return va_arg(*ap, ssize_t);
  case ML_LEN_J: return va_arg(*ap, intmax_t);
  default: return va_arg(*ap, int);
  }
}

static uint64_t ml_arg_unsigned(va_list *ap, int len) {
  switch (len) {
  case ML_LEN_HH: return (unsigned char)va_arg(*ap, unsigned);
  case ML_LEN_H: return (unsigned short)va_arg(*ap, unsigned);
  case ML_LEN_L: return va_arg(*ap, unsigned long);
  case ML_LEN_LL: return va_arg(*ap, unsigned long long);
  case ML_LEN_Z: return va_arg(*ap, size_t);
  case ML_LEN_J: return va_arg(*ap, uintmax_t);
  default: return va_arg(*ap, unsigned);
  }
}

static size_t ml_parse_num(const char **p) {
  size_t v = 0;
  while (**p >= '0' && **p <= '9') v = v * 10 + (size_t)(*(*p)++ - '0');
  return v;
}

int ml_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in) {
  ml_out_t o = {buf, size, 0};
  va_list ap;

  va_copy(ap, ap_in); /* so that helpers can take &ap portably */
  while (*fmt != '\0') {
    const char *start = fmt;
    ml_spec_t sp = {false, false, 0, -1};
    int len = ML_LEN_INT;

    if (*fmt != '%') {
      const char *end = fmt;
      while (*end != '\0' && *end != '%') end++;
      ml_out_mem(&o, fmt, (size_t)(end - fmt));
      fmt = end;
      continue;
    }
    fmt++;
    for (;; fmt++) {
      if (*fmt == '-')
        sp.left = true;
      else if (*fmt == '0')
        sp.zero = true;
      else
        break;
    }
    if (*fmt == '*') {
      int w = va_arg(ap, int);
      fmt++;
      if (w < 0) sp.left = true;
      sp.width = w < 0 ? (size_t)0 - (size_t)w : (size_t)w;
    } else {
      sp.width = ml_parse_num(&fmt);
    }
    if (*fmt == '.') {
      fmt++;
      if (*fmt == '*') {
        int pr = va_arg(ap, int);
        fmt++;
        sp.prec = pr < 0 ? -1 : pr;
      } else {
        size_t pr = ml_parse_num(&fmt);
        sp.prec = pr > INT_MAX ? INT_MAX : (int)pr;
      }
    }
    if (sp.left) sp.zero = false;
    switch (*fmt) {
    case 'h': len = fmt[1] == 'h' ? ML_LEN_HH : ML_LEN_H; break;
    case 'l': len = fmt[1] == 'l' ? ML_LEN_LL : ML_LEN_L; break;
    case 'z': len = ML_LEN_Z; break;
    case 'j': len = ML_LEN_J; break;
    }
    if (len != ML_LEN_INT)
      fmt += (len == ML_LEN_HH || len == ML_LEN_LL) ? 2 : 1;

    switch (*fmt) {
    case '%': ml_out_put(&o, '%'); break;
    case 'c': {
      char c = (char)va_arg(ap, int);
      sp.zero = false;
      ml_out_field(&o, &sp, "", &c, 1, 0);
      break;
    }
    case 's': {
      const char *s = va_arg(ap, const char *);
      size_t n = 0;
      if (s == NULL) s = "(null)";
      while (s[n] != '\0' && (sp.prec < 0 || n < (size_t)sp.prec)) n++;
      sp.zero = false;
      ml_out_field(&o, &sp, "", s, n, 0);
      break;
    }
    case 'd':
    case 'i': {
      int64_t v = ml_arg_signed(&ap, len);
      uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
      ml_out_int(&o, &sp, mag, v < 0, 'd');
      break;
    }
    case 'u':
    case 'x':
    case 'X':
      ml_out_int(&o, &sp, ml_arg_unsigned(&ap, len), false, *fmt);
      break;
    case 'p':
      ml_out_int(&o, &sp, (uintptr_t)va_arg(ap, void *), false, 'p');
      break;
    default: /* unknown or truncated specification: copy it as it is */
      if (*fmt == '\0') {
        ml_out_mem(&o, start, (size_t)(fmt - start));
        continue;
      }
      ml_out_mem(&o, start, (size_t)(fmt - start) + 1);
      break;
    }
    fmt++;
  }
  va_end(ap);
  if (size > 0) o.buf[o.len < size ? o.len : size - 1] = '\0';
  return o.len > INT_MAX ? INT_MAX : (int)o.len;
}

int ml_snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = ml_vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

/* ---- strings ------------------------------------------------------------- */

size_t ml_strlcpy(char *dst, const char *src, size_t size) {
  size_t n = strlen(src);

  if (size > 0) {
    size_t c = n < size - 1 ? n : size - 1;
    memcpy(dst, src, c);
    dst[c] = '\0';
  }
  return n;
}

static int ml_ascii_lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int ml_strncasecmp(const char *a, const char *b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    int d =
        ml_ascii_lower((unsigned char)*a) - ml_ascii_lower((unsigned char)*b);
    if (d != 0 || *a == '\0') return d;
  }
  return 0;
}

int ml_strcasecmp(const char *a, const char *b) {
  return ml_strncasecmp(a, b, SIZE_MAX);
}

/* ---- errno names --------------------------------------------------------- */

#define ML_E(e) [e] = #e
static const char *const ml_errno_names[] = {
    ML_E(EPERM),   ML_E(ENOENT),    ML_E(ESRCH),        ML_E(EINTR),
    ML_E(EIO),     ML_E(ENXIO),     ML_E(E2BIG),        ML_E(ENOEXEC),
    ML_E(EBADF),   ML_E(ECHILD),    ML_E(EAGAIN),       ML_E(ENOMEM),
    ML_E(EACCES),  ML_E(EFAULT),    ML_E(ENOTBLK),      ML_E(EBUSY),
    ML_E(EEXIST),  ML_E(EXDEV),     ML_E(ENODEV),       ML_E(ENOTDIR),
    ML_E(EISDIR),  ML_E(EINVAL),    ML_E(ENFILE),       ML_E(EMFILE),
    ML_E(ENOTTY),  ML_E(ETXTBSY),   ML_E(EFBIG),        ML_E(ENOSPC),
    ML_E(ESPIPE),  ML_E(EROFS),     ML_E(EMLINK),       ML_E(EPIPE),
    ML_E(EDOM),    ML_E(ERANGE),    ML_E(EDEADLK),      ML_E(ENAMETOOLONG),
    ML_E(ENOSYS),  ML_E(ENOTEMPTY), ML_E(ELOOP),        ML_E(EOVERFLOW),
    ML_E(ENOTSUP), ML_E(ETIMEDOUT), ML_E(ECONNREFUSED), ML_E(EDQUOT),
};
#undef ML_E

const char *ml_errno_name(int err) {
  if (err <= 0 || (size_t)err >= ML_ARRAY_SIZE(ml_errno_names) ||
      ml_errno_names[err] == NULL)
    return "E?";
  return ml_errno_names[err];
}

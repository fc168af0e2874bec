/* SPDX-License-Identifier: MIT */
/*
 * options.c - the MEMLEDGER_* option table (layer: core): descriptors
 * generated from options.def, the value grammar (bool, int, size, enum,
 * signal, path), the one-time load from the environment with its warnings,
 * and the listings.  Never allocates, takes no lock, not for signal handlers:
 * environ is scanned in place (ml_prim_env_foreach), numbers are parsed by
 * hand (strtol consults the locale), text goes through ml_snprintf.
 * Sources, lowest first: the table's default, the configuration file
 * (ML_CONF_FILE, root-owned), MEMLEDGER_OPTIONS (a key=value list), then the
 * MEMLEDGER_<NAME> variables; in secure-execution mode only the file.
 * Invariant: values change only in ml_options_load, ml_option_set_text and
 * ml_options_reset (init is serialized); then ml_option_get is one load.
 */
#include "options.h"

#include "fmt.h"
#include "log.h"
#include "prim.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* ---- descriptors -------------------------------------------------------- */

#define ML_OPT_PREFIX "MEMLEDGER_"
#define ML_OPT_PATH_MAX 4096 // bytes of a PATH value, including the NUL
#define ML_OPT_SHOW_MAX 48   // bytes of a bad value echoed in a warning
/* Room for ml_opt_show: every byte as \xNN, plus "..." and the NUL. */
#define ML_OPT_SHOW_SIZE (4 * ML_OPT_SHOW_MAX + 4)

const ml_opt_desc_t ml_opt_desc[ML_OPT_COUNT] = {
#define ML_OPTION(id, name, type, def, min, max, values, doc)                  \
  [ML_OPT_##id] = {name, ML_OPT_PREFIX #id, type, def, min, max, values, doc},
#include "options.def"
#undef ML_OPTION
};

/* strlen of each env name, computed at compile time for the environ scan. */
static const unsigned char ml_opt_env_len[ML_OPT_COUNT] = {
#define ML_OPTION(id, name, type, def, min, max, values, doc)                  \
  [ML_OPT_##id] = sizeof(ML_OPT_PREFIX #id) - 1,
#include "options.def"
#undef ML_OPTION
};

/* MEMLEDGER_* names that are not options but are used on purpose: the
 * command-line tool's, and the list read as a whole.  Never warned about.
 * NULL-terminated. */
#define ML_OPT_LIST_ENV "MEMLEDGER_OPTIONS"
static const char *const ml_opt_ignored[] = {"MEMLEDGER_LIB", ML_OPT_LIST_ENV,
                                             NULL};

/* The configuration file: the only source in secure-execution mode.  Its
 * path is fixed at build time (configure --with-config-file). */
#ifndef ML_CONF_FILE
#define ML_CONF_FILE "/etc/memledger.conf"
#endif
#define ML_CONF_MAX 8192 // bytes of the file read; a longer one is ignored

/* ---- state -------------------------------------------------------------- */

typedef enum ml_opt_src_e {
  ML_OPT_SRC_DEFAULT,     // the table's default
  ML_OPT_SRC_ENVIRONMENT, // a MEMLEDGER_<NAME> variable
  ML_OPT_SRC_PROGRAM,     // ml_option_set_text
  ML_OPT_SRC_FILE,        // the configuration file
  ML_OPT_SRC_LIST,        // MEMLEDGER_OPTIONS
  ML_OPT_SRC_SECURE,      // forced by secure-execution mode (enabled=0)
} ml_opt_src_t;

/* The module's mutable state (SQLite mem2.c style), initialized with the
 * defaults so that ml_option_get is right before any load. */
static struct ml_opts_s {
  long long value[ML_OPT_COUNT]; // effective values
  uint8_t state[ML_OPT_COUNT];   // ml_opt_state_t
  uint8_t src[ML_OPT_COUNT];     // ml_opt_src_t, meaningful when SET
  bool loaded;                   // ml_options_load succeeded
  bool secure;                   // loaded in secure-execution mode
} ml_opts = {
    .value =
        {
#define ML_OPTION(id, name, type, def, min, max, values, doc)                  \
  [ML_OPT_##id] = (def),
#include "options.def"
#undef ML_OPTION
        },
};

/* PATH values: a ML_OPT_PATH_MAX buffer per PATH option, a 1-byte stub for
 * the others.  Kept apart from ml_opts so that it stays in .bss. */
static struct ml_opt_paths_s {
#define ML_OPTION(id, name, type, def, min, max, values, doc)                  \
  char path_##id[(type) == ML_OPT_TYPE_PATH ? ML_OPT_PATH_MAX : 1];
#include "options.def"
#undef ML_OPTION
} ml_opt_paths;

static char *const ml_opt_path_buf[ML_OPT_COUNT] = {
#define ML_OPTION(id, name, type, def, min, max, values, doc)                  \
  [ML_OPT_##id] = ml_opt_paths.path_##id,
#include "options.def"
#undef ML_OPTION
};

/* One value of a list or the file, NUL-terminated for ml_opt_apply (init is
 * serialized: one buffer does); one byte more than a PATH may have, so that
 * a value too long for one is seen as such. */
static char ml_opt_text[ML_OPT_PATH_MAX + 1];
/* The configuration file's text. */
static char ml_opt_conf_text[ML_CONF_MAX + 1];

/* Secure-execution check and configuration file, replaceable by tests
 * (jemalloc JET_MUTABLE). */
#ifdef ML_TESTING
bool (*ml_opt_is_secure)(void) ML_HIDDEN = ml_prim_is_secure;
const char *ml_opt_conf_path ML_HIDDEN = ML_CONF_FILE;
#else
static bool (*const ml_opt_is_secure)(void) = ml_prim_is_secure;
static const char *const ml_opt_conf_path = ML_CONF_FILE;
#endif

/* ---- grammar ------------------------------------------------------------ */

static int ml_opt_lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Decimal digits at s into *out; returns the end (== s when there are none).
 * On overflow keeps consuming digits, sets *overflow and leaves UINT64_MAX. */
static const char *ml_opt_digits(const char *s, uint64_t *out, bool *overflow) {
  uint64_t v = 0;

  *overflow = false;
  for (; *s >= '0' && *s <= '9'; s++) {
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) *overflow = true;
    v = *overflow ? UINT64_MAX : v * 10 + d;
  }
  *out = v;
  return s;
}

/* Case-insensitive match of the start of s against word; returns the rest of
 * s after it, or NULL. */
static const char *ml_opt_skip_word(const char *s, const char *word) {
  size_t n = strlen(word);
  return ml_strncasecmp(s, word, n) == 0 ? s + n : NULL;
}

int ml_parse_bool(const char *s, long long *out) {
  static const char *const ml_true[] = {"", "1", "true", "yes", "on"};
  static const char *const ml_false[] = {"0", "false", "no", "off"};

  for (size_t i = 0; i < ML_ARRAY_SIZE(ml_true); i++)
    if (ml_strcasecmp(s, ml_true[i]) == 0) {
      *out = 1;
      return 0;
    }
  for (size_t i = 0; i < ML_ARRAY_SIZE(ml_false); i++)
    if (ml_strcasecmp(s, ml_false[i]) == 0) {
      *out = 0;
      return 0;
    }
  return -1;
}

/* Clamp v into [min, max]: 0 when it already was inside, 1 when clamped. */
static int ml_opt_clamp(long long v, long long min, long long max,
                        long long *out) {
  *out = v < min ? min : v > max ? max : v;
  return *out != v;
}

int ml_parse_int(const char *s, long long min, long long max, long long *out) {
  bool neg = false, overflow;
  uint64_t mag;
  const char *end;

  if (*s == '+' || *s == '-') neg = *s++ == '-';
  end = ml_opt_digits(s, &mag, &overflow);
  if (end == s || *end != '\0' || overflow) return -1;
  if (mag > (uint64_t)LLONG_MAX + neg) return -1;
  /* -(LLONG_MAX + 1) is computed in unsigned arithmetic, then converted. */
  return ml_opt_clamp(neg ? (long long)(0 - mag) : (long long)mag, min, max,
                      out);
}

int ml_parse_size(const char *s, long long min, long long max, long long *out) {
  static const char ml_units[] = "kmgt"; // powers of 1024, in order
  bool overflow;
  uint64_t v;
  unsigned shift = 0;
  const char *end = ml_opt_digits(s, &v, &overflow), *p;

  if (end == s) return -1;
  for (unsigned i = 0; i < sizeof(ml_units) - 1; i++)
    if (ml_opt_lower((unsigned char)*end) == ml_units[i]) {
      shift = 10 * (i + 1);
      end++;
      break;
    }
  /* "B" after a number or unit, "iB" only after a unit ("64KiB", not "5iB"). */
  if (shift != 0 && (p = ml_opt_skip_word(end, "ib")) != NULL)
    end = p;
  else if (ml_opt_lower((unsigned char)*end) == 'b')
    end++;
  if (*end != '\0') return -1;
  if (v > (UINT64_MAX >> shift)) overflow = true;
  v <<= shift;
  if (overflow || v > (uint64_t)LLONG_MAX) { /* too large for any bound */
    *out = max;
    return 1;
  }
  return ml_opt_clamp((long long)v, min, max, out);
}

int ml_parse_enum(const char *s, const char *values, long long *out) {
  long long index = 0;
  size_t n = strlen(s);

  if (n == 0 || values == NULL) return -1;
  for (const char *v = values;; index++) {
    const char *bar = strchr(v, '|');
    size_t len = bar != NULL ? (size_t)(bar - v) : strlen(v);
    if (len == n && ml_strncasecmp(s, v, n) == 0) {
      *out = index;
      return 0;
    }
    if (bar == NULL) return -1;
    v = bar + 1;
  }
}

int ml_parse_duration(const char *s, long long min, long long max,
                      long long *out) {
  static const struct {
    char unit[3];
    unsigned ms;
  } ml_units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
  bool overflow;
  uint64_t v;
  const char *end = ml_opt_digits(s, &v, &overflow);

  if (end == s) return -1;
  for (size_t i = 0; i < ML_ARRAY_SIZE(ml_units); i++) {
    if (ml_strcasecmp(end, ml_units[i].unit) != 0) continue;
    if (overflow || v > (uint64_t)LLONG_MAX / ml_units[i].ms) { /* beyond any bound */
      *out = max;
      return 1;
    }
    return ml_opt_clamp((long long)(v * ml_units[i].ms), min, max, out);
  }
  return -1;
}

int ml_parse_limit(const char *s, long long min, long long max, long long *out) {
  size_t n = strlen(s);
  bool overflow;
  uint64_t v;

  if (n == 0 || s[n - 1] != '%') return ml_parse_size(s, min, max, out);
  if (ml_opt_digits(s, &v, &overflow) != s + n - 1 || n == 1) return -1;
  if (overflow || v == 0 || v > 100) return -1;
  *out = -(long long)v;
  return 0;
}

/* Signals a dump may be requested with, by name (without "SIG"). */
static const struct ml_opt_sig_s {
  char name[8];
  int sig;
} ml_opt_signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1},     {"USR2", SIGUSR2}, {"ALRM", SIGALRM},
    {"TERM", SIGTERM},     {"CHLD", SIGCHLD}, {"CONT", SIGCONT},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},         {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

/* Signals that cannot be caught (KILL, STOP) or that report a fault or an
 * abort: a dump handler on them would hide the program's own crash. */
static bool ml_opt_sig_refused(long long sig) {
  switch (sig) {
  case SIGKILL:
  case SIGSTOP:
  case SIGSEGV:
  case SIGBUS:
  case SIGILL:
  case SIGFPE:
  case SIGABRT:
  case SIGTRAP: return true;
  default: return false;
  }
}

int ml_parse_signal(const char *s, long long min, long long max,
                    long long *out) {
  /* SIGRTMIN/SIGRTMAX are calls into glibc (__libc_current_sigrtmin): they
   * only read a variable, and 32..SIGRTMIN-1 are glibc's own (cancellation,
   * setxid), so sigaction would refuse them. */
  const long long rtmin = SIGRTMIN, rtmax = SIGRTMAX;
  long long sig = -1;
  uint64_t n;
  bool overflow;
  const char *p, *end;

  if (ml_strcasecmp(s, "off") == 0 || ml_strcasecmp(s, "none") == 0) {
    sig = 0;
  } else if (*s >= '0' && *s <= '9') {
    end = ml_opt_digits(s, &n, &overflow);
    if (*end != '\0' || overflow || n > (uint64_t)INT_MAX) return -1;
    sig = (long long)n;
  } else {
    if ((p = ml_opt_skip_word(s, "sig")) != NULL) s = p;
    if ((p = ml_opt_skip_word(s, "rtmin")) != NULL ||
        (p = ml_opt_skip_word(s, "rtmax")) != NULL) {
      bool is_min = ml_opt_lower((unsigned char)s[3]) == 'i';
      n = 0;
      if (*p == (is_min ? '+' : '-')) {
        end = ml_opt_digits(p + 1, &n, &overflow);
        if (end == p + 1 || overflow || n > (uint64_t)INT_MAX) return -1;
        p = end;
      }
      if (*p != '\0') return -1;
      sig = is_min ? rtmin + (long long)n : rtmax - (long long)n;
      if (sig < rtmin || sig > rtmax) return -1;
    } else {
      for (size_t i = 0; i < ML_ARRAY_SIZE(ml_opt_signals); i++)
        if (ml_strcasecmp(s, ml_opt_signals[i].name) == 0)
          sig = ml_opt_signals[i].sig;
      if (sig < 0) return -1; /* also KILL, SEGV, ...: not in the list */
    }
  }
  if (sig < min || sig > max) return -1;
  if (sig != 0 &&
      (ml_opt_sig_refused(sig) || (sig > 31 && sig < rtmin) || sig > rtmax))
    return -1;
  *out = sig;
  return 0;
}

/* ---- text for messages and listings ------------------------------------- */

/* Copy at most ML_OPT_SHOW_MAX bytes of s[0..len) into buf for a warning,
 * with '"', '\\' and non-printable bytes escaped, and "..." when cut. */
static const char *ml_opt_show(const char *s, size_t len, char *buf,
                               size_t size) {
  size_t o = 0, i;

  buf[0] = '\0'; /* s may be empty */
  for (i = 0; i < len && i < ML_OPT_SHOW_MAX; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      o += (size_t)ml_snprintf(buf + o, size - o, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      o += (size_t)ml_snprintf(buf + o, size - o, "\\x%02x", c);
    else
      o += (size_t)ml_snprintf(buf + o, size - o, "%c", c);
  }
  if (i < len) ml_snprintf(buf + o, size - o, "...");
  return buf;
}

/* A size as the grammar would accept it, with the largest exact unit
 * ("64M", "1T", "1000"). */
static void ml_opt_size_text(long long v, char *buf, size_t size) {
  static const char ml_units[] = "KMGT";
  int u = 0;

  while (v != 0 && u < 4 && v % 1024 == 0) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    ml_snprintf(buf, size, "%lld", v);
  else
    ml_snprintf(buf, size, "%lld%c", v, ml_units[u - 1]);
}

/* The i-th name of an ENUM's '|' list. */
static void ml_opt_enum_name(const char *values, long long index, char *buf,
                             size_t size) {
  const char *v = values != NULL ? values : "";

  for (; index > 0 && v != NULL; index--) {
    v = strchr(v, '|');
    if (v != NULL) v++;
  }
  if (v == NULL) {
    ml_snprintf(buf, size, "?");
    return;
  }
  const char *bar = strchr(v, '|');
  ml_snprintf(buf, size, "%.*s", bar != NULL ? (int)(bar - v) : INT_MAX, v);
}

/* A value as text: enums by name, paths as they are, everything else by
 * number; human: sizes with units and paths quoted (warnings).  Returns buf,
 * or the path itself (which may be longer than buf) when not human. */
static const char *ml_opt_value_text(ml_opt_t opt, long long v, bool human,
                                     char *buf, size_t size) {
  const ml_opt_desc_t *d = &ml_opt_desc[opt];

  switch (d->type) {
  case ML_OPT_TYPE_ENUM: ml_opt_enum_name(d->values, v, buf, size); break;
  case ML_OPT_TYPE_PATH:
    if (!human) return ml_option_str(opt);
    ml_snprintf(buf, size, "\"%s\"", ml_option_str(opt));
    break;
  case ML_OPT_TYPE_SIZE:
    if (human) {
      ml_opt_size_text(v, buf, size);
      break;
    }
    ml_snprintf(buf, size, "%lld", v);
    break;
  case ML_OPT_TYPE_LIMIT:
    if (v < 0)
      ml_snprintf(buf, size, "%lld%%", -v);
    else if (human)
      ml_opt_size_text(v, buf, size);
    else
      ml_snprintf(buf, size, "%lld", v);
    break;
  case ML_OPT_TYPE_DURATION:
    if (v == 0)
      ml_snprintf(buf, size, "0");
    else if (v % 3600000 == 0)
      ml_snprintf(buf, size, "%lldh", v / 3600000);
    else if (v % 60000 == 0)
      ml_snprintf(buf, size, "%lldm", v / 60000);
    else if (v % 1000 == 0)
      ml_snprintf(buf, size, "%llds", v / 1000);
    else
      ml_snprintf(buf, size, "%lldms", v);
    break;
  default: ml_snprintf(buf, size, "%lld", v); break;
  }
  return buf;
}

/* What an option accepts, for the "is not valid (expected ...)" warning. */
static void ml_opt_expected(const ml_opt_desc_t *d, char *buf, size_t size) {
  char lo[24], hi[24];

  switch (d->type) {
  case ML_OPT_TYPE_BOOL:
    ml_snprintf(buf, size, "1/0, true/false, yes/no or on/off");
    break;
  case ML_OPT_TYPE_INT:
    ml_snprintf(buf, size, "an integer %lld..%lld", d->min, d->max);
    break;
  case ML_OPT_TYPE_SIZE:
    ml_opt_size_text(d->min, lo, sizeof(lo));
    ml_opt_size_text(d->max, hi, sizeof(hi));
    ml_snprintf(buf, size, "a size %s..%s with an optional K/M/G/T suffix", lo,
                hi);
    break;
  case ML_OPT_TYPE_ENUM: ml_snprintf(buf, size, "one of %s", d->values); break;
  case ML_OPT_TYPE_DURATION:
    ml_snprintf(buf, size, "a time such as 30s, 5m, 1h or 500ms (a bare number is "
                "seconds); 0 = off");
    break;
  case ML_OPT_TYPE_LIMIT:
    ml_opt_size_text(d->max, hi, sizeof(hi));
    ml_snprintf(buf, size, "a size up to %s with an optional K/M/G/T suffix, or a "
                "percentage 1%%..100%% of the memory limit; 0 = off", hi);
    break;
  case ML_OPT_TYPE_SIGNAL:
    ml_snprintf(buf, size,
                "a signal name such as USR2 or RTMIN+1, or a number %lld..%lld,"
                " but not KILL, STOP, SEGV, BUS, ILL, FPE, ABRT or TRAP;"
                " 0/off/none = off",
                d->min > 1 ? d->min : 1, d->max);
    break;
  case ML_OPT_TYPE_PATH:
    ml_snprintf(buf, size, "a non-empty path of at most %d bytes",
                ML_OPT_PATH_MAX - 1);
    break;
  }
}

/* ---- applying a value --------------------------------------------------- */

/* ARENAS must be 0 (automatic) or a power of two: round up, within max. */
static bool ml_opt_fix_pow2(ml_opt_t opt, long long *v) {
  size_t p;

  if (opt != ML_OPT_ARENAS || *v <= 0 || ml_is_pow2((size_t)*v)) return false;
  p = ml_next_pow2((size_t)*v);
  while (p > (size_t)ml_opt_desc[opt].max && p > 1) p >>= 1;
  *v = (long long)p;
  return true;
}

/* "the default 32", or "32" when the value in effect came from set_text:
 * what a rejected value leaves in place. */
static const char *ml_opt_kept_text(ml_opt_t opt, char *buf, size_t size) {
  char val[64];
  const char *v =
      ml_opt_value_text(opt, ml_opts.value[opt], true, val, sizeof(val));

  ml_snprintf(buf, size, "%s%s",
              ml_opts.state[opt] == ML_OPT_SET ? "" : "the default ", v);
  return buf;
}

/* Parse text for opt and make it the effective value, warning about it as
 * `who` (the variable, or "MEMLEDGER_OPTIONS: name"; NULL: the name).
 * Returns 0 when applied, 1 when applied with a warning (clamped, rounded),
 * -1 when rejected with a warning (the value in effect is kept). */
static int ml_opt_apply(ml_opt_t opt, const char *text, ml_opt_src_t src,
                        const char *who) {
  const ml_opt_desc_t *d = &ml_opt_desc[opt];
  char shown[ML_OPT_SHOW_SIZE], val[80], what[192];
  long long v = 0;
  size_t len = strlen(text);
  int rc = -1;
  bool rounded;

  if (who == NULL) who = d->name;
  switch (d->type) {
  case ML_OPT_TYPE_BOOL: rc = ml_parse_bool(text, &v); break;
  case ML_OPT_TYPE_INT: rc = ml_parse_int(text, d->min, d->max, &v); break;
  case ML_OPT_TYPE_SIZE: rc = ml_parse_size(text, d->min, d->max, &v); break;
  case ML_OPT_TYPE_ENUM: rc = ml_parse_enum(text, d->values, &v); break;
  case ML_OPT_TYPE_SIGNAL:
    rc = ml_parse_signal(text, d->min, d->max, &v);
    break;
  case ML_OPT_TYPE_DURATION:
    rc = ml_parse_duration(text, d->min, d->max, &v);
    break;
  case ML_OPT_TYPE_LIMIT: rc = ml_parse_limit(text, d->min, d->max, &v); break;
  case ML_OPT_TYPE_PATH:
    rc = (len == 0 || len >= ML_OPT_PATH_MAX) ? -1 : 0;
    break;
  }

  ml_opt_show(text, len, shown, sizeof(shown));
  if (rc < 0) {
    ml_opt_expected(d, what, sizeof(what));
    ml_warning("%s=\"%s\" is not valid (expected %s); using %s", who, shown,
               what, ml_opt_kept_text(opt, val, sizeof(val)));
    return -1;
  }

  rounded = ml_opt_fix_pow2(opt, &v);
  if (d->type == ML_OPT_TYPE_PATH) memcpy(ml_opt_path_buf[opt], text, len + 1);
  ml_opts.value[opt] = v;
  ml_opts.state[opt] = ML_OPT_SET;
  ml_opts.src[opt] = (uint8_t)src;
  if (rc == 0 && !rounded) return 0;

  ml_opt_value_text(opt, v, true, val, sizeof(val));
  if (rc == 1) {
    char lo[24], hi[24];
    ml_warning("%s=%s is out of range %s..%s; using %s", who, shown,
               ml_opt_value_text(opt, d->min, true, lo, sizeof(lo)),
               ml_opt_value_text(opt, d->max, true, hi, sizeof(hi)), val);
  } else {
    ml_warning("%s=%s is not a power of two; using %s", who, shown, val);
  }
  return 1;
}

int ml_option_set_text(ml_opt_t opt, const char *value) {
  ml_assert(opt < ML_OPT_COUNT && value != NULL);
  /* A clamped value was applied (with a warning): that is a success. */
  return ml_opt_apply(opt, value, ML_OPT_SRC_PROGRAM, NULL) < 0 ? -1 : 0;
}

/* ---- loading ------------------------------------------------------------ */

static int ml_opt_lookup(const char *name, size_t len) {
  for (int i = 0; i < ML_OPT_COUNT; i++)
    if (ml_opt_env_len[i] == len && memcmp(name, ml_opt_desc[i].env, len) == 0)
      return i;
  return -1;
}

/* Within one edit of each other, ignoring case: one byte inserted, deleted
 * or replaced, or two adjacent bytes swapped. */
static bool ml_opt_near(const char *a, size_t alen, const char *b,
                        size_t blen) {
  size_t i = 0;

  if (alen < blen) return ml_opt_near(b, blen, a, alen);
  if (alen - blen > 1) return false;
  while (i < blen &&
         ml_opt_lower((unsigned char)a[i]) == ml_opt_lower((unsigned char)b[i]))
    i++;
  if (i == blen) return true; /* equal, or a has one more byte at the end */
  /* a has one more byte: skip it; same length: skip one byte in each. */
  if (alen != blen) return ml_strncasecmp(a + i + 1, b + i, blen - i) == 0;
  if (ml_strncasecmp(a + i + 1, b + i + 1, blen - i - 1) == 0) return true;
  return i + 1 < blen &&
         ml_opt_lower((unsigned char)a[i]) ==
             ml_opt_lower((unsigned char)b[i + 1]) &&
         ml_opt_lower((unsigned char)a[i + 1]) ==
             ml_opt_lower((unsigned char)b[i]) &&
         ml_strncasecmp(a + i + 2, b + i + 2, blen - i - 2) == 0;
}

typedef struct ml_opt_scan_s {
  const char *value[ML_OPT_COUNT]; // first occurrence of each known name
  const char *list;                // MEMLEDGER_OPTIONS, or NULL
  int seen;                        // MEMLEDGER_* variables present
  int problems;                    // unknown names reported
} ml_opt_scan_t;

static void ml_opt_collect(const char *name, size_t len, const char *value,
                           void *arg) {
  ml_opt_scan_t *scan = arg;
  int i = ml_opt_lookup(name, len);

  scan->seen++;
  if (i >= 0 && scan->value[i] == NULL) scan->value[i] = value;
  if (len == sizeof(ML_OPT_LIST_ENV) - 1 &&
      memcmp(name, ML_OPT_LIST_ENV, len) == 0 && scan->list == NULL)
    scan->list = value;
}

/* The option a table name denotes ("min_size": exact, lower case), or -1. */
static int ml_opt_lookup_name(const char *key, size_t len) {
  for (int i = 0; i < ML_OPT_COUNT; i++)
    if (strlen(ml_opt_desc[i].name) == len &&
        memcmp(key, ml_opt_desc[i].name, len) == 0)
      return i;
  return -1;
}

/* "unknown option X ignored; did you mean Y?", Y the first known name within
 * one edit of X (names: the env names or the table names). */
static void ml_opt_warn_unknown(const char *name, size_t len, const char *in,
                                bool env_names) {
  char shown[ML_OPT_SHOW_SIZE];
  const char *hint = NULL;

  for (int i = 0; i < ML_OPT_COUNT && hint == NULL; i++) {
    const char *known = env_names ? ml_opt_desc[i].env : ml_opt_desc[i].name;
    if (ml_opt_near(name, len, known, strlen(known))) hint = known;
  }
  ml_opt_show(name, len, shown, sizeof(shown));
  if (hint != NULL)
    ml_warning("unknown option %s%s ignored; did you mean %s?", shown, in,
               hint);
  else
    ml_warning("unknown option %s%s ignored", shown, in);
}

static void ml_opt_check_unknown(const char *name, size_t len,
                                 const char *value ML_UNUSED, void *arg) {
  ml_opt_scan_t *scan = arg;

  if (ml_opt_lookup(name, len) >= 0) return;
  for (size_t i = 0; ml_opt_ignored[i] != NULL; i++)
    if (strlen(ml_opt_ignored[i]) == len &&
        memcmp(ml_opt_ignored[i], name, len) == 0)
      return;
  ml_opt_warn_unknown(name, len, "", true);
  scan->problems++;
}

/* ---- key=value lists: MEMLEDGER_OPTIONS and the configuration file ------ */

/* The values one list gives, in place (not NUL-terminated): val[i] == NULL
 * when the list does not name option i; the last occurrence wins. */
typedef struct ml_opt_layer_s {
  const char *val[ML_OPT_COUNT];
  size_t len[ML_OPT_COUNT];
} ml_opt_layer_t;

static bool ml_opt_is_sep(char c) { return c == ':' || c == ',' || c == '\n'; }
static bool ml_opt_is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

/* The next item of the list at *sp, which is advanced past it: blanks and
 * empty items are skipped, '#' starts a comment up to the end of the line;
 * a value may be quoted with ' or " (then it may hold ':' and ','; no
 * escapes).  Returns 1 with key/val set (an item without '=' has an empty
 * value), 0 at the end, -1 for a malformed item (no name, an unclosed
 * quote, text after the name or after a closing quote), skipped up to the
 * next separator; *key then starts it. */
static int ml_opt_list_next(const char **sp, const char **key, size_t *klen,
                            const char **val, size_t *vlen) {
  const char *s = *sp;
  int rc = 1;

  for (;;) {
    while (ml_opt_is_blank(*s) || ml_opt_is_sep(*s)) s++;
    if (*s != '#') break;
    while (*s != '\0' && *s != '\n') s++;
  }
  if (*s == '\0') return 0;
  *key = s;
  while (*s != '\0' && *s != '=' && !ml_opt_is_sep(*s) && !ml_opt_is_blank(*s))
    s++;
  *klen = (size_t)(s - *key);
  if (*klen == 0) rc = -1; /* "=value" */
  while (ml_opt_is_blank(*s)) s++;
  *val = s;
  *vlen = 0;
  if (*s == '=') {
    for (s++; ml_opt_is_blank(*s); s++) {
    }
    if (*s == '\'' || *s == '"') {
      char q = *s++;
      *val = s;
      while (*s != '\0' && *s != q && *s != '\n') s++;
      *vlen = (size_t)(s - *val);
      if (*s == q)
        for (s++; ml_opt_is_blank(*s); s++) {
        }
      else
        rc = -1;
    } else {
      const char *end;
      *val = s;
      while (*s != '\0' && !ml_opt_is_sep(*s)) s++;
      for (end = s; end > *val && ml_opt_is_blank(end[-1]); end--) {
      }
      *vlen = (size_t)(end - *val);
    }
  }
  if (*s != '\0' && !ml_opt_is_sep(*s)) rc = -1;
  while (*s != '\0' && !ml_opt_is_sep(*s)) s++;
  *sp = s;
  return rc;
}

/* Read the list text (named `where` in warnings) into layer (NULL: only
 * warn), and warn (when warn) about malformed items and unknown keys.
 * Returns the number of such problems. */
static int ml_opt_list_parse(const char *text, const char *where,
                             ml_opt_layer_t *layer, bool warn) {
  const char *s = text, *key, *val;
  size_t klen, vlen;
  char shown[ML_OPT_SHOW_SIZE], in[160];
  int rc, problems = 0;

  ml_snprintf(in, sizeof(in), " in %s", where);
  while ((rc = ml_opt_list_next(&s, &key, &klen, &val, &vlen)) != 0) {
    int i = rc > 0 ? ml_opt_lookup_name(key, klen) : -1;
    if (i >= 0) {
      if (layer != NULL) {
        layer->val[i] = val;
        layer->len[i] = vlen;
      }
      continue;
    }
    problems++;
    if (!warn) continue;
    if (rc > 0) {
      ml_opt_warn_unknown(key, klen, in, false);
    } else {
      ml_opt_show(key, (size_t)(s - key), shown, sizeof(shown));
      ml_warning("%s: \"%s\" is not name=value (no name, a quote not closed, "
                 "or text after the name or the closing quote); ignored",
                 where, shown);
    }
  }
  return problems;
}

/* The value of option i in layer, NUL-terminated in ml_opt_text; NULL when
 * the layer does not set it. */
static const char *ml_opt_layer_text(const ml_opt_layer_t *layer, int i) {
  size_t n = layer->len[i] < ML_OPT_PATH_MAX ? layer->len[i] : ML_OPT_PATH_MAX;

  if (layer->val[i] == NULL) return NULL;
  memcpy(ml_opt_text, layer->val[i], n);
  ml_opt_text[n] = '\0';
  return ml_opt_text;
}

/* Apply option i from a list layer, warning as "where: name".  Returns 1
 * when that was a problem (rejected, clamped), else 0. */
static int ml_opt_apply_layer(const ml_opt_layer_t *layer, int i,
                              ml_opt_src_t src, const char *where) {
  char who[192];
  const char *text = ml_opt_layer_text(layer, i);

  if (text == NULL) return 0;
  ml_snprintf(who, sizeof(who), "%s: %s", where, ml_opt_desc[i].name);
  return ml_opt_apply((ml_opt_t)i, text, src, who) != 0;
}

/* Read the configuration file into ml_opt_conf_text.  Returns true when
 * there is one to use; a file that is missing is silently absent, one that
 * is not trusted (not a regular file owned by root, or writable by group or
 * others: anyone who can write it chooses what privileged programs do) or
 * unreadable is ignored with a warning. */
static bool ml_opt_read_conf(int *problems) {
  ssize_t n = ml_prim_read_trusted(ml_opt_conf_path, ml_opt_conf_text,
                                   sizeof(ml_opt_conf_text));

  if (n >= 0) return true;
  if (n == -ENOENT || n == -ENOTDIR) return false;
  (*problems)++;
  if (n == -EPERM)
    ml_warning("%s is ignored: it must be a regular file owned by root and "
               "not writable by group or others",
               ml_opt_conf_path);
  else if (n == -EFBIG)
    ml_warning("%s is ignored: larger than %d bytes", ml_opt_conf_path,
               ML_CONF_MAX);
  else
    ml_warning("%s is ignored: cannot read it: %s (errno %d)",
               ml_opt_conf_path, ml_errno_name((int)-n), (int)-n);
  return false;
}

int ml_options_load(void) {
  ml_opt_scan_t scan = {{NULL}, NULL, 0, 0};
  ml_opt_layer_t file = {{NULL}, {0}}, list = {{NULL}, {0}};
  int problems = 0;
  long long max_errors;
  const char *text;
  bool have_file;

  if (ml_opts.loaded) return 0;
  if (ml_prim_env_foreach(ML_OPT_PREFIX, ml_opt_collect, &scan) < 0)
    return -1; /* environ not set up yet: stay UNINIT, the caller retries */
  ml_opts.secure = ml_opt_is_secure();

  /* gperftools ignores HEAPPROFILE in set-uid programs; memledger ignores
   * the whole environment there: whoever runs the program must not choose
   * where a privileged process writes, nor its exit status, nor its cost.
   * Only the root-owned file counts. */
  if (ml_opts.secure) {
    if (scan.seen > 0)
      ml_warning("secure-execution mode (set-uid, set-gid or capabilities): "
                 "the MEMLEDGER_* variables are ignored; options come from %s "
                 "only",
                 ml_opt_conf_path);
    memset(&scan, 0, sizeof(scan));
  }
  have_file = ml_opt_read_conf(&problems);
  if (have_file) ml_opt_list_parse(ml_opt_conf_text, ml_opt_conf_path, &file, false);
  if (scan.list != NULL)
    ml_opt_list_parse(scan.list, ML_OPT_LIST_ENV, &list, false);

  /* The warning cap applies to the option warnings themselves: peek at
   * MAX_ERRORS first, from the source that wins (its own warning, if any,
   * comes in table order). */
  text = scan.value[ML_OPT_MAX_ERRORS];
  if (text == NULL) text = ml_opt_layer_text(&list, ML_OPT_MAX_ERRORS);
  if (text == NULL) text = ml_opt_layer_text(&file, ML_OPT_MAX_ERRORS);
  if (text != NULL &&
      ml_parse_int(text, ml_opt_desc[ML_OPT_MAX_ERRORS].min,
                   ml_opt_desc[ML_OPT_MAX_ERRORS].max, &max_errors) >= 0)
    ml_log_set_max((long)max_errors);

  if (have_file)
    problems += ml_opt_list_parse(ml_opt_conf_text, ml_opt_conf_path, NULL, true);
  if (scan.list != NULL)
    problems += ml_opt_list_parse(scan.list, ML_OPT_LIST_ENV, NULL, true);
  /* Lowest source first, each overriding the one before: a rejected value
   * leaves the one before in effect. */
  for (int i = 0; i < ML_OPT_COUNT; i++) {
    problems += ml_opt_apply_layer(&file, i, ML_OPT_SRC_FILE, ml_opt_conf_path);
    problems += ml_opt_apply_layer(&list, i, ML_OPT_SRC_LIST, ML_OPT_LIST_ENV);
    if (scan.value[i] != NULL)
      problems += ml_opt_apply((ml_opt_t)i, scan.value[i],
                               ML_OPT_SRC_ENVIRONMENT, ml_opt_desc[i].env) != 0;
    if (ml_opts.state[i] == ML_OPT_UNINIT) ml_opts.state[i] = ML_OPT_DEFAULTED;
  }
  if (!ml_opts.secure)
    ml_prim_env_foreach(ML_OPT_PREFIX, ml_opt_check_unknown, &scan);
  problems += scan.problems;
  /* Secure-execution mode writes no dump unless root chose the directory:
   * without `dir` in the file, tracking is off (no dump could be written). */
  if (!ml_options_dir_trusted()) {
    ml_opts.value[ML_OPT_ENABLED] = 0;
    ml_opts.state[ML_OPT_ENABLED] = ML_OPT_SET;
    ml_opts.src[ML_OPT_ENABLED] = ML_OPT_SRC_SECURE;
  }
  ml_opts.loaded = true;

  ml_log_set_max((long)ml_opts.value[ML_OPT_MAX_ERRORS]);
  if (problems > 0 && ml_opts.value[ML_OPT_ABORT_ON_BAD_OPTION]) {
    ml_error("invalid options and MEMLEDGER_ABORT_ON_BAD_OPTION=1: aborting");
    abort();
  }
  return problems;
}

bool ml_options_dir_trusted(void) {
  return !ml_opts.secure || (ml_opts.state[ML_OPT_DIR] == ML_OPT_SET &&
                             (ml_opts.src[ML_OPT_DIR] == ML_OPT_SRC_FILE ||
                              ml_opts.src[ML_OPT_DIR] == ML_OPT_SRC_PROGRAM));
}

bool ml_options_anchor_dir(const char *cwd) {
  const char *dir = ml_option_str(ML_OPT_DIR);
  char abs[ML_OPT_PATH_MAX];
  if (dir[0] == '/' || cwd[0] != '/') return false;
  while (dir[0] == '.' && dir[1] == '/')
    for (dir += 2; *dir == '/'; dir++) {}
  if (!strcmp(dir, ".")) dir = "";
  bool sep = dir[0] && cwd[1];
  size_t n = (size_t)ml_snprintf(abs, sizeof abs, "%s%s%s", cwd, sep ? "/" : "", dir);
  if (n >= sizeof abs) return false;
  memcpy(ml_opt_path_buf[ML_OPT_DIR], abs, n + 1);
  ml_opts.state[ML_OPT_DIR] = ML_OPT_SET; /* the source stays as it was */
  return true;
}

void ml_options_reset(void) {
  for (int i = 0; i < ML_OPT_COUNT; i++) {
    ml_opts.value[i] = ml_opt_desc[i].def;
    ml_opts.state[i] = ML_OPT_UNINIT;
    ml_opts.src[i] = ML_OPT_SRC_DEFAULT;
    ml_opt_path_buf[i][0] = '\0';
  }
  ml_opts.loaded = false;
  ml_opts.secure = false;
}

/* ---- access ------------------------------------------------------------- */

long long ml_option_get(ml_opt_t opt) {
  ml_assert(opt < ML_OPT_COUNT);
  return ml_opts.value[opt];
}

ml_opt_state_t ml_option_state(ml_opt_t opt) {
  ml_assert(opt < ML_OPT_COUNT);
  return (ml_opt_state_t)ml_opts.state[opt];
}

const char *ml_option_str(ml_opt_t opt) {
  ml_assert(opt < ML_OPT_COUNT && ml_opt_desc[opt].type == ML_OPT_TYPE_PATH);
  if (ml_opts.state[opt] == ML_OPT_SET) return ml_opt_path_buf[opt];
  return ml_opt_desc[opt].values != NULL ? ml_opt_desc[opt].values : "";
}

/* ---- listings ----------------------------------------------------------- */

size_t ml_options_format(char *buf, size_t size) {
  char val[32];
  size_t len = 0;

  if (size == 0) return 0;
  buf[0] = '\0';
  for (int i = 0; i < ML_OPT_COUNT; i++) {
    len += (size_t)ml_snprintf(buf + len, size - len, "%s%s=%s",
                               i == 0 ? "" : " ", ml_opt_desc[i].name,
                               ml_opt_value_text((ml_opt_t)i, ml_opts.value[i],
                                                 false, val, sizeof(val)));
    if (len >= size) return size - 1; /* truncated, still NUL-terminated */
  }
  return len;
}

void ml_options_print(void) {
  static const char *const ml_src_name[] = {
      [ML_OPT_SRC_DEFAULT] = "default",
      [ML_OPT_SRC_ENVIRONMENT] = "environment",
      [ML_OPT_SRC_PROGRAM] = "program",
      [ML_OPT_SRC_FILE] = NULL, /* the file's path */
      [ML_OPT_SRC_LIST] = ML_OPT_LIST_ENV,
      [ML_OPT_SRC_SECURE] = "secure-execution mode without a dir in the "
                            "configuration file",
  };
  char val[32];
  int width = 0;

  for (int i = 0; i < ML_OPT_COUNT; i++) {
    int n = (int)strlen(ml_opt_desc[i].name);
    if (n > width) width = n;
  }
  ml_info("effective options:");
  for (int i = 0; i < ML_OPT_COUNT; i++) {
    unsigned src =
        ml_opts.state[i] == ML_OPT_SET ? ml_opts.src[i] : ML_OPT_SRC_DEFAULT;
    ml_info("  %-*s = %-10s (%s, %s)", width, ml_opt_desc[i].name,
            ml_opt_value_text((ml_opt_t)i, ml_opts.value[i], false, val,
                              sizeof(val)),
            ml_opt_desc[i].env,
            ml_src_name[src] != NULL ? ml_src_name[src] : ml_opt_conf_path);
  }
}

/* SPDX-License-Identifier: MIT */
/*
 * options.h - the MEMLEDGER_* option table (layer: core).
 *
 * One X-macro list, options.def, generates the enum, the descriptor table,
 * the verbose listing and the documentation table.  Options are read once
 * (ml_options_load, from init) by scanning environ directly, validated, and
 * then frozen: ml_option_get is a plain array load.  Sources, each
 * overriding the one before: the default, the configuration file
 * (/etc/memledger.conf, root-owned), MEMLEDGER_OPTIONS=name=value:..., the
 * MEMLEDGER_<NAME> variables.  In secure-execution mode (AT_SECURE) only the
 * file counts, and tracking is off unless the file names a directory.  A bad
 * value or an unknown name gives one "memledger: warning:" line and keeps
 * the value before.  Never allocates; not for signal handlers.
 */
#ifndef ML_OPTIONS_H
#define ML_OPTIONS_H

#include "internal.h"

typedef enum ml_opt_type_e {
  /* ML_OPT_TYPE_*, not ML_OPT_*: the option ids below take ML_OPT_<ID>, and
   * the SIGNAL option would collide with a SIGNAL type. */
  ML_OPT_TYPE_BOOL,   // 1/0/true/false/yes/no/on/off (any case); "" = true
  ML_OPT_TYPE_INT,    // decimal integer, whole string, within [min, max]
  ML_OPT_TYPE_SIZE,   // integer, optional K/M/G/T suffix, optional "B"/"iB"
  ML_OPT_TYPE_ENUM,   // one of a '|'-separated list of names, case-insensitive;
                      // the value is the index in that list
  ML_OPT_TYPE_SIGNAL, // a signal name (USR2, SIGUSR2, RTMIN+3; any case)
                      // or number in [min, max]; 0 = off
  ML_OPT_TYPE_PATH,   // a string (ignored in secure-execution mode)
  ML_OPT_TYPE_DURATION, // a time: number with ms/s/m/h (bare: seconds); the
                        // value is in milliseconds; 0 = off
  ML_OPT_TYPE_LIMIT,  // a SIZE, or a percentage "N%" (1..100) of the memory
                      // limit in effect: the value is then -N
} ml_opt_type_t;

typedef enum ml_opt_e {
#define ML_OPTION(id, name, type, def, min, max, values, doc) ML_OPT_##id,
#include "options.def"
#undef ML_OPTION
  ML_OPT_COUNT
} ml_opt_t;

typedef enum ml_opt_state_e {
  ML_OPT_UNINIT,    // not read yet
  ML_OPT_DEFAULTED, // read; absent or invalid, default in effect
  ML_OPT_SET,       // read; the environment's value in effect
} ml_opt_state_t;

typedef struct ml_opt_desc_s {
  const char *name;    // lower-case table name, e.g. "min_size"
  const char *env;     // "MEMLEDGER_MIN_SIZE"
  ml_opt_type_t type;
  long long def;       // default (for PATH options: 0; see def_str)
  long long min, max;  // bounds for INT and SIZE (inclusive); clamp + warn
  const char *values;  // ENUM: "a|b|c" (index = value); PATH: default string
  const char *doc;     // one line of documentation
} ml_opt_desc_t;

/* The table, indexed by ml_opt_t. */
extern const ml_opt_desc_t ml_opt_desc[ML_OPT_COUNT] ML_HIDDEN;

/* Read every option from the configuration file and the environment, warn
 * about bad values and unknown names.  Returns the number of problems reported, or -1 when
 * environ is not available yet (options stay at defaults, state UNINIT, and
 * a later call reads them).  Idempotent after a successful call unless
 * ml_options_reset() is called (tests, fork child does not need it). */
int ml_options_load(void) ML_HIDDEN;
void ml_options_reset(void) ML_HIDDEN;

/* False in secure-execution mode unless the dump directory came from the
 * configuration file or the program: then no dump file may be written.
 * True when not loaded yet or not secure. */
bool ml_options_dir_trusted(void) ML_HIDDEN;

/* A relative dump directory made absolute against cwd (the working
 * directory at start), so that dumps go where the program started even if
 * it changes directory, and `memledger dump` can be told where.  Keeps the
 * option's source.  Returns false (and changes nothing) when the directory
 * is absolute already, cwd is not absolute, or the result is too long. */
bool ml_options_anchor_dir(const char *cwd) ML_HIDDEN;

/* Current value (the default until loaded). */
long long ml_option_get(ml_opt_t opt) ML_HIDDEN;
ml_opt_state_t ml_option_state(ml_opt_t opt) ML_HIDDEN;
/* PATH options: the string (default string when unset); never NULL. */
const char *ml_option_str(ml_opt_t opt) ML_HIDDEN;

/* Set an option programmatically (tests, and `memledger_default_options`).
 * Parses value with the same grammar; returns 0 or -1 (and warns). */
int ml_option_set_text(ml_opt_t opt, const char *value) ML_HIDDEN;

/* Write "name=value" pairs separated by spaces into buf (for dump headers).
 * Returns the length. */
size_t ml_options_format(char *buf, size_t size) ML_HIDDEN;
/* Print every option, its effective value and its source
 * ("default"/"environment") through ml_info (MEMLEDGER_VERBOSE=1). */
void ml_options_print(void) ML_HIDDEN;

/* Parsers, exposed for tests.  Return 0 on success, -1 on a syntax error,
 * 1 when the value was out of range and was clamped into [min, max]. */
int ml_parse_bool(const char *s, long long *out) ML_HIDDEN;
int ml_parse_int(const char *s, long long min, long long max, long long *out)
    ML_HIDDEN;
int ml_parse_size(const char *s, long long min, long long max, long long *out)
    ML_HIDDEN;
int ml_parse_enum(const char *s, const char *values, long long *out) ML_HIDDEN;
int ml_parse_signal(const char *s, long long min, long long max,
                    long long *out) ML_HIDDEN;
int ml_parse_duration(const char *s, long long min, long long max,
                      long long *out) ML_HIDDEN;
int ml_parse_limit(const char *s, long long min, long long max,
                   long long *out) ML_HIDDEN;

#endif /* ML_OPTIONS_H */

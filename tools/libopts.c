/* SPDX-License-Identifier: MIT */
/*
 * libopts.c - the library's option loader (src/options.c) run over another
 * process's environment.  options.c needs a few things from the library's
 * other layers; they are provided here for an ordinary program (the
 * configuration file is read by src/prim_conf.c, as in the library): the
 * environment scan walks the given vector instead of environ, the secure-
 * execution check answers for the target, and warnings are collected
 * instead of written to stderr.
 */
#include "libopts.h"

#include "fmt.h"
#include "log.h"
#include "options.h"
#include "prim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
  char *const *env;
  bool secure;
  mlt_libopts_t *out;
} mlt_lo;

/* ---- what options.c needs from the library ------------------------------- */

int ml_prim_env_foreach(const char *prefix, ml_prim_env_fn fn, void *arg) {
  size_t plen = strlen(prefix);
  int n = 0;

  if (mlt_lo.env == NULL) return -1;
  for (char *const *e = mlt_lo.env; *e != NULL; e++) {
    const char *eq;
    if (strncmp(*e, prefix, plen) != 0 || (eq = strchr(*e, '=')) == NULL) continue;
    fn(*e, (size_t)(eq - *e), eq + 1, arg);
    n++;
  }
  return n;
}

bool ml_prim_is_secure(void) { return mlt_lo.secure; }

void ml_vlog(ml_log_level_t level, const char *fmt, va_list ap) {
  mlt_libopts_t *o = mlt_lo.out;
  if (o == NULL || level == ML_LOG_INFO) return;
  size_t len = strlen(o->warnings);
  if (len + 2 >= sizeof o->warnings) return;
  vsnprintf(o->warnings + len, sizeof o->warnings - len - 1, fmt, ap);
  len = strlen(o->warnings);
  o->warnings[len] = '\n';
  o->warnings[len + 1] = '\0';
}

void ml_log(ml_log_level_t level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ml_vlog(level, fmt, ap);
  va_end(ap);
}

void ml_log_set_max(long max) { (void)max; }

void ml_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "memledger: assertion failed: %s (%s:%d)\n", expr, file, line);
  abort();
}

/* ---- the command's side --------------------------------------------------- */

void mlt_libopts_load(char *const *env, bool secure, mlt_libopts_t *out) {
  memset(out, 0, sizeof *out);
  mlt_lo.env = env;
  mlt_lo.secure = secure;
  mlt_lo.out = out;
  ml_options_reset();
  (void)ml_options_load();
  out->enabled = ml_option_get(ML_OPT_ENABLED) != 0;
  out->secure_off = !ml_options_dir_trusted();
  out->signal = (int)ml_option_get(ML_OPT_SIGNAL);
  out->trace_pid = ml_option_get(ML_OPT_TRACE_PID);
  out->min_size_set = ml_option_state(ML_OPT_MIN_SIZE) == ML_OPT_SET;
  snprintf(out->dir, sizeof out->dir, "%s", ml_option_str(ML_OPT_DIR));
  mlt_lo.out = NULL;
  mlt_lo.env = NULL;
}

int mlt_parse_signal(const char *value) {
  long long sig;
  const ml_opt_desc_t *d = &ml_opt_desc[ML_OPT_SIGNAL];
  return ml_parse_signal(value, d->min, d->max, &sig) < 0 ? -1 : (int)sig;
}

/* SPDX-License-Identifier: MIT */
/*
 * report_jeprof.c - `memledger report --format jeprof`: the legacy text heap
 * profile that jeprof (libjemalloc-dev), google-pprof (gperftools) and
 * `go tool pprof` read (doc/report-formats.md).
 *
 * Runs in the memledger command (stdio only, no allocation).  Symbolization
 * is left to those tools: the profile carries raw addresses and a
 * /proc/self/maps-style module map built from the dump's [modules].
 */
#include "report.h"

#include <inttypes.h>
#include <string.h>

#include "report_priv.h"

/* jeprof and google-pprof (ReadHeapProfile) accept this header; the
 * "heapprofile" type tells them the counts are not sampled (no scaling).
 * The second pair is the allocated objects/space; a dump has no per-stack
 * allocation totals, so it repeats the in-use pair. */
static int write_header(FILE *out, uint64_t blocks, uint64_t bytes) {
  return fprintf(out, "heap profile: %6" PRIu64 ": %8" PRIu64 " [%6" PRIu64 ": %8" PRIu64
                      "] @ heapprofile\n",
                 blocks, bytes, blocks, bytes);
}

/* One line per stack.  The readers subtract 1 from every address but the
 * first (FixCallerAddresses: the first is a sampled pc in their own
 * profiles); ours are all return addresses, so the first is written as
 * address - 1 to land on the call instruction like the others. */
static int write_stack(FILE *out, const mlr_stack_t *s) {
  if (fprintf(out, "%6" PRIu64 ": %8" PRIu64 " [%6" PRIu64 ": %8" PRIu64 "] @", s->blocks,
              s->bytes, s->blocks, s->bytes) < 0)
    return -1;
  if (s->nraw == 0) // no frames: the readers drop a line without any address
    return fputs(" 0x0000000000000000\n", out) < 0 ? -1 : 0;
  for (size_t i = 0; i < s->nraw; i++) {
    uint64_t a = s->raw[i] - (i == 0 && s->raw[i] ? 1 : 0);
    if (fprintf(out, " 0x%016" PRIx64, a) < 0) return -1;
  }
  return fputc('\n', out) == EOF ? -1 : 0;
}

/* /proc/self/maps lines for the module map.  lo-hi covers every PT_LOAD
 * segment of the object, and offset 0 maps lo to the file's first segment
 * (file offset 0); jeprof then adds .text's vma - file offset itself
 * (ParseLibraries), which gives pc - load bias for PIE, shared objects and
 * fixed-address executables alike.  The readers take the path as one word,
 * so objects whose path has a blank (and the vDSO, which is no file) are
 * left out: their frames stay unsymbolized. */
static int write_maps(FILE *out, const mlr_dump_t *d) {
  if (fputs("\nMAPPED_LIBRARIES:\n", out) == EOF) return -1;
  for (size_t i = 0; i < d->nmodules; i++) {
    const mlr_module_t *m = &d->modules[i];
    if (!m->path || m->path[0] != '/' || strpbrk(m->path, " \t\r\n") ||
        mlr_safe(m->path) != m->path) // control characters, not UTF-8
      continue;
    if (fprintf(out, "%08" PRIx64 "-%08" PRIx64 " r-xp 00000000 00:00 0 %s\n", m->lo, m->hi,
                m->path) < 0)
      return -1;
  }
  return 0;
}

int mlr_format_jeprof(FILE *out, const mlr_report_t *r, const mlr_format_opts_t *o,
                      mlr_err_t *err) {
  (void)o;
  // Every shown stack, whatever --top says: the profile viewers rank and
  // cut themselves, and their totals must match the header.
  if (write_header(out, r->shown_blocks, r->shown_bytes) < 0) goto io;
  for (size_t i = 0; i < r->nshown; i++)
    if (write_stack(out, r->shown[i]) < 0) goto io;
  if (write_maps(out, r->dump) < 0) goto io;
  if (fflush(out) == EOF || ferror(out)) goto io;
  return 0;
io:
  return mlr_io_error(err, "jeprof");
}

/* SPDX-License-Identifier: MIT */
/*
 * unwind_modes.h - the one list of stack-capture modes (layer: core).
 *
 * ML_UNWIND_MODES(X, SEP) expands X(ID, "name") for every mode, with SEP
 * between two entries, in MEMLEDGER_UNWIND's index order: the enum
 * (unwind.h), the option's accepted values (options.def) and the names
 * printed in dumps (ml_unwind_mode_name) all come from here.  Append new
 * modes at the end: the indexes are part of the benchmarks' and tests'
 * expectations.  A plain macro header: no code, no state.
 */
#ifndef ML_UNWIND_MODES_H
#define ML_UNWIND_MODES_H

#define ML_UNWIND_MODES(X, SEP)                                                            \
  X(AUTO, "auto")           /* shadow stack where the thread has one, else eh */ SEP    \
  X(LIBUNWIND, "libunwind") /* nongnu libunwind's unw_backtrace, loaded privately */ SEP \
  X(FP, "fp")               /* frame pointers (-fno-omit-frame-pointer code only) */ SEP \
  X(NONE, "none")           /* no stacks */ SEP                                          \
  X(SHADOW, "shadow")       /* the -finstrument-functions shadow stack */ SEP            \
  X(EH, "eh")               /* memledger's own .eh_frame unwinder (ehframe.h) */

/* "auto|libunwind|fp|none|shadow|eh": the option's accepted values. */
#define ML_UNWIND_MODE_NAME_(id, name) name
#define ML_UNWIND_MODE_VALUES ML_UNWIND_MODES(ML_UNWIND_MODE_NAME_, "|")

#endif /* ML_UNWIND_MODES_H */

/* SPDX-License-Identifier: MIT */
/*
 * beacon.h - what `memledger dump PID` needs to know, published where the
 * command can read it (layer: output): the name of a one-page mapping of a
 * memfd, which /proc/PID/maps shows to anyone allowed to read the maps
 * (the same permission as the dump signal's checks), whatever the program
 * did to its environment or argv.  Nothing resident: the descriptor is
 * closed at once, the page is PROT_NONE and never touched.  Not for signal
 * handlers; never allocates.
 *
 * The name (at most 249 bytes, the kernel's limit for memfd names):
 *   memledger:1:track=<0|1>[:off=<why>]:sig=<n>[:want=<n>][:dir=<dir>]
 * version 1; track=0 with off=enabled|secure|trace_pid|fork|init; sig is
 * the signal memledger handles (0 = none), want the configured one when the
 * program's own handler had it first; dir the absolute dump directory with
 * '%', ':', bytes up to ' ' and from 0x7f percent-encoded (absent when it
 * does not fit or is not absolute: the command then reads the environment).
 * Shown as "/memfd:memledger:1:... (deleted)".
 */
#ifndef ML_BEACON_H
#define ML_BEACON_H

#include "internal.h"

/* Publish (or replace, at the same address) the beacon for the current
 * state.  off: why tracking is off, NULL when it is on.  Does nothing when
 * the content would be the same; a failure (memfd_create refused, old
 * kernel, seccomp) leaves the previous beacon or none, silently. */
void ml_beacon_publish(const char *off) ML_HIDDEN;
/* The same, only when there is a beacon to replace (none was made under a
 * seccomp filter inherited across exec: a fork child makes none either). */
void ml_beacon_update(const char *off) ML_HIDDEN;

#endif /* ML_BEACON_H */

/* SPDX-License-Identifier: MIT */
/* nest-guest-ifd.h - what the parts of nest-guest-ifd share (nest-guest-ifd.c says what it does). */
#ifndef NEST_GUEST_IFD_H
#define NEST_GUEST_IFD_H

#include <nest/libnest.h>
#include <stdbool.h>

extern int failures;	   /* checks failed so far: the exit status */
extern nest_client *admin; /* nestd's admin socket, opened as root before dropping */

/* One line, "ok ..." or "FAIL ..." (counted). */
void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "FAIL what: strerror(r)", and exit 1. */
void die(const char *what, int r) __attribute__((noreturn));

/* nest-guest-ifd-events.c: the iopf and viommu commands */
int cmd_iopf(nest_client *c, const char *vm);
int cmd_viommu(nest_client *c, const char *vm);

#endif

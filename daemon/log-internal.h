/* SPDX-License-Identifier: MIT */
/*
 * log-internal.h - what audit.c needs from log.c's backend; not for the rest of the daemon.
 */
#ifndef NESTD_LOG_INTERNAL_H
#define NESTD_LOG_INTERNAL_H

#include <stdbool.h>

/* An escaped VM name in audit records and audit-rate keys: 64 bytes, each as \xNN, + NUL. */
#define AUDIT_VM_MAX 260

/* True when records go to journald (log_setup() chose it). */
bool log_journal_active(void);

/*
 * Write "nestd[<pid>]: <tag>: <msg>\n" to stderr with a single write(), so that lines from
 * concurrent writers to the same pipe do not interleave. Control characters in @msg become
 * spaces: one record is always exactly one line.
 */
void log_stderr_line(const char *tag, const char *msg);

/* audit.c: write one audit record (@vm escaped, @res "ok" or an errno name), no rate limit. */
struct audit_rec;
void audit_emit(const struct audit_rec *r, const char *vm, const char *res, const char *detail);

/*
 * audit-rate.c: true if the record may be written now, false if it was folded (counted for the
 * next summary of its (VM, uid) key). May itself write the "folding" record first.
 */
bool audit_rate_admit(const struct audit_rec *r, const char *vm, const char *res);

#endif /* NESTD_LOG_INTERNAL_H */

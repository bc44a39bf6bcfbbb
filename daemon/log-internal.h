/* SPDX-License-Identifier: MIT */
/*
 * log-internal.h - what audit.c needs from log.c's backend; not for the rest of the daemon.
 */
#ifndef NESTD_LOG_INTERNAL_H
#define NESTD_LOG_INTERNAL_H

#include <stdbool.h>

/* True when records go to journald (log_setup() chose it). */
bool log_journal_active(void);

/*
 * Write "nestd[<pid>]: <tag>: <msg>\n" to stderr with a single write(), so that lines from
 * concurrent writers to the same pipe do not interleave. Control characters in @msg become
 * spaces: one record is always exactly one line.
 */
void log_stderr_line(const char *tag, const char *msg);

#endif /* NESTD_LOG_INTERNAL_H */

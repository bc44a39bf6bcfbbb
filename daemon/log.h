/* SPDX-License-Identifier: MIT */
/*
 * log.h - nestd logging and the audit trail.
 *
 * Backend: journald (sd_journal_send) when stderr is connected to the journal ($JOURNAL_STREAM
 * matches stderr's dev:ino) or when NESTD_LOG=journal; otherwise stderr, one line per record,
 * "nestd[<pid>]: <level>: message key=value ...". Client-supplied strings must go through
 * log_escape() before they reach any log.
 */
#ifndef NESTD_LOG_H
#define NESTD_LOG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

void log_setup(void);		    /* choose the backend */
const char *log_backend_name(void); /* "journal" or "stderr" (after log_setup()) */
void log_set_level(int level);	    /* syslog priority LOG_ERR..LOG_DEBUG */
int log_get_level(void);
int log_level_parse(const char *s); /* "debug"/"info"/"notice"/"warning"/"err" -> LOG_*, -EINVAL */
const char *log_level_name(int level);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs "<msg>: <strerror(err)>" and returns -abs(err), for `return log_errno(LOG_ERR, r, ...)`. */
int log_errno(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Escape an untrusted string for logs: printable ASCII kept (except '\\' and '"'), everything
 * else as \xNN, truncated to @cap-1 bytes (with "..." when cut). Always NUL-terminates.
 */
char *log_escape(const char *in, size_t in_len, char *out, size_t cap);

/*
 * One audit record per privileged change, logged once at LOG_NOTICE with the journald fields
 * NEST_VM, NEST_UID, NEST_PID, NEST_PASID (omitted when pasid < 0), NEST_OP, NEST_RESULT
 * ("ok" or the errno name) and a MESSAGE; on stderr the same as key=value pairs.
 * @vm is a config name (trusted); @detail is formatted by nestd (escape client strings first).
 * Audit records are never dropped by the level filter (log_set_level() only affects log_msg()).
 * On the journal they carry MESSAGE_ID=NESTD_AUDIT_MESSAGE_ID, so
 * `journalctl MESSAGE_ID=56b59e8b8c95499aba230f1c380bf48f` lists the whole audit trail.
 */
#define NESTD_AUDIT_MESSAGE_ID "56b59e8b8c95499aba230f1c380bf48f"
struct audit_rec {
	const char *vm;
	uid_t uid;
	pid_t pid;
	int64_t pasid;	/* -1: none */
	const char *op; /* "attach", "detach", "mem-add", "mem-remove", "device-get", "pasid-alloc",
			   "pasid-free", "bind", "bind-native", "unbind", "evict", "reload",
			   "teardown", "hold", "log-level", "page-response", "viommu-alloc",
			   "viommu-free", "vdevice-alloc", "viommu-attach", "viommu-detach";
			   written by nestd itself: "audit-fold", "audit-summary" */
	int result;	/* 0 or -errno */
};
void audit_log(const struct audit_rec *r, const char *detail_fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "s" unless @n is 1: "%u VM%s", n, plural_s(n) in messages meant for people. */
static inline const char *plural_s(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

/*
 * Audit rate limit (audit-rate.c): per (VM, uid) a token bucket of @burst records refilled at
 * @rate per second; past it records are folded into one "audit-summary" record every
 * @summary_sec with exact counts per op and result, and one "audit-fold" record says when
 * folding starts and stops. @rate 0 (the default until set): never fold. audit_rate_tick():
 * write the summaries that are due (call about once a second). audit_rate_flush(): write every
 * pending summary now (shutdown). audit_rate_folded(): records folded so far.
 * audit_rate_folding(): whether any key is folding (only then is a tick needed);
 * audit_rate_on_fold(): @fn(@arg) runs whenever a record is folded (nestd arms its tick then if
 * it is not armed, so that an idle nestd has no timer and its epoll_wait() no timeout);
 * audit_rate_on_fold_release(): forget the callback if @arg is the one registered.
 */
void audit_rate_set(uint32_t rate, uint32_t burst, uint32_t summary_sec);
void audit_rate_tick(void);
bool audit_rate_folding(void);
void audit_rate_on_fold(void (*fn)(void *arg), void *arg);
void audit_rate_on_fold_release(void *arg);
void audit_rate_flush(void);
uint64_t audit_rate_folded(void);
/* Keys compared or scanned while looking records' (VM, uid) keys up, since start: for tests. */
uint64_t audit_rate_probes(void);

#endif /* NESTD_LOG_H */

/* SPDX-License-Identifier: MIT */
/*
 * audit.c - the audit trail: one structured record per privileged change; see log.h.
 */
#define SD_JOURNAL_SUPPRESS_LOCATION

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "log-internal.h"
#include "log.h"

#define AUDIT_MSG_MAX	 2048
#define AUDIT_FIELDS_MAX 12

/* "ok", or the symbolic errno name ("ENOENT"), or "errno-<n>" for a number glibc does not know. */
static const char *audit_result_name(int result, char *buf, size_t len)
{
	const char *s;

	if (result == 0)
		return "ok";
	s = strerrorname_np(result < 0 ? -result : result);
	if (s)
		return s;
	snprintf(buf, len, "errno-%d", result < 0 ? -result : result);
	return buf;
}

/* Append "NAME=value" to @iov (a bounded table; every field below has its own buffer). */
static void audit_field(struct iovec *iov, size_t *n, char *buf, size_t len, const char *name,
			const char *value)
{
	int k = snprintf(buf, len, "%s=%s", name, value);

	if (k < 0 || *n >= AUDIT_FIELDS_MAX)
		return;
	iov[*n].iov_base = buf;
	iov[*n].iov_len = (size_t)k < len ? (size_t)k : len - 1;
	(*n)++;
}

static void audit_journal(const struct audit_rec *r, const char *vm, const char *res,
			  const char *msg)
{
	char f_msg[AUDIT_MSG_MAX + 16], f_vm[AUDIT_VM_MAX + 16], f_uid[32], f_pid[32], f_pasid[40],
		f_op[48], f_res[48], f_id[64], f_prio[16], f_ident[32];
	char num[24];
	struct iovec iov[AUDIT_FIELDS_MAX];
	size_t n = 0;

	audit_field(iov, &n, f_msg, sizeof(f_msg), "MESSAGE", msg);
	audit_field(iov, &n, f_id, sizeof(f_id), "MESSAGE_ID", NESTD_AUDIT_MESSAGE_ID);
	audit_field(iov, &n, f_prio, sizeof(f_prio), "PRIORITY", "5"); /* LOG_NOTICE */
	audit_field(iov, &n, f_ident, sizeof(f_ident), "SYSLOG_IDENTIFIER", "nestd");
	audit_field(iov, &n, f_vm, sizeof(f_vm), "NEST_VM", vm);
	snprintf(num, sizeof(num), "%u", (unsigned)r->uid);
	audit_field(iov, &n, f_uid, sizeof(f_uid), "NEST_UID", num);
	snprintf(num, sizeof(num), "%d", (int)r->pid);
	audit_field(iov, &n, f_pid, sizeof(f_pid), "NEST_PID", num);
	if (r->pasid >= 0) {
		snprintf(num, sizeof(num), "%" PRId64, r->pasid);
		audit_field(iov, &n, f_pasid, sizeof(f_pasid), "NEST_PASID", num);
	}
	audit_field(iov, &n, f_op, sizeof(f_op), "NEST_OP", r->op ? r->op : "?");
	audit_field(iov, &n, f_res, sizeof(f_res), "NEST_RESULT", res);
	sd_journal_sendv(iov, (int)n);
}

void audit_emit(const struct audit_rec *r, const char *vm, const char *res, const char *detail)
{
	char msg[AUDIT_MSG_MAX], pasid[32] = "";

	if (r->pasid >= 0)
		snprintf(pasid, sizeof(pasid), " pasid=%" PRId64, r->pasid);
	snprintf(msg, sizeof(msg), "op=%s vm=%s uid=%u pid=%d%s result=%s%s%s", r->op ? r->op : "?",
		 vm, (unsigned)r->uid, (int)r->pid, pasid, res, detail[0] ? " " : "", detail);

	if (log_journal_active()) {
		char jmsg[AUDIT_MSG_MAX + 8];

		snprintf(jmsg, sizeof(jmsg), "audit: %s", msg);
		audit_journal(r, vm, res, jmsg);
	} else {
		log_stderr_line("audit", msg);
	}
}

void audit_log(const struct audit_rec *r, const char *detail_fmt, ...)
{
	char vm[AUDIT_VM_MAX], detail[AUDIT_MSG_MAX / 2], resbuf[24];
	const char *res;
	int saved = errno;
	va_list ap;

	/*
	 * The VM name is normally a config name, but a refused attach names whatever the client
	 * asked for: escape it unconditionally (a no-op for valid names).
	 */
	log_escape(r->vm ? r->vm : "-", r->vm ? strlen(r->vm) : 1, vm, sizeof(vm));
	res = audit_result_name(r->result, resbuf, sizeof(resbuf));
	/* a folded record only counts in its key's next summary: its text is never formatted */
	if (!audit_rate_admit(r, vm, res)) {
		errno = saved;
		return;
	}
	detail[0] = '\0';
	if (detail_fmt) {
		va_start(ap, detail_fmt);
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
		va_end(ap);
	}
	audit_emit(r, vm, res, detail);
	errno = saved;
}

/* SPDX-License-Identifier: MIT */
/*
 * log.c - nestd logging: level filter, journald or stderr backend, log_escape(); see log.h.
 */
#define SD_JOURNAL_SUPPRESS_LOCATION /* CODE_FILE would always say log.c: useless */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log-internal.h"
#include "log.h"

#define LOG_LINE_MAX 4096 /* a longer record is cut; nestd never needs more */

/*
 * The one piece of mutable global state outside main.c (STYLE.md R17 allows no other): the
 * logger is called from every layer of the daemon, including places that have no daemon
 * context at hand (config parsing at start-up, signal-driven reload, teardown after the
 * context is gone). Threading a logger handle through all of them would buy nothing: there is
 * exactly one process-wide stderr and one journal. The daemon is single-threaded, so plain
 * fields suffice.
 */
static struct {
	int level;    /* records above this syslog priority are dropped */
	bool journal; /* sd_journal_send() instead of stderr */
} log_state = {
	.level = LOG_INFO,
	.journal = false,
};

static const char *const log_level_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",	  [LOG_CRIT] = "crit",
	[LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

/* systemd.exec(5): $JOURNAL_STREAM is "<dev>:<ino>" of the stream stdout/stderr are hooked to. */
static bool log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || e[n] != '\0')
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(void)
{
	const char *e = getenv("NESTD_LOG");

	if (e && strcmp(e, "journal") == 0)
		log_state.journal = true;
	else if (e && strcmp(e, "stderr") == 0)
		log_state.journal = false;
	else
		log_state.journal = log_stderr_is_journal();
}

const char *log_backend_name(void)
{
	return log_state.journal ? "journal" : "stderr";
}

bool log_journal_active(void)
{
	return log_state.journal;
}

void log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_state.level = level;
}

int log_get_level(void)
{
	return log_state.level;
}

int log_level_parse(const char *s)
{
	if (!s)
		return -EINVAL;
	for (int l = LOG_ERR; l <= LOG_DEBUG; l++)
		if (strcmp(s, log_level_names[l]) == 0)
			return l;
	return -EINVAL;
}

const char *log_level_name(int level)
{
	if (level < LOG_EMERG || level > LOG_DEBUG)
		return "unknown";
	return log_level_names[level];
}

void log_stderr_line(const char *tag, const char *msg)
{
	char line[LOG_LINE_MAX + 64];
	size_t len, off = 0;
	int n;

	n = snprintf(line, sizeof(line) - 1, "nestd[%d]: %s: ", (int)getpid(), tag);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	for (const char *p = msg; *p && len < sizeof(line) - 1; p++)
		line[len++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? ' ' : *p;
	line[len++] = '\n';

	while (off < len) {
		ssize_t w = write(STDERR_FILENO, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to complain to */
		off += (size_t)w;
	}
}

static void log_emit(int level, const char *msg)
{
	if (log_state.journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level, "SYSLOG_IDENTIFIER=nestd",
				NULL);
	else
		log_stderr_line(log_level_name(level), msg);
}

void log_msg(int level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	int saved = errno; /* logging never clobbers errno, so "%m" and callers keep working */
	va_list ap;

	if (level > log_state.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit(level, msg);
	errno = saved;
}

int log_errno(int level, int err, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	int saved = errno;
	va_list ap;
	size_t n;

	err = err < 0 ? -err : err;
	if (level <= log_state.level) {
		errno = err; /* lets @fmt use %m too */
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
		log_emit(level, msg);
	}
	errno = saved;
	return -err;
}

static bool log_escape_plain(unsigned char ch)
{
	return ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '"';
}

char *log_escape(const char *in, size_t in_len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, room, limit, total = 0, i;

	if (cap == 0)
		return out;
	if (!in)
		in_len = 0;
	room = cap - 1;
	/* The whole encoding fits: no cut. Otherwise stop early enough to append "...". */
	for (i = 0; i < in_len && total <= room; i++)
		total += log_escape_plain((unsigned char)in[i]) ? 1 : 4;
	limit = total <= room ? room : (room >= 3 ? room - 3 : 0);

	for (i = 0; i < in_len; i++) {
		unsigned char ch = (unsigned char)in[i];
		bool plain = log_escape_plain(ch);

		if (o + (plain ? 1 : 4) > limit)
			break; /* never split an escape sequence */
		if (plain) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 0xf];
		}
	}
	if (i < in_len) /* cut: as much of "..." as fits */
		for (int d = 0; d < 3 && o < room; d++)
			out[o++] = '.';
	out[o] = '\0';
	return out;
}

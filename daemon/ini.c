/* SPDX-License-Identifier: MIT */
/*
 * ini.c - systemd-style INI tokenizer; see ini.h. Everything it reads is untrusted: sizes are
 * capped before anything is allocated and every line is copied into a bounded buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ini.h"

static bool ini_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Trim @s in place (it is NUL-terminated); returns the first non-space character. */
static char *ini_strip(char *s)
{
	size_t n;

	while (ini_is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && ini_is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int ini_line(const char *name, unsigned lineno, char *line, const struct ini_handler *h,
		    void *userdata, char *err, size_t errlen)
{
	char *s = ini_strip(line), *eq, *key, *value;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;

	if (*s == '[') {
		size_t n = strlen(s);
		char *sec;

		if (s[n - 1] != ']' || n < 3) {
			snprintf(err, errlen,
				 "%s:%u: malformed section header (expected [Section])", name,
				 lineno);
			return -EINVAL;
		}
		s[n - 1] = '\0';
		sec = ini_strip(s + 1);
		if (*sec == '\0' || strpbrk(sec, "[]")) {
			snprintf(err, errlen,
				 "%s:%u: malformed section header (expected [Section])", name,
				 lineno);
			return -EINVAL;
		}
		return h->section(userdata, name, lineno, sec);
	}

	eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errlen, "%s:%u: expected [Section] or Key=value", name, lineno);
		return -EINVAL;
	}
	*eq = '\0';
	key = ini_strip(s);
	value = ini_strip(eq + 1);
	if (*key == '\0') {
		snprintf(err, errlen, "%s:%u: missing key before '='", name, lineno);
		return -EINVAL;
	}
	return h->assign(userdata, name, lineno, key, value);
}

int ini_parse_buffer(const char *name, const char *buf, size_t len, const struct ini_handler *h,
		     void *userdata, char *err, size_t errlen)
{
	char line[INI_LINE_MAX + 1];
	size_t pos = 0;
	unsigned lineno = 0;
	int r;

	if (len > INI_FILE_MAX) {
		snprintf(err, errlen, "%s: file too large (more than %u bytes)", name,
			 INI_FILE_MAX);
		return -EFBIG;
	}
	/* A UTF-8 byte order mark from a Windows editor is harmless; skip it. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		lineno++;
		if (n > INI_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line too long (more than %u bytes)", name,
				 lineno, INI_LINE_MAX);
			return -EINVAL;
		}
		if (memchr(buf + pos, '\0', n)) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", name, lineno);
			return -EINVAL;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		r = ini_line(name, lineno, line, h, userdata, err, errlen);
		if (r < 0)
			return r;
		pos += n + 1;
	}
	return 0;
}

/* Read all of @fd into a new buffer, failing with -EFBIG beyond INI_FILE_MAX bytes. */
static int ini_read_fd(int fd, char **ret_buf, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nbuf;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > INI_FILE_MAX) { /* one byte past the limit was read */
				free(buf);
				return -EFBIG;
			}
			cap = cap * 2 > INI_FILE_MAX ? INI_FILE_MAX + 1 : cap * 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > INI_FILE_MAX) {
		free(buf);
		return -EFBIG;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int ini_parse_file(const char *path, const struct ini_handler *h, void *userdata, char *err,
		   size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	r = ini_read_fd(fd, &buf, &len);
	if (r == -EFBIG)
		snprintf(err, errlen, "%s: file too large (more than %u bytes)", path,
			 INI_FILE_MAX);
	else if (r < 0)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-r));
	else
		r = ini_parse_buffer(path, buf, len, h, userdata, err, errlen);
out:
	free(buf);
	close(fd);
	return r;
}

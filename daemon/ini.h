/* SPDX-License-Identifier: MIT */
/*
 * ini.h - tokenizer for systemd-style INI files (private to config.c).
 *
 * It knows only the syntax: "[Section]" headers, "Key=value" assignments, '#' and ';' comment
 * lines, blank lines. It enforces the size limits (INI_FILE_MAX bytes per file, INI_LINE_MAX
 * bytes per line) and hands every header and assignment to a callback; what the sections and
 * keys mean is config.c's business. No line continuations and no quoting, on purpose: values are
 * taken verbatim between the first '=' and the end of the line, whitespace-trimmed.
 */
#ifndef NESTD_INI_H
#define NESTD_INI_H

#include <stddef.h>

#define INI_FILE_MAX (1024u * 1024) /* bytes per file */
#define INI_LINE_MAX 4096u	    /* bytes per line, without the newline */

struct ini_handler {
	/* "[name]" at @line; @name is trimmed and non-empty. */
	int (*section)(void *userdata, const char *file, unsigned line, const char *name);
	/* "key=value" at @line; @key is non-empty, @value may be "" (a reset). */
	int (*assign)(void *userdata, const char *file, unsigned line, const char *key,
		      const char *value);
};

/*
 * ini_parse_buffer() - tokenize @len bytes of @buf, reporting errors as "@name:<line>: ...".
 * Callbacks return 0 or -errno (and then have written @err themselves); the first error stops
 * the parse and is returned. Syntax errors return -EINVAL.
 */
int ini_parse_buffer(const char *name, const char *buf, size_t len, const struct ini_handler *h,
		     void *userdata, char *err, size_t errlen);

/* ini_parse_file() - read @path (regular file, <= INI_FILE_MAX) and ini_parse_buffer() it. */
int ini_parse_file(const char *path, const struct ini_handler *h, void *userdata, char *err,
		   size_t errlen);

#endif /* NESTD_INI_H */

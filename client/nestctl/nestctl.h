/* SPDX-License-Identifier: MIT */
/*
 * nestctl.h - shared declarations of the nestctl operator CLI.
 */
#ifndef NESTCTL_H
#define NESTCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <nest/libnest.h>

/* Exit codes, documented in nestctl(1) EXIT STATUS. */
enum {
	NESTCTL_EXIT_OK = 0,
	NESTCTL_EXIT_FAILURE = 1,
	NESTCTL_EXIT_USAGE = 2,
	NESTCTL_EXIT_NOT_FOUND = 3, /* nestd not running, or the named object does not exist */
	NESTCTL_EXIT_PERM = 4,
};

enum nestctl_json {
	NESTCTL_JSON_OFF = 0,
	NESTCTL_JSON_PRETTY,
	NESTCTL_JSON_SHORT,
};

struct nestctl {
	const char *socket;
	enum nestctl_json json;
	bool legend;
	bool quiet;
	nest_client *client; /* connected lazily by nestctl_call() */
	char cmd_name[64];   /* the command in the CLI's words ("vm show"), for messages */
};

/* A command: "noun verb" (verb NULL for one-word commands). Returns an exit code. */
struct nestctl_cmd {
	const char *noun;
	const char *verb;
	const char *usage; /* arguments, for --help */
	int (*fn)(struct nestctl *ctl, int argc, char **argv);
};

extern const struct nestctl_cmd nestctl_cmds_daemon[];
extern const struct nestctl_cmd nestctl_cmds_vm[];
extern const struct nestctl_cmd nestctl_cmds_sim[];

/*
 * nestctl_call() - send {"command": @command, "args": @args} (@args consumed, may be NULL) and
 * parse the result into *ret (a new reference). On failure prints the error on stderr and
 * returns the exit code to use (> 0); 0 on success.
 */
int nestctl_call(struct nestctl *ctl, const char *command, json_object *args, json_object **ret);

/* Print @result as JSON per ctl->json (unless quiet). */
void nestctl_print_json(const struct nestctl *ctl, json_object *result);

/* Usage error: prints "nestctl: <msg>" and a hint, returns NESTCTL_EXIT_USAGE. */
int nestctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Other error: prints "nestctl: <msg>", returns @code. */
int nestctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A command without options takes @min..@max positional arguments: 0, or a precise usage error
 * naming the unknown option or the unexpected argument (exit code 2). */
int nestctl_check_args(int argc, char **argv, int min, int max, const char *what);

/* Parse an unsigned number (decimal, 0x hex or 0 octal) within [0, max]. 0 or -EINVAL. */
int nestctl_parse_u64(const char *s, uint64_t max, uint64_t *ret);

/* Accessors that tolerate missing keys and wrong types (human output only; JSON is passed through). */
const char *nestctl_str(json_object *o, const char *key, const char *def);
int64_t nestctl_int(json_object *o, const char *key, int64_t def);
bool nestctl_bool(json_object *o, const char *key);
/* "int" or "-" for null/missing, into @buf. */
const char *nestctl_int_or_dash(json_object *o, const char *key, char *buf, size_t cap);
/* A byte count as "16.0M" etc. (value may be an int or a "0x.." string). */
const char *nestctl_bytes(json_object *o, const char *key, char *buf, size_t cap);

/* ---- table.c ---- */
struct nestctl_table;

struct nestctl_table *nestctl_table_new(const char *const *headers, size_t ncols);
/* Right-align column @col (numbers). */
void nestctl_table_align_right(struct nestctl_table *t, size_t col);
/* Append a row of exactly ncols cells (copied). 0 or -ENOMEM. */
int nestctl_table_add(struct nestctl_table *t, const char *const *cells);
size_t nestctl_table_rows(const struct nestctl_table *t);
/* Print with a header line (if @legend) and the rows, aligned. */
void nestctl_table_print(const struct nestctl_table *t, bool legend);
struct nestctl_table *nestctl_table_free(struct nestctl_table *t);

/* Print "\n<n> <singular|plural> listed." when legend is on. */
void nestctl_footer(const struct nestctl *ctl, size_t n, const char *singular, const char *plural);

#endif /* NESTCTL_H */

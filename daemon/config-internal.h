/* SPDX-License-Identifier: MIT */
/*
 * config-internal.h - shared between config.c (files, sections, global keys, dump),
 * config-vm.c ([VM] sections) and config-value.c (strict value parsers). Not for other users.
 */
#ifndef NESTD_CONFIG_INTERNAL_H
#define NESTD_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"

#define CFG_ESC_MAX 160 /* bytes of an offending value echoed in an error message */

enum cfg_section {
	CFG_SEC_NONE = 0, /* before the first header of a file */
	CFG_SEC_DAEMON,
	CFG_SEC_LIMITS,
	CFG_SEC_SIM,
	CFG_SEC_VM,
	CFG_SEC_MAX,
};

/* Parse state of one nestd_config_load() call. */
struct cfg_parser {
	struct nestd_config *c;
	const char *file; /* file being parsed (valid while it is) */
	unsigned line;	  /* line being parsed */
	enum cfg_section sec;
	struct nestd_vm_cfg *vm; /* [VM] being built (owned), NULL outside [VM] */
	unsigned vm_line;	 /* line of its [VM] header, in ->file */
	char *err;
	size_t errlen;
	char esc[CFG_ESC_MAX]; /* scratch for cfg_esc() */
	/* Where Socket=/AdminSocket= were last set, for the "must differ" check at the end. */
	char sock_file[256];
	unsigned sock_line;
	const char *sock_key;
};

/* A numeric key: stored as uint32_t at @off in the section's struct. */
struct cfg_num_key {
	enum cfg_section sec;
	const char *key;
	size_t off;
	uint32_t min, max, def;
};

/* Writes "<file>:<line>: <key>: <what>" into p->err; returns -EINVAL. */
int cfg_error(struct cfg_parser *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* @v escaped for an error message (in p->esc; valid until the next call). */
const char *cfg_esc(struct cfg_parser *p, const char *v);

/* Strict value parsers; on a bad value they write the error and return -EINVAL. */
int cfg_parse_u32(struct cfg_parser *p, const char *key, const char *v, uint32_t min, uint32_t max,
		  uint32_t *ret);
int cfg_parse_size(struct cfg_parser *p, const char *key, const char *v, uint64_t min, uint64_t max,
		   uint64_t *ret);
int cfg_parse_bool(struct cfg_parser *p, const char *key, const char *v, bool *ret);
int cfg_parse_mode(struct cfg_parser *p, const char *key, const char *v, uint32_t *ret);
int cfg_parse_path(struct cfg_parser *p, const char *key, const char *v, char *dst, size_t len);
int cfg_parse_uid(struct cfg_parser *p, const char *key, const char *v, uid_t *ret);
int cfg_parse_gid(struct cfg_parser *p, const char *key, const char *v, gid_t *ret);
/* Number (0..2^32-2) or a name of [A-Za-z0-9_.-], at most @max-1 bytes. */
bool cfg_valid_account(const char *v, size_t max);

/* True if @s is 1..@max-1 characters from [A-Za-z0-9] plus @extra. */
bool cfg_valid_name(const char *s, size_t max, const char *extra);

/* "64G" style if @v is an exact multiple of a binary unit, else plain bytes. */
void cfg_format_size(uint64_t v, char *buf, size_t len);

int cfg_num_assign(struct cfg_parser *p, const struct cfg_num_key *k, void *base, const char *v);

/* config-vm.c */
int cfg_vm_begin(struct cfg_parser *p);
int cfg_vm_assign(struct cfg_parser *p, const char *key, const char *value);
int cfg_vm_end(struct cfg_parser *p);
void cfg_vm_defaults(struct nestd_vm_cfg *vm);
void cfg_vm_dump(const struct nestd_vm_cfg *vm, FILE *f);

#endif /* NESTD_CONFIG_INTERNAL_H */

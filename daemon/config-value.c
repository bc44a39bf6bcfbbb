/* SPDX-License-Identifier: MIT */
/*
 * config-value.c - strict parsers for config values. A value is accepted only when all of it
 * parses: no signs, no trailing junk, no silent wrap-around, no locale surprises.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config-internal.h"
#include "log.h"

#define CFG_NSS_BUF_MAX (1024u * 1024) /* getpwnam_r()/getgrnam_r() buffer cap */

int cfg_error(struct cfg_parser *p, const char *key, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;
	int k;

	if (key)
		k = snprintf(p->err, p->errlen, "%s:%u: %s: ", p->file, p->line, key);
	else
		k = snprintf(p->err, p->errlen, "%s:%u: ", p->file, p->line);
	if (k > 0)
		n = (size_t)k < p->errlen ? (size_t)k : p->errlen;
	if (n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *cfg_esc(struct cfg_parser *p, const char *v)
{
	return log_escape(v, strlen(v), p->esc, sizeof(p->esc));
}

bool cfg_valid_name(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	for (const char *q = s; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || strchr(extra, *q)))
			return false;
	return true;
}

/* Decimal digits only; -ERANGE beyond UINT64_MAX, -EINVAL for anything else. */
static int cfg_strtou64(const char *v, uint64_t *ret)
{
	unsigned long long x;
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end != '\0')
		return -EINVAL;
	*ret = x;
	return 0;
}

int cfg_parse_u32(struct cfg_parser *p, const char *key, const char *v, uint32_t min, uint32_t max,
		  uint32_t *ret)
{
	uint64_t x;
	int r = cfg_strtou64(v, &x);

	if (r == -EINVAL)
		return cfg_error(p, key, "'%s' is not a number", cfg_esc(p, v));
	if (r < 0 || x < min || x > max)
		return cfg_error(p, key, "'%s' is out of range (%u..%u)", cfg_esc(p, v), min, max);
	*ret = (uint32_t)x;
	return 0;
}

int cfg_parse_size(struct cfg_parser *p, const char *key, const char *v, uint64_t min, uint64_t max,
		   uint64_t *ret)
{
	static const char units[] = "KMGT";
	char num[32], buf[32];
	size_t n = strlen(v);
	const char *digits = v, *u = NULL;
	uint64_t x;
	int r, shift = 0;

	if (n > 0 && v[n - 1] && strchr("KMGTkmgt", v[n - 1]))
		u = strchr(units, v[n - 1] & ~0x20);
	if (u && n < sizeof(num)) {
		shift = 10 * (int)(u - units + 1);
		memcpy(num, v, n - 1);
		num[n - 1] = '\0';
		digits = num;
	}
	r = n < sizeof(num) ? cfg_strtou64(digits, &x) : -EINVAL;
	if (r == -EINVAL)
		return cfg_error(p, key, "'%s' is not a size (bytes, or a number with K, M, G, T)",
				 cfg_esc(p, v));
	if (r == 0 && shift && x > (UINT64_MAX >> shift))
		r = -ERANGE;
	if (r == 0)
		x <<= shift;
	if (r < 0 || x < min || x > max) {
		cfg_format_size(min, num, sizeof(num));
		cfg_format_size(max, buf, sizeof(buf));
		return cfg_error(p, key, "'%s' is out of range (%s..%s)", cfg_esc(p, v), num, buf);
	}
	*ret = x;
	return 0;
}

void cfg_format_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "TGMK";

	for (int i = 0; i < 4; i++) {
		int shift = 10 * (4 - i);

		if (v && (v & ((UINT64_C(1) << shift) - 1)) == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(v >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

int cfg_parse_bool(struct cfg_parser *p, const char *key, const char *v, bool *ret)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return cfg_error(p, key, "'%s' is not a boolean (yes/no, true/false, on/off, 1/0)",
			 cfg_esc(p, v));
}

int cfg_parse_mode(struct cfg_parser *p, const char *key, const char *v, uint32_t *ret)
{
	size_t n = strlen(v);
	uint32_t m = 0;

	if (n == 0 || n > 4 || strspn(v, "01234567") != n)
		return cfg_error(p, key, "'%s' is not an octal mode (like 0660)", cfg_esc(p, v));
	for (size_t i = 0; i < n; i++)
		m = m * 8 + (uint32_t)(v[i] - '0');
	if (m > 0777)
		return cfg_error(p, key, "'%s' is out of range (0000..0777)", cfg_esc(p, v));
	*ret = m;
	return 0;
}

int cfg_parse_path(struct cfg_parser *p, const char *key, const char *v, char *dst, size_t len)
{
	size_t n = strlen(v);

	if (v[0] != '/')
		return cfg_error(p, key, "'%s' is not an absolute path", cfg_esc(p, v));
	if (n >= len)
		return cfg_error(p, key, "path is too long (max %zu bytes)", len - 1);
	for (const char *q = v; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return cfg_error(p, key, "path contains control characters");
	memcpy(dst, v, n + 1);
	return 0;
}

bool cfg_valid_account(const char *v, size_t max)
{
	/* The portable user/group name set (POSIX + '_' + '-' not first); or a plain number. */
	return v[0] != '-' && cfg_valid_name(v, max, "_.-");
}

/*
 * Resolve @v as a number or a user (@user) / group name. 0 with *ret_id set, -ENOENT if no such
 * name, -EINVAL if it is neither, other -errno from NSS.
 */
static int cfg_resolve_id(const char *v, bool user, uint32_t *ret_id)
{
	size_t len = 4096;
	uint64_t x;
	int r;

	if (cfg_strtou64(v, &x) == 0)
		return x >= UINT32_MAX ? -ERANGE : (*ret_id = (uint32_t)x, 0);
	if (!cfg_valid_account(v, 64))
		return -EINVAL;
	for (;;) {
		char *buf = malloc(len);
		struct passwd pw, *pwr = NULL;
		struct group gr, *grr = NULL;

		if (!buf)
			return -ENOMEM;
		if (user)
			r = getpwnam_r(v, &pw, buf, len, &pwr);
		else
			r = getgrnam_r(v, &gr, buf, len, &grr);
		if (r == 0 && (pwr || grr))
			*ret_id = user ? (uint32_t)pw.pw_uid : (uint32_t)gr.gr_gid;
		free(buf);
		if (r == ERANGE && len < CFG_NSS_BUF_MAX) {
			len *= 2;
			continue;
		}
		if (r != 0)
			return -r;
		return (pwr || grr) ? 0 : -ENOENT;
	}
}

static int cfg_parse_id(struct cfg_parser *p, const char *key, const char *v, bool user,
			uint32_t *ret)
{
	const char *what = user ? "user" : "group";
	int r = cfg_resolve_id(v, user, ret);

	if (r == -ENOENT)
		return cfg_error(p, key, "unknown %s '%s'", what, cfg_esc(p, v));
	if (r == -ERANGE)
		return cfg_error(p, key, "'%s' is out of range (0..%u)", cfg_esc(p, v),
				 UINT32_MAX - 1);
	if (r == -EINVAL)
		return cfg_error(p, key, "'%s' is not a %s name or number", cfg_esc(p, v), what);
	if (r < 0) {
		cfg_error(p, key, "cannot look up %s '%s': %s", what, cfg_esc(p, v), strerror(-r));
		return r;
	}
	return 0;
}

int cfg_parse_uid(struct cfg_parser *p, const char *key, const char *v, uid_t *ret)
{
	uint32_t id;
	int r = cfg_parse_id(p, key, v, true, &id);

	if (r == 0)
		*ret = (uid_t)id;
	return r;
}

int cfg_parse_gid(struct cfg_parser *p, const char *key, const char *v, gid_t *ret)
{
	uint32_t id;
	int r = cfg_parse_id(p, key, v, false, &id);

	if (r == 0)
		*ret = (gid_t)id;
	return r;
}

int cfg_num_assign(struct cfg_parser *p, const struct cfg_num_key *k, void *base, const char *v)
{
	uint32_t x = k->def;
	int r = 0;

	if (*v) /* empty = back to the default */
		r = cfg_parse_u32(p, k->key, v, k->min, k->max, &x);
	if (r == 0)
		memcpy((char *)base + k->off, &x, sizeof(x));
	return r;
}

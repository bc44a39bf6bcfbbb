/* SPDX-License-Identifier: MIT */
/*
 * util.c - number parsing and tolerant JSON accessors for nestctl's human output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nestctl.h"

int nestctl_parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static json_object *nestctl_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *nestctl_str(json_object *o, const char *key, const char *def)
{
	json_object *v = nestctl_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

/* An integer, or a "0x.." string (addresses and lengths on the admin protocol). */
static bool nestctl_u64_of(json_object *v, uint64_t *ret)
{
	if (v && json_object_is_type(v, json_type_int)) {
		*ret = (uint64_t)json_object_get_int64(v);
		return true;
	}
	if (v && json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		uint64_t x;

		if (nestctl_parse_u64(s, UINT64_MAX, &x) == 0) {
			*ret = x;
			return true;
		}
	}
	return false;
}

int64_t nestctl_int(json_object *o, const char *key, int64_t def)
{
	uint64_t v;

	return nestctl_u64_of(nestctl_get(o, key), &v) ? (int64_t)v : def;
}

bool nestctl_bool(json_object *o, const char *key)
{
	json_object *v = nestctl_get(o, key);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

const char *nestctl_int_or_dash(json_object *o, const char *key, char *buf, size_t cap)
{
	uint64_t v;

	if (!nestctl_u64_of(nestctl_get(o, key), &v))
		return "-";
	snprintf(buf, cap, "%" PRIu64, v);
	return buf;
}

const char *nestctl_bytes(json_object *o, const char *key, char *buf, size_t cap)
{
	static const char units[] = "BKMGTPE";
	uint64_t v;
	double d;
	int u = 0;

	if (!nestctl_u64_of(nestctl_get(o, key), &v))
		return "-";
	if (v < 1024) {
		snprintf(buf, cap, "%" PRIu64 "B", v);
		return buf;
	}
	d = (double)v;
	while (d >= 1024 && u < 6) {
		d /= 1024;
		u++;
	}
	snprintf(buf, cap, "%.1f%c", d, units[u]);
	return buf;
}

/* Commands without options: reject anything but the expected number of positional args. */
int nestctl_check_args(int argc, char **argv, int min, int max, const char *what)
{
	if (argc - 1 > max && argv[max + 1][0] == '-' && argv[max + 1][1])
		return nestctl_usage_error("%s: unknown option '%s'", what, argv[max + 1]);
	if (argc - 1 > max)
		return max == 0 ? nestctl_usage_error("%s: takes no arguments (got '%s')", what,
						      argv[1])
				: nestctl_usage_error("%s: unexpected argument '%s'", what,
						      argv[max + 1]);
	if (argc - 1 < min)
		return nestctl_usage_error("%s: missing argument", what);
	return 0;
}

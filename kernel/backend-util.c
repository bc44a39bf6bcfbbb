/* SPDX-License-Identifier: MIT */
/*
 * backend-util.c - small helpers the backends share: the one-line failure text of last_error(),
 * growing an array by doubling, and their counters as a JSON object for "stats".
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "nest-msg.h"

int nest_be_vfail(char *buf, size_t len, int err, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, len, fmt, ap);

	if (n >= 0 && (size_t)n < len) {
		if (err == 524) /* the kernel-internal ENOTSUPP the VFIO nesting series returns */
			snprintf(buf + n, len - (size_t)n,
				 ": ENOTSUPP(524) (not supported by this "
				 "kernel)");
		else
			snprintf(buf + n, len - (size_t)n, ": %s (%s)", nest_errno_name(err),
				 strerror(err));
	}
	return -err;
}

int nest_be_grow(void **arr, unsigned *cap, unsigned n, size_t elem)
{
	unsigned ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap < *cap)
		return -ENOMEM;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int nest_be_counters_json(const struct nest_be_counter *vals, size_t n, struct json_object **ret)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_new_uint64(vals[i].value);

		if (!v || json_object_object_add(o, vals[i].name, v) < 0) {
			json_object_put(v);
			json_object_put(o);
			return -ENOMEM;
		}
	}
	*ret = o;
	return 0;
}

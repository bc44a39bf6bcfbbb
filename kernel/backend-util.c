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

static int iova_cmp(const void *x, const void *y)
{
	const struct nest_iova_range *a = x, *b = y;

	return a->start < b->start ? -1 : a->start > b->start;
}

uint32_t nest_be_iova_intersect(const struct nest_iova_range *a, uint32_t na,
				const struct nest_iova_range *b, uint32_t nb,
				struct nest_iova_range *out, uint32_t cap)
{
	struct nest_iova_range tmp[64];
	uint32_t n = 0, total = 0;

	for (uint32_t i = 0; i < na; i++)
		for (uint32_t k = 0; k < nb; k++) {
			uint64_t s = a[i].start > b[k].start ? a[i].start : b[k].start;
			uint64_t l = a[i].last < b[k].last ? a[i].last : b[k].last;

			if (s > l)
				continue;
			total++;
			if (n < sizeof(tmp) / sizeof(tmp[0]))
				tmp[n++] = (struct nest_iova_range){s, l};
		}
	qsort(tmp, n, sizeof(tmp[0]), iova_cmp);
	memcpy(out, tmp, (n < cap ? n : cap) * sizeof(tmp[0]));
	return total;
}

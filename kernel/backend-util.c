/* SPDX-License-Identifier: MIT */
/*
 * backend-util.c - small helpers the backends share: growing an array by doubling, and their
 * counters as a JSON object for "stats".
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "backend.h"

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

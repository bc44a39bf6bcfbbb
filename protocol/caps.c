/* SPDX-License-Identifier: MIT */
/*
 * caps.c - the HELLO capability document: defaults, strict parse, format, negotiation.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "nest-caps.h"
#include "nest-proto.h"

static const struct {
	uint32_t bit;
	const char *name;
} caps_features[] = {
	{NEST_FEAT_BIND_PGTBL, "bind-pgtbl"},
	{NEST_FEAT_CACHE_INVLD, "cache-invld"},
	{NEST_FEAT_SYSWIDE_PASID, "syswide-pasid"},
	{NEST_FEAT_SIM_DMA, "sim-dma"},
	{NEST_FEAT_FAULT_EVENTS, "fault-events"},
	{NEST_FEAT_CHECKER, "checker"},
	{NEST_FEAT_NATIVE, "native"},
	{NEST_FEAT_PAGE_REQUESTS, "page-requests"},
	{NEST_FEAT_VIOMMU, "viommu"},
	{NEST_FEAT_BIND_DEVICE, "bind-device"},
	{NEST_FEAT_BIND_RID, "bind-rid"},
	{NEST_FEAT_BIND_REPLACE, "bind-replace"},
};

#define CAPS_NFEATURES (sizeof(caps_features) / sizeof(caps_features[0]))

void nest_caps_init(struct nest_caps *c)
{
	*c = (struct nest_caps){
		.max_msg_size = NEST_MSG_SIZE_DEFAULT,
		.max_fds = NEST_FDS_PER_MSG_MAX,
		.max_batch = NEST_BATCH_DEFAULT,
		.max_inflight = NEST_INFLIGHT_DEFAULT,
	};
}

/* "features": an array of strings; unknown names are ignored so that peers can add features. */
static int caps_parse_features(struct json_object *o, uint32_t *ret)
{
	struct json_object *arr = NULL;
	uint32_t bits = 0;
	size_t n;

	if (!json_object_object_get_ex(o, "features", &arr) || !arr) {
		*ret = 0;
		return 0;
	}
	if (!json_object_is_type(arr, json_type_array))
		return -EINVAL;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(e, json_type_string))
			return -EINVAL;
		/* compare lengths too: "sim-dma\u0000x" is not "sim-dma" */
		for (size_t f = 0; f < CAPS_NFEATURES; f++)
			if ((size_t)json_object_get_string_len(e) ==
				    strlen(caps_features[f].name) &&
			    !strcmp(json_object_get_string(e), caps_features[f].name))
				bits |= caps_features[f].bit;
	}
	*ret = bits;
	return 0;
}

static int caps_parse_limits(struct json_object *o, struct nest_caps *c)
{
	uint64_t v;
	int r;

	if ((r = nest_json_get_u64(o, "max_msg_size", NEST_MSG_SIZE_MIN, NEST_MSG_SIZE_MAX,
				   NEST_MSG_SIZE_DEFAULT, 0, &v)) < 0)
		return r;
	c->max_msg_size = (uint32_t)v;
	if ((r = nest_json_get_u64(o, "max_fds", 1, NEST_FDS_PER_MSG_MAX, NEST_FDS_PER_MSG_MAX, 0,
				   &v)) < 0)
		return r;
	c->max_fds = (uint32_t)v;
	if ((r = nest_json_get_u64(o, "max_batch", 1, NEST_BATCH_MAX, NEST_BATCH_DEFAULT, 0, &v)) <
	    0)
		return r;
	c->max_batch = (uint32_t)v;
	if ((r = nest_json_get_u64(o, "max_inflight", 1, NEST_INFLIGHT_MAX, NEST_INFLIGHT_DEFAULT,
				   0, &v)) < 0)
		return r;
	c->max_inflight = (uint32_t)v;
	return 0;
}

int nest_caps_parse(const char *buf, size_t len, struct nest_caps *ret)
{
	struct json_object *o = NULL;
	struct nest_caps c;
	const char *sw;
	int r;

	r = nest_json_parse(buf, len, NEST_CAPS_LEN_MAX, &o);
	if (r < 0)
		return r;
	nest_caps_init(&c);
	r = nest_json_get_str(o, "software", sizeof(c.software), "", 0, &sw);
	if (r == 0) {
		memcpy(c.software, sw, strlen(sw) + 1); /* < sizeof(c.software), checked above */
		r = caps_parse_limits(o, &c);
	}
	if (r == 0)
		r = caps_parse_features(o, &c.features);
	json_object_put(o);
	if (r == 0)
		*ret = c;
	return r;
}

static struct json_object *caps_to_json(const struct nest_caps *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *feat = json_object_new_array();

	if (!o || !feat) {
		json_object_put(o);
		json_object_put(feat);
		return NULL;
	}
	/* json-c reports allocation failures only through these return values */
	if (json_object_object_add(o, "software", json_object_new_string(c->software)) ||
	    json_object_object_add(o, "max_msg_size", json_object_new_int64(c->max_msg_size)) ||
	    json_object_object_add(o, "max_fds", json_object_new_int64(c->max_fds)) ||
	    json_object_object_add(o, "max_batch", json_object_new_int64(c->max_batch)) ||
	    json_object_object_add(o, "max_inflight", json_object_new_int64(c->max_inflight))) {
		json_object_put(feat);
		json_object_put(o);
		return NULL;
	}
	for (size_t f = 0; f < CAPS_NFEATURES; f++)
		if ((c->features & caps_features[f].bit) &&
		    json_object_array_add(feat, json_object_new_string(caps_features[f].name)))
			break;
	if (json_object_object_add(o, "features", feat)) {
		json_object_put(feat);
		json_object_put(o);
		return NULL;
	}
	return o;
}

int nest_caps_format(const struct nest_caps *c, char *buf, size_t cap, size_t *ret_len)
{
	struct json_object *o = caps_to_json(c);
	const char *s;
	size_t n;
	int r = 0;

	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	n = s ? strlen(s) + 1 : 0;
	if (!s)
		r = -ENOMEM;
	else if (n > cap)
		r = -EMSGSIZE;
	else {
		memcpy(buf, s, n);
		*ret_len = n;
	}
	json_object_put(o);
	return r;
}

#define CAPS_MIN(a, b) ((a) < (b) ? (a) : (b))

void nest_caps_negotiate(const struct nest_caps *a, const struct nest_caps *b,
			 struct nest_caps *ret)
{
	struct nest_caps c = *b; /* software: the peer's (b) name, for logs */

	c.software[sizeof(c.software) - 1] = '\0';
	c.max_msg_size = CAPS_MIN(a->max_msg_size, b->max_msg_size);
	c.max_fds = CAPS_MIN(a->max_fds, b->max_fds);
	c.max_batch = CAPS_MIN(a->max_batch, b->max_batch);
	c.max_inflight = CAPS_MIN(a->max_inflight, b->max_inflight);
	c.features = a->features & b->features;
	*ret = c;
}

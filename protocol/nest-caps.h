/* SPDX-License-Identifier: MIT */
/*
 * nest-caps.h - the HELLO capability document (JSON) and strict JSON helpers.
 *
 * Capability document (both directions), every key optional with the default shown:
 *   { "software": "nestd 0.1.0",          string, <= 63 bytes, informational
 *     "max_msg_size": 65536,              int, NEST_MSG_SIZE_MIN..NEST_MSG_SIZE_MAX
 *     "max_fds": 4,                       int, 1..NEST_FDS_PER_MSG_MAX
 *     "max_batch": 256,                   int, 1..NEST_BATCH_MAX
 *     "max_inflight": 64,                 int, 1..NEST_INFLIGHT_MAX
 *     "features": ["sim-dma", ...] }      array of strings; unknown names are ignored
 * Unknown keys are ignored. Wrong types are -EINVAL, out-of-range numbers -ERANGE. The effective
 * limits of a connection are the minimum of what both sides announced.
 */
#ifndef NEST_CAPS_H
#define NEST_CAPS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

struct nest_caps {
	char software[64];
	uint32_t max_msg_size;
	uint32_t max_fds;
	uint32_t max_batch;
	uint32_t max_inflight;
	uint32_t features; /* NEST_FEAT_* bits, from the names below */
};

/*
 * Feature names: "bind-pgtbl", "cache-invld", "syswide-pasid", "sim-dma", "fault-events",
 * "checker", "native" (1.1), "page-requests" (1.1), "viommu" (1.1)
 */

void nest_caps_init(struct nest_caps *c); /* the defaults above, features 0, software "" */

/*
 * Parse @len bytes of @buf, which must end in its only NUL (nest_json_parse() rules, max
 * NEST_CAPS_LEN_MAX). *ret is written only on success.
 * Returns 0 / -EINVAL / -ERANGE / -E2BIG / -ENOMEM.
 */
int nest_caps_parse(const char *buf, size_t len, struct nest_caps *ret);

/* Format as compact JSON into @buf; *ret_len includes the NUL. Returns 0, -EMSGSIZE or -ENOMEM. */
int nest_caps_format(const struct nest_caps *c, char *buf, size_t cap, size_t *ret_len);

/* Effective limits: the minimum of both; features: the intersection; software: @b's (the peer). */
void nest_caps_negotiate(const struct nest_caps *a, const struct nest_caps *b,
			 struct nest_caps *ret);

/*
 * nest_json_parse() - strict parse of a JSON document received on the wire.
 * @len includes the terminating NUL, which must be the last byte and the only NUL; @len <= @max.
 * The document must be a JSON object, nesting depth <= 16. On success *ret holds a new reference.
 * Strings must be strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF; an escaped surrogate must be half of a high-low pair) and a key must not contain an
 * escaped NUL. Returns 0, -EINVAL (malformed, not NUL-terminated, not an object, non-standard
 * literals such as NaN or single quotes, invalid UTF-8, a key with a NUL), -ERANGE (an integer
 * literal outside [INT64_MIN, UINT64_MAX], which json-c would silently clamp), -E2BIG (too long/deep) or -ENOMEM.
 */
int nest_json_parse(const char *buf, size_t len, size_t max, struct json_object **ret);

/*
 * Typed getters on a JSON object. Missing key (or a JSON null): *ret = @def and return 0 (if
 * @required, -EINVAL).
 * Wrong type: -EINVAL. Out of [min, max]: -ERANGE. Integers must be JSON integers (not doubles,
 * not strings). Strings: *ret points into @obj (valid while @obj lives), length < @max_len and no
 * control characters, else -EINVAL.
 */
int nest_json_get_u64(struct json_object *obj, const char *key, uint64_t min, uint64_t max,
		      uint64_t def, int required, uint64_t *ret);
int nest_json_get_bool(struct json_object *obj, const char *key, int def, int required, int *ret);
int nest_json_get_str(struct json_object *obj, const char *key, size_t max_len, const char *def,
		      int required, const char **ret);

/*
 * nest_json_get_addr() - a guest address or length: a string "0x" or "0X" + 1..16 hex digits
 * (either case, full u64 range), or a non-negative JSON integer. Anything else: -EINVAL (or -ERANGE for a
 * negative integer). Missing key: as the other getters.
 */
int nest_json_get_addr(struct json_object *obj, const char *key, uint64_t def, int required,
		       uint64_t *ret);

#endif /* NEST_CAPS_H */

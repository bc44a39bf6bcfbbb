/* SPDX-License-Identifier: MIT */
/*
 * fuzz-msg.c - libFuzzer harness for everything nestd does with a received datagram before a
 * handler runs: framing, the op table, body decoding in both directions, invalidate entries and
 * the JSON tails. Besides "no crash, no sanitizer report" it checks invariants and abort()s
 * when one breaks, so a logic bug is a finding too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nest-caps.h"
#include "nest-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

/* A decoded tail lies inside the body and ends where the body ends. */
static void fuzz_check_tail(const struct nest_body_desc *bd, const uint8_t *body, size_t len,
			    const uint8_t *fixed, const struct nest_tail *t)
{
	uint32_t size;

	CHECK(t->ptr >= body && t->ptr + t->len == body + len);
	if (bd->size) {
		memcpy(&size, fixed, sizeof(size));
		CHECK(size == bd->size);
	}
	if (bd->tail == NEST_TAIL_ARRAY || bd->tail == NEST_TAIL_NATIVE_ARRAY)
		CHECK((uint64_t)t->entry_num * t->entry_len == t->len && t->entry_num > 0);
	if (bd->tail == NEST_TAIL_NATIVE_ARRAY)
		CHECK(t->entry_len >= NEST_NATIVE_ENTRY_MIN &&
		      t->entry_len <= NEST_NATIVE_ENTRY_MAX);
	if (bd->tail == NEST_TAIL_BLOB) {
		uint32_t data_len;

		memcpy(&data_len, fixed + bd->len_off, 4);
		CHECK(t->len == data_len && t->len >= 1 && t->len <= NEST_NATIVE_DATA_MAX);
	}
	if (bd->tail == NEST_TAIL_VEVENT) {
		uint32_t data_len;

		memcpy(&data_len, fixed + bd->len_off, 4);
		CHECK(t->len == data_len && t->len <= NEST_VEVENT_DATA_MAX);
	}
	if (bd->tail == NEST_TAIL_CAPS || bd->tail == NEST_TAIL_JSON)
		CHECK(t->len > 0 && t->ptr[t->len - 1] == '\0');
}

static void fuzz_caps(const uint8_t *p, size_t len)
{
	struct nest_caps c, back;
	char buf[NEST_CAPS_LEN_MAX];
	size_t n;

	if (nest_caps_parse((const char *)p, len, &c) != 0)
		return;
	CHECK(c.max_fds >= 1 && c.max_fds <= NEST_FDS_PER_MSG_MAX);
	CHECK(c.max_msg_size >= NEST_MSG_SIZE_MIN && c.max_msg_size <= NEST_MSG_SIZE_MAX);
	CHECK(memchr(c.software, '\0', sizeof(c.software)) != NULL);
	/* what we parsed we can format, and it parses back to the same thing */
	CHECK(nest_caps_format(&c, buf, sizeof(buf), &n) == 0);
	CHECK(nest_caps_parse(buf, n, &back) == 0);
	CHECK(memcmp(&c, &back, sizeof(c)) == 0);
}

static void fuzz_json(const uint8_t *p, size_t len)
{
	struct json_object *o = NULL;
	uint64_t v;
	const char *s;
	int b;

	if (nest_json_parse((const char *)p, len, NEST_JSON_LEN_MAX, &o) != 0)
		return;
	/* the getters nestctl/admin use, on whatever keys the input has */
	(void)nest_json_get_str(o, "command", 64, NULL, 1, &s);
	(void)nest_json_get_addr(o, "gpa", 0, 0, &v);
	(void)nest_json_get_u64(o, "pasid", 1, NEST_PASID_MAX, 0, 0, &v);
	(void)nest_json_get_bool(o, "write", 0, 0, &b);
	json_object_put(o);
}

static void fuzz_entries(const struct nest_tail *t)
{
	for (uint32_t i = 0; i < t->entry_num; i++) {
		struct nest_inv_entry e, e2;
		int r = nest_array_entry(t, i, &e, sizeof(e));

		CHECK(r == 0 || r == -E2BIG);
		/* the inline copy of an entry of the receiver's size and the general path agree */
		CHECK(nest_array_entry_resize(t, i, &e2, sizeof(e2)) == r);
		CHECK(r < 0 || memcmp(&e, &e2, sizeof(e)) == 0);
		if (r == 0 && nest_inv_entry_check(&e) == 0)
			CHECK(nest_inv_valid_combo(e.cache, e.granularity));
	}
}

static void fuzz_body(const struct nest_body_desc *bd, const uint8_t *body, size_t len)
{
	uint8_t fixed[256];
	struct nest_tail t;

	if (bd->size > sizeof(fixed) || nest_body_decode(bd, body, len, fixed, &t) != 0)
		return;
	fuzz_check_tail(bd, body, len, fixed, &t);
	switch (bd->tail) {
	case NEST_TAIL_ARRAY:
		fuzz_entries(&t);
		break;
	case NEST_TAIL_CAPS:
		fuzz_caps(t.ptr, t.len);
		break;
	case NEST_TAIL_JSON:
		fuzz_json(t.ptr, t.len);
		break;
	default:
		break;
	}
}

static void fuzz_datagram(const uint8_t *data, size_t size)
{
	const struct nest_op_desc *d;
	struct nest_msg m;
	uint8_t *copy;

	if (nest_msg_parse(data, size, NEST_MSG_SIZE_MAX, &m) != 0)
		return;
	/* encode(parse(x)) == x */
	copy = malloc(size);
	CHECK(copy);
	CHECK(nest_msg_encode(copy, size, &m.hdr, m.body, m.body_len, NULL, 0) == (ssize_t)size);
	CHECK(memcmp(copy, data, size) == 0);
	free(copy);

	d = nest_op_desc(m.hdr.op);
	if (!d)
		return;
	CHECK(d->op == m.hdr.op && d->name);
	fuzz_body(&d->req, m.body, m.body_len);
	fuzz_body(&d->reply, m.body, m.body_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len32 = (uint32_t)size;
	uint8_t *fixed;

	fuzz_datagram(data, size);
	fuzz_caps(data, size); /* raw JSON inputs exercise the JSON parser directly */

	/* Mutations rarely keep hdr.size == length; also try the input with it made right, so the
	 * body decoders see many more inputs. */
	if (size < sizeof(struct nest_msg_hdr) || size > NEST_MSG_SIZE_MAX ||
	    !memcmp(data, &len32, sizeof(len32)))
		return 0;
	fixed = malloc(size);
	CHECK(fixed);
	memcpy(fixed, data, size);
	memcpy(fixed, &len32, sizeof(len32));
	fuzz_datagram(fixed, size);
	free(fixed);
	return 0;
}

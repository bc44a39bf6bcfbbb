/* SPDX-License-Identifier: MIT */
/*
 * test-msg.c - framing: encode/decode round trips for every op, malformed headers, text tails,
 * and the name tables.
 */
#include <errno.h>
#include <stdlib.h>

#include "nest-msg.h"
#include "nest-test.h"
#include "proto-sample.h"

#define HDR sizeof(struct nest_msg_hdr)

static size_t encode_sample(uint8_t *buf, size_t cap, const struct nest_body_desc *bd, uint16_t op,
			    uint16_t flags, uint32_t id)
{
	uint8_t body[1024];
	size_t len = sample_body(bd, body);
	struct nest_msg_hdr h = {.op = op, .flags = flags, .id = id};
	ssize_t n = nest_msg_encode(buf, cap, &h, body, len, NULL, 0);

	cr_assert_eq(n, (ssize_t)(HDR + len));
	return (size_t)n;
}

static void round_trip(const struct nest_op_desc *d, const struct nest_body_desc *bd,
		       uint16_t flags, uint32_t id)
{
	uint8_t buf[2048], body[1024], dst[512];
	size_t n = encode_sample(buf, sizeof(buf), bd, d->op, flags, id);
	size_t blen = sample_body(bd, body);
	struct nest_msg m;
	struct nest_tail t;

	cr_assert_eq(nest_msg_parse(buf, n, NEST_MSG_SIZE_DEFAULT, &m), 0, "%s", d->name);
	cr_expect_eq(m.hdr.size, n);
	cr_expect_eq(m.hdr.op, d->op);
	cr_expect_eq(m.hdr.flags, flags);
	cr_expect_eq(m.hdr.id, id);
	cr_expect_eq(m.hdr.error, 0);
	cr_expect_eq(m.body, buf + HDR);
	cr_expect_eq(m.body_len, blen);
	cr_assert_eq(nest_op_desc(m.hdr.op), d);
	cr_assert_eq(nest_body_decode(bd, m.body, m.body_len, dst, &t), 0, "%s", d->name);
	cr_expect(!memcmp(dst, body, bd->size), "%s fixed part", d->name);
	cr_expect_eq(t.len, blen - bd->size);
	cr_expect(!memcmp(t.ptr, body + bd->size, t.len), "%s tail", d->name);
	if (bd->tail == NEST_TAIL_ARRAY) {
		cr_expect_eq(t.entry_num, SAMPLE_ENTRIES);
		cr_expect_eq(t.entry_len, sizeof(struct nest_inv_entry));
	}
	if (bd->tail == NEST_TAIL_NATIVE_ARRAY) {
		cr_expect_eq(t.entry_num, SAMPLE_ENTRIES);
		cr_expect_eq(t.entry_len, SAMPLE_NENTRY);
	}
}

Test(msg, round_trip_every_op)
{
	unsigned n = 0;

	for (uint32_t op = 0; op < NEST_OP_MAX; op++) {
		const struct nest_op_desc *d = nest_op_desc(op);

		if (!d)
			continue;
		n++;
		if (d->is_event) {
			round_trip(d, &d->req, NEST_MSG_F_EVENT, 0);
			continue;
		}
		round_trip(d, &d->req, NEST_MSG_F_REQUEST, 0x1000 + op);
		round_trip(d, &d->reply, NEST_MSG_F_REPLY, 0x1000 + op);
	}
	cr_expect_eq(n, 32);
	NO_LEAKS();
}

Test(msg, error_reply_round_trip)
{
	uint8_t buf[64];
	struct nest_msg_hdr h = {.op = NEST_OP_BIND,
				 .flags = NEST_MSG_F_REPLY | NEST_MSG_F_ERROR,
				 .id = 42,
				 .error = EBUSY};
	struct nest_msg m;
	ssize_t n = nest_msg_encode(buf, sizeof(buf), &h, NULL, 0, NULL, 0);

	cr_assert_eq(n, (ssize_t)HDR);
	cr_assert_eq(nest_msg_parse(buf, (size_t)n, 4096, &m), 0);
	cr_expect_eq(m.hdr.error, EBUSY);
	cr_expect_eq(m.hdr.id, 42);
	cr_expect_eq(m.body_len, 0);
	NO_LEAKS();
}

Test(msg, encode_with_separate_tail_and_limits)
{
	struct nest_hello hello = {.size = sizeof(hello), .major = 1, .caps_len = 3};
	struct nest_msg_hdr h = {.op = NEST_OP_HELLO, .flags = NEST_MSG_F_REQUEST, .id = 1};
	uint8_t buf[64], dst[64];
	struct nest_msg m;
	struct nest_tail t;
	size_t total = HDR + sizeof(hello) + 3;

	cr_expect_eq(nest_msg_encode(buf, total - 1, &h, &hello, sizeof(hello), "{}", 3),
		     -EMSGSIZE);
	cr_expect_eq(nest_msg_encode(buf, sizeof(buf), &h, &hello, sizeof(hello), "{}", SIZE_MAX),
		     -EMSGSIZE);
	cr_assert_eq(nest_msg_encode(buf, total, &h, &hello, sizeof(hello), "{}", 3),
		     (ssize_t)total);
	cr_assert_eq(nest_msg_parse(buf, total, 4096, &m), 0);
	cr_assert_eq(
		nest_body_decode(&nest_op_table[NEST_OP_HELLO].req, m.body, m.body_len, dst, &t),
		0);
	cr_expect_eq(t.len, 3);
	cr_expect_str_eq((const char *)t.ptr, "{}");
	NO_LEAKS();
}

struct bad_hdr {
	uint32_t size_delta; /* added to the real length (two's complement for "minus") */
	uint16_t flags;
	int32_t error;
};

Test(msg, malformed_headers_are_eproto)
{
	static const struct bad_hdr bad[] = {
		{1, NEST_MSG_F_REQUEST, 0},	       /* size claims more than arrived */
		{(uint32_t)-1, NEST_MSG_F_REQUEST, 0}, /* size claims less */
		{0, 0, 0},			       /* no type bit */
		{0, NEST_MSG_F_REQUEST | NEST_MSG_F_REPLY, 0},
		{0, NEST_MSG_F_REPLY | NEST_MSG_F_EVENT, 0},
		{0, NEST_MSG_F_REQUEST | NEST_MSG_F_EVENT, 0},
		{0, NEST_MSG_F_TYPE_MASK, 0},
		{0, NEST_MSG_F_REQUEST | 1u << 4, 0}, /* unknown flag bits */
		{0, NEST_MSG_F_REPLY | 1u << 15, 0},
		{0, NEST_MSG_F_REQUEST | NEST_MSG_F_ERROR, EINVAL}, /* ERROR on a request */
		{0, NEST_MSG_F_EVENT | NEST_MSG_F_ERROR, EINVAL},
		{0, NEST_MSG_F_REPLY, EINVAL}, /* error without ERROR */
		{0, NEST_MSG_F_REQUEST, EINVAL},
		{0, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, 0},	   /* ERROR without error */
		{0, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, -EINVAL}, /* negative */
		{0, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, 4096},	   /* out of range */
		{0, NEST_MSG_F_REPLY | NEST_MSG_F_ERROR, INT32_MIN},
	};
	uint8_t buf[64] = {0};
	struct nest_msg m = {.body_len = 777};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct nest_msg_hdr h = {.size = (uint32_t)(32 + bad[i].size_delta),
					 .op = NEST_OP_BIND,
					 .flags = bad[i].flags,
					 .id = 1,
					 .error = bad[i].error};

		memcpy(buf, &h, sizeof(h));
		cr_expect_eq(nest_msg_parse(buf, 32, 4096, &m), -EPROTO, "case %zu", i);
	}
	cr_expect_eq(m.body_len, 777, "ret written on failure");
	NO_LEAKS();
}

Test(msg, framing_limits)
{
	uint8_t *buf = calloc(1, NEST_MSG_SIZE_MAX + 1);
	struct nest_msg_hdr h = {.op = NEST_OP_BIND, .flags = NEST_MSG_F_REQUEST};
	struct nest_msg m;

	cr_assert_not_null(buf);
	for (size_t len = 0; len < HDR; len++) {
		h.size = (uint32_t)len;
		memcpy(buf, &h, sizeof(h));
		cr_expect_eq(nest_msg_parse(buf, len, 4096, &m), -EPROTO, "len %zu", len);
	}
	h.size = HDR;
	memcpy(buf, &h, sizeof(h));
	cr_expect_eq(nest_msg_parse(buf, HDR, 4096, &m), 0, "header only is fine");
	cr_expect_eq(nest_msg_parse(NULL, HDR, 4096, &m), -EPROTO);

	h.size = 4097;
	memcpy(buf, &h, sizeof(h));
	cr_expect_eq(nest_msg_parse(buf, 4097, 4096, &m), -EPROTO, "over max size");
	cr_expect_eq(nest_msg_parse(buf, 4097, 4097, &m), 0);
	h.size = NEST_MSG_SIZE_MAX + 1;
	memcpy(buf, &h, sizeof(h));
	cr_expect_eq(nest_msg_parse(buf, NEST_MSG_SIZE_MAX + 1, NEST_MSG_SIZE_MAX, &m), -EPROTO);

	/* an unknown op is framing-valid: the dispatcher answers ENOTTY */
	h = (struct nest_msg_hdr){.size = HDR, .op = 999, .flags = NEST_MSG_F_REQUEST};
	memcpy(buf, &h, sizeof(h));
	cr_expect_eq(nest_msg_parse(buf, HDR, 4096, &m), 0);
	cr_expect_null(nest_op_desc(m.hdr.op));
	h.error = 4095;
	h.flags = NEST_MSG_F_REPLY | NEST_MSG_F_ERROR;
	memcpy(buf, &h, sizeof(h));
	cr_expect_eq(nest_msg_parse(buf, HDR, 4096, &m), 0);
	free(buf);
	NO_LEAKS();
}

static int decode_hello(const char *caps, size_t caps_len, uint32_t caps_len_field)
{
	uint8_t body[8192], dst[64];
	struct nest_hello h = {.size = sizeof(h), .major = 1, .caps_len = caps_len_field};
	struct nest_tail t;

	memcpy(body, &h, sizeof(h));
	memcpy(body + sizeof(h), caps, caps_len);
	return nest_body_decode(&nest_op_table[NEST_OP_HELLO].req, body, sizeof(h) + caps_len, dst,
				&t);
}

Test(msg, hello_caps_tail)
{
	char big[NEST_CAPS_LEN_MAX + 1];

	cr_expect_eq(decode_hello("{}", 3, 3), 0);
	cr_expect_eq(decode_hello("{}", 3, 2), -EINVAL, "caps_len too small");
	cr_expect_eq(decode_hello("{}", 3, 4), -EINVAL, "caps_len too big");
	cr_expect_eq(decode_hello("{}", 2, 2), -EINVAL, "no NUL");
	cr_expect_eq(decode_hello("{\0}", 4, 4), -EINVAL, "embedded NUL");
	cr_expect_eq(decode_hello("", 0, 0), -EINVAL, "empty");
	cr_expect_eq(decode_hello("\0", 1, 1), 0, "the JSON itself is checked by caps_parse");
	memset(big, ' ', sizeof(big));
	big[NEST_CAPS_LEN_MAX - 1] = '\0';
	cr_expect_eq(decode_hello(big, NEST_CAPS_LEN_MAX, NEST_CAPS_LEN_MAX), 0);
	big[NEST_CAPS_LEN_MAX - 1] = ' ';
	big[NEST_CAPS_LEN_MAX] = '\0';
	cr_expect_eq(decode_hello(big, sizeof(big), sizeof(big)), -E2BIG);
	NO_LEAKS();
}

Test(msg, admin_json_tail)
{
	const struct nest_body_desc *bd = &nest_op_table[NEST_OP_ADMIN].req;
	char *big = malloc(NEST_JSON_LEN_MAX + 1);
	struct nest_tail t;

	cr_assert_not_null(big);
	cr_expect_eq(nest_body_decode(bd, "{}", 3, NULL, &t), 0);
	cr_expect_eq(t.len, 3);
	cr_expect_eq(nest_body_decode(bd, "{}", 2, NULL, &t), -EINVAL);
	cr_expect_eq(nest_body_decode(bd, "{}\0\0", 4, NULL, &t), -EINVAL);
	cr_expect_eq(nest_body_decode(bd, "", 0, NULL, &t), -EINVAL);
	memset(big, ' ', NEST_JSON_LEN_MAX + 1);
	big[NEST_JSON_LEN_MAX - 1] = '\0';
	cr_expect_eq(nest_body_decode(bd, big, NEST_JSON_LEN_MAX, NULL, &t), 0);
	big[NEST_JSON_LEN_MAX - 1] = ' ';
	big[NEST_JSON_LEN_MAX] = '\0';
	cr_expect_eq(nest_body_decode(bd, big, NEST_JSON_LEN_MAX + 1, NULL, &t), -E2BIG);
	free(big);
	NO_LEAKS();
}

Test(msg, sim_dma_data_tail)
{
	const struct nest_body_desc *bd = &nest_op_table[NEST_OP_SIM_DMA].req;
	size_t cap = sizeof(struct nest_sim_dma) + NEST_DMA_LEN_MAX + 1;
	uint8_t *body = calloc(1, cap), dst[64];
	struct nest_sim_dma d = {.size = sizeof(d), .flags = NEST_DMA_F_WRITE, .len = 8};
	struct nest_tail t;

	cr_assert_not_null(body);
	memcpy(body, &d, sizeof(d));
	cr_expect_eq(nest_body_decode(bd, body, sizeof(d), dst, &t), 0);
	cr_expect_eq(t.len, 0);
	cr_expect_eq(nest_body_decode(bd, body, cap - 1, dst, &t), 0);
	cr_expect_eq(t.len, NEST_DMA_LEN_MAX);
	cr_expect_eq(nest_body_decode(bd, body, cap, dst, &t), -E2BIG);
	free(body);
	NO_LEAKS();
}

static int decode_bind_native(uint32_t data_len, size_t tail_len)
{
	uint8_t body[sizeof(struct nest_bind_native) + 2 * NEST_NATIVE_DATA_MAX] = {0}, dst[64];
	struct nest_bind_native b = {.size = sizeof(b), .hpasid = 5, .data_len = data_len};
	struct nest_tail t = {0};
	int r;

	memcpy(body, &b, sizeof(b));
	memset(body + sizeof(b), 0x5a, tail_len);
	r = nest_body_decode(&nest_op_table[NEST_OP_BIND_NATIVE].req, body, sizeof(b) + tail_len,
			     dst, &t);
	if (r == 0) {
		cr_expect_eq(t.len, data_len);
		cr_expect_eq(t.ptr, body + sizeof(b));
	}
	return r;
}

Test(msg, bind_native_blob_tail)
{
	cr_expect_eq(decode_bind_native(1, 1), 0);
	cr_expect_eq(decode_bind_native(8, 8), 0, "selftest mock data");
	cr_expect_eq(decode_bind_native(24, 24), 0, "VT-d stage-1 data");
	cr_expect_eq(decode_bind_native(NEST_NATIVE_DATA_MAX, NEST_NATIVE_DATA_MAX), 0);
	cr_expect_eq(decode_bind_native(0, 0), -EINVAL, "no data");
	cr_expect_eq(decode_bind_native(0, 8), -EINVAL, "data_len 0 with data");
	cr_expect_eq(decode_bind_native(24, 23), -EINVAL, "short");
	cr_expect_eq(decode_bind_native(24, 25), -EINVAL, "long");
	cr_expect_eq(decode_bind_native(24, 0), -EINVAL, "missing");
	cr_expect_eq(decode_bind_native(NEST_NATIVE_DATA_MAX + 1, NEST_NATIVE_DATA_MAX + 1),
		     -E2BIG);
	cr_expect_eq(decode_bind_native(UINT32_MAX, 8), -E2BIG, "limit before the fit");
	cr_expect_eq(decode_bind_native(8, NEST_NATIVE_DATA_MAX + 1), -EINVAL);
	NO_LEAKS();
}

/* VIOMMU_ATTACH: the same blob tail, its data_len at offset 20 (BIND_NATIVE's is at 16). */
static int decode_viommu_attach(uint32_t data_type, uint32_t data_len, size_t tail_len)
{
	uint8_t body[sizeof(struct nest_viommu_attach) + 2 * NEST_NATIVE_DATA_MAX] = {0}, dst[64];
	struct nest_viommu_attach a = {.size = sizeof(a),
				       .viommu_id = 1,
				       .dev_id = 2,
				       .data_type = data_type,
				       .data_len = data_len};
	struct nest_tail t = {0};
	int r;

	memcpy(body, &a, sizeof(a));
	memset(body + sizeof(a), 0x5a, tail_len);
	r = nest_body_decode(&nest_op_table[NEST_OP_VIOMMU_ATTACH].req, body, sizeof(a) + tail_len,
			     dst, &t);
	if (r == 0) {
		cr_expect_eq(t.len, data_len);
		cr_expect_eq(t.ptr, body + sizeof(a));
		cr_expect_eq(memcmp(dst, &a, sizeof(a)), 0);
	}
	return r;
}

Test(msg, viommu_attach_blob_tail)
{
	cr_expect_eq(decode_viommu_attach(0xdead, 8, 8), 0, "selftest mock data");
	cr_expect_eq(decode_viommu_attach(8, 64, 64), 0, "SMMUv3 STE, data_type not the length");
	cr_expect_eq(decode_viommu_attach(64, 8, 64), -EINVAL, "the length is data_len");
	cr_expect_eq(decode_viommu_attach(1, 0, 0), -EINVAL, "no data");
	cr_expect_eq(decode_viommu_attach(1, 16, 15), -EINVAL, "short");
	cr_expect_eq(decode_viommu_attach(1, 16, 17), -EINVAL, "long");
	cr_expect_eq(decode_viommu_attach(1, NEST_NATIVE_DATA_MAX, NEST_NATIVE_DATA_MAX), 0);
	cr_expect_eq(decode_viommu_attach(1, NEST_NATIVE_DATA_MAX + 1, NEST_NATIVE_DATA_MAX + 1),
		     -E2BIG);
	NO_LEAKS();
}

static int decode_inv_native(uint32_t entry_len, uint32_t entry_num, size_t tail_len)
{
	static uint8_t body[sizeof(struct nest_invalidate_native) + 4096];
	struct nest_invalidate_native v = {
		.size = sizeof(v), .entry_len = entry_len, .entry_num = entry_num, .hpasid = 5};
	struct nest_tail t = {0};
	uint8_t dst[64];
	int r;

	cr_assert_leq(tail_len, sizeof(body) - sizeof(v));
	memset(body, 0, sizeof(body));
	memcpy(body, &v, sizeof(v));
	r = nest_body_decode(&nest_op_table[NEST_OP_INVALIDATE_NATIVE].req, body,
			     sizeof(v) + tail_len, dst, &t);
	if (r == 0) {
		cr_expect_eq(t.entry_len, entry_len);
		cr_expect_eq(t.entry_num, entry_num);
		cr_expect_eq(t.len, tail_len);
	}
	return r;
}

Test(msg, invalidate_native_array_tail)
{
	cr_expect_eq(decode_inv_native(8, 1, 8), 0, "one selftest mock entry");
	cr_expect_eq(decode_inv_native(24, 3, 72), 0, "three VT-d entries");
	cr_expect_eq(decode_inv_native(NEST_NATIVE_ENTRY_MIN, 1, 4), 0);
	cr_expect_eq(decode_inv_native(NEST_NATIVE_ENTRY_MAX, 2, 128), 0);
	cr_expect_eq(decode_inv_native(5, 3, 15), 0, "any length in range, no alignment rule");
	cr_expect_eq(decode_inv_native(3, 1, 3), -EINVAL, "entry_len below the minimum");
	cr_expect_eq(decode_inv_native(0, 1, 0), -EINVAL);
	cr_expect_eq(decode_inv_native(8, 0, 0), -EINVAL, "entry_num 0");
	cr_expect_eq(decode_inv_native(NEST_NATIVE_ENTRY_MAX + 1, 1, 65), -E2BIG);
	cr_expect_eq(decode_inv_native(UINT32_MAX, 1, 8), -E2BIG);
	cr_expect_eq(decode_inv_native(64, UINT32_MAX, 64), -EOVERFLOW);
	cr_expect_eq(decode_inv_native(8, 2, 15), -EINVAL, "short");
	cr_expect_eq(decode_inv_native(8, 2, 17), -EINVAL, "long");
	cr_expect_eq(decode_inv_native(8, 2, 0), -EINVAL, "no entries");
	NO_LEAKS();
}

Test(msg, names)
{
	cr_expect_str_eq(nest_errno_name(ENOTTY), "ENOTTY");
	cr_expect_str_eq(nest_errno_name(E2BIG), "E2BIG");
	cr_expect_str_eq(nest_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	cr_expect_str_eq(nest_errno_name(-EPROTO), "EPROTO");
	cr_expect_str_eq(nest_errno_name(ESHUTDOWN), "ESHUTDOWN");
	cr_expect_str_eq(nest_errno_name(0), "E?");
	cr_expect_str_eq(nest_errno_name(4000), "E?");
	cr_expect_str_eq(nest_fault_reason_name(NEST_FAULT_PTE_NOT_PRESENT), "pte-not-present");
	cr_expect_str_eq(nest_fault_reason_name(NEST_FAULT_S2_PERM), "s2-perm");
	cr_expect_str_eq(nest_fault_reason_name(NEST_FAULT_NON_CANONICAL), "non-canonical");
	cr_expect_str_eq(nest_fault_reason_name(NEST_FAULT_MAX), "unknown");
	for (uint32_t r = 0; r < NEST_FAULT_MAX; r++)
		cr_expect_not_null(nest_fault_reason_name(r));
	for (uint32_t op = 0; op < NEST_OP_MAX; op++)
		cr_expect_not_null(nest_op_name(op));
	cr_expect(nest_mem_is_zero("\0\0\0", 3));
	cr_expect(!nest_mem_is_zero("\0\0\1", 3));
	cr_expect(nest_mem_is_zero(NULL, 0));
	NO_LEAKS();
}

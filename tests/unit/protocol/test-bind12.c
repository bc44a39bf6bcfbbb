/* SPDX-License-Identifier: MIT */
/*
 * Protocol 1.2's fields and flags on BIND, BIND_NATIVE, UNBIND and INVALIDATE_NATIVE as the
 * receiver decodes them (PROTOCOL.md §5, §8.9, §8.10, §8.14, §8.15): the new flag bits are
 * accepted and the next one is EOPNOTSUPP; BIND's dev_id is an optional field (a 1.1 sender's
 * 48 bytes zero-extend to dev_id 0), its new __reserved word is checked; BIND_NATIVE's and
 * UNBIND's dev_id took the place of a __reserved word (no longer refused by the decoder).
 */
#include <errno.h>
#include <string.h>

#include "nest-msg.h"
#include "nest-test.h"

static int decode(uint16_t op, const void *body, size_t len, void *dst)
{
	struct nest_tail t;

	return nest_body_decode(&nest_op_desc(op)->req, body, len, dst, &t);
}

Test(bind12, bind_flags_dev_id_and_sizes)
{
	struct nest_bind b = {.size = sizeof(b),
			      .flags = NEST_BIND_F_GPASID | NEST_BIND_F_DEVICE | NEST_BIND_F_RID |
				       NEST_BIND_F_REPLACE,
			      .dev_id = 9},
			 out;

	cr_expect_eq(sizeof(b), 56);
	cr_expect_eq(NEST_BIND_F_VALID, 0xf);
	cr_assert_eq(decode(NEST_OP_BIND, &b, sizeof(b), &out), 0);
	cr_expect_eq(out.dev_id, 9);
	b.flags = 1u << 4;
	cr_expect_eq(decode(NEST_OP_BIND, &b, sizeof(b), &out), -EOPNOTSUPP);
	b.flags = NEST_BIND_F_DEVICE;
	b.__reserved = 1;
	cr_expect_eq(decode(NEST_OP_BIND, &b, sizeof(b), &out), -EOPNOTSUPP, "reserved");
	b.__reserved = 0;
	/* a 1.1 sender's 48-byte struct: dev_id reads as 0 */
	b.size = 48;
	memset(&out, 0xa5, sizeof(out));
	cr_assert_eq(decode(NEST_OP_BIND, &b, 48, &out), 0);
	cr_expect_eq(out.dev_id, 0);
	cr_expect_eq(out.__reserved, 0);
	b.size = 40; /* the minimum stays the 1.0 one */
	cr_expect_eq(decode(NEST_OP_BIND, &b, 40, &out), 0);
	b.size = 36;
	cr_expect_eq(decode(NEST_OP_BIND, &b, 36, &out), -EINVAL);
}

Test(bind12, bind_native_and_unbind_flags)
{
	_Alignas(8) uint8_t body[sizeof(struct nest_bind_native) + 8] = {0};
	struct nest_bind_native n = {.size = sizeof(n),
				     .flags = NEST_BIND_NATIVE_F_VALID,
				     .hpasid = 0,
				     .data_type = 1,
				     .data_len = 8,
				     .dev_id = 3},
				out;
	struct nest_unbind u = {.size = sizeof(u), .flags = NEST_UNBIND_F_VALID, .dev_id = 2}, uo;
	struct nest_invalidate_native v = {.size = sizeof(v), .flags = NEST_INV_NATIVE_F_RID};

	cr_expect_eq(NEST_BIND_NATIVE_F_VALID, 0xe, "DEVICE, RID, REPLACE; GPASID is BIND's");
	memcpy(body, &n, sizeof(n));
	cr_assert_eq(decode(NEST_OP_BIND_NATIVE, body, sizeof(body), &out), 0);
	cr_expect_eq(out.dev_id, 3, "was __reserved: no longer refused");
	n.flags = NEST_BIND_F_GPASID;
	memcpy(body, &n, sizeof(n));
	cr_expect_eq(decode(NEST_OP_BIND_NATIVE, body, sizeof(body), &out), -EOPNOTSUPP);

	cr_expect_eq(NEST_UNBIND_F_VALID, NEST_BIND_F_DEVICE | NEST_BIND_F_RID);
	cr_assert_eq(decode(NEST_OP_UNBIND, &u, sizeof(u), &uo), 0);
	cr_expect_eq(uo.dev_id, 2);
	u.flags = NEST_BIND_F_REPLACE;
	cr_expect_eq(decode(NEST_OP_UNBIND, &u, sizeof(u), &uo), -EOPNOTSUPP, "no REPLACE");
	u.flags = NEST_BIND_F_GPASID;
	cr_expect_eq(decode(NEST_OP_UNBIND, &u, sizeof(u), &uo), -EOPNOTSUPP);
	u.size = 12; /* a 1.0 sender: dev_id zero-extended */
	u.flags = 0;
	cr_assert_eq(decode(NEST_OP_UNBIND, &u, 12, &uo), 0);
	cr_expect_eq(uo.dev_id, 0);

	cr_expect_eq(nest_op_desc(NEST_OP_INVALIDATE_NATIVE)->req.flags_valid,
		     NEST_INV_NATIVE_F_RID);
	(void)v;
}

Test(bind12, feature_bits_and_minor)
{
	cr_expect_eq(NEST_PROTO_MINOR, 2);
	cr_expect_eq(NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE, 0xe00);
	cr_expect_eq(NEST_FEAT_VALID, 0xfff);
}

/* SPDX-License-Identifier: MIT */
/*
 * test-abi.c - the op table against an independent expectation, and every extension rule
 * (STYLE.md R5) applied to every op and direction by walking nest_op_table.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nest-msg.h"
#include "nest-test.h"
#include "proto-sample.h"

/* No implicit holes: the fields of each struct add up to its size. */
#define SZ(t, f) sizeof(((struct t *)0)->f)
_Static_assert(SZ(nest_msg_hdr, size) + SZ(nest_msg_hdr, op) + SZ(nest_msg_hdr, flags) +
			       SZ(nest_msg_hdr, id) + SZ(nest_msg_hdr, error) ==
		       sizeof(struct nest_msg_hdr),
	       "hole");
_Static_assert(SZ(nest_vm_info, size) + 5 * 4 + 2 * 2 + 3 * 4 + 3 * 8 + 2 * 4 + 4 * 4 + 6 * 4 ==
		       sizeof(struct nest_vm_info),
	       "hole");
_Static_assert(offsetof(struct nest_vm_info, hw_info_type) == NEST_VM_INFO_SIZE_1_0,
	       "the 1.1 fields start where the 1.0 struct ended");
_Static_assert(4 * 6 == sizeof(struct nest_bind_native), "hole");
_Static_assert(4 * 6 == sizeof(struct nest_invalidate_native), "hole");
_Static_assert(offsetof(struct nest_invalidate_native, entry_len) ==
			       offsetof(struct nest_invalidate, entry_len) &&
		       offsetof(struct nest_invalidate_native, entry_num) ==
			       offsetof(struct nest_invalidate, entry_num),
	       "entry_len/entry_num where INVALIDATE has them");
_Static_assert(SZ(nest_bind, gpgd) + SZ(nest_bind, vtd_flags) + 10 * 4 == sizeof(struct nest_bind),
	       "hole");
_Static_assert(1 + 1 + 2 + 4 * 3 + 8 * 3 == sizeof(struct nest_inv_entry), "hole");
_Static_assert(4 * 4 + 8 + 4 * 2 == sizeof(struct nest_sim_dma), "hole");
_Static_assert(4 * 4 + 8 == sizeof(struct nest_sim_dma_reply), "hole");
_Static_assert(4 * 4 + 8 + 4 * 2 == sizeof(struct nest_ev_fault), "hole");
_Static_assert(4 * 4 + 8 * 3 + 4 * 2 == sizeof(struct nest_ev_stale), "hole");
_Static_assert(4 * 2 + NEST_VM_NAME_MAX == sizeof(struct nest_vm_attach), "hole");
_Static_assert(4 * 4 + NEST_DEVICE_NAME_MAX == sizeof(struct nest_device_info), "hole");
_Static_assert(4 * 2 + 8 * 3 == sizeof(struct nest_mem_add), "hole");
_Static_assert(4 * 2 + 8 * 2 == sizeof(struct nest_mem_remove), "hole");
_Static_assert(4 * 6 == sizeof(struct nest_pasid_alloc), "hole");
_Static_assert(4 * 4 == sizeof(struct nest_page_response), "hole");
_Static_assert(4 * 4 == sizeof(struct nest_viommu_alloc), "hole");
_Static_assert(4 * 2 == sizeof(struct nest_viommu_reply), "hole");
_Static_assert(4 * 4 == sizeof(struct nest_viommu_free), "hole");
_Static_assert(4 * 4 + 8 == sizeof(struct nest_vdevice_alloc), "hole");
_Static_assert(4 * 6 == sizeof(struct nest_viommu_invalidate), "hole");
_Static_assert(offsetof(struct nest_viommu_invalidate, entry_len) ==
			       offsetof(struct nest_invalidate_native, entry_len) &&
		       offsetof(struct nest_viommu_invalidate, entry_num) ==
			       offsetof(struct nest_invalidate_native, entry_num),
	       "entry_len/entry_num where the NATIVE_ARRAY tail reads them");
_Static_assert(4 * 6 == sizeof(struct nest_ev_vevent), "hole");
_Static_assert(NEST_VIOMMUS_PER_VM_MAX == 8 && NEST_VEVENT_DATA_MAX == 32, "limits");
_Static_assert(NEST_VEVENT_F_LOST == 1 && NEST_VEVENT_F_VALID == 1, "vevent flags");
_Static_assert(4 * 6 + 8 + 4 * 2 == sizeof(struct nest_ev_page_request), "hole");
_Static_assert(NEST_PRQ_F_PASID_VALID == 1 && NEST_PRQ_F_LAST_PAGE == 2 && NEST_PRQ_F_VALID == 3,
	       "page request flags are iommufd's IOMMU_PGFAULT_FLAGS_*");
_Static_assert(NEST_PRQ_PERM_READ == 1 && NEST_PRQ_PERM_WRITE == 2 && NEST_PRQ_PERM_EXEC == 4 &&
		       NEST_PRQ_PERM_PRIV == 8,
	       "page request perms are iommufd's IOMMU_PGFAULT_PERM_*");
_Static_assert(NEST_PAGE_RESP_SUCCESS == 0 && NEST_PAGE_RESP_INVALID == 1,
	       "response codes are iommufd's IOMMUFD_PAGE_RESP_*");

#define NF UINT32_MAX /* no flags field */
#define V  NEST_SOCK_VM
#define A  NEST_SOCK_ADMIN

struct exp_body {
	uint32_t size, min_size, flags_valid;
	uint8_t min_fds, max_fds, tail;
	uint16_t rsv_off, rsv_len; /* the first reserved field (vm_info's second: below) */
};

struct exp_op {
	uint16_t op;
	uint8_t sockets, is_event;
	struct exp_body req, reply;
};

/* Written from nest-proto.h by hand, not derived from the table under test. */
static const struct exp_op expected[] = {
	{NEST_OP_HELLO,
	 V | A,
	 0,
	 {16, 12, NF, 0, 0, NEST_TAIL_CAPS, 12, 4},
	 {16, 12, NF, 0, 0, NEST_TAIL_CAPS, 12, 4}},
	{NEST_OP_VM_ATTACH, V, 0, {72, 72, 1, 0, 0, 0, 0, 0}, {112, 68, 0, 0, 0, 0, 68, 4}},
	{NEST_OP_VM_DETACH, V, 0, {8, 8, 1, 0, 0, 0, 0, 0}, {0}},
	{NEST_OP_MEM_ADD, V, 0, {32, 32, 3, 1, 1, 0, 0, 0}, {0}},
	{NEST_OP_MEM_REMOVE, V, 0, {24, 24, 3, 0, 0, 0, 0, 0}, {0}},
	{NEST_OP_DEVICE_GET, V, 0, {16, 12, 0, 0, 0, 0, 12, 4}, {48, 48, 3, 0, 1, 0, 0, 0}},
	{NEST_OP_PASID_ALLOC, V, 0, {24, 16, 1, 0, 0, 0, 20, 4}, {8, 8, NF, 0, 0, 0, 0, 0}},
	{NEST_OP_PASID_FREE, V, 0, {16, 16, 0, 0, 0, 0, 0, 0}, {8, 8, NF, 0, 0, 0, 0, 0}},
	{NEST_OP_BIND, V, 0, {56, 40, 0xf, 0, 0, 0, 52, 4}, {0}},
	{NEST_OP_UNBIND, V, 0, {16, 12, 6, 0, 0, 0, 0, 0}, {0}},
	{NEST_OP_INVALIDATE,
	 V,
	 0,
	 {16, 16, 0, 0, 0, NEST_TAIL_ARRAY, 0, 0},
	 {16, 12, NF, 0, 0, 0, 12, 4}},
	{NEST_OP_SIM_DMA,
	 V,
	 0,
	 {32, 28, 7, 0, 0, NEST_TAIL_DATA, 28, 4},
	 {24, 24, NF, 0, 0, NEST_TAIL_DATA, 12, 4}},
	{NEST_OP_ADMIN,
	 A,
	 0,
	 {0, 0, NF, 0, 0, NEST_TAIL_JSON, 0, 0},
	 {0, 0, NF, 0, 0, NEST_TAIL_JSON, 0, 0}},
	{NEST_OP_BIND_NATIVE, V, 0, {24, 20, 0xe, 0, 0, NEST_TAIL_BLOB, 0, 0}, {0}},
	{NEST_OP_INVALIDATE_NATIVE,
	 V,
	 0,
	 {24, 24, 1, 0, 0, NEST_TAIL_NATIVE_ARRAY, 0, 0},
	 {16, 12, NF, 0, 0, 0, 12, 4}},
	{NEST_OP_PAGE_RESPONSE, V, 0, {16, 16, 0, 0, 0, 0, 0, 0}, {0}},
	{NEST_OP_VIOMMU_ALLOC, V, 0, {16, 16, 0, 0, 0, 0, 0, 0}, {8, 8, NF, 0, 0, 0, 0, 0}},
	{NEST_OP_VIOMMU_FREE, V, 0, {16, 12, 0, 0, 0, 0, 12, 4}, {0}},
	{NEST_OP_VDEVICE_ALLOC, V, 0, {24, 24, 0, 0, 0, 0, 0, 0}, {0}},
	{NEST_OP_VIOMMU_INVALIDATE,
	 V,
	 0,
	 {24, 24, 0, 0, 0, NEST_TAIL_NATIVE_ARRAY, 0, 0},
	 {16, 12, NF, 0, 0, 0, 12, 4}},
	{NEST_OP_VIOMMU_ATTACH, V, 0, {24, 24, 0, 0, 0, NEST_TAIL_BLOB, 0, 0}, {0}},
	{NEST_OP_VIOMMU_DETACH, V, 0, {16, 16, 0, 0, 0, 0, 0, 0}, {0}},
	{NEST_OP_VM_IOVA_INFO, V, 0, {8, 8, 0, 0, 0, 0, 0, 0}, {120, 120, 1, 0, 0, 0, 20, 4}},
	{NEST_OP_DEVICE_PUT, V, 0, {16, 12, 0, 0, 0, 0, 12, 4}, {0}},
	{NEST_OP_DEVICE_HOT_RESET, V, 0, {16, 12, 0, 0, 0, 0, 12, 4}, {0}},
	{NEST_EV_FAULT, 0, 1, {32, 28, NF, 0, 0, 0, 28, 4}, {0}},
	{NEST_EV_DEVICE_GONE, 0, 1, {8, 8, NF, 0, 0, 0, 0, 0}, {0}},
	{NEST_EV_SHUTDOWN, 0, 1, {8, 8, NF, 0, 0, 0, 0, 0}, {0}},
	{NEST_EV_STALE, 0, 1, {48, 44, NF, 0, 0, 0, 44, 4}, {0}},
	{NEST_EV_PAGE_REQUEST, 0, 1, {40, 40, 3, 0, 0, 0, 0, 0}, {0}},
	{NEST_EV_VEVENT, 0, 1, {24, 20, 1, 0, 0, NEST_TAIL_VEVENT, 20, 4}, {0}},
	{NEST_EV_UNBOUND, 0, 1, {16, 16, NF, 0, 0, 0, 0, 0}, {0}},
};

#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static void check_body(const char *what, const struct nest_body_desc *bd, const struct exp_body *e)
{
	cr_expect_eq(bd->size, e->size, "%s size", what);
	cr_expect_eq(bd->tail, e->tail, "%s tail", what);
	cr_expect_eq(bd->min_fds, e->min_fds, "%s min_fds", what);
	cr_expect_eq(bd->max_fds, e->max_fds, "%s max_fds", what);
	if (e->size == 0 && e->tail == NEST_TAIL_NONE)
		return; /* empty body: nothing else applies */
	cr_expect_eq(bd->min_size, e->min_size, "%s min_size", what);
	cr_expect_eq(bd->flags_valid, e->flags_valid, "%s flags_valid", what);
	if (bd == &nest_op_desc(NEST_OP_VM_ATTACH)->reply) {
		/* vm_info has two: 68..72 and (1.1) 108..112 */
		cr_expect_eq(bd->nreserved, 2, "%s nreserved", what);
		cr_expect_eq(bd->reserved[1].off, 108, "%s reserved 2 off", what);
		cr_expect_eq(bd->reserved[1].len, 4, "%s reserved 2 len", what);
	} else {
		cr_expect_eq(bd->nreserved, e->rsv_len ? 1 : 0, "%s nreserved", what);
	}
	if (e->rsv_len && bd->nreserved >= 1) {
		cr_expect_eq(bd->reserved[0].off, e->rsv_off, "%s reserved off", what);
		cr_expect_eq(bd->reserved[0].len, e->rsv_len, "%s reserved len", what);
	}
}

Test(abi, table_matches_the_header)
{
	unsigned known = 0;

	for (size_t i = 0; i < NEXPECTED; i++) {
		const struct exp_op *e = &expected[i];
		const struct nest_op_desc *d = nest_op_desc(e->op);

		cr_assert_not_null(d, "op %u missing", e->op);
		cr_expect_eq(d->op, e->op);
		cr_expect_eq(d->sockets, e->sockets, "%s sockets", d->name);
		cr_expect_eq(d->is_event, e->is_event, "%s is_event", d->name);
		check_body(d->name, &d->req, &e->req);
		check_body(d->name, &d->reply, &e->reply);
	}
	for (uint32_t op = 0; op < NEST_OP_MAX; op++)
		known += nest_op_table[op].name != NULL;
	cr_expect_eq(known, NEXPECTED, "the table has ops the test does not know");
	cr_expect_null(nest_op_desc(NEST_OP_INVALID));
	cr_expect_null(nest_op_desc(26));
	cr_expect_null(nest_op_desc(31));
	cr_expect_eq(NEST_OP_BIND_NATIVE, 14);
	cr_expect_eq(NEST_OP_INVALIDATE_NATIVE, 15);
	cr_expect_eq(NEST_OP_PAGE_RESPONSE, 16);
	cr_expect_eq(NEST_EV_PAGE_REQUEST, 36);
	cr_expect_eq(NEST_OP_VIOMMU_ALLOC, 17);
	cr_expect_eq(NEST_OP_VIOMMU_FREE, 18);
	cr_expect_eq(NEST_OP_VDEVICE_ALLOC, 19);
	cr_expect_eq(NEST_OP_VIOMMU_INVALIDATE, 20);
	cr_expect_eq(NEST_OP_VIOMMU_ATTACH, 21);
	cr_expect_eq(NEST_OP_VIOMMU_DETACH, 22);
	cr_expect_eq(NEST_OP_VM_IOVA_INFO, 23);
	cr_expect_eq(NEST_OP_DEVICE_PUT, 24);
	cr_expect_eq(NEST_OP_DEVICE_HOT_RESET, 25);
	cr_expect_str_eq(nest_op_name(NEST_OP_VM_IOVA_INFO), "VM_IOVA_INFO");
	cr_expect_eq(NEST_EV_VEVENT, 37);
	cr_expect_eq(NEST_EV_UNBOUND, 38);
	cr_expect_eq(NEST_OP_MAX, 39);
	cr_expect_str_eq(nest_op_name(NEST_EV_UNBOUND), "EV_UNBOUND");
	cr_expect_str_eq(nest_op_name(NEST_OP_VIOMMU_INVALIDATE), "VIOMMU_INVALIDATE");
	cr_expect_str_eq(nest_op_name(NEST_EV_VEVENT), "EV_VEVENT");
	cr_expect_str_eq(nest_op_name(NEST_OP_VIOMMU_ATTACH), "VIOMMU_ATTACH");
	cr_expect_str_eq(nest_op_name(NEST_OP_VIOMMU_DETACH), "VIOMMU_DETACH");
	/* the data_len of a BLOB / VEVENT tail sits at an op-specific offset */
	cr_expect_eq(nest_op_desc(NEST_OP_BIND_NATIVE)->req.len_off, 16);
	cr_expect_eq(nest_op_desc(NEST_OP_VIOMMU_ATTACH)->req.len_off, 20);
	cr_expect_eq(nest_op_desc(NEST_EV_VEVENT)->req.len_off, 16);
	cr_expect_str_eq(nest_op_name(NEST_OP_INVALIDATE_NATIVE), "INVALIDATE_NATIVE");
	cr_expect_str_eq(nest_op_name(NEST_OP_PAGE_RESPONSE), "PAGE_RESPONSE");
	cr_expect_str_eq(nest_op_name(NEST_EV_PAGE_REQUEST), "EV_PAGE_REQUEST");
	cr_expect_null(nest_op_desc(NEST_OP_MAX));
	cr_expect_null(nest_op_desc(UINT32_MAX));
	cr_expect_str_eq(nest_op_name(NEST_OP_BIND), "BIND");
	cr_expect_str_eq(nest_op_name(200), "UNKNOWN");
	NO_LEAKS();
}

/* Call @fn for every body that has a fixed struct (both directions of ops, and events). */
#define FOR_EACH_FIXED_BODY(d, bd, what)                                                           \
	for (uint32_t op_ = 0; op_ < NEST_OP_MAX; op_++)                                           \
		for (int dir_ = 0; dir_ < 2; dir_++)                                               \
			if (((d) = nest_op_desc(op_)) &&                                           \
			    ((bd) = dir_ ? &(d)->reply : &(d)->req) && (bd)->size &&               \
			    ((what) = dir_ ? "reply" : "request"))

Test(abi, every_op_refuses_undersize)
{
	const struct nest_op_desc *d;
	const struct nest_body_desc *bd;
	const char *what;
	uint8_t body[1024], dst[512];
	struct nest_tail t;

	FOR_EACH_FIXED_BODY(d, bd, what)
	{
		size_t len = sample_body(bd, body);

		for (uint32_t s = 0; s < bd->min_size; s++) {
			sample_put_u32(body, 0, s);
			cr_expect_eq(nest_body_decode(bd, body, len, dst, &t), -EINVAL,
				     "%s %s size %u", d->name, what, s);
		}
		for (size_t l = 0; l < 4; l++)
			cr_expect_eq(nest_body_decode(bd, body, l, dst, &t), -EINVAL,
				     "%s %s body_len %zu", d->name, what, l);
		/* size field larger than the whole body */
		sample_put_u32(body, 0, (uint32_t)len + 1);
		cr_expect_eq(nest_body_decode(bd, body, len, dst, &t), -EINVAL, "%s %s", d->name,
			     what);
	}
	NO_LEAKS();
}

Test(abi, every_op_accepts_zero_extended)
{
	const struct nest_op_desc *d;
	const struct nest_body_desc *bd;
	const char *what;
	uint8_t body[1024], dst[512], full[512];

	FOR_EACH_FIXED_BODY(d, bd, what)
	{
		memset(full, 0, sizeof(full));
		sample_fixed(bd, full);
		for (uint32_t s = bd->min_size; s <= bd->size; s++) {
			struct nest_tail t = {0};
			size_t len = sample_body_sized(bd, s, body);
			int r;

			memset(dst, 0xee, sizeof(dst));
			r = nest_body_decode(bd, body, len, dst, &t);
			cr_assert_eq(r, 0, "%s %s size %u: %d", d->name, what, s, r);
			cr_expect_eq(sample_get_u32(dst, 0), bd->size, "size rewritten");
			cr_expect(!memcmp(dst + 4, full + 4, s - 4), "%s %s: copied bytes", d->name,
				  what);
			cr_expect(nest_mem_is_zero(dst + s, bd->size - s),
				  "%s %s size %u: zero-ext", d->name, what, s);
			cr_expect_eq(dst[bd->size], 0xee, "wrote past bd->size");
			cr_expect_eq(t.ptr, body + s, "tail starts at size");
			cr_expect_eq(t.len, len - s);
		}
	}
	NO_LEAKS();
}

Test(abi, every_op_accepts_longer_zero_tail_and_refuses_nonzero)
{
	const struct nest_op_desc *d;
	const struct nest_body_desc *bd;
	const char *what;
	uint8_t body[1024], dst[512];
	const uint32_t extra = 16;

	FOR_EACH_FIXED_BODY(d, bd, what)
	{
		struct nest_tail t;
		size_t len = sample_body_sized(bd, bd->size + extra, body);

		cr_expect_eq(nest_body_decode(bd, body, len, dst, &t), 0, "%s %s longer", d->name,
			     what);
		cr_expect_eq(t.ptr, body + bd->size + extra);
		for (uint32_t i = 0; i < extra; i++) {
			body[bd->size + i] = 0x80;
			cr_expect_eq(nest_body_decode(bd, body, len, dst, &t), -E2BIG,
				     "%s %s byte %u", d->name, what, i);
			body[bd->size + i] = 0;
		}
	}
	NO_LEAKS();
}

Test(abi, every_op_refuses_unknown_flags)
{
	const struct nest_op_desc *d;
	const struct nest_body_desc *bd;
	const char *what;
	uint8_t body[1024], dst[512];
	unsigned checked = 0;

	FOR_EACH_FIXED_BODY(d, bd, what)
	{
		struct nest_tail t;
		size_t len = sample_body(bd, body);

		if (bd->flags_valid == UINT32_MAX)
			continue;
		checked++;
		for (int bit = 0; bit < 32; bit++) {
			uint32_t f = 1u << bit;

			sample_put_u32(body, 4, bd->flags_valid | f);
			cr_expect_eq(nest_body_decode(bd, body, len, dst, &t),
				     (bd->flags_valid & f) ? 0 : -EOPNOTSUPP, "%s %s bit %d",
				     d->name, what, bit);
		}
	}
	cr_expect_geq(checked, 13);
	NO_LEAKS();
}

Test(abi, every_op_refuses_nonzero_reserved)
{
	const struct nest_op_desc *d;
	const struct nest_body_desc *bd;
	const char *what;
	uint8_t body[1024], dst[512];
	unsigned checked = 0;

	FOR_EACH_FIXED_BODY(d, bd, what)
	{
		struct nest_tail t;
		size_t len = sample_body(bd, body);

		for (unsigned r = 0; r < bd->nreserved; r++) {
			for (unsigned i = 0; i < bd->reserved[r].len; i++) {
				uint8_t *p = body + bd->reserved[r].off + i;

				*p = 1;
				cr_expect_eq(nest_body_decode(bd, body, len, dst, &t), -EOPNOTSUPP,
					     "%s %s reserved@%u", d->name, what,
					     bd->reserved[r].off + i);
				*p = 0;
				checked++;
			}
		}
	}
	cr_expect_geq(checked, 11 * 4);
	NO_LEAKS();
}

Test(abi, fixed_only_bodies_refuse_trailing_bytes)
{
	const struct nest_op_desc *d;
	const struct nest_body_desc *bd;
	const char *what;
	uint8_t body[1024], dst[512];

	FOR_EACH_FIXED_BODY(d, bd, what)
	{
		struct nest_tail t;
		size_t len = sample_body(bd, body);

		if (bd->tail != NEST_TAIL_NONE)
			continue;
		body[len] = 0;
		cr_expect_eq(nest_body_decode(bd, body, len + 1, dst, &t), -EINVAL, "%s %s",
			     d->name, what);
	}
	NO_LEAKS();
}

Test(abi, empty_bodies)
{
	const struct nest_body_desc *bd = &nest_op_desc(NEST_OP_BIND)->reply;
	uint8_t b[8] = {0};
	struct nest_tail t;

	cr_expect_eq(nest_body_decode(bd, b, 0, NULL, &t), 0);
	cr_expect_eq(t.len, 0);
	cr_expect_eq(nest_body_decode(bd, b, 1, NULL, &t), -EINVAL);
	cr_expect_eq(nest_body_decode(bd, b, 8, NULL, &t), -EINVAL);
	NO_LEAKS();
}

Test(abi, decode_does_not_write_tail_on_error)
{
	const struct nest_body_desc *bd = &nest_op_desc(NEST_OP_INVALIDATE)->req;
	uint8_t body[1024], dst[64];
	struct nest_tail t = {.len = 12345};
	size_t len = sample_body(bd, body);

	cr_expect_eq(nest_body_decode(bd, body, len - 1, dst, &t), -EINVAL);
	cr_expect_eq(t.len, 12345);
	NO_LEAKS();
}

/* "72 / 68 ..." -> 72, 68; "empty" -> 0, 0; anything else (JSON, —) -> false */
static bool md_sizes(const char *cell, uint32_t *size, uint32_t *min)
{
	if (strstr(cell, "empty")) {
		*size = *min = 0;
		return true;
	}
	return sscanf(cell, " %u / %u", size, min) == 2;
}

static uint32_t md_flags(const char *cell)
{
	return strstr(cell, "—") ? UINT32_MAX : (uint32_t)strtoul(cell, NULL, 0);
}

/* One row of the PROTOCOL.md §15 summary against the table. Returns 1 if it was an op row. */
static int md_check_row(char *line)
{
	char *col[12] = {0};
	int n = 0;
	unsigned op;
	uint32_t size, min;
	const struct nest_op_desc *d;

	for (char *p = strtok(line, "|"); p && n < 12; p = strtok(NULL, "|"))
		col[n++] = p;
	if (n < 9 || sscanf(col[0], " %u", &op) != 1)
		return 0;
	d = nest_op_desc(op);
	cr_assert_not_null(d, "PROTOCOL.md lists op %u", op);
	cr_expect(strstr(col[1], d->name), "op %u: name %s vs %s", op, col[1], d->name);
	if (md_sizes(col[3], &size, &min)) {
		cr_expect_eq(size, d->req.size, "%s request size", d->name);
		cr_expect_eq(min, d->req.min_size, "%s request min", d->name);
	} else {
		cr_expect_eq(d->req.size, 0, "%s: doc says no fixed request struct", d->name);
	}
	cr_expect_eq(md_flags(col[4]), d->req.flags_valid, "%s request flags", d->name);
	cr_expect_eq((uint32_t)strtoul(strpbrk(col[5], "0123456789"), NULL, 10), d->req.min_fds,
		     "%s request fds", d->name);
	if (!d->is_event && md_sizes(col[7], &size, &min)) {
		cr_expect_eq(size, d->reply.size, "%s reply size", d->name);
		if (size)
			cr_expect_eq(min, d->reply.min_size, "%s reply min", d->name);
	}
	if (!d->is_event)
		cr_expect_eq(strstr(col[8], "0..1") ? 1 : 0, d->reply.max_fds, "%s reply fds",
			     d->name);
	return 1;
}

Test(abi, protocol_md_summary_matches_the_table)
{
	const char *src = getenv("NEST_SOURCE_DIR");
	char path[4096], line[1024];
	bool in_summary = false;
	unsigned rows = 0;
	FILE *f;

	if (!src)
		cr_skip_test("NEST_SOURCE_DIR not set (run through ctest)");
	snprintf(path, sizeof(path), "%s/docs/PROTOCOL.md", src);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "## ", 3))
			in_summary = strstr(line, "Op table summary") != NULL;
		else if (in_summary && line[0] == '|')
			rows += (unsigned)md_check_row(line);
	}
	fclose(f);
	cr_expect_eq(rows, NEXPECTED, "PROTOCOL.md §15 rows");
	NO_LEAKS();
}

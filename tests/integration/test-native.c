/* SPDX-License-Identifier: MIT */
/*
 * Protocol 1.1 against the real nestd on the sim backend (PROTOCOL.md §8.2, §8.14, §8.15, §14):
 * the sim has no native nesting, so well-framed BIND_NATIVE / INVALIDATE_NATIVE requests answer
 * EOPNOTSUPP; every framing rule of both ops is checked in front of that (sizes, tails, flags,
 * reserved, limits, the batch limit, fds), and the VM_ATTACH reply is 72 or 88 bytes by the
 * minor version the client's HELLO announced. The native paths themselves need iommufd
 * (tests/vm) or a fake nestd (tests/unit/client/test-libnest-proto.c).
 */
#include "common.h"
#include "nest-fds.h"
#include "nest-msg.h"

#define MOCK_HWPT 0xdeadu     /* IOMMU_HWPT_DATA_SELFTEST (kernel/uapi/iommufd-test.h) */
#define MOCK_INV  0xdeadbeefu /* IOMMU_HWPT_INVALIDATE_DATA_SELFTEST */
#define VTD_HWPT  1u	      /* IOMMU_HWPT_DATA_VTD_S1: struct iommu_hwpt_vtd_s1, 24 bytes */
#define VTD_INV	  0u	      /* IOMMU_HWPT_INVALIDATE_DATA_VTD_S1: 24-byte entries */

/*
 * Send @op with a fixed part of @flen bytes from @fixed (its size field as the caller set it) and
 * @tail_len bytes of 0x5a after it, with @nfds fds; return the reply's -errno (0: success).
 */
static int raw(struct tc *t, uint16_t op, const void *fixed, size_t flen, size_t tail_len,
	       const int *fds, unsigned nfds)
{
	uint8_t *tail = malloc(tail_len ? tail_len : 1);
	int r;

	cr_assert_not_null(tail);
	memset(tail, 0x5a, tail_len);
	r = tc_call(t, op, fixed, flen, tail, tail_len, fds, nfds, NULL, 0, NULL);
	free(tail);
	return r;
}

/* BIND_NATIVE: a 24-byte struct for @pasid with @data_len, and @tail_len bytes of data. */
static int bn(struct tc *t, uint32_t pasid, uint32_t type, uint32_t data_len, size_t tail_len)
{
	struct nest_bind_native b = {
		.size = sizeof(b), .hpasid = pasid, .data_type = type, .data_len = data_len};

	return raw(t, NEST_OP_BIND_NATIVE, &b, sizeof(b), tail_len, NULL, 0);
}

/* INVALIDATE_NATIVE: a 24-byte struct and @tail_len bytes of entries. */
static int in(struct tc *t, uint32_t pasid, uint32_t type, uint32_t elen, uint32_t num,
	      size_t tail_len)
{
	struct nest_invalidate_native v = {.size = sizeof(v),
					   .entry_len = elen,
					   .entry_num = num,
					   .hpasid = pasid,
					   .data_type = type};

	return raw(t, NEST_OP_INVALIDATE_NATIVE, &v, sizeof(v), tail_len, NULL, 0);
}

/* A client (HELLO with @caps, minor 1) attached to vm0 with the guest, a bound and a free PASID. */
static struct tc *native_client(struct td *d, struct it_guest *g, const char *caps,
				uint32_t *ret_bound, uint32_t *ret_free)
{
	struct tc *t = tc_connect(d->sock);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_caps(t, caps), 0);
	*ret_bound = it_setup_vm(t, "vm0", g, 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, ret_free), 0);
	return t;
}

Test(native, eopnotsupp_on_the_sim)
{
	struct td d;
	struct it_guest g;
	struct nest_vm_info vi;
	uint32_t bound, p;
	struct json_object *res = NULL, *pas, *e, *v;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.features & NEST_FEAT_NATIVE, 0, "the sim announces no native nesting");
	cr_assert_eq(tc_detach(t, 0), 0);
	tc_free(t);
	t = native_client(&d, &g, "{}", &bound, &p);
	/* well framed, every PASID state, both example formats: the VM has no NATIVE */
	cr_expect_eq(bn(t, p, MOCK_HWPT, 8, 8), -EOPNOTSUPP);
	cr_expect_eq(bn(t, p, VTD_HWPT, 24, 24), -EOPNOTSUPP);
	cr_expect_eq(bn(t, bound, VTD_HWPT, 24, 24), -EOPNOTSUPP, "before EBUSY");
	cr_expect_eq(bn(t, 777, VTD_HWPT, 24, 24), -EOPNOTSUPP, "before ENOENT");
	cr_expect_eq(bn(t, p, 0, 1, 1), -EOPNOTSUPP);
	cr_expect_eq(bn(t, p, MOCK_HWPT, NEST_NATIVE_DATA_MAX, NEST_NATIVE_DATA_MAX), -EOPNOTSUPP);
	cr_expect_eq(in(t, bound, MOCK_INV, 8, 1, 8), -EOPNOTSUPP);
	cr_expect_eq(in(t, bound, VTD_INV, 24, 3, 72), -EOPNOTSUPP);
	cr_expect_eq(in(t, p, VTD_INV, 24, 1, 24), -EOPNOTSUPP, "before ENOENT (not bound)");
	cr_expect_eq(in(t, 777, VTD_INV, 24, 1, 24), -EOPNOTSUPP, "before ENOENT (not ours)");
	cr_expect_eq(in(t, bound, MOCK_INV, NEST_NATIVE_ENTRY_MIN, 2, 8), -EOPNOTSUPP);
	cr_expect_eq(in(t, bound, MOCK_INV, NEST_NATIVE_ENTRY_MAX, 2, 128), -EOPNOTSUPP);
	/* nothing happened: the binding is the generic one and is still there */
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
	cr_assert(json_object_object_get_ex(res, "pasids", &pas));
	cr_expect_eq(json_object_array_length(pas), 2);
	for (size_t i = 0; i < json_object_array_length(pas); i++) {
		e = json_object_array_get_idx(pas, i);
		cr_assert(json_object_object_get_ex(e, "pasid", &v));
		bool is_bound = (uint32_t)json_object_get_int64(v) == bound;
		cr_assert(json_object_object_get_ex(e, "format", &v));
		if (is_bound)
			cr_expect_str_eq(json_object_get_string(v), "vtd-fl");
		else
			cr_expect_null(v);
		cr_assert(json_object_object_get_ex(e, "data_type", &v), "data_type key");
		cr_expect_null(v, "data_type is for native bindings only");
	}
	json_object_put(res);
	tc_free(a);
	/* UNBIND (the one for both kinds of binding) still works */
	cr_expect_eq(tc_unbind(t, bound), 0);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(native, bind_native_framing)
{
	struct td d;
	struct it_guest g;
	uint32_t bound, p;
	uint8_t body[64];
	struct nest_bind_native *b = (void *)body;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *t = native_client(&d, &g, "{}", &bound, &p);
	/* sizes: min 20 (the reserved word is optional), zero-extension, longer with a zero tail */
	for (uint32_t s = 0; s < 20; s++) {
		memset(body, 0, sizeof(body));
		*b = (struct nest_bind_native){.size = s, .hpasid = p, .data_len = 8};
		cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, s < 4 ? 4 : s, 8, NULL, 0), -EINVAL,
			     "size %u", s);
	}
	memset(body, 0, sizeof(body));
	*b = (struct nest_bind_native){.size = 20, .hpasid = p, .data_len = 8};
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, 20, 8, NULL, 0), -EOPNOTSUPP, "min size");
	b->size = 32;
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, 32, 8, NULL, 0), -EOPNOTSUPP,
		     "longer, zero tail");
	body[31] = 1;
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, 32, 8, NULL, 0), -E2BIG);
	body[31] = 0;
	b->size = 64;
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, 32, 8, NULL, 0), -EINVAL,
		     "size past the body");
	/*
	 * flags and __reserved are refused while decoding (§5 steps 5-6), before the tail is looked
	 * at: with a broken tail they still say EOPNOTSUPP, where a clean header says EINVAL.
	 */
	*b = (struct nest_bind_native){.size = 24, .hpasid = p, .data_len = 8};
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, 24, 7, NULL, 0), -EINVAL);
	b->flags = 1;
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, 24, 7, NULL, 0), -EOPNOTSUPP, "flags");
	b->flags = 0x80000000u;
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, 24, 8, NULL, 0), -EOPNOTSUPP, "flags");
	b->flags = 0;
	b->dev_id = 1; /* 1.2: no longer __reserved: the broken tail answers (§8.14 checks later) */
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, body, 24, 7, NULL, 0), -EINVAL, "dev_id");
	/* the data tail: exactly data_len bytes, 1 .. 256 */
	cr_expect_eq(bn(t, p, MOCK_HWPT, 0, 0), -EINVAL, "no data");
	cr_expect_eq(bn(t, p, MOCK_HWPT, 0, 8), -EINVAL, "data_len 0 with data");
	cr_expect_eq(bn(t, p, VTD_HWPT, 24, 23), -EINVAL, "short");
	cr_expect_eq(bn(t, p, VTD_HWPT, 24, 25), -EINVAL, "long");
	cr_expect_eq(bn(t, p, VTD_HWPT, 24, 0), -EINVAL, "missing");
	cr_expect_eq(bn(t, p, VTD_HWPT, NEST_NATIVE_DATA_MAX + 1, NEST_NATIVE_DATA_MAX + 1),
		     -E2BIG);
	cr_expect_eq(bn(t, p, VTD_HWPT, UINT32_MAX, 24), -E2BIG, "limit before the fit");
	cr_expect_eq(bn(t, p, VTD_HWPT, 1, 1), -EOPNOTSUPP, "1 byte is well framed");
	cr_expect_eq(bn(t, p, VTD_HWPT, NEST_NATIVE_DATA_MAX, NEST_NATIVE_DATA_MAX), -EOPNOTSUPP);
	/* the connection survived all of it */
	cr_expect_eq(tc_unbind(t, bound), 0);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(native, invalidate_native_framing)
{
	struct td d;
	struct it_guest g;
	uint32_t bound, p;
	uint8_t body[64];
	struct nest_invalidate_native *v = (void *)body;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	/* a negotiated batch of 8 */
	struct tc *t = native_client(&d, &g, "{\"max_batch\":8}", &bound, &p);
	/* sizes: min 24 (every field is needed; 16, INVALIDATE's struct, is too short) */
	for (uint32_t s = 0; s < 24; s++) {
		memset(body, 0, sizeof(body));
		*v = (struct nest_invalidate_native){
			.size = s, .entry_len = 8, .entry_num = 1, .hpasid = bound};
		cr_expect_eq(raw(t, NEST_OP_INVALIDATE_NATIVE, body, s < 4 ? 4 : s, 8, NULL, 0),
			     -EINVAL, "size %u", s);
	}
	memset(body, 0, sizeof(body));
	*v = (struct nest_invalidate_native){
		.size = 32, .entry_len = 8, .entry_num = 1, .hpasid = bound, .data_type = MOCK_INV};
	cr_expect_eq(raw(t, NEST_OP_INVALIDATE_NATIVE, body, 32, 8, NULL, 0), -EOPNOTSUPP,
		     "longer, zero tail");
	body[28] = 1;
	cr_expect_eq(raw(t, NEST_OP_INVALIDATE_NATIVE, body, 32, 8, NULL, 0), -E2BIG);
	body[28] = 0;
	/* flags: refused while decoding, before the entries are looked at */
	v->size = 24;
	v->entry_num = 0;
	cr_expect_eq(raw(t, NEST_OP_INVALIDATE_NATIVE, body, 24, 8, NULL, 0), -EINVAL);
	v->flags = 2; /* 1.2: bit 0 is NEST_INV_NATIVE_F_RID */
	cr_expect_eq(raw(t, NEST_OP_INVALIDATE_NATIVE, body, 24, 8, NULL, 0), -EOPNOTSUPP, "flags");
	/* the entries: entry_len 4 .. 64, entry_num >= 1, an exact fit, no 32-bit overflow */
	cr_expect_eq(in(t, bound, MOCK_INV, 8, 0, 0), -EINVAL, "entry_num 0");
	cr_expect_eq(in(t, bound, MOCK_INV, 0, 1, 0), -EINVAL, "entry_len 0");
	cr_expect_eq(in(t, bound, MOCK_INV, NEST_NATIVE_ENTRY_MIN - 1, 1, 3), -EINVAL);
	cr_expect_eq(in(t, bound, MOCK_INV, NEST_NATIVE_ENTRY_MAX + 1, 1, 65), -E2BIG);
	cr_expect_eq(in(t, bound, MOCK_INV, UINT32_MAX, 1, 8), -E2BIG);
	cr_expect_eq(in(t, bound, MOCK_INV, 64, 1u << 26, 64), -EOVERFLOW, "64 x 2^26 = 2^32");
	cr_expect_eq(in(t, bound, MOCK_INV, 8, 2, 15), -EINVAL, "short");
	cr_expect_eq(in(t, bound, MOCK_INV, 8, 2, 17), -EINVAL, "long");
	cr_expect_eq(in(t, bound, MOCK_INV, 8, 2, 0), -EINVAL, "no entries");
	cr_expect_eq(in(t, bound, MOCK_INV, 5, 3, 15), -EOPNOTSUPP, "any length in range");
	/* the negotiated batch limit comes before the feature check: EINVAL even on the sim */
	cr_expect_eq(in(t, bound, MOCK_INV, 8, 8, 64), -EOPNOTSUPP, "8 = max_batch");
	cr_expect_eq(in(t, bound, MOCK_INV, 8, 9, 72), -EINVAL, "9 > max_batch");
	cr_expect_eq(in(t, 777, MOCK_INV, 4, 9, 36), -EINVAL, "the limit before the PASID");
	tc_free(t);
	/* the default batch (256) */
	t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm1", 0, NULL), 0);
	cr_expect_eq(in(t, 1, MOCK_INV, 4, NEST_BATCH_DEFAULT, 4 * NEST_BATCH_DEFAULT),
		     -EOPNOTSUPP);
	cr_expect_eq(in(t, 1, MOCK_INV, 4, NEST_BATCH_DEFAULT + 1, 4 * (NEST_BATCH_DEFAULT + 1)),
		     -EINVAL);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* Both ops take no fd: one sent with them is refused (EINVAL) and closed by nestd. */
Test(native, fds_are_refused_and_closed)
{
	struct td d;
	struct it_guest g;
	uint32_t bound, p;
	struct nest_bind_native b = {
		.size = sizeof(b), .hpasid = 0, .data_type = MOCK_HWPT, .data_len = 8};
	struct nest_invalidate_native v = {.size = sizeof(v),
					   .entry_len = 8,
					   .entry_num = 1,
					   .hpasid = 0,
					   .data_type = MOCK_INV};
	int fds[4];

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *t = native_client(&d, &g, "{}", &bound, &p);
	int base = td_fd_count_stable(&d);
	cr_assert_gt(base, 0);
	b.hpasid = p;
	v.hpasid = bound;
	for (int i = 0; i < 4; i++)
		fds[i] = tc_memfd(4096, true);
	for (int round = 0; round < 10; round++) {
		for (unsigned n = 1; n <= 4; n++) {
			cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, &b, sizeof(b), 8, fds, n), -EINVAL,
				     "BIND_NATIVE with %u fds", n);
			cr_expect_eq(raw(t, NEST_OP_INVALIDATE_NATIVE, &v, sizeof(v), 8, fds, n),
				     -EINVAL, "INVALIDATE_NATIVE with %u fds", n);
		}
		/* also when the body is broken (the fd count is checked first) */
		cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, &b, sizeof(b), 3, fds, 1), -EINVAL);
		cr_expect_eq(raw(t, NEST_OP_INVALIDATE_NATIVE, &v, sizeof(v), 3, fds, 2), -EINVAL);
	}
	cr_expect_eq(td_fd_count_stable(&d), base, "nestd kept fds of refused native requests");
	/* and without fds the same requests are well formed (EOPNOTSUPP on the sim) */
	cr_expect_eq(raw(t, NEST_OP_BIND_NATIVE, &b, sizeof(b), 8, NULL, 0), -EOPNOTSUPP);
	cr_expect_eq(raw(t, NEST_OP_INVALIDATE_NATIVE, &v, sizeof(v), 8, NULL, 0), -EOPNOTSUPP);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* Attach @vm on a new connection whose HELLO says @minor; returns the reply body's length. */
static size_t attach_len(struct td *d, uint16_t minor, const char *vm, struct nest_vm_info *ret,
			 struct tc **ret_t)
{
	struct nest_vm_attach a = {.size = sizeof(a)};
	uint8_t body[256];
	size_t len = 0;
	struct tc *t = tc_connect(d->sock);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_minor(t, minor, "{}"), 0);
	snprintf(a.name, sizeof(a.name), "%s", vm);
	cr_assert_eq(tc_call(t, NEST_OP_VM_ATTACH, &a, sizeof(a), NULL, 0, NULL, 0, body,
			     sizeof(body), &len),
		     0);
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, body, len < sizeof(*ret) ? len : sizeof(*ret));
	*ret_t = t;
	return len;
}

Test(native, vm_info_size_by_hello_minor)
{
	struct td d;
	struct nest_vm_info vi;
	struct tc *t;

	it_start(&d, "GracePeriodSec=30", NULL);
	/* minor 0: the 1.0 struct, 72 bytes, whose size field says 72 */
	cr_expect_eq(attach_len(&d, 0, "vm0", &vi, &t), NEST_VM_INFO_SIZE_1_0);
	cr_expect_eq(vi.size, NEST_VM_INFO_SIZE_1_0);
	cr_expect_eq(vi.backend, NEST_BACKEND_SIM);
	cr_expect_eq(vi.num_devices, 2);
	cr_expect_eq(vi.features & NEST_FEAT_NATIVE, 0);
	cr_expect_eq(vi.reattached, 0);
	/* the client's minor decides, also for the re-attach of a held VM */
	cr_assert_eq(tc_detach(t, NEST_DETACH_F_KEEP), 0);
	tc_free(t);
	cr_expect_eq(attach_len(&d, 0, "vm0", &vi, &t), NEST_VM_INFO_SIZE_1_0);
	cr_expect_eq(vi.reattached, 1);
	cr_assert_eq(tc_detach(t, NEST_DETACH_F_KEEP), 0);
	tc_free(t);
	/* minor 1: all 88 bytes; the sim has no native types (0) */
	cr_expect_eq(attach_len(&d, 1, "vm0", &vi, &t), sizeof(struct nest_vm_info));
	cr_expect_eq(vi.size, sizeof(struct nest_vm_info));
	cr_expect_eq(vi.reattached, 1);
	cr_expect_eq(vi.hw_info_type, 0);
	cr_expect_eq(vi.hwpt_data_type, 0);
	cr_expect_eq(vi.inv_data_type, 0);
	cr_expect_eq(vi.inv_entry_len, 0);
	cr_assert_eq(tc_detach(t, 0), 0);
	tc_free(t);
	/* a newer client (minor 7): everything this nestd knows */
	cr_expect_eq(attach_len(&d, 7, "vm1", &vi, &t), sizeof(struct nest_vm_info));
	cr_expect_eq(vi.num_devices, 1);
	tc_free(t);
	/* a minor-0 client that sends a 1.1 op anyway gets the op's answer, nothing worse */
	cr_expect_eq(attach_len(&d, 0, "vm1", &vi, &t), NEST_VM_INFO_SIZE_1_0);
	cr_expect_eq(in(t, 1, MOCK_INV, 8, 1, 8), -EOPNOTSUPP);
	cr_expect_eq(bn(t, 1, MOCK_HWPT, 8, 8), -EOPNOTSUPP);
	cr_expect(!tc_closed(t, 100), "connection stays open");
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

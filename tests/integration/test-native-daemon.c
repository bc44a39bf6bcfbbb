/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of protocol 1.1 with a backend that has native nesting: nestd-fake-native
 * (fake-native.c: the sim plus a selftest-mock-like native format, with hooks that make one
 * device fail). BIND_NATIVE: the order of the checks, the backend's refusals, the rollback over
 * the VM's devices, UNBIND / PASID_FREE, the admin views; INVALIDATE_NATIVE: request-level
 * errors, done / first_error folded over the devices, counters; VM_ATTACH by HELLO minor with a
 * NATIVE VM; a native binding kept over a grace period. What the kernel does with the data is
 * tested in the guest (tests/vm).
 */
#include "common.h"
#include "nest-msg.h"

#define HWPT	      0xdeadu		    /* the fake's (the selftest mock's) HWPT data type */
#define INV	      0xdeadbeefu	    /* and invalidation type, 8-byte entries */
#define FAIL(dev)     (0xfa110000u | (dev)) /* fails with EIO on that device */
#define NOSPC(dev)    (0xfa120000u | (dev)) /* fails with ENOSPC on that device */
#define EACH	      0xfa130000u /* fails on every device: ENOSPC on device 1, EIO on the others */
#define DEV_A	      1u	  /* vm0's devices */
#define DEV_B	      2u
#define IOTLB_DEFAULT 0xbadbeefu

static void start(struct td *d, const char *extra_vm0)
{
	char conf[2048];

	td_init(d);
	d->bin = NESTD_FAKE_NATIVE;
	it_std_conf(conf, sizeof(conf), extra_vm0, NULL);
	td_write_conf(d, conf);
	cr_assert_eq(td_start(d), 0, "nestd-fake-native did not start");
}

/* BIND_NATIVE of @len bytes at @data. */
static int bn_data(struct tc *t, uint32_t pasid, uint32_t type, const void *data, uint32_t len)
{
	struct nest_bind_native b = {
		.size = sizeof(b), .hpasid = pasid, .data_type = type, .data_len = len};

	return tc_call(t, NEST_OP_BIND_NATIVE, &b, sizeof(b), data, len, NULL, 0, NULL, 0, NULL);
}

/* BIND_NATIVE of {iotlb, pagetable_type}. */
static int bn(struct tc *t, uint32_t pasid, uint32_t type, uint32_t iotlb, uint32_t pt_type)
{
	uint32_t st[2] = {iotlb, pt_type};

	return bn_data(t, pasid, type, st, sizeof(st));
}

/* INVALIDATE_NATIVE of @n entries of @elen bytes; on success *ret holds the reply. */
static int in_raw(struct tc *t, uint32_t pasid, uint32_t type, const void *e, uint32_t elen,
		  uint32_t n, struct nest_invalidate_reply *ret)
{
	struct nest_invalidate_native v = {.size = sizeof(v),
					   .entry_len = elen,
					   .entry_num = n,
					   .hpasid = pasid,
					   .data_type = type};
	struct nest_invalidate_reply rep = {0};
	size_t len = 0;
	int r = tc_call(t, NEST_OP_INVALIDATE_NATIVE, &v, sizeof(v), e, (size_t)elen * n, NULL, 0,
			&rep, sizeof(rep), &len);

	if (r == 0) {
		cr_expect_eq(len, sizeof(rep), "reply size");
		cr_expect_eq(rep.size, sizeof(rep));
		*ret = rep;
	}
	return r;
}

/* @n 8-byte entries {flags, iotlb_id = i}, except those set by the caller afterwards. */
static void entries(uint32_t *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		e[2 * i] = 0;
		e[2 * i + 1] = i;
	}
}

/* The vm.show entry of @pasid (a new reference) or NULL. */
static struct json_object *show_pasid(struct tc *a, uint32_t pasid, struct json_object **ret_res)
{
	struct json_object *res = NULL, *pas, *e, *v;

	cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
	*ret_res = res;
	cr_assert(json_object_object_get_ex(res, "pasids", &pas));
	for (size_t i = 0; i < json_object_array_length(pas); i++) {
		e = json_object_array_get_idx(pas, i);
		if (json_object_object_get_ex(e, "pasid", &v) &&
		    (uint32_t)json_object_get_int64(v) == pasid)
			return e;
	}
	return NULL;
}

static long counter(struct tc *a, const char *key)
{
	struct json_object *res = NULL, *c, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
	if (json_object_object_get_ex(res, "counters", &c) && json_object_object_get_ex(c, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

static bool is_null(struct json_object *o, const char *key)
{
	struct json_object *v = (struct json_object *)1;

	return json_object_object_get_ex(o, key, &v) && v == NULL;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "(null)";
}

static long num(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && v ? (long)json_object_get_int64(v) : -1;
}

Test(native_daemon, vm_info_of_a_native_vm)
{
	struct td d;
	struct nest_vm_info vi;
	uint8_t body[128];
	size_t len = 0;
	struct nest_vm_attach at = {.size = sizeof(at), .name = "vm0"};

	start(&d, NULL);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.size, sizeof(vi));
	cr_expect(vi.features & NEST_FEAT_NATIVE);
	cr_expect_eq(vi.hw_info_type, 0xfeedbeefu);
	cr_expect_eq(vi.hwpt_data_type, HWPT);
	cr_expect_eq(vi.inv_data_type, INV);
	cr_expect_eq(vi.inv_entry_len, 8);
	tc_free(t);
	/* a minor-0 client: the 72-byte struct and no NATIVE bit, but the ops work for it */
	t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_minor(t, 0, "{}"), 0);
	cr_assert_eq(tc_call(t, NEST_OP_VM_ATTACH, &at, sizeof(at), NULL, 0, NULL, 0, body,
			     sizeof(body), &len),
		     0);
	cr_expect_eq(len, NEST_VM_INFO_SIZE_1_0);
	memcpy(&vi, body, NEST_VM_INFO_SIZE_1_0);
	cr_expect_eq(vi.size, NEST_VM_INFO_SIZE_1_0);
	cr_expect_eq(vi.features & NEST_FEAT_NATIVE, 0);
	cr_expect(vi.features & NEST_FEAT_BIND_PGTBL, "the other bits are kept");
	uint32_t p = 0;
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_expect_eq(bn(t, p, HWPT, IOTLB_DEFAULT, 0), 0);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(native_daemon, bind_native)
{
	struct td d;
	struct json_object *res, *e;
	uint32_t p = 0, q = 0, r = 0;
	uint8_t data[16] = {0};

	start(&d, NULL);
	struct tc *t = it_client(&d);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &q), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &r), 0);
	/* the order: the announced type, then the PASID, then its state, then the backend */
	cr_expect_eq(bn(t, 777, 1, IOTLB_DEFAULT, 0), -EOPNOTSUPP, "type before PASID");
	cr_expect_eq(bn(t, 777, HWPT, IOTLB_DEFAULT, 0), -ENOENT);
	cr_expect_eq(bn(t, p, HWPT, IOTLB_DEFAULT, 0), 0);
	cr_expect_eq(bn(t, p, 1, IOTLB_DEFAULT, 0), -EOPNOTSUPP, "type before EBUSY");
	cr_expect_eq(bn(t, p, HWPT, IOTLB_DEFAULT, 0), -EBUSY);
	cr_expect_eq(tc_bind(t, p, IT_GPGD, 48, 0), -EBUSY, "a generic BIND on a native binding");
	/* what the backend refuses for the type (the kernel's size rule, a bit it does not have) */
	cr_expect_eq(bn(t, q, HWPT, IOTLB_DEFAULT, 1), -EOPNOTSUPP);
	cr_expect_eq(bn_data(t, q, HWPT, data, 4), -EINVAL, "shorter than the kernel's struct");
	data[12] = 1;
	cr_expect_eq(bn_data(t, q, HWPT, data, 16), -E2BIG, "non-zero past the kernel's struct");
	data[12] = 0;
	cr_expect_eq(bn_data(t, r, HWPT, data, 16), 0, "a zero tail is fine");
	/* all or nothing: device B fails after A was bound; A is unbound again */
	cr_expect_eq(bn(t, q, HWPT, FAIL(DEV_B), 0), -EIO);
	cr_expect_eq(bn(t, q, HWPT, FAIL(DEV_A), 0), -EIO);
	e = show_pasid(a, q, &res);
	cr_assert_not_null(e);
	cr_expect(!json_object_get_boolean(json_object_object_get(e, "bound")));
	json_object_put(res);
	cr_expect_eq(bn(t, q, HWPT, IOTLB_DEFAULT, 0), 0, "no device was left bound");
	cr_expect_eq(counter(a, "binds"), 3);
	/* the admin views */
	e = show_pasid(a, p, &res);
	cr_assert_not_null(e);
	cr_expect(json_object_get_boolean(json_object_object_get(e, "bound")));
	cr_expect_str_eq(str(e, "format"), "native");
	cr_expect_eq(num(e, "data_type"), HWPT);
	cr_expect(is_null(e, "gpgd"));
	cr_expect(is_null(e, "addr_width"));
	cr_expect(is_null(e, "vtd_flags"));
	json_object_put(res);
	cr_assert_eq(tc_admin(a, "pasid.list", "{\"vm\":\"vm0\"}", &res), 0);
	e = json_object_array_get_idx(json_object_object_get(res, "pasids"), 0);
	cr_assert_not_null(e);
	cr_expect(is_null(e, "gpgd"));
	json_object_put(res);
	cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 3);
	/* UNBIND undoes it (on every device: binding again works), PASID_FREE too */
	cr_expect_eq(tc_unbind(t, p), 0);
	cr_expect_eq(tc_unbind(t, p), -ENOENT);
	e = show_pasid(a, p, &res);
	cr_expect(!json_object_get_boolean(json_object_object_get(e, "bound")));
	cr_expect(is_null(e, "format"));
	cr_expect(is_null(e, "data_type"));
	json_object_put(res);
	cr_expect_eq(bn(t, p, HWPT, IOTLB_DEFAULT, 0), 0);
	cr_expect_eq(counter(a, "unbinds"), 1);
	uint32_t freed = 0;
	cr_expect_eq(tc_pasid_free(t, 1, NEST_PASID_MAX, &freed), 0);
	cr_expect_eq(freed, 3);
	cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_expect_eq(bn(t, p, HWPT, IOTLB_DEFAULT, 0), 0, "nothing left bound in the backend");
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(native_daemon, invalidate_native)
{
	struct td d;
	struct it_guest g;
	struct nest_invalidate_reply rep;
	uint32_t e[2 * 8], e16[4 * 2] = {0};
	uint32_t p = 0, q = 0, gen;

	start(&d, NULL);
	it_guest_init(&g);
	struct tc *t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_caps(t, "{\"max_batch\":6}"), 0);
	struct tc *a = it_admin(&d);
	gen = it_setup_vm(t, "vm0", &g, 0); /* a generic binding */
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &q), 0);
	cr_assert_eq(bn(t, p, HWPT, IOTLB_DEFAULT, 0), 0);
	/* all done on both devices */
	entries(e, 5);
	cr_expect_eq(in_raw(t, p, INV, e, 8, 5, &rep), 0);
	cr_expect_eq(rep.done, 5);
	cr_expect_eq(rep.first_error, 0);
	/* entry 2 fails on device B only: done 2, EIO */
	e[2 * 2 + 1] = FAIL(DEV_B);
	cr_expect_eq(in_raw(t, p, INV, e, 8, 5, &rep), 0);
	cr_expect_eq(rep.done, 2);
	cr_expect_eq(rep.first_error, EIO);
	/*
	 * Devices stopping at different entries: the smaller done and the errno of the device that
	 * stopped there, whichever device comes first; on a tie, the first device's.
	 */
	entries(e, 5);
	e[2 * 3 + 1] = NOSPC(DEV_A);
	e[2 * 1 + 1] = FAIL(DEV_B);
	cr_expect_eq(in_raw(t, p, INV, e, 8, 5, &rep), 0);
	cr_expect_eq(rep.done, 1);
	cr_expect_eq(rep.first_error, EIO, "device B's: A stopped later");
	entries(e, 5);
	e[2 * 1 + 1] = NOSPC(DEV_A);
	e[2 * 3 + 1] = FAIL(DEV_B);
	cr_expect_eq(in_raw(t, p, INV, e, 8, 5, &rep), 0);
	cr_expect_eq(rep.done, 1);
	cr_expect_eq(rep.first_error, ENOSPC, "device A's");
	entries(e, 5);
	e[2 * 4] = 2; /* an unknown flag: both devices stop at 4 */
	cr_expect_eq(in_raw(t, p, INV, e, 8, 5, &rep), 0);
	cr_expect_eq(rep.done, 4);
	cr_expect_eq(rep.first_error, EOPNOTSUPP);
	entries(e, 5);
	e[2 * 2 + 1] = EACH;
	cr_expect_eq(in_raw(t, p, INV, e, 8, 5, &rep), 0);
	cr_expect_eq(rep.done, 2);
	cr_expect_eq(rep.first_error, ENOSPC, "a tie: the first device's");
	/* the backend's entry rules: shorter than the kernel's entry, longer with a non-zero tail */
	entries(e, 2);
	cr_expect_eq(in_raw(t, p, INV, e, 4, 2, &rep), 0);
	cr_expect_eq(rep.done, 0);
	cr_expect_eq(rep.first_error, EINVAL);
	e16[4] = 0;
	e16[7] = 1; /* entry 1, byte 12 */
	cr_expect_eq(in_raw(t, p, INV, e16, 16, 2, &rep), 0);
	cr_expect_eq(rep.done, 1);
	cr_expect_eq(rep.first_error, E2BIG);
	/* a generic binding is a binding too */
	entries(e, 3);
	cr_expect_eq(in_raw(t, gen, INV, e, 8, 3, &rep), 0);
	cr_expect_eq(rep.done, 3);
	/* request-level errors, in order */
	entries(e, 7);
	cr_expect_eq(in_raw(t, 777, 1, e, 8, 7, &rep), -EINVAL, "max_batch first");
	cr_expect_eq(in_raw(t, 777, 1, e, 8, 6, &rep), -EOPNOTSUPP, "the type");
	cr_expect_eq(in_raw(t, 777, INV, e, 8, 6, &rep), -ENOENT, "not ours");
	cr_expect_eq(in_raw(t, q, INV, e, 8, 6, &rep), -ENOENT, "not bound");
	cr_expect_eq(in_raw(t, p, INV, e, 8, 6, &rep), 0);
	cr_expect_eq(rep.done, 6);
	/* counted like INVALIDATE: one per request, the entries done */
	cr_expect_eq(counter(a, "invalidations"), 10);
	cr_expect_eq(counter(a, "inv_entries"), 5 + 2 + 1 + 1 + 4 + 2 + 0 + 1 + 3 + 6);
	/* after UNBIND: ENOENT */
	cr_expect_eq(tc_unbind(t, p), 0);
	cr_expect_eq(in_raw(t, p, INV, e, 8, 1, &rep), -ENOENT);
	tc_free(a);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(native_daemon, native_binding_kept_over_a_grace_period)
{
	struct td d;
	struct nest_vm_info vi;
	struct nest_invalidate_reply rep;
	uint32_t e[2], p = 0;

	start(&d, "GracePeriodSec=30");
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_assert_eq(bn(t, p, HWPT, IOTLB_DEFAULT, 0), 0);
	tc_free(t); /* the VMM goes away: the VM is held */
	t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.reattached, 1);
	cr_expect_eq(vi.hwpt_data_type, HWPT);
	entries(e, 1);
	cr_expect_eq(in_raw(t, p, INV, e, 8, 1, &rep), 0);
	cr_expect_eq(rep.done, 1);
	cr_expect_eq(bn(t, p, HWPT, IOTLB_DEFAULT, 0), -EBUSY, "still bound");
	cr_assert_eq(tc_detach(t, 0), 0);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

#define INV_FAIL 0xfa1100000ull /* fake-native.c: an ADDR entry there fails with EIO on device 2 */

/* Integer @key of the backend's counters (admin stats "backend"). */
static long be_ctr(struct tc *a, const char *key)
{
	struct json_object *res = NULL, *o, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "stats", NULL, &res), 0);
	if (json_object_object_get_ex(res, "backend", &o) && json_object_object_get_ex(o, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

static int bind_dev(struct tc *t, uint32_t flags, uint32_t pasid, uint32_t dev)
{
	struct nest_bind b = {.size = sizeof(b),
			      .flags = flags,
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .gpgd = IT_GPGD,
			      .hpasid = pasid,
			      .dev_id = dev};

	return tc_call(t, NEST_OP_BIND, &b, sizeof(b), NULL, 0, NULL, 0, NULL, 0, NULL);
}

/*
 * INVALIDATE reaches a PASID's devices only (a DEVICE bind's subset), entries for every PASID
 * and for a PASID of the whole VM every device, in one backend call per device (batched) or entry
 * by entry (a backend without invalidate_batch); a device that fails an entry of its subset
 * reports it by its index in the batch.
 */
static void subset_reach(bool batched)
{
	struct td d;
	struct it_guest g;
	struct nest_invalidate_reply ir;
	uint32_t p = 0, p2 = 0;
	long c1, c2;

	td_init(&d);
	d.bin = NESTD_FAKE_NATIVE;
	if (!batched)
		d.env[0] = "NESTD_FAKE_NO_BATCH=1";
	char conf[2048];
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0, "nestd-fake-native did not start");
	it_guest_init(&g);
	struct tc *t = it_client(&d);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p2), 0);
	cr_assert_eq(bind_dev(t, NEST_BIND_F_DEVICE, p, DEV_A), 0);
	cr_assert_eq(bind_dev(t, 0, p2, 0), 0);
	struct nest_inv_entry e[5] = {
		{.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = p},
		{.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_DOMAIN},
		{.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = p},
		{.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = p2},
		{.cache = NEST_CACHE_DEV_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .pasid = p,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 1},
	};
	cr_assert_eq(tc_invalidate(t, e, 5, &ir), 0);
	cr_expect_eq(ir.done, 5);
	cr_expect_eq(ir.first_error, 0);
	cr_expect_eq(be_ctr(a, "inv_entries_d1"), 5, "device 1: every entry");
	cr_expect_eq(be_ctr(a, "inv_entries_d2"), 2, "device 2: the DOMAIN one and p2's");
	cr_expect_eq(be_ctr(a, "inv_calls_d1"), batched ? 1 : 5);
	cr_expect_eq(be_ctr(a, "inv_calls_d2"), batched ? 1 : 2);
	cr_expect_eq(be_ctr(a, "inv_entries_d7"), 0, "never vm1's device");
	/* only p: device 2 gets nothing at all */
	cr_assert_eq(tc_invalidate(t, e, 1, &ir), 0);
	cr_expect_eq(be_ctr(a, "inv_entries_d2"), 2);
	cr_expect_eq(be_ctr(a, "inv_entries_d1"), 6);
	/* device 2 fails p2's entry, the third of the batch and the first of its subset */
	e[3] = (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB,
				       .granularity = NEST_INV_GRANU_ADDR,
				       .pasid = p2,
				       .addr = INV_FAIL,
				       .granule_size = 4096,
				       .nb_granules = 1};
	c1 = be_ctr(a, "inv_entries_d1");
	c2 = be_ctr(a, "inv_entries_d2");
	cr_assert_eq(tc_invalidate(t, &e[2], 3, &ir), 0);
	cr_expect_eq(ir.done, 1, "stopped at the batch's entry 1 (device 2's entry 0)");
	cr_expect_eq(ir.first_error, EIO);
	cr_expect_eq(be_ctr(a, "inv_entries_d1") - c1, batched ? 3 : 2);
	cr_expect_eq(be_ctr(a, "inv_entries_d2") - c2, 1, "only p2's entry");
	tc_free(a);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(native_daemon, invalidate_honours_the_device_subset_batched)
{
	subset_reach(true);
}

Test(native_daemon, invalidate_honours_the_device_subset_entry_by_entry)
{
	subset_reach(false);
}

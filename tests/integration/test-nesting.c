/* SPDX-License-Identifier: MIT */
/*
 * Protocol 1.2's nesting additions through nestd on the sim backend: a bind on a subset of the
 * VM's devices (NEST_BIND_F_DEVICE), a stage-1 bind on a device's RID (NEST_BIND_F_RID: DMA
 * without PASID), an atomic replace (NEST_BIND_F_REPLACE), their errors, what the admin socket
 * shows, and that a client that goes away leaves nothing behind.
 */
#include "common.h"

/* A second guest table (PML4 0x5000 .. PT 0x8000): GVA 0x400000 -> GPA 0x102000. */
#define GPGD2 0x5000u
#define GPA2  (IT_GPA + 0x2000u)

static void guest_table2(struct it_guest *g)
{
	uint64_t *pml4 = (uint64_t *)(g->mem + 0x5000), *pdpt = (uint64_t *)(g->mem + 0x6000);
	uint64_t *pd = (uint64_t *)(g->mem + 0x7000), *pt = (uint64_t *)(g->mem + 0x8000);

	pml4[0] = 0x6000 | IT_PTE_FLAGS;
	pdpt[0] = 0x7000 | IT_PTE_FLAGS;
	pd[2] = 0x8000 | IT_PTE_FLAGS;
	pt[0] = GPA2 | IT_PTE_FLAGS;
	memcpy(g->mem + IT_GPA, "AAAA", 4);
	memcpy(g->mem + GPA2, "BBBB", 4);
}

static int bind(struct tc *t, uint32_t flags, uint32_t pasid, uint32_t dev, uint64_t gpgd)
{
	struct nest_bind b = {.size = sizeof(b),
			      .flags = flags,
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .gpgd = gpgd,
			      .hpasid = pasid,
			      .dev_id = dev};

	return tc_call(t, NEST_OP_BIND, &b, sizeof(b), NULL, 0, NULL, 0, NULL, 0, NULL);
}

static int unbind(struct tc *t, uint32_t flags, uint32_t pasid, uint32_t dev)
{
	struct nest_unbind u = {.size = sizeof(u), .flags = flags, .hpasid = pasid, .dev_id = dev};

	return tc_call(t, NEST_OP_UNBIND, &u, sizeof(u), NULL, 0, NULL, 0, NULL, 0, NULL);
}

/* 4 bytes read by @dev through (pasid, addr): "AAAA", "BBBB", or "" with *fault set. */
static const char *rd(struct tc *t, uint32_t dev, uint32_t pasid, uint64_t addr, uint32_t *fault)
{
	static char buf[5];
	struct nest_sim_dma_reply dr;

	memset(buf, 0, sizeof(buf));
	cr_assert_eq(tc_dma(t, dev, pasid, addr, 0, buf, 4, &dr), 0);
	*fault = dr.fault_reason;
	return buf;
}

/* Every cache of the VM: IOTLB and PASID cache domain-wide, device TLBs over the GVA. */
static void inv_all(struct tc *t)
{
	struct nest_invalidate_reply ir;
	struct nest_inv_entry e[2] = {
		{.cache = NEST_CACHE_IOTLB | NEST_CACHE_PASID,
		 .granularity = NEST_INV_GRANU_DOMAIN},
		{.cache = NEST_CACHE_DEV_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 1},
	};

	cr_assert_eq(tc_invalidate(t, e, 2, &ir), 0);
	cr_assert_eq(ir.done, 2);
}

/* The device ids admin vm.show lists for PASID @pasid of vm0, as "1,2". */
static const char *admin_pasid_devs(struct td *d, uint32_t pasid)
{
	static char out[64];
	struct tc *a = it_admin(d);
	struct json_object *res = NULL, *arr, *p, *v, *devs;

	out[0] = '\0';
	cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
	cr_assert(json_object_object_get_ex(res, "pasids", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		p = json_object_array_get_idx(arr, i);
		if (!json_object_object_get_ex(p, "pasid", &v) ||
		    (uint32_t)json_object_get_int64(v) != pasid)
			continue;
		cr_assert(json_object_object_get_ex(p, "devices", &devs));
		for (size_t k = 0; k < json_object_array_length(devs); k++)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%lld",
				 k ? "," : "",
				 (long long)json_object_get_int64(
					 json_object_array_get_idx(devs, k)));
	}
	json_object_put(res);
	tc_free(a);
	return out;
}

Test(nesting, subset_bind_and_unbind_one_device)
{
	struct td d;
	struct it_guest g;
	struct nest_vm_info info;
	uint32_t p = 0, p2 = 0, f;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	guest_table2(&g);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &info), 0);
	cr_expect_eq(info.features &
			     (NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE),
		     NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p2), 0);

	cr_assert_eq(bind(t, NEST_BIND_F_DEVICE, p, 1, IT_GPGD), 0);
	cr_expect_str_eq(rd(t, 1, p, IT_GVA, &f), "AAAA");
	cr_expect_eq(f, 0);
	rd(t, 2, p, IT_GVA, &f);
	cr_expect_eq(f, NEST_FAULT_PASID_NOT_PRESENT, "device 2 is not in the subset");
	cr_expect_str_eq(admin_pasid_devs(&d, p), "1");
	cr_expect_eq(bind(t, NEST_BIND_F_DEVICE, p, 1, IT_GPGD), -EBUSY, "bound there already");
	cr_expect_eq(bind(t, 0, p, 0, IT_GPGD), -EBUSY, "a plain bind on a partly bound PASID");
	cr_expect_eq(bind(t, NEST_BIND_F_DEVICE, p, 2, GPGD2), -EBUSY, "one table per PASID");
	cr_assert_eq(bind(t, NEST_BIND_F_DEVICE, p, 2, IT_GPGD), 0, "the same table on device 2");
	cr_expect_str_eq(rd(t, 2, p, IT_GVA, &f), "AAAA");
	cr_expect_str_eq(admin_pasid_devs(&d, p), "1,2");

	/* unbind one device: the other keeps the table */
	cr_assert_eq(unbind(t, NEST_BIND_F_DEVICE, p, 1), 0);
	inv_all(t);
	rd(t, 1, p, IT_GVA, &f);
	cr_expect_eq(f, NEST_FAULT_PASID_NOT_PRESENT);
	cr_expect_str_eq(rd(t, 2, p, IT_GVA, &f), "AAAA");
	cr_expect_eq(unbind(t, NEST_BIND_F_DEVICE, p, 1), -ENOENT, "not bound on device 1");
	cr_expect_str_eq(admin_pasid_devs(&d, p), "2");
	{
		struct tc *a = it_admin(&d);

		cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 1);
		tc_free(a);
	}
	/* a PASID bound on device 2 only, another table: p2 is independent of p */
	cr_assert_eq(bind(t, NEST_BIND_F_DEVICE, p2, 2, GPGD2), 0);
	cr_expect_str_eq(rd(t, 2, p2, IT_GVA, &f), "BBBB");
	/* the last device unbound: the PASID is unbound, its table forgotten */
	cr_assert_eq(unbind(t, NEST_BIND_F_DEVICE, p, 2), 0);
	cr_expect_eq(unbind(t, 0, p, 0), -ENOENT);
	cr_assert_eq(bind(t, 0, p, 0, GPGD2), 0, "now a plain bind, another table");
	inv_all(t);
	cr_expect_str_eq(rd(t, 1, p, IT_GVA, &f), "BBBB");
	cr_expect_str_eq(admin_pasid_devs(&d, p), "1,2");
	cr_assert_eq(unbind(t, 0, p, 0), 0, "plain unbind: every device");
	cr_expect_str_eq(admin_pasid_devs(&d, p), "");

	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(nesting, rid_bind_dma_without_pasid_and_unbind)
{
	struct td d;
	struct it_guest g;
	uint32_t f;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	guest_table2(&g);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);

	/* no RID bind: a DMA without PASID (SIM_DMA pasid 0) addresses GPAs, stage 2 alone */
	cr_expect_str_eq(rd(t, 1, 0, IT_GPA, &f), "AAAA");
	cr_expect_eq(f, 0);
	cr_assert_eq(bind(t, NEST_BIND_F_DEVICE | NEST_BIND_F_RID, 0, 1, IT_GPGD), 0);
	cr_expect_str_eq(rd(t, 1, 0, IT_GVA, &f), "AAAA", "GVA -> GPA -> host through the RID");
	cr_expect_eq(f, 0);
	rd(t, 1, 0, IT_GPA, &f);
	cr_expect_eq(f, NEST_FAULT_PTE_NOT_PRESENT, "a GPA is a GVA now");
	cr_expect_str_eq(rd(t, 2, 0, IT_GPA, &f), "AAAA", "device 2's RID is still stage 2");
	cr_expect_eq(bind(t, NEST_BIND_F_DEVICE | NEST_BIND_F_RID, 0, 1, GPGD2), -EBUSY);
	{
		struct tc *a = it_admin(&d);
		struct json_object *res = NULL, *devs, *v;

		cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
		cr_assert(json_object_object_get_ex(res, "devices", &devs));
		cr_assert(json_object_object_get_ex(json_object_array_get_idx(devs, 0), "rid_bind",
						    &v));
		cr_expect_str_eq(json_object_get_string(v), "vtd-fl");
		json_object_put(res);
		cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 1);
		tc_free(a);
	}
	cr_assert_eq(unbind(t, NEST_BIND_F_DEVICE | NEST_BIND_F_RID, 0, 1), 0);
	cr_expect_str_eq(rd(t, 1, 0, IT_GPA, &f), "AAAA", "back on stage 2, nothing cached");
	cr_expect_eq(f, 0);
	cr_expect_eq(unbind(t, NEST_BIND_F_DEVICE | NEST_BIND_F_RID, 0, 1), -ENOENT);

	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(nesting, replace_swaps_tables_without_a_fault)
{
	struct td d;
	struct it_guest g;
	uint32_t p = 0, f;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	guest_table2(&g);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);

	/* a PASID on every device */
	cr_expect_eq(bind(t, NEST_BIND_F_REPLACE, p, 0, GPGD2), -ENOENT, "replace of unbound");
	cr_assert_eq(bind(t, 0, p, 0, IT_GPGD), 0);
	cr_expect_str_eq(rd(t, 1, p, IT_GVA, &f), "AAAA"); /* caches filled */
	cr_expect_str_eq(rd(t, 2, p, IT_GVA, &f), "AAAA");
	cr_assert_eq(bind(t, NEST_BIND_F_REPLACE, p, 0, GPGD2), 0);
	/* before the invalidation: the old table's translation, never a fault */
	cr_expect_str_eq(rd(t, 1, p, IT_GVA, &f), "AAAA");
	cr_expect_eq(f, 0);
	inv_all(t);
	cr_expect_str_eq(rd(t, 1, p, IT_GVA, &f), "BBBB", "the new table after invalidation");
	cr_expect_str_eq(rd(t, 2, p, IT_GVA, &f), "BBBB");
	cr_expect_str_eq(admin_pasid_devs(&d, p), "1,2");
	/* REPLACE with DEVICE only where that device is the PASID's only one */
	cr_expect_eq(bind(t, NEST_BIND_F_REPLACE | NEST_BIND_F_DEVICE, p, 1, IT_GPGD), -EBUSY);
	cr_assert_eq(unbind(t, NEST_BIND_F_DEVICE, p, 2), 0);
	cr_assert_eq(bind(t, NEST_BIND_F_REPLACE | NEST_BIND_F_DEVICE, p, 1, IT_GPGD), 0);
	cr_expect_eq(bind(t, NEST_BIND_F_REPLACE | NEST_BIND_F_DEVICE, p, 2, IT_GPGD), -ENOENT);
	inv_all(t);
	cr_expect_str_eq(rd(t, 1, p, IT_GVA, &f), "AAAA");

	/* the RID */
	cr_expect_eq(
		bind(t, NEST_BIND_F_REPLACE | NEST_BIND_F_RID | NEST_BIND_F_DEVICE, 0, 2, GPGD2),
		-ENOENT, "replace of an unbound RID");
	cr_assert_eq(bind(t, NEST_BIND_F_RID | NEST_BIND_F_DEVICE, 0, 2, IT_GPGD), 0);
	cr_expect_str_eq(rd(t, 2, 0, IT_GVA, &f), "AAAA");
	cr_assert_eq(
		bind(t, NEST_BIND_F_REPLACE | NEST_BIND_F_RID | NEST_BIND_F_DEVICE, 0, 2, GPGD2),
		0);
	cr_expect_str_eq(rd(t, 2, 0, IT_GVA, &f), "AAAA", "cached old translation");
	cr_expect_eq(f, 0);
	inv_all(t);
	cr_expect_str_eq(rd(t, 2, 0, IT_GVA, &f), "BBBB");
	/* a replace the backend refuses leaves the old table in place */
	cr_expect_eq(bind(t, NEST_BIND_F_REPLACE | NEST_BIND_F_RID | NEST_BIND_F_DEVICE, 0, 2,
			  (uint64_t)1 << 50),
		     -EINVAL);
	inv_all(t);
	cr_expect_str_eq(rd(t, 2, 0, IT_GVA, &f), "BBBB");

	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(nesting, errors)
{
	struct td d;
	struct it_guest g;
	uint32_t p = 0;
	struct nest_bind b = {.size = sizeof(b),
			      .flags = NEST_BIND_F_RID | NEST_BIND_F_DEVICE | NEST_BIND_F_GPASID,
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .gpgd = IT_GPGD,
			      .gpasid = 5,
			      .dev_id = 1};

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);

	cr_expect_eq(bind(t, NEST_BIND_F_RID | NEST_BIND_F_DEVICE, p, 1, IT_GPGD), -EINVAL,
		     "RID with a PASID");
	cr_expect_eq(bind(t, NEST_BIND_F_RID, 0, 0, IT_GPGD), -EINVAL, "RID without DEVICE");
	cr_expect_eq(bind(t, 0, p, 1, IT_GPGD), -EINVAL, "dev_id without DEVICE");
	cr_expect_eq(tc_call(t, NEST_OP_BIND, &b, sizeof(b), NULL, 0, NULL, 0, NULL, 0, NULL),
		     -EINVAL, "RID with a guest PASID");
	/* another VM's device and a device of no VM answer alike */
	cr_expect_eq(bind(t, NEST_BIND_F_DEVICE, p, 7, IT_GPGD), -ENOENT, "vm1's device");
	cr_expect_eq(bind(t, NEST_BIND_F_DEVICE, p, 99, IT_GPGD), -ENOENT);
	cr_expect_eq(bind(t, NEST_BIND_F_RID | NEST_BIND_F_DEVICE, 0, 7, IT_GPGD), -ENOENT);
	cr_expect_eq(unbind(t, NEST_BIND_F_DEVICE, p, 7), -ENOENT);
	cr_expect_eq(unbind(t, NEST_BIND_F_RID | NEST_BIND_F_DEVICE, 0, 7), -ENOENT);
	cr_expect_eq(bind(t, NEST_BIND_F_REPLACE, p, 0, IT_GPGD), -ENOENT, "replace of unbound");
	cr_expect_eq(bind(t, NEST_BIND_F_REPLACE | NEST_BIND_F_DEVICE, p, 1, IT_GPGD), -ENOENT);
	cr_expect_eq(bind(t, 1u << 4, p, 0, IT_GPGD), -EOPNOTSUPP, "unknown flag");
	cr_expect_eq(unbind(t, NEST_BIND_F_REPLACE, p, 0), -EOPNOTSUPP, "REPLACE on UNBIND");
	{ /* nothing of that left a binding */
		struct tc *a = it_admin(&d);

		cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 0);
		tc_free(a);
	}

	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(nesting, disconnect_and_device_put_leave_nothing)
{
	struct td d;
	struct it_guest g;
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 2};
	struct nest_device_put dp = {.size = sizeof(dp), .dev_id = 2};
	struct nest_device_info di;
	uint32_t p = 0, f;
	struct tc *a;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	guest_table2(&g);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_assert_eq(bind(t, NEST_BIND_F_DEVICE, p, 2, IT_GPGD), 0);
	cr_assert_eq(bind(t, NEST_BIND_F_RID | NEST_BIND_F_DEVICE, 0, 2, GPGD2), 0);
	cr_assert_eq(bind(t, NEST_BIND_F_RID | NEST_BIND_F_DEVICE, 0, 1, IT_GPGD), 0);
	a = it_admin(&d);
	cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 3);

	/* DEVICE_PUT: the device leaves its bindings (its PASID and its RID), the others stay */
	cr_assert_eq(tc_call(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, &di,
			     sizeof(di), NULL),
		     0);
	cr_assert_eq(
		tc_call(t, NEST_OP_DEVICE_PUT, &dp, sizeof(dp), NULL, 0, NULL, 0, NULL, 0, NULL),
		0);
	cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 1, "device 1's RID only");
	inv_all(t);
	rd(t, 2, p, IT_GVA, &f);
	cr_expect_eq(f, NEST_FAULT_PASID_NOT_PRESENT);
	cr_expect_str_eq(rd(t, 2, 0, IT_GPA, &f), "AAAA", "device 2's RID on stage 2 again");
	cr_expect_str_eq(rd(t, 1, 0, IT_GVA, &f), "AAAA", "device 1's RID keeps its table");

	/* the client goes away: nothing is left */
	cr_assert_eq(bind(t, NEST_BIND_F_DEVICE, p, 1, GPGD2), 0);
	tc_free(t);
	for (int i = 0; i < 100 && it_vm_field(a, "vm0", "state") != 0; i++)
		usleep(10000);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 0, "detached");
	cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 0);
	cr_expect_eq(it_vm_field(a, "vm0", "pasids"), 0);
	t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_expect_str_eq(rd(t, 1, 0, IT_GPA, &f), "AAAA", "a fresh VM: the RID on stage 2");
	cr_expect_eq(f, 0);

	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(nesting, feature_bits_only_for_minor_2)
{
	const uint32_t bits = NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE;
	struct nest_vm_info info;
	struct td d;

	it_start(&d, NULL, NULL);
	for (uint16_t minor = 0; minor <= 2; minor++) {
		struct tc *t = tc_connect(d.sock);

		cr_assert_not_null(t);
		cr_assert_eq(tc_hello_minor(t, minor, "{}"), 0);
		memset(&info, 0, sizeof(info));
		cr_assert_eq(tc_attach(t, "vm0", 0, &info), 0);
		cr_expect_eq(info.features & bits, minor >= 2 ? bits : 0, "minor %u", minor);
		cr_expect(info.features & NEST_FEAT_BIND_PGTBL);
		tc_free(t);
		for (int i = 0; i < 100; i++) { /* the VM is free again once nestd saw the close */
			struct tc *a = it_admin(&d);
			long st = it_vm_field(a, "vm0", "state");

			tc_free(a);
			if (st == 0)
				break;
			usleep(10000);
		}
	}
	it_stop(&d);
	NO_LEAKS();
}

/* Integer @key of the sim's counters (admin stats "backend"). */
static long sim_ctr(struct tc *a, const char *key)
{
	struct json_object *res = NULL, *o, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "stats", NULL, &res), 0);
	if (json_object_object_get_ex(res, "backend", &o) && json_object_object_get_ex(o, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

/*
 * INVALIDATE honours a PASID's DEVICE subset: an entry for a PASID bound on device 1 only reaches
 * device 1 (the sim counts one invalidation per device it is applied on); entries for every
 * PASID and for a PASID bound on the whole VM reach both devices, as before.
 */
Test(nesting, invalidate_reaches_only_the_devices_the_pasid_is_bound_on)
{
	struct td d;
	struct it_guest g;
	struct nest_invalidate_reply ir;
	uint32_t p = 0, p2 = 0, f;
	const char *keys[] = {"inv_iotlb_pasid", "inv_devtlb_pasid", "inv_pasid_pasid",
			      "inv_devtlb_addr", "inv_iotlb_domain", "inv_iotlb_addr"};
	long before[6];

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	guest_table2(&g);
	struct tc *t = it_client(&d);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p2), 0);
	cr_assert_eq(bind(t, NEST_BIND_F_DEVICE, p, 1, IT_GPGD), 0);
	cr_assert_eq(bind(t, 0, p2, 0, IT_GPGD), 0, "p2 on the whole VM");
	cr_expect_str_eq(rd(t, 1, p, IT_GVA, &f), "AAAA");
	for (size_t i = 0; i < 6; i++)
		before[i] = sim_ctr(a, keys[i]);

	struct nest_inv_entry e[4] = {
		{.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB | NEST_CACHE_PASID,
		 .granularity = NEST_INV_GRANU_PASID,
		 .pasid = p},
		{.cache = NEST_CACHE_DEV_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .pasid = p,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 1},
		{.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_DOMAIN},
		{.cache = NEST_CACHE_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .pasid = p2,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 1},
	};
	cr_assert_eq(tc_invalidate(t, e, 4, &ir), 0);
	cr_expect_eq(ir.done, 4);
	cr_expect_eq(ir.first_error, 0);
	cr_expect_eq(sim_ctr(a, "inv_iotlb_pasid") - before[0], 1, "PASID p: device 1 only");
	cr_expect_eq(sim_ctr(a, "inv_devtlb_pasid") - before[1], 1, "not device 2's TLB");
	cr_expect_eq(sim_ctr(a, "inv_pasid_pasid") - before[2], 1, "not device 2's PASID cache");
	cr_expect_eq(sim_ctr(a, "inv_devtlb_addr") - before[3], 1);
	cr_expect_eq(sim_ctr(a, "inv_iotlb_domain") - before[4], 2, "every PASID: both devices");
	cr_expect_eq(sim_ctr(a, "inv_iotlb_addr") - before[5], 2, "p2 is bound on both");
	/* bound on device 2 as well: both */
	cr_assert_eq(bind(t, NEST_BIND_F_DEVICE, p, 2, IT_GPGD), 0);
	cr_assert_eq(tc_invalidate(t, e, 1, &ir), 0);
	cr_expect_eq(sim_ctr(a, "inv_iotlb_pasid") - before[0], 3);
	/* bound nowhere: no device (nothing is cached for it: the unbind flushed) */
	cr_assert_eq(unbind(t, 0, p, 0), 0);
	before[0] = sim_ctr(a, "inv_iotlb_pasid"); /* the unbind flushed both devices */
	cr_assert_eq(tc_invalidate(t, e, 2, &ir), 0);
	cr_expect_eq(ir.done, 2, "still owned: done, on no device");
	cr_expect_eq(sim_ctr(a, "inv_iotlb_pasid"), before[0]);
	tc_free(a);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

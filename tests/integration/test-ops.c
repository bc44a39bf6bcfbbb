/* SPDX-License-Identifier: MIT */
/* Happy path of every VM op, faults and stale events, and the validation table. */
#include <fcntl.h>

#include "common.h"

Test(ops, memory_device_pasid_bind_dma_invalidate)
{
	struct td d;
	struct it_guest g;
	struct nest_device_info di;
	struct nest_sim_dma_reply dr;
	struct nest_invalidate_reply ir;
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 1};
	char buf[16] = "hello, nest!";
	uint32_t p2 = 0, n = 0, pasid;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *t = it_client(&d);
	pasid = it_setup_vm(t, "vm0", &g, 0);
	cr_expect_geq(pasid, 1);

	/* DEVICE_GET: description, ATS flag, no fd on the sim */
	cr_assert_eq(tc_call(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, &di,
			     sizeof(di), NULL),
		     0);
	cr_expect_eq(di.dev_id, 1);
	cr_expect_str_eq(di.name, "dsa0");
	cr_expect_eq(di.flags, NEST_DEVICE_F_ATS);
	cr_expect_eq(di.pasid_bits, 20);
	cr_expect_eq(t->last_fd, -1);

	/* DMA write through GVA lands in the memfd at the GPA; read it back */
	cr_assert_eq(tc_dma(t, 1, pasid, IT_GVA + 8, NEST_DMA_F_WRITE, buf, 12, &dr), 0);
	cr_expect_eq(dr.done, 12);
	cr_expect_eq(dr.fault_reason, 0);
	cr_expect_eq(memcmp(g.mem + IT_GPA + 8, "hello, nest!", 12), 0);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(tc_dma(t, 2, pasid, IT_GVA + 8, 0, buf, 12, &dr), 0);
	cr_expect_eq(dr.done, 12);
	cr_expect_str_eq(buf, "hello, nest!");

	/* a fault is a success reply with the reason, plus an EV_FAULT */
	struct nest_ev_fault ev;
	cr_assert_eq(tc_dma(t, 1, pasid, 0x800000, 0, buf, 4, &dr), 0);
	cr_expect_eq(dr.done, 0);
	cr_expect_eq(dr.fault_reason, NEST_FAULT_PTE_NOT_PRESENT);
	cr_expect_eq(dr.fault_addr, 0x800000);
	cr_assert_eq(tc_wait_event(t, NEST_EV_FAULT, &ev, sizeof(ev), 2000), 0);
	cr_expect_eq(ev.reason, NEST_FAULT_PTE_NOT_PRESENT);
	cr_expect_eq(ev.dev_id, 1);
	cr_expect_eq(ev.pasid, pasid);
	cr_expect_eq(ev.addr, 0x800000);

	/* INVALIDATE: a batch of three valid entries */
	struct nest_inv_entry e[3] = {
		{.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .pasid = pasid,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 2,
		 .flags = NEST_INV_F_LEAF},
		{.cache = NEST_CACHE_PASID, .granularity = NEST_INV_GRANU_PASID, .pasid = pasid},
		{.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_DOMAIN},
	};
	cr_assert_eq(tc_invalidate(t, e, 3, &ir), 0);
	cr_expect_eq(ir.done, 3);
	cr_expect_eq(ir.first_error, 0);

	/* gpasid mapping, unbind, free, mem remove */
	cr_assert_eq(tc_pasid_alloc_g(t, 100, 200, 42, &p2), 0);
	cr_expect(p2 >= 100 && p2 <= 200);
	cr_expect_eq(tc_pasid_alloc_g(t, 100, 200, 42, NULL), -EEXIST);
	cr_assert_eq(tc_unbind(t, pasid), 0);
	cr_assert_eq(tc_dma(t, 1, pasid, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(dr.fault_reason, NEST_FAULT_PASID_NOT_PRESENT);
	cr_assert_eq(tc_bind(t, pasid, IT_GPGD, 57, NEST_VTD_SRE), 0);
	cr_assert_eq(tc_pasid_free(t, 1, NEST_PASID_MAX, &n), 0);
	cr_expect_eq(n, 2);
	cr_assert_eq(tc_mem_remove(t, 0, IT_MEM), 0);
	cr_assert_eq(tc_detach(t, 0), 0);
	/* the connection may attach again */
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);

	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(ops, checker_reports_stale_translation)
{
	struct td d;
	struct it_guest g;
	struct nest_sim_dma_reply dr;
	struct nest_ev_stale st;
	struct nest_invalidate_reply ir;
	char buf[8];

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *t = it_client(&d);
	uint32_t pasid = it_setup_vm(t, "vm0", &g, NEST_ATTACH_F_CHECKER);

	memcpy(g.mem + IT_GPA, "AAAA", 4);
	memcpy(g.mem + IT_GPA + 0x2000, "BBBB", 4);
	cr_assert_eq(tc_dma(t, 2, pasid, IT_GVA, 0, buf, 4, &dr), 0); /* fills the IOTLB */
	*it_guest_pte(&g, 0) = (IT_GPA + 0x2000) | IT_PTE_FLAGS;      /* no invalidation */
	cr_assert_eq(tc_dma(t, 2, pasid, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(memcmp(buf, "AAAA", 4), 0, "the IOTLB keeps the stale translation");
	cr_assert_eq(tc_wait_event(t, NEST_EV_STALE, &st, sizeof(st), 2000), 0);
	cr_expect_eq(st.pasid, pasid);
	cr_expect_eq(st.dev_id, 2);
	cr_expect_eq(st.cached_gpa, IT_GPA);
	cr_expect_eq(st.current_gpa, IT_GPA + 0x2000);

	struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB,
				   .granularity = NEST_INV_GRANU_ADDR,
				   .pasid = pasid,
				   .addr = IT_GVA,
				   .granule_size = 4096,
				   .nb_granules = 1};
	cr_assert_eq(tc_invalidate(t, &e, 1, &ir), 0);
	cr_assert_eq(tc_dma(t, 2, pasid, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(memcmp(buf, "BBBB", 4), 0);

	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * ADDR invalidation without a PASID (pasid 0): the range in every PASID of the caller's VM, and
 * nothing of another VM (PROTOCOL.md §8.15).
 */
Test(ops, addr_invalidation_without_pasid_covers_the_vm_only)
{
	struct td d;
	struct it_guest g0, g1;
	struct nest_sim_dma_reply dr;
	struct nest_invalidate_reply ir;
	uint32_t p[2], q;
	char buf[8];

	it_start(&d, NULL, NULL);
	it_guest_init(&g0);
	it_guest_init(&g1);
	struct tc *t0 = it_client(&d);
	struct tc *t1 = it_client(&d);
	p[0] = it_setup_vm(t0, "vm0", &g0, 0);
	cr_assert_eq(tc_pasid_alloc(t0, 1, NEST_PASID_MAX, &p[1]), 0);
	cr_assert_eq(tc_bind(t0, p[1], IT_GPGD, 48, 0), 0);
	q = it_setup_vm(t1, "vm1", &g1, 0);
	for (struct it_guest *g = &g0; g; g = g == &g0 ? &g1 : NULL) {
		memcpy(g->mem + IT_GPA, "AAAA", 4);
		memcpy(g->mem + IT_GPA + 0x2000, "BBBB", 4);
	}
	for (int k = 0; k < 2; k++) /* fill the IOTLB */
		cr_assert_eq(tc_dma(t0, 1, p[k], IT_GVA, 0, buf, 4, &dr), 0);
	cr_assert_eq(tc_dma(t1, 7, q, IT_GVA, 0, buf, 4, &dr), 0);
	*it_guest_pte(&g0, 0) = (IT_GPA + 0x2000) | IT_PTE_FLAGS; /* both guests remap */
	*it_guest_pte(&g1, 0) = (IT_GPA + 0x2000) | IT_PTE_FLAGS;

	struct nest_inv_entry e[2] = {
		{.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
		 .granularity = NEST_INV_GRANU_ADDR,
		 .addr = IT_GVA,
		 .granule_size = 4096,
		 .nb_granules = 1},
		{.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID}, /* needs one */
	};
	cr_assert_eq(tc_invalidate(t0, e, 2, &ir), 0);
	cr_expect_eq(ir.done, 1);
	cr_expect_eq(ir.first_error, EINVAL);
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(tc_dma(t0, 1, p[k], IT_GVA, 0, buf, 4, &dr), 0);
		cr_expect_eq(memcmp(buf, "BBBB", 4), 0, "vm0 PASID %u still stale", p[k]);
	}
	cr_assert_eq(tc_dma(t1, 7, q, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(memcmp(buf, "AAAA", 4), 0, "vm0's invalidation reached vm1");

	tc_free(t0);
	tc_free(t1);
	it_guest_fini(&g0);
	it_guest_fini(&g1);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * PASIDRange=: a VM allocates only in its own window, which no other VM can allocate in, so its
 * answers do not depend on what others hold; a VM without one allocates around every window.
 */
Test(ops, pasid_windows_hide_other_vms)
{
	struct td d;
	uint32_t p = 0;

	it_start(&d, "PASIDRange=100-199", NULL);
	struct tc *t0 = it_client(&d);
	struct tc *t1 = it_client(&d);
	cr_assert_eq(tc_attach(t0, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_attach(t1, "vm1", 0, NULL), 0);
	for (uint32_t want = 1; want <= 3; want++) { /* vm1: lowest free of the shared pool */
		cr_assert_eq(tc_pasid_alloc(t1, 1, NEST_PASID_MAX, &p), 0);
		cr_expect_eq(p, want);
	}
	cr_assert_eq(tc_pasid_alloc(t0, 1, NEST_PASID_MAX, &p), 0);
	cr_expect_eq(p, 100, "vm0 numbering shows vm1's holdings: %u", p);
	cr_expect_eq(tc_pasid_alloc(t1, 150, 150, NULL), -ENOSPC, "inside vm0's window");
	cr_assert_eq(tc_pasid_alloc(t0, 150, 150, &p), 0);
	cr_expect_eq(p, 150);
	cr_expect_eq(tc_pasid_alloc(t0, 150, 150, NULL), -ENOSPC, "vm0's own");
	cr_expect_eq(tc_pasid_alloc(t0, 300, 300, NULL), -ENOSPC, "outside vm0's window");
	cr_assert_eq(tc_pasid_alloc(t1, 98, 300, &p), 0);
	cr_expect_eq(p, 98);
	cr_assert_eq(tc_pasid_alloc(t1, 99, 300, &p), 0);
	cr_expect_eq(p, 99);
	cr_assert_eq(tc_pasid_alloc(t1, 99, 300, &p), 0);
	cr_expect_eq(p, 200, "the window is skipped: %u", p);

	tc_free(t0);
	tc_free(t1);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * PASID_FREE of a range: narrower than what the VM holds (each PASID looked up) and wider (the
 * VM's PASIDs scanned) free the same, and only the VM's own.
 */
Test(ops, pasid_free_ranges_narrow_and_wide)
{
	struct td d;
	uint32_t p[8], n = 0, other;

	it_start(&d, NULL, NULL);
	struct tc *t0 = it_client(&d);
	struct tc *t1 = it_client(&d);
	cr_assert_eq(tc_attach(t0, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_attach(t1, "vm1", 0, NULL), 0);
	for (int i = 0; i < 8; i++) /* vm0: 10, 12, ..., 24 */
		cr_assert_eq(tc_pasid_alloc(t0, 10 + 2 * (uint32_t)i, 10 + 2 * (uint32_t)i, &p[i]),
			     0);
	cr_assert_eq(tc_pasid_alloc(t1, 11, 11, &other), 0);
	cr_assert_eq(tc_pasid_free(t0, 11, 15, &n), 0); /* 5 PASIDs wide, vm0 holds 8 */
	cr_expect_eq(n, 2, "12 and 14: %u", n);
	cr_expect_eq(tc_pasid_free(t0, 12, 12, NULL), -ENOENT, "already freed");
	cr_expect_eq(tc_pasid_free(t0, 11, 11, NULL), -ENOENT, "vm1's");
	cr_assert_eq(tc_pasid_free(t0, 16, 16, &n), 0);
	cr_expect_eq(n, 1);
	cr_assert_eq(tc_pasid_free(t0, 1, 1000, &n), 0); /* wider than the 5 left */
	cr_expect_eq(n, 5, "10, 18, 20, 22, 24: %u", n);
	cr_expect_eq(tc_pasid_free(t0, 1, 1000, NULL), -ENOENT, "none left");
	cr_assert_eq(tc_pasid_free(t1, 11, 11, &n), 0, "vm1's PASID survived");
	cr_expect_eq(n, 1);

	tc_free(t0);
	tc_free(t1);
	it_stop(&d);
	NO_LEAKS();
}

/* The shared pool follows a reload: a dropped window is pool again, an added one is skipped. */
Test(ops, pasid_windows_follow_a_reload)
{
	char conf[2048];
	struct td d;
	uint32_t p = 0;
	size_t len;

	it_start(&d, "PASIDRange=100-199", NULL);
	struct tc *a = it_admin(&d);
	struct tc *t1 = it_client(&d);
	cr_assert_eq(tc_attach(t1, "vm1", 0, NULL), 0);
	cr_assert_eq(tc_pasid_alloc(t1, 100, 300, &p), 0);
	cr_expect_eq(p, 200, "vm0's window is skipped: %u", p);

	/* vm0 loses its window (it is not attached, so it takes the new policy), vm2 gets one */
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	len = strlen(conf);
	snprintf(conf + len, sizeof(conf) - len,
		 "[VM]\nName=vm2\nOwner=%s\nDevice=dsa2 id=9\nPASIDQuota=8\nPASIDRange=201-250\n",
		 td_uid_str());
	td_write_conf(&d, conf);
	cr_assert_eq(tc_admin(a, "reload", NULL, NULL), 0);
	cr_assert_eq(tc_pasid_alloc(t1, 100, 300, &p), 0);
	cr_expect_eq(p, 100, "vm0's old window is pool again: %u", p);
	cr_assert_eq(tc_pasid_alloc(t1, 201, 300, &p), 0);
	cr_expect_eq(p, 251, "vm2's new window is skipped: %u", p);
	cr_expect_eq(tc_pasid_alloc(t1, 201, 250, NULL), -ENOSPC, "all of it vm2's");
	for (uint32_t want = 252; want <= 253; want++) { /* the pool's part of 240-253 fills */
		cr_assert_eq(tc_pasid_alloc(t1, 240, 253, &p), 0);
		cr_expect_eq(p, want);
	}
	cr_expect_eq(tc_pasid_alloc(t1, 240, 253, NULL), -ENOSPC, "window and taken: exhausted");

	/* and back: vm2's window goes with vm2 */
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	cr_assert_eq(tc_admin(a, "reload", NULL, NULL), 0);
	cr_assert_eq(tc_pasid_alloc(t1, 201, 300, &p), 0);
	cr_expect_eq(p, 201, "vm2's old window is pool again: %u", p);

	tc_free(t1);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

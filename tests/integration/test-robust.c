/* SPDX-License-Identifier: MIT */
/*
 * Robustness cases from the acceptance review of issues 2 and 4: bind rollback when one device
 * of the VM refuses; PASID reuse (same VM and another VM) never serving a stale translation;
 * admin JSON inputs; the audit trail; policy after a reload; hugetlbfs memory on the sim;
 * INVALIDATE batch semantics; no fd leaks on refused requests.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "common.h"
#include "nest-fds.h"

/* pasid.list entry of @pasid in @vm: 1 bound, 0 not bound, -1 not listed */
static int pasid_bound(struct tc *a, const char *vm, uint32_t pasid)
{
	struct json_object *res = NULL, *arr, *e, *v;
	char args[96];
	int out = -1;

	snprintf(args, sizeof(args), "{\"vm\":\"%s\"}", vm);
	cr_assert_eq(tc_admin(a, "pasid.list", args, &res), 0);
	cr_assert(json_object_object_get_ex(res, "pasids", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(e, "pasid", &v) &&
		    (uint32_t)json_object_get_int64(v) == pasid &&
		    json_object_object_get_ex(e, "bound", &v))
			out = json_object_get_boolean(v) ? 1 : 0;
	}
	json_object_put(res);
	return out;
}

/*
 * Device "wide" takes every PASID, device "narrow" only 1..15: a bind of PASID 100 succeeds on
 * the first and fails on the second, so the first must be rolled back (PROTOCOL.md §8.9).
 */
Test(robust, bind_rolls_back_when_one_device_fails)
{
	struct td d;
	struct it_guest g;
	struct nest_sim_dma_reply dr;
	char conf[512], buf[4];
	uint32_t big = 0, small = 0;

	td_init(&d);
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n[VM]\nName=rb\nOwner=%s\n"
		 "Device=wide id=1 pasid-bits=20\nDevice=narrow id=2 pasid-bits=4\n",
		 td_uid_str());
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "rb", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 100, 200, &big), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, 15, &small), 0);

	cr_expect_eq(tc_bind(t, big, IT_GPGD, 48, 0), -EINVAL, "narrow device refuses PASID 100");
	cr_expect_eq(pasid_bound(a, "rb", big), 0);
	cr_expect_eq(it_vm_field(a, "rb", "bindings"), 0);
	/* the wide device was rolled back: its PASID-table entry is gone */
	cr_assert_eq(tc_dma(t, 1, big, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(dr.fault_reason, NEST_FAULT_PASID_NOT_PRESENT, "bind left on device 1");
	/* and nothing blocks a later bind of a PASID both devices take */
	cr_expect_eq(tc_bind(t, small, IT_GPGD, 48, 0), 0);
	cr_expect_eq(pasid_bound(a, "rb", small), 1);
	cr_assert_eq(tc_dma(t, 2, small, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(dr.fault_reason, 0);

	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* Read 4 bytes at IT_GVA through (dev, pasid); the fault reason must be 0. */
static void read4(struct tc *t, uint32_t dev, uint32_t pasid, char *out)
{
	struct nest_sim_dma_reply dr;

	cr_assert_eq(tc_dma(t, dev, pasid, IT_GVA, 0, out, 4, &dr), 0);
	cr_assert_eq(dr.fault_reason, 0, "fault %u", dr.fault_reason);
}

/*
 * A PASID that was cached (IOTLB and device TLB of the ATS device 1) and then freed comes back
 * from the allocator with the same number; whoever gets it must see its own tables, not the
 * cached translation of the previous owner.
 */
Test(robust, reused_pasid_serves_no_stale_translation)
{
	struct td d;
	struct it_guest g, gb;
	char buf[4];
	uint32_t p = 0, p2 = 0, pb = 0;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	it_guest_init(&gb);
	memcpy(g.mem + IT_GPA, "AAAA", 4);
	memcpy(g.mem + IT_GPA + 0x2000, "NEW!", 4);
	memcpy(gb.mem + IT_GPA, "BBBB", 4);
	struct tc *t = it_client(&d);
	p = it_setup_vm(t, "vm0", &g, 0);
	read4(t, 1, p, buf); /* fills the IOTLB and dsa0's device TLB */
	read4(t, 2, p, buf);
	cr_assert_eq(memcmp(buf, "AAAA", 4), 0);

	/* UNBIND flushes (PROTOCOL.md §8.10): retarget the PTE, unbind, bind again, no invalidation */
	memcpy(g.mem + IT_GPA + 0x3000, "UNB!", 4);
	*it_guest_pte(&g, 0) = (IT_GPA + 0x3000) | IT_PTE_FLAGS;
	cr_assert_eq(tc_unbind(t, p), 0);
	cr_assert_eq(tc_bind(t, p, IT_GPGD, 48, 0), 0);
	read4(t, 1, p, buf);
	cr_expect_eq(memcmp(buf, "UNB!", 4), 0, "device TLB survived UNBIND");
	read4(t, 2, p, buf);
	cr_expect_eq(memcmp(buf, "UNB!", 4), 0, "IOTLB survived UNBIND");

	/* same VM: free, retarget the guest PTE without any invalidation, allocate, bind */
	cr_assert_eq(tc_pasid_free(t, p, p, NULL), 0);
	*it_guest_pte(&g, 0) = (IT_GPA + 0x2000) | IT_PTE_FLAGS;
	cr_assert_eq(tc_pasid_alloc(t, p, p, &p2), 0);
	cr_assert_eq(p2, p);
	cr_assert_eq(tc_bind(t, p2, IT_GPGD, 48, 0), 0);
	read4(t, 1, p2, buf);
	cr_expect_eq(memcmp(buf, "NEW!", 4), 0, "device TLB served the freed PASID's entry");
	read4(t, 2, p2, buf);
	cr_expect_eq(memcmp(buf, "NEW!", 4), 0, "IOTLB served the freed PASID's entry");

	/*
	 * Upper levels too (paging-structure caches): point the PD entry at another page table,
	 * then UNBIND + BIND, and PASID_FREE + ALLOC + BIND, without invalidations.
	 */
	uint64_t *pd = (uint64_t *)(g.mem + 0x3000), *pt2 = (uint64_t *)(g.mem + 0x5000);
	memcpy(g.mem + IT_GPA + 0x4000, "PSC!", 4);
	pt2[0] = (IT_GPA + 0x4000) | IT_PTE_FLAGS;
	pd[2] = 0x5000 | IT_PTE_FLAGS;
	cr_assert_eq(tc_unbind(t, p2), 0);
	cr_assert_eq(tc_bind(t, p2, IT_GPGD, 48, 0), 0);
	read4(t, 1, p2, buf);
	cr_expect_eq(memcmp(buf, "PSC!", 4), 0, "a cached PD entry survived UNBIND (dev 1)");
	read4(t, 2, p2, buf);
	cr_expect_eq(memcmp(buf, "PSC!", 4), 0, "a cached PD entry survived UNBIND (dev 2)");
	pd[2] = 0x4000 | IT_PTE_FLAGS;
	cr_assert_eq(tc_pasid_free(t, p2, p2, NULL), 0);
	cr_assert_eq(tc_pasid_alloc(t, p, p, &p2), 0);
	cr_assert_eq(tc_bind(t, p2, IT_GPGD, 48, 0), 0);
	read4(t, 1, p2, buf);
	cr_expect_eq(memcmp(buf, "NEW!", 4), 0, "a cached PD entry survived PASID_FREE (dev 1)");
	read4(t, 2, p2, buf);
	cr_expect_eq(memcmp(buf, "NEW!", 4), 0, "a cached PD entry survived PASID_FREE (dev 2)");

	/* another VM: A frees it, B gets the same number and must see B's memory only */
	cr_assert_eq(tc_pasid_free(t, p2, p2, NULL), 0);
	struct tc *b = it_client(&d);
	cr_assert_eq(tc_attach(b, "vm1", 0, NULL), 0);
	cr_assert_eq(tc_mem_add(b, gb.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(b, p, p, &pb), 0);
	cr_assert_eq(pb, p);
	cr_assert_eq(tc_bind(b, pb, IT_GPGD, 48, 0), 0);
	read4(b, 7, pb, buf);
	cr_expect_eq(memcmp(buf, "BBBB", 4), 0);
	/* and A no longer reaches it */
	cr_expect_eq(tc_dma(t, 1, p, IT_GVA, 0, buf, 4, NULL), -ENOENT);

	/* the gpasid -> hpasid record goes with the PASID: free releases the gpasid for reuse */
	uint32_t pg = 0, pg2 = 0;
	cr_assert_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 42, &pg), 0);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 42, NULL), -EEXIST);
	cr_assert_eq(tc_pasid_free(t, pg, pg, NULL), 0);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 42, &pg2), 0);

	/* freeing a PASID moves the VM's last record into its slot: its gpasid must follow */
	uint32_t g3[3];
	for (int i = 0; i < 3; i++)
		cr_assert_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 100 + i, &g3[i]), 0);
	cr_assert_eq(tc_pasid_free(t, g3[0], g3[0], NULL), 0);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 102, NULL), -EEXIST);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 101, NULL), -EEXIST);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 100, NULL), 0);
	cr_assert_eq(tc_pasid_free(t, g3[2], g3[2], NULL), 0);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 102, NULL), 0);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 101, NULL), -EEXIST);

	/* a BIND with GPASID records the guest PASID of a PASID allocated without one */
	uint32_t pb2 = 0;
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &pb2), 0);
	struct nest_bind nb = {.size = sizeof(nb),
			       .flags = NEST_BIND_F_GPASID,
			       .format = NEST_BIND_FMT_VTD_FL,
			       .addr_width = 48,
			       .gpgd = IT_GPGD,
			       .hpasid = pb2,
			       .gpasid = 77};
	cr_assert_eq(tc_call(t, NEST_OP_BIND, &nb, sizeof(nb), NULL, 0, NULL, 0, NULL, 0, NULL), 0);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 77, NULL), -EEXIST);
	cr_assert_eq(tc_pasid_free(t, pb2, pb2, NULL), 0);
	cr_expect_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 77, NULL), 0);

	tc_free(b);
	tc_free(t);
	it_guest_fini(&gb);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* Admin JSON: ranges, types, 64-bit addresses, nesting, a result too large; the daemon lives on. */
Test(robust, admin_json_inputs)
{
	struct td d;
	struct it_guest g;
	struct json_object *res = NULL;
	char args[256], deep[80];

	it_start(&d, NULL, "[Limits]\nMaxMessageSize=8192\n");
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	uint32_t pasid = it_setup_vm(t, "vm0", &g, 0);

#define XL(addr_json)                                                                              \
	(snprintf(args, sizeof(args), "{\"vm\":\"vm0\",\"device\":1,\"pasid\":%u,\"addr\":%s}",    \
		  pasid, addr_json),                                                               \
	 tc_admin(a, "sim.translate", args, NULL))
	/* 64-bit addresses: as an integer up to 2^64-1 or a hex string of up to 16 digits */
	cr_expect_eq(XL("18446744073709551615"), 0);
	cr_expect_eq(XL("\"0xFFFFFFFFFFFFFFFF\""), 0);
	cr_expect_eq(XL("18446744073709551616"), -ERANGE);
	cr_expect_eq(XL("\"0x10000000000000000\""), -EINVAL);
	cr_expect_eq(XL("-1"), -ERANGE);
	cr_expect_eq(XL("4096.0"), -EINVAL);
	cr_expect_eq(XL("\"4096\""), -EINVAL);
	cr_expect_eq(XL("null"), -EINVAL, "addr is required");
#undef XL
	cr_expect_eq(tc_admin(a, "sim.translate",
			      "{\"vm\":\"vm0\",\"device\":1,\"pasid\":1048576,\"addr\":0}", NULL),
		     -ERANGE);
	cr_expect_eq(tc_admin(a, "sim.translate",
			      "{\"vm\":\"vm0\",\"device\":4294967296,\"pasid\":1,\"addr\":0}",
			      NULL),
		     -ERANGE);
	cr_expect_eq(tc_admin(a, "sim.translate",
			      "{\"vm\":\"vm0\",\"device\":true,\"pasid\":1,\"addr\":0}", NULL),
		     -EINVAL);
	cr_expect_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\\u0000x\"}", NULL), -EINVAL);
	cr_expect_eq(tc_admin(a, "status", "[]", NULL), -EINVAL, "args must be an object");
	cr_expect_eq(
		tc_call(a, NEST_OP_ADMIN, NULL, 0, "{\"command\":5}", 14, NULL, 0, NULL, 0, NULL),
		-EINVAL);
	snprintf(deep, sizeof(deep), "{\"command\":\"status\",\"x\":%s}",
		 "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]");
	cr_expect_eq(
		tc_call(a, NEST_OP_ADMIN, NULL, 0, deep, strlen(deep) + 1, NULL, 0, NULL, 0, NULL),
		-E2BIG);
	/* sim.dma: len beyond the limit; a read whose hex result cannot fit in one message */
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":1,\"pasid\":%u,\"addr\":%u,\"len\":32769}", pasid,
		 IT_GVA);
	cr_expect_eq(tc_admin(a, "sim.dma", args, NULL), -ERANGE);
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":1,\"pasid\":%u,\"addr\":%u,\"len\":4096}", pasid,
		 IT_GVA);
	cr_expect_eq(tc_admin(a, "sim.dma", args, &res), -E2BIG, "8 KiB of hex in 8 KiB messages");
	json_object_put(res);
	/* nothing of that hurt the daemon or the VM */
	cr_expect_eq(tc_admin(a, "status", NULL, NULL), 0);
	cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 1);

	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* Every privileged change leaves exactly one audit record naming VM, uid, pid and result. */
Test(robust, every_privileged_change_is_audited_once)
{
	struct td d;
	struct it_guest g;
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 1};
	char conf[2048], who[64], ps[32];
	uint32_t p = 0;

	td_init(&d);
	d.capture_stderr = true;
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	cr_assert_eq(td_start(&d), 0);
	it_guest_init(&g);
	snprintf(who, sizeof(who), "uid=%u pid=%d", (unsigned)getuid(), (int)getpid());
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	p = it_setup_vm(t, "vm0", &g, 0);
	snprintf(ps, sizeof(ps), "pasid=%u ", p);
	cr_assert_eq(
		tc_call(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, NULL, 0, NULL),
		0);
	cr_assert_eq(tc_unbind(t, p), 0);
	cr_assert_eq(tc_pasid_free(t, p, p, NULL), 0);
	cr_assert_eq(tc_mem_remove(t, 0, IT_MEM), 0);
	cr_assert_eq(tc_mem_remove(t, 0, IT_MEM), -ENOENT); /* refused: audited with its result */
	cr_assert_eq(tc_detach(t, 0), 0);
	struct tc *b = it_client(&d);
	cr_assert_eq(tc_attach(b, "vm1", 0, NULL), 0);
	cr_assert_eq(tc_admin(a, "log-level", "{\"level\":\"notice\"}", NULL), 0);
	cr_assert_eq(tc_admin(a, "reload", NULL, NULL), 0);
	cr_assert_eq(tc_admin(a, "vm.evict", "{\"name\":\"vm1\"}", NULL), 0);
	cr_assert_eq(tc_admin(a, "status", NULL, NULL), 0); /* everything above is processed */

	const char *ok0[] = {"vm=vm0", who, "result=ok", NULL};
	const char *okp[] = {"vm=vm0", who, ps, "result=ok", NULL};
	const char *enoent[] = {"vm=vm0", who, "result=ENOENT", NULL};
	const char *vm1[] = {"vm=vm1", "result=ok", NULL};
	const char *adm[] = {who, "result=ok", NULL};

	cr_expect_eq(it_audit_lines(d.log, "attach", ok0), 1);
	cr_expect_eq(it_audit_lines(d.log, "mem-add", ok0), 1);
	cr_expect_eq(it_audit_lines(d.log, "pasid-alloc", okp), 1);
	cr_expect_eq(it_audit_lines(d.log, "bind", okp), 1);
	cr_expect_eq(it_audit_lines(d.log, "device-get", ok0), 1);
	cr_expect_eq(it_audit_lines(d.log, "unbind", okp), 1);
	cr_expect_eq(it_audit_lines(d.log, "pasid-free", okp), 1);
	cr_expect_eq(it_audit_lines(d.log, "mem-remove", ok0), 1);
	cr_expect_eq(it_audit_lines(d.log, "mem-remove", enoent), 1);
	cr_expect_eq(it_audit_lines(d.log, "detach", ok0), 1);
	cr_expect_eq(it_audit_lines(d.log, "teardown", (const char *const[]){"vm=vm0", NULL}), 1);
	cr_expect_eq(it_audit_lines(d.log, "log-level", adm), 1);
	cr_expect_eq(it_audit_lines(d.log, "reload", adm), 1);
	cr_expect_eq(it_audit_lines(d.log, "evict", (const char *const[]){"vm=vm1", who, NULL}), 1);
	cr_expect_eq(it_audit_lines(d.log, "teardown", vm1), 1);

	tc_free(b);
	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * A reload that removes the owner of a held VM: the next attach is judged by the new policy
 * (EPERM), not by the copy of the old one the held VM still carries.
 */
Test(robust, reload_removing_the_owner_of_a_held_vm)
{
	struct td d;
	struct it_guest g;
	char conf[1024];

	it_start(&d, "GracePeriodSec=30", NULL);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	it_setup_vm(t, "vm0", &g, 0);
	tc_free(t); /* abrupt: held for 30 s */
	for (int i = 0; i < 100 && it_vm_field(a, "vm0", "state") != 2; i++)
		usleep(20000);
	cr_assert_eq(it_vm_field(a, "vm0", "state"), 2);

	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n[VM]\nName=vm0\nOwner=%u\nDevice=dsa0 id=1 ats=yes\n"
		 "GracePeriodSec=30\n[VM]\nName=vm1\nOwner=%s\nDevice=dsa1 id=7\n",
		 (unsigned)getuid() + 4242, td_uid_str());
	td_write_conf(&d, conf);
	cr_assert_eq(tc_admin(a, "reload", NULL, NULL), 0);
	t = it_client(&d);
	cr_expect_eq(tc_attach(t, "vm0", 0, NULL), -ENOENT, "old owner re-attached a held VM");
	tc_free(t);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 2, "a refused attach leaves the VM held");
	cr_expect_eq(it_vm_field(a, "vm0", "pasids"), 1);
	/* vm.show lists the owners attach checks */
	struct json_object *res = NULL, *arr;
	cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
	cr_assert(json_object_object_get_ex(res, "owner_uids", &arr));
	cr_assert_eq(json_object_array_length(arr), 1);
	cr_expect_eq(json_object_get_int64(json_object_array_get_idx(arr, 0)),
		     (int64_t)getuid() + 4242);
	json_object_put(res);

	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * On the sim, nestd maps guest memory itself; a hugetlbfs memfd is refused (EINVAL) because a
 * hole the VMM punches into it (F_SEAL_SHRINK does not prevent that) may not be refillable and
 * would SIGBUS the daemon on the next DMA. Skipped where the kernel has no hugetlbfs memfds.
 */
Test(robust, sim_refuses_hugetlbfs_memory)
{
	struct td d;
	int fd = memfd_create("tc-huge", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);

	if (fd < 0)
		cr_skip_test("no hugetlbfs memfd on this kernel (%s)", strerror(errno));
	cr_assert_eq(ftruncate(fd, 2 << 20), 0);
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	it_start(&d, NULL, NULL);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_expect_eq(tc_mem_add(t, fd, 0, 2 << 20, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), -EINVAL);
	cr_expect_eq(tc_mem_add(t, fd, 0, 2 << 20, 0, NEST_MEM_F_READ), -EINVAL);
	close(fd);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

static struct nest_inv_entry inv_addr(uint32_t pasid)
{
	return (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
				       .granularity = NEST_INV_GRANU_ADDR,
				       .pasid = pasid,
				       .addr = IT_GVA,
				       .granule_size = 4096,
				       .nb_granules = 1};
}

/* INVALIDATE batches: the negotiated batch limit, in-order processing, stop at the first error. */
Test(robust, invalidate_batch_limits_and_partial_failure)
{
	struct td d;
	struct it_guest g;
	struct nest_invalidate_reply ir;
	struct nest_inv_entry e[5];
	char buf[4];

	it_start(&d, NULL, "[Limits]\nMaxBatch=4\n");
	it_guest_init(&g);
	memcpy(g.mem + IT_GPA, "OLD.", 4);
	memcpy(g.mem + IT_GPA + 0x2000, "NEW.", 4);
	struct tc *t = it_client(&d);
	uint32_t p = it_setup_vm(t, "vm0", &g, 0);
	struct nest_inv_entry ok = inv_addr(p);
	struct nest_inv_entry bad = {
		.cache = NEST_CACHE_DEV_IOTLB,
		.granularity = NEST_INV_GRANU_DOMAIN}; /* invalid combination (PROTOCOL.md 9.2) */

	for (int i = 0; i < 5; i++)
		e[i] = ok;
	cr_expect_eq(tc_invalidate(t, e, 5, &ir), -EINVAL, "5 entries > MaxBatch=4");
	cr_assert_eq(tc_invalidate(t, e, 4, &ir), 0);
	cr_expect_eq(ir.done, 4);
	cr_expect_eq(ir.first_error, 0);

	/* an entry after a failed one is not executed: the cached translation stays */
	read4(t, 1, p, buf);
	*it_guest_pte(&g, 0) = (IT_GPA + 0x2000) | IT_PTE_FLAGS;
	e[0] = bad;
	e[1] = ok;
	cr_assert_eq(tc_invalidate(t, e, 2, &ir), 0);
	cr_expect_eq(ir.done, 0);
	cr_expect_eq(ir.first_error, EINVAL);
	read4(t, 1, p, buf);
	cr_expect_eq(memcmp(buf, "OLD.", 4), 0, "entry after the failed one was executed");
	/* entries before a failed one took effect */
	struct nest_inv_entry unowned = ok;
	unowned.pasid = 999;
	e[0] = ok;
	e[1] = unowned;
	e[2] = ok;
	cr_assert_eq(tc_invalidate(t, e, 3, &ir), 0);
	cr_expect_eq(ir.done, 1);
	cr_expect_eq(ir.first_error, ENOENT);
	read4(t, 1, p, buf);
	cr_expect_eq(memcmp(buf, "NEW.", 4), 0, "entry before the failed one did not take effect");
	/* per-entry errors of §9.3 come back as first_error */
	struct nest_inv_entry wrap = ok, unknown = ok;
	wrap.addr = 0xfffffffffffff000ull;
	wrap.nb_granules = 2;
	unknown.cache |= 0x8;
	cr_assert_eq(tc_invalidate(t, &wrap, 1, &ir), 0);
	cr_expect_eq(ir.first_error, EOVERFLOW);
	cr_assert_eq(tc_invalidate(t, &unknown, 1, &ir), 0);
	cr_expect_eq(ir.first_error, EOPNOTSUPP);
	/* longer entries: a zero tail is fine, a non-zero tail is E2BIG for that entry */
	struct {
		struct nest_inv_entry e;
		uint64_t ext;
	} big[2] = {{ok, 0}, {ok, 1}};
	struct nest_invalidate inv = {
		.size = sizeof(inv), .entry_len = sizeof(big[0]), .entry_num = 2};
	cr_assert_eq(tc_call(t, NEST_OP_INVALIDATE, &inv, sizeof(inv), big, sizeof(big), NULL, 0,
			     &ir, sizeof(ir), NULL),
		     0);
	cr_expect_eq(ir.done, 1);
	cr_expect_eq(ir.first_error, E2BIG);

	/* a client that announces max_batch 2 gets EINVAL for 3, whatever nestd allows */
	struct tc *c2 = tc_connect(d.sock);
	cr_assert_not_null(c2);
	cr_assert_eq(tc_hello_caps(c2, "{\"max_batch\":2}"), 0);
	struct it_guest g2;
	it_guest_init(&g2);
	uint32_t p2 = it_setup_vm(c2, "vm1", &g2, 0);
	for (int i = 0; i < 3; i++)
		e[i] = inv_addr(p2);
	cr_expect_eq(tc_invalidate(c2, e, 3, &ir), -EINVAL);
	cr_expect_eq(tc_invalidate(c2, e, 2, &ir), 0);

	tc_free(c2);
	tc_free(t);
	it_guest_fini(&g2);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* What (t, dev, pasid) reads at IT_GVA: "AAAA" while stale, "BBBB" once invalidated. */
static bool reads_new(struct tc *t, uint32_t dev, uint32_t pasid)
{
	char buf[4];

	read4(t, dev, pasid, buf);
	cr_assert(memcmp(buf, "AAAA", 4) == 0 || memcmp(buf, "BBBB", 4) == 0);
	return memcmp(buf, "BBBB", 4) == 0;
}

/* Cache IT_GVA -> "AAAA" for each of @p in the IOTLB, then remap it without invalidating. */
static void make_stale(struct tc *t, struct it_guest *g, const uint32_t *p, int n)
{
	struct nest_inv_entry dom = {.cache = NEST_CACHE_IOTLB,
				     .granularity = NEST_INV_GRANU_DOMAIN};
	struct nest_invalidate_reply ir;

	*it_guest_pte(g, 0) = IT_GPA | IT_PTE_FLAGS;
	cr_assert_eq(tc_invalidate(t, &dom, 1, &ir), 0);
	cr_assert_eq(ir.done, 1);
	for (int k = 0; k < n; k++)
		cr_assert(!reads_new(t, 2, p[k]));
	*it_guest_pte(g, 0) = (IT_GPA + 0x2000) | IT_PTE_FLAGS;
	for (int k = 0; k < n; k++)
		cr_assert(!reads_new(t, 2, p[k]), "remapped without invalidation: still cached");
}

/*
 * nestd looks the PASID of a run of entries up once per request. A run that switches PASID, an
 * entry of another VM's PASID or of nobody's in the middle of a run, and mixed granularities
 * (every-PASID entries carry PASID 0) are still checked entry by entry: done and first_error
 * say where the batch stopped, the entries before it took effect and none after it did, and
 * the other VM's cached translation is never touched. Reads go through device 2 (no ATS), so
 * they show the IOTLB.
 */
Test(robust, invalidate_runs_switch_pasids_and_stop_where_they_should)
{
	struct td d;
	struct it_guest g0, g1;
	struct nest_invalidate_reply ir;
	struct nest_inv_entry e[6];
	uint32_t p[2], q, freed;

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
	cr_assert(!reads_new(t1, 7, q));
	*it_guest_pte(&g1, 0) = (IT_GPA + 0x2000) | IT_PTE_FLAGS; /* vm1's stays stale throughout */

	/* another VM's PASID in the middle of a run: the run's first two entries only */
	make_stale(t0, &g0, p, 2);
	e[0] = e[1] = inv_addr(p[0]);
	e[2] = inv_addr(q);
	e[3] = inv_addr(p[1]);
	cr_assert_eq(tc_invalidate(t0, e, 4, &ir), 0);
	cr_expect_eq(ir.done, 2, "done %u, first_error %d", ir.done, ir.first_error);
	cr_expect_eq(ir.first_error, ENOENT);
	cr_expect(reads_new(t0, 2, p[0]));
	cr_expect(!reads_new(t0, 2, p[1]), "an entry after the failed one was applied");

	/* nobody's PASID after a run, then the run's PASID again */
	make_stale(t0, &g0, p, 2);
	e[0] = e[1] = inv_addr(p[1]);
	e[2] = inv_addr(999);
	e[3] = inv_addr(p[0]);
	cr_assert_eq(tc_invalidate(t0, e, 4, &ir), 0);
	cr_expect_eq(ir.done, 2, "done %u, first_error %d", ir.done, ir.first_error);
	cr_expect_eq(ir.first_error, ENOENT);
	cr_expect(reads_new(t0, 2, p[1]));
	cr_expect(!reads_new(t0, 2, p[0]));

	/* runs that switch back and forth: all done, both fresh */
	make_stale(t0, &g0, p, 2);
	e[0] = inv_addr(p[1]);
	e[1] = inv_addr(p[0]);
	e[2] = inv_addr(p[1]);
	e[3] = inv_addr(p[0]);
	cr_assert_eq(tc_invalidate(t0, e, 4, &ir), 0);
	cr_expect_eq(ir.done, 4, "done %u, first_error %d", ir.done, ir.first_error);
	cr_expect_eq(ir.first_error, 0);
	cr_expect(reads_new(t0, 2, p[0]) && reads_new(t0, 2, p[1]));

	/*
	 * Mixed granularities: PASID p1, ADDR p1 with LEAF, ADDR on every PASID elsewhere (covers
	 * neither), then vm1's PASID with PASID granularity: three done, p0 untouched.
	 */
	make_stale(t0, &g0, p, 2);
	e[0] = (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
				       .granularity = NEST_INV_GRANU_PASID,
				       .pasid = p[1]};
	e[1] = inv_addr(p[1]);
	e[1].flags = NEST_INV_F_LEAF;
	e[2] = inv_addr(0);
	e[2].addr = IT_GVA + 0x100000;
	e[3] = e[0];
	e[3].pasid = q;
	e[4] = inv_addr(p[0]);
	cr_assert_eq(tc_invalidate(t0, e, 5, &ir), 0);
	cr_expect_eq(ir.done, 3, "done %u, first_error %d", ir.done, ir.first_error);
	cr_expect_eq(ir.first_error, ENOENT);
	cr_expect(reads_new(t0, 2, p[1]));
	cr_expect(!reads_new(t0, 2, p[0]));

	/* ADDR on every PASID, DOMAIN, then PASID granularity with PASID 0: no shortcut, EINVAL */
	make_stale(t0, &g0, p, 2);
	e[0] = inv_addr(0);
	e[1] = (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB | NEST_CACHE_PASID,
				       .granularity = NEST_INV_GRANU_DOMAIN};
	e[2] = (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB,
				       .granularity = NEST_INV_GRANU_PASID};
	cr_assert_eq(tc_invalidate(t0, e, 3, &ir), 0);
	cr_expect_eq(ir.done, 2, "done %u, first_error %d", ir.done, ir.first_error);
	cr_expect_eq(ir.first_error, EINVAL);
	cr_expect(reads_new(t0, 2, p[0]) && reads_new(t0, 2, p[1]));
	e[2] = inv_addr(999); /* after every-PASID entries, nobody's PASID is still ENOENT */
	cr_assert_eq(tc_invalidate(t0, e, 3, &ir), 0);
	cr_expect_eq(ir.done, 2, "done %u, first_error %d", ir.done, ir.first_error);
	cr_expect_eq(ir.first_error, ENOENT);

	/* what a request found owned is not remembered by the next: p1 freed is ENOENT */
	e[0] = inv_addr(p[1]);
	cr_assert_eq(tc_invalidate(t0, e, 1, &ir), 0);
	cr_expect_eq(ir.done, 1, "done %u, first_error %d", ir.done, ir.first_error);
	cr_assert_eq(tc_unbind(t0, p[1]), 0);
	cr_assert_eq(tc_pasid_free(t0, p[1], p[1], &freed), 0);
	cr_assert_eq(freed, 1);
	e[1] = inv_addr(p[0]);
	cr_assert_eq(tc_invalidate(t0, e, 2, &ir), 0);
	cr_expect_eq(ir.done, 0, "done %u, first_error %d", ir.done, ir.first_error);
	cr_expect_eq(ir.first_error, ENOENT);

	cr_expect(!reads_new(t1, 7, q), "vm0's invalidations reached vm1");
	tc_free(t0);
	tc_free(t1);
	it_guest_fini(&g0);
	it_guest_fini(&g1);
	it_stop(&d);
	NO_LEAKS();
}

/* Every fd a client sends with a refused request is closed by nestd: its fd count is unchanged. */
Test(robust, refused_requests_leak_no_fds)
{
	struct td d;
	struct it_guest g;
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 1};
	struct nest_mem_add bad = {.size = sizeof(bad), .flags = NEST_MEM_F_READ, .len = 100};
	struct nest_mem_add dup = {.size = sizeof(bad), .flags = NEST_MEM_F_READ, .len = 4096};
	int fds[4];

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *t = it_client(&d);
	it_setup_vm(t, "vm0", &g, 0);
	int base = td_fd_count_stable(&d);
	cr_assert_gt(base, 0);

	for (int i = 0; i < 4; i++)
		fds[i] = tc_memfd(IT_MEM, true);
	for (int round = 0; round < 20; round++) {
		/* op-level refusals: bad alignment, overlap, fd on an op that takes none, 2 fds */
		cr_expect_eq(tc_call(t, NEST_OP_MEM_ADD, &bad, sizeof(bad), NULL, 0, fds, 1, NULL,
				     0, NULL),
			     -EINVAL);
		cr_expect_eq(tc_call(t, NEST_OP_MEM_ADD, &dup, sizeof(dup), NULL, 0, fds, 1, NULL,
				     0, NULL),
			     -EEXIST);
		cr_expect_eq(tc_call(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, fds, 1, NULL,
				     0, NULL),
			     -EINVAL);
		cr_expect_eq(tc_call(t, NEST_OP_MEM_ADD, &dup, sizeof(dup), NULL, 0, fds, 2, NULL,
				     0, NULL),
			     -EINVAL);
		cr_expect_eq(tc_call(t, 200, &dg, sizeof(dg), NULL, 0, fds, 3, NULL, 0, NULL),
			     -ENOTTY);
	}
	cr_expect_eq(td_fd_count_stable(&d), base, "nestd kept fds of refused requests");
	/* a connection closed for a framing error with fds attached leaks none either */
	struct tc *x = it_client(&d);
	struct nest_msg_hdr h = {.size = 99, .op = 4, .flags = NEST_MSG_F_REQUEST, .id = 1};
	cr_assert_eq(nest_fds_send(x->fd, &h, sizeof(h), fds, 4, 0), 0);
	cr_expect(tc_closed(x, 2000));
	tc_free(x);
	cr_expect_eq(td_fd_count_stable(&d), base);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of vIOMMU objects (protocol 1.1) with a backend that has them:
 * nestd-fake-native (fake-native.c: the sim plus an iommufd-like vIOMMU model, its events driven
 * by the admin command mock.trigger_vevent). VIOMMU_ALLOC / VIOMMU_FREE / VDEVICE_ALLOC /
 * VIOMMU_INVALIDATE reach the backend with the client's arguments, in the error order of
 * PROTOCOL.md §8.17-§8.20 (another VM's ids are ENOENT, the per-VM cap ENOSPC, a backend's
 * EPERM is EIO); a vIOMMU goes with its device and with the VM; EV_VEVENT reaches a client that
 * said minor >= 1 and "viommu" with the record, and is dropped and counted otherwise; the
 * admin views, counters and the audit trail. What the kernel does is tested in the guest.
 */
#include <inttypes.h>
#include <time.h>

#include "viommu-daemon.h"

Test(viommu_daemon, objects_reach_the_backend)
{
	struct td d;
	struct nest_vm_info vi;
	struct nest_invalidate_reply rep;
	struct vev ev;
	uint32_t id, id2;
	long dev;

	start(&d, NULL, true);
	struct tc *t = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect(vi.features & NEST_FEAT_VIOMMU);
	cr_expect_eq(vi.viommu_type, VIOMMU);
	cr_expect_eq(vi.viommu_inv_data_type, VINV);
	cr_expect_eq(vi.viommu_inv_entry_len, 8);
	cr_expect_eq(vi.vevent_type, VEVENT);
	cr_expect_eq(vi.vevent_len, 4);
	cr_expect_eq(vi.__reserved2, 0);
	cr_assert_eq(v_alloc(t, 1, VIOMMU, &id), 0);
	cr_expect_neq(id, 0);
	cr_expect_eq(be(a, "vi_allocs"), 1);
	cr_expect_eq(vm_viommus(a, "vm0", id, &dev), 1);
	cr_expect_eq(dev, 1, "vm.show names the device it nests on");
	cr_expect_eq(v_vdev(t, id, 1, 0x10), 0);
	cr_expect_eq(be(a, "vi_last_virt"), 0x10);
	cr_expect_eq(v_vdev(t, id, 2, 0x10), -EEXIST, "the backend's EEXIST");
	cr_expect_eq(v_vdev(t, id, 1, 0x11), -EBUSY, "the backend's EBUSY");
	cr_expect_eq(v_vdev(t, id, 2, 0x123456789ull), 0, "a 64-bit virtual id");
	cr_expect_eq(be(a, "vi_last_virt"), 0x123456789l);
	cr_expect_eq(be(a, "vi_vdevs"), 2);
	/* invalidation: one backend call with the client's arguments; done/first_error from it */
	cr_expect_eq(dev_cache(a, "vm0", 1, 0, DEV_CACHE), 1);
	struct ventry e[3] = {{0 << 1, 0x10}, {1, 0x20}, {1, 0x10}};
	cr_assert_eq(v_inv(t, id, VINV, e, 3, &rep), 0);
	cr_expect_eq(rep.size, sizeof(rep));
	cr_expect_eq(rep.done, 1);
	cr_expect_eq(rep.first_error, ENOENT, "a virtual id that is not this vIOMMU's");
	cr_expect_eq(be(a, "vi_inv_calls"), 1);
	cr_expect_eq(be(a, "vi_inv_last_viommu"), id);
	cr_expect_eq(be(a, "vi_inv_last_type"), VINV);
	cr_expect_eq(be(a, "vi_inv_last_n"), 3);
	cr_expect_eq(be(a, "vi_inv_last_len"), 8);
	cr_expect_eq(dev_cache(a, "vm0", 1, 0, 0), 1, "slot 0 flushed");
	cr_expect_eq(dev_cache(a, "vm0", 1, 1, DEV_CACHE), 1, "slot 1 not");
	e[1].vdev_id = (uint32_t)0x123456789ull; /* the fake keys on the low 32 bits */
	cr_assert_eq(v_inv(t, id, VINV, e, 3, &rep), 0);
	cr_expect_eq(rep.done, 1, "0x23456789 is not 0x123456789");
	e[1].vdev_id = VFAIL;
	cr_assert_eq(v_inv(t, id, VINV, e, 3, &rep), 0);
	cr_expect_eq(rep.done, 1);
	cr_expect_eq(rep.first_error, EIO);
	cr_assert_eq(v_inv(t, id, VINV, e, 1, &rep), 0);
	cr_expect_eq(rep.done, 1);
	cr_expect_eq(rep.first_error, 0);
	/* events: the record reaches the client */
	cr_assert_eq(trigger(a, "vm0", 1), 0);
	cr_assert_eq(wait_vev(t, &ev, 2000), 0);
	cr_expect_eq(ev.h.size, sizeof(ev.h));
	cr_expect_eq(ev.h.flags, 0);
	cr_expect_eq(ev.h.viommu_id, id);
	cr_expect_eq(ev.h.data_len, 4);
	cr_expect_eq(ev.h.__reserved, 0);
	cr_expect_eq(*(uint32_t *)ev.data, 0x10);
	uint32_t seq = ev.h.sequence;
	cr_assert_eq(trigger(a, "vm0", 2), 0);
	cr_assert_eq(wait_vev(t, &ev, 2000), 0);
	cr_expect_eq(*(uint32_t *)ev.data, 0x23456789);
	cr_expect_eq(ev.h.sequence, seq + 1);
	cr_expect_eq(vm_ctr(a, "vm0", "vevents"), 2);
	cr_expect_eq(vm_ctr(a, "vm0", "vevents_dropped"), 0);
	cr_expect_eq(admin_num(a, "stats", NULL, "daemon", "vevents"), 2);
	/* free: the backend's object goes; a second free is ENOENT */
	cr_assert_eq(v_alloc(t, 2, VIOMMU, &id2), 0);
	cr_expect_neq(id2, id);
	cr_expect_eq(v_free(t, id), 0);
	cr_expect_eq(be(a, "vi_frees"), 1);
	cr_expect_eq(be(a, "vi_live"), 1);
	cr_expect_eq(v_free(t, id), -ENOENT);
	cr_expect_eq(v_vdev(t, id, 1, 0x10), -ENOENT);
	cr_expect_eq(v_inv(t, id, VINV, e, 1, &rep), -ENOENT);
	cr_expect_eq(vm_viommus(a, "vm0", id2, &dev), 1);
	cr_expect_eq(dev, 2);
	/* teardown frees what is left (nestd asks the backend before the devices go) */
	cr_assert_eq(tc_detach(t, 0), 0);
	cr_expect_eq(be(a, "vi_frees"), 2);
	cr_expect_eq(be(a, "vi_live"), 0);
	cr_expect_eq(vm_viommus(a, "vm0", 0, &dev), 0);
	/* audit: alloc, free and vdevice-alloc with their results; invalidations are not */
	cr_expect_eq(it_audit_count(d.log, "viommu-alloc", "result=ok"), 2);
	cr_expect_eq(it_audit_count(d.log, "viommu-free", "result=ok"), 1);
	cr_expect_eq(it_audit_count(d.log, "viommu-free", "result=ENOENT"), 1);
	cr_expect_eq(it_audit_count(d.log, "vdevice-alloc", "result=ok"), 2);
	cr_expect_eq(it_audit_count(d.log, "vdevice-alloc", "result=EEXIST"), 1);
	cr_expect_eq(it_audit_count(d.log, "vdevice-alloc", "vm=vm0"), 5);
	cr_expect_eq(it_audit_count(d.log, "viommu-invalidate", NULL), 0);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(viommu_daemon, errors_in_order)
{
	struct td d;
	struct nest_invalidate_reply rep;
	struct ventry e[2] = {{1, 0x10}, {1, 0x10}};
	uint32_t id, id1, ids[NEST_VIOMMUS_PER_VM_MAX];
	uint8_t body[64] = {0};
	int fd;

	start(&d, NULL, false);
	struct tc *t = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *t1 = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_attach(t1, "vm1", 0, NULL), 0);
	/* VIOMMU_ALLOC: the type before the device, the device before the backend */
	cr_expect_eq(v_alloc(t, 99, VIOMMU + 1, NULL), -EOPNOTSUPP);
	cr_expect_eq(v_alloc(t, 99, VIOMMU, NULL), -ENOENT);
	cr_expect_eq(v_alloc(t, 7, VIOMMU, NULL), -ENOENT, "vm1's device");
	cr_expect_eq(be(a, "vi_allocs"), 0, "nothing reached the backend");
	cr_expect_eq(v_alloc(t1, 7, VIOMMU, NULL), -EIO, "the backend's EPERM is EIO");
	cr_expect(!tc_closed(t1, 50), "and the connection stays");
	/* body rules (§5) and fds */
	struct nest_viommu_alloc *va = (struct nest_viommu_alloc *)body;
	va->size = 12;
	va->dev_id = 1;
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_ALLOC, body, 12, NULL, 0, NULL, 0, NULL, 0, NULL),
		     -EINVAL, "shorter than 16");
	va->size = 16;
	va->type = VIOMMU;
	va->flags = 1;
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_ALLOC, body, 16, NULL, 0, NULL, 0, NULL, 0, NULL),
		     -EOPNOTSUPP, "a flag");
	va->flags = 0;
	fd = tc_memfd(4096, true);
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_ALLOC, body, 16, NULL, 0, &fd, 1, NULL, 0, NULL),
		     -EINVAL, "an fd");
	close(fd);
	/* the per-VM cap */
	for (unsigned i = 0; i < NEST_VIOMMUS_PER_VM_MAX; i++)
		cr_assert_eq(v_alloc(t, 1 + (i & 1), VIOMMU, &ids[i]), 0, "vIOMMU %u", i);
	cr_expect_eq(v_alloc(t, 1, VIOMMU, NULL), -ENOSPC);
	cr_expect_eq(v_alloc(t, 99, VIOMMU, NULL), -ENOENT, "the device before the cap");
	cr_expect_eq(be(a, "vi_allocs"), NEST_VIOMMUS_PER_VM_MAX);
	cr_expect_eq(v_free(t, ids[3]), 0);
	cr_expect_eq(v_alloc(t, 1, VIOMMU, &ids[3]), 0, "room again");
	/* another VM's ids answer ENOENT like unknown ones, and never reach the backend */
	cr_assert_eq(v_alloc(t1, 99, VIOMMU, NULL), -ENOENT);
	struct tc *t2 = client_caps(&d, 1, CAPS_VIOMMU);
	cr_assert_eq(tc_detach(t1, 0), 0);
	tc_free(t1);
	id = ids[0];
	cr_assert_eq(tc_attach(t2, "vm1", 0, NULL), 0);
	cr_expect_eq(v_free(t2, id), -ENOENT);
	cr_expect_eq(v_vdev(t2, id, 7, 1), -ENOENT);
	cr_expect_eq(v_inv(t2, id, VINV, e, 1, &rep), -ENOENT);
	cr_expect_eq(be(a, "vi_inv_calls"), 0);
	cr_expect_eq(be(a, "vi_frees"), 1);
	/* VDEVICE_ALLOC: the vIOMMU, then the device */
	cr_expect_eq(v_vdev(t, 999, 99, 1), -ENOENT);
	cr_expect_eq(v_vdev(t, id, 7, 1), -ENOENT, "vm1's device on vm0's vIOMMU");
	cr_expect_eq(be(a, "vi_vdevs"), 0);
	cr_assert_eq(v_vdev(t, id, 1, 0x10), 0);
	/* VIOMMU_INVALIDATE: batch, then type, then vIOMMU, then the backend */
	cr_expect_eq(v_inv(t, id, VINV + 1, e, 1, &rep), -EOPNOTSUPP);
	cr_expect_eq(v_inv(t, 999, VINV + 1, e, 1, &rep), -EOPNOTSUPP, "the type first");
	cr_expect_eq(v_inv(t, 999, VINV, e, 1, &rep), -ENOENT);
	struct nest_viommu_invalidate in = {.size = sizeof(in),
					    .entry_len = 8,
					    .entry_num = 1,
					    .viommu_id = id,
					    .data_type = VINV};
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_INVALIDATE, &in, sizeof(in), e, 4, NULL, 0, NULL, 0,
			     NULL),
		     -EINVAL, "entries do not fill the body");
	in.entry_len = 2;
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_INVALIDATE, &in, sizeof(in), e, 2, NULL, 0, NULL, 0,
			     NULL),
		     -EINVAL, "entry_len below NEST_NATIVE_ENTRY_MIN");
	cr_expect_eq(be(a, "vi_inv_calls"), 0);
	cr_assert_eq(v_inv(t, id, VINV, e, 2, &rep), 0);
	cr_expect_eq(rep.done, 2);
	cr_expect_eq(be(a, "vi_inv_calls"), 1);
	/* VIOMMU_FREE: its reserved word */
	struct nest_viommu_free vf = {.size = sizeof(vf), .viommu_id = id, .__reserved = 1};
	cr_expect_eq(
		tc_call(t, NEST_OP_VIOMMU_FREE, &vf, sizeof(vf), NULL, 0, NULL, 0, NULL, 0, NULL),
		-EOPNOTSUPP);
	vf.size = 12;
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_FREE, &vf, 12, NULL, 0, NULL, 0, NULL, 0, NULL), 0,
		     "12 bytes: the reserved word is optional");
	(void)id1;
	tc_free(a);
	tc_free(t2);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(viommu_daemon, batch_limit)
{
	struct td d;
	struct nest_invalidate_reply rep;
	struct ventry e[8];
	uint32_t id;

	start(&d, NULL, false);
	struct tc *t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_caps(t, "{\"software\":\"tclient\",\"max_batch\":4,"
				      "\"features\":[\"viommu\"]}"),
		     0);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(v_alloc(t, 1, VIOMMU, &id), 0);
	cr_assert_eq(v_vdev(t, id, 1, 0x10), 0);
	for (int i = 0; i < 8; i++)
		e[i] = (struct ventry){1, 0x10};
	cr_expect_eq(v_inv(t, 999, VINV + 1, e, 5, &rep), -EINVAL, "the batch limit first");
	cr_expect_eq(v_inv(t, id, VINV, e, 4, &rep), 0);
	cr_expect_eq(rep.done, 4);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(viommu_daemon, vevent_delivery_and_drops)
{
	struct td d;
	struct nest_vm_info vi;
	struct nest_vm_attach at = {.size = sizeof(at), .name = "vm0"};
	uint8_t body[256];
	size_t len = 0;
	struct vev ev;
	uint32_t id;

	start(&d, "GracePeriodSec=30", false);
	struct tc *t = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(v_alloc(t, 1, VIOMMU, &id), 0);
	cr_assert_eq(v_vdev(t, id, 1, VLOST), 0);
	cr_assert_eq(v_vdev(t, id, 2, 0x20), 0);
	/* a LOST marker: flag, no data */
	cr_assert_eq(trigger(a, "vm0", 1), 0);
	cr_assert_eq(wait_vev(t, &ev, 2000), 0);
	cr_expect_eq(ev.h.flags, NEST_VEVENT_F_LOST);
	cr_expect_eq(ev.h.data_len, 0);
	cr_expect_eq(ev.h.viommu_id, id);
	cr_assert_eq(wait_vev(t, &ev, 2000), 0);
	cr_expect_eq(ev.h.flags, 0);
	cr_expect_eq(*(uint32_t *)ev.data, VLOST);
	cr_expect_eq(trigger(a, "vm0", 99), -ENOENT, "not a device of the VM");
	cr_expect_eq(trigger(a, "nosuchvm", 1), -ENOENT);
	/* a client that let go: held, no client: dropped and counted; the vIOMMU stays */
	cr_assert_eq(tc_detach(t, NEST_DETACH_F_KEEP), 0);
	tc_free(t);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 2, "held");
	cr_assert_eq(trigger(a, "vm0", 2), 0);
	cr_expect_eq(vm_ctr(a, "vm0", "vevents"), 3);
	cr_expect_eq(vm_ctr(a, "vm0", "vevents_dropped"), 1);
	/* re-attached without "viommu": dropped */
	t = client_caps(&d, 1, CAPS_NOTHING);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.reattached, 1);
	cr_expect(vi.features & NEST_FEAT_VIOMMU, "the VM has them; the client did not ask");
	cr_assert_eq(trigger(a, "vm0", 2), 0);
	cr_expect_eq(wait_vev(t, &ev, 200), -ETIMEDOUT);
	cr_expect_eq(vm_ctr(a, "vm0", "vevents_dropped"), 2);
	/* its vIOMMU from before the grace period still works */
	cr_expect_eq(v_vdev(t, id, 2, 0x21), -EBUSY);
	cr_assert_eq(tc_detach(t, NEST_DETACH_F_KEEP), 0);
	tc_free(t);
	/* minor 0: 72-byte vm_info without NEST_FEAT_VIOMMU, and no event even with "viommu" */
	t = client_caps(&d, 0, CAPS_VIOMMU);
	cr_assert_eq(tc_call(t, NEST_OP_VM_ATTACH, &at, sizeof(at), NULL, 0, NULL, 0, body,
			     sizeof(body), &len),
		     0);
	cr_expect_eq(len, NEST_VM_INFO_SIZE_1_0);
	memcpy(&vi, body, NEST_VM_INFO_SIZE_1_0);
	cr_expect_eq(vi.features & NEST_FEAT_VIOMMU, 0);
	cr_assert_eq(trigger(a, "vm0", 2), 0);
	cr_expect_eq(wait_vev(t, &ev, 200), -ETIMEDOUT);
	cr_expect_eq(vm_ctr(a, "vm0", "vevents_dropped"), 3);
	cr_assert_eq(tc_detach(t, NEST_DETACH_F_KEEP), 0);
	tc_free(t);
	/* minor 1 + "viommu" again: delivered */
	t = client_caps(&d, 1, CAPS_VIOMMU);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.viommu_type, VIOMMU);
	cr_assert_eq(trigger(a, "vm0", 2), 0);
	cr_assert_eq(wait_vev(t, &ev, 2000), 0);
	cr_expect_eq(*(uint32_t *)ev.data, 0x20);
	cr_expect_eq(vm_ctr(a, "vm0", "vevents"), 6);
	cr_expect_eq(vm_ctr(a, "vm0", "vevents_dropped"), 3);
	cr_expect_eq(admin_num(a, "stats", NULL, "daemon", "vevents_dropped"), 3);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(viommu_daemon, a_viommu_goes_with_its_device)
{
	struct td d;
	struct json_object *res = NULL;
	uint32_t id1, id2;
	long dev;

	start(&d, NULL, false);
	struct tc *t = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(v_alloc(t, 1, VIOMMU, &id1), 0);
	cr_assert_eq(v_alloc(t, 2, VIOMMU, &id2), 0);
	cr_expect_eq(vm_viommus(a, "vm0", id2, &dev), 2);
	/* a reload that drops device 2 of vm0: its vIOMMU goes (the backend dropped it) */
	char conf[2048];
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n\n"
		 "[VM]\nName=vm0\nOwner=%s\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n"
		 "PASIDQuota=8\nMaxRegions=4\nMemoryLimit=64M\n\n"
		 "[VM]\nName=vm1\nOwner=%s\nDevice=dsa1 id=7\nPASIDQuota=8\n",
		 td_uid_str(), td_uid_str());
	td_write_conf(&d, conf);
	cr_assert_eq(tc_admin(a, "reload", NULL, &res), 0);
	json_object_put(res);
	struct nest_ev_device_gone g;
	if (tc_wait_event(t, NEST_EV_DEVICE_GONE, &g, sizeof(g), 2000) == 0) {
		cr_expect_eq(g.dev_id, 2);
		cr_expect_eq(vm_viommus(a, "vm0", id1, &dev), 1);
		cr_expect_eq(dev, 1);
		cr_expect_eq(v_free(t, id2), -ENOENT, "went with device 2");
		cr_expect_eq(v_alloc(t, 2, VIOMMU, NULL), -ENOENT);
		cr_expect_eq(v_free(t, id1), 0);
	} else {
		/* this nestd keeps devices of an attached VM until it detaches: nothing to check */
		cr_expect_eq(vm_viommus(a, "vm0", 0, &dev), 2);
	}
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

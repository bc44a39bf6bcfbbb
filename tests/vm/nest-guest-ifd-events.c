/* SPDX-License-Identifier: MIT */
/*
 * nest-guest-ifd-events.c - the scenarios of nest-guest-ifd (nest-guest-ifd.c) driven by the
 * kernel's events: page requests (iopf) and vIOMMU objects and their events (viommu).
 */
#include <errno.h>
#include <nest/libnest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd-test.h"
#include "nest-guest-ifd.h"

static struct nest_ev_page_request last_prq;
static int n_prq;
static uint32_t last_vevent_virt, last_vevent_viommu;
static int n_vevent;

static void on_event(nest_client *cl, const struct nest_event *ev, void *opaque)
{
	if (ev->type == NEST_EV_PAGE_REQUEST) {
		last_prq = ev->u.page_request;
		n_prq++;
	}
	if (ev->type == NEST_EV_VEVENT) {
		const struct nest_vevent *v = &ev->u.vevent;

		last_vevent_viommu = v->viommu_id;
		if (v->data_len >= 4)
			memcpy(&last_vevent_virt, v->data, 4);
		n_vevent++;
	}
}

static int trigger_iopf(const char *vm, uint32_t pasid, uint64_t addr, uint32_t perm)
{
	char req[256], *reply = NULL;
	int r;

	snprintf(req, sizeof(req),
		 "{\"command\":\"mock.trigger_iopf\",\"args\":{\"vm\":\"%s\",\"device\":1,"
		 "\"pasid\":%u,\"addr\":\"0x%llx\",\"perm\":%u,\"grpid\":5}}",
		 vm, pasid, (unsigned long long)addr, perm);
	r = nest_admin_call(admin, req, &reply);
	free(reply);
	return r;
}

static bool wait_prq(nest_client *c, int want)
{
	for (int i = 0; i < 50 && n_prq < want; i++)
		(void)nest_client_wait(c, 100);
	return n_prq >= want;
}

int cmd_iopf(nest_client *c, const char *vm)
{
	struct nest_vm_info info;
	struct nest_bind b = {.size = sizeof(b),
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .gpgd = 0x9000};
	int r;

	nest_client_set_event_cb(c, on_event, NULL);
	r = nest_vm_attach(c, vm, 0, &info);
	if (r < 0)
		die("attach", r);
	check(info.features & NEST_FEAT_PAGE_REQUESTS, "VM_ATTACH announces page requests (0x%x)",
	      info.features);
	r = nest_pasid_alloc(c, 1, 1000, NEST_GPASID_NONE, &b.hpasid);
	if (r == 0)
		r = nest_bind(c, &b);
	check(r == 0, "PASID %u bound (%d)", b.hpasid, r);
	r = trigger_iopf(vm, b.hpasid, 0x7f0000401000ull, NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE);
	check(r == 0, "the mock device faults at PASID %u (admin mock.trigger_iopf: %d)", b.hpasid,
	      r);
	check(wait_prq(c, 1), "EV_PAGE_REQUEST received");
	check(last_prq.dev_id == 1 && last_prq.pasid == b.hpasid &&
		      last_prq.addr == 0x7f0000401000ull && last_prq.grpid == 5 &&
		      last_prq.perm == (NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE) &&
		      (last_prq.flags & NEST_PRQ_F_LAST_PAGE) &&
		      (last_prq.flags & NEST_PRQ_F_PASID_VALID),
	      "page request: device %u PASID %u addr 0x%llx grp %u perm 0x%x flags 0x%x",
	      last_prq.dev_id, last_prq.pasid, (unsigned long long)last_prq.addr, last_prq.grpid,
	      last_prq.perm, last_prq.flags);
	r = nest_page_response(c, last_prq.cookie, 7);
	check(r == -EINVAL, "PAGE_RESPONSE with an unknown code: %d", r);
	r = nest_page_response(c, last_prq.cookie + 1000, NEST_PAGE_RESP_SUCCESS);
	check(r == -ENOENT, "PAGE_RESPONSE with a cookie that is not pending: %d", r);
	r = nest_page_response(c, last_prq.cookie, NEST_PAGE_RESP_SUCCESS);
	check(r == 0, "PAGE_RESPONSE success written back to the kernel (%d)", r);
	r = nest_page_response(c, last_prq.cookie, NEST_PAGE_RESP_SUCCESS);
	check(r == -ENOENT, "answering twice is ENOENT (%d)", r);
	/* DEVICE_PUT answers the device's waiting group before its binding goes */
	r = nest_device_get(c, 1, &(struct nest_device_info){0}, NULL);
	check(r == 0, "DEVICE_GET device 1 (%d)", r);
	r = trigger_iopf(vm, b.hpasid, 0x3000, NEST_PRQ_PERM_READ);
	check(r == 0 && wait_prq(c, 2), "a page request of device 1, not answered by the VMM");
	r = nest_device_put(c, 1);
	check(r == 0, "DEVICE_PUT device 1 with its page request pending (%d)", r);
	r = nest_page_response(c, last_prq.cookie, NEST_PAGE_RESP_SUCCESS);
	check(r == -ENOENT, "nestd answered it at DEVICE_PUT: PAGE_RESPONSE is ENOENT (%d)", r);
	b.flags = NEST_BIND_F_DEVICE;
	b.dev_id = 1;
	r = nest_bind(c, &b);
	check(r == 0, "PASID %u bound on device 1 again after DEVICE_PUT undid it (%d)", b.hpasid,
	      r);
	/* an UNBIND with a group pending: the kernel answers it (invalid) as the PASID detaches */
	r = trigger_iopf(vm, b.hpasid, 0x2000, NEST_PRQ_PERM_READ);
	check(r == 0 && wait_prq(c, 3), "a page request, then its PASID unbound");
	r = nest_unbind(c, b.hpasid);
	check(r == 0, "UNBIND with the page request pending (%d)", r);
	r = nest_page_response(c, last_prq.cookie, NEST_PAGE_RESP_SUCCESS);
	check(r == -ENOENT, "the kernel answered it at the detach: PAGE_RESPONSE is ENOENT (%d)",
	      r);
	r = nest_bind(c, &b);
	check(r == 0, "PASID %u bound on device 1 again (%d)", b.hpasid, r);
	r = trigger_iopf(vm, b.hpasid, 0x4000, NEST_PRQ_PERM_READ);
	check(r == 0 && wait_prq(c, 4), "a last page request, left unanswered");
	return failures; /* exit without answering: nestd answers it before teardown */
}

/* mock.check_dev_cache over the admin socket: 1 match, 0 no match, -errno */
static int dev_cache_is(const char *vm, uint32_t dev, uint32_t slot, uint32_t value)
{
	char req[256], *reply = NULL;
	int r;

	snprintf(req, sizeof(req),
		 "{\"command\":\"mock.check_dev_cache\",\"args\":{\"vm\":\"%s\",\"device\":%u,"
		 "\"slot\":%u,\"value\":%u}}",
		 vm, dev, slot, value);
	r = nest_admin_call(admin, req, &reply);
	if (r == 0)
		r = strstr(reply, "\"match\":true") || strstr(reply, "\"match\": true") ? 1 : 0;
	free(reply);
	return r;
}

static int admin_simple(const char *cmd, const char *vm, uint32_t dev)
{
	char req[256], *reply = NULL;
	int r;

	snprintf(req, sizeof(req), "{\"command\":\"%s\",\"args\":{\"vm\":\"%s\",\"device\":%u}}",
		 cmd, vm, dev);
	r = nest_admin_call(admin, req, &reply);
	free(reply);
	return r;
}

int cmd_viommu(nest_client *c, const char *vm)
{
	struct iommu_viommu_invalidate_selftest inv[3] = {
		{.vdev_id = 0x10, .cache_id = 0},
		{.vdev_id = 0x99 /* not this vIOMMU's */, .cache_id = 1},
		{.vdev_id = 0x10, .cache_id = 2}};
	struct nest_vm_info info;
	uint32_t vi = 0;
	size_t done = 0;
	int first = 0, r;

	nest_client_set_event_cb(c, on_event, NULL);
	r = nest_vm_attach(c, vm, 0, &info);
	if (r < 0)
		die("attach", r);
	check((info.features & NEST_FEAT_VIOMMU) &&
		      info.viommu_type == IOMMU_VIOMMU_TYPE_SELFTEST &&
		      info.viommu_inv_data_type == IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST &&
		      info.viommu_inv_entry_len == sizeof(inv[0]),
	      "VM_ATTACH announces vIOMMUs: type 0x%x inv 0x%x/%u vevent 0x%x/%u", info.viommu_type,
	      info.viommu_inv_data_type, info.viommu_inv_entry_len, info.vevent_type,
	      info.vevent_len);
	r = nest_viommu_alloc(c, 1, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, &vi);
	check(r == -EOPNOTSUPP, "a vIOMMU of another type is refused: %d", r);
	r = nest_viommu_alloc(c, 1, IOMMU_VIOMMU_TYPE_SELFTEST, &vi);
	check(r == 0, "VIOMMU_ALLOC on device 1's parent: id %u (%d)", vi, r);
	r = nest_vdevice_alloc(c, vi, 1, 0x10);
	check(r == 0, "VDEVICE_ALLOC device 1 = virtual 0x10 (%d)", r);
	r = nest_vdevice_alloc(c, vi, 2, 0x10);
	check(r == -EEXIST, "the same virtual id twice: %d", r);
	r = nest_vdevice_alloc(c, vi, 2, 0x20);
	check(r == 0, "VDEVICE_ALLOC device 2 = virtual 0x20 (%d)", r);
	check(dev_cache_is(vm, 1, 0, IOMMU_TEST_DEV_CACHE_DEFAULT) == 1,
	      "device 1's cache slot 0 starts at 0x%x", IOMMU_TEST_DEV_CACHE_DEFAULT);
	r = nest_viommu_invalidate(c, vi, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, inv,
				   sizeof(inv[0]), 3, &done, &first);
	check(done == 1 && first == -ENOENT,
	      "VIOMMU_INVALIDATE: the entry naming a foreign virtual device stops it: done %zu, %d",
	      done, first);
	check(dev_cache_is(vm, 1, 0, 0) == 1 &&
		      dev_cache_is(vm, 1, 2, IOMMU_TEST_DEV_CACHE_DEFAULT) == 1,
	      "device 1: slot 0 invalidated, slot 2 (after the bad entry) not");
	inv[0] = (struct iommu_viommu_invalidate_selftest){.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL,
							   .vdev_id = 0x20};
	r = nest_viommu_invalidate(c, vi, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, inv,
				   sizeof(inv[0]), 1, &done, &first);
	check(r == 0 && dev_cache_is(vm, 2, 3, 0) == 1 &&
		      dev_cache_is(vm, 1, 3, IOMMU_TEST_DEV_CACHE_DEFAULT) == 1,
	      "flush-all on virtual 0x20 reaches device 2 only (%d)", r);
	/* the mock raises vIOMMU events for a device whose RID sits on a vIOMMU-nested HWPT */
	r = admin_simple("mock.trigger_vevent", vm, 1);
	check(r == -ENOENT, "no vIOMMU event before the RID is attached on the vIOMMU (%d)", r);
	{
		struct iommu_hwpt_selftest st = {.iotlb = 0x5eed};

		r = nest_viommu_attach(c, vi, 1, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st));
		check(r == 0, "VIOMMU_ATTACH: device 1's RID on a nested HWPT of vIOMMU %u (%d)",
		      vi, r);
		r = nest_viommu_attach(c, vi, 1, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st));
		check(r == -EBUSY, "attached twice: %d", r);
	}
	r = admin_simple("mock.trigger_vevent", vm, 1);
	check(r == 0, "mock device 1 raises a vIOMMU event (%d)", r);
	for (int i = 0; i < 50 && n_vevent < 1; i++)
		(void)nest_client_wait(c, 100);
	check(n_vevent == 1 && last_vevent_viommu == vi && last_vevent_virt == 0x10,
	      "EV_VEVENT on vIOMMU %u carries virtual id 0x%x", last_vevent_viommu,
	      last_vevent_virt);
	/*
	 * a page request with a PASID the device has no attachment for comes through the nested
	 * HWPT on its RID (the mock's PASID table is the guest's, as SMMUv3's): moving the RID
	 * makes the kernel answer it, and nestd must not answer it again
	 */
	r = trigger_iopf(vm, 7, 0x5000, NEST_PRQ_PERM_READ);
	check(r == 0 && wait_prq(c, n_prq + 1), "a page request at PASID 7 through the RID (%d)",
	      r);
	r = nest_viommu_detach(c, vi, 1);
	check(r == 0, "VIOMMU_DETACH: the RID back on its stage-2 parent (%d)", r);
	r = nest_page_response(c, last_prq.cookie, NEST_PAGE_RESP_SUCCESS);
	check(r == -ENOENT,
	      "the kernel answered it when the RID moved: PAGE_RESPONSE is ENOENT (%d)", r);
	r = admin_simple("mock.trigger_vevent", vm, 1);
	check(r == -ENOENT, "no vIOMMU event after the detach (%d)", r);
	r = nest_viommu_free(c, vi);
	check(r == 0, "VIOMMU_FREE (%d)", r);
	r = nest_viommu_free(c, vi);
	check(r == -ENOENT, "freed twice: %d", r);
	r = nest_viommu_alloc(c, 2, IOMMU_VIOMMU_TYPE_SELFTEST, &vi);
	check(r == 0, "another vIOMMU, left for teardown to free (%d)", r);
	if (r == 0) {
		struct iommu_hwpt_selftest st = {.iotlb = 1};

		check(nest_vdevice_alloc(c, vi, 1, 0x30) == 0 &&
			      nest_viommu_attach(c, vi, 1, IOMMU_HWPT_DATA_SELFTEST, &st,
						 sizeof(st)) == 0,
		      "its vDEVICE and a RID attach too");
		/* DEVICE_PUT takes device 1 off the vIOMMU: RID on its parent, vDEVICE gone */
		r = nest_device_get(c, 1, &(struct nest_device_info){0}, NULL);
		check(r == 0, "DEVICE_GET device 1 (%d)", r);
		r = admin_simple("mock.trigger_vevent", vm, 1);
		check(r == 0, "device 1 on the vIOMMU raises events (%d)", r);
		r = nest_device_put(c, 1);
		check(r == 0, "DEVICE_PUT device 1 while attached to vIOMMU %u (%d)", vi, r);
		r = admin_simple("mock.trigger_vevent", vm, 1);
		check(r == -ENOENT, "after DEVICE_PUT: no vIOMMU event, it left the vIOMMU (%d)",
		      r);
		r = nest_viommu_detach(c, vi, 1);
		check(r == -ENOENT, "VIOMMU_DETACH: not attached any more (%d)", r);
		r = nest_vdevice_alloc(c, vi, 1, 0x30);
		check(r == 0, "its virtual id 0x30 is free in the kernel again (%d)", r);
		r = nest_viommu_attach(c, vi, 1, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st));
		check(r == 0, "and it can be attached again, left for teardown (%d)", r);
	}
	return failures;
}

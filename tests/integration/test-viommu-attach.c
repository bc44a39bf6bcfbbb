/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of VIOMMU_ATTACH / VIOMMU_DETACH (protocol 1.1) and of DEVICE_PUT with a
 * device on a vIOMMU, with nestd-fake-native (fake-native.c): the arguments reach the backend in
 * the error order of PROTOCOL.md §8.21-§8.22, a RID is on one vIOMMU at a time, VIOMMU_FREE and
 * teardown detach first, DEVICE_PUT takes the device off every vIOMMU and answers its page
 * requests; the admin views (vm.show "attached"), counters and the audit trail. Split from
 * test-viommu-daemon.c; what the kernel does is tested in the guest.
 */
#include <inttypes.h>
#include <time.h>

#include "viommu-daemon.h"

#define HWPT 0xdeadu /* fake-native.c: the data type BIND_NATIVE and VIOMMU_ATTACH take */

static int v_attach(struct tc *t, uint32_t id, uint32_t dev, uint32_t type, const void *data,
		    uint32_t len)
{
	struct nest_viommu_attach at = {.size = sizeof(at),
					.viommu_id = id,
					.dev_id = dev,
					.data_type = type,
					.data_len = len};

	return tc_call(t, NEST_OP_VIOMMU_ATTACH, &at, sizeof(at), data, len, NULL, 0, NULL, 0,
		       NULL);
}

static int v_detach(struct tc *t, uint32_t id, uint32_t dev)
{
	struct nest_viommu_detach dt = {.size = sizeof(dt), .viommu_id = id, .dev_id = dev};

	return tc_call(t, NEST_OP_VIOMMU_DETACH, &dt, sizeof(dt), NULL, 0, NULL, 0, NULL, 0, NULL);
}

/* vm.show: the devices attached to vIOMMU @id as a bit mask of their ids (< 32); -1: no such */
static long vm_attached(struct tc *a, const char *vm, uint32_t id)
{
	struct json_object *res = NULL, *arr, *o, *v, *att;
	char args[64];
	long mask = -1;

	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", vm);
	cr_assert_eq(tc_admin(a, "vm.show", args, &res), 0);
	if (json_object_object_get_ex(res, "viommus", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			o = json_object_array_get_idx(arr, i);
			if (!json_object_object_get_ex(o, "id", &v) ||
			    (uint32_t)json_object_get_int64(v) != id ||
			    !json_object_object_get_ex(o, "attached", &att))
				continue;
			mask = 0;
			for (size_t k = 0; k < json_object_array_length(att); k++)
				mask |= 1l
					<< json_object_get_int64(json_object_array_get_idx(att, k));
		}
	json_object_put(res);
	return mask;
}

Test(viommu_daemon, attach_reaches_the_backend)
{
	struct td d;
	uint8_t data[NEST_NATIVE_DATA_MAX + 1];
	uint32_t id, id2;
	long dev;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0x40 + i);
	start(&d, NULL, true);
	struct tc *t = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(v_alloc(t, 1, VIOMMU, &id), 0);
	cr_assert_eq(v_vdev(t, id, 1, 0x10), 0);
	cr_expect_eq(vm_attached(a, "vm0", id), 0, "vm.show: nothing attached");
	/* the arguments reach the backend */
	cr_expect_eq(v_attach(t, id, 2, HWPT, data, 8), -ENOENT, "the backend: no vDEVICE");
	cr_expect_eq(be(a, "vi_at_last_dev"), 2);
	cr_assert_eq(v_attach(t, id, 1, HWPT, data, 12), 0);
	cr_expect_eq(be(a, "vi_attaches"), 1);
	cr_expect_eq(be(a, "vi_attached"), 1);
	cr_expect_eq(be(a, "vi_at_last_viommu"), id);
	cr_expect_eq(be(a, "vi_at_last_dev"), 1);
	cr_expect_eq(be(a, "vi_at_last_type"), HWPT);
	cr_expect_eq(be(a, "vi_at_last_len"), 12);
	cr_expect_eq(be(a, "vi_at_last_data"), 0x43424140);
	cr_expect_eq(vm_attached(a, "vm0", id), 1l << 1, "vm.show: device 1 attached");
	cr_expect_eq(v_attach(t, id, 1, HWPT, data, 8), -EBUSY, "the backend's EBUSY");
	cr_expect_eq(vm_attached(a, "vm0", id), 1l << 1);
	cr_assert_eq(v_vdev(t, id, 2, 0x20), 0);
	cr_expect_eq(v_attach(t, id, 2, HWPT, data, 3), -EIO, "the backend's EPERM is EIO");
	cr_expect(!tc_closed(t, 50), "and the connection stays");
	cr_assert_eq(v_attach(t, id, 2, HWPT, data, NEST_NATIVE_DATA_MAX), 0, "256 bytes");
	cr_expect_eq(be(a, "vi_at_last_len"), NEST_NATIVE_DATA_MAX);
	cr_expect_eq(vm_attached(a, "vm0", id), (1l << 1) | (1l << 2));
	/* detach: ENOENT unless attached, before the backend */
	cr_expect_eq(v_detach(t, id, 2), 0);
	cr_expect_eq(be(a, "vi_detaches"), 1);
	cr_expect_eq(v_detach(t, id, 2), -ENOENT, "not attached any more");
	cr_expect_eq(v_detach(t, 999, 1), -ENOENT, "not a vIOMMU");
	cr_expect_eq(be(a, "vi_detaches"), 1);
	cr_expect_eq(vm_attached(a, "vm0", id), 1l << 1);
	/* VIOMMU_FREE detaches first */
	cr_expect_eq(v_free(t, id), 0);
	cr_expect_eq(be(a, "vi_detaches"), 2);
	cr_expect_eq(be(a, "vi_attached"), 0);
	/* teardown detaches too, before the free */
	cr_assert_eq(v_alloc(t, 2, VIOMMU, &id2), 0);
	cr_assert_eq(v_vdev(t, id2, 1, 0x30), 0);
	cr_assert_eq(v_attach(t, id2, 1, HWPT, data, 8), 0);
	cr_expect_eq(vm_viommus(a, "vm0", id2, &dev), 1);
	cr_assert_eq(tc_detach(t, 0), 0);
	cr_expect_eq(be(a, "vi_detaches"), 3);
	cr_expect_eq(be(a, "vi_attached"), 0);
	cr_expect_eq(be(a, "vi_live"), 0);
	/* audit */
	cr_expect_eq(it_audit_count(d.log, "viommu-attach", "result=ok"), 3);
	cr_expect_eq(it_audit_count(d.log, "viommu-attach", "result=EBUSY"), 1);
	cr_expect_eq(it_audit_count(d.log, "viommu-attach", "result=EIO"), 1);
	cr_expect_eq(it_audit_count(d.log, "viommu-attach", "result=ENOENT"), 1);
	cr_expect_eq(it_audit_count(d.log, "viommu-attach", "256 bytes"), 1);
	cr_expect_eq(it_audit_count(d.log, "viommu-detach", "result=ok"), 1);
	cr_expect_eq(it_audit_count(d.log, "viommu-detach", "result=ENOENT"), 2);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(viommu_daemon, attach_errors_in_order)
{
	struct td d;
	uint8_t data[NEST_NATIVE_DATA_MAX + 8] = {1, 2, 3, 4};
	uint8_t body[sizeof(struct nest_viommu_attach) + 16] = {0};
	struct nest_viommu_attach *at = (struct nest_viommu_attach *)body;
	uint32_t id, id1;
	int fd;

	start(&d, NULL, false);
	struct tc *t = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *t1 = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_attach(t1, "vm1", 0, NULL), 0);
	cr_assert_eq(v_alloc(t, 1, VIOMMU, &id), 0);
	cr_assert_eq(v_vdev(t, id, 1, 0x10), 0);
	cr_assert_eq(v_alloc(t1, 7, VIOMMU, &id1), -EIO); /* vm1's device 7 fails in the fake */
	/* the data type, then the vIOMMU, then the device, then the backend */
	cr_expect_eq(v_attach(t, 999, 99, HWPT + 1, data, 8), -EOPNOTSUPP, "the type first");
	cr_expect_eq(v_attach(t, id, 1, VIOMMU, data, 8), -EOPNOTSUPP, "the vIOMMU type is not it");
	cr_expect_eq(v_attach(t, 999, 99, HWPT, data, 8), -ENOENT);
	cr_expect_eq(v_attach(t, 999, 1, HWPT, data, 8), -ENOENT, "not a vIOMMU of this VM");
	cr_expect_eq(v_attach(t, id, 99, HWPT, data, 8), -ENOENT, "not a device");
	cr_expect_eq(v_attach(t, id, 7, HWPT, data, 8), -ENOENT, "vm1's device");
	cr_expect_eq(v_attach(t1, id, 7, HWPT, data, 8), -ENOENT, "vm0's vIOMMU from vm1");
	cr_expect_eq(v_detach(t1, id, 1), -ENOENT, "vm0's vIOMMU from vm1");
	cr_expect_eq(be(a, "vi_at_last_dev"), 0, "nothing reached the backend");
	/* body rules (§5): the data fills the body exactly, 1..256 bytes; flags; no fds */
	*at = (struct nest_viommu_attach){.size = sizeof(*at),
					  .viommu_id = id,
					  .dev_id = 1,
					  .data_type = HWPT,
					  .data_len = 8};
	cr_expect_eq(
		tc_call(t, NEST_OP_VIOMMU_ATTACH, at, sizeof(*at), data, 7, NULL, 0, NULL, 0, NULL),
		-EINVAL, "short data");
	cr_expect_eq(
		tc_call(t, NEST_OP_VIOMMU_ATTACH, at, sizeof(*at), data, 9, NULL, 0, NULL, 0, NULL),
		-EINVAL, "long data");
	at->data_len = 0;
	cr_expect_eq(
		tc_call(t, NEST_OP_VIOMMU_ATTACH, at, sizeof(*at), NULL, 0, NULL, 0, NULL, 0, NULL),
		-EINVAL, "no data");
	at->data_len = NEST_NATIVE_DATA_MAX + 1;
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_ATTACH, at, sizeof(*at), data,
			     NEST_NATIVE_DATA_MAX + 1, NULL, 0, NULL, 0, NULL),
		     -E2BIG, "257 bytes");
	at->data_len = 8;
	at->size = 20;
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_ATTACH, at, 20, NULL, 0, NULL, 0, NULL, 0, NULL),
		     -EINVAL, "shorter than 24");
	at->size = sizeof(*at);
	at->flags = 1;
	cr_expect_eq(
		tc_call(t, NEST_OP_VIOMMU_ATTACH, at, sizeof(*at), data, 8, NULL, 0, NULL, 0, NULL),
		-EOPNOTSUPP, "a flag");
	at->flags = 0;
	fd = tc_memfd(4096, true);
	cr_expect_eq(
		tc_call(t, NEST_OP_VIOMMU_ATTACH, at, sizeof(*at), data, 8, &fd, 1, NULL, 0, NULL),
		-EINVAL, "an fd");
	struct nest_viommu_detach dt = {.size = 12, .viommu_id = id, .dev_id = 1};
	cr_expect_eq(tc_call(t, NEST_OP_VIOMMU_DETACH, &dt, 12, NULL, 0, NULL, 0, NULL, 0, NULL),
		     -EINVAL, "detach shorter than 16");
	dt.size = sizeof(dt);
	cr_expect_eq(
		tc_call(t, NEST_OP_VIOMMU_DETACH, &dt, sizeof(dt), NULL, 0, &fd, 1, NULL, 0, NULL),
		-EINVAL, "detach with an fd");
	close(fd);
	cr_expect_eq(be(a, "vi_at_last_dev"), 0, "still nothing reached the backend");
	cr_expect_eq(v_attach(t, id, 1, HWPT, data, 8), 0);
	cr_expect_eq(v_detach(t, id, 1), 0);
	(void)body;
	tc_free(a);
	tc_free(t1);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

#define VPUTFAIL  0xbadu /* fake-native.c: this vDEVICE's RID refuses to go back to its parent */
#define CAPS_BOTH "{\"software\":\"tclient\",\"features\":[\"viommu\",\"page-requests\"]}"

static int dev_get(struct tc *t, uint32_t dev)
{
	struct nest_device_get g = {.size = sizeof(g), .dev_id = dev};
	struct nest_device_info info;

	return tc_call(t, NEST_OP_DEVICE_GET, &g, sizeof(g), NULL, 0, NULL, 0, &info, sizeof(info),
		       NULL);
}

static int dev_put(struct tc *t, uint32_t dev)
{
	struct nest_device_put p = {.size = sizeof(p), .dev_id = dev};

	return tc_call(t, NEST_OP_DEVICE_PUT, &p, sizeof(p), NULL, 0, NULL, 0, NULL, 0, NULL);
}

static int respond_cookie(struct tc *t, uint32_t cookie)
{
	struct nest_page_response r = {.size = sizeof(r), .cookie = cookie, .code = 0};

	return tc_call(t, NEST_OP_PAGE_RESPONSE, &r, sizeof(r), NULL, 0, NULL, 0, NULL, 0, NULL);
}

/* vm.show: is device @dev of @vm handed out (1), not (0), or not there (-1)? */
static int dev_taken(struct tc *a, const char *vm, uint32_t dev)
{
	struct json_object *res = NULL, *arr, *o, *v;
	char args[64];
	int out = -1;

	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", vm);
	cr_assert_eq(tc_admin(a, "vm.show", args, &res), 0);
	if (json_object_object_get_ex(res, "devices", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			o = json_object_array_get_idx(arr, i);
			if (json_object_object_get_ex(o, "id", &v) &&
			    (uint32_t)json_object_get_int64(v) == dev &&
			    json_object_object_get_ex(o, "taken", &v))
				out = json_object_get_boolean(v);
		}
	json_object_put(res);
	return out;
}

static uint32_t prq(struct tc *a, struct tc *t, uint32_t dev)
{
	struct nest_ev_page_request ev = {0};
	char args[128];

	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":%u,\"pasid\":0,\"addr\":\"0x1000\",\"perm\":1}", dev);
	cr_assert_eq(tc_admin(a, "mock.trigger_iopf", args, NULL), 0);
	cr_assert_eq(tc_wait_event(t, NEST_EV_PAGE_REQUEST, &ev, sizeof(ev), 2000), 0);
	cr_expect_eq(ev.dev_id, dev);
	return ev.cookie;
}

/*
 * DEVICE_PUT puts the device back in its state after VM_ATTACH: off the vIOMMU (its RID on the
 * parent, its vDEVICE gone; the vIOMMU, nested on its parent, stays), its page request groups
 * answered invalid; the other device keeps all of it. A backend that cannot move the RID back:
 * DEVICE_PUT fails, the device stays handed out and attached, the books say so.
 */
Test(viommu_daemon, device_put_leaves_the_viommu_and_answers_page_requests)
{
	struct td d;
	uint8_t data[8] = {0};
	uint32_t id, c1, c2, c3;
	long dev;

	start(&d, NULL, true);
	struct tc *t = client_caps(&d, 1, CAPS_BOTH);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(dev_get(t, 1), 0);
	cr_assert_eq(dev_get(t, 2), 0);
	cr_assert_eq(v_alloc(t, 1, VIOMMU, &id), 0);
	cr_assert_eq(v_vdev(t, id, 1, 0x10), 0);
	cr_assert_eq(v_vdev(t, id, 2, 0x20), 0);
	cr_assert_eq(v_attach(t, id, 1, HWPT, data, 8), 0);
	cr_assert_eq(v_attach(t, id, 2, HWPT, data, 8), 0);
	c1 = prq(a, t, 1);
	c2 = prq(a, t, 1);
	c3 = prq(a, t, 2);
	cr_assert_eq(be(a, "prq_pending"), 3);

	cr_assert_eq(dev_put(t, 1), 0);
	cr_expect_eq(vm_attached(a, "vm0", id), 1l << 2, "vm.show: only device 2 attached");
	cr_expect_eq(be(a, "vi_attached"), 1);
	cr_expect_eq(be(a, "vi_detaches"), 1);
	cr_expect_eq(be(a, "vi_vdev_frees"), 1, "device 1's vDEVICE went");
	cr_expect_eq(be(a, "vi_live"), 1, "the vIOMMU is the VM's: it stays");
	cr_expect_eq(vm_viommus(a, "vm0", id, &dev), 1);
	cr_expect_eq(dev, 1);
	cr_expect_eq(be(a, "prq_invalid"), 2, "device 1's groups answered invalid");
	cr_expect_eq(be(a, "prq_pending"), 1, "device 2's still waits for the VMM");
	cr_expect_eq(vm_ctr(a, "vm0", "page_refusals"), 2);
	cr_expect_eq(respond_cookie(t, c1), -ENOENT, "nestd answered it");
	cr_expect_eq(respond_cookie(t, c2), -ENOENT);
	cr_expect_eq(respond_cookie(t, c3), 0);
	cr_expect_eq(v_detach(t, id, 1), -ENOENT, "not attached any more");
	cr_expect_eq(dev_put(t, 1), -ENOENT, "given back already");
	/* handed out again: a fresh device, which the VMM may set up again */
	cr_assert_eq(dev_get(t, 1), 0);
	cr_expect_eq(v_vdev(t, id, 1, 0x10), 0, "no vDEVICE left behind (EBUSY otherwise)");
	cr_expect_eq(v_attach(t, id, 1, HWPT, data, 8), 0);
	cr_expect_eq(dev_put(t, 1), 0);
	cr_expect_eq(vm_attached(a, "vm0", id), 1l << 2);

	/* the backend refuses: still handed out, still attached, in the books too */
	cr_assert_eq(dev_get(t, 1), 0);
	cr_assert_eq(v_vdev(t, id, 1, VPUTFAIL), 0);
	cr_assert_eq(v_attach(t, id, 1, HWPT, data, 8), 0);
	c1 = prq(a, t, 1);
	cr_expect_eq(dev_put(t, 1), -EIO, "the backend's EPERM is EIO");
	cr_expect(!tc_closed(t, 50));
	cr_expect_eq(vm_attached(a, "vm0", id), (1l << 1) | (1l << 2));
	cr_expect_eq(be(a, "vi_attached"), 2);
	cr_expect_eq(be(a, "prq_invalid"), 3, "its page request was answered before");
	cr_expect_eq(dev_taken(a, "vm0", 1), 1, "still handed out");
	cr_expect_eq(v_detach(t, id, 1), 0, "the VMM can detach it itself");
	cr_expect_eq(dev_put(t, 1), 0, "and give it back then");
	cr_expect_eq(dev_taken(a, "vm0", 1), 0);
	cr_expect_eq(be(a, "vi_attached"), 1);
	cr_expect_eq(it_audit_count(d.log, "device-put", "2 page request groups answered invalid"),
		     1);
	cr_expect_eq(it_audit_count(d.log, "device-put", "still attached to vIOMMU"), 1);
	cr_expect_eq(it_audit_count(d.log, "device-put", "result=EIO"), 1);
	cr_expect_eq(it_audit_count(d.log, "device-put", "result=ok"), 3);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * A device's RID is on one vIOMMU at a time: attaching it to a second one while it is on the
 * first is EBUSY from nestd, before the backend (the kernel would move the RID over and nestd's
 * books would have it on both); detached from the first, it may go to the second.
 */
Test(viommu_daemon, attach_to_a_second_viommu_is_ebusy)
{
	struct td d;
	uint8_t data[8] = {0};
	uint32_t id, id2;

	start(&d, NULL, true);
	struct tc *t = client_caps(&d, 1, CAPS_VIOMMU);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(v_alloc(t, 1, VIOMMU, &id), 0);
	cr_assert_eq(v_alloc(t, 2, VIOMMU, &id2), 0);
	cr_assert_eq(v_vdev(t, id, 1, 0x10), 0);
	cr_assert_eq(v_vdev(t, id2, 1, 0x11), 0);
	cr_assert_eq(v_attach(t, id, 1, HWPT, data, 8), 0);
	cr_expect_eq(v_attach(t, id2, 1, HWPT, data, 8), -EBUSY, "on the first vIOMMU");
	cr_expect_eq(be(a, "vi_attaches"), 1, "refused before the backend");
	cr_expect_eq(vm_attached(a, "vm0", id), 1l << 1);
	cr_expect_eq(vm_attached(a, "vm0", id2), 0, "vm.show: not on the second");
	cr_assert_eq(v_detach(t, id, 1), 0);
	cr_expect_eq(v_attach(t, id2, 1, HWPT, data, 8), 0, "detached from the first: allowed");
	cr_expect_eq(vm_attached(a, "vm0", id), 0);
	cr_expect_eq(vm_attached(a, "vm0", id2), 1l << 1);
	cr_expect_eq(it_audit_count(d.log, "viommu-attach", "result=EBUSY"), 1);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

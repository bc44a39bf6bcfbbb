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

#include "common.h"
#include "nest-msg.h"

#define VIOMMU	     0x7e50u /* fake-native.c */
#define VINV	     0x7e51u
#define VEVENT	     0x7e52u
#define VFAIL	     0xfa150000u
#define VLOST	     0x1057u
#define DEV_CACHE    0xcafeu
#define CAPS_VIOMMU  "{\"software\":\"tclient\",\"features\":[\"viommu\"]}"
#define CAPS_NOTHING "{\"software\":\"tclient\"}"

struct vev {
	struct nest_ev_vevent h;
	uint8_t data[NEST_VEVENT_DATA_MAX];
};

struct ventry {
	uint32_t flags, vdev_id;
};

static void start(struct td *d, const char *extra_vm0, bool capture)
{
	char conf[2048];

	td_init(d);
	d->bin = NESTD_FAKE_NATIVE;
	d->capture_stderr = capture;
	it_std_conf(conf, sizeof(conf), extra_vm0, NULL);
	td_write_conf(d, conf);
	cr_assert_eq(td_start(d), 0, "nestd-fake-native did not start");
}

static struct tc *client_caps(struct td *d, uint16_t minor, const char *caps)
{
	struct tc *t = tc_connect(d->sock);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_minor(t, minor, caps), 0);
	return t;
}

static int v_alloc(struct tc *t, uint32_t dev, uint32_t type, uint32_t *ret)
{
	struct nest_viommu_alloc a = {.size = sizeof(a), .dev_id = dev, .type = type};
	struct nest_viommu_reply rep = {0};
	size_t len = 0;
	int r = tc_call(t, NEST_OP_VIOMMU_ALLOC, &a, sizeof(a), NULL, 0, NULL, 0, &rep, sizeof(rep),
			&len);

	if (r == 0) {
		cr_expect_eq(len, sizeof(rep));
		cr_expect_eq(rep.size, sizeof(rep));
		if (ret)
			*ret = rep.viommu_id;
	}
	return r;
}

static int v_free(struct tc *t, uint32_t id)
{
	struct nest_viommu_free f = {.size = sizeof(f), .viommu_id = id};

	return tc_call(t, NEST_OP_VIOMMU_FREE, &f, sizeof(f), NULL, 0, NULL, 0, NULL, 0, NULL);
}

static int v_vdev(struct tc *t, uint32_t id, uint32_t dev, uint64_t virt)
{
	struct nest_vdevice_alloc a = {
		.size = sizeof(a), .viommu_id = id, .dev_id = dev, .virt_id = virt};

	return tc_call(t, NEST_OP_VDEVICE_ALLOC, &a, sizeof(a), NULL, 0, NULL, 0, NULL, 0, NULL);
}

static int v_inv(struct tc *t, uint32_t id, uint32_t type, const struct ventry *e, uint32_t n,
		 struct nest_invalidate_reply *rep)
{
	struct nest_viommu_invalidate in = {.size = sizeof(in),
					    .entry_len = sizeof(*e),
					    .entry_num = n,
					    .viommu_id = id,
					    .data_type = type};

	memset(rep, 0, sizeof(*rep));
	return tc_call(t, NEST_OP_VIOMMU_INVALIDATE, &in, sizeof(in), e, n * sizeof(*e), NULL, 0,
		       rep, sizeof(*rep), NULL);
}

static int trigger(struct tc *a, const char *vm, uint32_t dev)
{
	char args[128];

	snprintf(args, sizeof(args), "{\"vm\":\"%s\",\"device\":%u}", vm, dev);
	return tc_admin(a, "mock.trigger_vevent", args, NULL);
}

/* 1 match, 0 mismatch, -errno */
static int dev_cache(struct tc *a, const char *vm, uint32_t dev, uint32_t slot, uint32_t value)
{
	struct json_object *res = NULL, *m;
	char args[160];
	int r;

	snprintf(args, sizeof(args), "{\"vm\":\"%s\",\"device\":%u,\"slot\":%u,\"value\":%u}", vm,
		 dev, slot, value);
	r = tc_admin(a, "mock.check_dev_cache", args, &res);
	if (r == 0)
		r = json_object_object_get_ex(res, "match", &m) && json_object_get_boolean(m);
	json_object_put(res);
	return r;
}

static int wait_vev(struct tc *t, struct vev *ev, int ms)
{
	memset(ev, 0, sizeof(*ev));
	return tc_wait_event(t, NEST_EV_VEVENT, ev, sizeof(*ev), ms);
}

static long admin_num(struct tc *a, const char *cmd, const char *args, const char *obj,
		      const char *key)
{
	struct json_object *res = NULL, *o, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, cmd, args, &res), 0);
	if (json_object_object_get_ex(res, obj, &o) && json_object_object_get_ex(o, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

static long be(struct tc *a, const char *key)
{
	return admin_num(a, "stats", NULL, "backend", key);
}

static long vm_ctr(struct tc *a, const char *vm, const char *key)
{
	char args[64];

	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", vm);
	return admin_num(a, "vm.show", args, "counters", key);
}

/* vm.show "viommus": how many, and the device of the one with @id (-1 if none) */
static int vm_viommus(struct tc *a, const char *vm, uint32_t id, long *ret_dev)
{
	struct json_object *res = NULL, *arr, *o, *v;
	char args[64];
	int n = -1;

	*ret_dev = -1;
	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", vm);
	cr_assert_eq(tc_admin(a, "vm.show", args, &res), 0);
	if (json_object_object_get_ex(res, "viommus", &arr)) {
		n = (int)json_object_array_length(arr);
		for (int i = 0; i < n; i++) {
			o = json_object_array_get_idx(arr, (size_t)i);
			if (json_object_object_get_ex(o, "id", &v) &&
			    (uint32_t)json_object_get_int64(v) == id &&
			    json_object_object_get_ex(o, "device", &v))
				*ret_dev = (long)json_object_get_int64(v);
		}
	}
	json_object_put(res);
	return n;
}

static int audit_count(const char *log, const char *op, const char *also)
{
	char want[64], line[1024];
	FILE *f = fopen(log, "r");
	int n = 0;

	cr_assert_not_null(f);
	snprintf(want, sizeof(want), "audit: op=%s ", op);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, want) && (!also || strstr(line, also));
	fclose(f);
	return n;
}

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
	cr_expect_eq(audit_count(d.log, "viommu-alloc", "result=ok"), 2);
	cr_expect_eq(audit_count(d.log, "viommu-free", "result=ok"), 1);
	cr_expect_eq(audit_count(d.log, "viommu-free", "result=ENOENT"), 1);
	cr_expect_eq(audit_count(d.log, "vdevice-alloc", "result=ok"), 2);
	cr_expect_eq(audit_count(d.log, "vdevice-alloc", "result=EEXIST"), 1);
	cr_expect_eq(audit_count(d.log, "vdevice-alloc", "vm=vm0"), 5);
	cr_expect_eq(audit_count(d.log, "viommu-invalidate", NULL), 0);
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
	cr_expect_eq(audit_count(d.log, "viommu-attach", "result=ok"), 3);
	cr_expect_eq(audit_count(d.log, "viommu-attach", "result=EBUSY"), 1);
	cr_expect_eq(audit_count(d.log, "viommu-attach", "result=EIO"), 1);
	cr_expect_eq(audit_count(d.log, "viommu-attach", "result=ENOENT"), 1);
	cr_expect_eq(audit_count(d.log, "viommu-attach", "256 bytes"), 1);
	cr_expect_eq(audit_count(d.log, "viommu-detach", "result=ok"), 1);
	cr_expect_eq(audit_count(d.log, "viommu-detach", "result=ENOENT"), 2);
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
	cr_expect_eq(audit_count(d.log, "device-put", "2 page request groups answered invalid"), 1);
	cr_expect_eq(audit_count(d.log, "device-put", "still attached to vIOMMU"), 1);
	cr_expect_eq(audit_count(d.log, "device-put", "result=EIO"), 1);
	cr_expect_eq(audit_count(d.log, "device-put", "result=ok"), 3);
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
	cr_expect_eq(audit_count(d.log, "viommu-attach", "result=EBUSY"), 1);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

/* SPDX-License-Identifier: MIT */
/* viommu-daemon.c - see viommu-daemon.h. */
#include <inttypes.h>
#include <time.h>

#include "viommu-daemon.h"

void start(struct td *d, const char *extra_vm0, bool capture)
{
	char conf[2048];

	td_init(d);
	d->bin = NESTD_FAKE_NATIVE;
	d->capture_stderr = capture;
	it_std_conf(conf, sizeof(conf), extra_vm0, NULL);
	td_write_conf(d, conf);
	cr_assert_eq(td_start(d), 0, "nestd-fake-native did not start");
}

struct tc *client_caps(struct td *d, uint16_t minor, const char *caps)
{
	struct tc *t = tc_connect(d->sock);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_minor(t, minor, caps), 0);
	return t;
}

int v_alloc(struct tc *t, uint32_t dev, uint32_t type, uint32_t *ret)
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

int v_free(struct tc *t, uint32_t id)
{
	struct nest_viommu_free f = {.size = sizeof(f), .viommu_id = id};

	return tc_call(t, NEST_OP_VIOMMU_FREE, &f, sizeof(f), NULL, 0, NULL, 0, NULL, 0, NULL);
}

int v_vdev(struct tc *t, uint32_t id, uint32_t dev, uint64_t virt)
{
	struct nest_vdevice_alloc a = {
		.size = sizeof(a), .viommu_id = id, .dev_id = dev, .virt_id = virt};

	return tc_call(t, NEST_OP_VDEVICE_ALLOC, &a, sizeof(a), NULL, 0, NULL, 0, NULL, 0, NULL);
}

int v_inv(struct tc *t, uint32_t id, uint32_t type, const struct ventry *e, uint32_t n,
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

int trigger(struct tc *a, const char *vm, uint32_t dev)
{
	char args[128];

	snprintf(args, sizeof(args), "{\"vm\":\"%s\",\"device\":%u}", vm, dev);
	return tc_admin(a, "mock.trigger_vevent", args, NULL);
}

/* 1 match, 0 mismatch, -errno */
int dev_cache(struct tc *a, const char *vm, uint32_t dev, uint32_t slot, uint32_t value)
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

int wait_vev(struct tc *t, struct vev *ev, int ms)
{
	memset(ev, 0, sizeof(*ev));
	return tc_wait_event(t, NEST_EV_VEVENT, ev, sizeof(*ev), ms);
}

long admin_num(struct tc *a, const char *cmd, const char *args, const char *obj, const char *key)
{
	struct json_object *res = NULL, *o, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, cmd, args, &res), 0);
	if (json_object_object_get_ex(res, obj, &o) && json_object_object_get_ex(o, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

long be(struct tc *a, const char *key)
{
	return admin_num(a, "stats", NULL, "backend", key);
}

long vm_ctr(struct tc *a, const char *vm, const char *key)
{
	char args[64];

	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", vm);
	return admin_num(a, "vm.show", args, "counters", key);
}

/* vm.show "viommus": how many, and the device of the one with @id (-1 if none) */
int vm_viommus(struct tc *a, const char *vm, uint32_t id, long *ret_dev)
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

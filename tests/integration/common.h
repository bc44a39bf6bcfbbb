/* SPDX-License-Identifier: MIT */
/* Shared fixtures for the integration suites: a standard config and a started daemon. */
#ifndef NEST_IT_COMMON_H
#define NEST_IT_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "nest-test.h"
#include "tclient.h"

/* Two VMs owned by the test's uid: vm0 (2 devices, ATS on dev 1) and vm1 (1 device). */
static inline void it_std_conf(char *buf, size_t cap, const char *extra_vm0, const char *extra)
{
	snprintf(buf, cap,
		 "[Daemon]\nBackend=sim\n%s\n"
		 "[VM]\nName=vm0\nOwner=%s\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n"
		 "Device=iax0 id=2\nPASIDQuota=8\nMaxRegions=4\nMemoryLimit=64M\n%s\n"
		 "[VM]\nName=vm1\nOwner=%s\nDevice=dsa1 id=1\nPASIDQuota=8\n",
		 extra ? extra : "", td_uid_str(), extra_vm0 ? extra_vm0 : "", td_uid_str());
}

static inline void it_start(struct td *d, const char *extra_vm0, const char *extra)
{
	char conf[2048];

	td_init(d);
	it_std_conf(conf, sizeof(conf), extra_vm0, extra);
	td_write_conf(d, conf);
	cr_assert_eq(td_start(d), 0, "nestd did not start");
}

static inline void it_stop(struct td *d)
{
	cr_assert_eq(td_stop(d), 0, "nestd did not exit 0 on SIGTERM");
}

/* Connected + HELLO done. */
static inline struct tc *it_client(struct td *d)
{
	struct tc *t = tc_connect(d->sock);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello(t), 0);
	return t;
}

static inline struct tc *it_admin(struct td *d)
{
	struct tc *t = tc_connect(d->admin);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello(t), 0);
	return t;
}

/* Integer field @key of admin "vm.list" entry of @vm (-1 if not found). */
static inline long it_vm_field(struct tc *a, const char *vm, const char *key)
{
	struct json_object *res = NULL, *vms, *e, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "vm.list", NULL, &res), 0);
	cr_assert(json_object_object_get_ex(res, "vms", &vms));
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		e = json_object_array_get_idx(vms, i);
		if (json_object_object_get_ex(e, "name", &v) &&
		    strcmp(json_object_get_string(v), vm) == 0 &&
		    json_object_object_get_ex(e, key, &v))
			out = json_object_is_type(v, json_type_string)
				      ? (strcmp(json_object_get_string(v), "attached") == 0 ? 1
					 : strcmp(json_object_get_string(v), "held") == 0   ? 2
											    : 0)
				      : (long)json_object_get_int64(v);
	}
	json_object_put(res);
	return out;
}

#endif /* NEST_IT_COMMON_H */

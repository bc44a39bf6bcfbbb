/* SPDX-License-Identifier: MIT */
/* Start, HELLO, attach, admin status, clean SIGTERM exit. */
#include "common.h"

Test(basic, hello_attach_status)
{
	struct td d;
	struct nest_vm_info info;
	struct json_object *res = NULL, *v;

	it_start(&d, NULL, NULL);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &info), 0);
	cr_expect_eq(info.backend, NEST_BACKEND_SIM);
	cr_expect_eq(info.num_devices, 2);
	cr_expect_eq(info.pasid_quota, 8);
	cr_expect_eq(info.pasid_mode, NEST_PASID_MODE_SYSTEM);
	cr_expect_eq(info.reattached, 0);
	cr_expect(info.formats & NEST_FORMAT_VTD_FL);

	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_admin(a, "status", NULL, &res), 0);
	cr_assert(json_object_object_get_ex(res, "backend", &v));
	cr_expect_str_eq(json_object_get_string(v), "sim");
	cr_assert(json_object_object_get_ex(res, "vms_attached", &v));
	cr_expect_eq(json_object_get_int(v), 1);
	cr_assert(json_object_object_get_ex(res, "vms_configured", &v));
	cr_expect_eq(json_object_get_int(v), 2);
	cr_assert(json_object_object_get_ex(res, "pid", &v));
	cr_expect_eq(json_object_get_int(v), d.pid);
	json_object_put(res);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(basic, only_hello_before_hello)
{
	struct td d;
	struct nest_vm_attach at = {.size = sizeof(at)};

	it_start(&d, NULL, NULL);
	struct tc *t = tc_connect(d.sock);
	cr_assert_not_null(t);
	strcpy(at.name, "vm0");
	cr_expect_eq(
		tc_call(t, NEST_OP_VM_ATTACH, &at, sizeof(at), NULL, 0, NULL, 0, NULL, 0, NULL),
		-EPERM);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

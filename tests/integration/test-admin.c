/* SPDX-License-Identifier: MIT */
/* Every admin command with its result shape (protocol/nest-admin.h, PROTOCOL.md §11). */
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"

static struct json_object *get(struct json_object *o, const char *key, enum json_type type)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "missing key %s", key);
	cr_assert(json_object_is_type(v, type), "key %s has type %s", key,
		  json_type_to_name(json_object_get_type(v)));
	return v;
}

static const char *str(struct json_object *o, const char *key)
{
	return json_object_get_string(get(o, key, json_type_string));
}

static long num(struct json_object *o, const char *key)
{
	return (long)json_object_get_int64(get(o, key, json_type_int));
}

static bool boolean(struct json_object *o, const char *key)
{
	return json_object_get_boolean(get(o, key, json_type_boolean));
}

Test(admin, status_list_show_devices_pasids_stats)
{
	struct td d;
	struct it_guest g;
	struct json_object *res = NULL, *arr, *e, *c;

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	uint32_t pasid = it_setup_vm(t, "vm0", &g, 0);
	uint32_t p2 = 0;
	cr_assert_eq(tc_pasid_alloc_g(t, 1, NEST_PASID_MAX, 77, &p2), 0);

	cr_assert_eq(tc_admin(a, "status", NULL, &res), 0);
	cr_expect_str_eq(str(res, "version"), "0.1.0");
	cr_expect_str_eq(str(res, "backend"), "sim");
	cr_expect_eq(num(res, "pid"), d.pid);
	cr_expect_geq(num(res, "uptime_sec"), 0);
	cr_expect_eq(num(res, "vms_configured"), 2);
	cr_expect_eq(num(res, "vms_attached"), 1);
	cr_expect_eq(num(res, "vms_held"), 0);
	cr_expect_eq(num(res, "connections"), 1);
	cr_expect_eq(num(res, "admin_connections"), 1);
	cr_expect_str_eq(str(res, "log_level"), "info");
	json_object_put(res);

	cr_assert_eq(tc_admin(a, "vm.list", NULL, &res), 0);
	arr = get(res, "vms", json_type_array);
	cr_assert_eq(json_object_array_length(arr), 2);
	e = json_object_array_get_idx(arr, 0);
	cr_expect_str_eq(str(e, "name"), "vm0");
	cr_expect_str_eq(str(e, "state"), "attached");
	cr_expect_eq(num(e, "uid"), (long)getuid());
	cr_expect_eq(num(e, "pid"), (long)getpid());
	cr_expect_eq(num(e, "devices"), 2);
	cr_expect_eq(num(e, "regions"), 1);
	cr_expect_eq(num(e, "pasids"), 2);
	cr_expect_eq(num(e, "bindings"), 1);
	cr_expect_eq(num(e, "mem_bytes"), IT_MEM);
	e = json_object_array_get_idx(arr, 1);
	cr_expect_str_eq(str(e, "state"), "detached");
	get(e, "uid", json_type_null);
	json_object_put(res);

	cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
	cr_expect_str_eq(str(res, "name"), "vm0");
	cr_expect_str_eq(str(res, "state"), "attached");
	cr_expect_eq(json_object_array_length(get(res, "owner_uids", json_type_array)), 1);
	cr_expect_eq(json_object_array_length(get(res, "owner_gids", json_type_array)), 0);
	cr_expect_eq(num(res, "pasid_quota"), 8);
	cr_expect_eq(num(res, "mem_limit"), 64l << 20);
	cr_expect_eq(num(res, "grace_sec"), 0);
	cr_expect_eq(boolean(res, "checker"), false);
	arr = get(res, "devices", json_type_array);
	cr_assert_eq(json_object_array_length(arr), 2);
	e = json_object_array_get_idx(arr, 0);
	cr_expect_eq(num(e, "id"), 1);
	cr_expect_str_eq(str(e, "name"), "dsa0");
	cr_expect_eq(boolean(e, "ats"), true);
	cr_expect_eq(num(e, "pasid_bits"), 20);
	cr_expect_eq(boolean(e, "taken"), false);
	arr = get(res, "regions", json_type_array);
	cr_assert_eq(json_object_array_length(arr), 1);
	e = json_object_array_get_idx(arr, 0);
	cr_expect_str_eq(str(e, "gpa"), "0x0");
	cr_expect_str_eq(str(e, "len"), "0x400000");
	cr_expect_str_eq(str(e, "fd_offset"), "0x0");
	cr_expect(boolean(e, "read") && boolean(e, "write"));
	arr = get(res, "pasids", json_type_array);
	cr_assert_eq(json_object_array_length(arr), 2);
	for (size_t i = 0; i < 2; i++) {
		e = json_object_array_get_idx(arr, i);
		if ((uint32_t)num(e, "pasid") == pasid) {
			get(e, "gpasid", json_type_null);
			cr_expect(boolean(e, "bound"));
			cr_expect_str_eq(str(e, "format"), "vtd-fl");
			cr_expect_str_eq(str(e, "gpgd"), "0x1000");
			cr_expect_eq(num(e, "addr_width"), 48);
			cr_expect_eq(num(e, "vtd_flags"), 0);
		} else {
			cr_expect_eq(num(e, "pasid"), p2);
			cr_expect_eq(num(e, "gpasid"), 77);
			cr_expect(!boolean(e, "bound"));
			get(e, "format", json_type_null);
			get(e, "gpgd", json_type_null);
		}
	}
	c = get(res, "counters", json_type_object);
	const char *ck[] = {"requests",	   "errors", "binds", "unbinds",  "invalidations",
			    "inv_entries", "faults", "stale", "dma_bytes"};
	for (size_t i = 0; i < sizeof(ck) / sizeof(ck[0]); i++)
		get(c, ck[i], json_type_int);
	cr_expect_eq(num(c, "binds"), 1);
	json_object_put(res);

	cr_assert_eq(tc_admin(a, "pasid.list", NULL, &res), 0);
	cr_expect_eq(json_object_array_length(get(res, "pasids", json_type_array)), 2);
	e = json_object_array_get_idx(get(res, "pasids", json_type_array), 0);
	cr_expect_str_eq(str(e, "vm"), "vm0");
	json_object_put(res);
	cr_assert_eq(tc_admin(a, "pasid.list", "{\"vm\":\"vm1\"}", &res), 0);
	cr_expect_eq(json_object_array_length(get(res, "pasids", json_type_array)), 0);
	json_object_put(res);
	cr_expect_eq(tc_admin(a, "pasid.list", "{\"vm\":\"nope\"}", NULL), -ENOENT);

	cr_assert_eq(tc_admin(a, "device.list", NULL, &res), 0);
	arr = get(res, "devices", json_type_array);
	cr_expect_eq(json_object_array_length(arr), 3);
	e = json_object_array_get_idx(arr, 2);
	cr_expect_str_eq(str(e, "vm"), "vm1");
	cr_expect_eq(num(e, "id"), 7);
	json_object_put(res);

	cr_assert_eq(tc_admin(a, "stats", NULL, &res), 0);
	c = get(res, "daemon", json_type_object);
	const char *sk[] = {
		"connections_total", "connections_rejected", "requests", "errors", "events",
		"protocol_errors",   "slow_disconnects"};
	for (size_t i = 0; i < sizeof(sk) / sizeof(sk[0]); i++)
		get(c, sk[i], json_type_int);
	cr_expect_geq(num(c, "requests"), 6);
	c = get(res, "backend", json_type_object);
	cr_expect_geq(num(c, "translations"), 0);
	json_object_put(res);

	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(admin, log_level_sim_debug_and_errors)
{
	struct td d;
	struct it_guest g;
	struct json_object *res = NULL;
	char args[256];

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	uint32_t pasid = it_setup_vm(t, "vm0", &g, 0);

	cr_assert_eq(tc_admin(a, "log-level", NULL, &res), 0);
	cr_expect_str_eq(str(res, "level"), "info");
	json_object_put(res);
	cr_assert_eq(tc_admin(a, "log-level", "{\"level\":\"debug\"}", &res), 0);
	cr_expect_str_eq(str(res, "level"), "debug");
	json_object_put(res);
	cr_expect_eq(tc_admin(a, "log-level", "{\"level\":\"loud\"}", NULL), -EINVAL);

	/* sim.dma write then read through the binding */
	snprintf(
		args, sizeof(args),
		"{\"vm\":\"vm0\",\"device\":1,\"pasid\":%u,\"addr\":\"0x400010\",\"data\":\"41424344\"}",
		pasid);
	cr_assert_eq(tc_admin(a, "sim.dma", args, &res), 0);
	cr_expect_eq(num(res, "done"), 4);
	get(res, "fault", json_type_null);
	json_object_put(res);
	cr_expect_eq(memcmp(g.mem + IT_GPA + 0x10, "ABCD", 4), 0);
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":2,\"pasid\":%u,\"addr\":%u,\"len\":4}", pasid,
		 IT_GVA + 0x10);
	cr_assert_eq(tc_admin(a, "sim.dma", args, &res), 0);
	cr_expect_str_eq(str(res, "data"), "41424344");
	json_object_put(res);
	/* both "len" and "data": refused, nothing written (issue 10) */
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":1,\"pasid\":%u,\"addr\":\"0x400010\","
		 "\"data\":\"5a5a\",\"len\":2}",
		 pasid);
	cr_assert_eq(tc_admin(a, "sim.dma", args, &res), -EINVAL);
	cr_expect(strstr(str(res, "error"), "not both") != NULL, "%s", str(res, "error"));
	json_object_put(res);
	cr_expect_eq(memcmp(g.mem + IT_GPA + 0x10, "ABCD", 4), 0, "nothing written");
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":2,\"pasid\":%u,\"addr\":\"0x400010\","
		 "\"len\":4,\"data\":null}",
		 pasid);
	cr_assert_eq(tc_admin(a, "sim.dma", args, &res), 0, "a null counts as absent");
	cr_expect_str_eq(str(res, "data"), "41424344");
	json_object_put(res);
	/* "0X" addresses, as section 11 says (issue 10) */
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":2,\"pasid\":%u,\"addr\":\"0X400012\",\"len\":2}",
		 pasid);
	cr_assert_eq(tc_admin(a, "sim.dma", args, &res), 0);
	cr_expect_str_eq(str(res, "data"), "4344");
	json_object_put(res);
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":2,\"pasid\":%u,\"addr\":\"0x900000\",\"len\":4}",
		 pasid);
	cr_assert_eq(tc_admin(a, "sim.dma", args, &res), 0);
	cr_expect_eq(num(res, "done"), 0);
	cr_expect_str_eq(str(res, "fault"), "pte-not-present");
	cr_expect_str_eq(str(res, "fault_addr"), "0x900000");
	json_object_put(res);

	/* sim.translate */
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":1,\"pasid\":%u,\"addr\":\"0x401234\",\"write\":true}",
		 pasid);
	cr_assert_eq(tc_admin(a, "sim.translate", args, &res), 0);
	cr_expect(boolean(res, "ok"));
	cr_expect_str_eq(str(res, "gpa"), "0x101234");
	cr_expect_eq(num(res, "page_size"), 4096);
	get(res, "cached", json_type_boolean);
	get(res, "fault", json_type_null);
	json_object_put(res);
	snprintf(args, sizeof(args),
		 "{\"vm\":\"vm0\",\"device\":1,\"pasid\":%u,\"addr\":\"0x900000\"}", pasid);
	cr_assert_eq(tc_admin(a, "sim.translate", args, &res), 0);
	cr_expect(!boolean(res, "ok"));
	cr_expect_str_eq(str(res, "fault"), "pte-not-present");
	get(res, "gpa", json_type_null);
	json_object_put(res);
	cr_expect_eq(tc_admin(a, "sim.translate",
			      "{\"vm\":\"vm1\",\"device\":7,\"pasid\":1,"
			      "\"addr\":0}",
			      NULL),
		     -ENOENT, "vm1 is not attached");
	cr_expect_eq(tc_admin(a, "sim.translate",
			      "{\"vm\":\"vm0\",\"device\":9,\"pasid\":1,"
			      "\"addr\":0}",
			      NULL),
		     -ENOENT);
	cr_expect_eq(tc_admin(a, "sim.translate",
			      "{\"vm\":\"vm0\",\"device\":1,\"pasid\":1,"
			      "\"addr\":\"zz\"}",
			      NULL),
		     -EINVAL);

	/* errors: unknown command, missing/bad args, bad JSON */
	cr_assert_eq(tc_admin(a, "frobnicate", NULL, &res), -ENOTTY);
	cr_expect(strstr(str(res, "error"), "frobnicate") != NULL);
	json_object_put(res);
	cr_expect_eq(tc_admin(a, "vm.show", NULL, NULL), -EINVAL);
	cr_expect_eq(tc_admin(a, "vm.show", "{\"name\":5}", NULL), -EINVAL);
	cr_expect_eq(tc_admin(a, "vm.show", "{\"name\":\"nope\"}", NULL), -ENOENT);
	cr_expect_eq(tc_call(a, NEST_OP_ADMIN, NULL, 0, "{nope", 6, NULL, 0, NULL, 0, NULL),
		     -EINVAL);
	cr_expect_eq(tc_call(a, NEST_OP_ADMIN, NULL, 0, "{}", 3, NULL, 0, NULL, 0, NULL), -EINVAL);

	/* a VM op on the admin socket: EPERM and closed */
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 1};
	cr_expect_eq(
		tc_call(a, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, NULL, 0, NULL),
		-EPERM);
	cr_expect(tc_closed(a, 2000));
	tc_free(a);
	tc_free(t);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

/* A peer that is not root, not the daemon's uid and not in AdminGroup gets EPERM (root only). */
Test(admin, non_admin_peer_is_refused)
{
	struct td d;
	int st = 0;

	if (getuid() != 0)
		cr_skip_test("needs root to run a client under another uid");
	it_start(&d, NULL, NULL);
	cr_assert_eq(chmod(d.admin, 0666), 0);
	cr_assert_eq(chmod(d.dir, 0755), 0);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		struct tc *t = tc_connect(d.admin);
		if (!t)
			_exit(3);
		int r = tc_hello(t);
		_exit(r == -EPERM && tc_closed(t, 2000) ? 0 : 4);
	}
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	it_stop(&d);
	NO_LEAKS();
}

/*
 * Run "status" on the admin socket from a child with uid nobody, primary gid @gid and the
 * supplementary groups @groups; returns its wait status (exit 0: the request succeeded).
 */
static int admin_status_as(const struct td *d, gid_t gid, const gid_t *groups, size_t n)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct json_object *res = NULL;

		if (setgroups(n, groups) < 0 || setgid(gid) < 0 || setuid(65534) < 0)
			_exit(2);
		struct tc *t = tc_connect(d->admin);
		if (!t || tc_hello(t) != 0 || tc_admin(t, "status", NULL, &res) != 0)
			_exit(3);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return status;
}

/* AdminGroup: a peer whose primary gid is the admin group may use the admin socket. */
Test(admin, admin_group_peer_is_accepted)
{
	struct td d;
	struct stat st;

	if (getuid() != 0)
		cr_skip_test("needs root to run a client under another uid");
	it_start(&d, NULL, "AdminGroup=4243");
	cr_assert_eq(stat(d.admin, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0660);
	cr_expect_eq(st.st_gid, 4243);
	cr_assert_eq(chmod(d.dir, 0755), 0);
	int status = admin_status_as(&d, 4243, NULL, 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	it_stop(&d);
	NO_LEAKS();
}

/* AdminGroup also admits a peer that has the admin group only as a supplementary group. */
Test(admin, admin_group_supplementary_peer_is_accepted)
{
	struct td d;
	gid_t g = 4243;

	if (getuid() != 0)
		cr_skip_test("needs root to run a client under another uid");
	it_start(&d, NULL, "AdminGroup=4243");
	cr_assert_eq(chmod(d.dir, 0755), 0);
	int status = admin_status_as(&d, 65534, &g, 1);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	it_stop(&d);
	NO_LEAKS();
}

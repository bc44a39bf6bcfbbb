/* SPDX-License-Identifier: MIT */
/*
 * VM life cycle: teardown after kill -9 of the client, grace period hold / re-attach / expiry,
 * detach, evict, daemon shutdown, config reload (good and broken).
 */
#include <signal.h>
#include <sys/wait.h>

#include "common.h"

static bool wait_vm_state(struct tc *a, const char *vm, long state, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		if (it_vm_field(a, vm, "state") == state)
			return true;
		usleep(20000);
	}
	return false;
}

static void expect_vm_empty(struct tc *a, const char *vm)
{
	struct json_object *res = NULL, *arr;

	cr_expect_eq(it_vm_field(a, vm, "regions"), 0);
	cr_expect_eq(it_vm_field(a, vm, "pasids"), 0);
	cr_expect_eq(it_vm_field(a, vm, "bindings"), 0);
	cr_expect_eq(it_vm_field(a, vm, "mem_bytes"), 0);
	cr_assert_eq(tc_admin(a, "pasid.list", NULL, &res), 0);
	cr_assert(json_object_object_get_ex(res, "pasids", &arr));
	cr_expect_eq(json_object_array_length(arr), 0);
	json_object_put(res);
}

Test(lifecycle, kill_9_client_tears_everything_down)
{
	struct td d;
	int pfd[2];
	char c;

	it_start(&d, NULL, NULL);
	struct tc *a = it_admin(&d);
	int base = td_fd_count_stable(&d);
	cr_assert_gt(base, 0);
	cr_assert_eq(pipe(pfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct it_guest g;
		struct tc *t = tc_connect(d.sock);
		struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 1};
		uint32_t p = 0;

		it_guest_init(&g);
		if (!t || tc_hello(t) || tc_attach(t, "vm0", 0, NULL) ||
		    tc_mem_add(t, g.fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE) ||
		    tc_pasid_alloc(t, 1, 100, &p) || tc_bind(t, p, IT_GPGD, 48, 0) ||
		    tc_pasid_alloc(t, 1, 100, &p) ||
		    tc_call(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, NULL, 0,
			    NULL))
			_exit(1);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	cr_assert_eq(read(pfd[0], &c, 1), 1, "child did not set up its VM");
	close(pfd[0]);
	cr_expect_eq(it_vm_field(a, "vm0", "pasids"), 2);
	cr_expect_eq(it_vm_field(a, "vm0", "bindings"), 1);
	cr_expect_eq(it_vm_field(a, "vm0", "regions"), 1);
	cr_expect_gt(td_fd_count(&d), base);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert(wait_vm_state(a, "vm0", 0, 3000), "vm0 not torn down");
	expect_vm_empty(a, "vm0");
	cr_expect_eq(td_fd_count_stable(&d), base, "daemon fds back to the baseline");
	/* detach with KEEP but no grace period configured: torn down at once */
	struct tc *k = it_client(&d);
	uint32_t kp = 0;
	cr_assert_eq(tc_attach(k, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_pasid_alloc(k, 1, 100, &kp), 0);
	cr_assert_eq(tc_detach(k, NEST_DETACH_F_KEEP), 0);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 0);
	expect_vm_empty(a, "vm0");
	tc_free(k);
	/* the sim state is gone too: the VM can be attached afresh and gets PASID 1 again */
	struct tc *t = it_client(&d);
	uint32_t p = 0;
	struct nest_vm_info info;
	cr_assert_eq(tc_attach(t, "vm0", 0, &info), 0);
	cr_expect_eq(info.reattached, 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, 100, &p), 0);
	cr_expect_eq(p, 1);
	tc_free(t);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(lifecycle, grace_period_reattach_keeps_state)
{
	struct td d;
	struct it_guest g;
	struct nest_vm_info info;
	struct nest_sim_dma_reply dr;
	char buf[4];

	it_start(&d, "GracePeriodSec=5", NULL);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	uint32_t pasid = it_setup_vm(t, "vm0", &g, 0);
	tc_free(t); /* abrupt disconnect */
	cr_assert(wait_vm_state(a, "vm0", 2, 2000), "vm0 not held");
	cr_expect_eq(it_vm_field(a, "vm0", "pasids"), 1);
	cr_expect_eq(it_vm_field(a, "vm0", "regions"), 1);

	t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &info), 0);
	cr_expect_eq(info.reattached, 1);
	memcpy(g.mem + IT_GPA, "KEPT", 4);
	cr_assert_eq(tc_dma(t, 1, pasid, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(dr.fault_reason, 0);
	cr_expect_eq(memcmp(buf, "KEPT", 4), 0);

	/* detach with KEEP holds too; without KEEP tears down at once */
	cr_assert_eq(tc_detach(t, NEST_DETACH_F_KEEP), 0);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 2);
	cr_assert_eq(tc_attach(t, "vm0", 0, &info), 0);
	cr_expect_eq(info.reattached, 1);
	cr_assert_eq(tc_detach(t, 0), 0);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 0);
	expect_vm_empty(a, "vm0");
	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(lifecycle, grace_period_expires)
{
	struct td d;
	struct it_guest g;
	struct nest_vm_info info;

	it_start(&d, "GracePeriodSec=1", NULL);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	it_setup_vm(t, "vm0", &g, 0);
	tc_free(t);
	cr_assert(wait_vm_state(a, "vm0", 2, 2000), "vm0 not held");
	cr_assert(wait_vm_state(a, "vm0", 0, 3000), "vm0 still held after its grace period");
	expect_vm_empty(a, "vm0");
	t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &info), 0);
	cr_expect_eq(info.reattached, 0);
	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(lifecycle, evict_and_shutdown_events)
{
	struct td d;
	struct it_guest g;
	struct nest_ev_shutdown ev = {0};
	struct json_object *res = NULL;
	char conf[2048];

	td_init(&d);
	it_std_conf(conf, sizeof(conf), "GracePeriodSec=30", NULL);
	td_write_conf(&d, conf);
	d.capture_stderr = true; /* the audit trail is read below */
	cr_assert_eq(td_start(&d), 0, "nestd did not start");
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	it_setup_vm(t, "vm0", &g, 0);
	cr_assert_eq(tc_admin(a, "vm.evict", "{\"name\":\"vm0\"}", &res), 0);
	json_object_put(res);
	cr_assert_eq(tc_wait_event(t, NEST_EV_SHUTDOWN, &ev, sizeof(ev), 2000), 0);
	cr_expect_eq(ev.reason, 1);
	cr_expect(tc_closed(t, 2000));
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 0, "evict ignores the grace period");
	expect_vm_empty(a, "vm0");
	cr_expect_eq(tc_admin(a, "vm.evict", "{\"name\":\"nope\"}", NULL), -ENOENT);
	tc_free(t);

	/* SIGTERM: every VM client gets reason 0, the daemon exits 0 */
	t = it_client(&d);
	it_setup_vm(t, "vm1", &g, 0);
	struct tc *t0 = it_client(&d); /* vm0 has a grace period: not held while nestd stops */
	cr_assert_eq(tc_attach(t0, "vm0", 0, NULL), 0);
	kill(d.pid, SIGTERM);
	cr_assert_eq(tc_wait_event(t, NEST_EV_SHUTDOWN, &ev, sizeof(ev), 3000), 0);
	cr_expect_eq(ev.reason, 0);
	cr_expect(tc_closed(t, 3000));
	cr_expect(tc_closed(t0, 3000));
	tc_free(t);
	tc_free(t0);
	tc_free(a);
	it_guest_fini(&g);
	int st = 0;
	cr_assert_eq(waitpid(d.pid, &st, 0), d.pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status 0x%x", st);
	d.pid = 0;
	/* the audit trail gives the real reason of both teardowns, with correct plurals */
	char line[1024];
	int stopping = 0, other = 0;
	bool after_sigterm = false;
	FILE *f = fopen(d.log, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		after_sigterm = after_sigterm || strstr(line, "signal 15: shutting down");
		if (!strstr(line, "audit: op=teardown "))
			continue;
		if (!after_sigterm) { /* vm0's eviction, with its real reason */
			cr_expect(
				strstr(line, "vm=vm0 ") &&
					strstr(line,
					       "evicted by the operator; freed 1 PASID, 1 region"),
				"%s", line);
			continue;
		}
		if (strstr(line, "nestd stopping; freed 1 PASID, 1 region\n") &&
		    strstr(line, "vm=vm1 "))
			stopping++;
		else if (strstr(line, "nestd stopping; freed 0 PASIDs, 0 regions\n") &&
			 strstr(line, "vm=vm0 "))
			stopping++;
		else {
			other++;
			cr_expect(false, "unexpected teardown record: %s", line);
		}
	}
	fclose(f);
	cr_expect_eq(stopping, 2);
	cr_expect_eq(other, 0);
	td_cleanup(&d);
	NO_LEAKS();
}

Test(lifecycle, reload_good_and_broken)
{
	struct td d;
	struct nest_ev_shutdown ev = {0};
	struct json_object *res = NULL, *v;
	char conf[1024];

	it_start(&d, NULL, NULL);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm1", 0, NULL), 0);

	/* broken config via SIGHUP: old one stays */
	td_write_conf(&d, "[Daemon]\nBackend=sim\nNoSuchKey=1\n");
	kill(d.pid, SIGHUP);
	usleep(200000);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 0, "vm0 still configured");
	cr_expect_eq(it_vm_field(a, "vm1", "state"), 1, "vm1 still attached");
	/* broken config via admin reload: EINVAL with file:line: key: message */
	cr_assert_eq(tc_admin(a, "reload", NULL, &res), -EINVAL);
	cr_assert_not_null(res);
	cr_assert(json_object_object_get_ex(res, "error", &v));
	cr_expect(strstr(json_object_get_string(v), "nestd.conf:3") != NULL, "error: %s",
		  json_object_get_string(v));
	cr_expect(strstr(json_object_get_string(v), "NoSuchKey") != NULL);
	json_object_put(res);
	cr_assert_eq(tc_admin(a, "status", NULL, &res), 0);
	cr_assert(json_object_object_get_ex(res, "vms_configured", &v));
	cr_expect_eq(json_object_get_int(v), 2);
	json_object_put(res);

	/* good config that drops vm1 (attached) and adds vm2 */
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n[VM]\nName=vm0\nOwner=%s\nDevice=a id=1\n"
		 "[VM]\nName=vm2\nOwner=%s\nDevice=b id=1\n",
		 td_uid_str(), td_uid_str());
	td_write_conf(&d, conf);
	cr_assert_eq(tc_admin(a, "reload", NULL, &res), 0);
	cr_assert(json_object_object_get_ex(res, "vms_configured", &v));
	cr_expect_eq(json_object_get_int(v), 2);
	json_object_put(res);
	cr_assert_eq(tc_wait_event(t, NEST_EV_SHUTDOWN, &ev, sizeof(ev), 2000), 0);
	cr_expect_eq(ev.reason, 2);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	cr_expect_eq(it_vm_field(a, "vm1", "state"), -1, "vm1 is gone");
	t = it_client(&d);
	cr_expect_eq(tc_attach(t, "vm2", 0, NULL), 0);
	tc_free(t);
	/* SIGHUP with a good config works as well */
	kill(d.pid, SIGHUP);
	usleep(100000);
	cr_expect_eq(it_vm_field(a, "vm2", "state"), 0);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(lifecycle, reload_removing_a_device_sends_device_gone)
{
	struct td d;
	struct it_guest g;
	struct nest_ev_device_gone ev = {0};
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 2};
	struct nest_sim_dma_reply dr;
	char conf[1024], buf[4];

	it_start(&d, NULL, NULL);
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *t = it_client(&d);
	uint32_t pasid = it_setup_vm(t, "vm0", &g, 0);
	snprintf(conf, sizeof(conf),
		 "[Daemon]\nBackend=sim\n[VM]\nName=vm0\nOwner=%s\nDevice=dsa0 id=1 ats=yes\n"
		 "PASIDQuota=8\n[VM]\nName=vm1\nOwner=%s\nDevice=dsa1 id=7\n",
		 td_uid_str(), td_uid_str());
	td_write_conf(&d, conf);
	cr_assert_eq(tc_admin(a, "reload", NULL, NULL), 0);
	cr_assert_eq(tc_wait_event(t, NEST_EV_DEVICE_GONE, &ev, sizeof(ev), 2000), 0);
	cr_expect_eq(ev.dev_id, 2);
	cr_expect_eq(
		tc_call(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, NULL, 0, NULL),
		-ENOENT);
	cr_expect_eq(tc_dma(t, 2, pasid, IT_GVA, 0, buf, 4, &dr), -ENOENT);
	cr_expect_eq(tc_dma(t, 1, pasid, IT_GVA, 0, buf, 4, &dr), 0);
	cr_expect_eq(dr.fault_reason, 0, "the remaining device keeps its binding");
	tc_free(t);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

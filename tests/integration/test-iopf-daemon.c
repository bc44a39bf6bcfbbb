/* SPDX-License-Identifier: MIT */
/*
 * The daemon's side of page requests (protocol 1.1) with a backend that reports them:
 * nestd-fake-native (fake-native.c: the sim plus an iommufd-like fault queue driven by the admin
 * command mock.trigger_iopf). A request reaches the attached VMM as EV_PAGE_REQUEST with the
 * backend's fields; PAGE_RESPONSE reaches the backend with the cookie and code, in the error
 * order of PROTOCOL.md §8.16 (another VM's cookie is ENOENT, a backend's EPERM is EIO); a group
 * nobody can answer is answered invalid by nestd at once (no client, a client that did not
 * announce "page-requests" or said minor 0, a held VM, a full output queue) or when the client
 * lets go of the VM; the backend answers what is pending at teardown; counters and the audit
 * trail. What the kernel does with the answers is tested in the guest (tests/vm).
 */
#include <inttypes.h>
#include <time.h>

#include "common.h"
#include "nest-msg.h"

#define GRP_PAIR  0x100u /* fake-native.c: a group of two requests, the first not the last */
#define GRP_EPERM 0xfeu	 /* fake-native.c: answering the group fails with EPERM */
#define PRQ_LEN	  0x2000u
#define ADDR	  0x7f0000001000ull
#define CAPS_PRQ  "{\"software\":\"tclient\",\"features\":[\"page-requests\"]}"

static void start(struct td *d, const char *extra_vm0, const char *extra, bool capture)
{
	char conf[2048];

	td_init(d);
	d->bin = NESTD_FAKE_NATIVE;
	d->capture_stderr = capture;
	it_std_conf(conf, sizeof(conf), extra_vm0, extra);
	td_write_conf(d, conf);
	cr_assert_eq(td_start(d), 0, "nestd-fake-native did not start");
}

/* A client that announced "page-requests" (protocol minor 1). */
static struct tc *prq_client(struct td *d)
{
	struct tc *t = tc_connect(d->sock);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_caps(t, CAPS_PRQ), 0);
	return t;
}

static int trigger(struct tc *a, const char *vm, uint32_t dev, uint32_t pasid, uint64_t addr,
		   uint32_t perm, uint32_t grpid)
{
	char args[256];

	snprintf(args, sizeof(args),
		 "{\"vm\":\"%s\",\"device\":%u,\"pasid\":%u,\"addr\":\"0x%" PRIx64
		 "\",\"perm\":%u,\"grpid\":%u}",
		 vm, dev, pasid, addr, perm, grpid);
	return tc_admin(a, "mock.trigger_iopf", args, NULL);
}

static int respond_raw(struct tc *t, const void *body, size_t len)
{
	return tc_call(t, NEST_OP_PAGE_RESPONSE, body, len, NULL, 0, NULL, 0, NULL, 0, NULL);
}

static int respond(struct tc *t, uint32_t cookie, uint32_t code)
{
	struct nest_page_response r = {.size = sizeof(r), .cookie = cookie, .code = code};

	return respond_raw(t, &r, sizeof(r));
}

static int wait_prq(struct tc *t, struct nest_ev_page_request *ev, int ms)
{
	memset(ev, 0, sizeof(*ev));
	return tc_wait_event(t, NEST_EV_PAGE_REQUEST, ev, sizeof(*ev), ms);
}

/* Integer @key of the object @obj of admin @cmd (stats: "daemon"/"backend"; vm.show: "counters"). */
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

static long daemon_ctr(struct tc *a, const char *key)
{
	return admin_num(a, "stats", NULL, "daemon", key);
}

static long vm_ctr(struct tc *a, const char *vm, const char *key)
{
	char args[64];

	snprintf(args, sizeof(args), "{\"name\":\"%s\"}", vm);
	return admin_num(a, "vm.show", args, "counters", key);
}

/* Refusals run from nestd's loop: wait (up to 3 s) until backend counter @key is @want. */
static long be_wait(struct tc *a, const char *key, long want)
{
	long v = be(a, key);

	for (int i = 0; i < 300 && v != want; i++) {
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
		v = be(a, key);
	}
	return v;
}

Test(iopf_daemon, request_reaches_the_vmm_and_the_answer_the_backend)
{
	struct td d;
	struct nest_vm_info vi;
	struct nest_ev_page_request ev;
	uint32_t first;

	start(&d, NULL, NULL, true);
	struct tc *t = prq_client(&d);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect(vi.features & NEST_FEAT_PAGE_REQUESTS);
	cr_assert_eq(trigger(a, "vm0", 2, 5, ADDR, NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE, 7), 0);
	cr_assert_eq(wait_prq(t, &ev, 2000), 0);
	cr_expect_eq(ev.size, sizeof(ev));
	cr_expect_eq(ev.flags, NEST_PRQ_F_PASID_VALID | NEST_PRQ_F_LAST_PAGE);
	cr_expect_eq(ev.dev_id, 2);
	cr_expect_eq(ev.pasid, 5);
	cr_expect_eq(ev.grpid, 7);
	cr_expect_eq(ev.perm, NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE);
	cr_expect_eq(ev.addr, ADDR);
	cr_expect_eq(ev.length, PRQ_LEN);
	cr_expect_eq(be(a, "prq_pending"), 1);
	first = ev.cookie;
	cr_expect_eq(respond(t, first, NEST_PAGE_RESP_SUCCESS), 0);
	cr_expect_eq(be(a, "prq_success"), 1);
	cr_expect_eq(be(a, "prq_last_cookie"), first);
	cr_expect_eq(be(a, "prq_last_code"), NEST_PAGE_RESP_SUCCESS);
	cr_expect_eq(be(a, "prq_pending"), 0);
	cr_expect_eq(respond(t, first, NEST_PAGE_RESP_SUCCESS), -ENOENT, "answered already");
	/* no PASID, the defaults of perm (read) and grpid (0), addr as a JSON integer */
	cr_assert_eq(tc_admin(a, "mock.trigger_iopf",
			      "{\"vm\":\"vm0\",\"device\":1,\"pasid\":0,\"addr\":8192}", NULL),
		     0);
	cr_assert_eq(wait_prq(t, &ev, 2000), 0);
	cr_expect_eq(ev.flags, NEST_PRQ_F_LAST_PAGE);
	cr_expect_eq(ev.dev_id, 1);
	cr_expect_eq(ev.perm, NEST_PRQ_PERM_READ);
	cr_expect_eq(ev.grpid, 0);
	cr_expect_eq(ev.addr, 8192);
	cr_expect_neq(ev.cookie, first);
	cr_expect_eq(respond(t, ev.cookie, NEST_PAGE_RESP_INVALID), 0);
	cr_expect_eq(be(a, "prq_invalid"), 1);
	cr_expect_eq(be(a, "prq_last_code"), NEST_PAGE_RESP_INVALID);
	/* counters: per VM and daemon-wide */
	cr_expect_eq(vm_ctr(a, "vm0", "page_requests"), 2);
	cr_expect_eq(vm_ctr(a, "vm0", "page_responses"), 2);
	cr_expect_eq(vm_ctr(a, "vm0", "page_refusals"), 0);
	cr_expect_eq(vm_ctr(a, "vm1", "page_requests"), 0);
	cr_expect_eq(daemon_ctr(a, "page_requests"), 2);
	cr_expect_eq(daemon_ctr(a, "page_responses"), 2);
	cr_expect_eq(daemon_ctr(a, "page_refusals"), 0);
	cr_expect_geq(daemon_ctr(a, "events"), 2);
	/* every answer is audited with its result; the requests (hot path) are not */
	cr_expect_eq(it_audit_count(d.log, "page-response", "result=ok"), 2);
	cr_expect_eq(it_audit_count(d.log, "page-response", "result=ENOENT"), 1);
	cr_expect_eq(it_audit_count(d.log, "page-response", "vm=vm0"), 3);
	cr_expect_eq(it_audit_count(d.log, "page-request", NULL), 0);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(iopf_daemon, page_response_errors_in_order)
{
	struct td d;
	struct nest_ev_page_request ev, ev1;
	uint8_t body[32] = {0};
	struct nest_page_response *r = (struct nest_page_response *)body;
	int fd;

	start(&d, NULL, NULL, false);
	struct tc *t = prq_client(&d);
	struct tc *t1 = prq_client(&d);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(tc_attach(t1, "vm1", 0, NULL), 0);
	cr_assert_eq(trigger(a, "vm0", 1, 3, ADDR, 1, 0), 0);
	cr_assert_eq(wait_prq(t, &ev, 2000), 0);
	/* the body (§5): size, tail, flags; an fd */
	r->size = 12;
	r->cookie = ev.cookie;
	cr_expect_eq(respond_raw(t, body, 12), -EINVAL, "shorter than 16");
	r->size = 20;
	body[19] = 1;
	cr_expect_eq(respond_raw(t, body, 20), -E2BIG, "non-zero past 16");
	body[19] = 0;
	r->size = 16;
	cr_expect_eq(respond_raw(t, body, 20), -EINVAL, "bytes after the struct");
	r->flags = 1;
	cr_expect_eq(respond_raw(t, body, 16), -EOPNOTSUPP, "a flag");
	r->flags = 0;
	fd = tc_memfd(4096, true);
	cr_expect_eq(tc_call(t, NEST_OP_PAGE_RESPONSE, body, 16, NULL, 0, &fd, 1, NULL, 0, NULL),
		     -EINVAL, "an fd");
	close(fd);
	/* the code before the cookie: EINVAL even for an unknown cookie */
	cr_expect_eq(respond(t, 999999, 2), -EINVAL);
	cr_expect_eq(respond(t, ev.cookie, UINT32_MAX), -EINVAL);
	cr_expect_eq(be(a, "prq_pending"), 1, "nothing reached the backend");
	cr_expect_eq(respond(t, 999999, NEST_PAGE_RESP_SUCCESS), -ENOENT, "unknown cookie");
	/* a longer struct with a zero tail is fine */
	r->size = 20;
	r->cookie = ev.cookie;
	r->code = NEST_PAGE_RESP_SUCCESS;
	cr_expect_eq(respond_raw(t, body, 20), 0);
	/* another VM's pending cookie is ENOENT like one that does not exist */
	cr_assert_eq(trigger(a, "vm1", 7, 1, ADDR, 1, 0), 0);
	cr_assert_eq(wait_prq(t1, &ev1, 2000), 0);
	cr_expect_eq(ev1.dev_id, 7);
	cr_expect_eq(wait_prq(t, &ev, 200), -ETIMEDOUT, "vm0's client gets nothing of vm1");
	cr_expect_eq(respond(t, ev1.cookie, NEST_PAGE_RESP_SUCCESS), -ENOENT);
	cr_expect_eq(respond(t1, ev1.cookie, NEST_PAGE_RESP_SUCCESS), 0, "still pending for vm1");
	/* a backend's EPERM never reaches the client (it would close the connection): EIO */
	cr_assert_eq(trigger(a, "vm0", 2, 3, ADDR, 1, GRP_EPERM), 0);
	cr_assert_eq(wait_prq(t, &ev, 2000), 0);
	cr_expect_eq(respond(t, ev.cookie, NEST_PAGE_RESP_SUCCESS), -EIO);
	cr_expect_eq(respond(t, ev.cookie, NEST_PAGE_RESP_SUCCESS), -ENOENT, "still connected");
	cr_expect_eq(vm_ctr(a, "vm0", "page_responses"), 1);
	cr_expect_eq(vm_ctr(a, "vm1", "page_responses"), 1);
	tc_free(a);
	tc_free(t1);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(iopf_daemon, groups_only_the_last_request_is_answered)
{
	struct td d;
	struct nest_ev_page_request e1, e2;

	start(&d, "GracePeriodSec=30", NULL, false);
	struct tc *t = prq_client(&d);
	struct tc *a = it_admin(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(trigger(a, "vm0", 1, 4, ADDR, 2, GRP_PAIR | 3), 0);
	cr_assert_eq(wait_prq(t, &e1, 2000), 0);
	cr_assert_eq(wait_prq(t, &e2, 2000), 0);
	cr_expect_eq(e1.flags, NEST_PRQ_F_PASID_VALID);
	cr_expect_eq(e2.flags, NEST_PRQ_F_PASID_VALID | NEST_PRQ_F_LAST_PAGE);
	cr_expect_eq(e1.grpid, e2.grpid);
	cr_expect_eq(e2.addr, ADDR + 4096);
	cr_expect_eq(respond(t, e1.cookie, NEST_PAGE_RESP_SUCCESS), -ENOENT, "not the last");
	cr_expect_eq(respond(t, e2.cookie, NEST_PAGE_RESP_SUCCESS), 0);
	/* nobody to ask (held): one invalid answer per group, for its last request */
	tc_free(t);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 2, "held");
	cr_assert_eq(trigger(a, "vm0", 1, 4, ADDR, 2, GRP_PAIR), 0);
	cr_expect_eq(be_wait(a, "prq_invalid", 1), 1);
	cr_expect_eq(be(a, "prq_pending"), 0);
	cr_expect_eq(vm_ctr(a, "vm0", "page_requests"), 4);
	cr_expect_eq(vm_ctr(a, "vm0", "page_refusals"), 1);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(iopf_daemon, refused_at_once_when_no_client_can_answer)
{
	struct td d;
	struct nest_vm_info vi;
	struct nest_ev_page_request ev;
	struct nest_vm_attach at = {.size = sizeof(at), .name = "vm0"};
	uint8_t body[128];
	size_t len = 0;

	start(&d, "GracePeriodSec=30", NULL, false);
	struct tc *a = it_admin(&d);
	/* a client that did not announce "page-requests": the VM has them, the client gets none */
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect(vi.features & NEST_FEAT_PAGE_REQUESTS, "what the VM offers");
	cr_assert_eq(trigger(a, "vm0", 1, 1, ADDR, 1, 0), 0);
	cr_expect_eq(be_wait(a, "prq_invalid", 1), 1);
	cr_expect_eq(wait_prq(t, &ev, 200), -ETIMEDOUT);
	cr_expect_eq(be(a, "prq_pending"), 0);
	cr_assert_eq(tc_detach(t, 0), 0);
	tc_free(t);
	/* a minor-0 client: no PAGE_REQUESTS in its 72-byte vm_info, and no event */
	t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_minor(t, 0, CAPS_PRQ), 0);
	cr_assert_eq(tc_call(t, NEST_OP_VM_ATTACH, &at, sizeof(at), NULL, 0, NULL, 0, body,
			     sizeof(body), &len),
		     0);
	cr_expect_eq(len, NEST_VM_INFO_SIZE_1_0);
	memcpy(&vi, body, NEST_VM_INFO_SIZE_1_0);
	cr_expect_eq(vi.features & NEST_FEAT_PAGE_REQUESTS, 0);
	cr_assert_eq(trigger(a, "vm0", 1, 1, ADDR, 1, 0), 0);
	cr_expect_eq(be_wait(a, "prq_invalid", 2), 2);
	cr_expect_eq(wait_prq(t, &ev, 200), -ETIMEDOUT);
	cr_assert_eq(tc_detach(t, 0), 0);
	tc_free(t);
	/* held in its grace period: nobody to ask */
	t = prq_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	tc_free(t);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 2, "held");
	cr_assert_eq(trigger(a, "vm0", 2, 1, ADDR, 1, 0), 0);
	cr_expect_eq(be_wait(a, "prq_invalid", 3), 3);
	t = prq_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.reattached, 1);
	cr_expect_eq(wait_prq(t, &ev, 200), -ETIMEDOUT, "not delivered after the re-attach");
	/* and a client that can answer gets them again */
	cr_assert_eq(trigger(a, "vm0", 2, 1, ADDR, 1, 0), 0);
	cr_assert_eq(wait_prq(t, &ev, 2000), 0);
	cr_expect_eq(respond(t, ev.cookie, NEST_PAGE_RESP_SUCCESS), 0);
	cr_expect_eq(be(a, "prq_invalid"), 3);
	cr_expect_eq(be(a, "prq_success"), 1);
	cr_expect_eq(vm_ctr(a, "vm0", "page_refusals"), 1, "since the last fresh attach");
	cr_expect_eq(daemon_ctr(a, "page_refusals"), 3);
	tc_free(a);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(iopf_daemon, unanswered_groups_are_refused_when_the_client_lets_go)
{
	struct td d;
	struct nest_vm_info vi;
	struct nest_ev_page_request ev, ev2;

	start(&d, "GracePeriodSec=30", NULL, false);
	struct tc *a = it_admin(&d);
	/* the connection closes with a group delivered and not answered: the VM is held */
	struct tc *t = prq_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_assert_eq(trigger(a, "vm0", 1, 1, ADDR, 1, 0), 0);
	cr_assert_eq(wait_prq(t, &ev, 2000), 0);
	tc_free(t);
	cr_expect_eq(be_wait(a, "prq_invalid", 1), 1);
	cr_expect_eq(be(a, "prq_last_cookie"), ev.cookie);
	t = prq_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.reattached, 1);
	cr_expect_eq(respond(t, ev.cookie, NEST_PAGE_RESP_SUCCESS), -ENOENT, "nestd answered it");
	/* VM_DETACH with KEEP: the same; one answered before is not answered twice */
	cr_assert_eq(trigger(a, "vm0", 1, 1, ADDR, 1, 0), 0);
	cr_assert_eq(trigger(a, "vm0", 2, 1, ADDR, 1, 0), 0);
	cr_assert_eq(wait_prq(t, &ev, 2000), 0);
	cr_assert_eq(wait_prq(t, &ev2, 2000), 0);
	cr_expect_eq(respond(t, ev.cookie, NEST_PAGE_RESP_SUCCESS), 0);
	cr_assert_eq(tc_detach(t, NEST_DETACH_F_KEEP), 0);
	cr_expect_eq(be_wait(a, "prq_invalid", 2), 2);
	cr_expect_eq(be(a, "prq_last_cookie"), ev2.cookie);
	cr_expect_eq(be(a, "prq_success"), 1);
	cr_expect_eq(be(a, "prq_pending"), 0);
	cr_expect_eq(vm_ctr(a, "vm0", "page_refusals"), 2);
	cr_expect_eq(vm_ctr(a, "vm0", "page_responses"), 1);
	tc_free(t);
	/* no grace period (vm1): the backend answers what is pending when the context goes */
	t = prq_client(&d);
	cr_assert_eq(tc_attach(t, "vm1", 0, NULL), 0);
	cr_assert_eq(trigger(a, "vm1", 7, 1, ADDR, 1, 0), 0);
	cr_assert_eq(wait_prq(t, &ev, 2000), 0);
	tc_free(t);
	cr_expect_eq(be_wait(a, "prq_teardown", 1), 1);
	cr_expect_eq(be(a, "prq_invalid"), 2, "not by nestd");
	cr_expect_eq(it_vm_field(a, "vm1", "state"), 0);
	cr_expect_eq(trigger(a, "vm1", 7, 1, ADDR, 1, 0), -ENOENT, "not attached");
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(iopf_daemon, a_client_that_does_not_read)
{
	struct td d;
	long n = 0;

	start(&d, "GracePeriodSec=30", "[Limits]\nMaxOutputQueue=16", false);
	struct tc *a = it_admin(&d);
	struct tc *t = prq_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	/*
	 * The client reads nothing: the socket buffer, then its queue fills, it is disconnected and
	 * the VM held; 20 more requests find nobody to ask.
	 */
	for (long more = 20; n < 900 && more > 0; n++) {
		cr_assert_eq(trigger(a, "vm0", 1, 1, ADDR + 4096ull * (uint64_t)n, 1, 0), 0);
		if (n % 10 == 9 && daemon_ctr(a, "slow_disconnects") == 1)
			more -= 10;
	}
	/* every group answered exactly once, by nestd: none left waiting */
	cr_expect_eq(be_wait(a, "prq_invalid", n), n);
	cr_expect_eq(be(a, "prq_pending"), 0);
	cr_expect_eq(be(a, "prq_success"), 0);
	cr_expect_eq(vm_ctr(a, "vm0", "page_requests"), n);
	cr_expect_eq(vm_ctr(a, "vm0", "page_refusals"), n);
	cr_expect_eq(daemon_ctr(a, "slow_disconnects"), 1);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 2, "held");
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(iopf_daemon, admin_mock_trigger_iopf_arguments)
{
	struct td d;

	start(&d, NULL, NULL, false);
	struct tc *a = it_admin(&d);
	struct tc *t = prq_client(&d);
	cr_expect_eq(trigger(a, "vm0", 1, 1, ADDR, 1, 0), -ENOENT, "not attached");
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	cr_expect_eq(trigger(a, "nope", 1, 1, ADDR, 1, 0), -ENOENT, "no such VM");
	cr_expect_eq(trigger(a, "vm0", 7, 1, ADDR, 1, 0), -ENOENT, "vm1's device");
	cr_expect_eq(trigger(a, "vm0", 1, NEST_PASID_MAX + 1, ADDR, 1, 0), -ERANGE);
	cr_expect_eq(trigger(a, "vm0", 1, 1, ADDR, 16, 0), -ERANGE, "perm 0..15");
	cr_expect_eq(
		tc_admin(a, "mock.trigger_iopf", "{\"vm\":\"vm0\",\"device\":1,\"pasid\":1}", NULL),
		-EINVAL, "addr is required");
	cr_expect_eq(tc_admin(a, "mock.trigger_iopf",
			      "{\"vm\":\"vm0\",\"device\":1,\"pasid\":1,\"addr\":\"0xzz\"}", NULL),
		     -EINVAL);
	cr_expect_eq(tc_admin(a, "mock.trigger_iopf",
			      "{\"vm\":\"vm0\",\"device\":\"1\",\"pasid\":1,\"addr\":0}", NULL),
		     -EINVAL);
	cr_expect_eq(be(a, "prq_requests"), 0, "nothing reached the backend");
	tc_free(t);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

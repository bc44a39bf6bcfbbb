/* SPDX-License-Identifier: MIT */
/*
 * Page requests (protocol 1.1) on the real nestd with the sim backend, which has none: vm_info
 * without NEST_FEAT_PAGE_REQUESTS, PAGE_RESPONSE answers EOPNOTSUPP whatever it carries once the
 * generic checks passed (body rules of §5, fds, state, socket), fds sent with it are closed, the
 * admin command mock.trigger_iopf is EOPNOTSUPP, the page request counters exist and stay 0.
 * The delivery paths are in test-iopf-daemon.c (a fake backend).
 */
#include "common.h"
#include "nest-msg.h"

#define CAPS_PRQ "{\"software\":\"tclient\",\"features\":[\"page-requests\"]}"

static int respond_raw(struct tc *t, const void *body, size_t len, const int *fds, unsigned nfds)
{
	return tc_call(t, NEST_OP_PAGE_RESPONSE, body, len, NULL, 0, fds, nfds, NULL, 0, NULL);
}

static int respond(struct tc *t, uint32_t cookie, uint32_t code)
{
	struct nest_page_response r = {.size = sizeof(r), .cookie = cookie, .code = code};

	return respond_raw(t, &r, sizeof(r), NULL, 0);
}

Test(iopf, page_response_on_the_sim)
{
	struct td d;
	struct nest_vm_info vi;
	uint8_t body[32] = {0};
	struct nest_page_response *r = (struct nest_page_response *)body;
	int base, fds[2];

	it_start(&d, NULL, NULL);
	base = td_fd_count_stable(&d);
	struct tc *t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_caps(t, CAPS_PRQ), 0, "the feature name is known");
	cr_assert_eq(tc_attach(t, "vm0", 0, &vi), 0);
	cr_expect_eq(vi.features & NEST_FEAT_PAGE_REQUESTS, 0, "the sim has no page requests");
	/* every well-framed PAGE_RESPONSE: EOPNOTSUPP, the feature first (before the code) */
	cr_expect_eq(respond(t, 1, NEST_PAGE_RESP_SUCCESS), -EOPNOTSUPP);
	cr_expect_eq(respond(t, 0, NEST_PAGE_RESP_INVALID), -EOPNOTSUPP);
	cr_expect_eq(respond(t, UINT32_MAX, 7), -EOPNOTSUPP);
	/* the body rules come before it */
	r->size = 12;
	cr_expect_eq(respond_raw(t, body, 12, NULL, 0), -EINVAL, "shorter than 16");
	r->size = 16;
	cr_expect_eq(respond_raw(t, body, 15, NULL, 0), -EINVAL, "size past the body");
	cr_expect_eq(respond_raw(t, body, 24, NULL, 0), -EINVAL, "bytes after the struct");
	r->size = 24;
	body[20] = 1;
	cr_expect_eq(respond_raw(t, body, 24, NULL, 0), -E2BIG, "non-zero past 16");
	body[20] = 0;
	cr_expect_eq(respond_raw(t, body, 24, NULL, 0), -EOPNOTSUPP, "a zero tail is fine");
	r->size = 16;
	r->flags = 2;
	cr_expect_eq(respond_raw(t, body, 16, NULL, 0), -EOPNOTSUPP, "a flag bit");
	r->flags = 0;
	/* fds: EINVAL, and nestd keeps none of them */
	fds[0] = tc_memfd(4096, true);
	fds[1] = tc_memfd(4096, true);
	cr_expect_eq(respond_raw(t, body, 16, fds, 2), -EINVAL);
	close(fds[0]);
	close(fds[1]);
	cr_expect_eq(respond(t, 1, 0), -EOPNOTSUPP, "the connection is still usable");
	/* counters exist and say nothing happened */
	struct tc *a = it_admin(&d);
	struct json_object *res = NULL, *o, *v;

	cr_assert_eq(tc_admin(a, "vm.show", "{\"name\":\"vm0\"}", &res), 0);
	cr_assert(json_object_object_get_ex(res, "counters", &o));
	cr_assert(json_object_object_get_ex(o, "page_requests", &v));
	cr_expect_eq(json_object_get_int64(v), 0);
	cr_assert(json_object_object_get_ex(o, "page_responses", &v));
	cr_expect_eq(json_object_get_int64(v), 0);
	cr_assert(json_object_object_get_ex(o, "page_refusals", &v));
	cr_expect_eq(json_object_get_int64(v), 0);
	json_object_put(res);
	cr_assert_eq(tc_admin(a, "stats", NULL, &res), 0);
	cr_assert(json_object_object_get_ex(res, "daemon", &o));
	cr_expect(json_object_object_get_ex(o, "page_requests", &v) &&
		  json_object_get_int64(v) == 0);
	cr_expect(json_object_object_get_ex(o, "page_responses", &v) &&
		  json_object_get_int64(v) == 0);
	cr_expect(json_object_object_get_ex(o, "page_refusals", &v) &&
		  json_object_get_int64(v) == 0);
	json_object_put(res);
	/* mock.trigger_iopf: the arguments first, then EOPNOTSUPP (no mock devices) */
	cr_expect_eq(
		tc_admin(a, "mock.trigger_iopf", "{\"vm\":\"vm0\",\"device\":1,\"pasid\":1}", NULL),
		-EINVAL);
	cr_expect_eq(tc_admin(a, "mock.trigger_iopf",
			      "{\"vm\":\"vm0\",\"device\":1,\"pasid\":1,\"addr\":\"0x1000\"}",
			      NULL),
		     -EOPNOTSUPP);
	tc_free(a);
	tc_free(t);
	cr_expect_eq(td_fd_count_stable(&d), base, "every fd closed");
	it_stop(&d);
	NO_LEAKS();
}

Test(iopf, page_response_needs_an_attached_vm_and_the_vm_socket)
{
	struct td d;
	struct nest_page_response r = {.size = sizeof(r), .cookie = 1};

	it_start(&d, NULL, NULL);
	/* no VM attached: EPERM, and the connection is closed */
	struct tc *t = it_client(&d);
	cr_expect_eq(respond_raw(t, &r, sizeof(r), NULL, 0), -EPERM);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	/* before HELLO: EPERM + close */
	t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_expect_eq(respond_raw(t, &r, sizeof(r), NULL, 0), -EPERM);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	/* on the admin socket: EPERM + close */
	t = it_admin(&d);
	cr_expect_eq(respond_raw(t, &r, sizeof(r), NULL, 0), -EPERM);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	/* a minor-0 client may send it too (the op answers as for anyone) */
	t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_assert_eq(tc_hello_minor(t, 0, "{}"), 0);
	struct nest_vm_attach at = {.size = sizeof(at), .name = "vm1"};
	uint8_t body[128];

	cr_assert_eq(tc_call(t, NEST_OP_VM_ATTACH, &at, sizeof(at), NULL, 0, NULL, 0, body,
			     sizeof(body), NULL),
		     0);
	cr_expect_eq(respond(t, 1, 0), -EOPNOTSUPP);
	/* an event number as a request: ENOTTY, the connection stays */
	cr_expect_eq(
		tc_call(t, NEST_EV_PAGE_REQUEST, &r, sizeof(r), NULL, 0, NULL, 0, NULL, 0, NULL),
		-ENOTTY);
	cr_expect_eq(respond(t, 1, 0), -EOPNOTSUPP);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

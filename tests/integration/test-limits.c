/* SPDX-License-Identifier: MIT */
/*
 * Limits: quotas, slow clients, in-flight, connections per uid, 200 concurrent clients, message
 * size and fd count, HELLO timeout, framing errors, EMFILE back-off.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include "common.h"
#include "nest-caps.h"
#include "nest-fds.h"
#include "nest-msg.h"

static long stat_field(struct tc *a, const char *key)
{
	struct json_object *res = NULL, *dm, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "stats", NULL, &res), 0);
	if (json_object_object_get_ex(res, "daemon", &dm) && json_object_object_get_ex(dm, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

static long status_field(struct tc *a, const char *key)
{
	struct json_object *res = NULL, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "status", NULL, &res), 0);
	if (json_object_object_get_ex(res, key, &v))
		out = (long)json_object_get_int64(v);
	json_object_put(res);
	return out;
}

static void start_with_limits(struct td *d, const char *limits)
{
	char extra[256];

	snprintf(extra, sizeof(extra), "[Limits]\n%s\n", limits);
	it_start(d, NULL, extra);
}

Test(limits, quotas_regions_memory_pasids)
{
	struct td d;
	uint32_t p;
	int fd = tc_memfd(IT_MEM, true);

	it_start(&d, NULL, NULL);
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	for (unsigned i = 0; i < 4; i++) /* MaxRegions=4 */
		cr_assert_eq(tc_mem_add(t, fd, (uint64_t)i << 24, 4096, 0, NEST_MEM_F_READ), 0);
	cr_expect_eq(tc_mem_add(t, fd, 5ull << 24, 4096, 0, NEST_MEM_F_READ), -ENOSPC);
	cr_assert_eq(tc_mem_remove(t, 0, 4096), 0);
	cr_expect_eq(tc_mem_add(t, fd, 5ull << 24, 4096, 0, NEST_MEM_F_READ), 0);
	for (unsigned i = 0; i < 8; i++) /* PASIDQuota=8 */
		cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	cr_expect_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), -ENOSPC);
	cr_assert_eq(tc_pasid_free(t, p, p, NULL), 0);
	cr_expect_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &p), 0);
	/* range exhaustion: the only PASID of [p, p] is taken */
	cr_assert_eq(tc_pasid_free(t, 1, 1, NULL), 0);
	cr_expect_eq(tc_pasid_alloc(t, p, p, NULL), -ENOSPC);
	close(fd);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(limits, client_that_never_reads_is_disconnected)
{
	struct td d;
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 1};
	int sent = 0;

	start_with_limits(&d, "MaxOutputQueue=32\nMaxInflight=16");
	struct tc *a = it_admin(&d);
	struct tc *slow = it_client(&d);
	cr_assert_eq(tc_attach(slow, "vm0", 0, NULL), 0);
	for (; sent < 20000; sent++)
		if (tc_send(slow, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, NULL) < 0)
			break;
	cr_expect(tc_closed(slow, 5000), "slow client still connected after %d requests", sent);
	cr_expect_geq(stat_field(a, "slow_disconnects"), 1);
	/* others are still served, and the slow client's VM was released */
	struct tc *t = it_client(&d);
	cr_expect_eq(tc_attach(t, "vm0", 0, NULL), 0);
	tc_free(t);
	tc_free(slow);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

/* Same with faulting DMAs: the queue overflows on a fault event raised inside the backend. */
Test(limits, slow_client_flooded_with_fault_events)
{
	struct td d;
	struct it_guest g;
	struct nest_sim_dma q = {.size = sizeof(q), .dev_id = 1, .addr = 0x900000, .len = 4};
	int sent = 0;

	start_with_limits(&d, "MaxOutputQueue=16\nMaxInflight=1024");
	it_guest_init(&g);
	struct tc *a = it_admin(&d);
	struct tc *slow = it_client(&d);
	q.pasid = it_setup_vm(slow, "vm0", &g, 0);
	for (; sent < 20000; sent++)
		if (tc_send(slow, NEST_OP_SIM_DMA, &q, sizeof(q), NULL, 0, NULL, 0, NULL) < 0)
			break;
	cr_expect(tc_closed(slow, 5000), "slow client still connected after %d requests", sent);
	cr_expect_geq(stat_field(a, "slow_disconnects"), 1);
	for (int i = 0; i < 100 && it_vm_field(a, "vm0", "state") != 0; i++)
		usleep(20000);
	cr_expect_eq(it_vm_field(a, "vm0", "state"), 0, "the slow client's VM was torn down");
	tc_free(slow);
	tc_free(a);
	it_guest_fini(&g);
	it_stop(&d);
	NO_LEAKS();
}

Test(limits, inflight_limit_answers_eagain)
{
	struct td d;
	struct nest_device_get dg = {.size = sizeof(dg), .dev_id = 1};
	enum { N = 3000 };
	uint32_t first = 0, id;
	int eagain = 0, ok = 0;

	start_with_limits(&d, "MaxOutputQueue=65536\nMaxInflight=4");
	struct tc *t = it_client(&d);
	cr_assert_eq(tc_attach(t, "vm0", 0, NULL), 0);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(tc_send(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, &id),
			     0);
		if (i == 0)
			first = id;
	}
	for (int i = 0; i < N; i++) {
		int r = tc_reply(t, first + (uint32_t)i, NULL, 0, NULL);

		cr_assert(r == 0 || r == -EAGAIN, "reply %d: %d", i, r);
		eagain += r == -EAGAIN;
		ok += r == 0;
	}
	cr_expect_gt(eagain, 0);
	cr_expect_gt(ok, 0);
	/* once the client reads, requests are executed again */
	cr_expect_eq(
		tc_call(t, NEST_OP_DEVICE_GET, &dg, sizeof(dg), NULL, 0, NULL, 0, NULL, 0, NULL),
		0);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

Test(limits, connections_per_uid)
{
	struct td d;

	start_with_limits(&d, "MaxConnectionsPerUser=3");
	struct tc *a = it_admin(&d);
	struct tc *t1 = it_client(&d);
	struct tc *t2 = it_client(&d);
	struct tc *t3 = tc_connect(d.sock);
	cr_assert_not_null(t3);
	cr_expect_neq(tc_hello(t3), 0, "4th connection of the uid must be refused");
	cr_expect_geq(stat_field(a, "connections_rejected"), 1);
	tc_free(t3);
	tc_free(t2);
	usleep(100000);
	t2 = it_client(&d);
	tc_free(t2);
	tc_free(t1);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(limits, connections_total)
{
	struct td d;

	start_with_limits(&d, "MaxConnections=3\nMaxConnectionsPerUser=100\nAdminReserve=0");
	struct tc *a = it_admin(&d);
	struct tc *t1 = it_client(&d);
	struct tc *t2 = it_client(&d);
	struct tc *t3 = tc_connect(d.sock);
	cr_assert_not_null(t3);
	cr_expect_neq(tc_hello(t3), 0, "4th connection must be refused");
	tc_free(t3);
	cr_expect_geq(stat_field(a, "connections_rejected"), 1);
	tc_free(t2);
	tc_free(t1);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(limits, two_hundred_concurrent_clients)
{
	enum { N = 200 };
	struct td d;
	struct tc *c[N];
	uint32_t ids[N];
	struct rlimit rl;
	struct nest_vm_attach at = {.size = sizeof(at), .name = "nope"};
	const char caps[] = "{}";
	struct nest_hello h = {.size = sizeof(h), .major = NEST_PROTO_MAJOR, .caps_len = 3};

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 4 * N) {
		rl.rlim_cur = rl.rlim_max < 4 * N ? rl.rlim_max : 4 * N;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	start_with_limits(&d, "MaxConnectionsPerUser=1000\nMaxConnections=1000");
	for (int i = 0; i < N; i++) {
		c[i] = tc_connect(d.sock);
		cr_assert_not_null(c[i], "connect %d", i);
	}
	for (int i = 0; i < N; i++)
		cr_assert_eq(tc_send(c[i], NEST_OP_HELLO, &h, sizeof(h), caps, 3, NULL, 0, &ids[i]),
			     0);
	for (int i = 0; i < N; i++)
		cr_assert_eq(tc_reply(c[i], ids[i], NULL, 0, NULL), 0, "HELLO %d", i);
	for (int i = 0; i < N; i++)
		cr_assert_eq(tc_send(c[i], NEST_OP_VM_ATTACH, &at, sizeof(at), NULL, 0, NULL, 0,
				     &ids[i]),
			     0);
	for (int i = 0; i < N; i++)
		cr_assert_eq(tc_reply(c[i], ids[i], NULL, 0, NULL), -ENOENT, "ATTACH %d", i);
	struct tc *a = it_admin(&d);
	cr_expect_eq(status_field(a, "connections"), N);
	for (int i = 0; i < N; i++)
		tc_free(c[i]);
	for (int i = 0; i < 100 && status_field(a, "connections") != 0; i++)
		usleep(20000);
	cr_expect_eq(status_field(a, "connections"), 0);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(limits, message_size_fds_framing_hello_timeout)
{
	struct td d;
	uint8_t big[5000] = {0};
	struct nest_msg_hdr *hdr = (void *)big;
	int fds[2];

	start_with_limits(&d, "HelloTimeoutSec=1");
	struct tc *a = it_admin(&d);
	long perr = stat_field(a, "protocol_errors");

	/* bigger than the negotiated max_msg_size: truncated, EPROTO, closed */
	struct tc *t = tc_connect(d.sock);
	cr_assert_eq(tc_hello_caps(t, "{\"max_msg_size\":4096}"), 0);
	*hdr = (struct nest_msg_hdr){.size = sizeof(big),
				     .op = NEST_OP_DEVICE_GET,
				     .flags = NEST_MSG_F_REQUEST,
				     .id = 9};
	tc_send_raw(t, big, sizeof(big));
	cr_expect(tc_closed(t, 2000));
	tc_free(t);

	/* more fds than negotiated: closed */
	t = tc_connect(d.sock);
	cr_assert_eq(tc_hello_caps(t, "{\"max_fds\":1}"), 0);
	fds[0] = tc_memfd(4096, true);
	fds[1] = tc_memfd(4096, true);
	struct nest_mem_add m = {.size = sizeof(m), .flags = 1, .len = 4096};
	tc_send(t, NEST_OP_MEM_ADD, &m, sizeof(m), NULL, 0, fds, 2, NULL);
	close(fds[0]);
	close(fds[1]);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);

	/* a reply-type message from a client and garbage: closed without reply */
	t = it_client(&d);
	*hdr = (struct nest_msg_hdr){.size = 16, .op = 1, .flags = NEST_MSG_F_REPLY, .id = 1};
	tc_send_raw(t, big, 16);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	t = it_client(&d);
	tc_send_raw(t, "garbage", 7);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);
	cr_expect_geq(stat_field(a, "protocol_errors"), perr + 4);

	/* a different major version: EPROTO and closed */
	t = tc_connect(d.sock);
	struct nest_hello h = {.size = sizeof(h), .major = 2, .caps_len = 3};
	cr_expect_eq(tc_call(t, NEST_OP_HELLO, &h, sizeof(h), "{}", 3, NULL, 0, NULL, 0, NULL),
		     -EPROTO);
	cr_expect(tc_closed(t, 2000));
	tc_free(t);

	/* a bad capability document does not complete HELLO; a good one then does */
	t = tc_connect(d.sock);
	cr_expect_eq(tc_hello_caps(t, "{\"max_fds\":99}"), -ERANGE);
	cr_expect_eq(tc_hello_caps(t, "{\"max_fds\":\"x\"}"), -EINVAL);
	cr_expect_eq(tc_hello(t), 0);
	tc_free(t);

	/* no HELLO within HelloTimeoutSec=1: closed */
	t = tc_connect(d.sock);
	cr_expect(tc_closed(t, 3000));
	tc_free(t);
	tc_free(a);
	it_stop(&d);
	NO_LEAKS();
}

Test(limits, emfile_pauses_accept_and_recovers)
{
	enum { N = 48 };
	struct td d;
	char conf[1024];
	struct tc *c[N];

	td_init(&d);
	it_std_conf(conf, sizeof(conf), NULL, NULL);
	td_write_conf(&d, conf);
	d.nofile = 32;
	cr_assert_eq(td_start(&d), 0);
	for (int i = 0; i < N; i++)
		c[i] = tc_connect(d.sock); /* the backlog takes what nestd cannot accept */
	usleep(300000);
	for (int i = 0; i < N; i++)
		tc_free(c[i]);
	usleep(1500000); /* the 1 s back-off re-arms the listener */
	struct tc *t = tc_connect(d.sock);
	cr_assert_not_null(t);
	cr_expect_eq(tc_hello(t), 0);
	cr_expect_eq(tc_attach(t, "vm0", 0, NULL), 0);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

/* nestd never announces more requests in flight than its output queue holds. */
Test(limits, announced_inflight_fits_the_output_queue)
{
	static const char ask[] = "{\"max_inflight\":1024}";
	struct nest_hello h = {.size = sizeof(h),
			       .major = NEST_PROTO_MAJOR,
			       .minor = NEST_PROTO_MINOR,
			       .caps_len = sizeof(ask)};
	_Alignas(8) uint8_t body[NEST_CAPS_LEN_MAX + 64] = {0};
	const struct nest_hello *rh = (const struct nest_hello *)body;
	struct nest_caps caps;
	size_t len = 0;
	struct td d;

	start_with_limits(&d, "MaxOutputQueue=8\nMaxInflight=64");
	struct tc *t = tc_connect(d.sock);
	cr_assert(t);
	cr_assert_eq(tc_call(t, NEST_OP_HELLO, &h, sizeof(h), ask, sizeof(ask), NULL, 0, body,
			     sizeof(body), &len),
		     0);
	cr_assert_geq(len, sizeof(*rh));
	cr_assert_eq(rh->size + rh->caps_len, len);
	cr_assert_eq(nest_caps_parse((const char *)body + rh->size, rh->caps_len, &caps), 0);
	cr_expect_eq(caps.max_inflight, 8, "announced %u", caps.max_inflight);
	tc_free(t);
	it_stop(&d);
	NO_LEAKS();
}

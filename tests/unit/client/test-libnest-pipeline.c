/* SPDX-License-Identifier: MIT */
/*
 * test-libnest-pipeline.c - pipelining through libnest: replies read in bursts (rx.c) and
 * dispatched in nestd's order even when a callback makes a blocking call mid-burst; the cork
 * (tx.c): requests queued and sent together, in order, and never left unsent while libnest
 * waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "client-test.h"

static struct nestd_proc d;

static void setup(void)
{
	nestd_start(&d, NULL);
}

static void teardown(void)
{
	nestd_stop(&d);
}

TestSuite(cork, .init = setup, .fini = teardown, .timeout = 60);
TestSuite(libnest, .init = setup, .fini = teardown, .timeout = 60);

struct cork_state {
	unsigned done;
	unsigned order[64];
	uint32_t ids[64];
};

struct cork_req {
	struct cork_state *s;
	unsigned idx;
};

static void cork_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct cork_req *q = opaque;

	(void)c;
	cr_assert_eq(r->id, q->s->ids[q->idx], "reply matched to the wrong request");
	cr_assert_eq(r->error, 0, "request %u: %d", q->idx, r->error);
	q->s->order[q->s->done++] = q->idx;
}

/* DEVICE_GET of device 1 or 2 (a valid op that changes nothing), request @i of @s. */
static void send_one(nest_client *c, struct cork_state *s, struct cork_req *q, unsigned i)
{
	struct nest_device_get req = {.size = sizeof(req), .dev_id = 1 + i % 2};

	q[i] = (struct cork_req){s, i};
	cr_assert_eq(nest_client_send_async(c, NEST_OP_DEVICE_GET, &req, sizeof(req), NULL, 0,
					    cork_cb, &q[i], &s->ids[i]),
		     0);
}

static void wait_all(nest_client *c, struct cork_state *s, unsigned n)
{
	while (s->done < n)
		cr_assert_geq(nest_client_wait(c, 5000), 0);
	for (unsigned i = 0; i < n; i++)
		cr_expect_eq(s->order[i], i, "reply %u handled as %u", i, s->order[i]);
}

Test(cork, queued_until_flushed)
{
	struct cork_state s = {0};
	struct cork_req q[10];
	struct test_vm t;

	test_vm_attach(&t, &d, 0, 0);
	cr_assert_eq(nest_client_cork(t.c, true), 0);
	for (unsigned i = 0; i < 10; i++)
		send_one(t.c, &s, q, i);
	cr_expect_eq(nest_client_inflight(t.c), 10, "queued requests are in flight");
	usleep(100 * 1000);
	cr_expect_eq(nest_client_process(t.c), 0, "nothing was sent, so nothing came back");
	cr_assert_eq(nest_client_flush(t.c), 0);
	wait_all(t.c, &s, 10);
	cr_expect_eq(nest_client_inflight(t.c), 0);
	test_vm_free(&t);
}

Test(cork, uncork_sends_and_wait_flushes)
{
	struct cork_state s = {0};
	struct cork_req q[6];
	struct test_vm t;

	test_vm_attach(&t, &d, 0, 0);
	cr_assert_eq(nest_client_cork(t.c, true), 0);
	for (unsigned i = 0; i < 3; i++)
		send_one(t.c, &s, q, i);
	cr_assert_eq(nest_client_cork(t.c, false), 0, "taking the cork out sends the queue");
	usleep(100 * 1000);
	cr_expect_geq(nest_client_process(t.c), 1, "the replies are there without a wait");
	while (s.done < 3)
		cr_assert_geq(nest_client_wait(t.c, 5000), 0);
	/* corked again: nest_client_wait() sends before it waits, or it would wait for ever */
	cr_assert_eq(nest_client_cork(t.c, true), 0);
	for (unsigned i = 3; i < 6; i++)
		send_one(t.c, &s, q, i);
	wait_all(t.c, &s, 6);
	test_vm_free(&t);
}

/*
 * More than a queue's worth (16), a blocking call in the middle, a full in-flight window: every
 * request leaves, in order, and the blocking call returns with everything before it answered.
 */
Test(cork, full_queue_blocking_call_and_window)
{
	struct cork_state *s = calloc(1, sizeof(*s));
	struct cork_req q[64];
	struct nest_vm_iova_info info;
	struct nest_limits lim;
	struct test_vm t;

	cr_assert_not_null(s);
	test_vm_attach(&t, &d, 0, 0);
	cr_assert_eq(nest_client_get_limits(t.c, &lim), 0);
	cr_assert_eq(nest_client_cork(t.c, true), 0);
	for (unsigned i = 0; i < 20; i++)
		send_one(t.c, s, q, i);
	cr_assert_eq(nest_vm_iova_info(t.c, &info), 0, "a blocking call while corked");
	cr_expect_eq(s->done, 20, "its reply came after the 20 queued before it");
	/* max_inflight (64 by default) requests, then more: send_async waits, sending first */
	for (unsigned i = 20; i < 64; i++)
		send_one(t.c, s, q, i);
	cr_expect_leq(nest_client_inflight(t.c), lim.max_inflight);
	wait_all(t.c, s, 64);
	test_vm_free(&t);
	free(s);
}

static int sealed_memfd(size_t len)
{
	int fd = memfd_create("cork", MFD_ALLOW_SEALING);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)len), 0);
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	return fd;
}

Test(cork, a_request_with_fds_sends_the_queue_first)
{
	struct cork_state s = {0};
	struct cork_req q[4];
	struct test_vm t;
	int fd;

	test_vm_attach(&t, &d, 0, 0);
	cr_assert_eq(nest_client_cork(t.c, true), 0);
	for (unsigned i = 0; i < 3; i++)
		send_one(t.c, &s, q, i);
	/* MEM_ADD of a fresh sealed memfd: a request with an fd, sent at once after the queue */
	fd = sealed_memfd(0x1000);
	cr_assert_eq(nest_mem_add(t.c, 0x10000, 0x1000, fd, 0, NEST_MEM_F_READ), 0);
	close(fd);
	cr_expect_eq(s.done, 3, "the three queued before it were answered before it");
	wait_all(t.c, &s, 3);
	test_vm_free(&t);
}

static void err_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	int *errs = opaque;

	(void)c;
	errs[0]++;
	if (r->error)
		errs[1]++;
}

/* A queue that cannot be sent (nestd is gone) kills the handle: each request completes once. */
Test(cork, a_queue_that_cannot_be_sent_completes_every_request)
{
	struct test_vm t;
	int errs[2] = {0, 0};

	test_vm_attach(&t, &d, 0, 0);
	cr_assert_eq(nest_client_cork(t.c, true), 0);
	for (unsigned i = 0; i < 5; i++) {
		struct nest_device_get req = {.size = sizeof(req), .dev_id = 1};

		cr_assert_eq(nest_client_send_async(t.c, NEST_OP_DEVICE_GET, &req, sizeof(req),
						    NULL, 0, err_cb, errs, NULL),
			     0);
	}
	nestd_stop(&d);
	cr_expect_lt(nest_client_flush(t.c), 0, "sending to a stopped nestd");
	cr_expect_eq(errs[0], 5, "every queued request completed once: %d", errs[0]);
	cr_expect_eq(errs[1], 5, "with the error");
	cr_expect_eq(nest_client_inflight(t.c), 0);
	cr_expect_lt(nest_client_flush(t.c), 0, "the handle is dead");
	test_vm_free(&t);
}

/* Replies received in one burst (rx.c), a blocking call made from inside one of them. */
struct burst_state {
	unsigned done;
	unsigned order[20];
	uint32_t ids[20];
	int nested; /* the blocking call's result; 1 until it ran */
	unsigned done_after_nested;
};

struct burst_req {
	struct burst_state *s;
	unsigned idx;
	nest_client *c;
};

static void burst_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct burst_req *q = opaque;
	struct burst_state *s = q->s;
	struct nest_vm_iova_info info;

	cr_assert_eq(r->id, s->ids[q->idx], "reply matched to the wrong request");
	cr_assert_eq(r->error, 0);
	s->order[s->done++] = q->idx;
	if (q->idx == 2) { /* the rest of the burst is still unread by the caller's loop */
		s->nested = nest_vm_iova_info(c, &info);
		s->done_after_nested = s->done;
	}
}

Test(libnest, burst_keeps_order_across_a_blocking_call_in_a_callback)
{
	struct burst_state s = {.nested = 1};
	struct burst_req q[20];
	struct test_vm t;
	int n, waits = 0;

	test_vm_attach(&t, &d, 0, 0);
	for (unsigned i = 0; i < 20; i++) {
		struct nest_device_get req = {.size = sizeof(req), .dev_id = 1 + i % 2};

		q[i] = (struct burst_req){&s, i, t.c};
		cr_assert_eq(nest_client_send_async(t.c, NEST_OP_DEVICE_GET, &req, sizeof(req),
						    NULL, 0, burst_cb, &q[i], &s.ids[i]),
			     0);
	}
	usleep(200 * 1000); /* every reply queued: the first wait reads a full burst of 16 */
	while (s.done < 20) {
		n = nest_client_wait(t.c, -1);
		cr_assert_geq(n, 1);
		cr_assert_leq(n, 20);
		waits++;
	}
	cr_expect_eq(s.nested, 0, "the blocking call inside the callback: %d", s.nested);
	/* it dispatched the 13 older replies of the burst first, then read the other 4 */
	cr_expect_eq(s.done_after_nested, 20);
	for (unsigned i = 0; i < 20; i++)
		cr_expect_eq(s.order[i], i, "reply %u dispatched as %u", i, s.order[i]);
	cr_expect_eq(waits, 1, "one nest_client_wait() for it all");
	cr_expect_eq(nest_client_inflight(t.c), 0);
	test_vm_free(&t);
}

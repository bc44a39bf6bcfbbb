/* SPDX-License-Identifier: MIT */
/*
 * test-libnest-proto.c - libnest against a scripted fake nestd (a forked child speaking the
 * wire protocol through nestproto): replies out of order are matched by id, events between
 * replies reach the event callback, a reply to an unknown id kills the connection with EPROTO
 * and completes the pending request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client-test.h"
#include "nest-caps.h"
#include "nest-fds.h"
#include "nest-msg.h"

#define NREQ 8

static void fake_send(int fd, uint16_t op, uint16_t flags, uint32_t id, const void *body,
		      size_t len)
{
	uint8_t buf[8192];
	struct nest_msg_hdr h = {.op = op, .flags = flags, .id = id};
	ssize_t n = nest_msg_encode(buf, sizeof(buf), &h, body, len, NULL, 0);

	if (n < 0 || nest_fds_send(fd, buf, (size_t)n, NULL, 0, 0) < 0)
		_exit(10);
}

static void fake_recv(int fd, struct nest_msg *m, uint8_t *buf, size_t cap)
{
	unsigned nfds = 0;
	int fds[NEST_FDS_PER_MSG_MAX];
	ssize_t n = nest_fds_recv(fd, buf, cap, fds, NEST_FDS_PER_MSG_MAX, &nfds, 0);

	if (n <= 0 || nest_msg_parse(buf, (size_t)n, cap, m) < 0)
		_exit(11);
}

static void fake_hello(int c)
{
	uint8_t buf[8192], body[4096];
	struct nest_hello h = {.size = sizeof(h), .major = NEST_PROTO_MAJOR};
	struct nest_caps caps;
	struct nest_msg m;
	size_t len;

	fake_recv(c, &m, buf, sizeof(buf));
	if (m.hdr.op != NEST_OP_HELLO)
		_exit(12);
	nest_caps_init(&caps);
	strcpy(caps.software, "fake 1");
	caps.max_inflight = NREQ;
	if (nest_caps_format(&caps, (char *)body + sizeof(h), sizeof(body) - sizeof(h), &len))
		_exit(13);
	h.caps_len = (uint32_t)len;
	memcpy(body, &h, sizeof(h));
	fake_send(c, NEST_OP_HELLO, NEST_MSG_F_REPLY, m.hdr.id, body, sizeof(h) + len);
}

/* What the fake nestd does after accepting. */
enum fake_mode {
	FAKE_REORDER,	   /* HELLO, NREQ DEVICE_GETs answered in reverse, an event, a bogus id */
	FAKE_DIE_IN_CALL,  /* HELLO, read one request, send an event, exit without replying */
	FAKE_WRONG_OP,	   /* HELLO, answer one request with the right id but another op */
	FAKE_CLOSE_AT_ONCE /* accept and close: no HELLO reply */
};

static void fake_serve_short(int c, enum fake_mode mode)
{
	struct nest_ev_device_gone ev = {.size = sizeof(ev), .dev_id = 7};
	struct nest_pasid_reply pr = {.size = sizeof(pr), .pasid = 1};
	uint8_t buf[8192];
	struct nest_msg m;

	if (mode == FAKE_CLOSE_AT_ONCE)
		_exit(0);
	fake_hello(c);
	fake_recv(c, &m, buf, sizeof(buf));
	if (mode == FAKE_DIE_IN_CALL) {
		fake_send(c, NEST_EV_DEVICE_GONE, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev));
		_exit(0); /* the kernel closes the socket: EOF for the client */
	}
	fake_send(c, NEST_OP_PASID_ALLOC, NEST_MSG_F_REPLY, m.hdr.id, &pr, sizeof(pr));
	(void)recv(c, buf, sizeof(buf), 0);
	_exit(0);
}

static void fake_serve(int lfd, enum fake_mode mode)
{
	uint32_t ids[NREQ], devs[NREQ];
	struct nest_ev_device_gone ev = {.size = sizeof(ev), .dev_id = 5};
	uint8_t buf[8192];
	struct nest_msg m;
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (c < 0)
		_exit(14);
	if (mode != FAKE_REORDER)
		fake_serve_short(c, mode);
	fake_hello(c);
	for (int i = 0; i < NREQ; i++) {
		struct nest_device_get g;

		fake_recv(c, &m, buf, sizeof(buf));
		memcpy(&g, m.body, sizeof(g));
		ids[i] = m.hdr.id;
		devs[i] = g.dev_id;
	}
	for (int i = NREQ - 1; i >= 0; i--) {
		struct nest_device_info di = {.size = sizeof(di), .dev_id = devs[i]};

		if (i == NREQ / 2)
			fake_send(c, NEST_EV_DEVICE_GONE, NEST_MSG_F_EVENT, 0, &ev, sizeof(ev));
		fake_send(c, NEST_OP_DEVICE_GET, NEST_MSG_F_REPLY, ids[i], &di, sizeof(di));
	}
	fake_recv(c, &m, buf, sizeof(buf));
	fake_send(c, NEST_OP_DEVICE_GET, NEST_MSG_F_REPLY, m.hdr.id + 1000, NULL, 0);
	(void)recv(c, buf, sizeof(buf), 0); /* wait for the client to hang up */
	_exit(0);
}

struct state {
	unsigned done, events;
	unsigned order[NREQ + 1];
	uint32_t got_dev[NREQ + 1];
	int err[NREQ + 1];
	uint32_t ev_dev;
};

struct req {
	struct state *s;
	unsigned i;
};

static void reply_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct req *q = opaque;

	q->s->err[q->i] = r->error;
	q->s->got_dev[q->i] = r->error ? 0 : ((const struct nest_device_info *)r->fixed)->dev_id;
	q->s->order[q->s->done++] = q->i;
}

static void ev_cb(nest_client *c, const struct nest_event *ev, void *opaque)
{
	struct state *s = opaque;

	if (ev->type == NEST_EV_DEVICE_GONE) {
		s->events++;
		s->ev_dev = ev->u.device_gone.dev_id;
	}
}

static pid_t fake_start(char *dir, char *path, size_t cap, enum fake_mode mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	pid_t pid;

	cr_assert(mkdtemp(dir));
	snprintf(path, cap, "%s/fake.sock", dir);
	cr_assert(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	cr_assert(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 4) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		fake_serve(lfd, mode);
	close(lfd);
	return pid;
}

Test(libnest_proto, out_of_order_replies_events_and_bogus_id)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	struct state s = {0};
	struct req q[NREQ + 1];
	struct nest_limits l;
	nest_client *c = NULL;
	int before = nest_test_count_fds(), st, r = 0;
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_REORDER);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	nest_client_set_event_cb(c, ev_cb, &s);
	cr_assert_eq(nest_client_get_limits(c, &l), 0);
	cr_expect_eq(l.max_inflight, NREQ, "the smaller limit wins");
	cr_expect_str_eq(l.software, "fake 1");
	for (unsigned i = 0; i <= NREQ; i++) {
		struct nest_device_get g = {.size = sizeof(g), .dev_id = 100 + i};

		q[i] = (struct req){&s, i};
		if (i == NREQ) /* the 9th waits for a free slot: all 8 replies arrive first */
			cr_expect_eq(nest_client_inflight(c), NREQ);
		cr_assert_eq(nest_client_send_async(c, NEST_OP_DEVICE_GET, &g, sizeof(g), NULL, 0,
						    reply_cb, &q[i], NULL),
			     0);
	}
	for (int i = 0; i < 100 && r >= 0; i++)
		r = nest_client_wait(c, 100);
	cr_expect_eq(r, -EPROTO);
	cr_assert_eq(s.done, NREQ + 1);
	for (unsigned i = 0; i < NREQ; i++) {
		cr_expect_eq(s.order[i], NREQ - 1 - i, "completion %u", i);
		cr_expect_eq(s.got_dev[i], 100 + i, "request %u got another's reply", i);
		cr_expect_eq(s.err[i], 0);
	}
	cr_expect_eq(s.err[NREQ], -EPROTO, "pending request completed when the connection died");
	cr_expect_eq(s.events, 1);
	cr_expect_eq(s.ev_dev, 5);
	cr_expect_eq(nest_client_process(c), -EPROTO);
	nest_client_free(c);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fake server status %d", st);
	unlink(path);
	rmdir(dir);
	cr_expect_eq(nest_test_count_fds(), before);
	NO_LEAKS();
}

static void fake_finish(pid_t pid, char *dir, char *path, int fds_before)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fake server status %d", st);
	unlink(path);
	rmdir(dir);
	cr_expect_eq(nest_test_count_fds(), fds_before, "no fd leaked");
}

Test(libnest_proto, daemon_dies_during_a_blocking_call, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	struct state s = {0};
	nest_client *c = NULL;
	uint32_t pasid = 0;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_DIE_IN_CALL);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	nest_client_set_event_cb(c, ev_cb, &s);
	/* returns (no hang, no SIGPIPE) with the connection error; the event still arrived */
	cr_expect_eq(nest_pasid_alloc(c, 1, 10, NEST_GPASID_NONE, &pasid), -ECONNRESET);
	cr_expect_eq(pasid, 0, "ret_ out-param untouched on failure");
	cr_expect_eq(s.events, 1);
	cr_expect_eq(s.ev_dev, 7);
	cr_expect_eq(nest_client_inflight(c), 0);
	cr_expect_neq(strlen(nest_client_last_error(c)), 0);
	/* the handle stays dead: later calls fail at once, sending included */
	cr_expect_eq(nest_unbind(c, 1), -ECONNRESET);
	{
		struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB,
					   .granularity = NEST_INV_GRANU_DOMAIN};
		size_t done = 12345;
		int first = 12345;

		cr_expect_eq(nest_invalidate(c, &e, 1, &done, &first), -ECONNRESET);
		cr_expect_eq(done, 0, "ret_done is always written");
		cr_expect_eq(first, 0, "ret_first_error is always written");
	}
	cr_expect_eq(nest_client_process(c), -ECONNRESET);
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

Test(libnest_proto, reply_with_wrong_op_is_eproto, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	nest_client *c = NULL;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_WRONG_OP);

	cr_assert_eq(nest_client_connect(path, 0, &c), 0);
	/* the id matches the DEVICE_GET in flight, the op (PASID_ALLOC) does not */
	cr_expect_eq(nest_device_get(c, 1, NULL, NULL), -EPROTO);
	cr_expect_eq(nest_vm_detach(c, 0), -EPROTO);
	nest_client_free(c);
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

Test(libnest_proto, daemon_closes_before_hello, .timeout = 10)
{
	char dir[] = "/tmp/nest-fake-XXXXXX", path[128];
	nest_client *c = NULL;
	int before = nest_test_count_fds();
	pid_t pid = fake_start(dir, path, sizeof(path), FAKE_CLOSE_AT_ONCE);

	cr_expect_eq(nest_client_connect(path, 0, &c), -ECONNRESET);
	cr_expect_null(c, "no handle on failure");
	fake_finish(pid, dir, path, before);
	NO_LEAKS();
}

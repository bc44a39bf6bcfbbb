/* SPDX-License-Identifier: MIT */
/*
 * io.c - sending requests, receiving replies and events, matching replies to requests by id.
 *
 * Every request gets a slot in c->pending (at most the negotiated max_inflight); a reply frees
 * its slot before its callback runs, so callbacks may submit new requests. Blocking calls are
 * client_call(): an async request whose callback fills a struct client_sync on the caller's
 * stack, one blocking receive (bounded by SO_RCVTIMEO, the client's timeout), which is the reply
 * unless an event came first, then, only if still not done, a loop of poll() +
 * nest_client_process() until the deadline. A blocking call is thus one send and one receive.
 * Events that arrive meanwhile go to the event callback as usual.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client-internal.h"
#include <json-c/json.h>

#include "nest-caps.h"
#include "nest-fds.h"

static struct client_pending *client_find_pending(nest_client *c, uint32_t id)
{
	unsigned slot = id & ((1u << CLIENT_SLOT_BITS) - 1);

	if (id == 0 || slot >= c->pending_cap || c->pending[slot].id != id)
		return NULL;
	return &c->pending[slot];
}

static void client_complete(nest_client *c, struct client_pending *p, struct nest_reply *r)
{
	struct client_pending done = *p;

	/* free the slot first: the callback may send the next request */
	p->id = 0;
	c->inflight--;
	c->inflight_fds -= done.fds;
	c->free_slots[c->n_free++] = (unsigned)(p - c->pending);
	if (done.cb)
		done.cb(c, r, done.opaque);
	nest_fds_close(r->fds, NEST_FDS_PER_MSG_MAX);
}

int client_kill(nest_client *c, int err)
{
	char detail[96] = "";

	if (c->dead)
		return c->dead;
	c->dead = err;
	client_rx_discard(c);
	client_tx_drop(c);
	if (err == -ETIMEDOUT)
		snprintf(detail, sizeof(detail),
			 "no answer from nestd within %d ms (the handle is closed)", c->timeout_ms);
	client_set_error(c, err, "%s", detail[0] ? detail : "connection to nestd lost");
	for (unsigned i = 0; i < c->pending_cap; i++) {
		struct nest_reply r = {
			.error = err, .detail = detail[0] ? detail : NULL, .fds = {-1, -1, -1, -1}};

		if (!c->pending[i].id)
			continue;
		r.op = c->pending[i].op;
		r.id = c->pending[i].id;
		client_complete(c, &c->pending[i], &r);
	}
	return err;
}

int64_t client_deadline(const nest_client *c)
{
	struct timespec ts;

	if (c->timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + c->timeout_ms;
}

int client_wait_until(nest_client *c, int64_t deadline)
{
	struct timespec ts;
	int64_t left;

	if (deadline < 0)
		return nest_client_wait(c, -1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	left = deadline - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	if (left <= 0)
		return -ETIMEDOUT;
	return nest_client_wait(c, left > 60000 ? 60000 : (int)left);
}

int client_wait_slot(nest_client *c)
{
	int64_t deadline = client_deadline(c);

	while (!c->dead && c->inflight >= c->pending_cap) {
		int r = client_wait_until(c, deadline);

		if (r == -ETIMEDOUT)
			client_set_error(c, r, "no free in-flight slot within %d ms",
					 c->timeout_ms);
		if (r < 0)
			return r;
	}
	return c->dead;
}

/* Whether the reply to @op may carry fds (an op this build does not know: assume it may). */
static bool client_reply_has_fds(uint16_t op)
{
	const struct nest_op_desc *d = nest_op_desc(op);

	return !d || d->is_event || d->reply.max_fds > 0;
}

NEST_PUBLIC int nest_client_send_async(nest_client *c, uint16_t op, const void *body,
				       size_t body_len, const int *fds, unsigned nfds,
				       nest_reply_cb cb, void *opaque, uint32_t *ret_id)
{
	struct nest_msg_hdr h = {.op = op, .flags = NEST_MSG_F_REQUEST};
	struct client_pending *p;
	uint8_t *buf = NULL;
	unsigned slot;
	ssize_t len;
	int r;

	if (!c || (body_len && !body) || nfds > c->caps.max_fds)
		return -EINVAL;
	r = client_wait_slot(c);
	if (r < 0)
		return r;
	if (c->corked) {
		/* a request with fds is sent at once, the queue first: nestd's order is ours */
		if (nfds == 0)
			buf = client_tx_slot(c);
		else
			(void)client_tx_flush(c);
		if (c->dead)
			return c->dead;
	}
	len = nest_msg_encode(buf ? buf : c->txbuf, c->caps.max_msg_size, &h, NULL, 0, body,
			      body_len);
	if (len < 0)
		return client_op_error(c, op, (int)len,
				       "request larger than the negotiated message size");
	if (!c->n_free)
		return -EBUSY;		     /* cannot happen after client_wait_slot() */
	slot = c->free_slots[c->n_free - 1]; /* taken once the request is sent */
	p = &c->pending[slot];
	h.id = c->next_seq << CLIENT_SLOT_BITS | slot;
	c->next_seq = c->next_seq == CLIENT_SEQ_MAX ? 1 : c->next_seq + 1;
	if (buf) {
		memcpy(buf + offsetof(struct nest_msg_hdr, id), &h.id, sizeof(h.id));
		client_tx_queued(c, (size_t)len);
		r = 0;
	} else {
		memcpy(c->txbuf + offsetof(struct nest_msg_hdr, id), &h.id, sizeof(h.id));
		r = nest_fds_send(c->fd, c->txbuf, (size_t)len, fds, nfds, 0);
	}
	if (r < 0) {
		if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN)
			return client_kill(c, -ECONNRESET);
		if (r == -EAGAIN) /* SO_SNDTIMEO: nestd's queue stayed full; nothing was sent */
			return client_op_error(c, op, -ETIMEDOUT,
					       "nestd takes no requests (timeout)");
		return client_op_error(c, op, r, NULL);
	}
	*p = (struct client_pending){
		.id = h.id, .op = op, .fds = client_reply_has_fds(op), .cb = cb, .opaque = opaque};
	c->inflight_fds += p->fds;
	c->n_free--;
	c->inflight++;
	client_log(c, "%s %s id %u (%zd bytes, %u fds)", buf ? "queued" : "sent", nest_op_name(op),
		   h.id, len, nfds);
	if (ret_id)
		*ret_id = h.id;
	return 0;
}

/* The "error" string of an error reply body, if it has one, copied into @buf. */
static const char *client_error_detail(const struct nest_msg *m, char *buf, size_t cap)
{
	struct json_object *obj = NULL;
	const char *s = NULL;

	if (m->body_len == 0 ||
	    nest_json_parse((const char *)m->body, m->body_len, NEST_JSON_LEN_MAX, &obj) < 0)
		return NULL;
	if (nest_json_get_str(obj, "error", cap, NULL, 0, &s) == 0 && s)
		snprintf(buf, cap, "%s", s);
	else
		s = NULL;
	json_object_put(obj);
	return s ? buf : NULL;
}

static int client_on_reply(nest_client *c, const struct nest_msg *m, int *fds, unsigned nfds,
			   bool fds_dropped)
{
	struct client_pending *p = client_find_pending(c, m->hdr.id);
	struct nest_reply r = {.op = m->hdr.op, .id = m->hdr.id};
	_Alignas(8) uint8_t fixed[CLIENT_FIXED_MAX];
	const struct nest_op_desc *d;
	struct nest_tail t;
	char detail[256];

	if (!p || p->op != m->hdr.op) {
		nest_fds_close(fds, nfds);
		client_set_error(c, 0, "reply to unknown request id %u", m->hdr.id);
		return client_kill(c, -EPROTO);
	}
	memcpy(r.fds, fds, sizeof(r.fds));
	r.nfds = nfds;
	d = nest_op_desc(p->op);
	if (m->hdr.flags & NEST_MSG_F_ERROR) {
		r.error = -m->hdr.error;
		r.detail = client_error_detail(m, detail, sizeof(detail));
	} else if (!d || d->is_event) {
		/* an op this build does not know (sent with nest_client_send_async()): raw body */
		r.tail = m->body_len ? m->body : NULL;
		r.tail_len = m->body_len;
	} else if (nfds > d->reply.max_fds || fds_dropped) {
		r.error = -EPROTO;
		r.detail = "too many fds on the reply";
	} else if (d->reply.size > sizeof(fixed) ||
		   (r.error = nest_body_decode(&d->reply, m->body, m->body_len, fixed, &t)) < 0) {
		r.detail = "malformed reply body";
		r.error = r.error ? r.error : -EPROTO;
	} else {
		r.fixed = d->reply.size ? fixed : NULL;
		r.fixed_len = d->reply.size;
		r.tail = t.len ? t.ptr : NULL;
		r.tail_len = t.len;
	}
	client_log(c, "reply %s id %u error %d", nest_op_name(r.op), r.id, r.error);
	client_complete(c, p, &r);
	return 0;
}

/* The union of struct nest_event never grows: programs built against LIBNEST_0.1 allocate it. */
_Static_assert(sizeof(struct nest_event) == 56, "struct nest_event changed size");
_Static_assert(sizeof(struct nest_vevent) <= sizeof(struct nest_ev_stale), "union grew");

/* EV_VEVENT: the wire struct and its record become struct nest_vevent (data points into @m). */
static int client_decode_vevent(const struct nest_op_desc *d, const struct nest_msg *m,
				struct nest_event *ev)
{
	struct nest_ev_vevent w;
	struct nest_tail t;
	int r = nest_body_decode(&d->req, m->body, m->body_len, &w, &t);

	if (r < 0)
		return r;
	ev->u.vevent = (struct nest_vevent){.flags = w.flags,
					    .viommu_id = w.viommu_id,
					    .sequence = w.sequence,
					    .data_len = w.data_len,
					    .data = t.len ? t.ptr : NULL};
	return 0;
}

/* No event callback: nobody will answer a page request group, so say "invalid" now. */
static void client_refuse_page_request(nest_client *c, const struct nest_ev_page_request *pr)
{
	struct nest_page_response req = {
		.size = sizeof(req), .cookie = pr->cookie, .code = NEST_PAGE_RESP_INVALID};

	if (!(pr->flags & NEST_PRQ_F_LAST_PAGE))
		return;
	if (nest_client_send_async(c, NEST_OP_PAGE_RESPONSE, &req, sizeof(req), NULL, 0, NULL, NULL,
				   NULL) == 0)
		client_log(c, "no event callback: page request %u answered invalid", pr->cookie);
}

static void client_on_event(nest_client *c, const struct nest_msg *m)
{
	const struct nest_op_desc *d = nest_op_desc(m->hdr.op);
	struct nest_event ev = {.type = m->hdr.op};
	int r;

	/* a newer nestd may send events we do not know: skip them (PROTOCOL.md minor versions) */
	if (!d || !d->is_event || d->req.size > sizeof(ev.u)) {
		client_log(c, "ignoring unknown event %u", m->hdr.op);
		return;
	}
	if (m->hdr.op == NEST_EV_VEVENT)
		r = client_decode_vevent(d, m, &ev);
	else
		r = nest_body_decode(&d->req, m->body, m->body_len, &ev.u, NULL);
	if (r < 0) {
		client_log(c, "ignoring malformed %s event (%d)", d->name, r);
		return;
	}
	client_log(c, "event %s", d->name);
	if (c->ev_cb) {
		c->ev_cb(c, &ev, c->ev_opaque);
		return;
	}
	c->events_dropped++;
	if (ev.type == NEST_EV_PAGE_REQUEST)
		client_refuse_page_request(c, &ev.u.page_request);
}

int client_dispatch(nest_client *c, const uint8_t *buf, size_t len, int *fds, unsigned nfds,
		    bool fds_dropped)
{
	struct nest_msg m;
	int r = nest_msg_parse(buf, len, c->bufsize, &m);
	if (r < 0) {
		nest_fds_close(fds, nfds);
		return client_kill(c, r);
	}
	if (m.hdr.flags & NEST_MSG_F_REPLY)
		return client_on_reply(c, &m, fds, nfds, fds_dropped);
	nest_fds_close(fds, nfds); /* events and requests never carry fds for us */
	if (m.hdr.flags & NEST_MSG_F_EVENT) {
		client_on_event(c, &m);
		return 0;
	}
	client_set_error(c, 0, "nestd sent a request (op %u)", m.hdr.op);
	return client_kill(c, -EPROTO);
}

/* The read of nest_client_process() when the burst buffers cannot be allocated: one by one. */
static int client_process_one_by_one(nest_client *c, int handled)
{
	while (handled < CLIENT_PROCESS_BUDGET) {
		int fds[NEST_FDS_PER_MSG_MAX] = {-1, -1, -1, -1};
		unsigned nfds = 0;
		ssize_t n = nest_fds_recv(c->fd, c->rxbuf, c->bufsize, fds, NEST_FDS_PER_MSG_MAX,
					  &nfds, MSG_DONTWAIT);
		int r;

		if (n == -EAGAIN || n == -EINTR)
			break;
		if (n == 0)
			return client_kill(c, -ECONNRESET);
		if (n < 0)
			return client_kill(c, (int)n);
		r = client_dispatch(c, c->rxbuf, (size_t)n, fds, nfds, false);
		if (r < 0)
			return r;
		handled++;
		if (c->dead)
			return c->dead;
	}
	return handled;
}

/*
 * Dispatch what the last burst brought, then read on in bursts (MSG_DONTWAIT) until one comes
 * back short (the socket was empty: no read that would find nothing) or the budget is spent.
 * @drained: the burst before was already short.
 */
static int client_process(nest_client *c, bool drained)
{
	int handled = 0;

	while (handled < CLIENT_PROCESS_BUDGET) {
		int r = client_rx_next(c);

		if (r < 0)
			return r;
		if (r > 0) {
			handled++;
			continue;
		}
		if (drained)
			break;
		r = client_rx_recv(c, MSG_DONTWAIT);
		if (r == -ENOMEM)
			return client_process_one_by_one(c, handled);
		if (r == 0 || r == -EINTR)
			break;
		if (r < 0)
			return r;
		drained = r < (int)NEST_RX_BURST_MAX;
	}
	return c->dead ? c->dead : handled;
}

NEST_PUBLIC int nest_client_process(nest_client *c)
{
	if (!c)
		return -EINVAL;
	if (c->dead)
		return c->dead;
	return client_process(c, false);
}

/*
 * One datagram when nothing in flight can be answered with fds (events never carry any): no
 * control buffer, which the kernel's receive path handles for less (issue 12's blocking call:
 * about 0.3 us a round trip here). Fds that arrive anyway were closed by the kernel
 * (MSG_CTRUNC): *@ret_dropped says so, and the message is handled as one whose fds were
 * received and refused (a reply: -EPROTO "too many fds", as nest_fds_recv()'s path does).
 */
static ssize_t client_recv_nofds(nest_client *c, bool *ret_dropped)
{
	struct iovec iov = {.iov_base = c->rxbuf, .iov_len = c->bufsize};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	do /* as nest_fds_recv(): a signal does not cut a blocking call short */
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EPROTO;
	*ret_dropped = n > 0 && (mh.msg_flags & MSG_CTRUNC);
	return n;
}

/*
 * One message: the next of a burst not dispatched yet, else a blocking read (SO_RCVTIMEO bounds
 * it). 1 when a message was handled, 0 when nothing came (EAGAIN: the timeout, or a socket the
 * VMM made non-blocking), -EINTR, or -errno when the connection died.
 */
static int client_recv_one(nest_client *c)
{
	int fds[NEST_FDS_PER_MSG_MAX] = {-1, -1, -1, -1};
	unsigned nfds = 0;
	bool dropped = false;
	ssize_t n;
	int r = client_rx_next(c); /* the rest of a burst first: nestd's order */

	if (r != 0)
		return r;
	if (c->inflight_fds)
		n = nest_fds_recv(c->fd, c->rxbuf, c->bufsize, fds, NEST_FDS_PER_MSG_MAX, &nfds, 0);
	else
		n = client_recv_nofds(c, &dropped);
	if (n == -EAGAIN)
		return 0;
	if (n == -EINTR)
		return -EINTR;
	if (n == 0)
		return client_kill(c, -ECONNRESET);
	if (n < 0)
		return client_kill(c, (int)n);
	r = client_dispatch(c, c->rxbuf, (size_t)n, fds, nfds, dropped);
	return r < 0 ? r : 1;
}

/*
 * Waiting forever on libnest's blocking socket is one recvmmsg(MSG_WAITFORONE): it blocks for the
 * first message and returns with every one that is there by then, up to NEST_RX_BURST_MAX (rx.c):
 * one system call per wake-up of a pipelining VMM and never a read that finds nothing (issue 12);
 * a full burst is not followed by a read that may find nothing, the next wait reads on. Only when
 * that read finds nothing (SO_RCVTIMEO ran out, or the VMM made the fd non-blocking) does poll()
 * wait. Datagrams of a burst not dispatched yet (a callback's blocking call came back here) are
 * dispatched without waiting.
 */
NEST_PUBLIC int nest_client_wait(nest_client *c, int timeout_ms)
{
	struct pollfd pfd;
	int r;

	if (!c)
		return -EINVAL;
	if (client_tx_flush(c) < 0 || c->dead) /* never wait for replies to requests not sent */
		return c->dead;
	if (client_rx_pending(c))
		return client_process(c, true);
	if (timeout_ms < 0) {
		r = client_rx_recv(c, MSG_WAITFORONE);
		if (r == -ENOMEM) {
			r = client_recv_one(c);
			if (r == -EINTR)
				return 0;
			if (r < 0)
				return r;
			if (r > 0) /* then read on, one by one, as before bursts */
				return c->dead ? c->dead : client_process_one_by_one(c, 1);
		} else {
			if (r == -EINTR)
				return 0;
			if (r < 0)
				return r;
			if (r > 0) /* the next wait reads on: a full burst may have been all */
				return client_process(c, true);
		}
	}
	pfd = (struct pollfd){.fd = c->fd, .events = POLLIN};
	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return 0;
	return nest_client_process(c);
}

/*
 * One message, waiting for it (the socket is blocking; SO_RCVTIMEO bounds the wait). 0 when a
 * message was handled or nothing came (timeout, EINTR, or a socket the VMM made non-blocking:
 * the caller's deadline loop decides), -errno when the connection died.
 */
static int client_recv_blocking(nest_client *c)
{
	int r = client_recv_one(c);

	return r == -EINTR || r > 0 ? 0 : r;
}

void client_wait_done(nest_client *c, int64_t deadline, const bool *done)
{
	(void)client_tx_flush(c); /* a dead handle has completed everything */
	if (!*done)
		(void)client_recv_blocking(c); /* a dead connection has completed everything */
	while (!*done) {
		int r = client_wait_until(c, deadline);

		if (r < 0 && !*done)
			client_kill(c, r);
	}
}

void client_sync_init(struct client_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static void client_sync_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct client_sync *s = opaque;

	s->done = true;
	s->error = r->error;
	if (r->error) {
		client_op_error(c, r->op, r->error, r->detail);
		return;
	}
	memcpy(s->fixed, r->fixed ? r->fixed : s->fixed, r->fixed_len);
	s->fixed_len = r->fixed_len;
	s->tail_len = r->tail_len;
	if (s->tail_alloc) {
		s->tail_buf = malloc(r->tail_len + 1);
		if (!s->tail_buf) {
			s->error = -ENOMEM;
			return;
		}
		memcpy(s->tail_buf, r->tail ? r->tail : "", r->tail_len);
		s->tail_buf[r->tail_len] = '\0';
	} else if (s->tail_dst && r->tail_len) {
		memcpy(s->tail_dst, r->tail, r->tail_len < s->tail_cap ? r->tail_len : s->tail_cap);
	}
	if (r->nfds > 0 && r->fds[0] >= 0) {
		s->fd = r->fds[0]; /* ownership moves to the waiting caller */
		r->fds[0] = -1;
	}
}

int client_call(nest_client *c, uint16_t op, const void *body, size_t body_len, const int *fds,
		unsigned nfds, struct client_sync *s)
{
	int r;

	if (c->dead)
		return c->dead;
	client_clear_error(c);
	r = nest_client_send_async(c, op, body, body_len, fds, nfds, client_sync_cb, s, NULL);
	if (r < 0)
		return r;
	int64_t deadline = client_deadline(c);

	client_wait_done(c, deadline, &s->done); /* @s lives on our stack: done, or killed */
	return s->error;
}

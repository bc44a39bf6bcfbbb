/* SPDX-License-Identifier: MIT */
/*
 * conn.c - one client connection: non-blocking receive, dispatch, bounded output queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "nest-fds.h"
#include "vm.h"

/*
 * Messages handled per readable wakeup, in one recvmmsg(2), before other connections get their
 * turn (the fairness budget). A burst that comes back short drained the socket, so the loop
 * goes back to epoll without a read that would find nothing.
 */
#define CONN_RX_BURST	 NEST_RX_BURST_MAX
/*
 * Replies of a burst leave in sendmmsg(2) calls of this many: one call per burst would make a
 * pipelining client wait for the whole burst before it sees the first reply, while it could be
 * working on them (and sending more requests) on the other CPU.
 */
#define CONN_TX_FLUSH_AT 4

struct outmsg {
	struct outmsg *next;
	size_t len;
	int fd; /* owned; closed after sending or on free */
	bool is_reply;
	uint8_t data[];
};

const char *conn_tag(const struct conn *c, char *buf, size_t len)
{
	snprintf(buf, len, "conn %llu uid %u pid %d", (unsigned long long)c->id,
		 (unsigned)c->peer.cred.uid, (int)c->peer.cred.pid);
	return buf;
}

uint32_t conn_count_uid(struct nestd *d, uid_t uid)
{
	struct conn *c;
	uint32_t n = 0;

	TAILQ_FOREACH(c, &d->conns, link)
	if (c->peer.cred.uid == uid)
		n++;
	return n;
}

static void outmsg_free(struct outmsg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

static void conn_outq_pop(struct conn *c)
{
	struct outmsg *m = c->outq_head;

	c->outq_head = m->next;
	if (!c->outq_head)
		c->outq_tail = &c->outq_head;
	c->outq_len--;
	if (m->is_reply)
		c->outq_replies--;
	if (m->fd >= 0)
		c->outq_fds--;
	outmsg_free(m);
}

/* Send what the socket takes. Returns 0 (maybe with messages left) or -errno (peer gone). */
static int conn_flush(struct conn *c)
{
	while (c->outq_head) {
		struct outmsg *m = c->outq_head;
		int r = nest_fds_send(c->fd, m->data, m->len, &m->fd, m->fd >= 0 ? 1 : 0,
				      MSG_DONTWAIT);

		if (r == -EAGAIN) {
			event_add(c->ev_write, NULL);
			return 0;
		}
		if (r < 0)
			return r;
		conn_outq_pop(c);
	}
	event_del(c->ev_write);
	return 0;
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int r = conn_flush(c);

	if (r < 0)
		conn_close(c, "send failed");
}

static int conn_enqueue(struct conn *c, const void *buf, size_t len, int fd, bool is_reply);
static void conn_doom(struct conn *c);

/* Send the burst's batch; what the socket does not take goes to the output queue, in order. */
static void conn_tx_flush(struct conn *c)
{
	struct txbatch *b = &c->d->tx;
	int sent;

	if (b->owner != c || b->n == 0)
		return;
	sent = txbatch_send(b, c->fd);
	if (sent < 0 && sent != -EAGAIN) {
		txbatch_clear(b);
		conn_doom(c);
		return;
	}
	for (unsigned i = sent < 0 ? 0 : (unsigned)sent; i < b->n; i++) {
		bool is_reply;
		size_t len;
		const void *m = txbatch_msg(b, i, &len, &is_reply);

		if (conn_enqueue(c, m, len, -1, is_reply) < 0)
			break; /* doomed (slow client) or no memory: the rest is dropped with it */
	}
	txbatch_clear(b);
}

/* The slots after @i of a burst are not handled: close the fds they brought. */
static void conn_rx_drop(struct nestd *d, int i, int n)
{
	for (; i < n; i++)
		if (d->rx.rx[i].len > 0)
			nest_fds_close(d->rx.rx[i].fds, d->rx.rx[i].nfds);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct nestd *d = c->d;
	size_t cap = c->caps.max_msg_size < d->rxcap ? c->caps.max_msg_size : d->rxcap;
	int n, i;

	n = nest_fds_recv_burst(c->fd, &d->rx, CONN_RX_BURST, cap, c->caps.max_fds, MSG_DONTWAIT);
	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n < 0) {
		conn_close(c, "receive failed");
		return;
	}
	d->tx.owner = c;
	for (i = 0; i < n && !c->dead && !c->doomed; i++) {
		struct nest_rx *rx = &d->rx.rx[i];

		if (rx->len == 0) {
			conn_close(c, "peer closed the connection");
			break;
		}
		if (rx->len < 0) {
			if (rx->len == -EPROTO)
				d->stats.protocol_errors++;
			conn_close(c, rx->len == -EPROTO ? "truncated message" : "receive failed");
			break;
		}
		if (rx->fd_short) /* nestd was out of fds, not the client's fault */
			dispatch_refuse_fd_short(c, rx->buf, (size_t)rx->len);
		else
			dispatch_message(c, rx->buf, (size_t)rx->len, rx->fds, rx->nfds);
	}
	conn_rx_drop(d, i, n);
	conn_tx_flush(c);
	if (d->tx.owner == c)
		d->tx.owner = NULL;
}

static void conn_on_hello_timeout(evutil_socket_t fd, short what, void *arg)
{
	conn_close(arg, "no HELLO in time");
}

static void conn_free(struct conn *c)
{
	struct nestd *d = c->d;

	TAILQ_REMOVE(&d->dead_conns, c, link);
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_hello);
	event_free(c->ev_free);
	event_free(c->ev_kill);
	peer_clear(&c->peer);
	free(c);
}

static void conn_on_kill(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_close(c, c->outq_len >= c->limits.max_outq || c->outq_fds >= NESTD_CONN_QUEUED_FDS_MAX
			      ? "output queue full (client does not read)"
			      : "send failed");
}

/*
 * Close from the loop, not now: closing releases the VM, which calls into the backend, and we
 * may be inside a backend callback (a fault event). Until then every send is dropped.
 */
static void conn_doom(struct conn *c)
{
	if (c->doomed || c->dead)
		return;
	c->doomed = true;
	event_active(c->ev_kill, 0, 0);
}

static void conn_on_free(evutil_socket_t fd, short what, void *arg)
{
	conn_free(arg);
}

/* Free every closed connection now (daemon shutdown). */
void conn_reap_all(struct nestd *d)
{
	while (!TAILQ_EMPTY(&d->dead_conns))
		conn_free(TAILQ_FIRST(&d->dead_conns));
}

int conn_new(struct nestd *d, int fd, enum nest_sock_kind kind, struct peer *peer,
	     struct conn **ret)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct timeval tv;

	if (!c) {
		close(fd);
		peer_clear(peer);
		return -ENOMEM;
	}
	c->d = d;
	c->fd = fd; /* owned by c from here; closed in conn_close() */
	c->id = ++d->next_conn_id;
	c->kind = kind;
	c->peer = *peer; /* the group list moves into c; freed in conn_free() */
	peer->groups = NULL;
	peer->n_groups = 0;
	c->limits = d->cfg->limits;
	/*
	 * Replies a client may leave unread within its in-flight limit must fit the output queue,
	 * or a client that keeps to the limit could be dropped as "slow": never announce more.
	 */
	if (c->limits.max_inflight > c->limits.max_outq)
		c->limits.max_inflight = c->limits.max_outq;
	nest_caps_init(&c->caps);
	c->caps.max_msg_size = c->limits.max_msg_size;
	c->caps.max_fds = c->limits.max_fds;
	c->caps.max_batch = c->limits.max_batch;
	c->caps.max_inflight = c->limits.max_inflight;
	c->outq_tail = &c->outq_head;
	if (kind == NEST_SOCK_ADMIN)
		c->admin_ok = nestd_peer_is_admin(d, &c->peer);
	c->ev_read = event_new(d->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	c->ev_write = event_new(d->base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
	c->ev_hello = evtimer_new(d->base, conn_on_hello_timeout, c);
	c->ev_free = event_new(d->base, -1, 0, conn_on_free, c);
	c->ev_kill = event_new(d->base, -1, 0, conn_on_kill, c);
	if (!c->ev_read || !c->ev_write || !c->ev_hello || !c->ev_free || !c->ev_kill) {
		if (c->ev_read)
			event_free(c->ev_read);
		if (c->ev_write)
			event_free(c->ev_write);
		if (c->ev_hello)
			event_free(c->ev_hello);
		if (c->ev_free)
			event_free(c->ev_free);
		if (c->ev_kill)
			event_free(c->ev_kill);
		close(fd);
		free(c);
		return -ENOMEM;
	}
	tv = (struct timeval){.tv_sec = c->limits.hello_timeout_sec};
	event_add(c->ev_read, NULL);
	event_add(c->ev_hello, &tv);
	TAILQ_INSERT_TAIL(&d->conns, c, link);
	if (kind == NEST_SOCK_ADMIN)
		d->n_admin_conns++;
	if (kind == NEST_SOCK_ADMIN && c->admin_ok)
		d->n_admin_ok_conns++;
	if (kind != NEST_SOCK_ADMIN)
		d->n_vm_conns++;
	d->stats.connections_total++;
	*ret = c;
	return 0;
}

void conn_close(struct conn *c, const char *why)
{
	struct nestd *d = c->d;
	char tag[80];

	if (c->dead)
		return;
	if (d->tx.owner == c) { /* the burst's replies first (e.g. the error that made us close) */
		conn_tx_flush(c);
		d->tx.owner = NULL;
	}
	c->dead = true;
	log_msg(LOG_DEBUG, "%s: closing: %s", conn_tag(c, tag, sizeof(tag)), why);
	if (c->vm)
		vm_release(c->vm, true); /* abrupt: hold for the grace period, if any */
	c->vm = NULL;
	/* best effort: push out what is queued (e.g. the error reply that made us close) */
	if (c->outq_head)
		(void)conn_flush(c);
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_del(c->ev_hello);
	event_del(c->ev_kill);
	while (c->outq_head)
		conn_outq_pop(c);
	close(c->fd);
	c->fd = -1;
	TAILQ_REMOVE(&d->conns, c, link);
	TAILQ_INSERT_TAIL(&d->dead_conns, c, link);
	if (c->kind == NEST_SOCK_ADMIN)
		d->n_admin_conns--;
	if (c->kind == NEST_SOCK_ADMIN && c->admin_ok)
		d->n_admin_ok_conns--;
	if (c->kind != NEST_SOCK_ADMIN)
		d->n_vm_conns--;
	event_active(c->ev_free, 0, 0);
	nestd_update_status(d);
}

static int conn_enqueue(struct conn *c, const void *buf, size_t len, int fd, bool is_reply)
{
	struct outmsg *m;

	if (c->outq_len >= c->limits.max_outq ||
	    (fd >= 0 && c->outq_fds >= NESTD_CONN_QUEUED_FDS_MAX)) {
		/* slow client */
		if (fd >= 0)
			close(fd);
		if (!c->doomed)
			c->d->stats.slow_disconnects++;
		conn_doom(c);
		return -ENOBUFS;
	}
	m = malloc(sizeof(*m) + len);
	if (!m) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	m->next = NULL;
	m->len = len;
	m->fd = fd; /* fd ownership moves into the queue; closed in outmsg_free() */
	m->is_reply = is_reply;
	memcpy(m->data, buf, len);
	*c->outq_tail = m;
	c->outq_tail = &m->next;
	c->outq_len++;
	if (is_reply)
		c->outq_replies++;
	if (fd >= 0)
		c->outq_fds++;
	event_add(c->ev_write, NULL);
	return 0;
}

int conn_send(struct conn *c, const struct nest_msg_hdr *hdr, const void *fixed, size_t fixed_len,
	      const void *tail, size_t tail_len, int fd)
{
	struct nestd *d = c->d;
	size_t cap = c->caps.max_msg_size < d->txcap ? c->caps.max_msg_size : d->txcap;
	bool is_reply = hdr->flags & NEST_MSG_F_REPLY;
	ssize_t len;
	int r;

	if (c->dead || c->doomed) {
		if (fd >= 0)
			close(fd);
		return -EPIPE;
	}
	len = nest_msg_encode(d->txbuf, cap, hdr, fixed, fixed_len, tail, tail_len);
	if (len < 0) {
		if (fd >= 0)
			close(fd);
		return (int)len;
	}
	if (d->tx.owner == c && fd < 0 && !c->outq_head) {
		/* inside this connection's receive burst: sent in sendmmsg groups (CONN_TX_FLUSH_AT) */
		if (txbatch_add(&d->tx, d->txbuf, (size_t)len, is_reply)) {
			if (d->tx.n >= CONN_TX_FLUSH_AT)
				conn_tx_flush(c); /* let the client work on these meanwhile */
			return 0;
		}
		conn_tx_flush(c);
		if (!c->outq_head && txbatch_add(&d->tx, d->txbuf, (size_t)len, is_reply))
			return 0;
	}
	if (d->tx.owner == c)
		conn_tx_flush(c); /* keep the order before a message that goes on its own */
	if (c->dead || c->doomed) {
		if (fd >= 0)
			close(fd);
		return -EPIPE;
	}
	if (!c->outq_head) {
		/* fast path: nothing queued, try the socket directly */
		r = nest_fds_send(c->fd, d->txbuf, (size_t)len, &fd, fd >= 0 ? 1 : 0, MSG_DONTWAIT);
		if (r == 0) {
			if (fd >= 0)
				close(fd); /* the peer has its own copy now */
			return 0;
		}
		if (r != -EAGAIN) {
			if (fd >= 0)
				close(fd);
			conn_doom(c);
			return r;
		}
	}
	return conn_enqueue(c, d->txbuf, (size_t)len, fd, is_reply);
}

int conn_send_error(struct conn *c, const struct nest_msg_hdr *req, int err, const char *json_err)
{
	struct nest_msg_hdr h = {
		.op = req->op,
		.flags = NEST_MSG_F_REPLY | NEST_MSG_F_ERROR,
		.id = req->id,
		.error = err < 0 ? -err : err,
	};

	c->d->stats.errors++;
	return conn_send(c, &h, NULL, 0, json_err, json_err ? strlen(json_err) + 1 : 0, -1);
}

int conn_send_event(struct conn *c, uint16_t op, const void *body, size_t len)
{
	struct nest_msg_hdr h = {.op = op, .flags = NEST_MSG_F_EVENT};

	if (c->dead || !c->hello_done)
		return -EPIPE;
	c->d->stats.events++;
	return conn_send(c, &h, body, len, NULL, 0, -1);
}

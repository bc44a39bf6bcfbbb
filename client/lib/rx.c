/* SPDX-License-Identifier: MIT */
/*
 * rx.c - receive bursts: a pipelining VMM's replies, up to NEST_RX_BURST_MAX per recvmmsg(2).
 *
 * nest_client_wait() blocks in one recvmmsg(MSG_WAITFORONE) that returns with every reply that
 * is there by then, and nest_client_process() drains the socket in bursts: one system call per
 * wake-up instead of one per reply plus one that finds nothing (issue 12). Each slot holds a
 * whole datagram (bufsize bytes: a SEQPACKET datagram that does not fit is lost), so the burst
 * buffers are NEST_RX_BURST_MAX x bufsize of address space, allocated on the first wait or
 * process call; only the pages replies land in are ever touched.
 *
 * Datagrams are dispatched in the order nestd sent them. A callback that makes a blocking call in
 * the middle of a burst first gets the rest of the burst dispatched (client_rx_next() before any
 * read, in io.c), then new datagrams.
 */
#include <errno.h>
#include <stdlib.h>

#include "client-internal.h"
#include "nest-fds.h"

struct client_rx {
	struct nest_rx_burst burst;
	unsigned next; /* first slot not dispatched yet */
	unsigned n;    /* slots filled by the last recvmmsg() */
	uint8_t *bufs; /* NEST_RX_BURST_MAX x bufsize */
};

static int client_rx_alloc(nest_client *c)
{
	struct client_rx *rx;

	if (c->rx)
		return 0;
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->bufs = malloc(NEST_RX_BURST_MAX * c->bufsize);
	if (!rx->bufs) {
		free(rx);
		return -ENOMEM;
	}
	nest_rx_burst_init(&rx->burst, rx->bufs, c->bufsize);
	c->rx = rx;
	return 0;
}

bool client_rx_pending(const nest_client *c)
{
	return c->rx && c->rx->next < c->rx->n;
}

void client_rx_discard(nest_client *c)
{
	struct client_rx *rx = c->rx;

	if (!rx)
		return;
	for (; rx->next < rx->n; rx->next++) {
		struct nest_rx *m = &rx->burst.rx[rx->next];

		nest_fds_close(m->fds, m->nfds);
		m->nfds = 0;
	}
}

void client_rx_free(nest_client *c)
{
	if (!c->rx)
		return;
	client_rx_discard(c);
	free(c->rx->bufs);
	free(c->rx);
	c->rx = NULL;
}

int client_rx_recv(nest_client *c, int flags)
{
	int n, r;

	if (client_rx_pending(c))
		return -EBUSY; /* a caller bug: the burst before must be dispatched first */
	r = client_rx_alloc(c);
	if (r < 0)
		return r;
	n = nest_fds_recv_burst(c->fd, &c->rx->burst, NEST_RX_BURST_MAX, c->bufsize,
				NEST_FDS_PER_MSG_MAX, flags);
	if (n == -EAGAIN)
		return 0;
	if (n == -EINTR)
		return n;
	if (n < 0)
		return client_kill(c, n);
	c->rx->next = 0;
	c->rx->n = (unsigned)n;
	return n;
}

int client_rx_next(nest_client *c)
{
	struct nest_rx *m;
	int r;

	if (c->dead) {
		client_rx_discard(c);
		return c->dead;
	}
	if (!client_rx_pending(c))
		return 0;
	m = &c->rx->burst.rx[c->rx->next++]; /* before the callbacks: they may read on */
	if (m->len <= 0 || m->fd_short) {
		int err = m->len == 0 ? -ECONNRESET : m->fd_short ? -EMFILE : (int)m->len;

		r = client_kill(c, err); /* closes the fds of the slots after this one */
		if (m->fd_short)
			client_set_error(c, err,
					 "out of fds: the fds of a message could not be received");
		return r;
	}
	r = client_dispatch(c, m->buf, (size_t)m->len, m->fds, m->nfds, false);
	m->nfds = 0; /* client_dispatch() took them */
	return r < 0 ? r : 1;
}

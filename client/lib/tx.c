/* SPDX-License-Identifier: MIT */
/*
 * tx.c - the cork: requests of nest_client_send_async() queued and sent together, up to
 * CLIENT_TX_BURST per sendmmsg(2) (issue 12: a pipelining VMM that refills its window after a
 * burst of replies pays one system call for the refill, not one per request).
 *
 * A request without fds, sent while corked, is encoded straight into a slot of the queue (slots
 * of bufsize bytes, allocated on first use: 1 MiB of address space, only the pages requests land
 * in touched); it has its pending slot and counts as in flight from then on. The queue leaves when
 * it is full, before a request with fds (order is kept), before libnest waits for anything
 * (io.c), at nest_client_flush() and when the cork is taken out. A queue that cannot be sent
 * kills the handle: its requests hold pending slots that no reply would ever free.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "client-internal.h"

struct client_tx {
	struct mmsghdr mm[CLIENT_TX_BURST];
	struct iovec iov[CLIENT_TX_BURST];
	unsigned n;    /* requests queued */
	uint8_t *bufs; /* CLIENT_TX_BURST x bufsize */
};

static int client_tx_alloc(nest_client *c)
{
	struct client_tx *tx;

	if (c->tx)
		return 0;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	tx->bufs = malloc(CLIENT_TX_BURST * c->bufsize);
	if (!tx->bufs) {
		free(tx);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < CLIENT_TX_BURST; i++) {
		tx->iov[i].iov_base = tx->bufs + i * c->bufsize;
		tx->mm[i].msg_hdr = (struct msghdr){.msg_iov = &tx->iov[i], .msg_iovlen = 1};
	}
	c->tx = tx;
	return 0;
}

void client_tx_free(nest_client *c)
{
	if (!c->tx)
		return;
	free(c->tx->bufs);
	free(c->tx);
	c->tx = NULL;
}

void client_tx_drop(nest_client *c)
{
	if (c->tx)
		c->tx->n = 0;
}

/*
 * sendmmsg() said EAGAIN: on libnest's blocking socket SO_SNDTIMEO ran out (-ETIMEDOUT); on an fd
 * the VMM made non-blocking, wait up to the handle's timeout for room (0 when there is).
 */
static int client_tx_wait_room(nest_client *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
	int fl = fcntl(c->fd, F_GETFL), r;

	if (fl < 0 || !(fl & O_NONBLOCK))
		return -ETIMEDOUT;
	do
		r = poll(&pfd, 1, c->timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r > 0 && (pfd.revents & POLLOUT))
		return 0;
	errno = EAGAIN; /* for the caller's error: nestd's queue stayed full */
	return -ETIMEDOUT;
}

int client_tx_flush(nest_client *c)
{
	struct client_tx *tx = c->tx;
	unsigned sent = 0;

	if (!tx || tx->n == 0)
		return c->dead;
	if (c->dead) {
		tx->n = 0;
		return c->dead;
	}
	while (sent < tx->n) {
		int r = sendmmsg(c->fd, tx->mm + sent, tx->n - sent, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN && client_tx_wait_room(c) == 0)
			continue; /* a non-blocking fd that had no room: it has now */
		if (r <= 0) {
			int err = r < 0 ? -errno : -EIO;
			unsigned queued = tx->n;

			tx->n = 0;
			if (err == -EAGAIN) /* SO_SNDTIMEO or our poll: nestd's queue stayed full */
				err = -ETIMEDOUT;
			else if (err == -EPIPE || err == -ENOTCONN)
				err = -ECONNRESET;
			r = client_kill(c, err);
			client_set_error(c, err,
					 "queued requests could not be sent (%u of %u were)", sent,
					 queued);
			return r;
		}
		sent += (unsigned)r;
	}
	client_log(c, "sent %u queued requests", sent);
	tx->n = 0;
	return 0;
}

uint8_t *client_tx_slot(nest_client *c)
{
	if (!c->corked || client_tx_alloc(c) < 0)
		return NULL;
	if (c->tx->n == CLIENT_TX_BURST && client_tx_flush(c) < 0)
		return NULL;
	return c->tx->iov[c->tx->n].iov_base;
}

void client_tx_queued(nest_client *c, size_t len)
{
	c->tx->iov[c->tx->n].iov_len = len;
	c->tx->n++;
}

NEST_PUBLIC int nest_client_flush(nest_client *c)
{
	if (!c)
		return -EINVAL;
	return client_tx_flush(c);
}

NEST_PUBLIC int nest_client_cork(nest_client *c, bool on)
{
	if (!c)
		return -EINVAL;
	c->corked = on;
	return on ? c->dead : client_tx_flush(c);
}

/* SPDX-License-Identifier: MIT */
/*
 * fds.c - one message per SEQPACKET datagram, fds in SCM_RIGHTS (STYLE.md R9/R10).
 *
 * Received fds always get O_CLOEXEC (MSG_CMSG_CLOEXEC), and when a datagram or its control data
 * was truncated, every fd that did arrive is closed before -EPROTO is returned: the kernel has
 * already installed them in our table, so nobody else would ever close them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nest-fds.h"
#include "nest-proto.h"

void nest_fds_close(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (fds[i] >= 0)
			(void)close(fds[i]);
		fds[i] = -1;
	}
}

int nest_fds_send(int sock, const void *buf, size_t len, const int *fds, unsigned nfds, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * NEST_FDS_PER_MSG_MAX)];
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (nfds > NEST_FDS_PER_MSG_MAX || (nfds && !fds))
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if ((size_t)n != len) /* cannot happen on SEQPACKET; be explicit anyway */
		return -EMSGSIZE;
	return 0;
}

/*
 * Move every fd of every SCM_RIGHTS header into @fds. Returns the count, or -EPROTO (after closing
 * all of them) if there were more than @max.
 */
static int fds_collect(struct msghdr *mh, int *fds, unsigned max)
{
	unsigned n = 0;
	bool over = false;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < max)
				fds[n++] =
					fd; /* ownership moves to the caller (or to the close below) */
			else {
				(void)close(fd);
				over = true;
			}
		}
	}
	if (over) {
		nest_fds_close(fds, n);
		return -EPROTO;
	}
	return (int)n;
}

/* The receiver cannot open another fd now: the kernel could not install SCM_RIGHTS fds either. */
static bool fds_receiver_short(int sock)
{
	int fd = fcntl(sock, F_DUPFD_CLOEXEC, 0);

	if (fd >= 0) {
		(void)close(fd);
		return false;
	}
	return errno == EMFILE || errno == ENFILE;
}

/*
 * One received datagram of @n bytes: its fds into @fds, truncation and EOF (nest_fds_recv()).
 * With @ret_fd_short, control data truncated while the receiver itself had no free fd slot is
 * not a protocol error: the datagram is returned without fds and *@ret_fd_short set.
 */
static ssize_t fds_finish(int sock, struct msghdr *mh, ssize_t n, int *fds, unsigned max_fds,
			  unsigned *ret_nfds, bool *ret_fd_short)
{
	int nfds;

	if (ret_fd_short)
		*ret_fd_short = false;
	nfds = fds_collect(mh, fds, max_fds);
	if (nfds < 0)
		return nfds;
	if (ret_fd_short && n > 0 && (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == MSG_CTRUNC &&
	    fds_receiver_short(sock)) {
		/* probed before closing what did arrive: the table is as full as the kernel saw it */
		nest_fds_close(fds, (unsigned)nfds);
		*ret_fd_short = true;
		if (ret_nfds)
			*ret_nfds = 0;
		return n;
	}
	if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		nest_fds_close(fds, (unsigned)nfds);
		return -EPROTO;
	}
	if (n == 0) { /* EOF (SEQPACKET cannot tell it from an empty datagram; we never send one) */
		nest_fds_close(fds, (unsigned)nfds);
		return 0;
	}
	if (ret_nfds)
		*ret_nfds = (unsigned)nfds;
	return n;
}

ssize_t nest_fds_recv(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
		      unsigned *ret_nfds, int flags)
{
	return nest_fds_recv_short(sock, buf, cap, fds, max_fds, ret_nfds, flags, NULL);
}

ssize_t nest_fds_recv_short(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
			    unsigned *ret_nfds, int flags, bool *ret_fd_short)
{
	union {
		struct cmsghdr align;
		char buf[NEST_FDS_CMSG_SPACE];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (max_fds > NEST_FDS_PER_MSG_MAX)
		max_fds = NEST_FDS_PER_MSG_MAX;
	for (unsigned i = 0; i < max_fds; i++)
		fds[i] = -1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return fds_finish(sock, &mh, n, fds, max_fds, ret_nfds, ret_fd_short);
}

void nest_rx_burst_init(struct nest_rx_burst *b, uint8_t *bufs, size_t each)
{
	for (unsigned i = 0; i < NEST_RX_BURST_MAX; i++) {
		b->rx[i] = (struct nest_rx){.buf = bufs + i * each};
		b->iov[i] = (struct iovec){.iov_base = b->rx[i].buf};
		b->mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &b->iov[i],
							.msg_iovlen = 1,
							.msg_control = b->ctl[i].buf}};
	}
}

int nest_fds_recv_burst(int sock, struct nest_rx_burst *b, unsigned n, size_t cap, unsigned max_fds,
			int flags)
{
	int got;

	if (n == 0)
		return -EINVAL;
	if (n > NEST_RX_BURST_MAX)
		n = NEST_RX_BURST_MAX;
	if (max_fds > NEST_FDS_PER_MSG_MAX)
		max_fds = NEST_FDS_PER_MSG_MAX;
	for (unsigned i = 0; i < n; i++) { /* what the kernel overwrote last time */
		b->iov[i].iov_len = cap;
		b->mm[i].msg_hdr.msg_controllen = sizeof(b->ctl[i].buf);
	}
	got = recvmmsg(sock, b->mm, n, MSG_CMSG_CLOEXEC | flags, NULL);
	if (got < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	for (int i = 0; i < got; i++) {
		struct nest_rx *rx = &b->rx[i];

		for (unsigned k = 0; k < NEST_FDS_PER_MSG_MAX; k++)
			rx->fds[k] = -1;
		rx->nfds = 0;
		rx->len = fds_finish(sock, &b->mm[i].msg_hdr, (ssize_t)b->mm[i].msg_len, rx->fds,
				     max_fds, &rx->nfds, &rx->fd_short);
	}
	return got;
}

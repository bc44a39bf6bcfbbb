/* SPDX-License-Identifier: MIT */
/*
 * nest-fds.h - one message per SEQPACKET datagram, with its fds in SCM_RIGHTS.
 */
#ifndef NEST_FDS_H
#define NEST_FDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "nest-proto.h"

/*
 * nest_fds_send() - send @len bytes and @nfds fds (<= NEST_FDS_PER_MSG_MAX) as one datagram.
 * The caller keeps ownership of @fds. MSG_NOSIGNAL is always used; @flags may add MSG_DONTWAIT.
 * Returns 0, -EAGAIN (would block), or another -errno (-EMSGSIZE, -EPIPE, ...).
 */
int nest_fds_send(int sock, const void *buf, size_t len, const int *fds, unsigned nfds, int flags);

/*
 * nest_fds_recv() - receive one datagram into @buf (@cap bytes) and up to @max_fds fds.
 * Always MSG_CMSG_CLOEXEC. The received fds are owned by the caller (set in @fds, count in
 * @ret_nfds, unused slots -1). A truncated datagram (MSG_TRUNC) or truncated control data
 * (MSG_CTRUNC, e.g. more fds than @max_fds) is -EPROTO, and every fd that did arrive has been
 * closed. Returns the datagram length (> 0), 0 on orderly EOF, -EAGAIN, or -errno.
 */
ssize_t nest_fds_recv(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
		      unsigned *ret_nfds, int flags);

/*
 * nest_fds_recv_short() - nest_fds_recv(), except for control data truncated while the receiver
 * itself had no free fd slot (EMFILE / ENFILE: the kernel could not install the fds, not the
 * sender's fault): then the whole datagram is returned with no fds (every fd that did arrive
 * closed) and *@ret_fd_short set, so the receiver can refuse that one request and go on. In
 * every other case *@ret_fd_short is false and the result is nest_fds_recv()'s.
 */
ssize_t nest_fds_recv_short(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
			    unsigned *ret_nfds, int flags, bool *ret_fd_short);

/* Most datagrams one nest_fds_recv_burst() call takes. */
#define NEST_RX_BURST_MAX 16u

/* Room for the fds plus one SCM_CREDENTIALS header, in case the socket has SO_PASSCRED. */
#define NEST_FDS_CMSG_SPACE                                                                        \
	(CMSG_SPACE(sizeof(int) * NEST_FDS_PER_MSG_MAX) + CMSG_SPACE(sizeof(struct ucred)))

/* One datagram of a burst, as received. */
struct nest_rx {
	uint8_t *buf;
	ssize_t len;		       /* nest_fds_recv()'s result for this datagram */
	int fds[NEST_FDS_PER_MSG_MAX]; /* owned by the caller, unused slots -1 */
	unsigned nfds;
	bool fd_short; /* nest_fds_recv_short()'s case: no fds, nestd was short of fd slots */
};

/* Everything recvmmsg(2) needs, set up once (nest_rx_burst_init()) and reused for every call. */
struct nest_rx_burst {
	struct nest_rx rx[NEST_RX_BURST_MAX];
	struct mmsghdr mm[NEST_RX_BURST_MAX];
	struct iovec iov[NEST_RX_BURST_MAX];
	union {
		struct cmsghdr align;
		char buf[NEST_FDS_CMSG_SPACE];
	} ctl[NEST_RX_BURST_MAX];
};

/* Slot i receives into @bufs + i * @each. */
void nest_rx_burst_init(struct nest_rx_burst *b, uint8_t *bufs, size_t each);

/*
 * nest_fds_recv_burst() - up to @n (<= NEST_RX_BURST_MAX) datagrams of at most @cap bytes in one
 * recvmmsg(2), each checked like nest_fds_recv() (rx[i].len: length, 0 for EOF, -EPROTO for a
 * truncated datagram whose fds were closed; rx[i].fd_short as nest_fds_recv_short()). Returns how many slots were filled (>= 1; fewer
 * than @n means the socket had no more at that moment, so no further read is needed), -EAGAIN
 * when nothing was there, -EINTR (a signal; not retried, so that a blocking MSG_WAITFORONE read
 * can be interrupted), or -errno. A slot with len <= 0 ends the stream: the caller stops
 * there and closes the fds of the slots after it.
 */
int nest_fds_recv_burst(int sock, struct nest_rx_burst *b, unsigned n, size_t cap, unsigned max_fds,
			int flags);

/* Close @n fds in @fds that are >= 0 and set them to -1. */
void nest_fds_close(int *fds, unsigned n);

#endif /* NEST_FDS_H */

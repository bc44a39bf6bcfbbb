/* SPDX-License-Identifier: MIT */
/*
 * nest-fds.h - one message per SEQPACKET datagram, with its fds in SCM_RIGHTS.
 */
#ifndef NEST_FDS_H
#define NEST_FDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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

/* Close @n fds in @fds that are >= 0 and set them to -1. */
void nest_fds_close(int *fds, unsigned n);

#endif /* NEST_FDS_H */

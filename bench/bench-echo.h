/* SPDX-License-Identifier: MIT */
/*
 * bench-echo.h - the raw floor every nestd figure is divided by: a forked child accepting AF_UNIX
 * SOCK_SEQPACKET connections on a listening socket and serving them one at a time with blocking
 * recv() and send(). For every datagram it receives it sends back as many bytes as the
 * datagram's first 32-bit word says, so a request and its answer have exactly the sizes of the
 * nestd request and reply they stand for.
 * Echoing the whole request would double the copies of a 40 KiB batch and flatter nestd, whose
 * reply is 32 bytes whatever the batch size. A caller keeps at most one connection open at a
 * time: the child serves the next one only when the previous one is closed.
 *
 * BENCH_ECHO_LOOP serves the same answers the way an event-driven server must: epoll_wait(), then
 * a non-blocking recvmsg() with room for passed fds, then sendmsg(). It is the floor of the
 * design, not of the socket: the least a daemon that waits on many sockets at once (nestd) pays
 * per blocking round trip, so nestd / loop echo is nestd's own cost and loop echo / echo what
 * waiting in epoll costs.
 */
#ifndef NEST_BENCH_ECHO_H
#define NEST_BENCH_ECHO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench-util.h"

#define BENCH_ECHO_BUF (64u * 1024) /* largest datagram, NEST_MSG_SIZE_DEFAULT */

enum bench_echo_mode {
	BENCH_ECHO_BLOCKING, /* recv(), send() */
	BENCH_ECHO_LOOP,     /* epoll_wait(), recvmsg(MSG_DONTWAIT) with fd room, sendmsg() */
};

struct bench_echo {
	pid_t pid;
	char path[108]; /* the listening socket */
	uint8_t *msg;	/* request buffer, BENCH_ECHO_BUF bytes */
};

/* Fork the child listening on @path (a fresh name in a private directory). */
int bench_echo_start(struct bench_echo *e, const char *path, enum bench_echo_mode mode);

/*
 * bench_echo_start() of a blocking echo on @dir/echo.sock, then bench_echo_connect(): the
 * connection, or -errno. (A second echo must be started before the first is connected: each
 * child keeps the fds it inherited, and an echo serves its next connection only when the client
 * end of the last one is closed everywhere.)
 */
int bench_echo_open(struct bench_echo *e, const char *dir);

/* A new connection to the child: an fd (caller closes it), or -errno. */
int bench_echo_connect(const struct bench_echo *e);

/* One round trip on @fd: @req_len bytes out, @reply_len (>= 4) back. 0 or -errno. */
int bench_echo_call(struct bench_echo *e, int fd, size_t req_len, uint32_t reply_len);

/* Round trips on @fd for @window seconds with @depth of them in flight. */
int bench_echo_run(struct bench_echo *e, int fd, size_t req_len, uint32_t reply_len, unsigned depth,
		   double window, struct bench_sample *ret);

/* Ask the child to exit (a request for 0 bytes) and reap it; -EIO if it did not exit 0. Accepts a stopped echo. */
int bench_echo_stop(struct bench_echo *e);

#endif /* NEST_BENCH_ECHO_H */

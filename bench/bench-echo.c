/* SPDX-License-Identifier: MIT */
/* bench-echo.c - the raw SOCK_SEQPACKET round trip, see bench-echo.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-echo.h"

/* The answer to a request of @n bytes in @buf: its length, 0 to exit, -1 when broken. */
static ssize_t bench_echo_reply_len(const uint8_t *buf, ssize_t n)
{
	uint32_t reply;

	if (n < (ssize_t)sizeof(reply))
		return -1;
	memcpy(&reply, buf, sizeof(reply));
	if (reply == 0)
		return 0;
	return reply < sizeof(reply) || reply > BENCH_ECHO_BUF ? -1 : (ssize_t)reply;
}

/*
 * Serve @fd until the peer closes it (0), a request asks the child to exit (1), or a request is
 * broken (-1). Blocking recv() and send(): two system calls per round trip, the least a server can
 * do, so the floor is as low as a SEQPACKET round trip gets.
 */
static int bench_echo_serve(int fd, uint8_t *buf)
{
	for (;;) {
		ssize_t n = recv(fd, buf, BENCH_ECHO_BUF, 0), reply;

		if (n <= 0)
			return 0; /* EOF, or a reset peer: the connection is over either way */
		reply = bench_echo_reply_len(buf, n);
		if (reply <= 0)
			return reply == 0 ? 1 : -1;
		if (send(fd, buf, (size_t)reply, MSG_NOSIGNAL) != reply)
			return -1;
	}
}

/*
 * bench_echo_serve() as an event-driven server has to do it: the socket non-blocking in an epoll
 * set, epoll_wait() until it is readable, recvmsg() with room for passed fds (as any server that
 * takes fds must offer), sendmsg(): three system calls per round trip and no read that finds
 * nothing, which is what nestd does for a blocking client (bench-echo.h).
 */
static int bench_echo_serve_loop(int fd, uint8_t *buf)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct epoll_event ev = {.events = EPOLLIN};
	int ep = epoll_create1(EPOLL_CLOEXEC), r = -1;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto out;
	for (;;) {
		struct iovec iov = {.iov_base = buf, .iov_len = BENCH_ECHO_BUF};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		ssize_t n, reply;

		if (epoll_wait(ep, &ev, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			r = 0;
			goto out;
		}
		reply = bench_echo_reply_len(buf, n);
		if (reply <= 0) {
			r = reply == 0 ? 1 : -1;
			goto out;
		}
		iov.iov_len = (size_t)reply;
		mh = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1};
		if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != reply)
			goto out;
	}
out:
	if (ep >= 0)
		close(ep);
	return r;
}

/* One connection at a time, as the bench uses them; a request for 0 bytes ends the child. */
static void bench_echo_child(int lfd, enum bench_echo_mode mode)
{
	uint8_t *buf = malloc(BENCH_ECHO_BUF);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!buf)
		_exit(1);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), r;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		r = mode == BENCH_ECHO_LOOP ? bench_echo_serve_loop(fd, buf)
					    : bench_echo_serve(fd, buf);
		close(fd);
		if (r != 0)
			_exit(r > 0 ? 0 : 1);
	}
}

static int bench_echo_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int bench_echo_start(struct bench_echo *e, const char *path, enum bench_echo_mode mode)
{
	struct sockaddr_un sa;
	int lfd, r;

	*e = (struct bench_echo){0};
	if ((r = bench_echo_addr(path, &sa)) < 0)
		return bench_fail(NULL, path, r);
	strcpy(e->path, path);
	e->msg = calloc(1, BENCH_ECHO_BUF);
	if (!e->msg)
		return bench_fail(NULL, "echo buffer", -ENOMEM);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return bench_fail(NULL, "echo socket", -errno);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0) {
		r = -errno;
		close(lfd);
		return bench_fail(NULL, path, r);
	}
	fflush(NULL);
	e->pid = fork();
	if (e->pid < 0) {
		r = -errno;
		close(lfd);
		return bench_fail(NULL, "fork", r);
	}
	if (e->pid == 0)
		bench_echo_child(lfd, mode);
	close(lfd);
	return 0;
}

int bench_echo_connect(const struct bench_echo *e)
{
	struct sockaddr_un sa;
	int fd, r;

	if ((r = bench_echo_addr(e->path, &sa)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int bench_echo_open(struct bench_echo *e, const char *dir)
{
	char path[128];
	int r, fd;

	snprintf(path, sizeof(path), "%s/echo.sock", dir);
	if ((r = bench_echo_start(e, path, BENCH_ECHO_BLOCKING)) < 0)
		return r;
	if ((fd = bench_echo_connect(e)) < 0)
		return bench_fail(NULL, "connect to echo", fd);
	return fd;
}

static int bench_echo_send(struct bench_echo *e, int fd, size_t req_len)
{
	if (send(fd, e->msg, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
		return bench_fail(NULL, "echo send", -errno);
	return 0;
}

static int bench_echo_recv(int fd, uint32_t reply_len)
{
	uint8_t rbuf[1024];
	ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);

	if (n != (ssize_t)reply_len)
		return bench_fail(NULL, "echo recv", n < 0 ? -errno : -EIO);
	return 0;
}

static void bench_echo_fill(struct bench_echo *e, size_t req_len, uint32_t reply_len)
{
	memset(e->msg, 0xa5, req_len);
	memcpy(e->msg, &reply_len, sizeof(reply_len));
}

int bench_echo_call(struct bench_echo *e, int fd, size_t req_len, uint32_t reply_len)
{
	int r;

	if (req_len < sizeof(reply_len) || req_len > BENCH_ECHO_BUF || reply_len > 1024)
		return bench_fail(NULL, "echo call", -EINVAL);
	bench_echo_fill(e, req_len, reply_len);
	if ((r = bench_echo_send(e, fd, req_len)) < 0)
		return r;
	return bench_echo_recv(fd, reply_len);
}

int bench_echo_run(struct bench_echo *e, int fd, size_t req_len, uint32_t reply_len, unsigned depth,
		   double window, struct bench_sample *ret)
{
	double t0 = bench_now(), end = t0 + window;
	uint64_t sent = 0, got = 0;
	int r;

	if (req_len < sizeof(reply_len) || req_len > BENCH_ECHO_BUF || reply_len > 1024)
		return bench_fail(NULL, "echo run", -EINVAL);
	bench_echo_fill(e, req_len, reply_len);
	for (; sent < depth; sent++)
		if ((r = bench_echo_send(e, fd, req_len)) < 0)
			return r;
	while (got < sent) {
		if ((r = bench_echo_recv(fd, reply_len)) < 0)
			return r;
		got++;
		if (bench_now() < end) {
			if ((r = bench_echo_send(e, fd, req_len)) < 0)
				return r;
			sent++;
		}
	}
	ret->ops = got;
	ret->sec = bench_now() - t0;
	return 0;
}

int bench_echo_stop(struct bench_echo *e)
{
	uint32_t quit = 0;
	int st, r = 0, fd;

	if (e->pid > 0) {
		fd = bench_echo_connect(e);
		if (fd < 0 || send(fd, &quit, sizeof(quit), MSG_NOSIGNAL) != sizeof(quit)) {
			r = bench_fail(NULL, "stop echo", fd < 0 ? fd : -errno);
			kill(e->pid, SIGKILL);
		}
		if (fd >= 0)
			close(fd);
		if (waitpid(e->pid, &st, 0) < 0)
			r = bench_fail(NULL, "waitpid echo", -errno);
		else if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			r = bench_fail(NULL, "echo child failed", -EIO);
		e->pid = 0;
	}
	if (e->path[0])
		unlink(e->path);
	e->path[0] = '\0';
	free(e->msg);
	e->msg = NULL;
	return r;
}

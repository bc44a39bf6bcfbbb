/* SPDX-License-Identifier: MIT */
/*
 * syscount.c - an LD_PRELOAD shim counting a process's socket I/O calls, for the tests that
 * check how many system calls a request costs (test-syscalls.c; linked into that test too, to
 * count libnest's calls in process). The counts are written to
 * $NEST_SYSCOUNT_OUT as "name calls empty" lines when the process exits normally; "empty"
 * counts reads that found nothing (EAGAIN). Not installed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

enum { SC_RECVMSG, SC_RECVMMSG, SC_SENDMSG, SC_SENDMMSG, SC_EPOLL_WAIT, SC_POLL, SC_N };

static const char *const sc_names[SC_N] = {"recvmsg",  "recvmmsg",   "sendmsg",
					   "sendmmsg", "epoll_wait", "poll"};
static unsigned long sc_calls[SC_N], sc_empty[SC_N];

static void *sc_next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f)
		abort();
	return f;
}

static long sc_count(int which, long r)
{
	__atomic_fetch_add(&sc_calls[which], 1, __ATOMIC_RELAXED);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		__atomic_fetch_add(&sc_empty[which], 1, __ATOMIC_RELAXED);
	return r;
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	static ssize_t (*next)(int, struct msghdr *, int);

	if (!next)
		next = sc_next("recvmsg");
	return sc_count(SC_RECVMSG, next(fd, m, flags));
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t)
{
	static int (*next)(int, struct mmsghdr *, unsigned, int, struct timespec *);

	if (!next)
		next = sc_next("recvmmsg");
	return (int)sc_count(SC_RECVMMSG, next(fd, v, n, flags, t));
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	static ssize_t (*next)(int, const struct msghdr *, int);

	if (!next)
		next = sc_next("sendmsg");
	return sc_count(SC_SENDMSG, next(fd, m, flags));
}

int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	static int (*next)(int, struct mmsghdr *, unsigned, int);

	if (!next)
		next = sc_next("sendmmsg");
	return (int)sc_count(SC_SENDMMSG, next(fd, v, n, flags));
}

int epoll_wait(int fd, struct epoll_event *ev, int n, int timeout)
{
	static int (*next)(int, struct epoll_event *, int, int);

	if (!next)
		next = sc_next("epoll_wait");
	return (int)sc_count(SC_EPOLL_WAIT, next(fd, ev, n, timeout));
}

int poll(struct pollfd *p, nfds_t n, int timeout)
{
	static int (*next)(struct pollfd *, nfds_t, int);

	if (!next)
		next = sc_next("poll");
	return (int)sc_count(SC_POLL, next(p, n, timeout));
}

/* For a test that links this file in: the counts so far (arrays of 6, in sc_names order). */
void nest_syscount_snapshot(unsigned long *calls, unsigned long *empty);
void nest_syscount_snapshot(unsigned long *calls, unsigned long *empty)
{
	for (int i = 0; i < SC_N; i++) {
		calls[i] = __atomic_load_n(&sc_calls[i], __ATOMIC_RELAXED);
		empty[i] = __atomic_load_n(&sc_empty[i], __ATOMIC_RELAXED);
	}
}

__attribute__((destructor)) static void sc_report(void)
{
	const char *path = getenv("NEST_SYSCOUNT_OUT");
	FILE *f = path ? fopen(path, "we") : NULL;

	if (!f)
		return;
	for (int i = 0; i < SC_N; i++)
		fprintf(f, "%s %lu %lu\n", sc_names[i], sc_calls[i], sc_empty[i]);
	fclose(f);
}

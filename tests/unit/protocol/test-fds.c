/* SPDX-License-Identifier: MIT */
/*
 * test-fds.c - SCM_RIGHTS over a real SOCK_SEQPACKET socketpair: identity of the passed files,
 * CLOEXEC, and that nothing leaks when a message is truncated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nest-fds.h"
#include "nest-proto.h"
#include "nest-test.h"

static void make_pair(int sv[2])
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* @n distinct files to pass: pipes' read ends and /dev/null. */
static void open_files(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		fds[i] = open(i % 2 ? "/dev/null" : "/proc/self/stat", O_RDONLY | O_CLOEXEC);
		cr_assert_geq(fds[i], 0);
	}
}

static void same_file(int a, int b)
{
	struct stat sa, sb;

	cr_assert_eq(fstat(a, &sa), 0);
	cr_assert_eq(fstat(b, &sb), 0);
	cr_expect_eq(sa.st_ino, sb.st_ino);
	cr_expect_eq(sa.st_dev, sb.st_dev);
	cr_expect_neq(a, b);
}

Test(fds, pass_one_to_four)
{
	int sv[2];

	make_pair(sv);
	for (unsigned n = 0; n <= NEST_FDS_PER_MSG_MAX; n++) {
		int out[NEST_FDS_PER_MSG_MAX], in[NEST_FDS_PER_MSG_MAX];
		char buf[64], msg[] = "hello";
		unsigned got = 99;
		ssize_t r;

		open_files(out, n);
		cr_assert_eq(nest_fds_send(sv[0], msg, sizeof(msg), out, n, 0), 0);
		r = nest_fds_recv(sv[1], buf, sizeof(buf), in, NEST_FDS_PER_MSG_MAX, &got, 0);
		cr_assert_eq(r, (ssize_t)sizeof(msg));
		cr_expect_str_eq(buf, "hello");
		cr_assert_eq(got, n);
		for (unsigned i = 0; i < n; i++) {
			same_file(out[i], in[i]);
			cr_expect(fcntl(in[i], F_GETFD) & FD_CLOEXEC, "fd %u without CLOEXEC", i);
		}
		for (unsigned i = n; i < NEST_FDS_PER_MSG_MAX; i++)
			cr_expect_eq(in[i], -1, "unused slot %u", i);
		nest_fds_close(in, NEST_FDS_PER_MSG_MAX);
		nest_fds_close(out, n);
		for (unsigned i = 0; i < NEST_FDS_PER_MSG_MAX; i++)
			cr_expect_eq(in[i], -1);
	}
	close(sv[0]);
	close(sv[1]);
	NO_LEAKS();
}

Test(fds, truncated_datagram_closes_fds)
{
	int sv[2], out[3], in[4];
	char big[512] = {0}, small[64];
	unsigned got = 99;
	int before;

	make_pair(sv);
	open_files(out, 3);
	cr_assert_eq(nest_fds_send(sv[0], big, sizeof(big), out, 3, 0), 0);
	nest_fds_close(out, 3);
	before = nest_test_count_fds();
	cr_expect_eq(nest_fds_recv(sv[1], small, sizeof(small), in, 4, &got, 0), -EPROTO);
	cr_expect_eq(got, 99, "ret_nfds written on failure");
	cr_expect_eq(nest_test_count_fds(), before, "received fds leaked");
	for (unsigned i = 0; i < 4; i++)
		cr_expect_eq(in[i], -1);
	close(sv[0]);
	close(sv[1]);
	NO_LEAKS();
}

Test(fds, more_fds_than_allowed_are_all_closed)
{
	for (unsigned max = 0; max < NEST_FDS_PER_MSG_MAX; max++) {
		int sv[2], out[NEST_FDS_PER_MSG_MAX], in[NEST_FDS_PER_MSG_MAX];
		char buf[64];
		unsigned got = 99;
		int before;

		make_pair(sv);
		open_files(out, max + 1);
		cr_assert_eq(nest_fds_send(sv[0], "x", 1, out, max + 1, 0), 0);
		nest_fds_close(out, max + 1);
		before = nest_test_count_fds();
		cr_expect_eq(nest_fds_recv(sv[1], buf, sizeof(buf), in, max, &got, 0), -EPROTO,
			     "max %u", max);
		cr_expect_eq(nest_test_count_fds(), before, "max %u: fds leaked", max);
		close(sv[0]);
		close(sv[1]);
	}
	NO_LEAKS();
}

Test(fds, eof_eagain_epipe)
{
	int sv[2], in[4];
	char buf[16];
	unsigned got = 99;

	make_pair(sv);
	cr_expect_eq(nest_fds_recv(sv[1], buf, sizeof(buf), in, 4, &got, MSG_DONTWAIT), -EAGAIN);
	close(sv[0]);
	cr_expect_eq(nest_fds_recv(sv[1], buf, sizeof(buf), in, 4, &got, 0), 0);
	cr_expect_eq(got, 99);
	/* MSG_NOSIGNAL: a closed peer is -EPIPE, not SIGPIPE */
	cr_expect_eq(nest_fds_send(sv[1], "x", 1, NULL, 0, 0), -EPIPE);
	close(sv[1]);
	NO_LEAKS();
}

Test(fds, send_arguments)
{
	int sv[2], fds[NEST_FDS_PER_MSG_MAX + 1] = {0};

	make_pair(sv);
	cr_expect_eq(nest_fds_send(sv[0], "x", 1, fds, NEST_FDS_PER_MSG_MAX + 1, 0), -EINVAL);
	cr_expect_eq(nest_fds_send(sv[0], "x", 1, NULL, 1, 0), -EINVAL);
	fds[0] = 12345; /* not an open fd */
	cr_expect_eq(nest_fds_send(sv[0], "x", 1, fds, 1, 0), -EBADF);
	close(sv[0]);
	close(sv[1]);
	NO_LEAKS();
}

Test(fds, nonblocking_send_fills_up)
{
	int sv[2], r = 0;
	char *buf = calloc(1, 4096);
	unsigned i;

	cr_assert_not_null(buf);
	make_pair(sv);
	for (i = 0; i < 100000 && r == 0; i++)
		r = nest_fds_send(sv[0], buf, 4096, NULL, 0, MSG_DONTWAIT);
	cr_expect_eq(r, -EAGAIN);
	free(buf);
	close(sv[0]);
	close(sv[1]);
	NO_LEAKS();
}

/* Two SCM_RIGHTS headers on one sendmsg(): every fd must be collected (or closed). */
static void send_two_cmsgs(int sock, const int *a, unsigned na, const int *b, unsigned nb)
{
	union {
		struct cmsghdr align;
		char buf[2 * CMSG_SPACE(sizeof(int) * NEST_FDS_PER_MSG_MAX)];
	} ctl;
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf};
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * na) + CMSG_SPACE(sizeof(int) * nb);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * na);
	memcpy(CMSG_DATA(c), a, sizeof(int) * na);
	c = CMSG_NXTHDR(&mh, c);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nb);
	memcpy(CMSG_DATA(c), b, sizeof(int) * nb);
	cr_assert_eq(sendmsg(sock, &mh, MSG_NOSIGNAL), 1);
}

Test(fds, several_rights_headers)
{
	int sv[2], a[2], b[2], in[4];
	char buf[8];
	unsigned got = 0;
	int before;

	make_pair(sv);
	open_files(a, 2);
	open_files(b, 2);
	send_two_cmsgs(sv[0], a, 2, b, 2);
	cr_assert_eq(nest_fds_recv(sv[1], buf, sizeof(buf), in, 4, &got, 0), 1);
	cr_assert_eq(got, 4);
	same_file(a[0], in[0]);
	same_file(a[1], in[1]);
	same_file(b[0], in[2]);
	same_file(b[1], in[3]);
	nest_fds_close(in, 4);

	/* the same, but the receiver accepts only 3: all 4 closed */
	send_two_cmsgs(sv[0], a, 2, b, 2);
	before = nest_test_count_fds();
	cr_expect_eq(nest_fds_recv(sv[1], buf, sizeof(buf), in, 3, &got, 0), -EPROTO);
	cr_expect_eq(nest_test_count_fds(), before);
	nest_fds_close(a, 2);
	nest_fds_close(b, 2);
	close(sv[0]);
	close(sv[1]);
	NO_LEAKS();
}

Test(fds, passcred_does_not_eat_fd_space)
{
	int sv[2], out[4], in[4], one = 1;
	char buf[8];
	unsigned got = 0;

	make_pair(sv);
	cr_assert_eq(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	open_files(out, 4);
	cr_assert_eq(nest_fds_send(sv[0], "y", 1, out, 4, 0), 0);
	cr_assert_eq(nest_fds_recv(sv[1], buf, sizeof(buf), in, 4, &got, 0), 1);
	cr_expect_eq(got, 4);
	for (unsigned i = 0; i < got; i++)
		same_file(out[i], in[i]);
	nest_fds_close(in, 4);
	nest_fds_close(out, 4);
	close(sv[0]);
	close(sv[1]);
	NO_LEAKS();
}

Test(fds, fds_on_an_empty_datagram_are_closed)
{
	int sv[2], out[2], in[4];
	char buf[8];
	unsigned got = 99;
	int before;

	make_pair(sv);
	open_files(out, 2);
	cr_assert_eq(nest_fds_send(sv[0], "", 0, out, 2, 0), 0);
	nest_fds_close(out, 2);
	before = nest_test_count_fds();
	cr_expect_eq(nest_fds_recv(sv[1], buf, sizeof(buf), in, 4, &got, 0), 0);
	cr_expect_eq(nest_test_count_fds(), before);
	cr_expect_eq(got, 99);
	close(sv[0]);
	close(sv[1]);
	NO_LEAKS();
}

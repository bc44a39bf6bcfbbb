/* SPDX-License-Identifier: MIT */
/* bench-raw.c - the pipelined raw-protocol client of bench-raw.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <nest/libnest.h>

#include "bench-raw.h"

#define RAW_BUF	   4096u
#define RAW_ID_TOP 0x80000000u /* ids libnest does not use while nothing of its is in flight */

static int raw_send(int fd, uint8_t *msg, size_t len, uint32_t id)
{
	struct nest_msg_hdr h;

	memcpy(&h, msg, sizeof(h));
	h.id = id;
	memcpy(msg, &h, sizeof(h));
	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return bench_fail(NULL, "raw send", -errno);
	return 0;
}

static int raw_recv(int fd, uint16_t op, int check_done)
{
	uint8_t buf[256];
	struct nest_msg_hdr h;
	struct nest_invalidate_reply out;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	if (n < (ssize_t)sizeof(h))
		return bench_fail(NULL, "raw recv", n < 0 ? -errno : -EPROTO);
	memcpy(&h, buf, sizeof(h));
	if (h.op != op || !(h.flags & NEST_MSG_F_REPLY) || (h.flags & NEST_MSG_F_ERROR))
		return bench_fail(NULL, "raw reply", h.error ? -h.error : -EPROTO);
	if (!check_done)
		return 0;
	if ((size_t)n < sizeof(h) + sizeof(out))
		return bench_fail(NULL, "raw reply body", -EPROTO);
	memcpy(&out, buf + sizeof(h), sizeof(out));
	return out.done == 1 ? 0 : bench_fail(NULL, "raw reply: entry not done", -EIO);
}

int bench_raw_run(int fd, uint16_t op, const void *body, size_t len, unsigned depth, int check_done,
		  double window, struct bench_sample *ret)
{
	uint8_t msg[RAW_BUF];
	struct nest_msg_hdr h = {
		.size = (uint32_t)(sizeof(h) + len), .op = op, .flags = NEST_MSG_F_REQUEST};
	double t0 = bench_now(), end = t0 + window;
	uint64_t sent = 0, got = 0;
	int r;

	if (sizeof(h) + len > sizeof(msg))
		return bench_fail(NULL, "raw request too large", -EINVAL);
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), body, len);
	for (; sent < depth; sent++)
		if ((r = raw_send(fd, msg, h.size, RAW_ID_TOP | (uint32_t)sent)) < 0)
			return r;
	while (got < sent) {
		if ((r = raw_recv(fd, op, check_done)) < 0)
			return r;
		got++;
		if (bench_now() < end) {
			if ((r = raw_send(fd, msg, h.size,
					  RAW_ID_TOP | (uint32_t)(sent % 0x7fffffff))) < 0)
				return r;
			sent++;
		}
	}
	ret->ops = got;
	ret->sec = bench_now() - t0;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * txbatch.c - messages of one receive burst, sent with one sendmmsg(2).
 *
 * A pipelining client sends several requests that arrive in one recvmmsg(2); their replies
 * (and any event the requests raise) are collected here in order and leave in one system call
 * instead of one sendmsg(2) each. A blocking client's single reply costs the same one call.
 * Messages that carry an fd or do not fit the arena are not batched (conn.c sends the batch
 * first, keeping the order).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txbatch.h"

int txbatch_init(struct txbatch *b)
{
	*b = (struct txbatch){0};
	b->arena = malloc(TXBATCH_BYTES);
	return b->arena ? 0 : -ENOMEM;
}

void txbatch_fini(struct txbatch *b)
{
	free(b->arena);
	b->arena = NULL;
}

bool txbatch_add(struct txbatch *b, const void *msg, size_t len, bool is_reply)
{
	if (b->n >= TXBATCH_MSGS || len > TXBATCH_BYTES - b->used)
		return false;
	memcpy(b->arena + b->used, msg, len);
	b->iov[b->n] = (struct iovec){.iov_base = b->arena + b->used, .iov_len = len};
	b->mm[b->n] = (struct mmsghdr){.msg_hdr = {.msg_iov = &b->iov[b->n], .msg_iovlen = 1}};
	b->is_reply[b->n] = is_reply;
	b->used += len;
	b->n++;
	return true;
}

int txbatch_send(struct txbatch *b, int fd)
{
	int r;

	if (b->n == 0)
		return 0;
	do
		r = sendmmsg(fd, b->mm, b->n, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

const void *txbatch_msg(const struct txbatch *b, unsigned i, size_t *ret_len, bool *ret_is_reply)
{
	*ret_len = b->iov[i].iov_len;
	*ret_is_reply = b->is_reply[i];
	return b->iov[i].iov_base;
}

void txbatch_clear(struct txbatch *b)
{
	b->n = 0;
	b->used = 0;
}

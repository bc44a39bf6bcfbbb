/* SPDX-License-Identifier: MIT */
/*
 * txbatch.h - the messages one connection's receive burst produces (replies, events), sent
 * together with one sendmmsg(2) when the burst has been handled (conn.c).
 */
#ifndef NESTD_TXBATCH_H
#define NESTD_TXBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TXBATCH_MSGS  32u	  /* messages per batch */
#define TXBATCH_BYTES (64u << 10) /* their bytes; a larger message is sent on its own */

struct conn;

struct txbatch {
	struct conn *owner; /* the connection whose burst is being handled, or NULL */
	uint8_t *arena;	    /* TXBATCH_BYTES */
	size_t used;
	unsigned n;
	struct iovec iov[TXBATCH_MSGS];
	struct mmsghdr mm[TXBATCH_MSGS];
	bool is_reply[TXBATCH_MSGS];
};

int txbatch_init(struct txbatch *b);
void txbatch_fini(struct txbatch *b);
/* Copy one encoded message in; false if it does not fit (send the batch first, or send alone). */
bool txbatch_add(struct txbatch *b, const void *msg, size_t len, bool is_reply);
/*
 * Send the batch on @fd without blocking: returns how many leading messages went out (all of
 * them, or fewer when the socket filled up), or -errno when not even the first could be sent
 * (-EAGAIN: socket full). The messages stay readable (txbatch_msg()) until txbatch_clear().
 */
int txbatch_send(struct txbatch *b, int fd);
const void *txbatch_msg(const struct txbatch *b, unsigned i, size_t *ret_len, bool *ret_is_reply);
void txbatch_clear(struct txbatch *b);

#endif /* NESTD_TXBATCH_H */

/* SPDX-License-Identifier: MIT */
/*
 * client-internal.h - the nest_client object shared by the files of libnest.
 */
#ifndef NEST_CLIENT_INTERNAL_H
#define NEST_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libnest.h"
#include "nest-caps.h"
#include "nest-msg.h"

/* Symbols of the public API; everything else stays hidden (C_VISIBILITY_PRESET + libnest.sym). */
#define NEST_PUBLIC __attribute__((visibility("default")))

/* Largest fixed reply struct we decode (struct nest_vm_info is 88 bytes). */
#define CLIENT_FIXED_MAX      128
/* Messages handled per nest_client_process() call, so a flood cannot starve the caller. */
#define CLIENT_PROCESS_BUDGET 1024

/*
 * A request's id carries its pending slot in the low bits, so that a reply finds its request
 * without a search (max_inflight can be 1,024); the rest is a sequence number (from 1, so no id
 * is 0), which a stale or forged id is unlikely to match.
 */
#define CLIENT_SLOT_BITS 10
#define CLIENT_SEQ_MAX	 ((1u << (32 - CLIENT_SLOT_BITS)) - 1)
_Static_assert(NEST_INFLIGHT_MAX <= 1u << CLIENT_SLOT_BITS, "slot index must fit in an id");

struct client_pending {
	uint32_t id; /* 0: free slot */
	uint16_t op;
	bool fds; /* its reply may carry fds */
	nest_reply_cb cb;
	void *opaque;
};

struct nest_client {
	int fd;
	bool admin;
	int dead;	       /* 0, or the -errno that killed the connection */
	int timeout_ms;	       /* of blocking steps, -1: none (nest_client_set_timeout()) */
	uint32_t next_seq;     /* request ids: next_seq << CLIENT_SLOT_BITS | pending slot */
	struct nest_caps caps; /* negotiated; before HELLO our own announcement */
	uint16_t peer_major;
	uint16_t peer_minor;
	struct client_pending *pending;
	unsigned pending_cap; /* == effective max_inflight */
	unsigned *free_slots; /* indexes of the free pending slots (a stack), pending_cap of room */
	unsigned n_free;
	unsigned inflight_fds; /* requests in flight whose reply may carry fds */
	unsigned inflight;
	uint8_t *rxbuf;
	uint8_t *txbuf;
	uint8_t *scratch; /* request bodies built before encoding (invalidate.c), bufsize bytes */
	size_t bufsize;
	struct client_rx *rx; /* receive burst (rx.c), allocated on first use; NULL until then */
	struct client_tx *tx; /* requests queued while corked (tx.c), allocated on first use */
	bool corked;
	nest_event_cb ev_cb;
	void *ev_opaque;
	nest_log_cb log_cb;
	void *log_opaque;
	uint64_t events_dropped;
	char err[256];
};

/* Result of a blocking call, filled by client_sync_cb(). */
struct client_sync {
	bool done;
	int error;
	uint8_t fixed[CLIENT_FIXED_MAX];
	size_t fixed_len;
	void *tail_dst; /* copy the tail here (tail_cap bytes max) ... */
	size_t tail_cap;
	bool tail_alloc; /* ... or into a new malloc()ed buffer (tail_buf) */
	char *tail_buf;
	size_t tail_len;
	int fd; /* first received fd, -1 if none; owned by the caller of client_call() */
};

void client_set_error(nest_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void client_clear_error(nest_client *c);
void client_log_(nest_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A debug message to the VMM's log callback; without one its arguments are not even evaluated. */
#define client_log(c, ...)                                                                         \
	do {                                                                                       \
		if ((c)->log_cb)                                                                   \
			client_log_((c), __VA_ARGS__);                                             \
	} while (0)

/*
 * Handle one received datagram in @buf. Takes ownership of @fds. @fds_dropped: it came with fds
 * the kernel closed (received without a control buffer): a reply is refused as one carrying fds
 * it cannot. Returns 0 or -errno (dead).
 */
int client_dispatch(nest_client *c, const uint8_t *buf, size_t len, int *fds, unsigned nfds,
		    bool fds_dropped);

/*
 * Receive bursts (rx.c): up to NEST_RX_BURST_MAX datagrams per recvmmsg(2). client_rx_recv()
 * reads one burst (@flags: MSG_DONTWAIT, or MSG_WAITFORONE to block for the first one) and
 * returns how many arrived, 0 when none (EAGAIN: SO_RCVTIMEO, or a non-blocking socket), -EINTR,
 * -ENOMEM when the burst buffers cannot be allocated (nothing was read), or the -errno that
 * killed the connection. client_rx_next() dispatches the oldest datagram received and not yet
 * dispatched: 1, 0 when there is none, or -errno. client_rx_pending() says whether there is one.
 * client_rx_discard() closes the fds of those never dispatched; client_rx_free() frees it all.
 */
int client_rx_recv(nest_client *c, int flags);
int client_rx_next(nest_client *c);
bool client_rx_pending(const nest_client *c);
void client_rx_discard(nest_client *c);
void client_rx_free(nest_client *c);

/*
 * The cork (tx.c). client_tx_slot(): where to encode the next request, queued, when corked and
 * the queue can take it (a full queue is sent first), else NULL (send it at once);
 * client_tx_queued(): the request encoded there (@len bytes) is queued. client_tx_flush(): send
 * what is queued; 0, or the -errno that killed the handle. client_tx_drop(): forget the queue
 * (the handle died). client_tx_free(): free it all.
 */
#define CLIENT_TX_BURST 16
uint8_t *client_tx_slot(nest_client *c);
void client_tx_queued(nest_client *c, size_t len);
int client_tx_flush(nest_client *c);
void client_tx_drop(nest_client *c);
void client_tx_free(nest_client *c);

/* Mark the connection dead and complete every pending request with @err. Returns @err. */
int client_kill(nest_client *c, int err);

/* Send a request and wait for its reply into @s. Returns s->error or a transport -errno. */
int client_call(nest_client *c, uint16_t op, const void *body, size_t body_len, const int *fds,
		unsigned nfds, struct client_sync *s);
void client_sync_init(struct client_sync *s);

/* Wait until an in-flight slot is free (processing replies); -ETIMEDOUT after the timeout. */
int client_wait_slot(nest_client *c);

/* The CLOCK_MONOTONIC time in ms when a blocking step started now gives up (-1: never). */
int64_t client_deadline(const nest_client *c);
/* nest_client_wait() until @deadline: its result, or -ETIMEDOUT once the deadline passed. */
int client_wait_until(nest_client *c, int64_t deadline);
/*
 * Wait until *@done (set by a reply callback): one blocking receive first (usually that reply),
 * then nest_client_wait() until @deadline. A failure kills the connection, which completes
 * every pending request, so *@done is always true on return.
 */
void client_wait_done(nest_client *c, int64_t deadline, const bool *done);

/* Set the error text of a failed op: "OPNAME: <daemon detail or strerror>". Returns @err. */
int client_op_error(nest_client *c, uint16_t op, int err, const char *detail);

#endif /* NEST_CLIENT_INTERNAL_H */

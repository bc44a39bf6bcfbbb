/* SPDX-License-Identifier: MIT */
/*
 * conn.h - one client connection (VM socket or admin socket).
 *
 * Lifetime: created by the listener on accept, owned by the daemon's connection list. A
 * connection is closed with conn_close() (from anywhere, also from inside its own handlers or
 * from an event of another connection); the struct itself is freed later from the event loop
 * (ev_free), so pointers held by a running handler stay valid until it returns. After
 * conn_close(), c->dead is set and every send is a no-op.
 *
 * Output: every reply and event goes into a bounded queue (limits.max_outq messages) that is
 * flushed with EV_WRITE. A client that lets the queue fill up is disconnected (slow client).
 */
#ifndef NESTD_CONN_H
#define NESTD_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "nest-caps.h"
#include "nest-msg.h"
#include "log.h"
#include "nestd.h"
#include "peer.h"

struct outmsg;

/*
 * Fds (device fds of DEVICE_GET replies) one connection may have queued because it does not
 * read; the next one disconnects it as a slow client. Part of the fd budget (fdlimit.c).
 */
#define NESTD_CONN_QUEUED_FDS_MAX 4

struct conn {
	TAILQ_ENTRY(conn) link;
	struct nestd *d;
	uint64_t id;
	int fd;
	enum nest_sock_kind kind;
	struct peer peer; /* SO_PEERCRED + SO_PEERGROUPS at accept: the only identity we use */
	bool hello_done;
	bool admin_ok; /* admin socket: the peer may use it (checked at accept) */
	bool dead;
	bool doomed; /* output queue overflowed: closed from the loop (ev_kill), sends dropped */
	struct nestd_limits limits; /* of the config at accept time */
	struct nest_caps caps;	    /* effective limits (after HELLO: negotiated) */
	uint16_t peer_minor;	/* minor version of the client's HELLO: what we may send (§14) */
	uint32_t peer_features; /* NEST_FEAT_* the client announced in HELLO (before negotiation) */

	struct event *ev_read;
	struct event *ev_write;
	struct event *ev_hello; /* HELLO timeout */
	struct event *ev_free;
	struct event *ev_kill; /* deferred close: never close from inside a backend callback */

	struct outmsg *outq_head;
	struct outmsg **outq_tail;
	uint32_t outq_len;     /* queued messages */
	uint32_t outq_replies; /* of which replies (count towards in-flight) */
	uint32_t outq_fds;     /* of which carry an fd (at most NESTD_CONN_QUEUED_FDS_MAX) */

	struct vm *vm; /* attached VM or NULL */
};

/*
 * conn_new() - wrap an accepted socket. @fd is consumed, also on failure, and so is @peer's group
 * list (moved into the connection; @peer is cleared either way).
 */
int conn_new(struct nestd *d, int fd, enum nest_sock_kind kind, struct peer *peer,
	     struct conn **ret);
/* Close the socket, release the VM (abrupt: held for its grace period if it has one). */
void conn_close(struct conn *c, const char *why);

/* Free every closed connection now (daemon shutdown; normally the loop does it). */
void conn_reap_all(struct nestd *d);

/* Number of connections of @uid (VM + admin). */
uint32_t conn_count_uid(struct nestd *d, uid_t uid);

/*
 * conn_send() - encode and queue one message. @fd (or -1) moves into the queue on success and
 * on failure (R10: taking ownership unconditionally). Returns 0, or -errno; on queue overflow
 * the connection is closed (slow client) and -ENOBUFS returned.
 */
int conn_send(struct conn *c, const struct nest_msg_hdr *hdr, const void *fixed, size_t fixed_len,
	      const void *tail, size_t tail_len, int fd);
int conn_send_error(struct conn *c, const struct nest_msg_hdr *req, int err, const char *json_err);
int conn_send_event(struct conn *c, uint16_t op, const void *body, size_t len);

/* For log lines: "conn 7 uid 1000 pid 42" */
const char *conn_tag(const struct conn *c, char *buf, size_t len);

/* The audit record of a request on @c about VM @vm (NULL: none yet) and @pasid (-1: none). */
static inline struct audit_rec conn_audit_rec(const struct conn *c, const char *vm, int64_t pasid,
					      const char *op)
{
	return (struct audit_rec){.vm = vm,
				  .uid = c->peer.cred.uid,
				  .pid = c->peer.cred.pid,
				  .pasid = pasid,
				  .op = op};
}

#endif /* NESTD_CONN_H */

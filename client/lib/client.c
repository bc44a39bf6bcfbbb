/* SPDX-License-Identifier: MIT */
/*
 * client.c - the nest_client handle: connect + HELLO, limits, error text, logging, teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "client-internal.h"
#include "nest-fds.h"

#define LIBNEST_SOFTWARE "libnest " LIBNEST_VERSION

NEST_PUBLIC const char *nest_version(void)
{
	return LIBNEST_VERSION;
}

void client_clear_error(nest_client *c)
{
	c->err[0] = '\0';
}

void client_set_error(nest_client *c, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	n = strlen(c->err);
	if (err && n + 3 < sizeof(c->err))
		snprintf(c->err + n, sizeof(c->err) - n, ": %s", strerror(-err));
	client_log(c, "%s", c->err);
}

void client_log_(nest_client *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->log_cb(c, LOG_DEBUG, buf, c->log_opaque);
}

int client_op_error(nest_client *c, uint16_t op, int err, const char *detail)
{
	if (detail && *detail)
		snprintf(c->err, sizeof(c->err), "%s: %s", nest_op_name(op), detail);
	else
		snprintf(c->err, sizeof(c->err), "%s: %s (%s)", nest_op_name(op),
			 nest_errno_name(-err), strerror(-err));
	client_log(c, "%s", c->err);
	return err;
}

/*
 * The socket's send timeout (a full queue of a stopped nestd) and receive timeout (the blocking
 * calls' one blocking read of the reply, io.c); -1: none.
 */
static int client_set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = {0};

	if (timeout_ms > 0)
		tv = (struct timeval){.tv_sec = timeout_ms / 1000,
				      .tv_usec = timeout_ms % 1000 * 1000};
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/*
 * Connect, giving up at @c's deadline: a non-blocking connect() to a UNIX socket whose backlog is
 * full (nestd stopped, not accepting) fails with EAGAIN, so it is retried every 10 ms.
 */
static int client_socket_connect(nest_client *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	int64_t deadline = client_deadline(c);
	int fd, r;

	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		struct timespec ts, nap = {.tv_nsec = 10 * 1000 * 1000};

		r = -errno;
		if (r == -EINTR)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (r == -EAGAIN &&
		    (deadline < 0 || (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < deadline)) {
			nanosleep(&nap, NULL);
			continue;
		}
		close(fd);
		return r == -EAGAIN ? -ETIMEDOUT : r;
	}
	/* blocking again: sends bounded by SO_SNDTIMEO, a blocking call's read by SO_RCVTIMEO */
	r = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0
		    ? -errno
		    : client_set_timeouts(fd, c->timeout_ms);
	if (r < 0) {
		close(fd);
		return r;
	}
	c->fd = fd;
	return 0;
}

/* What this library announces; the effective limits are the minimum with nestd's. */
static void client_our_caps(struct nest_caps *caps)
{
	nest_caps_init(caps);
	snprintf(caps->software, sizeof(caps->software), "%s", LIBNEST_SOFTWARE);
	caps->max_msg_size = NEST_MSG_SIZE_DEFAULT;
	caps->max_fds = NEST_FDS_PER_MSG_MAX;
	caps->max_batch = NEST_BATCH_MAX; /* nest_invalidate() splits to whatever is negotiated */
	caps->max_inflight = NEST_INFLIGHT_MAX;
	caps->features = NEST_FEAT_VALID;
}

static int client_hello(nest_client *c)
{
	uint8_t body[sizeof(struct nest_hello) + NEST_CAPS_LEN_MAX];
	struct nest_hello h = {
		.size = sizeof(h), .major = NEST_PROTO_MAJOR, .minor = NEST_PROTO_MINOR};
	struct nest_caps ours, theirs;
	struct client_sync s;
	const struct nest_hello *rh;
	size_t caps_len;
	int r;

	client_our_caps(&ours);
	r = nest_caps_format(&ours, (char *)body + sizeof(h), sizeof(body) - sizeof(h), &caps_len);
	if (r < 0)
		return r;
	h.caps_len = (uint32_t)caps_len;
	memcpy(body, &h, sizeof(h));

	client_sync_init(&s);
	s.tail_alloc = true;
	r = client_call(c, NEST_OP_HELLO, body, sizeof(h) + caps_len, NULL, 0, &s);
	if (r < 0)
		goto out;
	rh = (const struct nest_hello *)s.fixed;
	if (rh->major != NEST_PROTO_MAJOR) {
		client_set_error(c, 0, "HELLO: nestd speaks protocol %u.%u, we speak %u.%u",
				 rh->major, rh->minor, NEST_PROTO_MAJOR, NEST_PROTO_MINOR);
		r = -EPROTO;
		goto out;
	}
	r = nest_caps_parse(s.tail_buf, s.tail_len, &theirs);
	if (r < 0) {
		client_set_error(c, r, "HELLO: bad capability document from nestd");
		goto out;
	}
	c->peer_major = rh->major;
	c->peer_minor = rh->minor;
	nest_caps_negotiate(&ours, &theirs, &c->caps);
out:
	free(s.tail_buf);
	return r;
}

/* Grow the pending table (and its free-slot stack) to the negotiated in-flight limit. */
static int client_size_pending(nest_client *c)
{
	struct client_pending *p;
	unsigned n = c->caps.max_inflight ? c->caps.max_inflight : 1, *f;

	if (n > NEST_INFLIGHT_MAX)
		n = NEST_INFLIGHT_MAX;
	if (n <= c->pending_cap)
		return 0;
	f = realloc(c->free_slots, n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	c->free_slots = f;
	p = realloc(c->pending, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + c->pending_cap, 0, (n - c->pending_cap) * sizeof(*p));
	c->pending = p;
	for (unsigned i = n; i-- > c->pending_cap;) /* slot 0 on top */
		c->free_slots[c->n_free++] = i;
	c->pending_cap = n;
	return 0;
}

static int client_new(bool admin, nest_client **ret)
{
	nest_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->admin = admin;
	c->timeout_ms = NEST_DEFAULT_TIMEOUT_MS;
	c->next_seq = 1;
	client_our_caps(&c->caps);
	c->caps.max_inflight = 1; /* only HELLO until it is answered */
	c->bufsize = NEST_MSG_SIZE_DEFAULT;
	c->rxbuf = malloc(c->bufsize);
	c->txbuf = malloc(c->bufsize);
	c->scratch = malloc(c->bufsize);
	if (!c->rxbuf || !c->txbuf || !c->scratch || client_size_pending(c) < 0) {
		nest_client_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

static bool client_timeout_valid(int timeout_ms)
{
	return timeout_ms > 0 || timeout_ms == -1;
}

static int client_connect(const char *path, uint32_t flags, bool admin, int timeout_ms,
			  nest_client **ret)
{
	nest_client *c;
	int r;

	if (!path || !ret || !client_timeout_valid(timeout_ms))
		return -EINVAL;
	if (flags)
		return -EOPNOTSUPP;
	r = client_new(admin, &c);
	if (r < 0)
		return r;
	c->timeout_ms = timeout_ms;
	r = client_socket_connect(c, path);
	if (r < 0)
		goto fail;
	r = client_hello(c);
	if (r < 0)
		goto fail;
	r = client_size_pending(c);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	nest_client_free(c);
	return r;
}

NEST_PUBLIC int nest_client_connect(const char *path, uint32_t flags, nest_client **ret)
{
	return client_connect(path ? path : NEST_DEFAULT_SOCKET, flags, false,
			      NEST_DEFAULT_TIMEOUT_MS, ret);
}

NEST_PUBLIC int nest_admin_connect(const char *path, uint32_t flags, nest_client **ret)
{
	return client_connect(path ? path : NEST_DEFAULT_ADMIN_SOCKET, flags, true,
			      NEST_DEFAULT_TIMEOUT_MS, ret);
}

NEST_PUBLIC int nest_client_connect_timeout(const char *path, uint32_t flags, int timeout_ms,
					    nest_client **ret)
{
	return client_connect(path ? path : NEST_DEFAULT_SOCKET, flags, false, timeout_ms, ret);
}

NEST_PUBLIC int nest_admin_connect_timeout(const char *path, uint32_t flags, int timeout_ms,
					   nest_client **ret)
{
	return client_connect(path ? path : NEST_DEFAULT_ADMIN_SOCKET, flags, true, timeout_ms,
			      ret);
}

NEST_PUBLIC int nest_client_set_timeout(nest_client *c, int timeout_ms)
{
	int r;

	if (!c || !client_timeout_valid(timeout_ms))
		return -EINVAL;
	if (c->fd >= 0 && (r = client_set_timeouts(c->fd, timeout_ms)) < 0)
		return r;
	c->timeout_ms = timeout_ms;
	return 0;
}

NEST_PUBLIC int nest_client_get_timeout(const nest_client *c)
{
	return c ? c->timeout_ms : -EINVAL;
}

NEST_PUBLIC nest_client *nest_client_free(nest_client *c)
{
	if (!c)
		return NULL;
	if (c->fd >= 0)
		close(c->fd);
	client_rx_free(c);
	client_tx_free(c);
	free(c->pending);
	free(c->free_slots);
	free(c->rxbuf);
	free(c->txbuf);
	free(c->scratch);
	free(c);
	return NULL;
}

NEST_PUBLIC int nest_client_get_fd(const nest_client *c)
{
	return c ? c->fd : -EINVAL;
}

NEST_PUBLIC int nest_client_get_limits(const nest_client *c, struct nest_limits *ret)
{
	if (!c || !ret)
		return -EINVAL;
	*ret = (struct nest_limits){
		.max_msg_size = c->caps.max_msg_size,
		.max_fds = c->caps.max_fds,
		.max_batch = c->caps.max_batch,
		.max_inflight = c->caps.max_inflight,
		.features = c->caps.features,
		.proto_major = c->peer_major,
		.proto_minor = c->peer_minor,
	};
	snprintf(ret->software, sizeof(ret->software), "%s", c->caps.software);
	return 0;
}

NEST_PUBLIC const char *nest_client_last_error(const nest_client *c)
{
	return c ? c->err : "";
}

NEST_PUBLIC void nest_client_set_log_cb(nest_client *c, nest_log_cb cb, void *opaque)
{
	if (!c)
		return;
	c->log_cb = cb;
	c->log_opaque = opaque;
}

NEST_PUBLIC void nest_client_set_event_cb(nest_client *c, nest_event_cb cb, void *opaque)
{
	if (!c)
		return;
	c->ev_cb = cb;
	c->ev_opaque = opaque;
}

NEST_PUBLIC unsigned nest_client_inflight(const nest_client *c)
{
	return c ? c->inflight : 0;
}

NEST_PUBLIC const char *nest_fault_reason_str(uint32_t reason)
{
	return nest_fault_reason_name(reason);
}

NEST_PUBLIC const char *nest_op_str(uint32_t op)
{
	return nest_op_name(op);
}

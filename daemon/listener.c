/* SPDX-License-Identifier: MIT */
/*
 * listener.c - accept loop with limits (total and per-uid connections) and EMFILE back-off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "listener.h"
#include "log.h"

#define LISTENER_BURST 64 /* accepts per wakeup */

struct listener {
	struct nestd *d;
	enum nest_sock_kind kind;
	int fd;
	char path[NESTD_PATH_MAX]; /* "" when socket-activated */
	dev_t dev;		   /* of the bound socket inode, to unlink only ours */
	ino_t ino;
	struct event *ev_accept;
	struct event *ev_rearm; /* EMFILE back-off timer */
};

static int listener_fill_addr(const char *path, struct sockaddr_un *sa)
{
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Remove a stale socket at @path: only a socket, and only if nothing listens on it. */
static int listener_unlink_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE; /* a live daemon owns it */
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int listener_bind(struct listener *l, const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, r;

	r = listener_fill_addr(path, &sa);
	if (r == 0)
		r = listener_unlink_stale(path, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(0177); /* never world-accessible, not even between bind and chmod */
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || chmod(path, mode) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) || listen(fd, SOMAXCONN) < 0 ||
	    stat(path, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->fd = fd;
	return 0;
}

static void listener_on_rearm(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	event_add(l->ev_accept, NULL);
}

static void listener_accept_one(struct listener *l, int fd)
{
	struct nestd *d = l->d;
	struct peer peer;
	struct conn *c;

	if (peer_from_socket(fd, &peer) < 0) {
		d->stats.connections_rejected++;
		close(fd);
		return;
	}
	/* connection limits (fdlimit.c): an over-limit peer is closed immediately */
	if (!nestd_admit(d, l->kind, &peer)) {
		d->stats.connections_rejected++;
		peer_clear(&peer);
		close(fd);
		return;
	}
	if (conn_new(d, fd, l->kind, &peer, &c) < 0) /* consumes fd and peer's groups */
		d->stats.connections_rejected++;
}

static void listener_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;

	for (int i = 0; i < LISTENER_BURST; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				struct timeval tv = {.tv_sec = 1};

				log_msg(LOG_WARNING,
					"accept: out of file descriptors, pausing 1 s");
				event_del(l->ev_accept);
				event_add(l->ev_rearm, &tv);
			}
			break;
		}
		listener_accept_one(l, fd);
	}
	nestd_update_status(l->d);
}

int listener_new(struct nestd *d, enum nest_sock_kind kind, int fd, const char *path, mode_t mode,
		 gid_t gid, struct listener **ret)
{
	struct listener *l = calloc(1, sizeof(*l));
	int r;

	if (!l) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	l->d = d;
	l->kind = kind;
	l->fd = -1;
	if (fd >= 0) {
		l->fd = fd; /* socket activation: ownership moves to the listener */
		r = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ? -errno : 0;
	} else {
		r = listener_bind(l, path, mode, gid);
	}
	if (r == 0) {
		l->ev_accept =
			event_new(d->base, l->fd, EV_READ | EV_PERSIST, listener_on_accept, l);
		l->ev_rearm = evtimer_new(d->base, listener_on_rearm, l);
		if (!l->ev_accept || !l->ev_rearm || event_add(l->ev_accept, NULL) < 0)
			r = -ENOMEM;
	}
	if (r < 0) {
		listener_free(l);
		return r;
	}
	*ret = l;
	return 0;
}

struct listener *listener_free(struct listener *l)
{
	struct stat st;

	if (!l)
		return NULL;
	if (l->ev_accept)
		event_free(l->ev_accept);
	if (l->ev_rearm)
		event_free(l->ev_rearm);
	if (l->path[0] && stat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
		unlink(l->path);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return NULL;
}

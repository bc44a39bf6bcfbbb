/* SPDX-License-Identifier: MIT */
/*
 * listener.h - a listening SEQPACKET socket (VM or admin): socket-activated or bound by nestd.
 */
#ifndef NESTD_LISTENER_H
#define NESTD_LISTENER_H

#include <sys/types.h>

#include "nest-msg.h"
#include "nestd.h"

/*
 * listener_new() - listen on @fd (socket activation: already bound and listening, consumed) or,
 * with @fd < 0, bind @path: a stale socket at @path is unlinked (only if it is a socket and
 * nobody answers on it), then chmod @mode and chown to group @gid ((gid_t)-1: unchanged).
 */
int listener_new(struct nestd *d, enum nest_sock_kind kind, int fd, const char *path, mode_t mode,
		 gid_t gid, struct listener **ret);
/* Stop listening; unlinks the socket path if nestd bound it. Accepts NULL, returns NULL. */
struct listener *listener_free(struct listener *l);

#endif /* NESTD_LISTENER_H */

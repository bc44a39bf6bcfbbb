/* SPDX-License-Identifier: MIT */
/*
 * peer.h - who is on the other end of a connection, as the kernel says (never from a payload).
 *
 * SO_PEERCRED gives uid, primary gid and pid; SO_PEERGROUPS (Linux >= 4.13) the supplementary
 * groups, both as they were when the peer called connect(). Policy checks on groups (a VM's
 * Group=, AdminGroup=) accept the primary gid and every supplementary group.
 */
#ifndef NESTD_PEER_H
#define NESTD_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PEER_GROUPS_MAX 65536 /* NGROUPS_MAX of the kernel */

struct peer {
	struct ucred cred;
	gid_t *groups; /* supplementary groups; owned (free with peer_clear()); may be NULL */
	size_t n_groups;
};

/* Fill @ret from the connected socket @fd. Returns 0 or -errno (the peer must be refused). */
int peer_from_socket(int fd, struct peer *ret);

/* Free what peer_from_socket() allocated; @p may be zeroed or already cleared. */
void peer_clear(struct peer *p);

/* True if @gid is the peer's primary group or one of its supplementary groups. */
bool peer_in_group(const struct peer *p, gid_t gid);

#endif /* NESTD_PEER_H */

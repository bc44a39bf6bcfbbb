/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

/* SO_PEERGROUPS into a buffer that grows once to the size the kernel asks for. */
static int peer_groups(int fd, gid_t **ret, size_t *ret_n)
{
	socklen_t len = 64 * sizeof(gid_t);
	gid_t *g = malloc(len);

	if (!g)
		return -ENOMEM;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		gid_t *bigger;

		if (errno != ERANGE || len > PEER_GROUPS_MAX * sizeof(gid_t)) {
			int r = errno == ERANGE ? -E2BIG : -errno;

			free(g);
			return r;
		}
		bigger = realloc(g, len);
		if (!bigger) {
			free(g);
			return -ENOMEM;
		}
		g = bigger;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
			int r = -errno;

			free(g);
			return r;
		}
	}
	if (len % sizeof(gid_t)) {
		free(g);
		return -EIO;
	}
	*ret = g;
	*ret_n = len / sizeof(gid_t);
	return 0;
}

int peer_from_socket(int fd, struct peer *ret)
{
	struct peer p = {0};
	socklen_t len = sizeof(p.cred);
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &p.cred, &len) < 0)
		return -errno;
	if (len != sizeof(p.cred))
		return -EIO;
	r = peer_groups(fd, &p.groups, &p.n_groups);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

void peer_clear(struct peer *p)
{
	free(p->groups);
	p->groups = NULL;
	p->n_groups = 0;
}

bool peer_in_group(const struct peer *p, gid_t gid)
{
	if (p->cred.gid == gid)
		return true;
	for (size_t i = 0; i < p->n_groups; i++)
		if (p->groups[i] == gid)
			return true;
	return false;
}

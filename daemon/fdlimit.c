/* SPDX-License-Identifier: MIT */
/*
 * fdlimit.c - nestd's file-descriptor budget and who may take a connection slot.
 *
 * At start nestd raises its RLIMIT_NOFILE soft limit to the hard limit, then derives the
 * effective connection cap from it: every connection may cost its socket plus the fds queued
 * for it (at most NESTD_CONN_QUEUED_FDS_MAX, conn.c), and a reserve stays free for what is not
 * a connection (listeners, the journal, the event loop, the backend's per-VM kernel objects,
 * the fds of the request being handled). The cap is MaxConnections= or what the budget allows,
 * whichever is lower; it is recomputed on reload (the VMs, and with them the reserve, change).
 *
 * Of that cap, AdminReserve= slots are only for peers that may use the admin socket (root,
 * nestd's uid, AdminGroup=): VM-socket peers, and admin-socket peers that may not use it, take
 * a slot only while fewer than cap - reserve such connections exist. Once the table is that
 * full, one uid holds at most half of the reserve (rounded up) in admin connections, so no
 * single operator account, and no VMM uid, can lock out the others.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

/* Fds nestd needs besides connections and VMs: listeners, journal, epoll, signals, timers. */
#define FDLIMIT_BASE_RESERVE 64
/* Per configured VM: the backend context (container / iommufd, event fds) and its devices. */
#define FDLIMIT_PER_VM	     8
#define FDLIMIT_PER_DEVICE   2

void nestd_fd_limit_raise(struct nestd *d)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_errno(LOG_WARNING, errno, "getrlimit(RLIMIT_NOFILE)");
		d->nofile = 1024;
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit nr = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};

		if (setrlimit(RLIMIT_NOFILE, &nr) == 0)
			rl.rlim_cur = rl.rlim_max;
		else
			log_errno(LOG_WARNING, errno,
				  "cannot raise the fd limit from %llu to %llu (LimitNOFILE=)",
				  (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	}
	/* an "unlimited" or absurd limit is capped where it stops mattering */
	d->nofile = rl.rlim_cur > (1u << 30) ? (1u << 30) : (uint64_t)rl.rlim_cur;
}

void nestd_fd_limit_update(struct nestd *d)
{
	const struct nestd_config *cfg = d->cfg;
	/* one receive burst (conn.c) can bring NEST_RX_BURST_MAX messages' fds at once */
	uint64_t reserve = FDLIMIT_BASE_RESERVE + (uint64_t)NEST_RX_BURST_MAX * cfg->limits.max_fds,
		 budget, cap;
	uint32_t admin;

	for (size_t i = 0; i < cfg->n_vms; i++)
		reserve += FDLIMIT_PER_VM + FDLIMIT_PER_DEVICE * cfg->vms[i].n_devices;
	budget = d->nofile > reserve ? (d->nofile - reserve) / (1 + NESTD_CONN_QUEUED_FDS_MAX) : 0;
	cap = cfg->limits.max_conns < budget ? cfg->limits.max_conns : budget;
	if (cap < 2)
		cap = 2; /* one VM connection and one admin connection, whatever the budget says */
	if (cap < cfg->limits.max_conns && cap != d->conn_cap)
		log_msg(LOG_WARNING,
			"fd limit %llu allows only %llu connections (MaxConnections=%u; "
			"%llu fds reserved, %u per connection): raise LimitNOFILE=",
			(unsigned long long)d->nofile, (unsigned long long)cap,
			cfg->limits.max_conns, (unsigned long long)reserve,
			1 + NESTD_CONN_QUEUED_FDS_MAX);
	admin = cfg->limits.admin_reserve < cap - 1 ? cfg->limits.admin_reserve : (uint32_t)cap - 1;
	d->conn_cap = (uint32_t)cap;
	d->fd_reserve = (uint32_t)reserve;
	d->admin_reserve = admin;
	d->admin_per_uid = admin > 1 ? (admin + 1) / 2 : 1;
}

bool nestd_peer_is_admin(const struct nestd *d, const struct peer *p)
{
	return p->cred.uid == 0 || p->cred.uid == geteuid() ||
	       (d->have_admin_gid && peer_in_group(p, d->admin_gid));
}

static uint32_t fdlimit_admin_conns_of(const struct nestd *d, uid_t uid)
{
	const struct conn *c;
	uint32_t n = 0;

	TAILQ_FOREACH(c, &d->conns, link)
	if (c->kind == NEST_SOCK_ADMIN && c->admin_ok && c->peer.cred.uid == uid)
		n++;
	return n;
}

bool nestd_admit(const struct nestd *d, enum nest_sock_kind kind, const struct peer *p)
{
	uint32_t total = d->n_vm_conns + d->n_admin_conns;

	if (d->stopping || total >= d->conn_cap)
		return false;
	if (kind == NEST_SOCK_ADMIN && nestd_peer_is_admin(d, p))
		return total < d->conn_cap - d->admin_reserve ||
		       fdlimit_admin_conns_of(d, p->cred.uid) < d->admin_per_uid;
	if (total - d->n_admin_ok_conns >= d->conn_cap - d->admin_reserve)
		return false;
	return conn_count_uid((struct nestd *)d, p->cred.uid) < d->cfg->limits.max_conns_per_uid;
}

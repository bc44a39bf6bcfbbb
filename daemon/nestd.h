/* SPDX-License-Identifier: MIT */
/*
 * nestd.h - the daemon context (STYLE.md R17): the one object that owns the event loop, the
 * backend, the listeners, every connection and every VM. There is no other mutable state in the
 * daemon except the command-line arguments in main.c and the logger.
 */
#ifndef NESTD_H
#define NESTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "backend.h"
#include "config.h"
#include "nest-msg.h"
#include "nest-fds.h"
#include "txbatch.h"

#define NESTD_VERSION "0.1.0"

struct event;
struct event_base;
struct conn;
struct listener;
struct vm;

TAILQ_HEAD(conn_list, conn);

struct nestd_stats {
	uint64_t connections_total;
	uint64_t connections_rejected;
	uint64_t requests;
	uint64_t errors;
	uint64_t events;
	uint64_t protocol_errors;
	uint64_t slow_disconnects;
	uint64_t fd_shortages;	  /* requests refused EMFILE: nestd could not receive their fds */
	uint64_t page_requests;	  /* reported by the backend, every VM */
	uint64_t page_responses;  /* PAGE_RESPONSEs the backend took */
	uint64_t page_refusals;	  /* groups nestd answered invalid itself (iopf.c) */
	uint64_t vevents;	  /* vIOMMU events reported by the backend, every VM (viommu.c) */
	uint64_t vevents_dropped; /* of which no client got */
};

/* What main.c passes in: the command line, already parsed. Strings are not copied. */
struct nestd_args {
	const char *config_path; /* NULL: NESTD_CONFIG_PATH */
	const char *socket_path; /* overrides the config's socket path */
	const char *admin_path;	 /* overrides the config's admin socket path */
	const char *backend;	 /* overrides the config's backend */
	int log_level;		 /* -1: from config */
};

struct nestd {
	struct event_base *base;
	struct nestd_args args;
	struct nestd_config *cfg; /* current config; replaced on a good reload */

	const struct nest_backend_ops *be_ops;
	struct nest_backend *be;
	struct nest_backend_info be_info;
	struct event *ev_backend; /* readable backend fd, if the backend has one */

	struct listener *vm_lsn;
	struct listener *admin_lsn;
	struct conn_list conns;	     /* live VM and admin connections */
	struct conn_list dead_conns; /* closed, freed from the loop (conn.c) */
	uint32_t n_vm_conns;
	uint32_t n_admin_conns;
	uint32_t n_admin_ok_conns; /* of which peers that may use the admin socket (fdlimit.c) */
	uint64_t nofile;	   /* RLIMIT_NOFILE soft limit after raising it to the hard one */
	uint32_t conn_cap;	   /* effective connection cap: MaxConnections= or the fd budget */
	uint32_t fd_reserve;	   /* fds kept out of the connection budget */
	uint32_t admin_reserve;	   /* slots of conn_cap only admin peers may take */
	uint32_t admin_per_uid;	   /* admin connections one uid may hold */
	uint64_t fd_short_warned_usec; /* last "out of file descriptors" warning (dispatch.c) */
	uint64_t next_conn_id;

	struct vm **vms; /* one per configured VM (plus ones held/attached after a reload dropped
			    them, until their teardown) */
	size_t n_vms;

	struct nestd_stats stats;
	struct event *ev_sigterm, *ev_sigint, *ev_sighup;
	struct event *ev_watchdog;
	struct event *ev_audit; /* once a second: due audit summaries (audit-rate.c) */
	uint64_t watchdog_usec;
	uint64_t start_usec; /* CLOCK_MONOTONIC */

	uint8_t *rxbuf; /* NEST_RX_BURST_MAX receive buffers of rxcap bytes, shared by every
			   connection (single-threaded) */
	size_t rxcap;
	struct nest_rx_burst rx; /* over rxbuf */
	struct txbatch tx;	 /* the replies of the burst being handled */
	uint8_t *txbuf;		 /* scratch for encoding one outgoing message */
	size_t txcap;

	gid_t admin_gid; /* valid if have_admin_gid */
	bool have_admin_gid;
	bool stopping;
	char status[160]; /* last STATUS= sent */
};

/* nestd.c */
int nestd_new(const struct nestd_args *args, struct nestd_config *cfg, struct nestd **ret);
struct nestd *nestd_free(struct nestd *d);
int nestd_run(struct nestd *d); /* returns the exit code */
/*
 * Reload the config file; on failure keeps the old one and writes the reason to @err. @who is
 * the admin peer that asked (for the audit record), NULL for SIGHUP.
 */
struct ucred;
int nestd_reload(struct nestd *d, const struct ucred *who, char *err, size_t errlen);
/* Apply the config's audit rate limit; the first call also starts the summary timer. */
int nestd_audit_setup(struct nestd *d);
/* Send STATUS= if the VM/connection counts changed. */
void nestd_update_status(struct nestd *d);
/* Log the backend's reason for the failure of the op just done, with a "what" prefix. */
void nestd_log_backend_error(struct nestd *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* -EINVAL + @err when @c has devices the running backend cannot serve (sim vs host devices). */
int nestd_check_backend_config(const struct nestd *d, const struct nestd_config *c, char *err,
			       size_t errlen);
struct vm *nestd_find_vm(struct nestd *d, const char *name);
/* Free VMs that left the config and are detached again. */
void nestd_reap_vms(struct nestd *d);
uint64_t nestd_now_usec(void);

/*
 * fdlimit.c: the fd budget and connection admission. nestd_fd_limit_raise(): soft RLIMIT_NOFILE
 * to the hard limit (at start). nestd_fd_limit_update(): derive conn_cap and the admin reserve
 * from the limit and the config (at start and on reload). nestd_admit(): may a peer of @kind
 * take a connection slot now. nestd_peer_is_admin(): root, nestd's uid or AdminGroup=.
 */
struct peer;
void nestd_fd_limit_raise(struct nestd *d);
void nestd_fd_limit_update(struct nestd *d);
bool nestd_admit(const struct nestd *d, enum nest_sock_kind kind, const struct peer *p);
bool nestd_peer_is_admin(const struct nestd *d, const struct peer *p);

/* notify.c: the systemd notification protocol (no-ops without $NOTIFY_SOCKET) */
void notify_ready(struct nestd *d);
void notify_status(struct nestd *d, const char *status);
void notify_reloading(void);
void notify_stopping(void);
int notify_watchdog_setup(struct nestd *d);

/* events.c: backend event callbacks */
extern const struct nest_be_events nestd_be_events;

#endif /* NESTD_H */

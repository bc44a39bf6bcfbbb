/* SPDX-License-Identifier: MIT */
/*
 * nestd.c - the daemon context (struct nestd): backend, listeners (socket activation or
 * bind), signals, VM table, shutdown.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "conn.h"
#include "listener.h"
#include "log.h"
#include "vm.h"

uint64_t nestd_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* A group given by name or number. */
static int nestd_resolve_group(const char *name, gid_t *ret)
{
	struct group *g;
	char *end;
	unsigned long v;

	if (!name[0])
		return -ENOENT;
	g = getgrnam(name);
	if (g) {
		*ret = g->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (errno || *end || v >= (gid_t)-1)
		return -ENOENT;
	*ret = (gid_t)v;
	return 0;
}

struct vm *nestd_find_vm(struct nestd *d, const char *name)
{
	for (size_t i = 0; i < d->n_vms; i++)
		if (!d->vms[i]->removed && strcmp(d->vms[i]->cfg.name, name) == 0)
			return d->vms[i];
	return NULL;
}

void nestd_update_status(struct nestd *d)
{
	unsigned attached = 0, held = 0;
	char s[sizeof(d->status)];

	for (size_t i = 0; i < d->n_vms; i++) {
		attached += d->vms[i]->state == VM_ATTACHED;
		held += d->vms[i]->state == VM_HELD;
	}
	unsigned nconn = d->n_vm_conns + d->n_admin_conns;

	snprintf(s, sizeof(s), "%u VM%s attached, %u held, %zu configured; %u connection%s",
		 attached, plural_s(attached), held, d->cfg->n_vms, nconn, plural_s(nconn));
	if (strcmp(s, d->status) == 0)
		return;
	strcpy(d->status, s);
	notify_status(d, s);
}

void nestd_reap_vms(struct nestd *d)
{
	size_t j = 0;

	for (size_t i = 0; i < d->n_vms; i++) {
		if (d->vms[i]->removed && d->vms[i]->state == VM_DETACHED)
			vm_free(d->vms[i]);
		else
			d->vms[j++] = d->vms[i];
	}
	d->n_vms = j;
}

static void nestd_backend_params(const struct nestd_config *cfg, const char *override,
				 struct nest_backend_params *p)
{
	*p = (struct nest_backend_params){
		/* enum nestd_backend_choice and enum nest_backend_choice have the same order */
		.choice = (enum nest_backend_choice)cfg->backend,
		.sim_iotlb_entries = cfg->sim.iotlb_entries,
		.sim_devtlb_entries = cfg->sim.devtlb_entries,
		.sim_pasid_cache_entries = cfg->sim.pasid_cache_entries,
		.sim_max_gaw = cfg->sim.max_gaw,
		.sim_touch_limit = (uint64_t)cfg->sim.touch_limit_mib << 20,
	};
	if (override)
		p->choice = (enum nest_backend_choice)nest_backend_choice_parse(override);
}

static int nestd_open_backend(struct nestd *d)
{
	size_t max = (size_t)NESTD_VMS_MAX * NESTD_VM_DEVICES_MAX;
	const char **pci = calloc(max, sizeof(*pci));
	struct nest_backend_params p;
	char why[2048];
	int r;

	if (!pci)
		return log_errno(LOG_ERR, ENOMEM, "backend");
	nestd_backend_params(d->cfg, d->args.backend, &p);
	p.host_pci = pci;
	p.n_host_pci = nestd_config_host_pci(d->cfg, pci, max);
	p.n_mock = nestd_config_n_mock(d->cfg);
	if ((int)p.choice < 0) {
		free(pci);
		return log_errno(LOG_ERR, EINVAL, "unknown backend '%s'", d->args.backend);
	}
	r = nest_backend_select(&p, &d->be_ops, why, sizeof(why));
	if (r < 0) {
		free(pci);
		log_msg(LOG_ERR, "backend %s cannot serve this configuration: %s",
			nest_backend_choice_name(p.choice), why);
		return r;
	}
	r = d->be_ops->open(&p, &nestd_be_events, d, &d->be);
	free(pci);
	if (r < 0)
		return log_errno(LOG_ERR, r, "backend %s: open failed", d->be_ops->name);
	d->be_ops->info(d->be, &d->be_info);
	if (nestd_check_backend_config(d, d->cfg, why, sizeof(why)) < 0) {
		log_msg(LOG_ERR, "backend %s cannot serve this configuration: %s", d->be_info.name,
			why);
		return -EINVAL; /* the backend is closed with the daemon */
	}
	log_msg(LOG_INFO, "backend: %s (%s)", d->be_info.name, why);
	return 0;
}

void nestd_log_backend_error(struct nestd *d, const char *fmt, ...)
{
	char why[1024] = "", what[256];
	va_list ap;

	if (!d->be_ops || !d->be_ops->last_error)
		return;
	d->be_ops->last_error(d->be, why, sizeof(why));
	if (!why[0])
		return; /* nothing from the kernel: the errno of the reply says it all */
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_msg(LOG_WARNING, "%s: %s", what, why);
}

int nestd_check_backend_config(const struct nestd *d, const struct nestd_config *c, char *err,
			       size_t errlen)
{
	bool sim = d->be_info.kind == NEST_BACKEND_SIM;

	for (size_t i = 0; i < c->n_vms; i++)
		for (size_t k = 0; k < c->vms[i].n_devices; k++) {
			const struct nestd_device_cfg *dc = &c->vms[i].devices[k];

			if (sim && nestd_device_is_kernel(dc)) {
				snprintf(err, errlen,
					 "VM %s: device %s is a host or mock device but the "
					 "running backend is sim; restart nestd to change backends",
					 c->vms[i].name, dc->name);
				return -EINVAL;
			}
			if (dc->mock && d->be_info.kind != NEST_BACKEND_IOMMUFD) {
				snprintf(err, errlen,
					 "VM %s: device %s is an iommufd mock device but the "
					 "running backend is %s",
					 c->vms[i].name, dc->name, d->be_info.name);
				return -EINVAL;
			}
			if (!sim && !nestd_device_is_kernel(dc)) {
				snprintf(err, errlen,
					 "VM %s: device %s is simulated (no pci=) but the running "
					 "backend is %s",
					 c->vms[i].name, dc->name, d->be_info.name);
				return -EINVAL;
			}
		}
	return 0;
}

static void nestd_on_backend(evutil_socket_t fd, short what, void *arg)
{
	struct nestd *d = arg;

	(void)d->be_ops->dispatch(d->be); /* runs the event callbacks (events.c) */
}

/* A backend with an event fd (e.g. an iommufd fault queue) is polled by the loop. */
static int nestd_watch_backend(struct nestd *d)
{
	int fd = d->be_ops->get_fd && d->be_ops->dispatch ? d->be_ops->get_fd(d->be) : -1;

	if (fd < 0)
		return 0;
	d->ev_backend = event_new(d->base, fd, EV_READ | EV_PERSIST, nestd_on_backend, d);
	if (!d->ev_backend || event_add(d->ev_backend, NULL) < 0)
		return -ENOMEM;
	return 0;
}

static int nestd_add_vms(struct nestd *d)
{
	d->vms = calloc(d->cfg->n_vms ? d->cfg->n_vms : 1, sizeof(*d->vms));
	if (!d->vms)
		return -ENOMEM;
	for (size_t i = 0; i < d->cfg->n_vms; i++) {
		int r = vm_new(d, &d->cfg->vms[i], &d->vms[i]);

		if (r < 0)
			return r;
		d->n_vms++;
	}
	return 0;
}

/* Socket activation: "nestd" is the VM socket, "nestd-admin" the admin socket (SEQPACKET). */
static int nestd_activation_fds(int *ret_vm, int *ret_admin)
{
	char **names = NULL;
	int n = sd_listen_fds_with_names(1, &names), r = 0;

	*ret_vm = *ret_admin = -1;
	for (int i = 0; i < (n > 0 ? n : 0); i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *nm = names ? names[i] : "";
		/* FileDescriptorName=, or systemd's default: the socket unit's name */
		int *slot =
			strcmp(nm, "nestd") == 0 || strcmp(nm, "nestd.socket") == 0 ? ret_vm
			: strcmp(nm, "nestd-admin") == 0 || strcmp(nm, "nestd-admin.socket") == 0
				? ret_admin
				: NULL;

		if (slot && *slot < 0 && sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) > 0) {
			*slot = fd;
		} else {
			log_msg(LOG_WARNING, "ignoring passed fd %d (name '%s')", fd, nm);
			close(fd);
			if (slot)
				r = -EINVAL;
		}
	}
	if (names)
		for (int i = 0; i < n; i++)
			free(names[i]);
	free(names);
	return n < 0 ? n : r;
}

/* For the log: an activated socket by its bound path ("PATH (activated)"), else the path. */
static const char *nestd_sock_desc(int fd, const char *path, char *buf, size_t size)
{
	struct sockaddr_un sa = {0};
	socklen_t len = sizeof(sa);

	if (fd < 0)
		return path;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.sun_family == AF_UNIX &&
	    len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0])
		snprintf(buf, size, "%.*s (activated)",
			 (int)strnlen(sa.sun_path, len - offsetof(struct sockaddr_un, sun_path)),
			 sa.sun_path);
	else
		snprintf(buf, size, "fd %d (activated)", fd);
	return buf;
}

static int nestd_open_listeners(struct nestd *d)
{
	const struct nestd_config *cfg = d->cfg;
	const char *vm_path = d->args.socket_path ? d->args.socket_path : cfg->socket_path;
	const char *adm_path = d->args.admin_path ? d->args.admin_path : cfg->admin_socket_path;
	gid_t sgid = (gid_t)-1;
	int vm_fd, adm_fd, r;

	r = nestd_activation_fds(&vm_fd, &adm_fd);
	if (r < 0)
		log_msg(LOG_WARNING, "socket activation: unusable fds were passed");
	if (cfg->socket_group[0] && nestd_resolve_group(cfg->socket_group, &sgid) < 0)
		log_msg(LOG_WARNING, "SocketGroup %s: no such group", cfg->socket_group);
	d->have_admin_gid =
		cfg->admin_group[0] && nestd_resolve_group(cfg->admin_group, &d->admin_gid) == 0;
	char vm_desc[sizeof(struct sockaddr_un) + 16], adm_desc[sizeof(struct sockaddr_un) + 16];

	/* described before listener_new() takes the fds */
	vm_path = nestd_sock_desc(vm_fd, vm_path, vm_desc, sizeof(vm_desc));
	adm_path = nestd_sock_desc(adm_fd, adm_path, adm_desc, sizeof(adm_desc));
	r = listener_new(d, NEST_SOCK_VM, vm_fd, vm_path, cfg->socket_mode, sgid, &d->vm_lsn);
	if (r < 0) {
		if (adm_fd >= 0)
			close(adm_fd);
		return log_errno(LOG_ERR, r, "VM socket %s", vm_path);
	}
	r = listener_new(d, NEST_SOCK_ADMIN, adm_fd, adm_path, d->have_admin_gid ? 0660 : 0600,
			 d->have_admin_gid ? d->admin_gid : (gid_t)-1, &d->admin_lsn);
	if (r < 0)
		return log_errno(LOG_ERR, r, "admin socket %s", adm_path);
	log_msg(LOG_INFO, "listening on %s and %s", vm_path, adm_path);
	return 0;
}

static void nestd_on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	struct nestd *d = arg;

	log_msg(LOG_INFO, "signal %d: shutting down", (int)sig);
	event_base_loopbreak(d->base);
}

static void nestd_on_sighup(evutil_socket_t sig, short what, void *arg)
{
	char err[512];

	(void)nestd_reload(arg, NULL, err, sizeof(err));
}

/* While a key folds: its summaries are due every AuditSummarySec=; looked at once a second. */
static void nestd_on_audit_tick(evutil_socket_t fd, short what, void *arg)
{
	struct nestd *d = arg;

	audit_rate_tick();
	if (!audit_rate_folding())
		event_del(d->ev_audit); /* idle again: no timer, epoll_wait() without a timeout */
}

static void nestd_on_audit_fold(void *arg)
{
	static bool warned; /* one line, not one per folded record of a flood */
	struct nestd *d = arg;
	struct timeval tv = {.tv_sec = 1};

	if (!d->ev_audit || event_pending(d->ev_audit, EV_TIMEOUT, NULL))
		return;
	if (event_add(d->ev_audit, &tv) < 0 && !warned) {
		warned = true;
		log_msg(LOG_ERR, "audit: cannot arm the summary timer (tried again on each folded "
				 "record)");
	}
}

/*
 * The audit rate limit from the config (at start and on reload), and its summary timer, armed
 * only while some key folds (nestd_on_audit_fold()).
 */
int nestd_audit_setup(struct nestd *d)
{
	const struct nestd_limits *l = &d->cfg->limits;

	audit_rate_set(l->audit_rate, l->audit_burst, l->audit_summary_sec);
	if (d->ev_audit)
		return 0;
	d->ev_audit = event_new(d->base, -1, EV_PERSIST, nestd_on_audit_tick, d);
	if (!d->ev_audit)
		return -ENOMEM;
	audit_rate_on_fold(nestd_on_audit_fold, d);
	if (audit_rate_folding())
		nestd_on_audit_fold(d);
	return 0;
}

static int nestd_setup_signals(struct nestd *d)
{
	d->ev_sigterm = evsignal_new(d->base, SIGTERM, nestd_on_sigterm, d);
	d->ev_sigint = evsignal_new(d->base, SIGINT, nestd_on_sigterm, d);
	d->ev_sighup = evsignal_new(d->base, SIGHUP, nestd_on_sighup, d);
	if (!d->ev_sigterm || !d->ev_sigint || !d->ev_sighup)
		return -ENOMEM;
	event_add(d->ev_sigterm, NULL);
	event_add(d->ev_sigint, NULL);
	event_add(d->ev_sighup, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int nestd_new(const struct nestd_args *args, struct nestd_config *cfg, struct nestd **ret)
{
	struct nestd *d = calloc(1, sizeof(*d));
	int r;

	if (!d) {
		nestd_config_free(cfg);
		return -ENOMEM;
	}
	d->args = *args;
	d->cfg = cfg; /* ownership moves into d */
	TAILQ_INIT(&d->conns);
	TAILQ_INIT(&d->dead_conns);
	d->start_usec = nestd_now_usec();
	d->rxcap = d->txcap = NEST_MSG_SIZE_MAX;
	/* untouched pages cost no memory: a burst of small requests touches one page per slot */
	d->rxbuf = malloc(d->rxcap * NEST_RX_BURST_MAX);
	d->txbuf = malloc(d->txcap);
	d->base = event_base_new();
	r = !d->rxbuf || !d->txbuf || !d->base ? -ENOMEM : 0;
	nestd_fd_limit_raise(d);
	nestd_fd_limit_update(d);
	if (r == 0)
		r = txbatch_init(&d->tx);
	if (r == 0)
		nest_rx_burst_init(&d->rx, d->rxbuf, d->rxcap);
	if (r == 0)
		r = nestd_open_backend(d);
	if (r == 0)
		r = nestd_watch_backend(d);
	if (r == 0)
		r = nestd_add_vms(d);
	if (r == 0)
		r = nestd_audit_setup(d);
	if (r == 0)
		r = nestd_setup_signals(d);
	if (r == 0)
		r = nestd_open_listeners(d);
	if (r == 0)
		r = notify_watchdog_setup(d);
	if (r < 0) {
		nestd_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

/* Tell every client we stop, tear every VM down. */
static void nestd_shutdown(struct nestd *d)
{
	struct nest_ev_shutdown ev = {.size = sizeof(ev), .reason = 0};
	struct conn *c;

	d->stopping = true;
	while ((c = TAILQ_FIRST(&d->conns))) {
		if (c->kind == NEST_SOCK_VM)
			conn_send_event(c, NEST_EV_SHUTDOWN, &ev, sizeof(ev));
		conn_close(c, "daemon stopping");
	}
	for (size_t i = 0; i < d->n_vms; i++)
		vm_teardown(d->vms[i], "nestd stopping");
}

int nestd_run(struct nestd *d)
{
	nestd_update_status(d);
	notify_ready(d);
	event_base_dispatch(d->base);
	notify_stopping();
	nestd_shutdown(d);
	return 0;
}

struct nestd *nestd_free(struct nestd *d)
{
	if (!d)
		return NULL;
	d->stopping = true;
	if (d->ev_sigterm)
		event_free(d->ev_sigterm);
	if (d->ev_sigint)
		event_free(d->ev_sigint);
	if (d->ev_sighup)
		event_free(d->ev_sighup);
	/* freeing the events restored SIG_DFL: a late SIGTERM must not cut the teardown short */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	while (!TAILQ_EMPTY(&d->conns))
		conn_close(TAILQ_FIRST(&d->conns), "daemon stopping");
	conn_reap_all(d);
	for (size_t i = 0; i < d->n_vms; i++)
		vm_free(d->vms[i]);
	free(d->vms);
	listener_free(d->vm_lsn);
	listener_free(d->admin_lsn);
	if (d->ev_backend)
		event_free(d->ev_backend);
	if (d->ev_watchdog)
		event_free(d->ev_watchdog);
	audit_rate_on_fold_release(d);
	if (d->ev_audit)
		event_free(d->ev_audit);
	d->ev_audit = NULL;
	audit_rate_flush(); /* the exact counts of what was folded, before nestd goes */
	if (d->be_ops)
		d->be_ops->close(d->be);
	if (d->base)
		event_base_free(d->base);
	nestd_config_free(d->cfg);
	free(d->rxbuf);
	free(d->txbuf);
	txbatch_fini(&d->tx);
	free(d);
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * reload.c - SIGHUP / admin "reload": parse the config again and swap it in only if it is good.
 *
 * What a reload changes: the VM list (new VMs appear; removed VMs with a live client get
 * NEST_EV_SHUTDOWN reason 2, are torn down and the client is disconnected; held ones are torn
 * down), the policy of VMs that are not attached (an attached or held VM keeps the copy it was
 * attached with until its teardown; who may attach it is always decided by the current
 * configuration, so a held VM cannot be re-attached by an owner the reload removed), the limits
 * of connections accepted from then on, and the log level (unless --log-level was given).
 * Backend and socket paths need a restart.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "vm.h"

static void reload_drop_vm(struct vm *vm)
{
	struct nest_ev_shutdown ev = {.size = sizeof(ev), .reason = 2};

	vm->removed = true; /* before the release below: no grace period for it */
	if (vm->conn) {
		struct conn *c = vm->conn;

		conn_send_event(c, NEST_EV_SHUTDOWN, &ev, sizeof(ev));
		conn_close(c, "VM removed from the configuration");
	}
	vm_teardown(vm, "removed from the configuration");
}

/* A VM in use keeps its policy until teardown, except that devices taken away are gone now. */
static void reload_drop_devices(struct vm *vm, const struct nestd_vm_cfg *vc)
{
	for (size_t i = 0; i < vm->cfg.n_devices; i++) {
		bool kept = false;

		for (size_t j = 0; j < vc->n_devices && !kept; j++)
			kept = vc->devices[j].id == vm->cfg.devices[i].id;
		if (!kept)
			vm_device_gone(vm, (int)i, true);
	}
}

static int reload_apply(struct nestd *d, struct nestd_config *nc)
{
	struct vm **v = realloc(d->vms, (d->n_vms + nc->n_vms + 1) * sizeof(*v));
	size_t n_old = d->n_vms;

	if (!v)
		return -ENOMEM;
	d->vms = v;
	for (size_t i = 0; i < n_old; i++) {
		struct vm *vm = d->vms[i];
		const struct nestd_vm_cfg *vc;

		if (vm->removed)
			continue;
		vc = nestd_config_find_vm(nc, vm->cfg.name);
		if (!vc) {
			reload_drop_vm(vm);
			continue;
		}
		if (vm->state != VM_DETACHED)
			reload_drop_devices(vm, vc);
		vm_set_cfg(vm, vc);
	}
	for (size_t i = 0; i < nc->n_vms; i++) {
		if (nestd_find_vm(d, nc->vms[i].name))
			continue;
		if (vm_new(d, &nc->vms[i], &d->vms[d->n_vms]) == 0)
			d->n_vms++;
	}
	return 0;
}

int nestd_reload(struct nestd *d, const struct ucred *who, char *err, size_t errlen)
{
	const char *path = d->args.config_path ? d->args.config_path : NESTD_CONFIG_PATH;
	struct audit_rec ar = {.vm = "-",
			       .uid = who ? who->uid : getuid(),
			       .pid = who ? who->pid : getpid(),
			       .pasid = -1,
			       .op = "reload"};
	struct nestd_config *nc = NULL;
	int r;

	notify_reloading();
	err[0] = '\0';
	r = nestd_config_load(path, &nc, err, errlen);
	if (r == 0)
		r = nestd_check_backend_config(d, nc, err, errlen);
	if (r == 0)
		r = reload_apply(d, nc);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		log_msg(LOG_ERR, "reload failed, keeping the old configuration: %s", err);
		ar.result = r;
		audit_log(&ar, "%s", err);
		nestd_config_free(nc);
		notify_ready(d);
		return r;
	}
	nestd_config_free(d->cfg);
	d->cfg = nc; /* ownership moves into d */
	nestd_fd_limit_update(d);
	(void)nestd_audit_setup(d);
	if (d->args.log_level < 0)
		log_set_level(nc->log_level);
	nestd_reap_vms(d);
	audit_log(&ar, "configuration reloaded: %zu VM%s", nc->n_vms, plural_s(nc->n_vms));
	notify_ready(d);
	d->status[0] = '\0';
	nestd_update_status(d);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * vm.c - VM objects: attach / re-adopt, release with grace period, teardown, per-VM tables.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "log.h"
#include "vm.h"

static void vm_on_grace_expired(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;
	struct nestd *d = vm->d; /* nestd_reap_vms() may free vm */

	log_msg(LOG_INFO, "vm %s: grace period over, tearing down", vm->cfg.name);
	vm_teardown(vm, "grace period expired");
	nestd_reap_vms(d);
	nestd_update_status(d);
}

static void vm_on_prq(evutil_socket_t fd, short what, void *arg)
{
	vm_prq_flush(arg);
}

int vm_new(struct nestd *d, const struct nestd_vm_cfg *cfg, struct vm **ret)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		return -ENOMEM;
	vm->d = d;
	vm->cfg = *cfg;
	for (size_t i = 0; i < NESTD_VM_DEVICES_MAX; i++)
		vm->devices[i].fd = -1;
	vm->ev_grace = evtimer_new(d->base, vm_on_grace_expired, vm);
	vm->ev_prq = event_new(d->base, -1, 0, vm_on_prq, vm);
	/* one account for the VM's life: detaching and attaching again does not reset it */
	r = d->be_ops && d->be_ops->mem_acct_new ? d->be_ops->mem_acct_new(d->be, &vm->mem_acct)
						 : 0;
	if (!vm->ev_grace || !vm->ev_prq || r < 0) {
		if (vm->mem_acct)
			d->be_ops->mem_acct_free(d->be, vm->mem_acct);
		if (vm->ev_grace)
			event_free(vm->ev_grace);
		if (vm->ev_prq)
			event_free(vm->ev_prq);
		free(vm);
		return -ENOMEM;
	}
	*ret = vm;
	return 0;
}

struct vm *vm_free(struct vm *vm)
{
	if (!vm)
		return NULL;
	if (vm->state != VM_DETACHED)
		vm_teardown(vm, "daemon shutdown");
	if (vm->mem_acct) /* no context uses it any more */
		vm->d->be_ops->mem_acct_free(vm->d->be, vm->mem_acct);
	event_free(vm->ev_grace);
	event_free(vm->ev_prq);
	free(vm->prqs);
	free(vm->regions);
	free(vm->pasids);
	pasid_index_free(&vm->pasid_ix);
	pasid_index_free(&vm->gpasid_ix);
	free(vm);
	return NULL;
}

const char *vm_state_name(enum vm_state s)
{
	switch (s) {
	case VM_ATTACHED:
		return "attached";
	case VM_HELD:
		return "held";
	default:
		return "detached";
	}
}

bool vm_policy_allows(const struct vm *vm, const struct peer *p)
{
	/*
	 * The current configuration decides, not the copy an attached or held VM keeps: an owner
	 * that a reload removed must not re-attach a held VM under the old policy.
	 */
	const struct nestd_vm_cfg *vc =
		vm->d->cfg ? nestd_config_find_vm(vm->d->cfg, vm->cfg.name) : NULL;

	if (!vc)
		return false; /* not (or no longer) configured */
	for (size_t i = 0; i < vc->n_uids; i++)
		if (vc->uids[i] == p->cred.uid)
			return true;
	for (size_t i = 0; i < vc->n_gids; i++)
		if (peer_in_group(p, vc->gids[i]))
			return true;
	return false;
}

void vm_set_cfg(struct vm *vm, const struct nestd_vm_cfg *cfg)
{
	if (vm->state == VM_DETACHED)
		vm->cfg = *cfg;
}

/* A reload while the VM was in use left its old policy in place; pick up the current one. */
static void vm_refresh_cfg(struct vm *vm)
{
	const struct nestd_vm_cfg *vc;

	if (vm->removed || !vm->d->cfg)
		return;
	vc = nestd_config_find_vm(vm->d->cfg, vm->cfg.name);
	if (vc)
		vm->cfg = *vc;
}

/* Detach every attached device and free the context. Cannot fail. */
static void vm_ctx_destroy(struct vm *vm)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	for (size_t i = 0; i < vm->cfg.n_devices; i++) {
		struct vm_device *dev = &vm->devices[i];

		if (dev->attached)
			ops->device_detach(vm->d->be, vm->ctx, vm->cfg.devices[i].id);
		if (dev->fd >= 0)
			close(dev->fd);
		*dev = (struct vm_device){.fd = -1};
	}
	if (vm->ctx)
		ops->ctx_free(vm->d->be, vm->ctx);
	vm->ctx = NULL;
}

/* Create the backend context and put every policy device under it (R13: unwind on failure). */
static int vm_ctx_create(struct vm *vm, bool checker)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;
	struct nest_be_ctx_params p = {
		.pasid_quota = vm->cfg.pasid_quota,
		.checker = checker,
		.cookie = vm,
		.mem_acct = vm->mem_acct,
	};
	int r;

	r = ops->ctx_new(vm->d->be, &p, &vm->ctx);
	if (r < 0) {
		nestd_log_backend_error(vm->d, "vm %s: context", vm->cfg.name);
		return r;
	}
	for (size_t i = 0; i < vm->cfg.n_devices; i++) {
		const struct nestd_device_cfg *dc = &vm->cfg.devices[i];
		struct nest_be_dev bd = {
			.dev_id = dc->id,
			.name = dc->name,
			.ats = dc->ats,
			.pasid_bits = dc->pasid_bits,
			.pci = dc->pci[0] ? dc->pci : NULL,
			.mock = dc->mock,
		};
		int fd = -1;

		r = ops->device_attach(vm->d->be, vm->ctx, &bd, &fd);
		if (r < 0) {
			nestd_log_backend_error(vm->d, "vm %s: device %s", vm->cfg.name, dc->name);
			vm_ctx_destroy(vm);
			return r;
		}
		vm->devices[i].attached = true;
		vm->devices[i].fd = fd; /* owned by the VM; closed in vm_ctx_destroy() */
	}
	vm->checker = checker;
	vm->info = vm->d->be_info;
	if (ops->ctx_info)
		(void)ops->ctx_info(vm->d->be, vm->ctx, &vm->info); /* per-VM (kernel backends) */
	return 0;
}

int vm_attach(struct vm *vm, struct conn *c, bool checker, bool *ret_reattached)
{
	bool re = false;
	int r;

	switch (vm->state) {
	case VM_ATTACHED:
		return -EBUSY;
	case VM_HELD:
		event_del(vm->ev_grace);
		if (checker && !vm->checker && vm->d->be_ops->set_checker &&
		    vm->d->be_ops->set_checker(vm->d->be, vm->ctx, true) == 0)
			vm->checker = true;
		re = true;
		break;
	case VM_DETACHED:
		r = vm_ctx_create(vm, checker || vm->cfg.checker);
		if (r < 0)
			return r;
		memset(&vm->ctr, 0, sizeof(vm->ctr));
		break;
	}
	vm->state = VM_ATTACHED;
	vm->conn = c;
	vm->uid = c->peer.cred.uid;
	vm->pid = c->peer.cred.pid;
	*ret_reattached = re;
	return 0;
}

void vm_release(struct vm *vm, bool keep)
{
	if (vm->state != VM_ATTACHED)
		return;
	if (vm->conn)
		vm->conn->vm = NULL;
	vm->conn = NULL;
	if (keep && vm->cfg.grace_sec > 0 && !vm->removed && !vm->d->stopping) {
		struct timeval tv = {.tv_sec = vm->cfg.grace_sec};

		vm->state = VM_HELD;
		event_add(vm->ev_grace, &tv);
		vm_prq_refuse_all(vm); /* nobody will answer what the client was asked */
		/*
		 * An audit record (the VM's context outlives its client), not a plain log line:
		 * folded with the VM's other records when a VMM connects and drops in a loop.
		 */
		audit_log(&(struct audit_rec){.vm = vm->cfg.name,
					      .uid = vm->uid,
					      .pid = vm->pid,
					      .pasid = -1,
					      .op = "hold"},
			  "client gone: held for %u s", vm->cfg.grace_sec);
		return;
	}
	/* a stop or restart of nestd closes every connection: that, not the client, is the reason */
	vm_teardown(vm, vm->d->stopping ? "nestd stopping"
			: keep		? "client gone, no grace period"
					: "detached");
}

void vm_s1_clear(struct vm_s1 *s)
{
	free(s->data);
	*s = (struct vm_s1){0};
}

/* The books of @p once no device has it bound any more. */
static void vm_pasid_unbound(struct vm *vm, struct vm_pasid *p)
{
	p->bound = false;
	p->devs = 0;
	vm_s1_clear(&p->s1);
	vm->n_bound--;
}

void vm_pasid_unbind(struct vm *vm, struct vm_pasid *p)
{
	if (!p->bound)
		return;
	for (size_t i = 0; i < vm->cfg.n_devices; i++)
		if (vm->devices[i].attached && (p->devs >> i & 1))
			vm->d->be_ops->unbind(vm->d->be, vm->ctx, vm->cfg.devices[i].id, p->pasid);
	vm_pasid_unbound(vm, p);
}

void vm_pasid_unbind_dev(struct vm *vm, struct vm_pasid *p, int idx)
{
	if (!p->bound || !(p->devs >> idx & 1))
		return;
	if (vm->devices[idx].attached)
		vm->d->be_ops->unbind(vm->d->be, vm->ctx, vm->cfg.devices[idx].id, p->pasid);
	p->devs &= ~(UINT64_C(1) << idx);
	if (!p->devs)
		vm_pasid_unbound(vm, p);
}

void vm_rid_unbind(struct vm *vm, int idx)
{
	struct vm_device *dev = &vm->devices[idx];

	if (!dev->rid_bound)
		return;
	if (dev->attached)
		vm->d->be_ops->unbind(vm->d->be, vm->ctx, vm->cfg.devices[idx].id,
				      NEST_BE_PASID_RID);
	vm_s1_clear(&dev->rid);
	dev->rid_bound = false;
	vm->n_bound--;
}

void vm_device_unbind_all(struct vm *vm, int idx, bool backend)
{
	bool attached = vm->devices[idx].attached;

	if (!backend)
		vm->devices[idx].attached = false; /* books only: the backend call is skipped */
	for (uint32_t i = 0; i < vm->n_pasids; i++)
		vm_pasid_unbind_dev(vm, &vm->pasids[i], idx);
	vm_rid_unbind(vm, idx);
	vm->devices[idx].attached = attached;
}

void vm_teardown(struct vm *vm, const char *why)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;
	struct audit_rec ar = {
		.vm = vm->cfg.name, .uid = vm->uid, .pid = vm->pid, .pasid = -1, .op = "teardown"};
	uint32_t np = vm->n_pasids, nr = vm->n_regions;

	if (vm->state == VM_DETACHED)
		return;
	event_del(vm->ev_grace);
	if (vm->conn)
		vm->conn->vm = NULL;
	vm->conn = NULL;
	vm_prq_clear(vm); /* the backend answers what is still pending when the context goes */
	/* leaves first: bindings, PASIDs, stage 2, then devices and the context */
	while (vm->n_pasids) {
		struct vm_pasid *p = &vm->pasids[vm->n_pasids - 1];

		vm_pasid_unbind(vm, p);
		ops->pasid_free(vm->d->be, vm->ctx, NEST_BE_DEV_NONE, p->pasid);
		vm->n_pasids--;
	}
	pasid_index_clear(&vm->pasid_ix);
	pasid_index_clear(&vm->gpasid_ix);
	for (size_t i = 0; i < vm->cfg.n_devices; i++)
		vm_rid_unbind(vm, (int)i); /* the RIDs back on stage 2 before stage 2 goes */
	while (vm->n_regions) {
		struct vm_region *r = &vm->regions[vm->n_regions - 1];

		ops->unmap(vm->d->be, vm->ctx, r->gpa, r->len);
		vm->n_regions--;
	}
	vm->mem_bytes = 0;
	vm->n_bound = 0;
	vm_viommu_free_all(vm); /* before the devices they nest on */
	vm_ctx_destroy(vm);
	nestd_log_backend_error(vm->d, "vm %s: teardown", vm->cfg.name);
	vm->state = VM_DETACHED;
	audit_log(&ar, "%s; freed %u PASID%s, %u region%s", why, np, plural_s(np), nr,
		  plural_s(nr));
	vm_refresh_cfg(vm);
}

void vm_device_gone(struct vm *vm, int idx, bool detach)
{
	struct vm_device *dev = &vm->devices[idx];
	struct nest_ev_device_gone ev = {.size = sizeof(ev), .dev_id = vm->cfg.devices[idx].id};

	if (!dev->attached)
		return;
	vm_device_unbind_all(vm, idx, false); /* device_detach unbinds what is on the device */
	if (detach)
		vm->d->be_ops->device_detach(vm->d->be, vm->ctx, ev.dev_id);
	vm_viommu_forget_device(vm, ev.dev_id); /* the backend dropped those with the device */
	if (dev->fd >= 0)
		close(dev->fd);
	*dev = (struct vm_device){.fd = -1};
	log_msg(LOG_NOTICE, "vm %s: device %u is gone", vm->cfg.name, ev.dev_id);
	if (vm->conn)
		conn_send_event(vm->conn, NEST_EV_DEVICE_GONE, &ev, sizeof(ev));
}

struct vm_pasid *vm_pasid_find(struct vm *vm, uint32_t pasid)
{
	int64_t i = pasid_index_get(&vm->pasid_ix, pasid);

	return i < 0 ? NULL : &vm->pasids[i];
}

struct vm_pasid *vm_gpasid_find(struct vm *vm, uint32_t gpasid)
{
	int64_t i = gpasid ? pasid_index_get(&vm->gpasid_ix, gpasid) : -1;

	return i < 0 ? NULL : &vm->pasids[i];
}

int vm_device_index(const struct vm *vm, uint32_t dev_id)
{
	for (size_t i = 0; i < vm->cfg.n_devices; i++)
		if (vm->cfg.devices[i].id == dev_id)
			return (int)i;
	return -ENOENT;
}

int vm_pasid_add(struct vm *vm, uint32_t pasid, bool has_gpasid, uint32_t gpasid)
{
	if (vm->n_pasids == vm->cap_pasids) {
		uint32_t cap = vm->cap_pasids ? vm->cap_pasids * 2 : 16;
		struct vm_pasid *n = realloc(vm->pasids, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		vm->pasids = n;
		vm->cap_pasids = cap;
	}
	if (pasid_index_add(&vm->pasid_ix, pasid, vm->n_pasids) < 0)
		return -ENOMEM;
	if (has_gpasid && pasid_index_add(&vm->gpasid_ix, gpasid, vm->n_pasids) < 0) {
		pasid_index_del(&vm->pasid_ix, pasid);
		return -ENOMEM;
	}
	vm->pasids[vm->n_pasids++] = (struct vm_pasid){
		.pasid = pasid,
		.gpasid = gpasid,
		.has_gpasid = has_gpasid,
	};
	return 0;
}

int vm_pasid_set_gpasid(struct vm *vm, struct vm_pasid *p, uint32_t gpasid)
{
	if (pasid_index_add(&vm->gpasid_ix, gpasid, (uint32_t)(p - vm->pasids)) < 0)
		return -ENOMEM;
	p->has_gpasid = true;
	p->gpasid = gpasid;
	return 0;
}

void vm_pasid_clear_gpasid(struct vm *vm, struct vm_pasid *p)
{
	if (!p->has_gpasid)
		return;
	pasid_index_del(&vm->gpasid_ix, p->gpasid);
	p->has_gpasid = false;
	p->gpasid = 0;
}

void vm_pasid_remove(struct vm *vm, struct vm_pasid *p)
{
	uint32_t i = (uint32_t)(p - vm->pasids);

	pasid_index_del(&vm->pasid_ix, p->pasid);
	if (p->has_gpasid)
		pasid_index_del(&vm->gpasid_ix, p->gpasid);
	vm->pasids[i] = vm->pasids[--vm->n_pasids]; /* order does not matter */
	if (i < vm->n_pasids) {
		pasid_index_move(&vm->pasid_ix, vm->pasids[i].pasid, i);
		if (vm->pasids[i].has_gpasid)
			pasid_index_move(&vm->gpasid_ix, vm->pasids[i].gpasid, i);
	}
}

int vm_region_find(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	for (uint32_t i = 0; i < vm->n_regions; i++)
		if (vm->regions[i].gpa == gpa && vm->regions[i].len == len)
			return (int)i;
	return -ENOENT;
}

bool vm_region_overlaps(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	/* [gpa, gpa + len) does not wrap: checked by the caller */
	for (uint32_t i = 0; i < vm->n_regions; i++) {
		const struct vm_region *r = &vm->regions[i];

		if (gpa < r->gpa + r->len && r->gpa < gpa + len)
			return true;
	}
	return false;
}

int vm_region_insert(struct vm *vm, const struct vm_region *r)
{
	uint32_t i;

	if (vm->n_regions == vm->cap_regions) {
		uint32_t cap = vm->cap_regions ? vm->cap_regions * 2 : 8;
		struct vm_region *n = realloc(vm->regions, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		vm->regions = n;
		vm->cap_regions = cap;
	}
	for (i = 0; i < vm->n_regions && vm->regions[i].gpa < r->gpa; i++)
		;
	memmove(&vm->regions[i + 1], &vm->regions[i], (vm->n_regions - i) * sizeof(*r));
	vm->regions[i] = *r;
	vm->n_regions++;
	vm->mem_bytes += r->len;
	return 0;
}

void vm_region_delete(struct vm *vm, int idx)
{
	vm->mem_bytes -= vm->regions[idx].len;
	memmove(&vm->regions[idx], &vm->regions[idx + 1],
		(vm->n_regions - (uint32_t)idx - 1) * sizeof(vm->regions[0]));
	vm->n_regions--;
}

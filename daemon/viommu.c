/* SPDX-License-Identifier: MIT */
/*
 * viommu.c - vIOMMU objects (PROTOCOL.md §8.17-§8.20, §10.3): VIOMMU_ALLOC, VIOMMU_FREE,
 * VDEVICE_ALLOC, VIOMMU_INVALIDATE, VIOMMU_ATTACH, VIOMMU_DETACH (§8.21, §8.22), and which of a VM's vIOMMU events reach its client.
 *
 * The backend owns the kernel objects (vIOMMU, its vDEVICEs and event queue) and names them by
 * VM-local ids; nestd keeps the list of a VM's live vIOMMU ids and the device each was allocated
 * on, so that an id of another VM answers ENOENT before the backend is asked, the per-VM cap
 * (NEST_VIOMMUS_PER_VM_MAX) holds, and the admin views show them. A vIOMMU goes with VIOMMU_FREE,
 * with the device it nests on (the backend drops it with the device) and with the VM's teardown.
 * vDEVICEs are the backend's only: they go with their vIOMMU or their device. nestd also keeps
 * which devices' RIDs sit on a nested HWPT of each vIOMMU (VIOMMU_ATTACH), so that VIOMMU_DETACH
 * of something not attached is ENOENT before the backend, VIOMMU_FREE and teardown detach first,
 * and vm.show lists them. DEVICE_PUT takes the device off every vIOMMU (its attachment and its
 * vDEVICEs; the vIOMMUs stay, they are the VM's).
 *
 * vEVENTs need no answer: one that no client can take (none attached, minor 0, no "viommu" in
 * HELLO, a full output queue, a vIOMMU nestd does not know) is dropped and counted.
 */
#include <errno.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

/* Never a connection-closing errno from a backend (PROTOCOL.md §12). */
static int viommu_be_errno(int r)
{
	return r > 0 || r == -EPERM || r == -EPROTO || r <= -4096 ? -EIO : r;
}

static bool viommu_supported(const struct vm *vm)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	return (vm->info.features & NEST_FEAT_VIOMMU) && ops->viommu_alloc && ops->viommu_free;
}

struct vm_viommu *vm_viommu_find(struct vm *vm, uint32_t id)
{
	for (uint32_t i = 0; i < vm->n_viommus; i++)
		if (vm->viommus[i].id == id)
			return &vm->viommus[i];
	return NULL;
}

/* An attached device of this VM, by policy id. */
static bool viommu_dev_ok(const struct vm *vm, uint32_t dev_id)
{
	int idx = vm_device_index(vm, dev_id);

	return idx >= 0 && vm->devices[idx].attached;
}

/* Index of @dev_id in @v's attached devices, or -1. */
static int viommu_attached_index(const struct vm_viommu *v, uint32_t dev_id)
{
	for (uint32_t i = 0; i < v->n_attached; i++)
		if (v->attached[i] == dev_id)
			return (int)i;
	return -1;
}

static void viommu_attached_remove(struct vm_viommu *v, int idx)
{
	v->attached[idx] = v->attached[--v->n_attached]; /* order does not matter */
}

/* Put every RID attached to @v back on its parent (before @v is freed). */
static void viommu_detach_all(struct vm *vm, struct vm_viommu *v)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	while (v->n_attached) {
		uint32_t dev_id = v->attached[--v->n_attached];

		if (vm->ctx && ops->viommu_detach)
			ops->viommu_detach(vm->d->be, vm->ctx, v->id, dev_id);
	}
}

void vm_viommu_forget_device(struct vm *vm, uint32_t dev_id)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < vm->n_viommus; i++) {
		struct vm_viommu *v = &vm->viommus[i];
		int k = viommu_attached_index(v, dev_id);

		if (k >= 0)
			viommu_attached_remove(v, k);
		if (v->dev_id != dev_id)
			vm->viommus[j++] = *v;
	}
	vm->n_viommus = j;
}

int vm_viommu_put_device(struct vm *vm, uint32_t dev_id, uint32_t *ret_viommu)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	for (uint32_t i = 0; vm->ctx && i < vm->n_viommus; i++) {
		struct vm_viommu *v = &vm->viommus[i];
		int k = viommu_attached_index(v, dev_id), r = 0;

		if (ops->vdevice_free)
			r = ops->vdevice_free(vm->d->be, vm->ctx, v->id, dev_id);
		else if (k >= 0 && ops->viommu_detach)
			ops->viommu_detach(vm->d->be, vm->ctx, v->id, dev_id);
		if (r < 0 && r != -ENOENT) {
			/* nothing changed there: the RID is still on the vIOMMU's nested HWPT */
			nestd_log_backend_error(vm->d, "vm %s: device-put: vIOMMU %u device %u",
						vm->cfg.name, v->id, dev_id);
			*ret_viommu = v->id;
			return viommu_be_errno(r);
		}
		if (k >= 0)
			viommu_attached_remove(v, k);
	}
	return 0;
}

void vm_viommu_free_all(struct vm *vm)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	while (vm->n_viommus) {
		struct vm_viommu *v = &vm->viommus[--vm->n_viommus];

		viommu_detach_all(vm, v);
		if (vm->ctx && ops->viommu_free)
			ops->viommu_free(vm->d->be, vm->ctx, v->id);
	}
}

/*
 * VIOMMU_ALLOC. Order: what VM_ATTACH announced (NEST_FEAT_VIOMMU) and a backend that can,
 * the type it announced, the device (ENOENT: not this VM's, or gone), the per-VM cap (ENOSPC),
 * then the backend's errno. Audited.
 */
int op_viommu_alloc(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_viommu_alloc *a = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, c->vm->cfg.name, -1, "viommu-alloc");
	struct nest_viommu_reply out = {.size = sizeof(out)};
	uint32_t id = 0;
	int r = 0;

	if (!viommu_supported(vm) || a->type != vm->info.viommu_type)
		r = -EOPNOTSUPP;
	else if (!viommu_dev_ok(vm, a->dev_id))
		r = -ENOENT;
	else if (vm->n_viommus >= NEST_VIOMMUS_PER_VM_MAX)
		r = -ENOSPC;
	if (r == 0) {
		r = viommu_be_errno(
			c->d->be_ops->viommu_alloc(c->d->be, vm->ctx, a->dev_id, a->type, &id));
		if (r < 0)
			nestd_log_backend_error(c->d, "vm %s: viommu-alloc on device %u",
						vm->cfg.name, a->dev_id);
	}
	if (r == 0 && (id == 0 || vm_viommu_find(vm, id))) {
		/* a backend bug: the id would be ambiguous; give it back */
		if (id)
			c->d->be_ops->viommu_free(c->d->be, vm->ctx, id);
		r = -EIO;
	}
	if (r == 0)
		vm->viommus[vm->n_viommus++] = (struct vm_viommu){.id = id, .dev_id = a->dev_id};
	ar.result = r;
	audit_log(&ar, "device %u type %u%s%u", a->dev_id, a->type, r == 0 ? ": vIOMMU " : "",
		  r == 0 ? id : 0);
	if (r < 0)
		return r;
	out.viommu_id = id;
	op_reply_set(rp, &out, sizeof(out));
	return 0;
}

int op_viommu_free(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_viommu_free *f = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, c->vm->cfg.name, -1, "viommu-free");
	struct vm_viommu *v = NULL;
	int r = 0;

	if (!viommu_supported(vm))
		r = -EOPNOTSUPP;
	else if (!(v = vm_viommu_find(vm, f->viommu_id)))
		r = -ENOENT; /* another VM's id too: ids are VM-local */
	if (r == 0) {
		viommu_detach_all(vm, v); /* the backend would too; keep the two in step */
		c->d->be_ops->viommu_free(c->d->be, vm->ctx, f->viommu_id);
		*v = vm->viommus[--vm->n_viommus]; /* order does not matter */
	}
	ar.result = r;
	audit_log(&ar, "vIOMMU %u", f->viommu_id);
	return r;
}

/*
 * VDEVICE_ALLOC. Order: feature and backend op (EOPNOTSUPP), the vIOMMU, then the device
 * (ENOENT: not this VM's), then the backend (EEXIST virtual id taken on that vIOMMU, EBUSY the
 * device has one there already, ENOSPC). Audited.
 */
int op_vdevice_alloc(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_vdevice_alloc *a = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, c->vm->cfg.name, -1, "vdevice-alloc");
	int r = 0;

	if (!viommu_supported(vm) || !c->d->be_ops->vdevice_alloc)
		r = -EOPNOTSUPP;
	else if (!vm_viommu_find(vm, a->viommu_id) || !viommu_dev_ok(vm, a->dev_id))
		r = -ENOENT;
	if (r == 0) {
		r = viommu_be_errno(c->d->be_ops->vdevice_alloc(c->d->be, vm->ctx, a->viommu_id,
								a->dev_id, a->virt_id));
		if (r < 0 && r != -EEXIST && r != -EBUSY)
			nestd_log_backend_error(c->d, "vm %s: vdevice-alloc vIOMMU %u device %u",
						vm->cfg.name, a->viommu_id, a->dev_id);
	}
	ar.result = r;
	audit_log(&ar, "vIOMMU %u device %u virtual id 0x%llx", a->viommu_id, a->dev_id,
		  (unsigned long long)a->virt_id);
	return r;
}

/*
 * VIOMMU_INVALIDATE: the kernel's own entries, addressed to one vIOMMU. The daemon checks the
 * request (batch limit, feature, announced type, vIOMMU); the backend checks each entry for its
 * type (and that a virtual device it names is this vIOMMU's) and hands the valid prefix to the
 * kernel in one call. Not audited: the hot path (the counters show it).
 */
int op_viommu_invalidate(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_viommu_invalidate *in = rq->req;
	const struct nest_tail *t = &rq->tail;
	struct vm *vm = c->vm;
	struct nest_invalidate_reply out = {.size = sizeof(out), .done = t->entry_num};
	uint32_t done = 0;
	int r;

	if (t->entry_num == 0 || t->entry_num > c->caps.max_batch)
		return -EINVAL;
	if (!viommu_supported(vm) || !c->d->be_ops->viommu_invalidate)
		return -EOPNOTSUPP; /* VM_ATTACH said so */
	if (in->data_type != vm->info.viommu_inv_data_type)
		return -EOPNOTSUPP;
	if (!vm_viommu_find(vm, in->viommu_id))
		return -ENOENT; /* one vIOMMU for the whole batch: a request-level error */
	r = c->d->be_ops->viommu_invalidate(c->d->be, vm->ctx, in->viommu_id, in->data_type, t->ptr,
					    t->entry_len, t->entry_num, &done);
	if (r != 0) {
		nestd_log_backend_error(c->d, "vm %s: viommu-invalidate vIOMMU %u", vm->cfg.name,
					in->viommu_id);
		if (done >= t->entry_num)
			done = t->entry_num - 1; /* an error stops at an entry of the batch */
		out.done = done;
		out.first_error = r < 0 && -r < 4096 ? -r : EIO;
	}
	vm->ctr.invalidations++;
	vm->ctr.inv_entries += out.done;
	op_reply_set(rp, &out, sizeof(out));
	return 0;
}

/* Whether @dev_id's RID is attached to a vIOMMU of @vm other than @v. */
static bool viommu_attached_elsewhere(const struct vm *vm, const struct vm_viommu *v,
				      uint32_t dev_id)
{
	for (uint32_t i = 0; i < vm->n_viommus; i++)
		if (&vm->viommus[i] != v && viommu_attached_index(&vm->viommus[i], dev_id) >= 0)
			return true;
	return false;
}

/*
 * VIOMMU_ATTACH: the SMMUv3 shape of a stage-1 bind. The tail (exactly data_len bytes,
 * 1..NEST_NATIVE_DATA_MAX) was checked by the generic decoder. Order: feature and backend ops
 * (EOPNOTSUPP), the data type VM_ATTACH announced for BIND_NATIVE (EOPNOTSUPP), the vIOMMU, then
 * the device (ENOENT: not this VM's), the device's RID (EBUSY: bound with NEST_BIND_F_RID, or
 * attached to another vIOMMU of the VM), then the backend (ENOENT: no vDEVICE of the device on
 * that vIOMMU, EBUSY: attached already; never EPERM). Audited.
 */
int op_viommu_attach(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_viommu_attach *a = rq->req;
	const struct nest_backend_ops *ops = c->d->be_ops;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, c->vm->cfg.name, -1, "viommu-attach");
	struct vm_viommu *v = NULL;
	int r = 0;

	if (!viommu_supported(vm) || !ops->viommu_attach || !ops->viommu_detach)
		r = -EOPNOTSUPP;
	else if (a->data_type != vm->info.hwpt_data_type)
		r = -EOPNOTSUPP;
	else if (!(v = vm_viommu_find(vm, a->viommu_id)) || !viommu_dev_ok(vm, a->dev_id))
		r = -ENOENT; /* another VM's ids too: ids are VM-local */
	else if (vm->devices[vm_device_index(vm, a->dev_id)].rid_bound)
		r = -EBUSY; /* its RID has a stage 1 of BIND with NEST_BIND_F_RID */
	else if (viommu_attached_elsewhere(vm, v, a->dev_id))
		r = -EBUSY; /* the kernel would move the RID and the books would have it twice */
	if (r == 0) {
		r = viommu_be_errno(ops->viommu_attach(c->d->be, vm->ctx, a->viommu_id, a->dev_id,
						       a->data_type, rq->tail.ptr,
						       (uint32_t)rq->tail.len));
		if (r < 0 && r != -ENOENT && r != -EBUSY)
			nestd_log_backend_error(c->d, "vm %s: viommu-attach vIOMMU %u device %u",
						vm->cfg.name, a->viommu_id, a->dev_id);
	}
	if (r == 0 && viommu_attached_index(v, a->dev_id) < 0) {
		if (v->n_attached < NESTD_VM_DEVICES_MAX) {
			v->attached[v->n_attached++] = a->dev_id;
		} else { /* a backend bug: more RIDs than devices; give it back */
			ops->viommu_detach(c->d->be, vm->ctx, a->viommu_id, a->dev_id);
			r = -EIO;
		}
	}
	ar.result = r;
	audit_log(&ar, "vIOMMU %u device %u data type %u, %zu bytes", a->viommu_id, a->dev_id,
		  a->data_type, rq->tail.len);
	return r;
}

bool vm_viommu_rid_attached(const struct vm *vm, uint32_t dev_id)
{
	for (uint32_t i = 0; i < vm->n_viommus; i++)
		if (viommu_attached_index(&vm->viommus[i], dev_id) >= 0)
			return true;
	return false;
}

/* VIOMMU_DETACH: ENOENT unless the device's RID is attached to that vIOMMU of this VM. Audited. */
int op_viommu_detach(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_viommu_detach *dt = rq->req;
	const struct nest_backend_ops *ops = c->d->be_ops;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, c->vm->cfg.name, -1, "viommu-detach");
	struct vm_viommu *v = NULL;
	int k = -1, r = 0;

	if (!viommu_supported(vm) || !ops->viommu_attach || !ops->viommu_detach)
		r = -EOPNOTSUPP;
	else if (!(v = vm_viommu_find(vm, dt->viommu_id)) ||
		 (k = viommu_attached_index(v, dt->dev_id)) < 0)
		r = -ENOENT;
	if (r == 0) {
		ops->viommu_detach(c->d->be, vm->ctx, dt->viommu_id, dt->dev_id);
		viommu_attached_remove(v, k);
	}
	ar.result = r;
	audit_log(&ar, "vIOMMU %u device %u", dt->viommu_id, dt->dev_id);
	return r;
}

bool vm_vevent_deliverable(const struct vm *vm)
{
	const struct conn *c = vm->conn;

	return c && !c->dead && !c->doomed && c->peer_minor >= 1 &&
	       (c->peer_features & NEST_FEAT_VIOMMU) && (vm->info.features & NEST_FEAT_VIOMMU);
}

void vm_vevent(struct vm *vm, const struct nest_be_vevent *bev)
{
	struct nest_ev_vevent ev = {
		.size = sizeof(ev),
		.flags = bev->flags & NEST_VEVENT_F_VALID,
		.viommu_id = bev->viommu,
		.sequence = bev->sequence,
		.data_len = bev->len <= NEST_VEVENT_DATA_MAX ? bev->len : NEST_VEVENT_DATA_MAX,
	};
	bool sent = false;

	vm->ctr.vevents++;
	vm->d->stats.vevents++;
	if (vm_vevent_deliverable(vm) && vm_viommu_find(vm, bev->viommu))
		sent = conn_send(vm->conn,
				 &(struct nest_msg_hdr){.op = NEST_EV_VEVENT,
							.flags = NEST_MSG_F_EVENT},
				 &ev, sizeof(ev), bev->data, ev.data_len, -1) == 0;
	if (sent) {
		vm->d->stats.events++;
	} else {
		vm->ctr.vevents_dropped++;
		vm->d->stats.vevents_dropped++;
	}
}

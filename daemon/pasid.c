/* SPDX-License-Identifier: MIT */
/*
 * pasid.c - PASID_ALLOC / PASID_FREE: per-VM ownership, quota, gpasid -> hpasid mapping.
 *
 * On the sim (and VT-d) PASIDs are system-wide: the backend's allocator hands them out and the
 * VM records what it owns. A PASID owned by another VM is simply not in this VM's table, so it
 * answers ENOENT exactly like one that does not exist.
 */
#include <errno.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

static bool pasid_range_ok(uint32_t min, uint32_t max)
{
	return min >= 1 && min <= max && max <= NEST_PASID_MAX;
}

int op_pasid_alloc(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_pasid_alloc *a = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = {.vm = vm->cfg.name,
			       .uid = c->peer.cred.uid,
			       .pid = c->peer.cred.pid,
			       .pasid = -1,
			       .op = "pasid-alloc"};
	bool has_g = a->flags & NEST_PASID_F_GPASID;
	struct nest_pasid_reply out = {.size = sizeof(out)};
	uint32_t pasid = 0;
	int r = 0;

	if (vm->info.pasid_bits == 0)
		return -EOPNOTSUPP; /* VM_ATTACH said so: no PASIDs on this backend/IOMMU */
	if (!pasid_range_ok(a->min, a->max))
		return -EINVAL;
	if (has_g && (a->gpasid < 1 || a->gpasid > NEST_PASID_MAX))
		return -EINVAL;
	if (!has_g && a->gpasid)
		return -EINVAL; /* gpasid without the flag that says it is valid */
	if (has_g && vm_gpasid_find(vm, a->gpasid))
		r = -EEXIST;
	else if (vm->n_pasids >= vm->cfg.pasid_quota)
		r = -ENOSPC;
	if (r == 0)
		r = c->d->be_ops->pasid_alloc(c->d->be, vm->ctx, NEST_BE_DEV_NONE, a->min, a->max,
					      &pasid);
	if (r < 0)
		nestd_log_backend_error(c->d, "vm %s: pasid-alloc", vm->cfg.name);
	if (r == 0) {
		r = vm_pasid_add(vm, pasid, has_g, a->gpasid);
		if (r < 0)
			c->d->be_ops->pasid_free(c->d->be, vm->ctx, NEST_BE_DEV_NONE, pasid);
	}
	ar.result = r;
	ar.pasid = r == 0 ? (int64_t)pasid : -1;
	audit_log(&ar, "range %u-%u%s", a->min, a->max, has_g ? " with gpasid" : "");
	if (r < 0)
		return r;
	out.pasid = pasid;
	op_reply_set(rp, &out, sizeof(out));
	return 0;
}

int op_pasid_free(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_pasid_free *f = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = {.vm = vm->cfg.name,
			       .uid = c->peer.cred.uid,
			       .pid = c->peer.cred.pid,
			       .op = "pasid-free"};
	struct nest_pasid_reply out = {.size = sizeof(out)};
	uint32_t i = 0;

	if (!pasid_range_ok(f->min, f->max))
		return -EINVAL;
	while (i < vm->n_pasids) {
		struct vm_pasid *p = &vm->pasids[i];

		if (p->pasid < f->min || p->pasid > f->max) {
			i++;
			continue;
		}
		ar.pasid = p->pasid;
		vm_pasid_unbind(vm, p); /* free implies unbind */
		c->d->be_ops->pasid_free(c->d->be, vm->ctx, NEST_BE_DEV_NONE, p->pasid);
		vm_pasid_remove(vm, p); /* moves the last entry into slot i */
		audit_log(&ar, "freed");
		out.pasid++;
	}
	if (out.pasid == 0)
		return -ENOENT; /* nothing of ours in the range (another VM's look the same) */
	op_reply_set(rp, &out, sizeof(out));
	return 0;
}

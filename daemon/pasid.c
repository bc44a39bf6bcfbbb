/* SPDX-License-Identifier: MIT */
/*
 * pasid.c - PASID_ALLOC / PASID_FREE: per-VM ownership, quota, gpasid -> hpasid mapping.
 *
 * On the sim (and VT-d) PASIDs are system-wide: the backend's allocator hands them out and the
 * VM records what it owns. A PASID owned by another VM is simply not in this VM's table, so it
 * answers ENOENT exactly like one that does not exist.
 *
 * Where a VM can allocate (docs/SECURITY.md "What a VM can learn"): a VM with PASIDRange= only
 * inside its own window, which no other VM can allocate in, so what PASID_ALLOC answers depends
 * on its own holdings alone; a VM without one in the shared pool, i.e. outside every configured
 * window, where other window-less VMs' holdings show through.
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

/*
 * Allocate in [min, max] where this VM may: its window, or the gaps between the configured
 * windows, lowest gap first (at most NESTD_VMS_MAX + 1 backend calls; one when no window lies
 * in [min, max]). Each gap is a binary search of the configuration's sorted windows.
 */
static int pasid_alloc_where_allowed(struct conn *c, struct vm *vm, uint32_t min, uint32_t max,
				     uint32_t *ret)
{
	const struct nestd_config *cfg = c->d->cfg;
	uint64_t lo = min;

	if (vm->cfg.pasid_max) {
		if (min < vm->cfg.pasid_min)
			min = vm->cfg.pasid_min;
		if (max > vm->cfg.pasid_max)
			max = vm->cfg.pasid_max;
		if (min > max)
			return -ENOSPC; /* nothing of the request is in the VM's window */
		return c->d->be_ops->pasid_alloc(c->d->be, vm->ctx, NEST_BE_DEV_NONE, min, max,
						 ret);
	}
	while (lo <= max) {
		uint32_t glo, ghi;
		int r;

		if (!nestd_pasid_windows_gap(&cfg->pasid_windows, (uint32_t)lo, max, &glo, &ghi))
			break;
		r = c->d->be_ops->pasid_alloc(c->d->be, vm->ctx, NEST_BE_DEV_NONE, glo, ghi, ret);
		if (r != -ENOSPC)
			return r;
		lo = (uint64_t)ghi + 1;
	}
	return -ENOSPC;
}

int op_pasid_alloc(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_pasid_alloc *a = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "pasid-alloc");
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
		r = pasid_alloc_where_allowed(c, vm, a->min, a->max, &pasid);
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

/* Unbind, free and forget @p (which vm_pasid_remove() overwrites with the VM's last PASID). */
static void pasid_free_one(struct conn *c, struct vm *vm, struct vm_pasid *p, struct audit_rec *ar)
{
	ar->pasid = p->pasid;
	vm_pasid_unbind(vm, p); /* free implies unbind */
	c->d->be_ops->pasid_free(c->d->be, vm->ctx, NEST_BE_DEV_NONE, p->pasid);
	vm_pasid_remove(vm, p);
	audit_log(ar, "freed");
}

int op_pasid_free(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_pasid_free *f = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "pasid-free");
	struct nest_pasid_reply out = {.size = sizeof(out)};
	uint32_t i = 0;

	if (!pasid_range_ok(f->min, f->max))
		return -EINVAL;
	if (f->max - f->min < vm->n_pasids) {
		/* a range narrower than what the VM holds (one PASID, usually): look each up */
		for (uint64_t pasid = f->min; pasid <= f->max; pasid++) {
			struct vm_pasid *p = vm_pasid_find(vm, (uint32_t)pasid);

			if (p) {
				pasid_free_one(c, vm, p, &ar);
				out.pasid++;
			}
		}
	} else {
		while (i < vm->n_pasids) {
			struct vm_pasid *p = &vm->pasids[i];

			if (p->pasid < f->min || p->pasid > f->max) {
				i++;
				continue;
			}
			pasid_free_one(c, vm, p, &ar); /* moves the last entry into slot i */
			out.pasid++;
		}
	}
	if (out.pasid == 0)
		return -ENOENT; /* nothing of ours in the range (another VM's look the same) */
	op_reply_set(rp, &out, sizeof(out));
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * invalidate.c - INVALIDATE: a batch of cache invalidations, the hot path.
 *
 * Entries are processed in order and processing stops at the first failure; the reply says how
 * many were done and why the next one failed. Each entry is fully checked (validity table,
 * PASID ownership) before the backend sees it, then applied on every device of the VM its PASID
 * is bound on (all of them, or the subset of BIND with NEST_BIND_F_DEVICE; none while it is bound
 * nowhere). An entry for every PASID (DOMAIN, or ADDR with PASID 0) goes to every device and is
 * the backend's to spread over the VM's own objects (its sim domain, its bound PASIDs, the RIDs'
 * tables): it never reaches beyond the VM.
 *
 * INVALIDATE_NATIVE: a batch of the kernel's own entries on one bound PASID. The daemon checks
 * the request (batch limit, announced type, PASID); the backend checks each entry for its type
 * and hands the valid prefix to the kernel, on every device.
 */
#include <errno.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

/*
 * The PASID an earlier entry of the same request was found to own (pasid 0: none yet) and the
 * devices it is bound on: nothing changes ownership or bindings in the middle of a request, so a
 * run of entries on one PASID (the usual batch) looks it up once.
 */
struct inv_owner {
	uint32_t pasid;
	uint64_t devs;
};

/*
 * Everything the daemon checks of one entry, in the order of the errno vocabulary. *@devs: the
 * devices the entry reaches, by index: those its PASID is bound on (all of the VM's, or the
 * subset of BIND with NEST_BIND_F_DEVICE; none while it is bound nowhere), or every device for
 * an entry for every PASID.
 */
static inline int invalidate_check(struct vm *vm, const struct nest_inv_entry *e,
				   struct inv_owner *o, uint64_t *devs)
{
	const struct vm_pasid *p;
	int r = nest_inv_entry_check(e);

	if (r < 0)
		return r;
	if (!(vm->info.features & NEST_FEAT_CACHE_INVLD))
		return -EOPNOTSUPP; /* VM_ATTACH said so */
	/* a checked entry has PASID 0 exactly when it is for every PASID: nest_inv_all_pasids() */
	if (e->pasid == 0) {
		*devs = UINT64_MAX;
		return 0;
	}
	if (e->pasid != o->pasid) {
		if (!(p = vm_pasid_find(vm, e->pasid)))
			return -ENOENT;
		o->pasid = e->pasid;
		o->devs = p->devs;
	}
	*devs = o->devs;
	return 0;
}

static int invalidate_one(struct vm *vm, const struct nest_inv_entry *e, struct inv_owner *o)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;
	uint64_t devs;
	int r = invalidate_check(vm, e, o, &devs);

	if (r < 0)
		return r;
	for (size_t i = 0; i < vm->cfg.n_devices; i++) {
		if (!vm->devices[i].attached || !(devs >> i & 1))
			continue;
		r = ops->invalidate(vm->d->be, vm->ctx, vm->cfg.devices[i].id, e);
		if (r < 0) {
			nestd_log_backend_error(vm->d, "vm %s: invalidate", vm->cfg.name);
			return r;
		}
	}
	return 0;
}

/*
 * Device @i's part of the checked prefix @e (@n entries, @devs[k] the devices entry k reaches)
 * when some entry does not reach it: the entries that do, in their order, in one backend call.
 * *@ret_done: the batch index the device stopped at (@n: none).
 */
static int invalidate_subset(struct vm *vm, size_t i, const struct nest_inv_entry *e,
			     const uint64_t *devs, uint32_t n, uint32_t *ret_done)
{
	static struct nest_inv_entry sub[NEST_BATCH_MAX];
	static uint32_t pos[NEST_BATCH_MAX];
	uint32_t cnt = 0, d = 0;
	int r;

	*ret_done = n;
	for (uint32_t k = 0; k < n; k++)
		if (devs[k] >> i & 1) {
			sub[cnt] = e[k];
			pos[cnt++] = k;
		}
	if (!cnt)
		return 0;
	r = vm->d->be_ops->invalidate_batch(vm->d->be, vm->ctx, vm->cfg.devices[i].id, sub, cnt,
					    &d);
	if (r < 0)
		*ret_done = pos[d < cnt ? d : cnt - 1];
	return r;
}

/*
 * Backends that batch (iommufd, the sim): the checked prefix of the batch goes to each device in
 * one backend call, less the entries of PASIDs not bound on it; `done` is the least any device
 * did, `first_error` that device's reason, or the check's reason for the entry after the prefix.
 * The usual batch reaches every device with every entry (its PASIDs are bound on all of them, or
 * it is for every PASID): one mask test per entry, no copy.
 */
static void invalidate_batched(struct vm *vm, const struct nest_tail *t,
			       struct nest_invalidate_reply *out)
{
	static struct nest_inv_entry e[NEST_BATCH_MAX]; /* single-threaded daemon */
	static uint64_t devs[NEST_BATCH_MAX];
	const struct nest_backend_ops *ops = vm->d->be_ops;
	struct inv_owner o = {0};
	uint64_t all = UINT64_MAX; /* the devices every entry reaches */
	uint32_t ok = 0, done;
	int check_err = 0;

	for (; ok < t->entry_num && ok < NEST_BATCH_MAX; ok++) {
		check_err = nest_array_entry(t, ok, &e[ok], sizeof(e[ok]));
		if (check_err == 0)
			check_err = invalidate_check(vm, &e[ok], &o, &devs[ok]);
		if (check_err < 0)
			break;
		all &= devs[ok];
	}
	done = ok;
	for (size_t i = 0; ok && i < vm->cfg.n_devices; i++) {
		uint32_t d = 0;
		int r;

		if (!vm->devices[i].attached)
			continue;
		if (all >> i & 1)
			r = ops->invalidate_batch(vm->d->be, vm->ctx, vm->cfg.devices[i].id, e, ok,
						  &d);
		else
			r = invalidate_subset(vm, i, e, devs, ok, &d);
		if (r < 0 && d < done) {
			done = d;
			out->first_error = -r;
			nestd_log_backend_error(vm->d, "vm %s: invalidate", vm->cfg.name);
		}
	}
	out->done = done;
	if (done == ok && check_err < 0)
		out->first_error = -check_err;
}

int op_invalidate(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_tail *t = &rq->tail;
	struct vm *vm = c->vm;
	struct nest_invalidate_reply out = {.size = sizeof(out)};
	struct inv_owner o = {0};

	if (t->entry_num == 0 || t->entry_num > c->caps.max_batch)
		return -EINVAL;
	if (c->d->be_ops->invalidate_batch) {
		invalidate_batched(vm, t, &out);
		goto reply;
	}
	for (uint32_t i = 0; i < t->entry_num; i++) {
		struct nest_inv_entry e;
		int r = nest_array_entry(t, i, &e, sizeof(e));

		if (r == 0)
			r = invalidate_one(vm, &e, &o);
		if (r < 0) {
			out.first_error = -r;
			break;
		}
		out.done++;
	}
reply:
	vm->ctr.invalidations++;
	vm->ctr.inv_entries += out.done;
	op_reply_set(rp, &out, sizeof(out));
	return 0;
}

/*
 * The whole batch on every attached device. Each device may stop early; the reply reports the
 * smallest `done` and the errno of the device that stopped there (the first such device), so
 * that first_error stays "why entry `done` failed" (PROTOCOL.md §8.15). Every device gets the
 * whole batch even when an earlier one stopped early: invalidating more is harmless.
 */
static void invalidate_native_devices(struct vm *vm, const struct nest_invalidate_native *in,
				      uint64_t mask, const struct nest_tail *t,
				      struct nest_invalidate_reply *out)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	out->done = t->entry_num;
	out->first_error = 0;
	for (size_t i = 0; i < vm->cfg.n_devices; i++) {
		uint32_t done = 0;
		int r;

		if (!vm->devices[i].attached || !(mask >> i & 1))
			continue;
		r = ops->invalidate_native(vm->d->be, vm->ctx, vm->cfg.devices[i].id, in->hpasid,
					   in->data_type, t->ptr, t->entry_len, t->entry_num,
					   &done);
		if (r == 0)
			continue;
		nestd_log_backend_error(vm->d, "vm %s: invalidate-native PASID %u", vm->cfg.name,
					in->hpasid);
		if (done >= t->entry_num)
			done = t->entry_num - 1; /* an error stops at an entry of the batch */
		if (done < out->done || out->first_error == 0) {
			out->done = done;
			out->first_error = r < 0 && -r < 4096 ? -r : EIO;
		}
	}
}

int op_invalidate_native(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_invalidate_native *in = rq->req;
	const struct nest_tail *t = &rq->tail;
	struct vm *vm = c->vm;
	struct nest_invalidate_reply out = {.size = sizeof(out)};
	const struct vm_pasid *p;
	uint64_t mask = 0;

	if (t->entry_num == 0 || t->entry_num > c->caps.max_batch)
		return -EINVAL;
	if (!(vm->info.features & NEST_FEAT_NATIVE) || !c->d->be_ops->invalidate_native)
		return -EOPNOTSUPP; /* VM_ATTACH said so */
	if (in->data_type != vm->info.inv_data_type)
		return -EOPNOTSUPP;
	if (in->flags & NEST_INV_NATIVE_F_RID) {
		if (in->hpasid)
			return -EINVAL;
		for (size_t i = 0; i < vm->cfg.n_devices; i++) /* every natively bound RID */
			if (vm->devices[i].rid_bound && vm->devices[i].rid.native)
				mask |= UINT64_C(1) << i;
		if (!mask)
			return -ENOENT;
	} else {
		p = vm_pasid_find(vm, in->hpasid);
		if (!p || !p->bound)
			return -ENOENT; /* one PASID for the whole batch: a request-level error */
		mask = p->devs;		/* only where it is bound (a DEVICE bind binds a subset) */
	}
	invalidate_native_devices(vm, in, mask, t, &out);
	vm->ctr.invalidations++;
	vm->ctr.inv_entries += out.done;
	op_reply_set(rp, &out, sizeof(out));
	return 0;
}

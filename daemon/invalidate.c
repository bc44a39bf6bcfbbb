/* SPDX-License-Identifier: MIT */
/*
 * invalidate.c - INVALIDATE: a batch of cache invalidations, the hot path.
 *
 * Entries are processed in order and processing stops at the first failure; the reply says how
 * many were done and why the next one failed. Each entry is fully checked (validity table,
 * PASID ownership) before the backend sees it, then applied on every device of the VM.
 */
#include <errno.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

static int invalidate_one(struct vm *vm, const struct nest_inv_entry *e)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;
	int r = nest_inv_entry_check(e);

	if (r < 0)
		return r;
	if (!(vm->info.features & NEST_FEAT_CACHE_INVLD))
		return -EOPNOTSUPP; /* VM_ATTACH said so */
	if (e->granularity != NEST_INV_GRANU_DOMAIN && !vm_pasid_find(vm, e->pasid))
		return -ENOENT;
	for (size_t i = 0; i < vm->cfg.n_devices; i++) {
		if (!vm->devices[i].attached)
			continue;
		r = ops->invalidate(vm->d->be, vm->ctx, vm->cfg.devices[i].id, e);
		if (r < 0) {
			nestd_log_backend_error(vm->d, "vm %s: invalidate", vm->cfg.name);
			return r;
		}
	}
	return 0;
}

int op_invalidate(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_tail *t = &rq->tail;
	struct vm *vm = c->vm;
	struct nest_invalidate_reply out = {.size = sizeof(out)};

	if (t->entry_num == 0 || t->entry_num > c->caps.max_batch)
		return -EINVAL;
	for (uint32_t i = 0; i < t->entry_num; i++) {
		struct nest_inv_entry e;
		int r = nest_array_entry(t, i, &e, sizeof(e));

		if (r == 0)
			r = invalidate_one(vm, &e);
		if (r < 0) {
			out.first_error = -r;
			break;
		}
		out.done++;
	}
	vm->ctr.invalidations++;
	vm->ctr.inv_entries += out.done;
	op_reply_set(rp, &out, sizeof(out));
	return 0;
}

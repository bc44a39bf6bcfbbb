/* SPDX-License-Identifier: MIT */
/*
 * bind.c - BIND / BIND_NATIVE / UNBIND a guest stage-1 table on a host PASID the VM owns, on
 * every device of the VM. A bind is all-or-nothing: if one device refuses, the devices done are
 * unbound again. BIND_NATIVE carries the kernel's own nested HWPT data (PROTOCOL.md §8.14): the
 * daemon checks ownership, state and the announced type; the backend checks the bytes.
 */
#include <errno.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

/* Checks that do not depend on the PASID entry, in the order of the errno vocabulary. */
static int bind_check(const struct vm *vm, const struct nest_bind *b)
{
	const struct nest_backend_info *bi = &vm->info;

	if (b->format != NEST_BIND_FMT_VTD_FL || !(bi->formats & NEST_FORMAT_VTD_FL))
		return -EOPNOTSUPP;
	if (b->vtd_flags & ~(uint64_t)NEST_VTD_VALID)
		return -EOPNOTSUPP;
	if (b->addr_width == 48) {
		if (!(bi->addr_widths & NEST_ADDR_WIDTH_48))
			return -EINVAL;
	} else if (b->addr_width == 57) {
		if (!(bi->addr_widths & NEST_ADDR_WIDTH_57))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (b->gpgd & 4095u)
		return -EINVAL;
	if (!(b->vtd_flags & NEST_VTD_EMTE) && (b->pat || b->emt))
		return -EINVAL; /* pat/emt are only meaningful with EMTE */
	if ((b->flags & NEST_BIND_F_GPASID) && (b->gpasid < 1 || b->gpasid > NEST_PASID_MAX))
		return -EINVAL;
	return 0;
}

static int bind_check_gpasid(struct vm *vm, const struct vm_pasid *p, const struct nest_bind *b)
{
	const struct vm_pasid *other;

	if (!(b->flags & NEST_BIND_F_GPASID))
		return 0;
	if (p->has_gpasid)
		return p->gpasid == b->gpasid ? 0 : -EINVAL;
	other = vm_gpasid_find(vm, b->gpasid);
	return other && other != p ? -EEXIST : 0;
}

static bool bind_has_device(const struct vm *vm)
{
	for (size_t i = 0; i < vm->cfg.n_devices; i++)
		if (vm->devices[i].attached)
			return true;
	return false;
}

/* What to bind on each device: the generic form (BIND) or the kernel's data (BIND_NATIVE). */
struct bind_what {
	uint32_t hpasid;
	const struct nest_be_bind *bb; /* BIND, or NULL */
	uint32_t data_type;	       /* BIND_NATIVE */
	const void *data;
	uint32_t len;
};

static int bind_one(struct vm *vm, uint32_t dev_id, const struct bind_what *w)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	if (w->bb)
		return ops->bind(vm->d->be, vm->ctx, dev_id, w->bb);
	return ops->bind_native(vm->d->be, vm->ctx, dev_id, w->hpasid, w->data_type, w->data,
				w->len);
}

/* Bind on every attached device; undo the ones done if one fails (R13). */
static int bind_devices(struct vm *vm, const struct bind_what *w)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;
	size_t n = vm->cfg.n_devices, done = 0, i;
	int r = -EINVAL; /* no device to bind on */

	for (i = 0; i < n; i++) {
		if (!vm->devices[i].attached)
			continue;
		r = bind_one(vm, vm->cfg.devices[i].id, w);
		if (r < 0)
			break;
		done++;
	}
	if (r == 0 && done > 0)
		return 0;
	nestd_log_backend_error(vm->d, "vm %s: bind%s PASID %u", vm->cfg.name,
				w->bb ? "" : "-native", w->hpasid);
	for (size_t j = 0; j < i; j++)
		if (vm->devices[j].attached)
			ops->unbind(vm->d->be, vm->ctx, vm->cfg.devices[j].id, w->hpasid);
	return r;
}

int op_bind(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_bind *b = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, b->hpasid, "bind");
	struct vm_pasid *p = vm_pasid_find(vm, b->hpasid);
	struct nest_be_bind bb = {
		.format = b->format,
		.addr_width = b->addr_width,
		.gpgd = b->gpgd,
		.hpasid = b->hpasid,
		.gpasid = b->gpasid,
		.has_gpasid = b->flags & NEST_BIND_F_GPASID,
		.vtd_flags = b->vtd_flags,
		.pat = b->pat,
		.emt = b->emt,
	};
	int r;

	if (!(vm->info.features & NEST_FEAT_BIND_PGTBL))
		return -EOPNOTSUPP; /* VM_ATTACH said so: no nesting on this backend / IOMMU */
	if (!p)
		return -ENOENT; /* not ours, or not allocated */
	r = bind_check(vm, b);
	if (r == 0 && !bind_has_device(vm))
		r = -EINVAL;
	if (r == 0)
		r = bind_check_gpasid(vm, p, b);
	if (r == 0 && p->bound)
		r = -EBUSY;
	if (r == 0)
		r = bind_devices(vm, &(struct bind_what){.hpasid = bb.hpasid, .bb = &bb});
	if (r == 0) {
		p->bound = true;
		p->native = false;
		p->bind = bb;
		if (bb.has_gpasid && !p->has_gpasid) {
			p->has_gpasid = true;
			p->gpasid = bb.gpasid;
		}
		vm->n_bound++;
		vm->ctr.binds++;
	}
	ar.result = r;
	audit_log(&ar, "gpgd 0x%llx aw %u flags 0x%llx", (unsigned long long)b->gpgd, b->addr_width,
		  (unsigned long long)b->vtd_flags);
	return r;
}

/*
 * BIND_NATIVE. The tail (exactly data_len bytes, 1..NEST_NATIVE_DATA_MAX) was checked by
 * nest_body_decode(). Order: what VM_ATTACH announced (NATIVE, the data type), then the PASID
 * (ours, a device to bind on, not bound), then the backend on every device.
 */
int op_bind_native(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_bind_native *b = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, b->hpasid, "bind-native");
	struct bind_what w = {.hpasid = b->hpasid,
			      .data_type = b->data_type,
			      .data = rq->tail.ptr,
			      .len = (uint32_t)rq->tail.len};
	struct vm_pasid *p;
	int r;

	if (!(vm->info.features & NEST_FEAT_NATIVE) || !c->d->be_ops->bind_native)
		return -EOPNOTSUPP; /* VM_ATTACH said so: no native nesting for this VM */
	if (b->data_type != vm->info.hwpt_data_type)
		return -EOPNOTSUPP; /* not the type VM_ATTACH announced */
	p = vm_pasid_find(vm, b->hpasid);
	if (!p)
		return -ENOENT; /* not ours, or not allocated */
	r = bind_has_device(vm) ? 0 : -EINVAL;
	if (r == 0 && p->bound)
		r = -EBUSY;
	if (r == 0)
		r = bind_devices(vm, &w);
	if (r == 0) {
		p->bound = true;
		p->native = true;
		p->native_type = b->data_type;
		vm->n_bound++;
		vm->ctr.binds++;
	}
	ar.result = r;
	audit_log(&ar, "type %u len %u", b->data_type, b->data_len);
	return r;
}

int op_unbind(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_unbind *u = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, u->hpasid, "unbind");
	struct vm_pasid *p = vm_pasid_find(vm, u->hpasid);
	int r = p && p->bound ? 0 : -ENOENT;

	if (!(vm->info.features & (NEST_FEAT_BIND_PGTBL | NEST_FEAT_NATIVE)))
		return -EOPNOTSUPP; /* no kind of bind on this VM */

	if (r == 0) {
		vm_pasid_unbind(vm, p);
		vm->ctr.unbinds++;
	}
	ar.result = r;
	audit_log(&ar, "%s", r == 0 ? "unbound" : "not bound");
	return r;
}

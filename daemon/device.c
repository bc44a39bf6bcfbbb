/* SPDX-License-Identifier: MIT */
/*
 * device.c - DEVICE_GET: describe a device of the VM's policy and hand out its fd.
 *
 * Every policy device is attached to the VM's backend context at VM attach time (so binds cover
 * all of them); DEVICE_GET hands the client its own duplicate of the device fd (kernel
 * backends) or only the description (sim: never a stand-in fd).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

int op_device_get(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_device_get *g = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "device-get");
	struct nest_device_info info = {.size = sizeof(info), .dev_id = g->dev_id};
	const struct nestd_device_cfg *dc;
	struct vm_device *dev;
	int idx = vm_device_index(vm, g->dev_id);
	int fd = -1;

	if (idx < 0 || !vm->devices[idx].attached)
		return -ENOENT; /* not in this VM's policy: same answer as non-existent */
	dc = &vm->cfg.devices[idx];
	dev = &vm->devices[idx];
	if (dev->fd >= 0) {
		fd = fcntl(dev->fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			ar.result = -errno;
			audit_log(&ar, "device %u: dup failed", g->dev_id);
			return ar.result;
		}
		info.flags |= NEST_DEVICE_F_HAS_FD;
	}
	if (dc->ats && !nestd_device_is_kernel(dc))
		info.flags |= NEST_DEVICE_F_ATS;
	/* a host or mock device has what its IOMMU reported (VM_ATTACH), not the sim's defaults */
	info.pasid_bits = nestd_device_is_kernel(dc) ? vm->info.pasid_bits : dc->pasid_bits;
	snprintf(info.name, sizeof(info.name), "%s", dc->name);
	dev->taken = true;
	op_reply_set(rp, &info, sizeof(info));
	rp->fd = fd; /* moves into the reply */
	audit_log(&ar, "device %u (%s)%s", g->dev_id, dc->name, fd >= 0 ? " fd passed" : "");
	return 0;
}

/*
 * DEVICE_PUT: the VMM gives back a device DEVICE_GET handed out (QEMU's hot-unplug), and nestd puts
 * it back in its state right after VM_ATTACH, so that the next DEVICE_GET hands out a device that
 * has nothing of the last user: its page request groups still waiting are answered invalid (while
 * it is still attached, so the answer reaches it), it leaves every vIOMMU (the RID back on the
 * stage-2 parent, its vDEVICEs destroyed), nestd resets it through its own fd where the backend
 * can (VFIO_DEVICE_RESET), and its PASID and RID bindings go. The VMM's duplicate fd is its own to
 * close: nestd cannot take it back (SECURITY.md). ENOENT: not a device of this VM, or not handed
 * out. A step that fails stops there, with the device still handed out and the books showing
 * what it still has (the same request may be sent again).
 */
int op_device_put(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_device_put *p = rq->req;
	const struct nest_backend_ops *ops = c->d->be_ops;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "device-put");
	int idx = vm_device_index(vm, p->dev_id);
	struct vm_device *dev;
	uint32_t nprq, viommu = 0;
	char what[96] = "";
	int r;

	(void)rp;
	if (idx < 0 || !vm->devices[idx].attached || !vm->devices[idx].taken)
		return -ENOENT;
	dev = &vm->devices[idx];
	nprq = vm_prq_refuse_device(vm, p->dev_id);
	if (nprq)
		snprintf(what, sizeof(what), ", %u page request group%s answered invalid", nprq,
			 plural_s(nprq));
	r = vm_viommu_put_device(vm, p->dev_id, &viommu);
	if (r < 0) {
		ar.result = r;
		audit_log(&ar,
			  "device %u (%s): vIOMMU detach failed, still attached to vIOMMU %u and "
			  "handed out%s",
			  p->dev_id, vm->cfg.devices[idx].name, viommu, what);
		return r;
	}
	if (ops->device_reset && dev->fd >= 0) {
		r = ops->device_reset(c->d->be, vm->ctx, p->dev_id, dev->fd);
		if (r < 0)
			nestd_log_backend_error(c->d, "vm %s: device-put", vm->cfg.name);
	}
	ar.result = r;
	if (r >= 0) { /* back to its state after attach: no PASID bound, the RID on stage 2 */
		vm_device_unbind_all(vm, idx, true);
		dev->taken = false;
	}
	audit_log(&ar, "device %u (%s)%s%s", p->dev_id, vm->cfg.devices[idx].name,
		  r < 0	  ? ": reset failed, still handed out"
		  : r > 0 ? " given back, reset"
			  : " given back",
		  what);
	return r < 0 ? r : 0;
}

/*
 * DEVICE_HOT_RESET: a PCI hot reset (secondary bus or slot reset) of a device of the VM, which a
 * VMM cannot do itself because it needs the fds of every IOMMU group the reset touches. The
 * backend refuses (EBUSY) when the reset would touch a device outside the VM's groups, i.e. of
 * another VM or of the host. EOPNOTSUPP: no such reset here (the sim; a device the kernel cannot
 * hot-reset, e.g. on a root bus). Audited.
 */
int op_device_hot_reset(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_device_hot_reset *h = rq->req;
	const struct nest_backend_ops *ops = c->d->be_ops;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "device-hot-reset");
	int idx = vm_device_index(vm, h->dev_id);
	int r;

	(void)rp;
	if (idx < 0 || !vm->devices[idx].attached)
		return -ENOENT;
	if (!ops->device_hot_reset || vm->devices[idx].fd < 0)
		return -EOPNOTSUPP;
	r = ops->device_hot_reset(c->d->be, vm->ctx, h->dev_id, vm->devices[idx].fd);
	if (r < 0)
		nestd_log_backend_error(c->d, "vm %s: device-hot-reset", vm->cfg.name);
	ar.result = r;
	audit_log(&ar, "device %u (%s)%s", h->dev_id, vm->cfg.devices[idx].name,
		  r < 0 ? ": refused" : ": bus reset");
	return r;
}

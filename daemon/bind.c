/* SPDX-License-Identifier: MIT */
/*
 * bind.c - BIND / BIND_NATIVE / UNBIND a guest stage-1 table on a host PASID the VM owns, on
 * every device of the VM, or (1.2) on a subset of them (DEVICE, one at a time), on a device's RID
 * without PASID (RID), or in place of the table bound there (REPLACE, atomic per device). A bind
 * is all-or-nothing: if one device refuses, the devices done are unbound again (a replace puts
 * them back on the old table; a device that cannot be put back is unbound, and the VMM told with
 * EV_UNBOUND, so that nestd's books say what the device really has). BIND_NATIVE carries the
 * kernel's own nested HWPT data (PROTOCOL.md §8.14): the daemon checks ownership, state and the
 * announced type; the backend checks the bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	uint32_t hpasid;	       /* NEST_BE_PASID_RID for a device's RID */
	const struct nest_be_bind *bb; /* BIND, or NULL */
	uint32_t data_type;	       /* BIND_NATIVE */
	const void *data;
	uint32_t len;
};

/*
 * A bind request once decoded: flags, the target device (index, -1 without DEVICE), the table;
 * and, out, the devices a failed replace left unbound (their rollback failed too).
 */
struct bind_req {
	uint32_t flags;
	int idx;
	struct bind_what w;
	uint64_t lost;
};

static int bind_one(struct vm *vm, uint32_t dev_id, const struct bind_what *w, bool replace)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;

	if (w->bb)
		return (replace ? ops->rebind : ops->bind)(vm->d->be, vm->ctx, dev_id, w->bb);
	return (replace ? ops->rebind_native : ops->bind_native)(
		vm->d->be, vm->ctx, dev_id, w->hpasid, w->data_type, w->data, w->len);
}

/*
 * Bind (or, with @old, replace) on every attached device of @mask; all or nothing (R13): if one
 * device fails, the devices done are unbound again, or with a replace put back on @old (the
 * same atomic swap the other way, so they are never without a table either). A device that
 * refuses to go back stays on @w, a table the PASID's books do not have: it goes into *@lost for
 * the caller to unbind (PROTOCOL.md §8.9).
 */
static int bind_devices(struct vm *vm, const struct bind_what *w, uint64_t mask,
			const struct bind_what *old, uint64_t *lost)
{
	const struct nest_backend_ops *ops = vm->d->be_ops;
	size_t n = vm->cfg.n_devices, done = 0, i;
	int r = -EINVAL; /* no device to bind on */

	for (i = 0; i < n; i++) {
		if (!vm->devices[i].attached || !(mask >> i & 1))
			continue;
		r = bind_one(vm, vm->cfg.devices[i].id, w, old != NULL);
		if (r < 0)
			break;
		done++;
	}
	if (r == 0 && done > 0)
		return 0;
	nestd_log_backend_error(vm->d, "vm %s: %s%s %s %u", vm->cfg.name, old ? "replace" : "bind",
				w->bb ? "" : "-native", w->hpasid ? "PASID" : "RID of device",
				w->hpasid);
	for (size_t j = 0; j < i; j++) {
		uint32_t id = vm->cfg.devices[j].id;

		if (!vm->devices[j].attached || !(mask >> j & 1))
			continue;
		if (!old) {
			ops->unbind(vm->d->be, vm->ctx, id, w->hpasid);
		} else if (bind_one(vm, id, old, true) < 0) {
			nestd_log_backend_error(vm->d, "vm %s: replace rollback on device %u",
						vm->cfg.name, id);
			log_msg(LOG_ERR,
				"vm %s: replace of PASID %u failed on device %u, and device %u could "
				"not be put back on the old table: unbinding PASID %u on device %u "
				"(device %u and the devices put back keep the old table)",
				vm->cfg.name, w->hpasid, vm->cfg.devices[i].id, id, w->hpasid, id,
				vm->cfg.devices[i].id);
			*lost |= UINT64_C(1) << j;
		}
	}
	return r;
}

/*
 * A failed replace left the devices of @lost on the new table, which the books do not have:
 * unbind them there (unbind() cannot fail: the device ends with nothing on the PASID, its DMA
 * with it faults), drop them from the PASID's devices (the last one unbinds the PASID) and tell
 * the VMM, before the reply (EV_UNBOUND, to a client whose HELLO said minor >= 2).
 */
static void bind_drop_lost(struct vm *vm, struct vm_pasid *p, uint64_t lost)
{
	for (size_t i = 0; i < vm->cfg.n_devices; i++) {
		struct nest_ev_unbound ev = {.size = sizeof(ev),
					     .dev_id = vm->cfg.devices[i].id,
					     .pasid = p->pasid,
					     .reason = NEST_UNBOUND_REPLACE_ROLLBACK};

		if (!(lost >> i & 1))
			continue;
		vm_pasid_unbind_dev(vm, p, (int)i);
		if (vm->conn && vm->conn->peer_minor >= 2) /* a 1.2 event */
			conn_send_event(vm->conn, NEST_EV_UNBOUND, &ev, sizeof(ev));
	}
}

/*
 * The 1.2 flags, in the order PROTOCOL.md §8.9 lists: a flag the VM's backend cannot do
 * (EOPNOTSUPP), a combination that makes no sense (EINVAL), a device not of this VM (ENOENT).
 */
static int bind_flags_check(const struct vm *vm, uint32_t flags, uint32_t hpasid, uint32_t dev_id,
			    int *ret_idx)
{
	uint32_t f = vm->info.features;
	int idx = -1;

	if (((flags & NEST_BIND_F_DEVICE) && !(f & NEST_FEAT_BIND_DEVICE)) ||
	    ((flags & NEST_BIND_F_RID) && !(f & NEST_FEAT_BIND_RID)) ||
	    ((flags & NEST_BIND_F_REPLACE) && !(f & NEST_FEAT_BIND_REPLACE)))
		return -EOPNOTSUPP;
	if (!(flags & NEST_BIND_F_DEVICE) && dev_id)
		return -EINVAL;
	if ((flags & NEST_BIND_F_RID) && (!(flags & NEST_BIND_F_DEVICE) || hpasid))
		return -EINVAL;
	if (flags & NEST_BIND_F_DEVICE) {
		idx = vm_device_index(vm, dev_id);
		if (idx < 0 || !vm->devices[idx].attached)
			return -ENOENT; /* another VM's device looks like none */
	}
	*ret_idx = idx;
	return 0;
}

/* @w is the table @s (a DEVICE bind adds a device to a PASID's one table). */
static bool bind_same_table(const struct bind_what *w, const struct vm_s1 *s)
{
	const struct nest_be_bind *a = w->bb, *b = &s->bind;

	if (a)
		return !s->native && a->format == b->format && a->addr_width == b->addr_width &&
		       a->gpgd == b->gpgd && a->vtd_flags == b->vtd_flags && a->pat == b->pat &&
		       a->emt == b->emt;
	return s->native && s->native_type == w->data_type && s->len == w->len &&
	       memcmp(s->data, w->data, w->len) == 0;
}

static uint64_t bind_attached_mask(const struct vm *vm)
{
	uint64_t m = 0;

	for (size_t i = 0; i < vm->cfg.n_devices; i++)
		if (vm->devices[i].attached)
			m |= UINT64_C(1) << i;
	return m;
}

/* A copy of the native data, kept with the binding (NULL, 0 for the generic form). */
static int bind_copy(const struct bind_what *w, uint8_t **ret)
{
	*ret = NULL;
	if (w->bb)
		return 0;
	*ret = malloc(w->len);
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, w->data, w->len);
	return 0;
}

/* @s becomes the table @w, whose native data @copy (bind_copy()) it takes over. */
static void bind_s1_set(struct vm_s1 *s, const struct bind_what *w, uint8_t *copy)
{
	vm_s1_clear(s);
	s->native = !w->bb;
	if (w->bb) {
		s->bind = *w->bb;
	} else {
		s->native_type = w->data_type;
		s->data = copy;
		s->len = w->len;
	}
}

/*
 * A PASID target: the whole VM (no DEVICE), one more device of the PASID's table (DEVICE), or
 * the table swapped where it is bound (REPLACE; with DEVICE only when that is its one device).
 */
static int bind_pasid(struct vm *vm, struct vm_pasid *p, struct bind_req *q)
{
	bool replace = q->flags & NEST_BIND_F_REPLACE;
	struct bind_what old = {.hpasid = p->pasid};
	uint64_t bit = q->idx >= 0 ? UINT64_C(1) << q->idx : 0, mask;
	uint8_t *copy = NULL;
	int r;

	if (replace) {
		if (!p->bound || (bit && !(p->devs & bit)))
			return -ENOENT;
		if (bit && p->devs != bit)
			return -EBUSY; /* other devices share the table: replace it without DEVICE */
		mask = p->devs;
	} else if (bit) {
		if ((p->devs & bit) || (p->bound && !bind_same_table(&q->w, &p->s1)))
			return -EBUSY;
		mask = bit;
	} else {
		if (p->bound)
			return -EBUSY;
		mask = bind_attached_mask(vm);
	}
	/* a DEVICE bind that adds a device to the table keeps the table's own copy */
	r = p->bound && !replace ? 0 : bind_copy(&q->w, &copy);
	if (r < 0)
		return r;
	if (p->s1.native) {
		old.data_type = p->s1.native_type;
		old.data = p->s1.data;
		old.len = p->s1.len;
	} else {
		old.bb = &p->s1.bind;
	}
	r = bind_devices(vm, &q->w, mask, replace ? &old : NULL, &q->lost);
	if (q->lost)
		bind_drop_lost(vm, p, q->lost);
	if (r < 0 || (p->bound && !replace)) { /* failed, or one more device of the same table */
		free(copy);
		if (r == 0)
			p->devs |= mask;
		return r;
	}
	if (!p->bound)
		vm->n_bound++;
	p->bound = true;
	p->devs = mask;
	bind_s1_set(&p->s1, &q->w, copy);
	return 0;
}

/* A RID target (RID, with DEVICE): stage 1 on the device's requests without PASID. */
static int bind_rid(struct vm *vm, const struct bind_req *q)
{
	struct vm_device *dev = &vm->devices[q->idx];
	uint32_t dev_id = vm->cfg.devices[q->idx].id;
	bool replace = q->flags & NEST_BIND_F_REPLACE;
	uint8_t *copy;
	int r;

	if (replace && !dev->rid_bound)
		return -ENOENT;
	if (!replace && (dev->rid_bound || vm_viommu_rid_attached(vm, dev_id)))
		return -EBUSY; /* bound already, or on a vIOMMU's nested HWPT (VIOMMU_ATTACH) */
	r = bind_copy(&q->w, &copy);
	if (r == 0)
		r = bind_one(vm, dev_id, &q->w, replace);
	if (r < 0) {
		nestd_log_backend_error(vm->d, "vm %s: %s RID of device %u", vm->cfg.name,
					replace ? "replace" : "bind", dev_id);
		free(copy);
		return r;
	}
	if (!dev->rid_bound)
		vm->n_bound++;
	dev->rid_bound = true;
	bind_s1_set(&dev->rid, &q->w, copy);
	return 0;
}

static int bind_exec(struct vm *vm, struct vm_pasid *p, struct bind_req *q)
{
	int r = q->flags & NEST_BIND_F_RID ? bind_rid(vm, q) : bind_pasid(vm, p, q);

	if (r == 0)
		vm->ctr.binds++;
	return r;
}

/* "device 3", "RID of device 3", "replace", for the audit record. */
static const char *bind_audit_what(const struct vm *vm, const struct bind_req *q, char *buf,
				   size_t len)
{
	const char *rep = q->flags & NEST_BIND_F_REPLACE ? "replace, " : "";

	if (q->flags & NEST_BIND_F_RID)
		snprintf(buf, len, "%sRID of device %u", rep, vm->cfg.devices[q->idx].id);
	else if (q->idx >= 0)
		snprintf(buf, len, "%sdevice %u", rep, vm->cfg.devices[q->idx].id);
	else
		snprintf(buf, len, "%severy device", rep);
	return buf;
}

/*
 * "; device 2 left unbound (rollback failed)" for each device a failed replace unbound, then
 * where the others are.
 */
static const char *bind_audit_lost(const struct vm *vm, uint64_t lost, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < vm->cfg.n_devices && n < len; i++)
		if (lost >> i & 1)
			n += (size_t)snprintf(buf + n, len - n,
					      "; device %u left unbound (rollback failed)",
					      vm->cfg.devices[i].id);
	if (lost && n < len)
		snprintf(buf + n, len - n, "; the other devices on the old table");
	return buf;
}

int op_bind(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_bind *b = rq->req;
	struct vm *vm = c->vm;
	bool rid = b->flags & NEST_BIND_F_RID;
	struct audit_rec ar =
		conn_audit_rec(c, vm->cfg.name, rid ? -1 : (int64_t)b->hpasid, "bind");
	struct vm_pasid *p = NULL;
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
	struct bind_req q = {.flags = b->flags, .w = {.hpasid = b->hpasid, .bb = &bb}};
	char what[48], lost[256];
	int r;

	if (!(vm->info.features & NEST_FEAT_BIND_PGTBL))
		return -EOPNOTSUPP; /* VM_ATTACH said so: no nesting on this backend / IOMMU */
	r = bind_flags_check(vm, b->flags, b->hpasid, b->dev_id, &q.idx);
	if (r == 0 && rid && bb.has_gpasid)
		r = -EINVAL; /* a RID has no PASID to record a guest PASID for */
	if (r < 0)
		return r;
	if (!rid) {
		p = vm_pasid_find(vm, b->hpasid);
		if (!p)
			return -ENOENT; /* not ours, or not allocated */
	}
	r = bind_check(vm, b);
	if (r == 0 && !bind_has_device(vm))
		r = -EINVAL;
	if (r == 0 && p)
		r = bind_check_gpasid(vm, p, b);
	/* the guest PASID is recorded before the bind, so that a failure to record it undoes nothing */
	bool new_g = r == 0 && p && bb.has_gpasid && !p->has_gpasid;

	if (new_g)
		r = vm_pasid_set_gpasid(vm, p, bb.gpasid);
	if (r == 0) {
		r = bind_exec(vm, p, &q);
		if (r < 0 && new_g)
			vm_pasid_clear_gpasid(vm, p);
	}
	ar.result = r;
	audit_log(&ar, "%s: gpgd 0x%llx aw %u flags 0x%llx%s",
		  bind_audit_what(vm, &q, what, sizeof(what)), (unsigned long long)b->gpgd,
		  b->addr_width, (unsigned long long)b->vtd_flags,
		  bind_audit_lost(vm, q.lost, lost, sizeof(lost)));
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
	bool rid = b->flags & NEST_BIND_F_RID;
	struct audit_rec ar =
		conn_audit_rec(c, vm->cfg.name, rid ? -1 : (int64_t)b->hpasid, "bind-native");
	struct bind_req q = {.flags = b->flags,
			     .w = {.hpasid = b->hpasid,
				   .data_type = b->data_type,
				   .data = rq->tail.ptr,
				   .len = (uint32_t)rq->tail.len}};
	struct vm_pasid *p = NULL;
	char what[48], lost[256];
	int r;

	if (!(vm->info.features & NEST_FEAT_NATIVE) || !c->d->be_ops->bind_native)
		return -EOPNOTSUPP; /* VM_ATTACH said so: no native nesting for this VM */
	if (b->data_type != vm->info.hwpt_data_type)
		return -EOPNOTSUPP; /* not the type VM_ATTACH announced */
	r = bind_flags_check(vm, b->flags, b->hpasid, b->dev_id, &q.idx);
	if (r < 0)
		return r;
	if (!rid) {
		p = vm_pasid_find(vm, b->hpasid);
		if (!p)
			return -ENOENT; /* not ours, or not allocated */
	}
	r = bind_has_device(vm) ? 0 : -EINVAL;
	if (r == 0)
		r = bind_exec(vm, p, &q);
	ar.result = r;
	audit_log(&ar, "%s: type %u len %u%s", bind_audit_what(vm, &q, what, sizeof(what)),
		  b->data_type, b->data_len, bind_audit_lost(vm, q.lost, lost, sizeof(lost)));
	return r;
}

/*
 * UNBIND: without flags the PASID on every device (1.0); DEVICE: on that device only (the
 * others keep the table); RID (with DEVICE, hpasid 0): the device's RID back on stage 2 alone.
 */
int op_unbind(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_unbind *u = rq->req;
	struct vm *vm = c->vm;
	bool rid = u->flags & NEST_BIND_F_RID;
	struct audit_rec ar =
		conn_audit_rec(c, vm->cfg.name, rid ? -1 : (int64_t)u->hpasid, "unbind");
	struct vm_pasid *p = NULL;
	int idx, r;

	if (!(vm->info.features & (NEST_FEAT_BIND_PGTBL | NEST_FEAT_NATIVE)))
		return -EOPNOTSUPP; /* no kind of bind on this VM */
	r = bind_flags_check(vm, u->flags, u->hpasid, u->dev_id, &idx);
	if (r < 0)
		return r;
	if (rid) {
		r = vm->devices[idx].rid_bound ? 0 : -ENOENT;
	} else {
		p = vm_pasid_find(vm, u->hpasid);
		r = p && p->bound && (idx < 0 || (p->devs >> idx & 1)) ? 0 : -ENOENT;
	}
	if (r == 0) {
		if (rid)
			vm_rid_unbind(vm, idx);
		else if (idx >= 0)
			vm_pasid_unbind_dev(vm, p, idx);
		else
			vm_pasid_unbind(vm, p);
		vm->ctr.unbinds++;
	}
	ar.result = r;
	if (rid)
		audit_log(&ar, "RID of device %u: %s", u->dev_id, r == 0 ? "unbound" : "not bound");
	else if (idx >= 0)
		audit_log(&ar, "device %u: %s", u->dev_id, r == 0 ? "unbound" : "not bound");
	else
		audit_log(&ar, "%s", r == 0 ? "unbound" : "not bound");
	return r;
}

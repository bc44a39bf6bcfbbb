/* SPDX-License-Identifier: MIT */
/*
 * pasid.c - PASIDs and stage-1 bindings on the iommufd backend.
 *
 * iommufd has no PASID allocator: a PASID is a number attached per device (RID). nestd keeps
 * the per-VM allocator and quota (PASIDs are per-device here, so each VM has its own space,
 * capped by the smallest PASID width among its devices). A BIND allocates, per device, a nested
 * HWPT on the device's NEST_PARENT with the format row's data and attaches it to the PASID; the
 * daemon loops over devices and rolls back with unbind. UNBIND detaches the PASID and destroys
 * the HWPT (in that order: the kernel refuses to destroy an attached HWPT).
 */
#include <errno.h>
#include <stdlib.h>

#include "iommufd-internal.h"
#include "nest-msg.h"
#include "iommufd.h"

static struct ifd_pasid *ctx_pasid(struct ifd_ctx *ctx, uint32_t pasid)
{
	for (unsigned i = 0; i < ctx->n_pasids; i++)
		if (ctx->pasids[i].pasid == pasid)
			return &ctx->pasids[i];
	return NULL;
}

uint32_t ifd_pasid_hwpt(struct ifd_ctx *ctx, unsigned dev, uint32_t pasid)
{
	struct ifd_pasid *p;

	if (pasid == NEST_BE_PASID_RID)
		return ctx->devs[dev].rid_hwpt;
	p = ctx_pasid(ctx, pasid);
	return p ? p->hwpt[dev] : 0;
}

/* Where (@dev, @pasid)'s nested HWPT id is kept: the PASID's slot or the device's RID slot. */
static uint32_t *ctx_slot(struct ifd_ctx *ctx, unsigned dev, uint32_t pasid)
{
	struct ifd_pasid *p;

	if (pasid == NEST_BE_PASID_RID)
		return &ctx->devs[dev].rid_hwpt;
	p = ctx_pasid(ctx, pasid);
	return p ? &p->hwpt[dev] : NULL;
}

static uint32_t ctx_pasid_limit(const struct ifd_ctx *ctx)
{
	uint8_t bits = 20;

	for (unsigned i = 0; i < ctx->n_devs; i++)
		if (ctx->devs[i].pasid_log2 < bits)
			bits = ctx->devs[i].pasid_log2;
	return bits ? (1u << bits) - 1 : 0;
}

int ifd_pasid_alloc(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t min, uint32_t max,
		    uint32_t *ret)
{
	uint32_t limit = ctx_pasid_limit(ctx);

	if (limit == 0)
		return -EOPNOTSUPP;
	if (max > limit)
		max = limit;
	if (ctx->n_pasids >= IFD_PASIDS_MAX)
		return -ENOSPC;
	if (nest_be_grow((void **)&ctx->pasids, &ctx->cap_pasids, ctx->n_pasids,
			 sizeof(*ctx->pasids)) < 0)
		return ifd_fail(be, ENOMEM, "PASID table");
	for (uint64_t p = min; p <= max; p++) { /* the quota keeps this short */
		if (ctx_pasid(ctx, (uint32_t)p))
			continue;
		ctx->pasids[ctx->n_pasids++] = (struct ifd_pasid){.pasid = (uint32_t)p};
		*ret = (uint32_t)p;
		return 0;
	}
	return -ENOSPC;
}

void ifd_unbind(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev, uint32_t pasid)
{
	struct ifd_dev *d = &ctx->devs[dev];
	uint32_t *slot = ctx_slot(ctx, dev, pasid);

	if (!slot || !*slot)
		return;
	if (pasid == NEST_BE_PASID_RID) {
		/*
		 * back on the stage-2 parent (a replace: never untranslated), then the HWPT goes;
		 * if the kernel refuses, the HWPT is still attached and cannot be destroyed: it stays
		 * recorded, so that the context's teardown (which detaches the device) ends it
		 */
		if (ifd_dev_attach_rid(be, ctx, d, d->parent ? d->parent : ctx->ioas) < 0) {
			be->ctr.teardown_errors++;
			return;
		}
	} else {
		ifd_dev_detach_pasid(be, ctx, d, pasid);
	}
	(void)ifd_destroy(be, ctx->fd, *slot);
	*slot = 0;
	be->ctr.unbinds++;
}

void ifd_pasid_free(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t pasid)
{
	struct ifd_pasid *p = ctx_pasid(ctx, pasid);

	if (!p)
		return;
	for (unsigned i = 0; i < ctx->n_devs; i++)
		ifd_unbind(be, ctx, i, pasid);
	*p = ctx->pasids[--ctx->n_pasids];
}

void ifd_device_unbind_all(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev)
{
	for (unsigned i = 0; i < ctx->n_pasids; i++)
		ifd_unbind(be, ctx, dev, ctx->pasids[i].pasid);
	ifd_unbind(be, ctx, dev, NEST_BE_PASID_RID);
}

/*
 * A nested HWPT of @d's format with @data on its parent, attached at @pasid (the RID for
 * NEST_BE_PASID_RID) into *@slot. With @replace the new HWPT takes the old one's place in one
 * kernel call (a replace: the device is never without a table), and only then is the old one
 * destroyed; if the attach fails, the new HWPT goes and the old binding is untouched.
 */
static int ifd_bind_hwpt(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev, uint32_t pasid,
			 uint32_t *slot, const void *data, bool replace)
{
	struct ifd_dev *d = &ctx->devs[dev];
	bool rid = pasid == NEST_BE_PASID_RID;
	struct iommu_hwpt_alloc a = {.size = sizeof(a),
				     /* a RID domain must allow PASIDs for the device's PASIDs */
				     .flags = !rid || d->pasid_log2 ? IOMMU_HWPT_ALLOC_PASID : 0,
				     .dev_id = d->idev,
				     .pt_id = d->parent,
				     .data_type = d->fmt->hwpt_data_type,
				     .data_len = d->fmt->hwpt_data_len,
				     .data_uptr = (uint64_t)(uintptr_t)data};
	uint32_t old = *slot;
	int r;

	if (ctx->fault_fd >= 0) { /* page requests of this stage 1 go to the VM's queue */
		a.flags |= IOMMU_HWPT_FAULT_ID_VALID;
		a.fault_id = ctx->fault_id;
	}
	r = ifd_ioctl(be, ctx->fd, IOMMU_HWPT_ALLOC, &a);
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_HWPT_ALLOC(nested, %s) for %s %u on device %u",
				d->fmt->name, rid ? "the RID" : "PASID", pasid, d->dev_id);
	if (rid)
		r = ifd_dev_attach_rid(be, ctx, d, a.out_hwpt_id);
	else
		r = ifd_dev_attach_pasid(be, ctx, d, pasid, a.out_hwpt_id, replace);
	if (r < 0) {
		(void)ifd_destroy(be, ctx->fd, a.out_hwpt_id);
		return r;
	}
	*slot = a.out_hwpt_id;
	if (replace)
		(void)ifd_destroy(be, ctx->fd, old); /* detached by the replace */
	be->ctr.binds++;
	return 0;
}

/* The binding slot of (@dev, @hpasid) and whether it can take a bind (or a replace). */
static int ifd_bind_check(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
			  uint32_t hpasid, bool replace, uint32_t **ret)
{
	struct ifd_dev *d = &ctx->devs[dev];
	uint32_t *slot = ctx_slot(ctx, dev, hpasid);

	if (!slot)
		return ifd_fail(be, ENOENT, "bind: PASID %u is not this VM's", hpasid);
	if (replace && !*slot)
		return ifd_fail(be, ENOENT, "replace: nothing bound on %s %u of device %u",
				hpasid ? "PASID" : "the RID", hpasid, d->dev_id);
	if (!replace && *slot)
		return -EBUSY;
	if (!d->parent || !d->fmt)
		return ifd_fail(be, EOPNOTSUPP, "bind: device %u's IOMMU has no nesting",
				d->dev_id);
	*ret = slot;
	return 0;
}

int ifd_bind(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
	     const struct nest_be_bind *b, bool replace)
{
	uint32_t *slot;
	uint8_t data[64] = {0};
	int r = ifd_bind_check(be, ctx, dev, b->hpasid, replace, &slot);

	if (r < 0)
		return r;
	if (ctx->devs[dev].fmt->hwpt_data_len > sizeof(data))
		return -EINVAL;
	r = ctx->devs[dev].fmt->bind_data(b, data);
	return r < 0 ? r : ifd_bind_hwpt(be, ctx, dev, b->hpasid, slot, data, replace);
}

int ifd_bind_native(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev, uint32_t hpasid,
		    uint32_t data_type, const void *data, uint32_t len, bool replace)
{
	const struct ifd_format *f = ctx->devs[dev].fmt;
	uint32_t *slot;
	int r = ifd_bind_check(be, ctx, dev, hpasid, replace, &slot);

	if (r < 0)
		return r;
	if (data_type != f->hwpt_data_type)
		return -EOPNOTSUPP;
	r = ifd_native_size(data, len, f->hwpt_data_len);
	if (r == 0)
		r = f->check_data(data);
	return r < 0 ? r : ifd_bind_hwpt(be, ctx, dev, hpasid, slot, data, replace);
}

static int ifd_inv_hwpt(struct nest_backend *be, struct ifd_ctx *ctx, const struct ifd_dev *d,
			uint32_t hwpt, const uint8_t *entry)
{
	struct iommu_hwpt_invalidate inv = {.size = sizeof(inv),
					    .hwpt_id = hwpt,
					    .data_uptr = (uint64_t)(uintptr_t)entry,
					    .data_type = d->fmt->inv_data_type,
					    .entry_len = d->fmt->inv_entry_len,
					    .entry_num = 1};
	int r = ifd_ioctl(be, ctx->fd, IOMMU_HWPT_INVALIDATE, &inv);

	be->ctr.invalidations++;
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_HWPT_INVALIDATE(%s) of HWPT %u on device %u",
				d->fmt->name, hwpt, d->dev_id);
	be->ctr.inv_entries += inv.entry_num;
	return 0;
}

int ifd_invalidate(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
		   const struct nest_inv_entry *e)
{
	const struct ifd_dev *d = &ctx->devs[dev];
	uint8_t entry[IFD_INV_ENTRY_MAX] = {0};
	int n, r;

	if (!d->fmt || !d->parent)
		return -EOPNOTSUPP;
	n = d->fmt->inv_entry(e, entry);
	if (n <= 0)
		return n;	      /* nothing for the kernel to do (or a bad entry) */
	if (nest_inv_all_pasids(e)) { /* every nested HWPT of the device, its RID's too */
		for (unsigned i = 0; i < ctx->n_pasids; i++)
			if (ctx->pasids[i].hwpt[dev]) {
				r = ifd_inv_hwpt(be, ctx, d, ctx->pasids[i].hwpt[dev], entry);
				if (r < 0)
					return r;
			}
		return d->rid_hwpt ? ifd_inv_hwpt(be, ctx, d, d->rid_hwpt, entry) : 0;
	}
	{
		struct ifd_pasid *p = ctx_pasid(ctx, e->pasid);

		if (!p || !p->hwpt[dev])
			return 0; /* not bound on this device: nothing cached to invalidate */
		return ifd_inv_hwpt(be, ctx, d, p->hwpt[dev], entry);
	}
}

int ifd_invalidate_native(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
			  uint32_t hpasid, uint32_t data_type, const uint8_t *entries,
			  uint32_t entry_len, uint32_t n, uint32_t *ret_done)
{
	const struct ifd_dev *d = &ctx->devs[dev];
	uint32_t hwpt = ifd_pasid_hwpt(ctx, dev, hpasid); /* hpasid 0: the RID's */
	uint32_t valid = 0;
	int bad = 0, r;

	*ret_done = 0;
	if (!d->fmt || !d->parent || data_type != d->fmt->inv_data_type)
		return -EOPNOTSUPP;
	if (!hwpt)
		return -ENOENT;
	for (; valid < n; valid++) { /* the valid prefix goes to the kernel */
		const uint8_t *e = entries + (size_t)valid * entry_len;

		bad = ifd_native_size(e, entry_len, d->fmt->inv_entry_len);
		if (bad == 0)
			bad = d->fmt->check_entry(e);
		if (bad < 0)
			break;
	}
	if (valid == 0)
		return bad;
	r = ifd_inv_prefix(be, ctx, hwpt, data_type, entries, entry_len, valid, d->fmt->name,
			   ret_done);
	return r < 0 ? r : valid < n ? bad : 0;
}

int ifd_inv_prefix(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t hwpt, uint32_t data_type,
		   const uint8_t *entries, uint32_t entry_len, uint32_t valid, const char *name,
		   uint32_t *ret_done)
{
	struct iommu_hwpt_invalidate inv = {.size = sizeof(inv),
					    .hwpt_id = hwpt,
					    .data_uptr = (uint64_t)(uintptr_t)entries,
					    .data_type = data_type,
					    .entry_len = entry_len,
					    .entry_num = valid};
	int r = ifd_ioctl(be, ctx->fd, IOMMU_HWPT_INVALIDATE, &inv);

	be->ctr.invalidations++;
	be->ctr.inv_entries += inv.entry_num;
	/* the kernel says how many it handled, also on error (its entry_num rule) */
	*ret_done = inv.entry_num <= valid ? inv.entry_num : valid;
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_HWPT_INVALIDATE(%s) of object %u: entry %u", name,
				hwpt, *ret_done);
	return 0;
}

/*
 * The nested HWPTs a batch touches on device @dev, as PASIDs: every bound one when an entry is
 * for every PASID (DOMAIN, or ADDR with PASID 0), else the distinct PASIDs the entries name (usually one or two: the hot path
 * never walks the whole PASID table for them).
 */
static uint32_t inv_targets(struct ifd_ctx *ctx, unsigned dev, const struct nest_inv_entry *e,
			    uint32_t n, uint32_t *out)
{
	uint32_t t = 0;

	for (uint32_t k = 0; k < n; k++)
		if (nest_inv_all_pasids(&e[k])) {
			for (unsigned p = 0; p < ctx->n_pasids; p++)
				if (ctx->pasids[p].hwpt[dev])
					out[t++] = ctx->pasids[p].pasid;
			if (ctx->devs[dev].rid_hwpt) /* the RID's stage 1 (a RID bind) too */
				out[t++] = NEST_BE_PASID_RID;
			return t;
		}
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = 0;

		while (i < t && out[i] != e[k].pasid)
			i++;
		if (i == t)
			out[t++] = e[k].pasid;
	}
	return t;
}

/*
 * The batch on device @dev: for each nested HWPT it touches, the entries aimed at it (its
 * PASID's, and every all-PASID one) in their order, translated by the format row, in one
 * IOMMU_HWPT_INVALIDATE. A kernel refusal at position j of one HWPT's list stops the batch at
 * that entry's index in the batch (the smallest over HWPTs). Single-threaded: static buffers.
 */
int ifd_invalidate_batch(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
			 const struct nest_inv_entry *e, uint32_t n, uint32_t *ret_done)
{
	static uint8_t native[NEST_BATCH_MAX * IFD_INV_ENTRY_MAX];
	static uint32_t pos[NEST_BATCH_MAX],
		targets[(NEST_BATCH_MAX > IFD_PASIDS_MAX ? NEST_BATCH_MAX : IFD_PASIDS_MAX) + 1];
	const struct ifd_dev *d = &ctx->devs[dev];
	uint32_t fail_at = n, nt;
	int err = 0;

	*ret_done = 0;
	if (!d->fmt || !d->parent)
		return -EOPNOTSUPP;
	if (n > NEST_BATCH_MAX || d->fmt->inv_entry_len > IFD_INV_ENTRY_MAX)
		return -E2BIG; /* the daemon caps batches at NEST_BATCH_MAX */
	nt = inv_targets(ctx, dev, e, n, targets);
	for (uint32_t t = 0; t < nt; t++) {
		uint32_t hwpt = ifd_pasid_hwpt(ctx, dev, targets[t]), cnt = 0, kdone = 0;
		int r;

		if (!hwpt)
			continue; /* not bound on this device: nothing cached to invalidate */
		for (uint32_t k = 0; k < n; k++) {
			if (!nest_inv_all_pasids(&e[k]) && e[k].pasid != targets[t])
				continue;
			r = d->fmt->inv_entry(&e[k], native + (size_t)cnt * d->fmt->inv_entry_len);
			if (r < 0 && k < fail_at) {
				fail_at = k;
				err = r;
			}
			if (r == 1)
				pos[cnt++] = k;
		}
		if (!cnt)
			continue;
		r = ifd_inv_prefix(be, ctx, hwpt, d->fmt->inv_data_type, native,
				   d->fmt->inv_entry_len, cnt, d->fmt->name, &kdone);
		if (r < 0 && pos[kdone < cnt ? kdone : cnt - 1] < fail_at) {
			fail_at = pos[kdone < cnt ? kdone : cnt - 1];
			err = r;
		}
	}
	*ret_done = fail_at;
	return fail_at < n ? err : 0;
}

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
	struct ifd_pasid *p = ctx_pasid(ctx, pasid);

	return p ? p->hwpt[dev] : 0;
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
	if (ctx->n_pasids == ctx->cap_pasids) {
		unsigned cap = ctx->cap_pasids ? ctx->cap_pasids * 2 : 16;
		struct ifd_pasid *np = realloc(ctx->pasids, cap * sizeof(*np));

		if (!np)
			return ifd_fail(be, ENOMEM, "PASID table");
		ctx->pasids = np;
		ctx->cap_pasids = cap;
	}
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
	struct ifd_pasid *p = ctx_pasid(ctx, pasid);

	if (!p || !p->hwpt[dev])
		return;
	ifd_dev_detach_pasid(be, ctx, &ctx->devs[dev], pasid);
	(void)ifd_destroy(be, ctx->fd, p->hwpt[dev]);
	p->hwpt[dev] = 0;
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
}

int ifd_bind(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
	     const struct nest_be_bind *b)
{
	struct ifd_dev *d = &ctx->devs[dev];
	struct ifd_pasid *p = ctx_pasid(ctx, b->hpasid);
	uint8_t data[64];
	struct iommu_hwpt_alloc a = {.size = sizeof(a),
				     .flags = IOMMU_HWPT_ALLOC_PASID,
				     .dev_id = d->idev,
				     .pt_id = d->parent,
				     .data_uptr = (uint64_t)(uintptr_t)data};
	int r;

	if (!p)
		return ifd_fail(be, ENOENT, "bind: PASID %u is not this VM's", b->hpasid);
	if (p->hwpt[dev])
		return -EBUSY;
	if (!d->parent || !d->fmt)
		return ifd_fail(be, EOPNOTSUPP, "bind: device %u's IOMMU has no nesting",
				d->dev_id);
	if (d->fmt->hwpt_data_len > sizeof(data))
		return -EINVAL;
	r = d->fmt->bind_data(b, data);
	if (r < 0)
		return r;
	a.data_type = d->fmt->hwpt_data_type;
	a.data_len = d->fmt->hwpt_data_len;
	r = ifd_ioctl(be, ctx->fd, IOMMU_HWPT_ALLOC, &a);
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_HWPT_ALLOC(nested, %s) for PASID %u on device %u",
				d->fmt->name, b->hpasid, d->dev_id);
	r = ifd_dev_attach_pasid(be, ctx, d, b->hpasid, a.out_hwpt_id);
	if (r < 0) {
		(void)ifd_destroy(be, ctx->fd, a.out_hwpt_id);
		return r;
	}
	p->hwpt[dev] = a.out_hwpt_id;
	be->ctr.binds++;
	return 0;
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
		return n; /* nothing for the kernel to do (or a bad entry) */
	if (e->granularity == NEST_INV_GRANU_DOMAIN) { /* every nested HWPT of the device */
		for (unsigned i = 0; i < ctx->n_pasids; i++)
			if (ctx->pasids[i].hwpt[dev]) {
				r = ifd_inv_hwpt(be, ctx, d, ctx->pasids[i].hwpt[dev], entry);
				if (r < 0)
					return r;
			}
		return 0;
	}
	{
		struct ifd_pasid *p = ctx_pasid(ctx, e->pasid);

		if (!p || !p->hwpt[dev])
			return 0; /* not bound on this device: nothing cached to invalidate */
		return ifd_inv_hwpt(be, ctx, d, p->hwpt[dev], entry);
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * nesting-ctx.c - a VM's PASIDs and bindings on the vfio-nesting backend.
 *
 * The daemon owns ownership and quotas; this file keeps what the kernel needs to be told. The
 * seed binds a PASID on a whole container, i.e. on every device of its (only) group, while the
 * daemon binds per device: a group's binding is issued when the first of its devices is bound
 * and removed when the last one is unbound, so rollback and device removal stay per device.
 * PASIDs come from the seed's per-process allocator (nestd's mm), so any container of the VM can
 * allocate and free them.
 */
#include <errno.h>
#include <stdlib.h>

#include "nest-msg.h"
#include "vfio-internal.h"

static struct vfio_pasid *ctx_pasid(struct vfio_ctx *ctx, uint32_t pasid)
{
	for (unsigned i = 0; i < ctx->n_pasids; i++)
		if (ctx->pasids[i].pasid == pasid)
			return &ctx->pasids[i];
	return NULL;
}

/* Is another device of @dev's group bound on @p? */
static bool group_bound_elsewhere(const struct vfio_ctx *ctx, const struct vfio_pasid *p,
				  unsigned dev)
{
	for (unsigned k = 0; k < ctx->n_devs; k++)
		if (k != dev && ctx->devs[k].grp == ctx->devs[dev].grp && (p->bound >> k & 1))
			return true;
	return false;
}

int vfio_nesting_ctx_pasid_alloc(struct nest_backend *be, struct vfio_ctx *ctx, uint32_t min,
				 uint32_t max, uint32_t *ret)
{
	uint32_t pasid;
	int r;

	if (ctx->n_conts == 0)
		return vfio_fail(be, ENODEV, "PASID allocation: the VM has no device");
	if (ctx->n_pasids >= VFIO_NEST_PASID_MAX)
		return vfio_fail(be, ENOSPC, "PASID allocation: %u PASIDs held", ctx->n_pasids);
	if (nest_be_grow((void **)&ctx->pasids, &ctx->cap_pasids, ctx->n_pasids,
			 sizeof(*ctx->pasids)) < 0)
		return vfio_fail(be, ENOMEM, "PASID table");
	r = vfio_nesting_pasid_alloc(be, ctx->conts[0], min, max, &pasid);
	if (r < 0)
		return r;
	ctx->pasids[ctx->n_pasids++] = (struct vfio_pasid){.pasid = pasid};
	*ret = pasid;
	return 0;
}

void vfio_nesting_ctx_unbind(struct nest_backend *be, struct vfio_ctx *ctx, unsigned dev,
			     uint32_t pasid)
{
	struct vfio_pasid *p = ctx_pasid(ctx, pasid);

	if (!p || !(p->bound >> dev & 1))
		return;
	if (!group_bound_elsewhere(ctx, p, dev))
		(void)vfio_nesting_unbind(be, ctx->devs[dev].grp->cont, pasid);
	p->bound &= ~(UINT64_C(1) << dev);
}

void vfio_nesting_ctx_pasid_free(struct nest_backend *be, struct vfio_ctx *ctx, uint32_t pasid)
{
	struct vfio_pasid *p = ctx_pasid(ctx, pasid);

	if (!p)
		return;
	for (unsigned k = 0; k < ctx->n_devs; k++)
		vfio_nesting_ctx_unbind(be, ctx, k, pasid);
	if (ctx->n_conts)
		(void)vfio_nesting_pasid_free(be, ctx->conts[0], pasid);
	*p = ctx->pasids[--ctx->n_pasids];
}

int vfio_nesting_ctx_bind(struct nest_backend *be, struct vfio_ctx *ctx, unsigned dev,
			  const struct nest_be_bind *b)
{
	struct vfio_pasid *p = ctx_pasid(ctx, b->hpasid);
	int r = 0;

	if (!p)
		return vfio_fail(be, ENOENT, "bind: PASID %u is not this VM's", b->hpasid);
	if (p->bound >> dev & 1)
		return vfio_fail(be, EBUSY, "bind: PASID %u is already bound on this device",
				 b->hpasid);
	if (!group_bound_elsewhere(ctx, p, dev))
		r = vfio_nesting_bind(be, ctx->devs[dev].grp->cont, b);
	if (r == 0)
		p->bound |= UINT64_C(1) << dev;
	return r;
}

void vfio_nesting_device_gone(struct nest_backend *be, struct vfio_ctx *ctx, unsigned dev)
{
	for (unsigned i = 0; i < ctx->n_pasids; i++)
		vfio_nesting_ctx_unbind(be, ctx, dev, ctx->pasids[i].pasid);
}

void vfio_nesting_device_moved(struct vfio_ctx *ctx, unsigned from, unsigned to)
{
	for (unsigned i = 0; i < ctx->n_pasids; i++) {
		struct vfio_pasid *p = &ctx->pasids[i];
		uint64_t bit = p->bound >> from & 1;

		p->bound &= ~(UINT64_C(1) << from);
		p->bound |= bit << to;
	}
}

void vfio_nesting_ctx_release(struct nest_backend *be, struct vfio_ctx *ctx)
{
	while (ctx->n_pasids)
		vfio_nesting_ctx_pasid_free(be, ctx, ctx->pasids[ctx->n_pasids - 1].pasid);
}

/*
 * CACHE_INVLD for @dev's group. An ADDR entry without a PASID (every PASID of the VM) becomes
 * one call per PASID bound in the group, each with IOMMU_INV_ADDR_FLAGS_PASID: the series'
 * Intel driver issues PASID-selective flushes and has no form without a PASID, and a PASID
 * bound nowhere in the group has nothing cached there.
 */
int vfio_nesting_ctx_invalidate(struct nest_backend *be, struct vfio_ctx *ctx, unsigned dev,
				const struct nest_inv_entry *e)
{
	struct nest_inv_entry one = *e;

	if (!nest_inv_all_pasids(e) || e->granularity == NEST_INV_GRANU_DOMAIN)
		return vfio_nesting_invalidate(be, ctx->devs[dev].grp->cont, e);
	for (unsigned i = 0; i < ctx->n_pasids; i++) {
		const struct vfio_pasid *p = &ctx->pasids[i];
		int r;

		if (!(p->bound >> dev & 1) && !group_bound_elsewhere(ctx, p, dev))
			continue;
		one.pasid = p->pasid;
		r = vfio_nesting_invalidate(be, ctx->devs[dev].grp->cont, &one);
		if (r < 0)
			return r;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * backend-vfio.c - the "vfio-type1" and "vfio-nesting" backends (struct nest_backend_ops).
 *
 * Both drive legacy VFIO: one VFIO group per IOMMU group of the VM's host devices, device fds
 * from VFIO_GROUP_GET_DEVICE_FD, stage 2 with VFIO_IOMMU_MAP_DMA at IOVA = GPA. vfio-type1 puts
 * all of a VM's groups into one container and has no nesting (BIND, UNBIND, PASID and
 * INVALIDATE answer EOPNOTSUPP; VM_ATTACH reports formats = 0). vfio-nesting uses the VFIO nesting
 * series (never merged): VFIO_TYPE1_NESTING_IOMMU, one container per group (the series only
 * supports singleton containers), PASIDs from VFIO_IOMMU_PASID_REQUEST, bind / unbind /
 * invalidate through VFIO_IOMMU_NESTING_OP (nesting.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio-internal.h"

static int vfio_open_common(const struct nest_backend_params *p, const struct nest_be_events *ev,
			    void *opaque, bool nesting, struct nest_backend **ret)
{
	struct nest_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	be->sys = *vfio_sys_or_real(p->vfio_sys);
	be->nesting = nesting;
	be->ev = ev;
	be->opaque = opaque;
	*ret = be;
	return 0;
}

static int type1_open(const struct nest_backend_params *p, const struct nest_be_events *ev,
		      void *opaque, struct nest_backend **ret)
{
	return vfio_open_common(p, ev, opaque, false, ret);
}

static int nesting_open(const struct nest_backend_params *p, const struct nest_be_events *ev,
			void *opaque, struct nest_backend **ret)
{
	return vfio_open_common(p, ev, opaque, true, ret);
}

static void vfio_ctx_free(struct nest_backend *be, struct nest_be_ctx *ctx);

static void vfio_close(struct nest_backend *be)
{
	while (be->ctxs)
		vfio_ctx_free(be, (struct nest_be_ctx *)be->ctxs);
	free(be);
}

/* Nesting info of one container in the backend-neutral form. */
static void vfio_info_from(const struct nest_backend *be, const struct vfio_container *c,
			   struct nest_backend_info *ret)
{
	*ret = (struct nest_backend_info){
		.kind = be->nesting ? NEST_BACKEND_VFIO_NESTING : NEST_BACKEND_VFIO_TYPE1,
		.name = be->nesting ? "vfio-nesting" : "vfio-type1",
	};
	if (!c || !c->has_nesting)
		return;
	vfio_nesting_info(&c->nest, ret);
}

static void vfio_info(struct nest_backend *be, struct nest_backend_info *ret)
{
	vfio_info_from(be, NULL, ret);
}

static int vfio_ctx_info(struct nest_backend *be, struct nest_be_ctx *bctx,
			 struct nest_backend_info *ret)
{
	struct vfio_ctx *ctx = (struct vfio_ctx *)bctx;
	bool alone = ctx->n_devs > 0;

	vfio_info_from(be, ctx->n_conts ? ctx->conts[0] : NULL, ret);
	/*
	 * The seed series binds a PASID on a container (every group in it): a bind on one device
	 * is what it does only when each device has a container to itself. It has no RID bind
	 * and no replace (BIND_PGTBL of a bound PASID fails): no BIND_RID, no BIND_REPLACE.
	 */
	for (unsigned i = 0; i < ctx->n_devs && alone; i++)
		for (unsigned k = 0; k < ctx->n_devs; k++)
			if (k != i && ctx->devs[k].grp->cont == ctx->devs[i].grp->cont)
				alone = false;
	if (alone && (ret->features & NEST_FEAT_BIND_PGTBL))
		ret->features |= NEST_FEAT_BIND_DEVICE;
	return 0;
}

static int vfio_ctx_new(struct nest_backend *be, const struct nest_be_ctx_params *p,
			struct nest_be_ctx **ret)
{
	struct vfio_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return vfio_fail(be, ENOMEM, "VM context");
	ctx->be = be;
	ctx->cookie = p->cookie;
	ctx->next = be->ctxs;
	be->ctxs = ctx;
	*ret = (struct nest_be_ctx *)ctx;
	return 0;
}

static int vfio_dev_index(const struct vfio_ctx *ctx, uint32_t dev_id)
{
	for (unsigned i = 0; i < ctx->n_devs; i++)
		if (ctx->devs[i].dev_id == dev_id)
			return (int)i;
	return -1;
}

/* Drop container @c from the ctx (it has no group left) and close it. */
static void vfio_ctx_drop_container(struct vfio_ctx *ctx, struct vfio_container *c)
{
	for (unsigned i = 0; i < ctx->n_conts; i++) {
		if (ctx->conts[i] != c)
			continue;
		ctx->conts[i] = ctx->conts[--ctx->n_conts];
		vfio_container_close(c);
		return;
	}
}

/* The group's last device left: close the group, and its container if it is empty now. */
static void vfio_ctx_put_group(struct nest_backend *be, struct vfio_ctx *ctx, struct vfio_group *g)
{
	struct vfio_container *c = g->cont;
	bool shared = false;

	vfio_group_close(g);
	g->num = -1;
	for (unsigned i = 0; i < ctx->n_groups; i++)
		if (ctx->groups[i].fd >= 0 && ctx->groups[i].cont == c)
			shared = true;
	if (c && !shared) {
		/* nothing may stay mapped or pinned in a container we close (a VMM's device fd
		 * can keep its group, and so the container, alive after we let go) */
		for (unsigned i = 0; i < ctx->n_maps; i++)
			(void)vfio_dma_unmap_container(be, c, ctx->maps[i].gpa, ctx->maps[i].len);
		vfio_ctx_drop_container(ctx, c);
	}
}

static void vfio_ctx_free(struct nest_backend *be, struct nest_be_ctx *bctx)
{
	struct vfio_ctx *ctx = (struct vfio_ctx *)bctx;

	if (be->nesting)
		vfio_nesting_ctx_release(be, ctx);
	while (ctx->n_maps)
		vfio_dma_unmap(be, ctx, ctx->maps[0].gpa, ctx->maps[0].len);
	for (unsigned i = 0; i < ctx->n_groups; i++)
		if (ctx->groups[i].fd >= 0)
			vfio_group_close(&ctx->groups[i]);
	while (ctx->n_conts)
		vfio_ctx_drop_container(ctx, ctx->conts[0]);
	for (struct vfio_ctx **pp = &be->ctxs; *pp; pp = &(*pp)->next)
		if (*pp == ctx) {
			*pp = ctx->next;
			break;
		}
	free(ctx->maps);
	free(ctx->pasids);
	free(ctx);
}

/* A new group for @ctx: its container (shared on type1, its own on nesting) and IOMMU model. */
static int vfio_ctx_add_group(struct nest_backend *be, struct vfio_ctx *ctx, int num,
			      struct vfio_group **ret)
{
	struct vfio_container *c = NULL;
	struct vfio_group *g = NULL;
	bool new_cont = false;
	int r;

	for (unsigned i = 0; i < ctx->n_groups; i++)
		if (ctx->groups[i].fd < 0) {
			g = &ctx->groups[i];
			break;
		}
	if (!g) {
		if (ctx->n_groups >= VFIO_CTX_DEVS_MAX)
			return vfio_fail(be, ENOSPC, "too many IOMMU groups in one VM");
		g = &ctx->groups[ctx->n_groups++];
		g->fd = -1;
	}
	r = vfio_group_open(be, g, num);
	if (r < 0)
		return r;
	if (!be->nesting && ctx->n_conts) {
		c = ctx->conts[0];
	} else {
		r = vfio_container_open(be, &c);
		if (r < 0)
			goto fail;
		new_cont = true;
	}
	r = vfio_group_set_container(be, g, c);
	if (r == 0)
		r = c->iommu_set ? vfio_container_refresh_info(be, c) /* ranges may narrow */
				 : vfio_container_set_iommu(be, c);
	if (r == 0 && be->nesting && !c->has_nesting)
		r = vfio_fail(
			be, EOPNOTSUPP,
			"group %d: VFIO_IOMMU_GET_INFO has no nesting capability (this kernel "
			"lacks the VFIO nesting series)",
			num);
	if (r == 0 && new_cont) {
		for (unsigned i = 0; r == 0 && i < ctx->n_maps; i++)
			r = vfio_dma_map_container(be, c, &ctx->maps[i]);
	}
	if (r < 0)
		goto fail;
	if (new_cont)
		ctx->conts[ctx->n_conts++] = c;
	*ret = g;
	return 0;
fail:
	vfio_group_close(g);
	g->num = -1;
	if (new_cont)
		vfio_container_close(c);
	return r;
}

static int vfio_device_attach(struct nest_backend *be, struct nest_be_ctx *bctx,
			      const struct nest_be_dev *dev, int *ret_fd)
{
	struct vfio_ctx *ctx = (struct vfio_ctx *)bctx;
	struct vfio_group *g = NULL;
	bool new_group = false;
	int num, fd, r;

	if (!dev->pci || !dev->pci[0])
		return vfio_fail(be, EINVAL, "device %s: no PCI address (pci=)", dev->name);
	if (vfio_dev_index(ctx, dev->dev_id) >= 0)
		return vfio_fail(be, EEXIST, "device %s: id %u attached twice", dev->name,
				 dev->dev_id);
	if (ctx->n_devs >= VFIO_CTX_DEVS_MAX)
		return vfio_fail(be, ENOSPC, "too many devices in one VM");
	for (unsigned i = 0; i < ctx->n_devs; i++)
		if (strcmp(ctx->devs[i].pci, dev->pci) == 0)
			return vfio_fail(be, EEXIST, "device %s: PCI %s is already in this VM",
					 dev->name, dev->pci);
	r = vfio_pci_group(be, dev->pci, &num);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < ctx->n_groups; i++)
		if (ctx->groups[i].fd >= 0 && ctx->groups[i].num == num)
			g = &ctx->groups[i];
	if (!g) {
		r = vfio_ctx_add_group(be, ctx, num, &g);
		if (r < 0)
			return r;
		new_group = true;
	}
	fd = vfio_group_device_fd(be, g, dev->pci);
	if (fd < 0) {
		if (new_group)
			vfio_ctx_put_group(be, ctx, g);
		return fd;
	}
	ctx->devs[ctx->n_devs] = (struct vfio_dev){.dev_id = dev->dev_id, .grp = g};
	snprintf(ctx->devs[ctx->n_devs].pci, sizeof(ctx->devs[0].pci), "%s", dev->pci);
	ctx->n_devs++;
	g->n_devs++;
	*ret_fd = fd;
	return 0;
}

static void vfio_device_detach(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id)
{
	struct vfio_ctx *ctx = (struct vfio_ctx *)bctx;
	int i = vfio_dev_index(ctx, dev_id);
	struct vfio_group *g;

	if (i < 0)
		return;
	g = ctx->devs[i].grp;
	if (be->nesting)
		vfio_nesting_device_gone(be, ctx, (unsigned)i);
	ctx->devs[i] = ctx->devs[--ctx->n_devs];
	if (be->nesting)
		vfio_nesting_device_moved(ctx, ctx->n_devs, (unsigned)i);
	if (--g->n_devs == 0)
		vfio_ctx_put_group(be, ctx, g);
}

static int vfio_map(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa, uint64_t len,
		    int fd, uint64_t fd_offset, uint32_t perms)
{
	return vfio_dma_map(be, (struct vfio_ctx *)ctx, gpa, len, fd, fd_offset, perms);
}

/* What every container of the VM allows (vfio-nesting has one per group), in sizes all support. */
static int vfio_iova_info(struct nest_backend *be, struct nest_be_ctx *bctx, uint64_t *ret_pgsizes,
			  struct nest_iova_range *ret_ranges, uint32_t cap)
{
	const struct vfio_ctx *ctx = (const struct vfio_ctx *)bctx;
	struct nest_iova_range cur[VFIO_RANGES_MAX], rg[VFIO_RANGES_MAX];
	const struct nest_iova_range all = {0, UINT64_MAX};
	uint64_t pgsizes = ctx->n_conts ? UINT64_MAX : 4096;
	uint32_t n = 1;

	(void)be;
	cur[0] = all;
	for (unsigned i = 0; i < ctx->n_conts; i++) {
		const struct vfio_container *c = ctx->conts[i];

		for (uint32_t k = 0; k < c->n_ranges; k++)
			rg[k] = (struct nest_iova_range){c->ranges[k].start, c->ranges[k].last};
		n = nest_be_iova_intersect(cur, n < VFIO_RANGES_MAX ? n : VFIO_RANGES_MAX, rg,
					   c->n_ranges, cur, VFIO_RANGES_MAX);
		pgsizes &= c->pgsizes;
	}
	*ret_pgsizes = pgsizes;
	memcpy(ret_ranges, cur, (n < cap ? n : cap) * sizeof(cur[0]));
	return (int)n;
}

/* VFIO_DEVICE_RESET (FLR, PM or bus reset the kernel picks); a device without one: nothing. */
static int vfio_device_reset(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			     int fd)
{
	int r = vfio_sys_ioctl(be, fd, VFIO_DEVICE_RESET, NULL);

	(void)ctx;
	if (r == -ENOTTY || r == -EINVAL)
		return 0; /* the device has no reset function */
	if (r < 0)
		return vfio_fail(be, -r, "VFIO_DEVICE_RESET of device %u", dev_id);
	return 1;
}

/*
 * VFIO_DEVICE_PCI_HOT_RESET needs the fd of every group the reset touches; the kernel lists the
 * devices in VFIO_DEVICE_GET_PCI_HOT_RESET_INFO. Each must be in a group of this VM: a group is
 * the unit of isolation, and a group of another VM (or one no VM holds) is not ours to reset.
 */
static int vfio_device_hot_reset(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
				 int fd)
{
	const struct vfio_ctx *ctx = (const struct vfio_ctx *)bctx;
	union {
		struct vfio_pci_hot_reset_info info;
		uint8_t raw[sizeof(struct vfio_pci_hot_reset_info) +
			    VFIO_CTX_DEVS_MAX * 4 * sizeof(struct vfio_pci_dependent_device)];
	} hi = {.info = {.argsz = sizeof(hi)}};
	union {
		struct vfio_pci_hot_reset reset;
		uint8_t raw[sizeof(struct vfio_pci_hot_reset) +
			    VFIO_CTX_DEVS_MAX * sizeof(int32_t)];
	} hr = {{0}};
	uint32_t n, nfds = 0;
	int r = vfio_sys_ioctl(be, fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi.info);

	if (r == -ENODEV || r == -ENOTTY)
		return vfio_fail(be, EOPNOTSUPP,
				 "device %u: the kernel cannot hot-reset it (no bus or slot reset, "
				 "e.g. on a root bus)",
				 dev_id);
	if (r < 0)
		return vfio_fail(be, -r, "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO of device %u", dev_id);
	n = hi.info.count;
	if (n > (sizeof(hi) - sizeof(hi.info)) / sizeof(hi.info.devices[0]))
		return vfio_fail(be, E2BIG, "device %u: a hot reset touches %u devices", dev_id, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct vfio_pci_dependent_device *dd = &hi.info.devices[i];
		const struct vfio_group *g = NULL;
		bool seen = false;

		for (unsigned k = 0; k < ctx->n_groups && !g; k++)
			if (ctx->groups[k].num == (int)dd->group_id)
				g = &ctx->groups[k];
		if (!g)
			return vfio_fail(
				be, EBUSY,
				"device %u: a hot reset would also reset "
				"%04x:%02x:%02x.%x (IOMMU group %u), which is not this VM's",
				dev_id, dd->segment, dd->bus, dd->devfn >> 3, dd->devfn & 7,
				dd->group_id);
		for (uint32_t k = 0; k < nfds; k++)
			seen |= hr.reset.group_fds[k] == g->fd;
		if (!seen)
			hr.reset.group_fds[nfds++] = g->fd;
	}
	hr.reset.argsz = (uint32_t)(sizeof(hr.reset) + nfds * sizeof(int32_t));
	hr.reset.count = nfds;
	r = vfio_sys_ioctl(be, fd, VFIO_DEVICE_PCI_HOT_RESET, &hr.reset);
	if (r < 0)
		return vfio_fail(be, -r, "VFIO_DEVICE_PCI_HOT_RESET of device %u", dev_id);
	return 0;
}

static void vfio_unmap(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa, uint64_t len)
{
	vfio_dma_unmap(be, (struct vfio_ctx *)ctx, gpa, len);
}

/* ---- vfio-type1: no nesting uAPI ---- */

static int type1_pasid_alloc(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			     uint32_t min, uint32_t max, uint32_t *ret)
{
	return -EOPNOTSUPP; /* no nesting uAPI: VM_ATTACH said so (pasid_bits 0, formats 0) */
}

static void type1_pasid_free(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			     uint32_t pasid)
{
}

static int type1_bind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		      const struct nest_be_bind *b)
{
	return -EOPNOTSUPP;
}

static void type1_unbind(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			 uint32_t pasid)
{
}

static int type1_invalidate(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			    const struct nest_inv_entry *e)
{
	return -EOPNOTSUPP;
}

/* ---- vfio-nesting ---- */

static int nesting_pasid_alloc(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			       uint32_t min, uint32_t max, uint32_t *ret)
{
	return vfio_nesting_ctx_pasid_alloc(be, (struct vfio_ctx *)ctx, min, max, ret);
}

static void nesting_pasid_free(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			       uint32_t pasid)
{
	vfio_nesting_ctx_pasid_free(be, (struct vfio_ctx *)ctx, pasid);
}

static int nesting_bind(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			const struct nest_be_bind *b)
{
	struct vfio_ctx *ctx = (struct vfio_ctx *)bctx;
	int i = vfio_dev_index(ctx, dev_id);

	if (i < 0)
		return vfio_fail(be, ENOENT, "bind: no device %u", dev_id);
	return vfio_nesting_ctx_bind(be, ctx, (unsigned)i, b);
}

static void nesting_unbind(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			   uint32_t pasid)
{
	struct vfio_ctx *ctx = (struct vfio_ctx *)bctx;
	int i = vfio_dev_index(ctx, dev_id);

	if (i >= 0)
		vfio_nesting_ctx_unbind(be, ctx, (unsigned)i, pasid);
}

static int nesting_invalidate(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			      const struct nest_inv_entry *e)
{
	struct vfio_ctx *ctx = (struct vfio_ctx *)bctx;
	int i = vfio_dev_index(ctx, dev_id);

	if (i < 0)
		return vfio_fail(be, ENOENT, "invalidate: no device %u", dev_id);
	/* CACHE_INVLD acts on the container, i.e. on every device of the group: once a group */
	for (int k = 0; k < i; k++)
		if (ctx->devs[k].grp == ctx->devs[i].grp)
			return 0;
	return vfio_nesting_ctx_invalidate(be, ctx, (unsigned)i, e);
}

static void vfio_last_error(struct nest_backend *be, char *buf, size_t len)
{
	snprintf(buf, len, "%s", be->err);
	be->err[0] = '\0';
}

static int vfio_counters(struct nest_backend *be, struct json_object **ret)
{
	const struct vfio_counters *c = &be->ctr;
	const struct nest_be_counter vals[] = {
		{"ioctl_errors", c->ioctl_errors},
		{"teardown_errors", c->teardown_errors},
		{"dma_maps", c->maps},
		{"dma_unmaps", c->unmaps},
		{"mapped_bytes", c->mapped_bytes},
		{"pasid_allocs", c->pasid_allocs},
		{"pasid_frees", c->pasid_frees},
		{"binds", c->binds},
		{"unbinds", c->unbinds},
		{"invalidations", c->invalidations},
	};

	return nest_be_counters_json(vals, sizeof(vals) / sizeof(vals[0]), ret);
}

const struct nest_backend_ops nest_backend_vfio_type1_ops = {
	.name = "vfio-type1",
	.probe = vfio_type1_probe,
	.open = type1_open,
	.close = vfio_close,
	.info = vfio_info,
	.ctx_info = vfio_ctx_info,
	.ctx_new = vfio_ctx_new,
	.ctx_free = vfio_ctx_free,
	.map = vfio_map,
	.unmap = vfio_unmap,
	.device_attach = vfio_device_attach,
	.device_detach = vfio_device_detach,
	.pasid_alloc = type1_pasid_alloc,
	.pasid_free = type1_pasid_free,
	.bind = type1_bind,
	.unbind = type1_unbind,
	.invalidate = type1_invalidate,
	.last_error = vfio_last_error,
	.counters = vfio_counters,
	.iova_info = vfio_iova_info,
	.device_reset = vfio_device_reset,
	.device_hot_reset = vfio_device_hot_reset,
};

const struct nest_backend_ops nest_backend_vfio_nesting_ops = {
	.name = "vfio-nesting",
	.probe = vfio_nesting_probe,
	.open = nesting_open,
	.close = vfio_close,
	.info = vfio_info,
	.ctx_info = vfio_ctx_info,
	.ctx_new = vfio_ctx_new,
	.ctx_free = vfio_ctx_free,
	.map = vfio_map,
	.unmap = vfio_unmap,
	.device_attach = vfio_device_attach,
	.device_detach = vfio_device_detach,
	.pasid_alloc = nesting_pasid_alloc,
	.pasid_free = nesting_pasid_free,
	.bind = nesting_bind,
	.unbind = nesting_unbind,
	.invalidate = nesting_invalidate,
	.last_error = vfio_last_error,
	.counters = vfio_counters,
	.iova_info = vfio_iova_info,
	.device_reset = vfio_device_reset,
	.device_hot_reset = vfio_device_hot_reset,
};

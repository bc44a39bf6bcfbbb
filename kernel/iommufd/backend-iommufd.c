/* SPDX-License-Identifier: MIT */
/*
 * backend-iommufd.c - the "iommufd" backend (struct nest_backend_ops): one iommufd per VM,
 * an IOAS for stage 2 (IOMMU_IOAS_MAP_FILE of the VMM's memfd), devices through VFIO cdev or
 * the kernel's selftest mock, a NEST_PARENT HWPT per device, a nested HWPT per bound PASID and
 * device, HWPT_INVALIDATE for the guest's invalidations. Formats: formats.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "iommufd-internal.h"
#include "iommufd-test.h"
#include "iommufd.h"

int ifd_fail(struct nest_backend *be, int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = nest_be_vfail(be->err, sizeof(be->err), err, fmt, ap);
	va_end(ap);
	return r;
}

int ifd_ioctl(struct nest_backend *be, int fd, unsigned long req, void *arg)
{
	int r = be->sys.ioctl(be->sys.opaque, fd, req, arg);

	if (r < 0) {
		be->ctr.ioctl_errors++;
		if (r == -EPERM || r == -EACCES)
			r = -EIO; /* on nestd's wire EPERM means "this peer may not" */
	}
	return r;
}

int ifd_destroy(struct nest_backend *be, int fd, uint32_t id)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = id};
	int r = ifd_ioctl(be, fd, IOMMU_DESTROY, &d);

	if (r < 0) {
		be->ctr.teardown_errors++;
		return ifd_fail(be, -r, "IOMMU_DESTROY(%u)", id);
	}
	return 0;
}

static int ifd_open_iommu(const struct nest_vfio_sys *sys, char *why, size_t len)
{
	char path[NEST_VFIO_ROOT_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/iommu", sys->dev_root);
	fd = sys->open(sys->opaque, path, O_RDWR);
	if (fd < 0 && why)
		snprintf(why, len, "open %s: %s%s", path, strerror(-fd),
			 fd == -ENOENT ? " (kernel without CONFIG_IOMMUFD)" : "");
	return fd;
}

/* Does this kernel have the iommufd selftest mock? An unknown test op answers EOPNOTSUPP
 * there and the ioctl itself ENOTTY elsewhere. */
static bool ifd_has_mock(const struct nest_vfio_sys *sys, int fd)
{
	struct iommu_test_cmd c = {.size = sizeof(c), .op = 0};

	return sys->ioctl(sys->opaque, fd, IOMMU_TEST_CMD, &c) == -EOPNOTSUPP;
}

static int ifd_probe(const struct nest_backend_params *p, char *why, size_t len)
{
	const struct nest_vfio_sys *sys = vfio_sys_or_real(p->vfio_sys);
	struct iommu_ioas_alloc ia = {.size = sizeof(ia)};
	char dir[NEST_VFIO_ROOT_MAX + 64];
	int fd = ifd_open_iommu(sys, why, len), r;
	bool mock;

	if (fd < 0)
		return fd;
	r = sys->ioctl(sys->opaque, fd, IOMMU_IOAS_ALLOC, &ia);
	mock = ifd_has_mock(sys, fd);
	close(fd); /* the IOAS goes with it */
	if (r < 0) {
		snprintf(why, len, "IOMMU_IOAS_ALLOC: %s", strerror(-r));
		return r;
	}
	if (p->n_mock && !mock) {
		snprintf(why, len,
			 "mock devices are configured but the kernel has no iommufd "
			 "selftest (CONFIG_IOMMUFD_TEST)");
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < p->n_host_pci; i++) {
		snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s/vfio-dev", sys->sysfs_root,
			 p->host_pci[i]);
		if (access(dir, F_OK) < 0) {
			snprintf(
				why, len,
				"PCI device %s has no VFIO cdev (not bound to vfio-pci, or a kernel "
				"without CONFIG_VFIO_DEVICE_CDEV)",
				p->host_pci[i]);
			return -ENODEV;
		}
	}
	snprintf(why, len, "/dev/iommu%s", mock ? " with the selftest mock" : "");
	return 0;
}

static int ifd_open(const struct nest_backend_params *p, const struct nest_be_events *ev,
		    void *opaque, struct nest_backend **ret)
{
	struct nest_backend *be = calloc(1, sizeof(*be));
	int fd;

	if (!be)
		return -ENOMEM;
	be->sys = *vfio_sys_or_real(p->vfio_sys);
	be->ev = ev;
	be->opaque = opaque;
	be->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (be->epfd < 0) {
		free(be);
		return -errno;
	}
	fd = ifd_open_iommu(&be->sys, NULL, 0);
	if (fd >= 0) {
		be->has_mock = ifd_has_mock(&be->sys, fd);
		close(fd);
	}
	*ret = be;
	return 0;
}

static void ifd_ctx_free(struct nest_backend *be, struct nest_be_ctx *bctx);

static void ifd_close(struct nest_backend *be)
{
	while (be->ctxs)
		ifd_ctx_free(be, (struct nest_be_ctx *)be->ctxs);
	close(be->epfd);
	free(be);
}

static void ifd_info(struct nest_backend *be, struct nest_backend_info *ret)
{
	*ret = (struct nest_backend_info){.kind = NEST_BACKEND_IOMMUFD,
					  .name = "iommufd",
					  .pasid_mode = NEST_PASID_MODE_PER_DEVICE};
}

/* What every device of the VM can do: formats and widths intersected, PASID bits the least. */
static int ifd_ctx_info(struct nest_backend *be, struct nest_be_ctx *bctx,
			struct nest_backend_info *ret)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	uint32_t formats = ~0u, widths = ~0u;
	uint8_t bits = 20;

	ifd_info(be, ret);
	for (unsigned i = 0; i < ctx->n_devs; i++) {
		const struct ifd_dev *d = &ctx->devs[i];

		if (!d->fmt || !d->parent) {
			formats = widths = 0;
		} else {
			formats &= d->fmt->nest_formats;
			widths &= d->fmt->addr_widths;
		}
		if (d->pasid_log2 < bits)
			bits = d->pasid_log2;
		if (i == 0) {
			ret->cap_reg = d->cap_reg;
			ret->ecap_reg = d->ecap_reg;
		}
	}
	if (ctx->n_devs == 0)
		formats = widths = bits = 0;
	ret->formats = formats;
	ret->addr_widths = widths;
	ret->pasid_bits = bits;
	/* a nested HWPT per (device, PASID) and per RID, swapped by the kernel's replace */
	if (formats)
		ret->features = NEST_FEAT_BIND_PGTBL | NEST_FEAT_CACHE_INVLD |
				NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE;
	if (formats && ctx->fault_fd >= 0) /* stage-1 page requests reach the VM's queue */
		ret->features |= NEST_FEAT_PAGE_REQUESTS;
	/* native forms: when every device has the same format row */
	for (unsigned i = 0; formats && i < ctx->n_devs; i++)
		if (ctx->devs[i].fmt != ctx->devs[0].fmt)
			formats = 0;
	for (uint32_t t = 0; formats && t < 2; t++) {
		static const uint32_t types[] = {IOMMU_VIOMMU_TYPE_SELFTEST,
						 IOMMU_VIOMMU_TYPE_ARM_SMMUV3};
		const struct ifd_viommu_format *vf = ifd_viommu_format_find(types[t]);

		if (vf && vf->hw_type == ctx->devs[0].hw_type) {
			ret->features |= NEST_FEAT_VIOMMU;
			ret->viommu_type = vf->viommu_type;
			ret->viommu_inv_data_type = vf->inv_data_type;
			ret->viommu_inv_entry_len = vf->inv_entry_len;
			ret->vevent_type = vf->veventq_type;
			ret->vevent_len = vf->vevent_len;
		}
	}
	if (formats) {
		const struct ifd_format *f = ctx->devs[0].fmt;

		ret->features |= NEST_FEAT_NATIVE;
		ret->hw_info_type = f->hw_type;
		ret->hwpt_data_type = f->hwpt_data_type;
		ret->inv_data_type = f->inv_data_type;
		ret->inv_entry_len = f->inv_entry_len;
	}
	return 0;
}

static int ifd_ctx_new(struct nest_backend *be, const struct nest_be_ctx_params *p,
		       struct nest_be_ctx **ret)
{
	struct ifd_ctx *ctx = calloc(1, sizeof(*ctx));
	struct iommu_ioas_alloc ia = {.size = sizeof(ia)};
	char why[256];
	int r;

	if (!ctx)
		return ifd_fail(be, ENOMEM, "VM context");
	ctx->be = be;
	ctx->cookie = p->cookie;
	ctx->serial = ++be->next_serial;
	ctx->fd = ifd_open_iommu(&be->sys, why, sizeof(why));
	if (ctx->fd < 0) {
		/* nestd's own problem, never the client's EPERM (which would close it) */
		r = ctx->fd == -ENOENT			      ? -ENODEV
		    : ctx->fd == -EPERM || ctx->fd == -EACCES ? -EIO
							      : ctx->fd;
		free(ctx);
		snprintf(be->err, sizeof(be->err), "%s", why);
		return r;
	}
	ctx->fault_fd = -1;
	r = ifd_ioctl(be, ctx->fd, IOMMU_IOAS_ALLOC, &ia);
	if (r == 0) {
		ctx->ioas = ia.out_ioas_id;
		r = ifd_ctx_refresh_ranges(be, ctx);
	} else {
		ifd_fail(be, -r, "IOMMU_IOAS_ALLOC");
	}
	if (r == 0)
		r = ifd_fault_open(be, ctx);
	if (r < 0) {
		close(ctx->fd);
		free(ctx);
		return r;
	}
	ctx->next = be->ctxs;
	be->ctxs = ctx;
	*ret = (struct nest_be_ctx *)ctx;
	return 0;
}

static void ifd_ctx_free(struct nest_backend *be, struct nest_be_ctx *bctx)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;

	ifd_fault_close(be, ctx); /* unanswered page requests first, answered "invalid" */
	while (ctx->n_pasids)	  /* then PASIDs: the 7.3 mock WARNs and leaks otherwise */
		ifd_pasid_free(be, ctx, ctx->pasids[ctx->n_pasids - 1].pasid);
	for (unsigned i = 0; i < IFD_VIOMMUS_MAX; i++) /* vDEVICEs before their devices */
		ifd_viommu_free(be, ctx, ctx->viommus[i].id);
	for (unsigned i = 0; i < ctx->n_devs; i++) {
		ifd_unbind(be, ctx, i,
			   NEST_BE_PASID_RID); /* a RID's nested HWPT holds its parent */
		ifd_dev_close(be, ctx, &ctx->devs[i]);
	}
	ctx->n_devs = 0;
	while (ctx->n_maps)
		ifd_unmap(be, ctx, ctx->maps[0].gpa, ctx->maps[0].len);
	close(ctx->fd); /* destroys the IOAS and whatever is left */
	for (struct ifd_ctx **pp = &be->ctxs; *pp; pp = &(*pp)->next)
		if (*pp == ctx) {
			*pp = ctx->next;
			break;
		}
	free(ctx->maps);
	free(ctx->pasids);
	free(ctx);
}

static int ifd_dev_index(const struct ifd_ctx *ctx, uint32_t dev_id)
{
	for (unsigned i = 0; i < ctx->n_devs; i++)
		if (ctx->devs[i].dev_id == dev_id)
			return (int)i;
	return -1;
}

static int ifd_device_attach(struct nest_backend *be, struct nest_be_ctx *bctx,
			     const struct nest_be_dev *dev, int *ret_fd)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	struct ifd_dev *d;
	int r;

	if (ifd_dev_index(ctx, dev->dev_id) >= 0)
		return ifd_fail(be, EEXIST, "device %s: id %u attached twice", dev->name,
				dev->dev_id);
	if (ctx->n_devs >= IFD_DEVS_MAX)
		return ifd_fail(be, ENOSPC, "too many devices in one VM");
	d = &ctx->devs[ctx->n_devs];
	r = ifd_dev_open(be, ctx, dev, d);
	if (r < 0) {
		if (d->fd >= 0)
			close(d->fd);
		return r;
	}
	ctx->n_devs++;
	*ret_fd = d->fd; /* the daemon owns it now (-1 for a mock device) */
	return 0;
}

static void ifd_device_detach(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	if (i < 0)
		return;
	ifd_device_unbind_all(be, ctx, (unsigned)i);
	ifd_viommu_forget_device(be, ctx, dev_id);
	ifd_dev_close(be, ctx, &ctx->devs[i]);
	/* keep the per-PASID HWPT slots aligned with the device array */
	for (unsigned k = 0; k < ctx->n_pasids; k++) {
		ctx->pasids[k].hwpt[i] = ctx->pasids[k].hwpt[ctx->n_devs - 1];
		ctx->pasids[k].hwpt[ctx->n_devs - 1] =
			0; /* a device attached later starts unbound */
	}
	ctx->devs[i] = ctx->devs[--ctx->n_devs];
}

/*
 * IOMMU_IOAS_IOVA_RANGES of the VM's IOAS (refreshed after every attach). The IOAS maps any
 * multiple of its alignment: the host page size (MAP_FILE maps pages), or the kernel's
 * out_iova_alignment where that is larger (an IOMMU with larger pages), rounded up to a power of
 * two should the kernel say otherwise.
 */
static int ifd_be_iova_info(struct nest_backend *be, struct nest_be_ctx *bctx,
			    uint64_t *ret_pgsizes, struct nest_iova_range *ret_ranges, uint32_t cap)
{
	const struct ifd_ctx *ctx = (const struct ifd_ctx *)bctx;
	struct nest_iova_range rg[IFD_RANGES_MAX];
	const struct nest_iova_range all = {0, UINT64_MAX};
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t align = pg > 0 ? (uint64_t)pg : 4096;

	(void)be;
	if (ctx->iova_align > (1ull << 63))
		align = 1ull << 63;
	else if (ctx->iova_align > align)
		align = 1ull << (64 - __builtin_clzll(ctx->iova_align - 1));
	for (uint32_t i = 0; i < ctx->n_ranges; i++)
		rg[i] = (struct nest_iova_range){ctx->ranges[i].start, ctx->ranges[i].last};
	*ret_pgsizes = align;
	return (int)nest_be_iova_intersect(rg, ctx->n_ranges, &all, 1, ret_ranges, cap);
}

static int ifd_be_map(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa, uint64_t len,
		      int fd, uint64_t fd_offset, uint32_t perms)
{
	return ifd_map(be, (struct ifd_ctx *)ctx, gpa, len, fd, fd_offset, perms);
}

static void ifd_be_unmap(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa,
			 uint64_t len)
{
	ifd_unmap(be, (struct ifd_ctx *)ctx, gpa, len);
}

static int ifd_be_pasid_alloc(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			      uint32_t min, uint32_t max, uint32_t *ret)
{
	return ifd_pasid_alloc(be, (struct ifd_ctx *)ctx, min, max, ret);
}

static void ifd_be_pasid_free(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			      uint32_t pasid)
{
	ifd_pasid_free(be, (struct ifd_ctx *)ctx, pasid);
}

static int ifd_be_bind(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
		       const struct nest_be_bind *b)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT : ifd_bind(be, ctx, (unsigned)i, b, false);
}

static int ifd_be_rebind(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			 const struct nest_be_bind *b)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT : ifd_bind(be, ctx, (unsigned)i, b, true);
}

static void ifd_be_unbind(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			  uint32_t pasid)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	if (i >= 0)
		ifd_unbind(be, ctx, (unsigned)i, pasid);
}

static int ifd_be_invalidate(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			     const struct nest_inv_entry *e)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT : ifd_invalidate(be, ctx, (unsigned)i, e);
}

static int ifd_be_invalidate_batch(struct nest_backend *be, struct nest_be_ctx *bctx,
				   uint32_t dev_id, const struct nest_inv_entry *e, uint32_t n,
				   uint32_t *ret_done)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	*ret_done = 0;
	return i < 0 ? -ENOENT : ifd_invalidate_batch(be, ctx, (unsigned)i, e, n, ret_done);
}

static int ifd_be_bind_native(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			      uint32_t hpasid, uint32_t data_type, const void *data, uint32_t len)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT
		     : ifd_bind_native(be, ctx, (unsigned)i, hpasid, data_type, data, len, false);
}

static int ifd_be_rebind_native(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
				uint32_t hpasid, uint32_t data_type, const void *data, uint32_t len)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT
		     : ifd_bind_native(be, ctx, (unsigned)i, hpasid, data_type, data, len, true);
}

static int ifd_be_invalidate_native(struct nest_backend *be, struct nest_be_ctx *bctx,
				    uint32_t dev_id, uint32_t hpasid, uint32_t data_type,
				    const void *entries, uint32_t entry_len, uint32_t n,
				    uint32_t *ret_done)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	*ret_done = 0;
	return i < 0 ? -ENOENT
		     : ifd_invalidate_native(be, ctx, (unsigned)i, hpasid, data_type, entries,
					     entry_len, n, ret_done);
}

static int ifd_be_mock_check(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			     uint32_t pasid, uint32_t slot, uint32_t value)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);
	uint32_t hwpt;

	if (i < 0)
		return -ENOENT;
	if (!ctx->devs[i].mock)
		return -EOPNOTSUPP;
	hwpt = ifd_pasid_hwpt(ctx, (unsigned)i, pasid);
	if (!hwpt)
		return -ENOENT;
	return ifd_mock_check_iotlb(be, ctx, hwpt, slot, value);
}

static int ifd_be_viommu_alloc(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			       uint32_t type, uint32_t *ret)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT : ifd_viommu_alloc(be, ctx, &ctx->devs[i], type, ret);
}

static void ifd_be_viommu_free(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t id)
{
	ifd_viommu_free(be, (struct ifd_ctx *)ctx, id);
}

static int ifd_be_vdevice_alloc(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t id,
				uint32_t dev_id, uint64_t virt_id)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT : ifd_vdevice_alloc(be, ctx, id, &ctx->devs[i], virt_id);
}

static int ifd_be_viommu_invalidate(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t id,
				    uint32_t data_type, const void *entries, uint32_t entry_len,
				    uint32_t n, uint32_t *ret_done)
{
	return ifd_viommu_invalidate(be, (struct ifd_ctx *)ctx, id, data_type, entries, entry_len,
				     n, ret_done);
}

static int ifd_be_viommu_attach(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t id,
				uint32_t dev_id, uint32_t data_type, const void *data, uint32_t len)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT
		     : ifd_viommu_attach(be, ctx, id, &ctx->devs[i], data_type, data, len);
}

static void ifd_be_viommu_detach(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t id,
				 uint32_t dev_id)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	if (i >= 0)
		ifd_viommu_detach(be, ctx, id, &ctx->devs[i]);
}

static int ifd_be_vdevice_free(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t id,
			       uint32_t dev_id)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	return i < 0 ? -ENOENT : ifd_vdevice_free(be, ctx, id, &ctx->devs[i]);
}

static int ifd_be_mock_test(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t dev_id,
			    struct iommu_test_cmd *c)
{
	int i = ifd_dev_index(ctx, dev_id);

	if (i < 0)
		return -ENOENT;
	if (!ctx->devs[i].mock)
		return -EOPNOTSUPP;
	if (c->op == IOMMU_TEST_OP_DEV_CHECK_CACHE)
		c->id = ctx->devs[i].idev;
	else
		c->trigger_vevent.dev_id = ctx->devs[i].idev;
	return ifd_ioctl(be, ctx->fd, IOMMU_TEST_CMD, c);
}

static int ifd_be_trigger_vevent(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id)
{
	struct iommu_test_cmd c = {.size = sizeof(c), .op = IOMMU_TEST_OP_TRIGGER_VEVENT};

	return ifd_be_mock_test(be, (struct ifd_ctx *)ctx, dev_id, &c);
}

static int ifd_be_check_dev_cache(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				  uint32_t slot, uint32_t value)
{
	struct iommu_test_cmd c = {.size = sizeof(c),
				   .op = IOMMU_TEST_OP_DEV_CHECK_CACHE,
				   .check_dev_cache = {.id = slot, .cache = value}};

	if (slot > MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;
	return ifd_be_mock_test(be, (struct ifd_ctx *)ctx, dev_id, &c);
}

static int ifd_be_get_fd(struct nest_backend *be)
{
	return be->epfd;
}

static int ifd_be_dispatch(struct nest_backend *be)
{
	return ifd_fault_dispatch(be);
}

static int ifd_be_page_response(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t cookie,
				uint32_t code)
{
	return ifd_page_response(be, (struct ifd_ctx *)ctx, cookie, code);
}

static int ifd_be_trigger_iopf(struct nest_backend *be, struct nest_be_ctx *bctx, uint32_t dev_id,
			       uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr)
{
	struct ifd_ctx *ctx = (struct ifd_ctx *)bctx;
	int i = ifd_dev_index(ctx, dev_id);

	if (i < 0)
		return -ENOENT;
	if (!ctx->devs[i].mock)
		return -EOPNOTSUPP;
	return ifd_mock_trigger_iopf(be, ctx, &ctx->devs[i], pasid, grpid, perm, addr);
}

static void ifd_last_error(struct nest_backend *be, char *buf, size_t len)
{
	snprintf(buf, len, "%s", be->err);
	be->err[0] = '\0';
}

static int ifd_counters(struct nest_backend *be, struct json_object **ret)
{
	const struct ifd_counters *c = &be->ctr;
	const struct nest_be_counter vals[] = {
		{"ioctl_errors", c->ioctl_errors},
		{"teardown_errors", c->teardown_errors},
		{"maps", c->maps},
		{"map_files", c->map_files},
		{"unmaps", c->unmaps},
		{"mapped_bytes", c->mapped_bytes},
		{"binds", c->binds},
		{"unbinds", c->unbinds},
		{"invalidations", c->invalidations},
		{"inv_entries", c->inv_entries},
		{"page_requests", c->page_requests},
		{"page_responses", c->page_responses},
		{"vevents", c->vevents},
	};

	return nest_be_counters_json(vals, sizeof(vals) / sizeof(vals[0]), ret);
}

const struct nest_backend_ops nest_backend_iommufd_ops = {
	.name = "iommufd",
	.probe = ifd_probe,
	.open = ifd_open,
	.close = ifd_close,
	.info = ifd_info,
	.ctx_info = ifd_ctx_info,
	.ctx_new = ifd_ctx_new,
	.ctx_free = ifd_ctx_free,
	.map = ifd_be_map,
	.unmap = ifd_be_unmap,
	.device_attach = ifd_device_attach,
	.device_detach = ifd_device_detach,
	.pasid_alloc = ifd_be_pasid_alloc,
	.pasid_free = ifd_be_pasid_free,
	.bind = ifd_be_bind,
	.unbind = ifd_be_unbind,
	.invalidate = ifd_be_invalidate,
	.invalidate_batch = ifd_be_invalidate_batch,
	.bind_native = ifd_be_bind_native,
	.rebind = ifd_be_rebind,
	.rebind_native = ifd_be_rebind_native,
	.invalidate_native = ifd_be_invalidate_native,
	.last_error = ifd_last_error,
	.mock_check_iotlb = ifd_be_mock_check,
	.mock_trigger_iopf = ifd_be_trigger_iopf,
	.viommu_alloc = ifd_be_viommu_alloc,
	.viommu_free = ifd_be_viommu_free,
	.vdevice_alloc = ifd_be_vdevice_alloc,
	.viommu_invalidate = ifd_be_viommu_invalidate,
	.viommu_attach = ifd_be_viommu_attach,
	.viommu_detach = ifd_be_viommu_detach,
	.vdevice_free = ifd_be_vdevice_free,
	.mock_trigger_vevent = ifd_be_trigger_vevent,
	.mock_check_dev_cache = ifd_be_check_dev_cache,
	.page_response = ifd_be_page_response,
	.get_fd = ifd_be_get_fd,
	.dispatch = ifd_be_dispatch,
	.counters = ifd_counters,
	.iova_info = ifd_be_iova_info,
};

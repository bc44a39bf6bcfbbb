/* SPDX-License-Identifier: MIT */
/*
 * viommu.c - vIOMMU, vDEVICE and vEVENTQ objects on the iommufd backend (the shape Arm SMMUv3
 * nesting needs; exercised here with the selftest mock).
 *
 * A vIOMMU nests on the stage-2 parent of one of the VM's devices and gives the VM its own
 * namespace of virtual device ids (vDEVICEs: SMMUv3 StreamIDs, VT-d RIDs). Invalidations
 * addressed to it carry those virtual ids; nestd checks each against the VM's own vDEVICEs on
 * that vIOMMU before the kernel sees the batch (the kernel would translate them through the
 * vIOMMU anyway, so this is a clear error early, not the isolation itself). Its event queue fd
 * sits in the backend's epoll set; records go to the VM as vevent events.
 * Teardown: vDEVICEs, then the queue (its fd closed before IOMMU_DESTROY, which refuses a queue
 * whose fd is open), then the vIOMMU.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "iommufd-internal.h"
#include "iommufd-test.h"
#include "iommufd.h"

#define IFD_VEVENTQ_DEPTH 64

static struct ifd_viommu *vi_find(struct ifd_ctx *ctx, uint32_t id)
{
	for (unsigned i = 0; id && i < IFD_VIOMMUS_MAX; i++)
		if (ctx->viommus[i].id == id)
			return &ctx->viommus[i];
	return NULL;
}

static int vi_eventq_open(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_viommu *vi)
{
	struct iommu_veventq_alloc a = {.size = sizeof(a),
					.viommu_id = vi->kid,
					.type = vi->fmt->veventq_type,
					.veventq_depth = IFD_VEVENTQ_DEPTH};
	struct epoll_event ev = {.events = EPOLLIN,
				 .data.u64 = ifd_ep_data(ctx, (uint32_t)(vi - ctx->viommus))};
	int r;

	vi->eventq_fd = -1;
	if (!vi->fmt->veventq_type)
		return 0;
	r = ifd_ioctl(be, ctx->fd, IOMMU_VEVENTQ_ALLOC, &a);
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_VEVENTQ_ALLOC(%s)", vi->fmt->name);
	vi->eventq_fd = (int)a.out_veventq_fd;
	vi->eventq_kid = a.out_veventq_id;
	if (fcntl(vi->eventq_fd, F_SETFL, O_NONBLOCK) < 0 ||
	    epoll_ctl(be->epfd, EPOLL_CTL_ADD, vi->eventq_fd, &ev) < 0) {
		r = -errno;
		close(vi->eventq_fd);
		vi->eventq_fd = -1;
		(void)ifd_destroy(be, ctx->fd, vi->eventq_kid);
		return ifd_fail(be, -r, "vEVENTQ fd");
	}
	return 0;
}

int ifd_viommu_alloc(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d, uint32_t type,
		     uint32_t *ret)
{
	const struct ifd_viommu_format *f = ifd_viommu_format_find(type);
	struct iommu_viommu_alloc a = {.size = sizeof(a), .type = type, .dev_id = d->idev};
	struct ifd_viommu *vi = NULL;
	int r;

	if (!f || f->hw_type != d->hw_type)
		return ifd_fail(be, EOPNOTSUPP, "vIOMMU type 0x%x on device %u's IOMMU", type,
				d->dev_id);
	if (!d->parent)
		return ifd_fail(be, EOPNOTSUPP, "vIOMMU: device %u's IOMMU has no nesting",
				d->dev_id);
	for (unsigned i = 0; i < IFD_VIOMMUS_MAX && !vi; i++)
		if (!ctx->viommus[i].id)
			vi = &ctx->viommus[i];
	if (!vi)
		return -ENOSPC;
	a.hwpt_id = d->parent;
	r = ifd_ioctl(be, ctx->fd, IOMMU_VIOMMU_ALLOC, &a);
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_VIOMMU_ALLOC(%s) on device %u", f->name, d->dev_id);
	*vi = (struct ifd_viommu){.kid = a.out_viommu_id, .dev_id = d->dev_id, .fmt = f};
	r = vi_eventq_open(be, ctx, vi);
	if (r < 0) {
		(void)ifd_destroy(be, ctx->fd, vi->kid);
		*vi = (struct ifd_viommu){0};
		return r;
	}
	vi->id = ++ctx->next_viommu;
	*ret = vi->id;
	return 0;
}

static struct ifd_dev *vi_dev(struct ifd_ctx *ctx, uint32_t dev_id)
{
	for (unsigned i = 0; i < ctx->n_devs; i++)
		if (ctx->devs[i].dev_id == dev_id)
			return &ctx->devs[i];
	return NULL;
}

static struct ifd_vdev *vi_vdev(struct ifd_viommu *vi, uint32_t dev_id)
{
	for (unsigned k = 0; k < vi->n_vdevs; k++)
		if (vi->vdevs[k].dev_id == dev_id)
			return &vi->vdevs[k];
	return NULL;
}

/* The RID back on its stage-2 parent, the vIOMMU-nested HWPT destroyed. Cannot fail. */
static void vi_vdev_detach(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_vdev *vd)
{
	struct ifd_dev *d = vi_dev(ctx, vd->dev_id);

	if (!vd->hwpt)
		return;
	if (d && ifd_dev_attach_rid(be, ctx, d, d->parent) < 0)
		be->ctr.teardown_errors++;
	(void)ifd_destroy(be, ctx->fd, vd->hwpt);
	vd->hwpt = 0;
}

int ifd_viommu_attach(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id, struct ifd_dev *d,
		      uint32_t data_type, const void *data, uint32_t len)
{
	struct ifd_viommu *vi = vi_find(ctx, id);
	struct ifd_vdev *vd = vi ? vi_vdev(vi, d->dev_id) : NULL;
	struct iommu_hwpt_alloc a = {.size = sizeof(a),
				     .flags = d->pasid_log2 ? IOMMU_HWPT_ALLOC_PASID : 0,
				     .dev_id = d->idev,
				     .data_uptr = (uint64_t)(uintptr_t)data};
	int r;

	if (!vi)
		return -ENOENT;
	if (!vd)
		return ifd_fail(be, ENOENT, "vIOMMU %u: device %u has no vDEVICE on it", id,
				d->dev_id);
	if (vd->hwpt)
		return -EBUSY;
	if (!d->fmt || data_type != d->fmt->hwpt_data_type)
		return -EOPNOTSUPP;
	r = ifd_native_size(data, len, d->fmt->hwpt_data_len);
	if (r == 0)
		r = d->fmt->check_data(data);
	if (r < 0)
		return r;
	if (ctx->fault_fd >= 0) {
		a.flags |= IOMMU_HWPT_FAULT_ID_VALID;
		a.fault_id = ctx->fault_id;
	}
	a.pt_id = vi->kid;
	a.data_type = data_type;
	a.data_len = d->fmt->hwpt_data_len;
	r = ifd_ioctl(be, ctx->fd, IOMMU_HWPT_ALLOC, &a);
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_HWPT_ALLOC(nested on vIOMMU %u) for device %u", id,
				d->dev_id);
	r = ifd_dev_attach_rid(be, ctx, d, a.out_hwpt_id);
	if (r < 0) {
		(void)ifd_destroy(be, ctx->fd, a.out_hwpt_id);
		return r;
	}
	vd->hwpt = a.out_hwpt_id;
	be->ctr.binds++;
	return 0;
}

void ifd_viommu_detach(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id, struct ifd_dev *d)
{
	struct ifd_viommu *vi = vi_find(ctx, id);
	struct ifd_vdev *vd = vi ? vi_vdev(vi, d->dev_id) : NULL;

	if (vd && vd->hwpt) {
		vi_vdev_detach(be, ctx, vd);
		be->ctr.unbinds++;
	}
}

/*
 * DEVICE_PUT: device @d leaves vIOMMU @id. The RID back on its parent first (a refusal changes
 * nothing: the RID stays on the nested HWPT, the vDEVICE is kept), then the HWPT and the vDEVICE
 * destroyed. -ENOENT: no vDEVICE of the device there.
 */
int ifd_vdevice_free(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id, struct ifd_dev *d)
{
	struct ifd_viommu *vi = vi_find(ctx, id);
	struct ifd_vdev *vd = vi ? vi_vdev(vi, d->dev_id) : NULL;
	int r;

	if (!vd)
		return -ENOENT;
	if (vd->hwpt) {
		r = ifd_dev_attach_rid(be, ctx, d, d->parent);
		if (r < 0)
			return r;
		(void)ifd_destroy(be, ctx->fd, vd->hwpt);
		vd->hwpt = 0;
		be->ctr.unbinds++;
	}
	(void)ifd_destroy(be, ctx->fd, vd->kid);
	*vd = vi->vdevs[--vi->n_vdevs]; /* order does not matter */
	return 0;
}

void ifd_viommu_free(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id)
{
	struct ifd_viommu *vi = vi_find(ctx, id);

	if (!vi)
		return;
	for (unsigned k = 0; k < vi->n_vdevs; k++) /* RIDs off its HWPTs before anything goes */
		vi_vdev_detach(be, ctx, &vi->vdevs[k]);
	while (vi->n_vdevs)
		(void)ifd_destroy(be, ctx->fd, vi->vdevs[--vi->n_vdevs].kid);
	if (vi->eventq_fd >= 0) {
		(void)epoll_ctl(be->epfd, EPOLL_CTL_DEL, vi->eventq_fd, NULL);
		close(vi->eventq_fd);
		(void)ifd_destroy(be, ctx->fd, vi->eventq_kid);
	}
	(void)ifd_destroy(be, ctx->fd, vi->kid);
	*vi = (struct ifd_viommu){0};
}

/* A device leaves the VM: its vDEVICEs go first (the kernel wants them gone before the fd). */
void ifd_viommu_forget_device(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t dev_id)
{
	for (unsigned i = 0; i < IFD_VIOMMUS_MAX; i++) {
		struct ifd_viommu *vi = &ctx->viommus[i];

		if (!vi->id)
			continue;
		if (vi->dev_id == dev_id) { /* nests on this device's parent: goes too */
			ifd_viommu_free(be, ctx, vi->id);
			continue;
		}
		for (unsigned k = 0; k < vi->n_vdevs;) {
			if (vi->vdevs[k].dev_id != dev_id) {
				k++;
				continue;
			}
			vi_vdev_detach(be, ctx, &vi->vdevs[k]);
			(void)ifd_destroy(be, ctx->fd, vi->vdevs[k].kid);
			vi->vdevs[k] = vi->vdevs[--vi->n_vdevs];
		}
	}
}

int ifd_vdevice_alloc(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id,
		      const struct ifd_dev *d, uint64_t virt_id)
{
	struct ifd_viommu *vi = vi_find(ctx, id);
	struct iommu_vdevice_alloc a = {.size = sizeof(a), .dev_id = d->idev, .virt_id = virt_id};
	int r;

	if (!vi)
		return -ENOENT;
	for (unsigned k = 0; k < vi->n_vdevs; k++) {
		if (vi->vdevs[k].virt_id == virt_id)
			return -EEXIST;
		if (vi->vdevs[k].dev_id == d->dev_id)
			return -EBUSY; /* one virtual id per device and vIOMMU */
	}
	if (vi->n_vdevs >= IFD_DEVS_MAX)
		return -ENOSPC;
	a.viommu_id = vi->kid;
	r = ifd_ioctl(be, ctx->fd, IOMMU_VDEVICE_ALLOC, &a);
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_VDEVICE_ALLOC virt id 0x%llx for device %u",
				(unsigned long long)virt_id, d->dev_id);
	vi->vdevs[vi->n_vdevs++] =
		(struct ifd_vdev){.dev_id = d->dev_id, .virt_id = virt_id, .kid = a.out_vdevice_id};
	return 0;
}

static bool vi_has_virt(const struct ifd_viommu *vi, uint64_t virt_id)
{
	for (unsigned k = 0; k < vi->n_vdevs; k++)
		if (vi->vdevs[k].virt_id == virt_id)
			return true;
	return false;
}

int ifd_viommu_invalidate(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id,
			  uint32_t data_type, const uint8_t *entries, uint32_t entry_len,
			  uint32_t n, uint32_t *ret_done)
{
	struct ifd_viommu *vi = vi_find(ctx, id);
	uint32_t valid = 0;
	int bad = 0, r;

	*ret_done = 0;
	if (!vi)
		return -ENOENT;
	if (data_type != vi->fmt->inv_data_type)
		return -EOPNOTSUPP;
	for (; valid < n; valid++) {
		const uint8_t *e = entries + (size_t)valid * entry_len;
		bool has_vdev = false;
		uint64_t vdev = 0;

		bad = ifd_native_size(e, entry_len, vi->fmt->inv_entry_len);
		if (bad == 0)
			bad = vi->fmt->check_entry(e, &has_vdev, &vdev);
		if (bad == 0 && has_vdev && !vi_has_virt(vi, vdev))
			bad = -ENOENT; /* not a virtual device of this VM's vIOMMU */
		if (bad < 0)
			break;
	}
	if (valid == 0)
		return bad;
	r = ifd_inv_prefix(be, ctx, vi->kid, data_type, entries, entry_len, valid, vi->fmt->name,
			   ret_done);
	return r < 0 ? r : valid < n ? bad : 0;
}

/* Read what the vIOMMU's queue holds: header {flags, sequence}, then the type's record. */
void ifd_viommu_drain(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t slot)
{
	struct ifd_viommu *vi = slot < IFD_VIOMMUS_MAX ? &ctx->viommus[slot] : NULL;
	uint8_t buf[4096];

	if (!vi || !vi->id || vi->eventq_fd < 0)
		return;
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(vi->eventq_fd, buf, sizeof(buf));
		size_t off = 0;

		if (n <= 0)
			return;
		while (off + sizeof(struct iommufd_vevent_header) <= (size_t)n) {
			struct iommufd_vevent_header h;
			struct nest_be_vevent ev = {.viommu = vi->id};

			memcpy(&h, buf + off, sizeof(h));
			off += sizeof(h);
			ev.sequence = h.sequence;
			if (h.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
				ev.flags = NEST_BE_VEVENT_LOST;
			} else {
				if (off + vi->fmt->vevent_len > (size_t)n ||
				    vi->fmt->vevent_len > sizeof(ev.data))
					return; /* a short record: the kernel broke its own format */
				ev.len = vi->fmt->vevent_len;
				memcpy(ev.data, buf + off, ev.len);
				off += ev.len;
			}
			be->ctr.vevents++;
			if (be->ev && be->ev->vevent)
				be->ev->vevent(be->opaque, ctx->cookie, &ev);
		}
	}
}

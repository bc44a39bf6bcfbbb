/* SPDX-License-Identifier: MIT */
/*
 * kdev.c - the device kinds of the iommufd backend.
 *
 * VFIO cdev: /dev/vfio/devices/vfioN of a PCI device (found in sysfs), bound to the VM's
 * iommufd with VFIO_DEVICE_BIND_IOMMUFD and attached with VFIO_DEVICE_ATTACH_IOMMUFD_PT (RID or
 * PASID). The fd goes to the VMM (DEVICE_GET), already bound.
 * Selftest mock: created inside the VM's iommufd with IOMMU_TEST_CMD (MOCK_DOMAIN_FLAGS with
 * MOCK_FLAGS_DEVICE_PASID), attached with the mock's own test ops; no fd. Only where the kernel
 * has CONFIG_IOMMUFD_TEST, for tests of the nested paths without nesting hardware.
 *
 * Either way the device gets its own NEST_PARENT HWPT on the IOAS (with ALLOC_PASID when it has
 * PASIDs, because every domain on a RID must carry it for PASID attach to work), or, when the
 * IOMMU cannot nest (EOPNOTSUPP, e.g. QEMU 7.2's VT-d), is attached to the IOAS directly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommufd-internal.h"
#include "iommufd-test.h"
#include "iommufd.h"
#include "vfio-cdev.h"

/* /dev/vfio/devices/vfioN of PCI device @pci, from <sysfs>/bus/pci/devices/PCI/vfio-dev/. */
static int cdev_path(struct nest_backend *be, const char *pci, char *buf, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = -ENOENT;

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s/vfio-dev", be->sys.sysfs_root, pci);
	d = opendir(dir);
	if (!d)
		return ifd_fail(be, ENODEV,
				"PCI device %s has no VFIO cdev (%s: bind it to vfio-pci; the "
				"kernel needs CONFIG_VFIO_DEVICE_CDEV)",
				pci, dir);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "vfio", 4) == 0 && strlen(de->d_name) < 32) {
			snprintf(buf, len, "%s/vfio/devices/%s", be->sys.dev_root, de->d_name);
			r = 0;
			break;
		}
	closedir(d);
	return r < 0 ? ifd_fail(be, ENODEV, "PCI device %s: no vfioN in %s", pci, dir) : 0;
}

static int cdev_open(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d)
{
	struct vfio_device_bind_iommufd b = {.argsz = sizeof(b), .iommufd = ctx->fd};
	char path[PATH_MAX];
	int r;

	for (const char *p = d->pci; *p; p++)
		if (*p == '/')
			return ifd_fail(be, EINVAL, "bad PCI address %s", d->pci);
	r = cdev_path(be, d->pci, path, sizeof(path));
	if (r < 0)
		return r;
	d->fd = be->sys.open(be->sys.opaque, path, O_RDWR);
	if (d->fd < 0) {
		r = d->fd == -EBUSY ? EBUSY : d->fd == -ENOENT ? ENODEV : EIO;
		d->fd = -1;
		return ifd_fail(be, r, "open %s (%s)", path, d->pci);
	}
	r = ifd_ioctl(be, d->fd, VFIO_DEVICE_BIND_IOMMUFD, &b);
	if (r < 0) {
		close(d->fd);
		d->fd = -1;
		return ifd_fail(be, -r, "VFIO_DEVICE_BIND_IOMMUFD of %s", d->pci);
	}
	d->idev = b.out_devid;
	return 0;
}

static int mock_open(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d)
{
	struct iommu_test_cmd c = {.size = sizeof(c),
				   .op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
				   .id = ctx->ioas,
				   .mock_domain_flags = {.dev_flags = MOCK_FLAGS_DEVICE_PASID}};
	int r;

	if (!be->has_mock)
		return ifd_fail(be, EOPNOTSUPP,
				"device kind iommufd-mock needs a kernel with CONFIG_IOMMUFD_TEST");
	r = ifd_ioctl(be, ctx->fd, IOMMU_TEST_CMD, &c);
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_TEST_CMD(MOCK_DOMAIN_FLAGS)");
	d->stdev = c.mock_domain_flags.out_stdev_id;
	d->idev = c.mock_domain_flags.out_idev_id;
	return 0;
}

static int dev_hw_info(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d)
{
	struct iommu_hw_info_vtd vtd = {0};
	struct iommu_hw_info hi = {.size = sizeof(hi),
				   .dev_id = d->idev,
				   .data_len = sizeof(vtd),
				   .data_uptr = (uint64_t)(uintptr_t)&vtd};
	int r = ifd_ioctl(be, ctx->fd, IOMMU_GET_HW_INFO, &hi);

	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_GET_HW_INFO of device %u", d->dev_id);
	d->hw_type = hi.out_data_type;
	d->pasid_log2 = hi.out_max_pasid_log2 > 20 ? 20 : hi.out_max_pasid_log2;
	if (d->hw_type == IOMMU_HW_INFO_TYPE_INTEL_VTD) {
		d->cap_reg = vtd.cap_reg;
		d->ecap_reg = vtd.ecap_reg;
	}
	d->fmt = ifd_format_find(d->hw_type);
	return 0;
}

/* RID attach to @pt (a HWPT or the IOAS); replaces what the RID had. */
int ifd_dev_attach_rid(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d, uint32_t pt)
{
	int r;

	if (d->mock) {
		struct iommu_test_cmd c = {.size = sizeof(c),
					   .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
					   .id = d->stdev,
					   .mock_domain_replace = {.pt_id = pt}};

		r = ifd_ioctl(be, ctx->fd, IOMMU_TEST_CMD, &c);
	} else {
		struct vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a), .pt_id = pt};

		r = ifd_ioctl(be, d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
	}
	if (r < 0)
		return ifd_fail(be, -r, "attach device %u to %u", d->dev_id, pt);
	ifd_fault_forget(be, ctx, d, IFD_PEND_RID); /* what was on the RID before was replaced */
	return 0;
}

/* The stage-2 parent: NEST_PARENT (+ ALLOC_PASID); none where the IOMMU cannot nest. */
static int dev_parent(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d)
{
	struct iommu_hwpt_alloc a = {.size = sizeof(a),
				     .flags = IOMMU_HWPT_ALLOC_NEST_PARENT |
					      (d->pasid_log2 ? IOMMU_HWPT_ALLOC_PASID : 0),
				     .dev_id = d->idev,
				     .pt_id = ctx->ioas};
	int r = ifd_ioctl(be, ctx->fd, IOMMU_HWPT_ALLOC, &a);

	if (r == -EOPNOTSUPP || (r == -EINVAL && !d->fmt)) {
		d->parent = 0; /* no nesting on this IOMMU: stage 2 only */
		be->err[0] = '\0';
		return ifd_dev_attach_rid(be, ctx, d, ctx->ioas);
	}
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_HWPT_ALLOC(NEST_PARENT) for device %u", d->dev_id);
	d->parent = a.out_hwpt_id;
	r = ifd_dev_attach_rid(be, ctx, d, d->parent);
	if (r < 0) {
		(void)ifd_destroy(be, ctx->fd, d->parent);
		d->parent = 0;
	}
	return r;
}

int ifd_dev_open(struct nest_backend *be, struct ifd_ctx *ctx, const struct nest_be_dev *bd,
		 struct ifd_dev *d)
{
	int r;

	*d = (struct ifd_dev){.dev_id = bd->dev_id, .mock = bd->mock, .fd = -1};
	if (!bd->mock) {
		if (!bd->pci || strlen(bd->pci) >= sizeof(d->pci))
			return ifd_fail(be, EINVAL, "device %s: no PCI address", bd->name);
		strcpy(d->pci, bd->pci);
	}
	r = d->mock ? mock_open(be, ctx, d) : cdev_open(be, ctx, d);
	if (r == 0)
		r = dev_hw_info(be, ctx, d);
	if (r == 0)
		r = dev_parent(be, ctx, d);
	if (r == 0)
		r = ifd_ctx_refresh_ranges(be, ctx); /* the ranges narrow on attach */
	if (r < 0)
		ifd_dev_close(be, ctx, d);
	return r;
}

int ifd_dev_attach_pasid(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d,
			 uint32_t pasid, uint32_t hwpt, bool replace)
{
	int r;

	if (d->mock) {
		struct iommu_test_cmd c = {.size = sizeof(c), .id = d->stdev};

		/* the two ops' payloads have the same layout (pasid, pt_id) */
		if (replace) {
			c.op = IOMMU_TEST_OP_PASID_REPLACE;
			c.pasid_replace.pasid = pasid;
			c.pasid_replace.pt_id = hwpt;
		} else {
			c.op = IOMMU_TEST_OP_PASID_ATTACH;
			c.pasid_attach.pasid = pasid;
			c.pasid_attach.pt_id = hwpt;
		}
		r = ifd_ioctl(be, ctx->fd, IOMMU_TEST_CMD, &c);
	} else {
		/* VFIO treats an attach of an attached PASID as iommufd_device_replace() */
		struct vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a),
							  .flags = VFIO_DEVICE_ATTACH_PASID,
							  .pt_id = hwpt,
							  .pasid = pasid};

		r = ifd_ioctl(be, d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
	}
	if (r < 0)
		return ifd_fail(be, -r, "%s PASID %u of device %u %s HWPT %u",
				replace ? "replace" : "attach", pasid, d->dev_id,
				replace ? "by" : "to", hwpt);
	if (replace)
		ifd_fault_forget(be, ctx, d, pasid);
	return 0;
}

void ifd_dev_detach_pasid(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d,
			  uint32_t pasid)
{
	int r;

	if (d->mock) {
		struct iommu_test_cmd c = {.size = sizeof(c),
					   .op = IOMMU_TEST_OP_PASID_DETACH,
					   .id = d->stdev,
					   .pasid_detach = {.pasid = pasid}};

		r = ifd_ioctl(be, ctx->fd, IOMMU_TEST_CMD, &c);
	} else {
		struct vfio_device_detach_iommufd_pt a = {
			.argsz = sizeof(a), .flags = VFIO_DEVICE_DETACH_PASID, .pasid = pasid};

		r = ifd_ioctl(be, d->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &a);
	}
	if (r < 0) {
		be->ctr.teardown_errors++;
		ifd_fail(be, -r, "detach PASID %u of device %u", pasid, d->dev_id);
		return;
	}
	ifd_fault_forget(be, ctx, d, pasid);
}

/* Undo ifd_dev_open(); PASIDs must be detached already. The cdev fd stays for the daemon. */
void ifd_dev_close(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d)
{
	int r = 0;

	if (d->mock && d->stdev) {
		r = ifd_destroy(be, ctx->fd, d->stdev);
		d->stdev = 0;
	} else if (d->fd >= 0) {
		struct vfio_device_detach_iommufd_pt a = {.argsz = sizeof(a)};

		/* blocks the device's DMA even while a VMM still holds a duplicate of its fd */
		r = ifd_ioctl(be, d->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &a);
	}
	/* detached: the kernel answered the RID's groups (a PASID's went with its detach) */
	if (r == 0)
		ifd_fault_forget(be, ctx, d, IFD_PEND_RID);
	if (d->parent)
		(void)ifd_destroy(be, ctx->fd, d->parent);
	d->parent = 0;
}

int ifd_mock_check_iotlb(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t hwpt, uint32_t slot,
			 uint32_t value)
{
	struct iommu_test_cmd c = {.size = sizeof(c),
				   .op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
				   .id = hwpt,
				   .check_iotlb = {.id = slot, .iotlb = value}};

	return ifd_ioctl(be, ctx->fd, IOMMU_TEST_CMD, &c);
}

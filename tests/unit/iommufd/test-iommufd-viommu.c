/* SPDX-License-Identifier: MIT */
/*
 * test-iommufd-viommu.c - DEVICE_PUT's part of the iommufd backend (vdevice_free) against a
 * scripted iommufd + VFIO cdev double (a device behind the selftest IOMMU kind, reached through
 * its VFIO cdev): a device attached to a nested HWPT of a vIOMMU goes back to its NEST_PARENT
 * before that HWPT and then its vDEVICE are destroyed; the vIOMMU stays; a device without a
 * vDEVICE there is ENOENT with no kernel call; when the kernel refuses the move back to the parent
 * nothing is destroyed and the device is still attached (a second attach is EBUSY), and a later
 * vdevice_free completes. The guest test vm-iommufd runs the vIOMMU paths on the real mock.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "iommufd-test.h"
#include "iommufd.h"
#include "vfio-cdev.h"
#include "vfio-sys.h"

#define CALLS_MAX 64
#define PARENT	  100u /* the first object the double hands out: the device's NEST_PARENT */
#define VIOMMU	  101u /* then the vIOMMU, its vEVENTQ, the vDEVICE, the nested HWPT */
#define VEVENTQ	  102u
#define VDEV	  103u
#define NESTED	  104u

struct call {
	unsigned long req;
	uint32_t id; /* the new object, or the object acted on */
	uint32_t pt; /* HWPT_ALLOC: parent; VDEVICE_ALLOC: vIOMMU */
};

static struct {
	char root[64];
	uint32_t next_id;
	bool fail_attach; /* the next VFIO_DEVICE_ATTACH_IOMMUFD_PT fails (EINVAL) */
	int pipe_w[4];	  /* write ends of the vEVENTQ fds handed out */
	unsigned n_pipes, n;
	struct call c[CALLS_MAX];
} kd;

static int kd_open(void *opaque, const char *path, int flags)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)opaque;
	(void)path;
	(void)flags;
	return fd < 0 ? -errno : fd;
}

static void rec(unsigned long req, uint32_t id, uint32_t pt)
{
	if (kd.n < CALLS_MAX)
		kd.c[kd.n++] = (struct call){req, id, pt};
}

static int kd_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	(void)opaque;
	(void)fd;
	switch (req) {
	case IOMMU_IOAS_ALLOC:
		((struct iommu_ioas_alloc *)arg)->out_ioas_id = 7;
		return 0;
	case IOMMU_IOAS_IOVA_RANGES:
		((struct iommu_ioas_iova_ranges *)arg)->num_iovas = 0;
		return 0;
	case VFIO_DEVICE_BIND_IOMMUFD:
		((struct vfio_device_bind_iommufd *)arg)->out_devid = 3;
		return 0;
	case IOMMU_GET_HW_INFO: {
		struct iommu_hw_info *h = arg;

		h->out_data_type = IOMMU_HW_INFO_TYPE_SELFTEST;
		h->out_max_pasid_log2 = 20;
		return 0;
	}
	case IOMMU_HWPT_ALLOC: {
		struct iommu_hwpt_alloc *a = arg;

		a->out_hwpt_id = kd.next_id++;
		rec(req, a->out_hwpt_id, a->pt_id);
		return 0;
	}
	case IOMMU_VIOMMU_ALLOC: {
		struct iommu_viommu_alloc *a = arg;

		a->out_viommu_id = kd.next_id++;
		rec(req, a->out_viommu_id, a->hwpt_id);
		return 0;
	}
	case IOMMU_VEVENTQ_ALLOC: {
		struct iommu_veventq_alloc *a = arg;
		int p[2];

		if (kd.n_pipes >= 4 || pipe2(p, O_CLOEXEC) < 0)
			return -ENOMEM;
		kd.pipe_w[kd.n_pipes++] = p[1];
		a->out_veventq_fd = (uint32_t)p[0]; /* the backend closes it */
		a->out_veventq_id = kd.next_id++;
		rec(req, a->out_veventq_id, a->viommu_id);
		return 0;
	}
	case IOMMU_VDEVICE_ALLOC: {
		struct iommu_vdevice_alloc *a = arg;

		a->out_vdevice_id = kd.next_id++;
		rec(req, a->out_vdevice_id, a->viommu_id);
		return 0;
	}
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT: {
		struct vfio_device_attach_iommufd_pt *a = arg;

		if (kd.fail_attach) {
			kd.fail_attach = false;
			return -EINVAL;
		}
		rec(req, a->pt_id, 0);
		return 0;
	}
	case IOMMU_DESTROY:
		rec(req, ((struct iommu_destroy *)arg)->id, 0);
		return 0;
	case IOMMU_IOAS_MAP_FILE:
	case IOMMU_IOAS_UNMAP:
		return 0;
	default:
		return -ENOTTY; /* no fault queue */
	}
}

static struct nest_vfio_sys kd_sys = {.open = kd_open, .ioctl = kd_ioctl, .dev_root = "/dev"};

static const struct nest_backend_ops *ops = &nest_backend_iommufd_ops;
static struct nest_backend *be;
static struct nest_be_ctx *ctx;
static uint32_t vid;

/* A VM with one device, a vIOMMU on its parent, a vDEVICE, the RID on a nested HWPT of it. */
static void setup(void)
{
	struct nest_backend_params p = {.choice = NEST_BE_CHOICE_IOMMUFD, .vfio_sys = &kd_sys};
	struct nest_be_dev dev = {.dev_id = 1, .name = "mock0", .pci = "0000:00:04.0"};
	struct nest_be_ctx_params cp = {0};
	struct nest_be_events ev = {0};
	struct iommu_hwpt_selftest st = {.iotlb = 0x1234};
	char path[256];
	int fd = -1;

	memset(&kd, 0, sizeof(kd));
	kd.next_id = PARENT;
	snprintf(kd.root, sizeof(kd.root), "/tmp/nest-ifdv-XXXXXX");
	cr_assert_not_null(mkdtemp(kd.root));
	snprintf(path, sizeof(path), "mkdir -p %s/bus/pci/devices/0000:00:04.0/vfio-dev/vfio0",
		 kd.root);
	cr_assert_eq(system(path), 0);
	kd_sys.sysfs_root = kd.root;
	cr_assert_eq(ops->open(&p, &ev, NULL, &be), 0);
	cr_assert_eq(ops->ctx_new(be, &cp, &ctx), 0);
	cr_assert_eq(ops->device_attach(be, ctx, &dev, &fd), 0);
	close(fd);
	cr_assert_eq(kd.c[0].req, IOMMU_HWPT_ALLOC);
	cr_assert_eq(kd.c[0].id, PARENT);
	cr_assert_eq(ops->viommu_alloc(be, ctx, 1, IOMMU_VIOMMU_TYPE_SELFTEST, &vid), 0);
	cr_assert_eq(ops->vdevice_alloc(be, ctx, vid, 1, 0x10), 0);
	cr_assert_eq(ops->viommu_attach(be, ctx, vid, 1, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st)),
		     0);
	cr_assert_eq(kd.c[kd.n - 2].req, IOMMU_HWPT_ALLOC);
	cr_assert_eq(kd.c[kd.n - 2].id, NESTED);
	cr_assert_eq(kd.c[kd.n - 2].pt, VIOMMU, "nested on the vIOMMU");
	cr_assert_eq(kd.c[kd.n - 1].req, VFIO_DEVICE_ATTACH_IOMMUFD_PT);
	cr_assert_eq(kd.c[kd.n - 1].id, NESTED);
	kd.n = 0;
}

static void teardown(void)
{
	char cmd[128];

	ops->viommu_free(be, ctx, vid);
	ops->ctx_free(be, ctx);
	ops->close(be);
	for (unsigned i = 0; i < kd.n_pipes; i++)
		close(kd.pipe_w[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", kd.root);
	cr_expect_eq(system(cmd), 0);
}

static void expect_call(unsigned i, unsigned long req, uint32_t id, const char *what)
{
	cr_assert_lt(i, kd.n, "%s: call %u missing", what, i);
	cr_expect_eq(kd.c[i].req, req, "%s: call %u", what, i);
	cr_expect_eq(kd.c[i].id, id, "%s: call %u object", what, i);
}

/* Was object @id destroyed among the recorded calls? */
static bool destroyed(uint32_t id)
{
	for (unsigned i = 0; i < kd.n; i++)
		if (kd.c[i].req == IOMMU_DESTROY && kd.c[i].id == id)
			return true;
	return false;
}

Test(iommufd_viommu, vdevice_free_puts_the_rid_back_then_destroys, .init = setup, .fini = teardown)
{
	struct iommu_hwpt_selftest st = {.iotlb = 0x1234};

	cr_assert_eq(ops->vdevice_free(be, ctx, vid, 1), 0);
	expect_call(0, VFIO_DEVICE_ATTACH_IOMMUFD_PT, PARENT, "the RID back on the parent first");
	expect_call(1, IOMMU_DESTROY, NESTED, "then the nested HWPT");
	expect_call(2, IOMMU_DESTROY, VDEV, "then the vDEVICE");
	cr_expect_eq(kd.n, 3);
	cr_expect(!destroyed(VIOMMU), "the vIOMMU stays");
	/* nothing of the device is left on the vIOMMU */
	kd.n = 0;
	cr_expect_eq(ops->vdevice_free(be, ctx, vid, 1), -ENOENT);
	cr_expect_eq(ops->vdevice_free(be, ctx, vid + 1, 1), -ENOENT, "not a vIOMMU");
	cr_expect_eq(ops->vdevice_free(be, ctx, vid, 9), -ENOENT, "not a device");
	cr_expect_eq(kd.n, 0, "no kernel call");
	cr_expect_eq(ops->viommu_attach(be, ctx, vid, 1, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st)),
		     -ENOENT, "no vDEVICE any more");
	cr_expect_eq(ops->vdevice_alloc(be, ctx, vid, 1, 0x10), 0, "its virtual id is free again");
	/* a vDEVICE that is not attached: only the vDEVICE goes */
	kd.n = 0;
	cr_assert_eq(ops->vdevice_free(be, ctx, vid, 1), 0);
	expect_call(0, IOMMU_DESTROY, VDEV + 2, "an unattached vDEVICE");
	cr_expect_eq(kd.n, 1);
}

Test(iommufd_viommu, a_refused_move_back_changes_nothing, .init = setup, .fini = teardown)
{
	struct iommu_hwpt_selftest st = {.iotlb = 0x1234};

	kd.fail_attach = true;
	cr_expect_eq(ops->vdevice_free(be, ctx, vid, 1), -EINVAL, "the kernel's errno");
	cr_expect_eq(kd.n, 0, "nothing destroyed");
	cr_expect_eq(ops->viommu_attach(be, ctx, vid, 1, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st)),
		     -EBUSY, "still attached");
	kd.n = 0;
	cr_assert_eq(ops->vdevice_free(be, ctx, vid, 1), 0, "a retry completes");
	expect_call(0, VFIO_DEVICE_ATTACH_IOMMUFD_PT, PARENT, "retry");
	expect_call(1, IOMMU_DESTROY, NESTED, "retry");
	expect_call(2, IOMMU_DESTROY, VDEV, "retry");
}

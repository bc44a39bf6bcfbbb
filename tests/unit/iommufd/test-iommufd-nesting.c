/* SPDX-License-Identifier: MIT */
/*
 * test-iommufd-nesting.c - the iommufd backend's protocol 1.2 nesting paths against a scripted
 * iommufd + VFIO cdev double (a VT-d device): a stage-1 bind on the RID is a nested HWPT on the
 * device's NEST_PARENT attached with VFIO_DEVICE_ATTACH_IOMMUFD_PT without the PASID flag, and
 * its unbind re-attaches the parent before destroying the HWPT; a replace allocates the new
 * nested HWPT, attaches it over the old one (the kernel's replace, RID or PASID) and only then
 * destroys the old one; a replace whose attach fails destroys the new HWPT and leaves the old
 * binding attached; invalidations for every PASID reach the RID's HWPT too. The guest test
 * vm-iommufd runs the same paths on Linux 7.3's selftest mock.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "iommufd.h"
#include "vfio-cdev.h"
#include "vfio-sys.h"

#define CALLS_MAX 128
#define PARENT	  100u /* the first HWPT the double hands out: the device's NEST_PARENT */

/* One kernel call as the test looks at it. */
struct call {
	unsigned long req;
	uint32_t id;	/* HWPT_ALLOC: the new id; ATTACH/DESTROY/INVALIDATE: the object */
	uint32_t pt;	/* HWPT_ALLOC: parent */
	uint32_t flags; /* HWPT_ALLOC / ATTACH flags */
	uint32_t pasid; /* ATTACH / DETACH */
};

static struct {
	char root[64];
	uint32_t next_id;
	bool fail_attach; /* the next VFIO_DEVICE_ATTACH_IOMMUFD_PT fails (EINVAL) */
	unsigned n;
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

static void rec(unsigned long req, uint32_t id, uint32_t pt, uint32_t flags, uint32_t pasid)
{
	if (kd.n < CALLS_MAX)
		kd.c[kd.n++] = (struct call){req, id, pt, flags, pasid};
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

		h->out_data_type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
		h->out_max_pasid_log2 = 20;
		return 0;
	}
	case IOMMU_HWPT_ALLOC: {
		struct iommu_hwpt_alloc *a = arg;

		a->out_hwpt_id = kd.next_id++;
		rec(req, a->out_hwpt_id, a->pt_id, a->flags, 0);
		return 0;
	}
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT: {
		struct vfio_device_attach_iommufd_pt *a = arg;

		if (kd.fail_attach) {
			kd.fail_attach = false;
			return -EINVAL;
		}
		rec(req, a->pt_id, 0, a->flags, a->pasid);
		return 0;
	}
	case VFIO_DEVICE_DETACH_IOMMUFD_PT: {
		struct vfio_device_detach_iommufd_pt *a = arg;

		rec(req, 0, 0, a->flags, a->pasid);
		return 0;
	}
	case IOMMU_DESTROY:
		rec(req, ((struct iommu_destroy *)arg)->id, 0, 0, 0);
		return 0;
	case IOMMU_HWPT_INVALIDATE:
		rec(req, ((struct iommu_hwpt_invalidate *)arg)->hwpt_id, 0, 0, 0);
		return 0;
	case IOMMU_IOAS_MAP_FILE:
	case IOMMU_IOAS_UNMAP:
		return 0;
	default:
		return -ENOTTY; /* no fault queue, no selftest mock */
	}
}

static struct nest_vfio_sys kd_sys = {.open = kd_open, .ioctl = kd_ioctl, .dev_root = "/dev"};

static const struct nest_backend_ops *ops = &nest_backend_iommufd_ops;
static struct nest_backend *be;
static struct nest_be_ctx *ctx;

/* A sysfs with one PCI device that has a VFIO cdev, a backend, a VM with that device. */
static void setup(void)
{
	struct nest_backend_params p = {.choice = NEST_BE_CHOICE_IOMMUFD, .vfio_sys = &kd_sys};
	struct nest_be_dev dev = {.dev_id = 1, .name = "vtd0", .pci = "0000:00:04.0"};
	struct nest_be_ctx_params cp = {0};
	struct nest_be_events ev = {0};
	char path[256];
	int fd = -1;

	memset(&kd, 0, sizeof(kd));
	kd.next_id = PARENT;
	snprintf(kd.root, sizeof(kd.root), "/tmp/nest-ifd-XXXXXX");
	cr_assert_not_null(mkdtemp(kd.root));
	snprintf(path, sizeof(path), "mkdir -p %s/bus/pci/devices/0000:00:04.0/vfio-dev/vfio0",
		 kd.root);
	cr_assert_eq(system(path), 0);
	kd_sys.sysfs_root = kd.root;
	cr_assert_eq(ops->open(&p, &ev, NULL, &be), 0);
	cr_assert_eq(ops->ctx_new(be, &cp, &ctx), 0);
	cr_assert_eq(ops->device_attach(be, ctx, &dev, &fd), 0);
	cr_assert_geq(fd, 0);
	close(fd); /* the daemon's copy; the double ignores fds */
	cr_assert_eq(kd.c[0].req, IOMMU_HWPT_ALLOC);
	cr_expect_eq(kd.c[0].id, PARENT);
	cr_expect(kd.c[0].flags & IOMMU_HWPT_ALLOC_NEST_PARENT);
	kd.n = 0;
}

static void teardown(void)
{
	char cmd[128];

	ops->ctx_free(be, ctx);
	ops->close(be);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", kd.root);
	cr_expect_eq(system(cmd), 0);
}

static struct nest_be_bind s1(uint32_t pasid, uint64_t gpgd)
{
	return (struct nest_be_bind){
		.format = NEST_BIND_FMT_VTD_FL, .addr_width = 48, .gpgd = gpgd, .hpasid = pasid};
}

static void expect_call(unsigned i, unsigned long req, uint32_t id, const char *what)
{
	cr_assert_lt(i, kd.n, "%s: call %u missing", what, i);
	cr_expect_eq(kd.c[i].req, req, "%s: call %u", what, i);
	cr_expect_eq(kd.c[i].id, id, "%s: call %u object", what, i);
}

Test(iommufd_nesting, announces_the_three_bind_features, .init = setup, .fini = teardown)
{
	struct nest_backend_info bi;

	cr_assert_eq(ops->ctx_info(be, ctx, &bi), 0);
	cr_expect_eq(bi.features &
			     (NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE),
		     NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE);
}

Test(iommufd_nesting, rid_bind_replace_unbind, .init = setup, .fini = teardown)
{
	struct nest_be_bind b1 = s1(NEST_BE_PASID_RID, 0x1000), b2 = s1(NEST_BE_PASID_RID, 0x2000);
	struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_DOMAIN};

	cr_expect_eq(ops->rebind(be, ctx, 1, &b1), -ENOENT, "nothing to replace on the RID");
	kd.n = 0;
	cr_assert_eq(ops->bind(be, ctx, 1, &b1), 0);
	/* a nested HWPT on the parent, attached to the RID (no PASID flag) */
	expect_call(0, IOMMU_HWPT_ALLOC, PARENT + 1, "bind");
	cr_expect_eq(kd.c[0].pt, PARENT);
	cr_expect(kd.c[0].flags & IOMMU_HWPT_ALLOC_PASID, "the RID domain must allow PASIDs");
	expect_call(1, VFIO_DEVICE_ATTACH_IOMMUFD_PT, PARENT + 1, "bind");
	cr_expect_eq(kd.c[1].flags, 0, "RID attach");
	cr_expect_eq(kd.n, 2);
	cr_expect_eq(ops->bind(be, ctx, 1, &b1), -EBUSY);

	/* an invalidation for every PASID reaches the RID's nested HWPT */
	kd.n = 0;
	cr_assert_eq(ops->invalidate(be, ctx, 1, &e), 0);
	expect_call(0, IOMMU_HWPT_INVALIDATE, PARENT + 1, "invalidate");

	/* replace: new HWPT, attached over the old (one call), then the old one destroyed */
	kd.n = 0;
	cr_assert_eq(ops->rebind(be, ctx, 1, &b2), 0);
	expect_call(0, IOMMU_HWPT_ALLOC, PARENT + 2, "replace");
	expect_call(1, VFIO_DEVICE_ATTACH_IOMMUFD_PT, PARENT + 2, "replace");
	cr_expect_eq(kd.c[1].flags, 0);
	expect_call(2, IOMMU_DESTROY, PARENT + 1, "replace");
	cr_expect_eq(kd.n, 3, "no detach: never without a table");

	/* a replace the kernel refuses: the new HWPT goes, the old binding stays attached */
	kd.n = 0;
	kd.fail_attach = true;
	cr_expect_eq(ops->rebind(be, ctx, 1, &b1), -EINVAL);
	expect_call(0, IOMMU_HWPT_ALLOC, PARENT + 3, "failed replace");
	expect_call(1, IOMMU_DESTROY, PARENT + 3, "failed replace");
	cr_expect_eq(kd.n, 2);
	kd.n = 0;
	cr_assert_eq(ops->invalidate(be, ctx, 1, &e), 0);
	expect_call(0, IOMMU_HWPT_INVALIDATE, PARENT + 2, "still the replaced table");

	/* unbind: the RID back on its stage-2 parent, then the HWPT destroyed */
	kd.n = 0;
	ops->unbind(be, ctx, 1, NEST_BE_PASID_RID);
	expect_call(0, VFIO_DEVICE_ATTACH_IOMMUFD_PT, PARENT, "unbind");
	cr_expect_eq(kd.c[0].flags, 0);
	expect_call(1, IOMMU_DESTROY, PARENT + 2, "unbind");
	cr_expect_eq(kd.n, 2);
	kd.n = 0;
	ops->unbind(be, ctx, 1, NEST_BE_PASID_RID);
	cr_expect_eq(kd.n, 0, "unbinding an unbound RID is a no-op");
}

Test(iommufd_nesting, pasid_replace_and_device_detach, .init = setup, .fini = teardown)
{
	uint32_t pasid = 0;
	struct nest_be_bind b1, b2, rid = s1(NEST_BE_PASID_RID, 0x3000);
	bool destroyed_rid = false, destroyed_pasid = false, rid_to_parent = false;

	cr_assert_eq(ops->pasid_alloc(be, ctx, NEST_BE_DEV_NONE, 1, 100, &pasid), 0);
	b1 = s1(pasid, 0x1000);
	b2 = s1(pasid, 0x2000);
	cr_assert_eq(ops->bind(be, ctx, 1, &b1), 0);
	cr_expect_eq(kd.c[1].flags, VFIO_DEVICE_ATTACH_PASID);
	cr_expect_eq(kd.c[1].pasid, pasid);
	kd.n = 0;
	cr_assert_eq(ops->rebind(be, ctx, 1, &b2), 0);
	expect_call(0, IOMMU_HWPT_ALLOC, PARENT + 2, "PASID replace");
	expect_call(1, VFIO_DEVICE_ATTACH_IOMMUFD_PT, PARENT + 2, "PASID replace");
	cr_expect_eq(kd.c[1].flags, VFIO_DEVICE_ATTACH_PASID, "an attach of an attached PASID");
	cr_expect_eq(kd.c[1].pasid, pasid);
	expect_call(2, IOMMU_DESTROY, PARENT + 1, "PASID replace");
	cr_expect_eq(kd.n, 3);
	/* the RID's binding, then the device leaves: both undone, the RID on its parent first */
	cr_assert_eq(ops->bind(be, ctx, 1, &rid), 0);
	kd.n = 0;
	ops->device_detach(be, ctx, 1);
	for (unsigned i = 0; i < kd.n; i++) {
		if (kd.c[i].req == VFIO_DEVICE_ATTACH_IOMMUFD_PT && kd.c[i].id == PARENT &&
		    !destroyed_rid)
			rid_to_parent = true;
		if (kd.c[i].req == IOMMU_DESTROY && kd.c[i].id == PARENT + 3)
			destroyed_rid = true;
		if (kd.c[i].req == IOMMU_DESTROY && kd.c[i].id == PARENT + 2)
			destroyed_pasid = true;
	}
	cr_expect(rid_to_parent, "the RID went back to the parent before its HWPT was destroyed");
	cr_expect(destroyed_rid && destroyed_pasid, "no stale HWPT");
}

/*
 * What nestd does on a device whose REPLACE rollback fails (PROTOCOL.md §8.9): the device was
 * swapped to the new table, the swap back is refused, and nestd unbinds the PASID there. The
 * backend's record must follow the kernel: the failed swap back leaves the new HWPT attached
 * (and recorded), and the unbind detaches the PASID and destroys that HWPT, the one the device
 * really has, leaving nothing behind.
 */
Test(iommufd_nesting, pasid_replace_rollback_refused_then_unbind, .init = setup, .fini = teardown)
{
	uint32_t pasid = 0;
	struct nest_be_bind b1, b2;
	struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID};

	cr_assert_eq(ops->pasid_alloc(be, ctx, NEST_BE_DEV_NONE, 1, 100, &pasid), 0);
	b1 = s1(pasid, 0x1000);
	b2 = s1(pasid, 0x2000);
	e.pasid = pasid;
	cr_assert_eq(ops->bind(be, ctx, 1, &b1), 0);   /* HWPT PARENT + 1 */
	cr_assert_eq(ops->rebind(be, ctx, 1, &b2), 0); /* PARENT + 2, PARENT + 1 destroyed */
	kd.n = 0;
	kd.fail_attach = true;
	cr_expect_eq(ops->rebind(be, ctx, 1, &b1), -EINVAL, "the swap back is refused");
	expect_call(0, IOMMU_HWPT_ALLOC, PARENT + 3, "refused swap back");
	expect_call(1, IOMMU_DESTROY, PARENT + 3, "refused swap back");
	cr_expect_eq(kd.n, 2);
	kd.n = 0;
	cr_assert_eq(ops->invalidate(be, ctx, 1, &e), 0);
	expect_call(0, IOMMU_HWPT_INVALIDATE, PARENT + 2, "still on the new table");
	kd.n = 0;
	ops->unbind(be, ctx, 1, pasid);
	expect_call(0, VFIO_DEVICE_DETACH_IOMMUFD_PT, 0, "unbind");
	cr_expect_eq(kd.c[0].flags, VFIO_DEVICE_DETACH_PASID);
	cr_expect_eq(kd.c[0].pasid, pasid);
	expect_call(1, IOMMU_DESTROY, PARENT + 2, "unbind: the HWPT the device really had");
	cr_expect_eq(kd.n, 2);
	kd.n = 0;
	cr_expect_eq(ops->rebind(be, ctx, 1, &b1), -ENOENT, "nothing bound any more");
	ops->unbind(be, ctx, 1, pasid);
	cr_expect_eq(kd.n, 0, "unbinding again is a no-op");
}

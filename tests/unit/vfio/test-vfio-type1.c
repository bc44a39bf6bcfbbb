/* SPDX-License-Identifier: MIT */
/*
 * test-vfio-type1.c - the vfio-type1 backend against the scripted kernel double: probe, the
 * ioctl sequence of an attach, viability errors naming the culprit, MAP_DMA / UNMAP_DMA bytes,
 * reserved IOVA ranges, error texts and rollback, teardown.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "kdouble.h"

static struct kd kd;
static struct nest_backend *be;
static const struct nest_backend_ops *ops = &nest_backend_vfio_type1_ops;
static const struct nest_be_events no_events;

static void setup_devs(const char *const *devs, unsigned n)
{
	struct nest_backend_params p = {.choice = NEST_BE_CHOICE_VFIO_TYPE1};

	kd_init(&kd, devs, n);
	p.vfio_sys = &kd.sys;
	cr_assert_eq(ops->open(&p, &no_events, NULL, &be), 0);
}

static void teardown(void)
{
	if (be)
		ops->close(be);
	be = NULL;
	kd_fini(&kd);
}

static char *last_error(void)
{
	static char buf[1024];

	ops->last_error(be, buf, sizeof(buf));
	return buf;
}

static int memfd(size_t len)
{
	int fd = memfd_create("guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, (off_t)len), 0);
	return fd;
}

static struct nest_be_ctx *attach(const char *pci, uint32_t id, int *ret_fd)
{
	struct nest_be_ctx_params cp = {.pasid_quota = 8};
	struct nest_be_dev d = {.dev_id = id, .name = "edu", .pci = pci};
	struct nest_be_ctx *ctx;

	cr_assert_eq(ops->ctx_new(be, &cp, &ctx), 0);
	cr_assert_eq(ops->device_attach(be, ctx, &d, ret_fd), 0, "%s", last_error());
	return ctx;
}

Test(vfio_type1, probe)
{
	const char *devs[] = {"0000:00:04.0:7"};
	const char *ok[] = {"0000:00:04.0"}, *missing[] = {"0000:00:09.0"};
	struct nest_backend_params p = {.host_pci = ok, .n_host_pci = 1};
	char why[512];

	kd_init(&kd, devs, 1);
	p.vfio_sys = &kd.sys;
	cr_expect_eq(ops->probe(&p, why, sizeof(why)), 0, "%s", why);
	p.host_pci = missing;
	cr_expect_eq(ops->probe(&p, why, sizeof(why)), -ENODEV);
	cr_expect(strstr(why, "PCI device 0000:00:09.0: not present"), "%s", why);
	kd_fini(&kd);
}

Test(vfio_type1, attach_sequence_and_device_fd, .fini = teardown)
{
	const char *devs[] = {"0000:00:04.0:7"};
	struct nest_backend_info info;
	const struct kd_call *c;
	int fd = -1;

	setup_devs(devs, 1);
	struct nest_be_ctx *ctx = attach("0000:00:04.0", 1, &fd);

	cr_expect(fd >= 0);
	/* viability first, then the order the kernel requires: group into the container,
	 * then the IOMMU model */
	cr_expect_eq(kd.calls[0].req, VFIO_GROUP_GET_STATUS);
	cr_expect_eq(kd.calls[0].obj, 7);
	cr_expect_eq(kd.calls[1].req, VFIO_GET_API_VERSION);
	cr_expect_eq(kd.calls[2].req, VFIO_CHECK_EXTENSION);
	cr_expect_eq(kd.calls[2].arg, VFIO_TYPE1v2_IOMMU);
	cr_expect_eq(kd.calls[3].req, VFIO_GROUP_SET_CONTAINER);
	cr_expect_eq(kd.calls[4].req, VFIO_SET_IOMMU);
	cr_expect_eq(kd.calls[4].arg, VFIO_TYPE1v2_IOMMU);
	cr_expect_eq(kd.calls[5].req, VFIO_IOMMU_GET_INFO);
	c = kd_find(&kd, VFIO_GROUP_GET_DEVICE_FD, 0);
	cr_assert_not_null(c);
	cr_expect_str_eq((const char *)c->bytes, "0000:00:04.0");
	/* no nesting uAPI: no PASIDs, no formats, and no seed-numbered ioctl ever */
	cr_assert_eq(ops->ctx_info(be, ctx, &info), 0);
	cr_expect_eq(info.kind, NEST_BACKEND_VFIO_TYPE1);
	cr_expect_eq(info.formats, 0);
	cr_expect_eq(info.pasid_bits, 0);
	cr_expect_eq(ops->bind(be, ctx, 1, &(struct nest_be_bind){.hpasid = 5}), -EOPNOTSUPP);
	cr_expect_eq(kd_count(&kd, 0x3B76) + kd_count(&kd, 0x3B77), 0);
	close(fd);
	ops->ctx_free(be, ctx);
}

Test(vfio_type1, group_not_viable_names_the_device, .fini = teardown)
{
	const char *devs[] = {"0000:00:04.0:7", "0000:00:05.0:7:e1000e"};
	struct nest_be_ctx_params cp = {0};
	struct nest_be_dev d = {.dev_id = 1, .name = "edu", .pci = "0000:00:04.0"};
	struct nest_be_ctx *ctx;
	int fd = -1;

	setup_devs(devs, 2);
	cr_assert_eq(ops->ctx_new(be, &cp, &ctx), 0);
	cr_expect_eq(ops->device_attach(be, ctx, &d, &fd), -EBUSY);
	cr_expect(strstr(last_error(), "IOMMU group 7 is not viable: 0000:00:05.0 (bound to "
				       "e1000e)"),
		  "%s", last_error());
	cr_expect_eq(fd, -1);
	ops->ctx_free(be, ctx);
}

Test(vfio_type1, map_dma_bytes_ranges_and_unmap, .fini = teardown)
{
	const char *devs[] = {"0000:00:04.0:7"};
	const struct kd_call *c;
	struct vfio_iommu_type1_dma_map dm;
	struct vfio_iommu_type1_dma_unmap du;
	int fd = -1, mfd = memfd(1 << 20);

	setup_devs(devs, 1);
	struct nest_be_ctx *ctx = attach("0000:00:04.0", 1, &fd);

	cr_assert_eq(ops->map(be, ctx, 0x100000, 0x10000, mfd, 0x2000,
			      NEST_MEM_F_READ | NEST_MEM_F_WRITE),
		     0, "%s", last_error());
	c = kd_find(&kd, VFIO_IOMMU_MAP_DMA, 0);
	cr_assert_not_null(c);
	cr_assert_eq(c->len, sizeof(dm));
	memcpy(&dm, c->bytes, sizeof(dm));
	cr_expect_eq(dm.argsz, sizeof(dm));
	cr_expect_eq(dm.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	cr_expect_eq(dm.iova, 0x100000);
	cr_expect_eq(dm.size, 0x10000);
	cr_expect_neq(dm.vaddr, 0);
	/* read-only region: READ only */
	cr_assert_eq(ops->map(be, ctx, 0x200000, 0x1000, mfd, 0, NEST_MEM_F_READ), 0);
	memcpy(&dm, kd_find(&kd, VFIO_IOMMU_MAP_DMA, 1)->bytes, sizeof(dm));
	cr_expect_eq(dm.flags, VFIO_DMA_MAP_FLAG_READ);
	/* a region reaching into the reserved range (interrupt window) is refused up front */
	cr_expect_eq(ops->map(be, ctx, 0xfed00000, 0x200000, mfd, 0, NEST_MEM_F_READ), -EINVAL);
	{
		const char *e = last_error();

		cr_expect(strstr(e, "not inside the IOVA ranges the kernel allows"), "%s", e);
		cr_expect(strstr(e, "0x0-0xfedfffff"), "%s", e);
	}
	cr_expect_eq(kd_count(&kd, VFIO_IOMMU_MAP_DMA), 2);
	/* a kernel refusal: ENOMEM says what the operator can do */
	kd.fail_req = VFIO_IOMMU_MAP_DMA;
	kd.fail_req_errno = ENOMEM;
	cr_expect_eq(ops->map(be, ctx, 0x400000, 0x1000, mfd, 0, NEST_MEM_F_READ), -ENOMEM);
	cr_expect(strstr(last_error(), "LimitMEMLOCK"), "%s", last_error());
	/* unmap: exactly the mapping */
	ops->unmap(be, ctx, 0x100000, 0x10000);
	c = kd_find(&kd, VFIO_IOMMU_UNMAP_DMA, 0);
	cr_assert_not_null(c);
	memcpy(&du, c->bytes, sizeof(du));
	cr_expect_eq(du.argsz, sizeof(du));
	cr_expect_eq(du.iova, 0x100000);
	cr_expect_eq(du.size, 0x10000);
	/* teardown unmaps what is left */
	ops->ctx_free(be, ctx);
	cr_expect_eq(kd_count(&kd, VFIO_IOMMU_UNMAP_DMA), 2);
	close(fd);
	close(mfd);
}

Test(vfio_type1, iova_info_from_get_info, .fini = teardown)
{
	const char *devs[] = {"0000:00:04.0:7"};
	struct nest_iova_range r[2] = {{1, 1}, {2, 2}};
	uint64_t pgsizes = 0;
	int fd = -1;

	setup_devs(devs, 1);
	struct nest_be_ctx *ctx = attach("0000:00:04.0", 1, &fd);

	/* what VFIO_IOMMU_GET_INFO said: its page sizes and its one IOVA range */
	cr_assert_eq(ops->iova_info(be, ctx, &pgsizes, r, 2), 1);
	cr_expect_eq(pgsizes, 0x40201000);
	cr_expect_eq(r[0].start, 0);
	cr_expect_eq(r[0].last, 0xfedfffff);
	cr_expect_eq(r[1].start, 2, "only the ranges there are are written");
	/* no room: the count still says how many there are */
	cr_expect_eq(ops->iova_info(be, ctx, &pgsizes, r, 0), 1);
	close(fd);
	ops->ctx_free(be, ctx);
}

Test(vfio_type1, device_reset_for_device_put, .fini = teardown)
{
	const char *devs[] = {"0000:00:04.0:7"};
	const struct kd_call *c;
	int fd = -1;

	setup_devs(devs, 1);
	struct nest_be_ctx *ctx = attach("0000:00:04.0", 1, &fd);

	/* the double's device has no reset (ENOTTY): given back without one */
	cr_expect_eq(ops->device_reset(be, ctx, 1, fd), 0);
	c = kd_find(&kd, VFIO_DEVICE_RESET, 0);
	cr_assert_not_null(c);
	cr_expect_eq(c->kind, KD_DEVICE);
	/* a reset the kernel refuses: the error is the VMM's, the device stays handed out */
	kd.fail_req = VFIO_DEVICE_RESET;
	kd.fail_req_errno = EIO;
	cr_expect_eq(ops->device_reset(be, ctx, 1, fd), -EIO);
	cr_expect(strstr(last_error(), "VFIO_DEVICE_RESET of device 1"), "%s", last_error());
	close(fd);
	ops->ctx_free(be, ctx);
}

Test(vfio_type1, hot_reset_only_within_the_vm, .fini = teardown)
{
	const char *devs[] = {"0000:00:04.0:7", "0000:00:05.0:8", "0000:00:06.0:9"};
	struct nest_be_dev d2 = {.dev_id = 2, .name = "edu1", .pci = "0000:00:05.0"};
	struct vfio_pci_hot_reset hr;
	const struct kd_call *c;
	int fd1 = -1, fd2 = -1;

	setup_devs(devs, 3);
	struct nest_be_ctx *ctx = attach("0000:00:04.0", 1, &fd1);

	cr_assert_eq(ops->device_attach(be, ctx, &d2, &fd2), 0, "%s", last_error());
	/* a device the kernel cannot hot-reset (root bus): EOPNOTSUPP */
	cr_expect_eq(ops->device_hot_reset(be, ctx, 1, fd1), -EOPNOTSUPP);
	cr_expect(strstr(last_error(), "cannot hot-reset"), "%s", last_error());
	/* the reset touches both devices of the VM (groups 7 and 8): done with both group fds */
	kd.n_reset_deps = 2;
	kd.reset_deps[0] = (struct vfio_pci_dependent_device){.group_id = 7, .devfn = 4 << 3};
	kd.reset_deps[1] = (struct vfio_pci_dependent_device){.group_id = 8, .devfn = 5 << 3};
	cr_expect_eq(ops->device_hot_reset(be, ctx, 1, fd1), 0, "%s", last_error());
	c = kd_find(&kd, VFIO_DEVICE_PCI_HOT_RESET, 0);
	cr_assert_not_null(c);
	cr_assert_geq(c->len, sizeof(hr));
	memcpy(&hr, c->bytes, sizeof(hr));
	cr_expect_eq(hr.count, 2);
	cr_expect_eq(hr.argsz, sizeof(hr) + 2 * sizeof(int32_t));
	/* it would also reset 00:06.0, whose group 9 is not this VM's: refused, nothing reset */
	kd.n_reset_deps = 3;
	kd.reset_deps[2] = (struct vfio_pci_dependent_device){.group_id = 9, .devfn = 6 << 3};
	cr_expect_eq(ops->device_hot_reset(be, ctx, 2, fd2), -EBUSY);
	cr_expect(strstr(last_error(), "0000:00:06.0 (IOMMU group 9), which is not this VM's"),
		  "%s", last_error());
	cr_expect_eq(kd_count(&kd, VFIO_DEVICE_PCI_HOT_RESET), 1);
	close(fd1);
	close(fd2);
	ops->ctx_free(be, ctx);
}

Test(vfio_type1, iova_intersection_of_containers)
{
	const struct nest_iova_range a[] = {
		{0x100000, 0xfedfffff}, {0xfef00000, 0xffffffffff}, {0, 0xfff}};
	const struct nest_iova_range b[] = {{0xfef00000, 0x7fffffffff}, {0, 0x1fffff}};
	struct nest_iova_range out[4];

	/* sorted, clipped, disjoint inputs give disjoint outputs */
	cr_assert_eq(nest_be_iova_intersect(a, 3, b, 2, out, 4), 3);
	cr_expect_eq(out[0].start, 0);
	cr_expect_eq(out[0].last, 0xfff);
	cr_expect_eq(out[1].start, 0x100000);
	cr_expect_eq(out[1].last, 0x1fffff);
	cr_expect_eq(out[2].start, 0xfef00000);
	cr_expect_eq(out[2].last, 0x7fffffffff);
	/* room for one: the lowest, and the count of all */
	memset(out, 0, sizeof(out));
	cr_expect_eq(nest_be_iova_intersect(a, 3, b, 2, out, 1), 3);
	cr_expect_eq(out[0].last, 0xfff);
	cr_expect_eq(out[1].last, 0);
	/* nothing in common */
	cr_expect_eq(nest_be_iova_intersect(a, 1, &(struct nest_iova_range){0, 0xfffff}, 1, out, 4),
		     0);
}

Test(vfio_type1, groups_share_one_container, .fini = teardown)
{
	const char *devs[] = {"0000:00:04.0:7", "0000:00:05.0:8"};
	struct nest_be_dev d2 = {.dev_id = 2, .name = "edu1", .pci = "0000:00:05.0"};
	int fd1 = -1, fd2 = -1;

	setup_devs(devs, 2);
	struct nest_be_ctx *ctx = attach("0000:00:04.0", 1, &fd1);

	cr_assert_eq(ops->device_attach(be, ctx, &d2, &fd2), 0, "%s", last_error());
	cr_expect_eq(kd.n_containers, 1);
	cr_expect_eq(kd_count(&kd, VFIO_SET_IOMMU), 1);
	cr_expect_eq(kd_count(&kd, VFIO_GROUP_SET_CONTAINER), 2);
	/* the same device twice is refused */
	cr_expect_eq(ops->device_attach(be, ctx, &d2, &fd2), -EEXIST);
	ops->device_detach(be, ctx, 1);
	ops->device_detach(be, ctx, 2);
	ops->ctx_free(be, ctx);
	close(fd1);
	close(fd2);
}

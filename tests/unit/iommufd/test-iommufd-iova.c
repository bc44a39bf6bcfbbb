/* SPDX-License-Identifier: MIT */
/*
 * test-iommufd-iova.c - VM_IOVA_INFO's source on the iommufd backend (iova_info(), op 23): the
 * IOVA ranges and page size of IOMMU_IOAS_IOVA_RANGES against a scripted iommufd double. The
 * ranges as the kernel gives them (empty ones dropped, sorted, the lowest `cap` written and the
 * total returned so the daemon can say TRUNCATED), narrowed when a device attaches (a selftest
 * mock device here), the first IFD_RANGES_MAX kept when the kernel has more (EMSGSIZE), and the
 * page size: the host's, or the kernel's out_iova_alignment where that is larger.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "iommufd-internal.h"
#include "iommufd.h"
#include "iommufd-test.h"

#define KD_RANGES_MAX 80

static struct {
	unsigned n_ranges;
	struct iommu_iova_range ranges[KD_RANGES_MAX];
	uint64_t align;
	/* what the kernel says once a device is attached (the IOMMU's reserved regions) */
	unsigned n_attached;
	struct iommu_iova_range attached[KD_RANGES_MAX];
	uint64_t align_attached;
	bool device;
	unsigned range_calls;
	int fail_ranges; /* -errno for IOMMU_IOAS_IOVA_RANGES */
} kd;

static int kd_open(void *opaque, const char *path, int flags)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)opaque, (void)path, (void)flags;
	return fd < 0 ? -errno : fd;
}

/* IOMMU_IOAS_IOVA_RANGES as the kernel answers it: as many as fit, the total, EMSGSIZE */
static int kd_ranges(struct iommu_ioas_iova_ranges *q)
{
	const struct iommu_iova_range *r = kd.device ? kd.attached : kd.ranges;
	unsigned n = kd.device ? kd.n_attached : kd.n_ranges;
	uint32_t room = q->num_iovas;

	kd.range_calls++;
	if (kd.fail_ranges)
		return kd.fail_ranges;
	cr_assert_eq(q->size, sizeof(*q));
	cr_assert_eq(q->ioas_id, 7);
	memcpy((void *)(uintptr_t)q->allowed_iovas, r, (n < room ? n : room) * sizeof(*r));
	q->num_iovas = n;
	q->out_iova_alignment = kd.device ? kd.align_attached : kd.align;
	return n > room ? -EMSGSIZE : 0;
}

/* the selftest: present, a mock device that attaches to the IOAS */
static int kd_test_cmd(struct iommu_test_cmd *c)
{
	switch (c->op) {
	case 0: /* the probe for the selftest: an unknown op */
		return -EOPNOTSUPP;
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		c->mock_domain_flags.out_stdev_id = 11;
		c->mock_domain_flags.out_idev_id = 12;
		return 0;
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE: /* the RID on the IOAS: the ranges narrow */
		kd.device = true;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int kd_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	(void)opaque, (void)fd;
	switch (req) {
	case IOMMU_IOAS_ALLOC:
		((struct iommu_ioas_alloc *)arg)->out_ioas_id = 7;
		return 0;
	case IOMMU_IOAS_IOVA_RANGES:
		return kd_ranges(arg);
	case IOMMU_TEST_CMD:
		return kd_test_cmd(arg);
	case IOMMU_GET_HW_INFO:
		((struct iommu_hw_info *)arg)->out_data_type = IOMMU_HW_INFO_TYPE_NONE;
		return 0;
	case IOMMU_HWPT_ALLOC:
		return -EOPNOTSUPP; /* no nesting: the device sits on the IOAS (stage 2 only) */
	default:
		return -ENOTTY;
	}
}

static const struct nest_vfio_sys kd_sys = {
	.open = kd_open, .ioctl = kd_ioctl, .sysfs_root = "/nonexistent", .dev_root = "/dev"};

static const struct nest_backend_ops *ops = &nest_backend_iommufd_ops;
static struct nest_backend *be;
static struct nest_be_ctx *ctx;

static void setup(void)
{
	memset(&kd, 0, sizeof(kd));
}

static void teardown(void)
{
	if (ctx)
		ops->ctx_free(be, ctx);
	if (be)
		ops->close(be);
	ctx = NULL;
	be = NULL;
}

static int open_ctx(void)
{
	struct nest_backend_params p = {
		.choice = NEST_BE_CHOICE_IOMMUFD, .vfio_sys = &kd_sys, .n_mock = 1};
	struct nest_be_ctx_params cp = {0};
	struct nest_be_events ev = {0};

	cr_assert_eq(ops->open(&p, &ev, NULL, &be), 0);
	return ops->ctx_new(be, &cp, &ctx);
}

static uint64_t host_page(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	return pg > 0 ? (uint64_t)pg : 4096;
}

TestSuite(iommufd_iova, .init = setup, .fini = teardown);

Test(iommufd_iova, ranges_and_page_size_of_the_ioas)
{
	struct nest_iova_range r[NEST_IOVA_RANGES_MAX];
	uint64_t pgsizes = 0;

	/* out of order, with an empty one the kernel would never send */
	kd.n_ranges = 3;
	kd.ranges[0] = (struct iommu_iova_range){0xfef00000, 0xffffffffffffull};
	kd.ranges[1] = (struct iommu_iova_range){0x2000, 0x1000};
	kd.ranges[2] = (struct iommu_iova_range){0, 0xfedfffff};
	kd.align = 0x1000;
	cr_assert_eq(open_ctx(), 0);
	cr_assert_eq(ops->iova_info(be, ctx, &pgsizes, r, NEST_IOVA_RANGES_MAX), 2);
	cr_expect_eq(r[0].start, 0);
	cr_expect_eq(r[0].last, 0xfedfffff);
	cr_expect_eq(r[1].start, 0xfef00000);
	cr_expect_eq(r[1].last, 0xffffffffffffull);
	cr_expect_eq(pgsizes, host_page(), "the host page size: 0x%llx",
		     (unsigned long long)pgsizes);
	/* a caller with room for one gets the lowest and the total */
	memset(r, 0, sizeof(r));
	cr_expect_eq(ops->iova_info(be, ctx, &pgsizes, r, 1), 2);
	cr_expect_eq(r[0].last, 0xfedfffff);
	cr_expect_eq(r[1].last, 0, "nothing written past cap");
}

Test(iommufd_iova, narrowed_when_a_device_attaches)
{
	struct nest_be_dev dev = {.dev_id = 1, .name = "m0", .mock = true};
	struct nest_iova_range r[NEST_IOVA_RANGES_MAX];
	uint64_t pgsizes = 0;
	unsigned calls;
	int fd = -1;

	kd.n_ranges = 1;
	kd.ranges[0] = (struct iommu_iova_range){0, UINT64_MAX};
	kd.align = 0x1000;
	/* the device's IOMMU: 48-bit input, the MSI window reserved, 64 KiB pages */
	kd.n_attached = 2;
	kd.attached[0] = (struct iommu_iova_range){0, 0xfedfffff};
	kd.attached[1] = (struct iommu_iova_range){0xfef00000, 0xffffffffffffull};
	kd.align_attached = 0x10000;
	cr_assert_eq(open_ctx(), 0);
	cr_assert_eq(ops->iova_info(be, ctx, &pgsizes, r, NEST_IOVA_RANGES_MAX), 1);
	cr_expect_eq(r[0].start, 0);
	cr_expect_eq(r[0].last, UINT64_MAX);

	calls = kd.range_calls;
	cr_assert_eq(ops->device_attach(be, ctx, &dev, &fd), 0);
	cr_expect_eq(fd, -1, "a mock device has no VFIO fd");
	cr_expect_gt(kd.range_calls, calls, "the ranges are asked again on attach");
	cr_assert_eq(ops->iova_info(be, ctx, &pgsizes, r, NEST_IOVA_RANGES_MAX), 2);
	cr_expect_eq(r[0].last, 0xfedfffff);
	cr_expect_eq(r[1].start, 0xfef00000);
	cr_expect_eq(r[1].last, 0xffffffffffffull);
	cr_expect_eq(pgsizes, host_page() > 0x10000 ? host_page() : 0x10000,
		     "the IOMMU's larger alignment: 0x%llx", (unsigned long long)pgsizes);
	/* nothing outside the ranges can be mapped any more */
	cr_expect_eq(ops->map(be, ctx, 0xfee00000, 0x10000, -1, 0, NEST_MEM_F_READ), -EINVAL);
}

Test(iommufd_iova, odd_alignment_rounded_up)
{
	struct nest_iova_range r[NEST_IOVA_RANGES_MAX];
	uint64_t pgsizes = 0;

	kd.n_ranges = 1;
	kd.ranges[0] = (struct iommu_iova_range){0, 0xffffffffull};
	kd.align = 0x30000; /* not a power of two: the safe side is the next one */
	cr_assert_eq(open_ctx(), 0);
	cr_assert_eq(ops->iova_info(be, ctx, &pgsizes, r, NEST_IOVA_RANGES_MAX), 1);
	cr_expect_eq(pgsizes, host_page() > 0x40000 ? host_page() : 0x40000);
	teardown();

	setup();
	kd.n_ranges = 1;
	kd.ranges[0] = (struct iommu_iova_range){0, UINT64_MAX};
	kd.align = UINT64_MAX; /* nonsense: nothing is that aligned but 0 */
	cr_assert_eq(open_ctx(), 0);
	cr_assert_eq(ops->iova_info(be, ctx, &pgsizes, r, NEST_IOVA_RANGES_MAX), 1);
	cr_expect_eq(pgsizes, 1ull << 63);
}

Test(iommufd_iova, more_ranges_than_nestd_keeps)
{
	struct nest_iova_range r[NEST_IOVA_RANGES_MAX];
	uint64_t pgsizes = 0;

	/* 70 disjoint 1 MiB ranges, highest first */
	kd.n_ranges = 70;
	for (unsigned i = 0; i < kd.n_ranges; i++) {
		uint64_t s = (uint64_t)(kd.n_ranges - 1 - i) << 21;

		kd.ranges[i] = (struct iommu_iova_range){s, s + 0xfffff};
	}
	kd.align = 0x1000;
	cr_assert_eq(open_ctx(), 0, "EMSGSIZE is not a failure");
	/* the first IFD_RANGES_MAX the kernel listed (the 64 highest): fewer ranges, never more */
	cr_assert_eq(ops->iova_info(be, ctx, &pgsizes, r, NEST_IOVA_RANGES_MAX), IFD_RANGES_MAX);
	for (unsigned i = 0; i < NEST_IOVA_RANGES_MAX; i++) {
		uint64_t s = (uint64_t)(kd.n_ranges - IFD_RANGES_MAX + i) << 21;

		cr_expect_eq(r[i].start, s, "range %u starts at 0x%llx", i,
			     (unsigned long long)r[i].start);
		cr_expect_eq(r[i].last, s + 0xfffff);
	}
	/* a range the kernel allows but nestd did not keep is refused, the safe side */
	cr_expect_eq(ops->map(be, ctx, 0, 0x1000, -1, 0, NEST_MEM_F_READ), -EINVAL);
}

Test(iommufd_iova, no_ranges_at_all)
{
	struct nest_iova_range r[NEST_IOVA_RANGES_MAX];
	uint64_t pgsizes = 0;

	kd.n_ranges = 0;
	cr_assert_eq(open_ctx(), 0);
	cr_expect_eq(ops->iova_info(be, ctx, &pgsizes, r, NEST_IOVA_RANGES_MAX), 0,
		     "nothing can be mapped");
	cr_expect_eq(pgsizes, host_page());
}

Test(iommufd_iova, kernel_refuses_the_ranges)
{
	kd.fail_ranges = -EIO;
	cr_expect_eq(open_ctx(), -EIO, "no VM context without its ranges");
	cr_expect_null(ctx);
}

/* SPDX-License-Identifier: MIT */
/*
 * test-iommufd-map.c - the iommufd backend's stage 2 against a scripted iommufd double: on a
 * kernel with IOMMU_IOAS_MAP_FILE the memfd itself is mapped (no address of nestd's); on an
 * older one (MAP_FILE answers ENOTTY, before 6.13) nestd falls back to IOMMU_IOAS_MAP of its own
 * MAP_SHARED view of the memfd, read-only for a read-only region; unmap removes exactly that.
 * The guest tests run the MAP_FILE path on Linux 7.3; this is the only test of the fallback.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "iommufd-internal.h"
#include "iommufd.h"

#define CALLS_MAX 64

static struct {
	bool has_map_file;
	char dev[64];
	unsigned n;
	struct {
		unsigned long req;
		uint8_t bytes[64];
	} calls[CALLS_MAX];
} kd;

static int kd_open(void *opaque, const char *path, int flags)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int kd_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	uint32_t size;

	memcpy(&size, arg, sizeof(size));
	if (kd.n < CALLS_MAX) {
		kd.calls[kd.n].req = req;
		memcpy(kd.calls[kd.n].bytes, arg, size < 64 ? size : 64);
		kd.n++;
	}
	switch (req) {
	case IOMMU_IOAS_ALLOC:
		((struct iommu_ioas_alloc *)arg)->out_ioas_id = 7;
		return 0;
	case IOMMU_IOAS_IOVA_RANGES: {
		struct iommu_ioas_iova_ranges *q = arg;
		struct iommu_iova_range r = {.start = 0, .last = 0xfedfffff};

		memcpy((void *)(uintptr_t)q->allowed_iovas, &r, sizeof(r));
		q->num_iovas = 1;
		return 0;
	}
	case IOMMU_FAULT_QUEUE_ALLOC:
		return -ENOTTY; /* an older kernel: no fault queues either */
	case IOMMU_IOAS_MAP_FILE:
		return kd.has_map_file ? 0 : -ENOTTY;
	case IOMMU_IOAS_MAP:
	case IOMMU_IOAS_UNMAP:
		return 0;
	default:
		return -ENOTTY;
	}
}

static const struct nest_vfio_sys kd_sys = {
	.open = kd_open, .ioctl = kd_ioctl, .sysfs_root = "/nonexistent", .dev_root = "/dev"};

static const void *find(unsigned long req)
{
	for (unsigned i = 0; i < kd.n; i++)
		if (kd.calls[i].req == req)
			return kd.calls[i].bytes;
	return NULL;
}

static void run(bool map_file, uint32_t perms, void (*check)(int mfd))
{
	struct nest_backend_params p = {.choice = NEST_BE_CHOICE_IOMMUFD, .vfio_sys = &kd_sys};
	const struct nest_backend_ops *ops = &nest_backend_iommufd_ops;
	struct nest_be_ctx_params cp = {0};
	struct nest_be_events ev = {0};
	struct nest_backend *be;
	struct nest_be_ctx *ctx;
	int mfd = memfd_create("guest", MFD_CLOEXEC);

	memset(&kd, 0, sizeof(kd));
	kd.has_map_file = map_file;
	cr_assert(mfd >= 0 && ftruncate(mfd, 1 << 20) == 0);
	cr_assert_eq(ops->open(&p, &ev, NULL, &be), 0);
	cr_assert_eq(ops->ctx_new(be, &cp, &ctx), 0);
	cr_assert_eq(ops->map(be, ctx, 0x100000, 0x10000, mfd, 0x4000, perms), 0);
	check(mfd);
	ops->unmap(be, ctx, 0x100000, 0x10000);
	{
		const struct iommu_ioas_unmap *u = find(IOMMU_IOAS_UNMAP);

		cr_assert_not_null(u);
		cr_expect_eq(u->ioas_id, 7);
		cr_expect_eq(u->iova, 0x100000);
		cr_expect_eq(u->length, 0x10000);
	}
	cr_expect_eq(ops->map(be, ctx, 0xfee00000, 0x1000, mfd, 0, perms), -EINVAL,
		     "the interrupt window is outside the allowed ranges");
	ops->ctx_free(be, ctx);
	ops->close(be);
	close(mfd);
}

static void check_map_file(int mfd)
{
	const struct iommu_ioas_map_file *m = find(IOMMU_IOAS_MAP_FILE);

	cr_assert_not_null(m);
	cr_expect_eq(m->size, sizeof(*m));
	cr_expect_eq(m->flags, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				       IOMMU_IOAS_MAP_WRITEABLE);
	cr_expect_eq(m->ioas_id, 7);
	cr_expect_eq(m->fd, mfd);
	cr_expect_eq(m->start, 0x4000);
	cr_expect_eq(m->length, 0x10000);
	cr_expect_eq(m->iova, 0x100000);
	cr_expect_null(find(IOMMU_IOAS_MAP), "no address of nestd's is mapped");
}

static void check_fallback_rw(int mfd)
{
	const struct iommu_ioas_map *m = find(IOMMU_IOAS_MAP);

	cr_assert_not_null(find(IOMMU_IOAS_MAP_FILE), "MAP_FILE is tried first");
	cr_assert_not_null(m, "IOAS_MAP after MAP_FILE answered ENOTTY");
	cr_expect_eq(m->size, sizeof(*m));
	cr_expect_eq(m->flags, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				       IOMMU_IOAS_MAP_WRITEABLE);
	cr_expect_eq(m->ioas_id, 7);
	cr_expect_neq(m->user_va, 0);
	cr_expect_eq(m->length, 0x10000);
	cr_expect_eq(m->iova, 0x100000);
	/* nestd's view is the memfd at the offset: a byte written through the fd shows there */
	cr_assert_eq(pwrite(mfd, "x", 1, 0x4000), 1);
	cr_expect_eq(*(const char *)(uintptr_t)m->user_va, 'x');
}

static void check_fallback_ro(int mfd)
{
	const struct iommu_ioas_map *m = find(IOMMU_IOAS_MAP);

	cr_assert_not_null(m);
	cr_expect_eq(m->flags, IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		     "a read-only region is mapped read-only");
}

Test(iommufd_map, map_file_of_the_memfd)
{
	run(true, NEST_MEM_F_READ | NEST_MEM_F_WRITE, check_map_file);
}

Test(iommufd_map, ioas_map_fallback_before_6_13)
{
	run(false, NEST_MEM_F_READ | NEST_MEM_F_WRITE, check_fallback_rw);
}

Test(iommufd_map, ioas_map_fallback_read_only)
{
	run(false, NEST_MEM_F_READ, check_fallback_ro);
}

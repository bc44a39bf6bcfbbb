/* SPDX-License-Identifier: MIT */
/*
 * test-uapi.c - the vendored kernel uAPI (kernel/uapi/) in one translation unit: the headers
 * coexist, the ioctl numbers are the ones in UAPI-FACTS.md (sections 0 and 2.2), including the
 * deliberate seed/cdev collisions, and the enum values nestd relies on. The struct layouts are
 * pinned by _Static_asserts inside the headers themselves; compiling this file runs them.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

/* The four headers, in an order different from the one in the headers' own dependencies, twice. */
#include "iommufd-test.h"
#include "vfio-cdev.h"
#include "iommufd.h"
#include "vfio-nesting.h"
#include "vfio-nesting.h"
#include "iommufd-test.h"

#include "nest-test.h"

/* every VFIO and iommufd ioctl is _IO(';', nr): no direction, no size */
static void assert_plain_io(unsigned long nr, unsigned long expect)
{
	cr_assert_eq(nr, expect, "ioctl 0x%lx, expected 0x%lx", nr, expect);
	cr_assert_eq(_IOC_DIR(nr), _IOC_NONE, "ioctl 0x%lx has direction bits", nr);
	cr_assert_eq(_IOC_SIZE(nr), 0, "ioctl 0x%lx has size bits", nr);
	cr_assert_eq(_IOC_TYPE(nr), ';', "ioctl 0x%lx is not type ';'", nr);
}

Test(uapi, seed_ioctls)
{
	assert_plain_io(VFIO_IOMMU_PASID_REQUEST, 0x3B76);
	assert_plain_io(VFIO_IOMMU_NESTING_OP, 0x3B77);
	cr_assert_eq(VFIO_TYPE1_NESTING_IOMMU, 6);
	cr_assert_eq(VFIO_IOMMU_NESTING_OP_BIND_PGTBL, 0);
	cr_assert_eq(VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, 1);
	cr_assert_eq(VFIO_IOMMU_NESTING_OP_CACHE_INVLD, 2);
	cr_assert_eq(VFIO_IOMMU_NESTING_OP_NUM, 3);
	cr_assert_eq(VFIO_NESTING_OP_MASK, 0xffff);
	cr_assert_eq(VFIO_PASID_REQUEST_MASK, 3);
	cr_assert_eq(VFIO_IOMMU_PASID_BITS, 31);
	cr_assert_eq(IOMMU_NESTING_FEAT_SYSWIDE_PASID | IOMMU_NESTING_FEAT_BIND_PGTBL |
			     IOMMU_NESTING_FEAT_CACHE_INVLD,
		     7);
}

Test(uapi, seed_numbers_collide_with_mainline)
{
	/* the same numbers on a device fd (cdev) and on a container fd (seed, SPAPR) */
	cr_assert_eq(VFIO_IOMMU_PASID_REQUEST, VFIO_DEVICE_BIND_IOMMUFD);
	cr_assert_eq(VFIO_IOMMU_NESTING_OP, VFIO_DEVICE_ATTACH_IOMMUFD_PT);
	cr_assert_eq(VFIO_IOMMU_PASID_REQUEST, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY);
	cr_assert_eq(VFIO_IOMMU_NESTING_OP, VFIO_IOMMU_SPAPR_TCE_CREATE);
	assert_plain_io(VFIO_DEVICE_BIND_IOMMUFD, 0x3B76);
	assert_plain_io(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3B77);
	assert_plain_io(VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3B78);
	/* and the v7 nesting cap id is mainline's DMA_AVAIL cap id */
	cr_assert_eq(VFIO_IOMMU_TYPE1_INFO_CAP_NESTING, 3);
	cr_assert_eq(NEST_VFIO_CAP_NESTING_ID_V7, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	cr_assert_eq(NEST_VFIO_CAP_NESTING_ID_REBASED, 4);
	/* the kernel-internal ENOTSUPP is not EOPNOTSUPP */
	cr_assert_eq(NEST_ENOTSUPP, 524);
	cr_assert_neq(NEST_ENOTSUPP, EOPNOTSUPP);
}

Test(uapi, iommufd_ioctls)
{
	static const struct {
		unsigned long nr, expect;
	} t[] = {
		{IOMMU_DESTROY, 0x3B80},
		{IOMMU_IOAS_ALLOC, 0x3B81},
		{IOMMU_IOAS_ALLOW_IOVAS, 0x3B82},
		{IOMMU_IOAS_COPY, 0x3B83},
		{IOMMU_IOAS_IOVA_RANGES, 0x3B84},
		{IOMMU_IOAS_MAP, 0x3B85},
		{IOMMU_IOAS_UNMAP, 0x3B86},
		{IOMMU_OPTION, 0x3B87},
		{IOMMU_VFIO_IOAS, 0x3B88},
		{IOMMU_HWPT_ALLOC, 0x3B89},
		{IOMMU_GET_HW_INFO, 0x3B8A},
		{IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3B8B},
		{IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3B8C},
		{IOMMU_HWPT_INVALIDATE, 0x3B8D},
		{IOMMU_FAULT_QUEUE_ALLOC, 0x3B8E},
		{IOMMU_IOAS_MAP_FILE, 0x3B8F},
		{IOMMU_VIOMMU_ALLOC, 0x3B90},
		{IOMMU_VDEVICE_ALLOC, 0x3B91},
		{IOMMU_IOAS_CHANGE_PROCESS, 0x3B92},
		{IOMMU_VEVENTQ_ALLOC, 0x3B93},
		{IOMMU_HW_QUEUE_ALLOC, 0x3B94},
		{IOMMU_IOAS_NOIOMMU_GET_PA, 0x3B95},
		{IOMMU_TEST_CMD, 0x3BA0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_plain_io(t[i].nr, t[i].expect);
}

Test(uapi, iommufd_enums)
{
	cr_assert_eq(IOMMU_HWPT_ALLOC_NEST_PARENT, 1);
	cr_assert_eq(IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 2);
	cr_assert_eq(IOMMU_HWPT_FAULT_ID_VALID, 4);
	cr_assert_eq(IOMMU_HWPT_ALLOC_PASID, 8);
	cr_assert_eq(IOMMU_HWPT_DATA_NONE, 0);
	cr_assert_eq(IOMMU_HWPT_DATA_VTD_S1, 1);
	cr_assert_eq(IOMMU_HWPT_DATA_ARM_SMMUV3, 2);
	cr_assert_eq(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0);
	cr_assert_eq(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 1);
	cr_assert_eq(IOMMU_HW_INFO_TYPE_DEFAULT, IOMMU_HW_INFO_TYPE_NONE);
	cr_assert_eq(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1);
	cr_assert_eq(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, 2);
	cr_assert_eq(IOMMU_HW_INFO_FLAG_INPUT_TYPE, 1);
	cr_assert_eq(IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE, 7);
	cr_assert_eq(IOMMU_VTD_INV_FLAGS_LEAF, 1);
	cr_assert_eq(IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 1);
	cr_assert_eq(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1);
	cr_assert_eq(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1);
	cr_assert_eq(IOMMUFD_PAGE_RESP_SUCCESS, 0);
	cr_assert_eq(IOMMUFD_PAGE_RESP_INVALID, 1);
	cr_assert_eq(IOMMU_OPTION_RLIMIT_MODE, 0);
	cr_assert_eq(IOMMU_OPTION_HUGE_PAGES, 1);
	cr_assert_eq(IOMMU_OPTION_OP_SET, 0);
	cr_assert_eq(IOMMU_OPTION_OP_GET, 1);
	cr_assert_eq(VFIO_DEVICE_ATTACH_PASID, 1);
	cr_assert_eq(VFIO_DEVICE_DETACH_PASID, 1);
	cr_assert_eq(VFIO_DEVICE_BIND_FLAG_TOKEN, 1);
}

Test(uapi, selftest_values)
{
	cr_assert_eq(IOMMU_TEST_OP_MOCK_DOMAIN, 2);
	cr_assert_eq(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, 6);
	cr_assert_eq(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, 12);
	cr_assert_eq(IOMMU_TEST_OP_MD_CHECK_IOTLB, 14);
	cr_assert_eq(IOMMU_TEST_OP_TRIGGER_IOPF, 15);
	cr_assert_eq(IOMMU_TEST_OP_DEV_CHECK_CACHE, 16);
	cr_assert_eq(IOMMU_TEST_OP_TRIGGER_VEVENT, 17);
	cr_assert_eq(IOMMU_TEST_OP_PASID_ATTACH, 18);
	cr_assert_eq(IOMMU_TEST_OP_PASID_REPLACE, 19);
	cr_assert_eq(IOMMU_TEST_OP_PASID_DETACH, 20);
	cr_assert_eq(IOMMU_TEST_OP_PASID_CHECK_HWPT, 21);
	cr_assert_eq(MOCK_FLAGS_DEVICE_PASID, 4);
	cr_assert_eq(MOCK_PASID_WIDTH, 20);
	cr_assert_eq(MOCK_NESTED_DOMAIN_IOTLB_NUM, MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1);
	cr_assert_eq(MOCK_DEV_CACHE_NUM, MOCK_DEV_CACHE_ID_MAX + 1);
	cr_assert_eq(IOMMU_HW_INFO_TYPE_SELFTEST, 0xfeedbeef);
	cr_assert_eq(IOMMU_HWPT_DATA_SELFTEST, 0xdead);
	cr_assert_eq(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0xdeadbeef);
	cr_assert_eq(IOMMU_VIOMMU_TYPE_SELFTEST, 0xdeadbeef);
	cr_assert_eq(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, 0xdeadbeef);
	cr_assert_eq(IOMMU_VEVENTQ_TYPE_SELFTEST, 0xbeefbeef);
	cr_assert_eq(IOMMU_HW_QUEUE_TYPE_SELFTEST, 0xdeadbeef);
	cr_assert_eq(sizeof(struct iommu_test_cmd), 72);
	cr_assert_eq(offsetof(struct iommu_test_cmd, last) + sizeof(__u32), 68); /* min size */
}

Test(uapi, iommufd_guard_makes_system_header_a_noop)
{
	/* a later #include <linux/iommufd.h> (6.2+ linux-libc-dev) sees these and is skipped */
	int in_tree = 0, installed = 0;
#ifdef _UAPI_IOMMUFD_H
	in_tree = 1;
#endif
#ifdef _IOMMUFD_H
	installed = 1;
#endif
	cr_assert(in_tree && installed);
}

/* little-endian byte image of a struct, to check that fields land where the kernel reads them */
static uint64_t le_at(const void *p, size_t off, size_t n)
{
	const unsigned char *b = (const unsigned char *)p + off;
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

Test(uapi, bind_data_byte_image)
{
	struct iommu_gpasid_bind_data bd;

	memset(&bd, 0, sizeof(bd));
	bd.argsz = sizeof(bd);
	bd.version = IOMMU_GPASID_BIND_VERSION_1;
	bd.format = IOMMU_PASID_FORMAT_INTEL_VTD;
	bd.addr_width = 48;
	bd.flags = IOMMU_SVA_GPASID_VAL;
	bd.gpgd = 0x123456789000ull;
	bd.hpasid = 0x42;
	bd.gpasid = 0x7;
	bd.vendor.vtd.flags = IOMMU_SVA_VTD_GPASID_SRE | IOMMU_SVA_VTD_GPASID_WPE;
	bd.vendor.vtd.pat = 0x00070406u;
	bd.vendor.vtd.emt = 6;
	cr_assert_eq(le_at(&bd, 0, 4), 72);
	cr_assert_eq(le_at(&bd, 4, 4), 1);
	cr_assert_eq(le_at(&bd, 8, 4), 1);
	cr_assert_eq(le_at(&bd, 12, 4), 48);
	cr_assert_eq(le_at(&bd, 16, 8), 1);
	cr_assert_eq(le_at(&bd, 24, 8), 0x123456789000ull);
	cr_assert_eq(le_at(&bd, 32, 8), 0x42);
	cr_assert_eq(le_at(&bd, 40, 8), 7);
	cr_assert_eq(le_at(&bd, 48, 8), 0);
	cr_assert_eq(le_at(&bd, 56, 8), 0x41);
	cr_assert_eq(le_at(&bd, 64, 4), 0x00070406u);
	cr_assert_eq(le_at(&bd, 68, 4), 6);
	cr_assert_eq(NEST_GPASID_BIND_MINSZ, offsetof(struct iommu_gpasid_bind_data, vendor));
}

Test(uapi, nesting_op_payload_alignment)
{
	/* the seed passes arg + 8 down as the payload pointer: it must be 8-byte aligned */
	union {
		struct vfio_iommu_type1_nesting_op hdr;
		unsigned char buf[8 + sizeof(struct iommu_cache_invalidate_info)];
		uint64_t align;
	} u;

	memset(&u, 0, sizeof(u));
	cr_assert_eq((uintptr_t)u.hdr.data % 8, 0);
	cr_assert_eq(offsetof(struct vfio_iommu_type1_nesting_op, data), 8);
	u.hdr.argsz = sizeof(u.buf);
	u.hdr.flags = VFIO_IOMMU_NESTING_OP_CACHE_INVLD;
	cr_assert_eq(le_at(&u, 0, 4), 64);
	cr_assert_eq(le_at(&u, 4, 4), 2);
	/* the seed cap carries the nesting info right after the 8-byte cap header */
	cr_assert_eq(offsetof(struct vfio_iommu_type1_info_cap_nesting, info),
		     sizeof(struct vfio_info_cap_header));
	cr_assert_eq(offsetof(struct iommu_nesting_info, vendor.vtd.cap_reg), 40);
}

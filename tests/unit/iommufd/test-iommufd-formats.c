/* SPDX-License-Identifier: MIT */
/*
 * test-iommufd-formats.c - the iommufd format table (kernel/iommufd/formats.c): how nestd's
 * generic BIND and INVALIDATE become the kernel's VT-d S1 and selftest structs, byte for byte,
 * and which native structs the checks let through.
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "iommufd-internal.h"
#include "iommufd-test.h"
#include "iommufd.h"

static const struct ifd_format *vtd(void)
{
	const struct ifd_format *f = ifd_format_find(IOMMU_HW_INFO_TYPE_INTEL_VTD);

	cr_assert_not_null(f);
	return f;
}

static const struct ifd_format *mock(void)
{
	const struct ifd_format *f = ifd_format_find(IOMMU_HW_INFO_TYPE_SELFTEST);

	cr_assert_not_null(f);
	return f;
}

Test(iommufd_formats, rows)
{
	cr_expect_eq(vtd()->hwpt_data_type, IOMMU_HWPT_DATA_VTD_S1);
	cr_expect_eq(vtd()->hwpt_data_len, 24);
	cr_expect_eq(vtd()->inv_data_type, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1);
	cr_expect_eq(vtd()->inv_entry_len, 24);
	cr_expect_eq(mock()->hwpt_data_type, IOMMU_HWPT_DATA_SELFTEST);
	cr_expect_eq(mock()->hwpt_data_len, 8);
	cr_expect_eq(mock()->inv_data_type, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST);
	cr_expect_eq(mock()->inv_entry_len, 8);
	cr_expect_null(ifd_format_find(IOMMU_HW_INFO_TYPE_ARM_SMMUV3), "no SMMUv3 row yet");
}

Test(iommufd_formats, vtd_bind_bytes)
{
	struct nest_be_bind b = {.format = NEST_BIND_FMT_VTD_FL,
				 .addr_width = 57,
				 .gpgd = 0xabcd000,
				 .hpasid = 5,
				 .vtd_flags = NEST_VTD_SRE | NEST_VTD_EAFE | NEST_VTD_WPE};
	struct iommu_hwpt_vtd_s1 s1;
	uint8_t data[24];

	memset(data, 0xee, sizeof(data));
	cr_assert_eq(vtd()->bind_data(&b, data), 0);
	memcpy(&s1, data, sizeof(s1));
	cr_expect_eq(s1.flags, IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE);
	cr_expect_eq(s1.pgtbl_addr, 0xabcd000);
	cr_expect_eq(s1.addr_width, 57);
	cr_expect_eq(s1.__reserved, 0);
	/* iommufd dropped the seed's memory-type controls: refused, not silently lost */
	b.vtd_flags = NEST_VTD_PCD;
	cr_expect_eq(vtd()->bind_data(&b, data), -EOPNOTSUPP);
	b.vtd_flags = NEST_VTD_EMTE;
	b.pat = 1;
	cr_expect_eq(vtd()->bind_data(&b, data), -EOPNOTSUPP);
}

Test(iommufd_formats, vtd_invalidate_entries)
{
	struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
				   .granularity = NEST_INV_GRANU_ADDR,
				   .flags = NEST_INV_F_LEAF,
				   .pasid = 3,
				   .addr = 0x200000,
				   .granule_size = 0x200000,
				   .nb_granules = 2};
	struct iommu_hwpt_vtd_s1_invalidate v;
	uint8_t out[IFD_INV_ENTRY_MAX];

	cr_assert_eq(vtd()->inv_entry(&e, out), 1);
	memcpy(&v, out, sizeof(v));
	cr_expect_eq(v.addr, 0x200000);
	cr_expect_eq(v.npages, 1024, "2 x 2 MiB = 1024 pages of 4 KiB");
	cr_expect_eq(v.flags, IOMMU_VTD_INV_FLAGS_LEAF);
	cr_expect_eq(v.__reserved, 0);
	e = (struct nest_inv_entry){
		.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = 3};
	cr_assert_eq(vtd()->inv_entry(&e, out), 1);
	memcpy(&v, out, sizeof(v));
	cr_expect_eq(v.addr, 0);
	cr_expect_eq(v.npages, UINT64_MAX, "the whole HWPT");
	cr_expect_eq(v.flags, 0);
	/* the PASID cache is the host's business: no kernel call */
	e.cache = NEST_CACHE_PASID;
	cr_expect_eq(vtd()->inv_entry(&e, out), 0);
}

Test(iommufd_formats, vtd_native_checks)
{
	struct iommu_hwpt_vtd_s1 s1 = {.pgtbl_addr = 0x1000, .addr_width = 48};
	struct iommu_hwpt_vtd_s1_invalidate v = {.addr = 0x1000, .npages = 1};
	uint8_t big[32] = {0};

	cr_expect_eq(vtd()->check_data(&s1), 0);
	s1.flags = 1u << 3;
	cr_expect_eq(vtd()->check_data(&s1), -EOPNOTSUPP);
	s1.flags = 0;
	s1.__reserved = 1;
	cr_expect_eq(vtd()->check_data(&s1), -EOPNOTSUPP);
	s1.__reserved = 0;
	s1.addr_width = 39;
	cr_expect_eq(vtd()->check_data(&s1), -EINVAL);
	s1.addr_width = 48;
	s1.pgtbl_addr = 0x1010;
	cr_expect_eq(vtd()->check_data(&s1), -EINVAL);

	cr_expect_eq(vtd()->check_entry(&v), 0);
	v.flags = 2;
	cr_expect_eq(vtd()->check_entry(&v), -EOPNOTSUPP);
	v.flags = 0;
	v.addr = 0x1001;
	cr_expect_eq(vtd()->check_entry(&v), -EINVAL);
	v.addr = 0x1000;
	v.npages = UINT64_MAX;
	cr_expect_eq(vtd()->check_entry(&v), -EINVAL, "U64_MAX pages only from address 0");
	v.npages = 0;
	cr_expect_eq(vtd()->check_entry(&v), -EINVAL);

	/* the size rule: shorter EINVAL, longer only with a zero tail */
	cr_expect_eq(ifd_native_size(big, 23, 24), -EINVAL);
	cr_expect_eq(ifd_native_size(big, 32, 24), 0);
	big[30] = 1;
	cr_expect_eq(ifd_native_size(big, 32, 24), -E2BIG);
}

Test(iommufd_formats, mock_mapping)
{
	struct nest_be_bind b = {
		.format = NEST_BIND_FMT_VTD_FL, .addr_width = 48, .gpgd = 0x1234000};
	struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB,
				   .granularity = NEST_INV_GRANU_ADDR,
				   .pasid = 1,
				   .addr = 0x7000,
				   .granule_size = 4096,
				   .nb_granules = 1};
	struct iommu_hwpt_selftest st;
	struct iommu_hwpt_invalidate_selftest inv;
	uint8_t out[IFD_INV_ENTRY_MAX];

	cr_assert_eq(mock()->bind_data(&b, out), 0);
	memcpy(&st, out, sizeof(st));
	cr_expect_eq(st.iotlb, 0x1234, "the guest table's frame number");
	cr_expect_eq(st.pagetable_type, 0);
	cr_assert_eq(mock()->inv_entry(&e, out), 1);
	memcpy(&inv, out, sizeof(inv));
	cr_expect_eq(inv.flags, 0);
	cr_expect_eq(inv.iotlb_id, 3, "(0x7000 >> 12) %% 4");
	e = (struct nest_inv_entry){
		.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = 1};
	cr_assert_eq(mock()->inv_entry(&e, out), 1);
	memcpy(&inv, out, sizeof(inv));
	cr_expect_eq(inv.flags, IOMMU_TEST_INVALIDATE_FLAG_ALL);
	inv = (struct iommu_hwpt_invalidate_selftest){.iotlb_id = 4};
	cr_expect_eq(mock()->check_entry(&inv), -EINVAL);
	inv = (struct iommu_hwpt_invalidate_selftest){.flags = 2};
	cr_expect_eq(mock()->check_entry(&inv), -EOPNOTSUPP);
	st = (struct iommu_hwpt_selftest){.iotlb = 7, .pagetable_type = 1};
	cr_expect_eq(mock()->check_data(&st), -EOPNOTSUPP);
}

Test(iommufd_viommu_formats, selftest_entries)
{
	const struct ifd_viommu_format *f = ifd_viommu_format_find(IOMMU_VIOMMU_TYPE_SELFTEST);
	struct iommu_viommu_invalidate_selftest e = {.vdev_id = 7, .cache_id = 3};
	bool has = false;
	uint64_t vdev = 0;

	cr_assert_not_null(f);
	cr_expect_eq(f->hw_type, IOMMU_HW_INFO_TYPE_SELFTEST);
	cr_expect_eq(f->inv_entry_len, 12);
	cr_expect_eq(f->vevent_len, 4);
	cr_expect_eq(f->check_entry(&e, &has, &vdev), 0);
	cr_expect(has);
	cr_expect_eq(vdev, 7, "the entry names virtual device 7");
	e.cache_id = 4;
	cr_expect_eq(f->check_entry(&e, &has, &vdev), -EINVAL);
	e = (struct iommu_viommu_invalidate_selftest){.flags = 2};
	cr_expect_eq(f->check_entry(&e, &has, &vdev), -EOPNOTSUPP);
}

Test(iommufd_viommu_formats, smmuv3_commands)
{
	const struct ifd_viommu_format *f = ifd_viommu_format_find(IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
	struct iommu_viommu_arm_smmuv3_invalidate c = {0};
	bool has = true;
	uint64_t vdev = 0;

	cr_assert_not_null(f);
	cr_expect_eq(f->hw_type, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	cr_expect_eq(f->inv_entry_len, 16);
	cr_expect_eq(f->vevent_len, 32);
	c.cmd[0] = htole64(0x12); /* TLBI_NH_VA: no StreamID */
	cr_expect_eq(f->check_entry(&c, &has, &vdev), 0);
	cr_expect_not(has);
	c.cmd[0] = htole64((UINT64_C(0x42) << 32) | 0x05); /* CFGI_CD for vSID 0x42 */
	cr_expect_eq(f->check_entry(&c, &has, &vdev), 0);
	cr_expect(has);
	cr_expect_eq(vdev, 0x42);
	c.cmd[0] = htole64((UINT64_C(9) << 32) | 0x40); /* ATC_INV for vSID 9 */
	cr_expect_eq(f->check_entry(&c, &has, &vdev), 0);
	cr_expect_eq(vdev, 9);
	c.cmd[0] = htole64(0x03); /* CFGI_STE: the host's business */
	cr_expect_eq(f->check_entry(&c, &has, &vdev), -EOPNOTSUPP);
	cr_expect_null(ifd_viommu_format_find(0x1234));
}

/* SPDX-License-Identifier: MIT */
/*
 * formats.c - the iommufd format table: one row per IOMMU kind, keyed by IOMMU_GET_HW_INFO's
 * type. A row says which nested HWPT data and which invalidation entries the kernel takes for
 * that IOMMU, and how nestd's generic BIND and INVALIDATE map onto them. Adding an IOMMU is
 * adding a row (docs/BACKENDS.md, "The format table").
 */
#include <errno.h>
#include <string.h>

#include "iommufd-internal.h"
#include "iommufd-test.h"
#include "iommufd.h"

/* ---- Intel VT-d: IOMMU_HWPT_DATA_VTD_S1, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 ---- */

static int vtd_bind_data(const struct nest_be_bind *b, void *data)
{
	struct iommu_hwpt_vtd_s1 s1 = {.pgtbl_addr = b->gpgd, .addr_width = b->addr_width};

	/* iommufd dropped the memory-type controls of the seed (PCD, PWT, EMTE, CD, PAT, EMT) */
	if (b->vtd_flags & ~(uint64_t)(NEST_VTD_SRE | NEST_VTD_EAFE | NEST_VTD_WPE))
		return -EOPNOTSUPP;
	if (b->pat || b->emt)
		return -EOPNOTSUPP;
	if (b->vtd_flags & NEST_VTD_SRE)
		s1.flags |= IOMMU_VTD_S1_SRE;
	if (b->vtd_flags & NEST_VTD_EAFE)
		s1.flags |= IOMMU_VTD_S1_EAFE;
	if (b->vtd_flags & NEST_VTD_WPE)
		s1.flags |= IOMMU_VTD_S1_WPE;
	memcpy(data, &s1, sizeof(s1));
	return 0;
}

/*
 * IOTLB/device-TLB at ADDR -> {addr, npages, LEAF}; at PASID or DOMAIN -> {0, U64_MAX} (the HWPT
 * is the PASID's, or each HWPT of the VM for DOMAIN). The device TLB follows the IOTLB
 * automatically with ATS. PASID-cache-only entries need no call: the host flushes the PASID
 * cache itself whenever it attaches, replaces or detaches a HWPT on a PASID.
 */
static int vtd_inv_entry(const struct nest_inv_entry *e, void *out)
{
	struct iommu_hwpt_vtd_s1_invalidate v = {.addr = 0, .npages = UINT64_MAX};

	if (!(e->cache & (NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB)))
		return 0;
	if (e->granularity == NEST_INV_GRANU_ADDR) {
		uint64_t bytes;

		if (__builtin_mul_overflow(e->granule_size, e->nb_granules, &bytes))
			return -EINVAL;
		v.addr = e->addr;
		v.npages = bytes >> 12;
		if (e->flags & NEST_INV_F_LEAF)
			v.flags = IOMMU_VTD_INV_FLAGS_LEAF;
	}
	memcpy(out, &v, sizeof(v));
	return 1;
}

/*
 * ---- the iommufd selftest mock (CONFIG_IOMMUFD_TEST) ----
 * Its nested HWPT holds four u32 "IOTLB" slots seeded from the HWPT data; an invalidation entry
 * clears one slot or all. nestd's generic forms map onto it as follows (documented, and what
 * the guest tests read back with IOMMU_TEST_OP_MD_CHECK_IOTLB):
 *   BIND: iotlb = low 32 bits of gpgd >> 12 (the guest table's page frame number)
 *   INVALIDATE ADDR: clear slot (addr >> 12) % 4; PASID or DOMAIN: clear all slots.
 */
static int mock_bind_data(const struct nest_be_bind *b, void *data)
{
	struct iommu_hwpt_selftest st = {.iotlb = (uint32_t)(b->gpgd >> 12)};

	memcpy(data, &st, sizeof(st));
	return 0;
}

static int mock_inv_entry(const struct nest_inv_entry *e, void *out)
{
	struct iommu_hwpt_invalidate_selftest st = {0};

	if (!(e->cache & (NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB)))
		return 0;
	if (e->granularity == NEST_INV_GRANU_ADDR)
		st.iotlb_id = (uint32_t)(e->addr >> 12) % MOCK_NESTED_DOMAIN_IOTLB_NUM;
	else
		st.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL;
	memcpy(out, &st, sizeof(st));
	return 1;
}

int ifd_native_size(const void *p, uint32_t len, uint32_t size)
{
	const uint8_t *b = p;

	if (len < size)
		return -EINVAL;
	for (uint32_t i = size; i < len; i++)
		if (b[i])
			return -E2BIG;
	return 0;
}

static int vtd_check_data(const void *data)
{
	struct iommu_hwpt_vtd_s1 s1;

	memcpy(&s1, data, sizeof(s1));
	if (s1.flags & ~(uint64_t)(IOMMU_VTD_S1_SRE | IOMMU_VTD_S1_EAFE | IOMMU_VTD_S1_WPE) ||
	    s1.__reserved)
		return -EOPNOTSUPP;
	if (s1.addr_width != 48 && s1.addr_width != 57)
		return -EINVAL;
	return (s1.pgtbl_addr & 4095) ? -EINVAL : 0;
}

static int vtd_check_entry(const void *entry)
{
	struct iommu_hwpt_vtd_s1_invalidate v;

	memcpy(&v, entry, sizeof(v));
	if ((v.flags & ~(uint32_t)IOMMU_VTD_INV_FLAGS_LEAF) || v.__reserved)
		return -EOPNOTSUPP;
	if ((v.addr & 4095) || v.npages == 0 || (v.npages == UINT64_MAX && v.addr))
		return -EINVAL;
	return 0;
}

static int mock_check_data(const void *data)
{
	struct iommu_hwpt_selftest st;

	memcpy(&st, data, sizeof(st));
	return st.pagetable_type ? -EOPNOTSUPP : 0; /* only paging HWPTs have a table type */
}

static int mock_check_entry(const void *entry)
{
	struct iommu_hwpt_invalidate_selftest st;

	memcpy(&st, entry, sizeof(st));
	if (st.flags & ~(uint32_t)IOMMU_TEST_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	return st.iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX ? -EINVAL : 0;
}

static const struct ifd_format ifd_formats[] = {
	{
		.hw_type = IOMMU_HW_INFO_TYPE_INTEL_VTD,
		.name = "intel-vtd",
		.nest_formats = NEST_FORMAT_VTD_FL,
		.addr_widths = NEST_ADDR_WIDTH_48 | NEST_ADDR_WIDTH_57,
		.hwpt_data_type = IOMMU_HWPT_DATA_VTD_S1,
		.hwpt_data_len = sizeof(struct iommu_hwpt_vtd_s1),
		.inv_data_type = IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
		.inv_entry_len = sizeof(struct iommu_hwpt_vtd_s1_invalidate),
		.bind_data = vtd_bind_data,
		.inv_entry = vtd_inv_entry,
		.check_data = vtd_check_data,
		.check_entry = vtd_check_entry,
	},
	{
		.hw_type = IOMMU_HW_INFO_TYPE_SELFTEST,
		.name = "selftest",
		.nest_formats = NEST_FORMAT_VTD_FL, /* the generic form, mapped as above */
		.addr_widths = NEST_ADDR_WIDTH_48 | NEST_ADDR_WIDTH_57,
		.hwpt_data_type = IOMMU_HWPT_DATA_SELFTEST,
		.hwpt_data_len = sizeof(struct iommu_hwpt_selftest),
		.inv_data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.inv_entry_len = sizeof(struct iommu_hwpt_invalidate_selftest),
		.bind_data = mock_bind_data,
		.inv_entry = mock_inv_entry,
		.check_data = mock_check_data,
		.check_entry = mock_check_entry,
	},
};

_Static_assert(sizeof(struct iommu_hwpt_vtd_s1_invalidate) <= IFD_INV_ENTRY_MAX, "entry size");

const struct ifd_format *ifd_format_find(uint32_t hw_type)
{
	for (size_t i = 0; i < sizeof(ifd_formats) / sizeof(ifd_formats[0]); i++)
		if (ifd_formats[i].hw_type == hw_type)
			return &ifd_formats[i];
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * viommu-formats.c - the vIOMMU rows of the iommufd format table, keyed by the vIOMMU type: the
 * IOMMU kind it needs, its invalidation entries (where each entry names a virtual device, which
 * nestd checks against the VM's own vDEVICEs before the kernel sees it), and its vEVENTQ
 * records. Arm SMMUv3 is the shape this exists for; the selftest mock is what runs here.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "iommufd-internal.h"
#include "iommufd-test.h"
#include "iommufd.h"

/* ---- selftest: entry {flags, vdev_id, cache_id}, event {virt_id} ---- */

static int mock_vi_check(const void *entry, bool *has_vdev, uint64_t *vdev)
{
	struct iommu_viommu_invalidate_selftest e;

	memcpy(&e, entry, sizeof(e));
	if (e.flags & ~(uint32_t)IOMMU_TEST_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	if (e.cache_id > MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;
	*has_vdev = true;
	*vdev = e.vdev_id;
	return 0;
}

/*
 * ---- Arm SMMUv3: a raw CMDQ command (two little-endian u64) ----
 * The commands the kernel accepts from a guest (arm_vsmmu_convert_user_cmd(), Linux 7.3); the
 * CFGI and ATC ones carry a virtual StreamID in bits 63:32 of word 0, which must be one of the
 * VM's vDEVICEs (the kernel translates it through the vIOMMU; nestd refuses a foreign one early).
 */
#define SMMU_OP_CFGI_CD	      0x05
#define SMMU_OP_CFGI_CD_ALL   0x06
#define SMMU_OP_TLBI_NH_ALL   0x10
#define SMMU_OP_TLBI_NH_ASID  0x11
#define SMMU_OP_TLBI_NH_VA    0x12
#define SMMU_OP_TLBI_NH_VAA   0x13
#define SMMU_OP_TLBI_NSNH_ALL 0x30
#define SMMU_OP_ATC_INV	      0x40

static int smmu_vi_check(const void *entry, bool *has_vdev, uint64_t *vdev)
{
	struct iommu_viommu_arm_smmuv3_invalidate c;
	uint64_t w0;

	memcpy(&c, entry, sizeof(c));
	w0 = le64toh(c.cmd[0]);
	*has_vdev = false;
	switch (w0 & 0xff) {
	case SMMU_OP_TLBI_NSNH_ALL:
	case SMMU_OP_TLBI_NH_ALL:
	case SMMU_OP_TLBI_NH_ASID:
	case SMMU_OP_TLBI_NH_VA:
	case SMMU_OP_TLBI_NH_VAA:
		return 0;
	case SMMU_OP_ATC_INV:
	case SMMU_OP_CFGI_CD:
	case SMMU_OP_CFGI_CD_ALL:
		*has_vdev = true;
		*vdev = w0 >> 32;
		return 0;
	default:
		return -EOPNOTSUPP; /* the kernel answers EIO; nestd says what it is */
	}
}

static const struct ifd_viommu_format ifd_viommu_formats[] = {
	{
		.viommu_type = IOMMU_VIOMMU_TYPE_SELFTEST,
		.hw_type = IOMMU_HW_INFO_TYPE_SELFTEST,
		.name = "selftest",
		.inv_data_type = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
		.inv_entry_len = sizeof(struct iommu_viommu_invalidate_selftest),
		.veventq_type = IOMMU_VEVENTQ_TYPE_SELFTEST,
		.vevent_len = sizeof(struct iommu_viommu_event_selftest),
		.check_entry = mock_vi_check,
	},
	{
		.viommu_type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.hw_type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
		.name = "arm-smmuv3",
		.inv_data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.inv_entry_len = sizeof(struct iommu_viommu_arm_smmuv3_invalidate),
		.veventq_type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.vevent_len = sizeof(struct iommu_vevent_arm_smmuv3),
		.check_entry = smmu_vi_check,
	},
};

const struct ifd_viommu_format *ifd_viommu_format_find(uint32_t viommu_type)
{
	for (size_t i = 0; i < sizeof(ifd_viommu_formats) / sizeof(ifd_viommu_formats[0]); i++)
		if (ifd_viommu_formats[i].viommu_type == viommu_type)
			return &ifd_viommu_formats[i];
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * vfio-nesting.h - the VFIO type1 nesting uAPI of the seed series, written for nestd.
 *
 * Sources (facts only, no header text copied; see kernel/uapi/README.md):
 *   - seed v7: "vfio: expose virtual Shared Virtual Addressing to VMs" (Liu Yi L, v7, 10 Sep 2020),
 *     patches 01 (struct iommu_nesting_info), 03 (VFIO_IOMMU_TYPE1_INFO_CAP_NESTING),
 *     07 (VFIO_IOMMU_PASID_REQUEST), 10 (VFIO_IOMMU_NESTING_OP, BIND/UNBIND_PGTBL),
 *     11 (NESTING_OP CACHE_INVLD). Never merged into mainline.
 *   - Linux v5.10 include/uapi/linux/iommu.h: struct iommu_gpasid_bind_data and
 *     struct iommu_cache_invalidate_info in their argsz-first layouts (v5.10 .. v5.14; removed in
 *     v5.15). The v5.8/v5.9 layouts without argsz have different offsets and are NOT these.
 *
 * ioctl number collisions (UAPI-FACTS.md section 0): VFIO_IOMMU_PASID_REQUEST (0x3B76) and
 * VFIO_IOMMU_NESTING_OP (0x3B77) are issued on a VFIO *container* fd. Mainline reuses the same
 * numbers for VFIO_DEVICE_BIND_IOMMUFD / VFIO_DEVICE_ATTACH_IOMMUFD_PT on a *device* fd (see
 * vfio-cdev.h) and for VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY / VFIO_IOMMU_SPAPR_TCE_CREATE on a
 * container fd. Dispatch on (fd kind, number), never on the number alone, and never send these
 * to a kernel that has not been probed to be a seed kernel.
 *
 * Names are the kernel's, except the NEST_* constants, which are nestd's own.
 */
#ifndef NEST_UAPI_VFIO_NESTING_H
#define NEST_UAPI_VFIO_NESTING_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h> /* VFIO_TYPE, VFIO_BASE, struct vfio_info_cap_header */

#include "uapi-assert.h"

/* Refuse to mix with a v5.10..v5.14 <linux/iommu.h>, which defines the same structs. */
#if defined(IOMMU_GPASID_BIND_VERSION_1) || defined(IOMMU_CACHE_INVALIDATE_INFO_VERSION_1)
#error "an old <linux/iommu.h> (v5.8..v5.14) is included: include kernel/uapi/vfio-nesting.h instead"
#endif

/*
 * The kernel-internal errno ENOTSUPP (include/linux/errno.h; not in userspace <errno.h>). Seed
 * kernels can return -ENOTSUPP from nesting paths (UAPI-FACTS.md section 0: v3's BIND_PGTBL
 * feature check; in v7 patch 10 that check returns -EOPNOTSUPP); nestd maps 524 to EOPNOTSUPP
 * before it reaches a client.
 */
#define NEST_ENOTSUPP 524

/*
 * VFIO_SET_IOMMU type for nesting ("Implies v2"). <linux/vfio.h> of Debian 12 (6.1) defines it;
 * from about v6.13 mainline only keeps the number as __VFIO_RESERVED_TYPE1_NESTING_IOMMU, where
 * SET_IOMMU(6) behaves as TYPE1v2 and CHECK_EXTENSION(6) returns 0.
 */
#ifndef VFIO_TYPE1_NESTING_IOMMU
#define VFIO_TYPE1_NESTING_IOMMU 6
#endif
NEST_UAPI_VALUE(VFIO_TYPE1_NESTING_IOMMU, 6);

/* ---- struct iommu_nesting_info (seed v7 patch 01) ------------------------------------------ */

/*
 * VT-d part of the nesting info: the raw VT-d CAP and ECAP registers. The seed leaves a 4-byte
 * hole after @flags; here it is the explicit @__reserved, at the same offsets.
 */
struct iommu_nesting_info_vtd {
	__u32 flags; /* reserved, 0 */
	__u32 __reserved;
	__u64 cap_reg;
	__u64 ecap_reg;
};

/* iommu_nesting_info.features: what userspace MUST do to use nesting */
#define IOMMU_NESTING_FEAT_SYSWIDE_PASID (1 << 0) /* allocate PASIDs via VFIO_IOMMU_PASID_REQUEST */
#define IOMMU_NESTING_FEAT_BIND_PGTBL	 (1 << 1) /* bind stage-1 tables per PASID (NESTING_OP) */
#define IOMMU_NESTING_FEAT_CACHE_INVLD	 (1 << 2) /* forward stage-1 invalidations (NESTING_OP) */

struct iommu_nesting_info {
	__u32 argsz;	  /* size of the whole struct (was "size" before v6) */
	__u32 flags;	  /* reserved, 0 */
	__u32 format;	  /* IOMMU_PASID_FORMAT_*, selects @vendor */
	__u32 features;	  /* IOMMU_NESTING_FEAT_* */
	__u16 addr_width; /* output address width of the stage-1 table */
	__u16 pasid_bits; /* 0: no PASID support */
	__u8 padding[12]; /* 0 */
	union {
		struct iommu_nesting_info_vtd vtd;
	} vendor;
};

/* ---- VFIO_IOMMU_GET_INFO nesting capability (seed v7 patch 03) ---------------------------- */

/*
 * Capability id collision: the seed (v5..v7) gives the nesting cap id 3, but mainline v5.10 merged
 * VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL with id 3 (struct vfio_iommu_type1_info_dma_avail, 12 bytes),
 * and every mainline type1 container reports it. Later rebases of the seed moved the nesting cap
 * to id 4. A probe must therefore not trust id 3 alone: it is the nesting cap only on a kernel
 * already identified as a v7 seed kernel, after SET_IOMMU(VFIO_TYPE1_NESTING_IOMMU) and a group
 * attach, and the cap must be long enough (header + 56 bytes, info.argsz >= 56, format != 0).
 */
#define NEST_VFIO_CAP_NESTING_ID_V7	  3 /* seed v5..v7 */
#define NEST_VFIO_CAP_NESTING_ID_REBASED  4 /* later rebases of the seed */
#define VFIO_IOMMU_TYPE1_INFO_CAP_NESTING NEST_VFIO_CAP_NESTING_ID_V7
#ifdef VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL
NEST_UAPI_VALUE(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, NEST_VFIO_CAP_NESTING_ID_V7); /* the collision */
#endif

struct vfio_iommu_type1_info_cap_nesting {
	struct vfio_info_cap_header header; /* id = 3 (v7), version = 1 */
	struct iommu_nesting_info info;
};

/* ---- VFIO_IOMMU_PASID_REQUEST (seed v7 patch 07), container fd ---------------------------- */

#define VFIO_IOMMU_FLAG_ALLOC_PASID (1 << 0)
#define VFIO_IOMMU_FLAG_FREE_PASID  (1 << 1)
#define VFIO_PASID_REQUEST_MASK	    (VFIO_IOMMU_FLAG_ALLOC_PASID | VFIO_IOMMU_FLAG_FREE_PASID)
/* min and max are limited to 31 bits (the allocated PASID is the ioctl's int return value) */
#define VFIO_IOMMU_PASID_BITS	    31

/*
 * ALLOC: allocate one PASID in [min, max] (inclusive); the PASID is the ioctl return value.
 * FREE: free every PASID of the caller's mm in [min, max]; returns 0. ALLOC and FREE exclude
 * each other. minsz = offsetofend(range) = 16.
 */
struct vfio_iommu_type1_pasid_request {
	__u32 argsz;
	__u32 flags; /* exactly one of VFIO_IOMMU_FLAG_{ALLOC,FREE}_PASID */
	struct {
		__u32 min;
		__u32 max;
	} range;
};

#define VFIO_IOMMU_PASID_REQUEST _IO(VFIO_TYPE, VFIO_BASE + 18) /* 0x3B76 */

/* ---- VFIO_IOMMU_NESTING_OP (seed v7 patches 10, 11), container fd ------------------------- */

/*
 * flags: the low 16 bits hold the op; the high 16 bits are reserved (EINVAL if set).
 * data[]: the op's payload, at offset 8 so that it is 8-byte aligned.
 *   BIND_PGTBL, UNBIND_PGTBL   struct iommu_gpasid_bind_data (UNBIND uses only hpasid)
 *   CACHE_INVLD                struct iommu_cache_invalidate_info
 * minsz = offsetofend(flags) = 8.
 */
struct vfio_iommu_type1_nesting_op {
	__u32 argsz; /* header + payload */
	__u32 flags;
	__u8 data[];
};

#define VFIO_NESTING_OP_MASK 0xffff

enum {
	VFIO_IOMMU_NESTING_OP_BIND_PGTBL = 0,
	VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL = 1,
	VFIO_IOMMU_NESTING_OP_CACHE_INVLD = 2,
	VFIO_IOMMU_NESTING_OP_NUM = 3, /* ops >= NUM: EINVAL */
};

#define VFIO_IOMMU_NESTING_OP _IO(VFIO_TYPE, VFIO_BASE + 19) /* 0x3B77 */

/* ---- struct iommu_gpasid_bind_data (Linux v5.10 include/uapi/linux/iommu.h) --------------- */

/* VT-d PASID-entry attributes a guest may pass down (iommu_gpasid_bind_data_vtd.flags) */
#define IOMMU_SVA_VTD_GPASID_SRE  (1 << 0) /* supervisor request enable */
#define IOMMU_SVA_VTD_GPASID_EAFE (1 << 1) /* extended access flag enable */
#define IOMMU_SVA_VTD_GPASID_PCD  (1 << 2) /* page-level cache disable */
#define IOMMU_SVA_VTD_GPASID_PWT  (1 << 3) /* page-level write-through */
#define IOMMU_SVA_VTD_GPASID_EMTE (1 << 4) /* extended memory type enable */
#define IOMMU_SVA_VTD_GPASID_CD	  (1 << 5) /* PASID-level cache disable */
#define IOMMU_SVA_VTD_GPASID_WPE  (1 << 6) /* write-protect enable (v5.10) */
#define IOMMU_SVA_VTD_GPASID_LAST (1 << 7) /* flags >= LAST are invalid */
/* the memory-type bits, which need EMTS support */
#define IOMMU_SVA_VTD_GPASID_MTS_MASK                                                              \
	(IOMMU_SVA_VTD_GPASID_CD | IOMMU_SVA_VTD_GPASID_EMTE | IOMMU_SVA_VTD_GPASID_PCD |          \
	 IOMMU_SVA_VTD_GPASID_PWT)

struct iommu_gpasid_bind_data_vtd {
	__u64 flags; /* IOMMU_SVA_VTD_GPASID_* */
	__u32 pat;   /* page attribute table, for the effective memory type */
	__u32 emt;   /* extended memory type */
};

#define IOMMU_GPASID_BIND_VERSION_1  1
#define IOMMU_PASID_FORMAT_INTEL_VTD 1
#define IOMMU_PASID_FORMAT_LAST	     2	      /* format must be < LAST */
#define IOMMU_SVA_GPASID_VAL	     (1 << 0) /* flags: gpasid is valid */

struct iommu_gpasid_bind_data {
	__u32 argsz;	  /* >= 56 (offsetof(vendor)); VT-d needs >= 72 */
	__u32 version;	  /* IOMMU_GPASID_BIND_VERSION_1 */
	__u32 format;	  /* IOMMU_PASID_FORMAT_* */
	__u32 addr_width; /* guest VA width: 48 or 57 on VT-d */
	__u64 flags;	  /* IOMMU_SVA_GPASID_VAL */
	__u64 gpgd;	  /* GPA of the guest page directory (guest CR3) */
	__u64 hpasid;	  /* host PASID, allocated to this caller */
	__u64 gpasid;	  /* guest PASID, if IOMMU_SVA_GPASID_VAL */
	__u8 padding[8];  /* 0 */
	union {
		struct iommu_gpasid_bind_data_vtd vtd;
	} vendor;
};

/* argsz minimums the v5.10 IOMMU core / VT-d driver enforce (nestd names) */
#define NEST_GPASID_BIND_MINSZ	   56 /* offsetof(struct iommu_gpasid_bind_data, vendor) */
#define NEST_GPASID_BIND_VTD_MINSZ 72 /* offsetofend(..., vendor.vtd) */

/* ---- struct iommu_cache_invalidate_info (Linux v5.10 include/uapi/linux/iommu.h) ---------- */

/* iommu_cache_invalidate_info.cache: a bitmask of cache types */
#define IOMMU_CACHE_INV_TYPE_IOTLB     (1 << 0) /* IOMMU IOTLB */
#define IOMMU_CACHE_INV_TYPE_DEV_IOTLB (1 << 1) /* device IOTLB (ATS) */
#define IOMMU_CACHE_INV_TYPE_PASID     (1 << 2) /* PASID cache */
#define IOMMU_CACHE_INV_TYPE_NR	       3	/* bits >= (1 << NR) are invalid */

/* iommu_cache_invalidate_info.granularity */
enum iommu_inv_granularity {
	IOMMU_INV_GRANU_DOMAIN = 0, /* no argument */
	IOMMU_INV_GRANU_PASID = 1,  /* granu.pasid_info */
	IOMMU_INV_GRANU_ADDR = 2,   /* granu.addr_info */
	IOMMU_INV_GRANU_NR = 3,
};

#define IOMMU_INV_PASID_FLAGS_PASID  (1 << 0)
#define IOMMU_INV_PASID_FLAGS_ARCHID (1 << 1)

struct iommu_inv_pasid_info {
	__u32 flags; /* IOMMU_INV_PASID_FLAGS_*, at least one */
	__u32 archid;
	__u64 pasid;
};

#define IOMMU_INV_ADDR_FLAGS_PASID  (1 << 0)
#define IOMMU_INV_ADDR_FLAGS_ARCHID (1 << 1)
#define IOMMU_INV_ADDR_FLAGS_LEAF   (1 << 2) /* only the leaf PTE caches */

struct iommu_inv_addr_info {
	__u32 flags; /* IOMMU_INV_ADDR_FLAGS_* */
	__u32 archid;
	__u64 pasid;
	__u64 addr;	    /* stage-1 input address */
	__u64 granule_size; /* bytes */
	__u64 nb_granules;
};

#define IOMMU_CACHE_INVALIDATE_INFO_VERSION_1 1

struct iommu_cache_invalidate_info {
	__u32 argsz;	  /* >= 16; PASID granularity >= 32; ADDR >= 56 */
	__u32 version;	  /* IOMMU_CACHE_INVALIDATE_INFO_VERSION_1 */
	__u8 cache;	  /* IOMMU_CACHE_INV_TYPE_* */
	__u8 granularity; /* enum iommu_inv_granularity */
	__u8 padding[6];  /* 0 */
	union {
		struct iommu_inv_pasid_info pasid_info;
		struct iommu_inv_addr_info addr_info;
	} granu;
};

/* argsz minimums of the v5.10 IOMMU core (nestd names) */
#define NEST_CACHE_INV_MINSZ	   16 /* offsetof(granu) */
#define NEST_CACHE_INV_PASID_MINSZ 32 /* offsetofend(granu.pasid_info) */
#define NEST_CACHE_INV_ADDR_MINSZ  56 /* offsetofend(granu.addr_info) */

/* ---- layout checks ------------------------------------------------------------------------ */

NEST_UAPI_VALUE(VFIO_IOMMU_PASID_REQUEST, 0x3B76);
NEST_UAPI_VALUE(VFIO_IOMMU_NESTING_OP, 0x3B77);

NEST_UAPI_SIZE(struct iommu_nesting_info_vtd, 24, 8);
NEST_UAPI_FIELD(struct iommu_nesting_info_vtd, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_nesting_info_vtd, __reserved, 4, 4);
NEST_UAPI_FIELD(struct iommu_nesting_info_vtd, cap_reg, 8, 8);
NEST_UAPI_FIELD(struct iommu_nesting_info_vtd, ecap_reg, 16, 8);

NEST_UAPI_SIZE(struct iommu_nesting_info, 56, 8);
NEST_UAPI_FIELD(struct iommu_nesting_info, argsz, 0, 4);
NEST_UAPI_FIELD(struct iommu_nesting_info, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_nesting_info, format, 8, 4);
NEST_UAPI_FIELD(struct iommu_nesting_info, features, 12, 4);
NEST_UAPI_FIELD(struct iommu_nesting_info, addr_width, 16, 2);
NEST_UAPI_FIELD(struct iommu_nesting_info, pasid_bits, 18, 2);
NEST_UAPI_FIELD(struct iommu_nesting_info, padding, 20, 12);
NEST_UAPI_FIELD(struct iommu_nesting_info, vendor, 32, 24);
NEST_UAPI_FIELD(struct iommu_nesting_info, vendor.vtd, 32, 24);

NEST_UAPI_SIZE(struct vfio_iommu_type1_info_cap_nesting, 64, 8);
NEST_UAPI_FIELD(struct vfio_iommu_type1_info_cap_nesting, header, 0, 8);
NEST_UAPI_FIELD(struct vfio_iommu_type1_info_cap_nesting, header.id, 0, 2);
NEST_UAPI_FIELD(struct vfio_iommu_type1_info_cap_nesting, header.version, 2, 2);
NEST_UAPI_FIELD(struct vfio_iommu_type1_info_cap_nesting, header.next, 4, 4);
NEST_UAPI_FIELD(struct vfio_iommu_type1_info_cap_nesting, info, 8, 56);

NEST_UAPI_SIZE(struct vfio_iommu_type1_pasid_request, 16, 4);
NEST_UAPI_FIELD(struct vfio_iommu_type1_pasid_request, argsz, 0, 4);
NEST_UAPI_FIELD(struct vfio_iommu_type1_pasid_request, flags, 4, 4);
NEST_UAPI_FIELD(struct vfio_iommu_type1_pasid_request, range, 8, 8);
NEST_UAPI_FIELD(struct vfio_iommu_type1_pasid_request, range.min, 8, 4);
NEST_UAPI_FIELD(struct vfio_iommu_type1_pasid_request, range.max, 12, 4);

NEST_UAPI_SIZE(struct vfio_iommu_type1_nesting_op, 8, 4);
NEST_UAPI_FIELD(struct vfio_iommu_type1_nesting_op, argsz, 0, 4);
NEST_UAPI_FIELD(struct vfio_iommu_type1_nesting_op, flags, 4, 4);
NEST_UAPI_FLEX(struct vfio_iommu_type1_nesting_op, data, 8);

NEST_UAPI_SIZE(struct iommu_gpasid_bind_data_vtd, 16, 8);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data_vtd, flags, 0, 8);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data_vtd, pat, 8, 4);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data_vtd, emt, 12, 4);

NEST_UAPI_SIZE(struct iommu_gpasid_bind_data, 72, 8);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, argsz, 0, 4);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, version, 4, 4);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, format, 8, 4);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, addr_width, 12, 4);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, flags, 16, 8);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, gpgd, 24, 8);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, hpasid, 32, 8);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, gpasid, 40, 8);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, padding, 48, 8);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, vendor, 56, 16);
NEST_UAPI_FIELD(struct iommu_gpasid_bind_data, vendor.vtd, 56, 16);
NEST_UAPI_VALUE(NEST_GPASID_BIND_MINSZ, offsetof(struct iommu_gpasid_bind_data, vendor));
NEST_UAPI_VALUE(NEST_GPASID_BIND_VTD_MINSZ, sizeof(struct iommu_gpasid_bind_data));

NEST_UAPI_SIZE(struct iommu_inv_pasid_info, 16, 8);
NEST_UAPI_FIELD(struct iommu_inv_pasid_info, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_inv_pasid_info, archid, 4, 4);
NEST_UAPI_FIELD(struct iommu_inv_pasid_info, pasid, 8, 8);

NEST_UAPI_SIZE(struct iommu_inv_addr_info, 40, 8);
NEST_UAPI_FIELD(struct iommu_inv_addr_info, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_inv_addr_info, archid, 4, 4);
NEST_UAPI_FIELD(struct iommu_inv_addr_info, pasid, 8, 8);
NEST_UAPI_FIELD(struct iommu_inv_addr_info, addr, 16, 8);
NEST_UAPI_FIELD(struct iommu_inv_addr_info, granule_size, 24, 8);
NEST_UAPI_FIELD(struct iommu_inv_addr_info, nb_granules, 32, 8);

NEST_UAPI_SIZE(struct iommu_cache_invalidate_info, 56, 8);
NEST_UAPI_FIELD(struct iommu_cache_invalidate_info, argsz, 0, 4);
NEST_UAPI_FIELD(struct iommu_cache_invalidate_info, version, 4, 4);
NEST_UAPI_FIELD(struct iommu_cache_invalidate_info, cache, 8, 1);
NEST_UAPI_FIELD(struct iommu_cache_invalidate_info, granularity, 9, 1);
NEST_UAPI_FIELD(struct iommu_cache_invalidate_info, padding, 10, 6);
NEST_UAPI_FIELD(struct iommu_cache_invalidate_info, granu, 16, 40);
NEST_UAPI_FIELD(struct iommu_cache_invalidate_info, granu.pasid_info, 16, 16);
NEST_UAPI_FIELD(struct iommu_cache_invalidate_info, granu.addr_info, 16, 40);
NEST_UAPI_VALUE(NEST_CACHE_INV_MINSZ, offsetof(struct iommu_cache_invalidate_info, granu));
NEST_UAPI_VALUE(NEST_CACHE_INV_PASID_MINSZ, offsetof(struct iommu_cache_invalidate_info, granu) +
						    sizeof(struct iommu_inv_pasid_info));
NEST_UAPI_VALUE(NEST_CACHE_INV_ADDR_MINSZ, sizeof(struct iommu_cache_invalidate_info));

#endif /* NEST_UAPI_VFIO_NESTING_H */

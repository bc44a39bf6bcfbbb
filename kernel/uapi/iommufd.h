/* SPDX-License-Identifier: MIT */
/*
 * iommufd.h - the iommufd uAPI (/dev/iommu) as of Linux 7.3, written for nestd.
 *
 * Source: Linux 7.3 include/uapi/linux/iommufd.h (Debian linux-source-7.3 7.3.4-1~bpo13+1), facts
 * only; every struct below is checked field by field against that header (kernel/uapi/README.md).
 * Debian 12 (linux-libc-dev 6.1) has no <linux/iommufd.h>, so the kernel's names are used as is.
 *
 * Include guard: this header also defines the kernel's guards, _UAPI_IOMMUFD_H (in-tree name) and
 * _IOMMUFD_H (the name after `make headers_install`, which strips "_UAPI"), so that a later
 * #include <linux/iommufd.h> on a newer system is a no-op. Including a system <linux/iommufd.h>
 * *before* this one is an error: the two would define the same structs.
 *
 * General rules (7.3 "General ioctl format", drivers/iommu/iommufd/main.c):
 *   - every ioctl is _IO(';', nr): no size or direction bits; the first __u32 is `size`.
 *   - size < the op's minimum: EINVAL. Bytes beyond what the kernel knows must be zero, else E2BIG;
 *     so passing sizeof() of these 7.3 structs to an older kernel works while the new fields are 0.
 *   - ENOTTY unknown ioctl, EOPNOTSUPP known field with an unsupported value, EINVAL wrong value,
 *     ENOENT no such ID/IOVA, ENOMEM, EOVERFLOW; some ioctls add their own (EMSGSIZE, EIO, ...).
 *   - objects are __u32 IDs within one iommufd; closing the fd destroys them all.
 * Note: IOMMUFD_TYPE is ';', the same magic as VFIO; 0x3B80.. do not collide with VFIO numbers.
 */
#ifndef NEST_UAPI_IOMMUFD_H
#define NEST_UAPI_IOMMUFD_H

#if defined(_UAPI_IOMMUFD_H) || defined(_IOMMUFD_H)
#error "<linux/iommufd.h> is already included: include kernel/uapi/iommufd.h first, or instead"
#endif
#define _UAPI_IOMMUFD_H
#define _IOMMUFD_H

#include <linux/types.h>
#include <linux/ioctl.h>

#include "uapi-assert.h"

#define IOMMUFD_TYPE (';')

enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = 0x80,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
	IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA = 0x95, /* new in 7.x */
};

/* ---- IOMMU_DESTROY ------------------------------------------------------------------------ */

/* Destroy any destroyable object by ID. */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/* ---- IOAS: the kernel-managed (stage-2) address space -------------------------------------- */

struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags; /* 0 */
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/* one inclusive IOVA range */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/*
 * The IOVA ranges usable for mapping now. They narrow on every attach: requery after each attach
 * or detach. If num_iovas is too small the call fails with EMSGSIZE and sets num_iovas.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas; /* in: array length; out: number of ranges */
	__u32 __reserved;
	__aligned_u64 allowed_iovas; /* user pointer to struct iommu_iova_range[num_iovas] */
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/* Pin a set of IOVA ranges that later attaches may not narrow away. */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas; /* user pointer to struct iommu_iova_range[num_iovas] */
};
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0, /* use iova as given (the range must be unused) */
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/*
 * Map user memory (pinned with GUP: a VM_PFNMAP range such as a PCI BAR gives EFAULT). Without
 * FIXED_IOVA the kernel picks the IOVA and returns it in iova.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags; /* enum iommufd_ioas_map_flags */
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova; /* in (FIXED_IOVA) / out */
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/* Map a range of a file (a memfd) by offset; no virtual address involved. Same flags as MAP. */
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags; /* enum iommufd_ioas_map_flags */
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start; /* file offset */
	__aligned_u64 length;
	__aligned_u64 iova; /* in (FIXED_IOVA) / out */
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/* Copy a mapping (sharing its pins) from one IOAS to another. Same flags as MAP. */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags; /* enum iommufd_ioas_map_flags */
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova; /* in (FIXED_IOVA) / out */
	__aligned_u64 src_iova;
};
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/*
 * Unmap whole earlier mappings inside [iova, iova + length) (no splitting); iova 0 with length
 * UINT64_MAX unmaps everything. length returns the bytes unmapped.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length; /* in / out */
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/* ---- IOMMU_OPTION ------------------------------------------------------------------------- */

enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0, /* global, object_id 0, needs CAP_SYS_RESOURCE to set;
				       * 0 per-user accounting, 1 per-process */
	IOMMU_OPTION_HUGE_PAGES = 1,  /* per IOAS */
};

enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

struct iommu_option {
	__u32 size;
	__u32 option_id; /* enum iommufd_option */
	__u16 op;	 /* enum iommufd_option_ops */
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64; /* in (SET) / out (GET) */
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/* ---- IOMMU_VFIO_IOAS: the IOAS behind the VFIO container compatibility layer -------------- */

enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id; /* in (SET) / out (GET) */
	__u16 op;      /* enum iommufd_vfio_ioas_op */
	__u16 __reserved;
};
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/* ---- IOMMU_HWPT_ALLOC --------------------------------------------------------------------- */

enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1
				       << 0, /* may be a stage-2 parent: pt_id = IOAS, data NONE */
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1, /* not for a nested (user-managed) HWPT */
	IOMMU_HWPT_FAULT_ID_VALID = 1
				    << 2, /* fault_id names a FAULT object; not with NEST_PARENT */
	IOMMU_HWPT_ALLOC_PASID = 1
				 << 3, /* attachable to PASIDs; every domain on the RID needs it */
};

/* IOMMU_HWPT_DATA_VTD_S1: a VT-d stage-1 table (successor of iommu_gpasid_bind_data) */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,  /* supervisor request */
	IOMMU_VTD_S1_EAFE = 1 << 1, /* extended access enable */
	IOMMU_VTD_S1_WPE = 1 << 2,  /* write-protect enable */
};

struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;	  /* enum iommu_hwpt_vtd_s1_flags */
	__aligned_u64 pgtbl_addr; /* GPA of the stage-1 table base */
	__u32 addr_width;	  /* 48 or 57 */
	__u32 __reserved;
};

/* IOMMU_HWPT_DATA_ARM_SMMUV3: words 0..1 of a guest STE (little-endian) */
struct iommu_hwpt_arm_smmuv3 {
	__aligned_le64 ste[2];
};

/* IOMMU_HWPT_DATA_AMD_GUEST: a guest Device Table Entry (new in 7.x) */
struct iommu_hwpt_amd_guest {
	__aligned_u64 dte[4];
};

enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,	/* data_len and data_uptr 0 */
	IOMMU_HWPT_DATA_VTD_S1 = 1,	/* struct iommu_hwpt_vtd_s1 */
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2, /* struct iommu_hwpt_arm_smmuv3 */
	IOMMU_HWPT_DATA_AMD_GUEST = 3,	/* struct iommu_hwpt_amd_guest */
};

/*
 * pt_id: an IOAS (kernel-managed HWPT, data_type NONE), or a NEST_PARENT HWPT or a vIOMMU (nested,
 * user-managed HWPT with a data_type; dev_id must sit on the same IOMMU instance).
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags; /* enum iommufd_hwpt_alloc_flags */
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type; /* enum iommu_hwpt_data_type */
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id; /* if IOMMU_HWPT_FAULT_ID_VALID */
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/* ---- IOMMU_GET_HW_INFO -------------------------------------------------------------------- */

enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0, /* no read-only maps on a nest parent */
};

/* IOMMU_HW_INFO_TYPE_INTEL_VTD: the raw VT-d CAP and ECAP registers */
struct iommu_hw_info_vtd {
	__u32 flags; /* enum iommu_hw_info_vtd_flags */
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

enum iommu_hw_info_arm_smmuv3_flags {
	IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI = 1 << 0, /* issue TLBI/CFGI+SYNC twice */
};

/* IOMMU_HW_INFO_TYPE_ARM_SMMUV3: raw SMMUv3 ID registers */
struct iommu_hw_info_arm_smmuv3 {
	__u32 flags; /* enum iommu_hw_info_arm_smmuv3_flags */
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};

/* IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV */
struct iommu_hw_info_tegra241_cmdqv {
	__u32 flags;
	__u8 version;
	__u8 log2vcmdqs;
	__u8 log2vsids;
	__u8 __reserved;
};

/* IOMMU_HW_INFO_TYPE_AMD: raw EFR and EFR2 registers (new in 7.x) */
struct iommu_hw_info_amd {
	__aligned_u64 efr;
	__aligned_u64 efr2;
};

enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
	IOMMU_HW_INFO_TYPE_AMD = 4,
	/* IOMMU_HW_INFO_TYPE_SELFTEST (0xfeedbeef) is in iommufd-test.h */
};

enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1, /* meaningful only if out_max_pasid_log2 != 0 */
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2, /* meaningful only if out_max_pasid_log2 != 0 */
	IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3, /* new in 7.x */
};

enum iommufd_hw_info_flags {
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0, /* in_data_type selects the type to report */
};

/*
 * data_len: in, the buffer length (0 allowed); out, the length the kernel supports. The kernel
 * zero-fills buffer bytes beyond its data.
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags; /* enum iommufd_hw_info_flags */
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	union {
		__u32 in_data_type;  /* with IOMMU_HW_INFO_FLAG_INPUT_TYPE */
		__u32 out_data_type; /* enum iommu_hw_info_type */
	};
	__u8 out_max_pasid_log2; /* 0: no PASID */
	__u8 __reserved[3];
	__aligned_u64 out_capabilities; /* enum iommufd_hw_capabilities */
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/* ---- dirty tracking ----------------------------------------------------------------------- */

enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data; /* user pointer to the bitmap */
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/* ---- IOMMU_HWPT_INVALIDATE ---------------------------------------------------------------- */

enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,	     /* struct iommu_hwpt_vtd_s1_invalidate */
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1, /* struct iommu_viommu_arm_smmuv3_invalidate */
};

enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/* addr 4 KiB aligned; addr 0 + npages UINT64_MAX invalidates everything */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags; /* enum iommu_hwpt_vtd_s1_invalidate_flags */
	__u32 __reserved;
};

/* a raw SMMUv3 CMDQ command (little-endian), translated through the vDEVICE vSIDs */
struct iommu_viommu_arm_smmuv3_invalidate {
	__aligned_le64 cmd[2];
};

/*
 * hwpt_id: a nested HWPT or a vIOMMU. data_uptr: an array of entry_num entries of entry_len bytes.
 * entry_num: in, the count; out, how many were handled (on error the ones before it are done).
 * entry_num 0 is allowed and probes whether data_type is supported.
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type; /* enum iommu_hwpt_invalidate_data_type */
	__u32 entry_len;
	__u32 entry_num; /* in / out */
	__u32 __reserved;
};
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/* ---- faults (IOPF): IOMMU_FAULT_QUEUE_ALLOC; read() pgfault records, write() responses ----- */

enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = 1 << 0,
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,
};

enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = 1 << 0,
	IOMMU_PGFAULT_PERM_WRITE = 1 << 1,
	IOMMU_PGFAULT_PERM_EXEC = 1 << 2,
	IOMMU_PGFAULT_PERM_PRIV = 1 << 3,
};

/* one fault record, read() from the fault fd */
struct iommu_hwpt_pgfault {
	__u32 flags; /* enum iommu_hwpt_pgfault_flags */
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm; /* enum iommu_hwpt_pgfault_perm */
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length; /* prefetch hint, 0 by default */
	__u32 cookie; /* echo the cookie of the group's last fault in the response */
};

enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/* one response, write() to the fault fd */
struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code; /* enum iommufd_page_response_code */
};

struct iommu_fault_alloc {
	__u32 size;
	__u32 flags; /* 0 */
	__u32 out_fault_id;
	__u32 out_fault_fd;
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/* ---- vIOMMU, vDEVICE ---------------------------------------------------------------------- */

enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2, /* data: struct iommu_viommu_tegra241_cmdqv */
	/* IOMMU_VIOMMU_TYPE_SELFTEST (0xdeadbeef) is in iommufd-test.h */
};

/* output data of a TEGRA241_CMDQV vIOMMU: where to mmap() VINTF page0 */
struct iommu_viommu_tegra241_cmdqv {
	__aligned_u64 out_vintf_mmap_offset;
	__aligned_u64 out_vintf_mmap_length;
};

struct iommu_viommu_alloc {
	__u32 size;
	__u32 flags; /* 0 */
	__u32 type;  /* enum iommu_viommu_type */
	__u32 dev_id;
	__u32 hwpt_id; /* a NEST_PARENT HWPT */
	__u32 out_viommu_id;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

/*
 * virt_id: the device's ID as the guest sees it (vSID on SMMUv3, vDeviceID on AMD, vRID on VT-d).
 * Destroy the vDEVICE before closing the VFIO device fd.
 */
struct iommu_vdevice_alloc {
	__u32 size;
	__u32 viommu_id;
	__u32 dev_id;
	__u32 out_vdevice_id;
	__aligned_u64 virt_id;
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)

/* Move the pin accounting of every MAP_FILE-only mapping to the calling process. */
struct iommu_ioas_change_process {
	__u32 size;
	__u32 __reserved;
};
#define IOMMU_IOAS_CHANGE_PROCESS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

/* ---- vEVENTQ: read() gives a header, then the type's event data --------------------------- */

enum iommu_veventq_flag {
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = 1U << 0, /* a header with no data: the queue overflowed */
};

/* sequence runs 0..INT_MAX and wraps; a gap means lost events */
struct iommufd_vevent_header {
	__u32 flags; /* enum iommu_veventq_flag */
	__u32 sequence;
};

enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,     /* struct iommu_vevent_arm_smmuv3 */
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2, /* struct iommu_vevent_tegra241_cmdqv */
	/* IOMMU_VEVENTQ_TYPE_SELFTEST (0xbeefbeef) is in iommufd-test.h */
};

/* a raw SMMUv3 event record (little-endian), vSID substituted */
struct iommu_vevent_arm_smmuv3 {
	__aligned_le64 evt[4];
};

struct iommu_vevent_tegra241_cmdqv {
	__aligned_le64 lvcmdq_err_map[2];
};

/* one queue of each type per vIOMMU */
struct iommu_veventq_alloc {
	__u32 size;
	__u32 flags; /* 0 */
	__u32 viommu_id;
	__u32 type; /* enum iommu_veventq_type */
	__u32 veventq_depth;
	__u32 out_veventq_id;
	__u32 out_veventq_fd;
	__u32 __reserved;
};
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)

/* ---- HW queue ----------------------------------------------------------------------------- */

enum iommu_hw_queue_type {
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0,
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
	/* IOMMU_HW_QUEUE_TYPE_SELFTEST (0xdeadbeef) is in iommufd-test.h */
};

struct iommu_hw_queue_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type; /* enum iommu_hw_queue_type */
	__u32 index;
	__u32 out_hw_queue_id;
	__aligned_u64 nesting_parent_iova; /* guest PA of the queue, mapped in the IOAS */
	__aligned_u64 length;
};
#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)

/* ---- IOMMU_IOAS_NOIOMMU_GET_PA (new in 7.x; for no-IOMMU devices doing unsafe DMA only) ---- */

struct iommu_ioas_noiommu_get_pa {
	__u32 size;
	__u32 flags; /* 0 */
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length; /* in: max bytes (non-zero); out: physically contiguous bytes */
	__aligned_u64 out_phys;
};
#define IOMMU_IOAS_NOIOMMU_GET_PA _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA)

/* ---- layout checks (x86-64; numbers measured on the 7.3 headers) -------------------------- */

NEST_UAPI_VALUE(IOMMU_DESTROY, 0x3B80);
NEST_UAPI_VALUE(IOMMU_IOAS_ALLOC, 0x3B81);
NEST_UAPI_VALUE(IOMMU_IOAS_ALLOW_IOVAS, 0x3B82);
NEST_UAPI_VALUE(IOMMU_IOAS_COPY, 0x3B83);
NEST_UAPI_VALUE(IOMMU_IOAS_IOVA_RANGES, 0x3B84);
NEST_UAPI_VALUE(IOMMU_IOAS_MAP, 0x3B85);
NEST_UAPI_VALUE(IOMMU_IOAS_UNMAP, 0x3B86);
NEST_UAPI_VALUE(IOMMU_OPTION, 0x3B87);
NEST_UAPI_VALUE(IOMMU_VFIO_IOAS, 0x3B88);
NEST_UAPI_VALUE(IOMMU_HWPT_ALLOC, 0x3B89);
NEST_UAPI_VALUE(IOMMU_GET_HW_INFO, 0x3B8A);
NEST_UAPI_VALUE(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3B8B);
NEST_UAPI_VALUE(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3B8C);
NEST_UAPI_VALUE(IOMMU_HWPT_INVALIDATE, 0x3B8D);
NEST_UAPI_VALUE(IOMMU_FAULT_QUEUE_ALLOC, 0x3B8E);
NEST_UAPI_VALUE(IOMMU_IOAS_MAP_FILE, 0x3B8F);
NEST_UAPI_VALUE(IOMMU_VIOMMU_ALLOC, 0x3B90);
NEST_UAPI_VALUE(IOMMU_VDEVICE_ALLOC, 0x3B91);
NEST_UAPI_VALUE(IOMMU_IOAS_CHANGE_PROCESS, 0x3B92);
NEST_UAPI_VALUE(IOMMU_VEVENTQ_ALLOC, 0x3B93);
NEST_UAPI_VALUE(IOMMU_HW_QUEUE_ALLOC, 0x3B94);
NEST_UAPI_VALUE(IOMMU_IOAS_NOIOMMU_GET_PA, 0x3B95);

NEST_UAPI_SIZE(struct iommu_destroy, 8, 4);
NEST_UAPI_FIELD(struct iommu_destroy, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_destroy, id, 4, 4);

NEST_UAPI_SIZE(struct iommu_ioas_alloc, 12, 4);
NEST_UAPI_FIELD(struct iommu_ioas_alloc, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_alloc, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_ioas_alloc, out_ioas_id, 8, 4);

NEST_UAPI_SIZE(struct iommu_iova_range, 16, 8);
NEST_UAPI_FIELD(struct iommu_iova_range, start, 0, 8);
NEST_UAPI_FIELD(struct iommu_iova_range, last, 8, 8);

NEST_UAPI_SIZE(struct iommu_ioas_iova_ranges, 32, 8);
NEST_UAPI_FIELD(struct iommu_ioas_iova_ranges, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_iova_ranges, ioas_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_ioas_iova_ranges, num_iovas, 8, 4);
NEST_UAPI_FIELD(struct iommu_ioas_iova_ranges, __reserved, 12, 4);
NEST_UAPI_FIELD(struct iommu_ioas_iova_ranges, allowed_iovas, 16, 8);
NEST_UAPI_FIELD(struct iommu_ioas_iova_ranges, out_iova_alignment, 24, 8);

NEST_UAPI_SIZE(struct iommu_ioas_allow_iovas, 24, 8);
NEST_UAPI_FIELD(struct iommu_ioas_allow_iovas, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_allow_iovas, ioas_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_ioas_allow_iovas, num_iovas, 8, 4);
NEST_UAPI_FIELD(struct iommu_ioas_allow_iovas, __reserved, 12, 4);
NEST_UAPI_FIELD(struct iommu_ioas_allow_iovas, allowed_iovas, 16, 8);

NEST_UAPI_SIZE(struct iommu_ioas_map, 40, 8);
NEST_UAPI_FIELD(struct iommu_ioas_map, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_map, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_ioas_map, ioas_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_ioas_map, __reserved, 12, 4);
NEST_UAPI_FIELD(struct iommu_ioas_map, user_va, 16, 8);
NEST_UAPI_FIELD(struct iommu_ioas_map, length, 24, 8);
NEST_UAPI_FIELD(struct iommu_ioas_map, iova, 32, 8);

NEST_UAPI_SIZE(struct iommu_ioas_map_file, 40, 8);
NEST_UAPI_FIELD(struct iommu_ioas_map_file, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_map_file, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_ioas_map_file, ioas_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_ioas_map_file, fd, 12, 4);
NEST_UAPI_FIELD(struct iommu_ioas_map_file, start, 16, 8);
NEST_UAPI_FIELD(struct iommu_ioas_map_file, length, 24, 8);
NEST_UAPI_FIELD(struct iommu_ioas_map_file, iova, 32, 8);

NEST_UAPI_SIZE(struct iommu_ioas_copy, 40, 8);
NEST_UAPI_FIELD(struct iommu_ioas_copy, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_copy, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_ioas_copy, dst_ioas_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_ioas_copy, src_ioas_id, 12, 4);
NEST_UAPI_FIELD(struct iommu_ioas_copy, length, 16, 8);
NEST_UAPI_FIELD(struct iommu_ioas_copy, dst_iova, 24, 8);
NEST_UAPI_FIELD(struct iommu_ioas_copy, src_iova, 32, 8);

NEST_UAPI_SIZE(struct iommu_ioas_unmap, 24, 8);
NEST_UAPI_FIELD(struct iommu_ioas_unmap, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_unmap, ioas_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_ioas_unmap, iova, 8, 8);
NEST_UAPI_FIELD(struct iommu_ioas_unmap, length, 16, 8);

NEST_UAPI_SIZE(struct iommu_option, 24, 8);
NEST_UAPI_FIELD(struct iommu_option, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_option, option_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_option, op, 8, 2);
NEST_UAPI_FIELD(struct iommu_option, __reserved, 10, 2);
NEST_UAPI_FIELD(struct iommu_option, object_id, 12, 4);
NEST_UAPI_FIELD(struct iommu_option, val64, 16, 8);

NEST_UAPI_SIZE(struct iommu_vfio_ioas, 12, 4);
NEST_UAPI_FIELD(struct iommu_vfio_ioas, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_vfio_ioas, ioas_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_vfio_ioas, op, 8, 2);
NEST_UAPI_FIELD(struct iommu_vfio_ioas, __reserved, 10, 2);

NEST_UAPI_SIZE(struct iommu_hwpt_vtd_s1, 24, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_vtd_s1, flags, 0, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_vtd_s1, pgtbl_addr, 8, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_vtd_s1, addr_width, 16, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_vtd_s1, __reserved, 20, 4);

NEST_UAPI_SIZE(struct iommu_hwpt_arm_smmuv3, 16, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_arm_smmuv3, ste, 0, 16);

NEST_UAPI_SIZE(struct iommu_hwpt_amd_guest, 32, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_amd_guest, dte, 0, 32);

NEST_UAPI_SIZE(struct iommu_hwpt_alloc, 48, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, dev_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, pt_id, 12, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, out_hwpt_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, __reserved, 20, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, data_type, 24, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, data_len, 28, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, data_uptr, 32, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, fault_id, 40, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_alloc, __reserved2, 44, 4);

NEST_UAPI_SIZE(struct iommu_hw_info_vtd, 24, 8);
NEST_UAPI_FIELD(struct iommu_hw_info_vtd, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_hw_info_vtd, __reserved, 4, 4);
NEST_UAPI_FIELD(struct iommu_hw_info_vtd, cap_reg, 8, 8);
NEST_UAPI_FIELD(struct iommu_hw_info_vtd, ecap_reg, 16, 8);

NEST_UAPI_SIZE(struct iommu_hw_info_arm_smmuv3, 40, 4);
NEST_UAPI_FIELD(struct iommu_hw_info_arm_smmuv3, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_hw_info_arm_smmuv3, __reserved, 4, 4);
NEST_UAPI_FIELD(struct iommu_hw_info_arm_smmuv3, idr, 8, 24);
NEST_UAPI_FIELD(struct iommu_hw_info_arm_smmuv3, iidr, 32, 4);
NEST_UAPI_FIELD(struct iommu_hw_info_arm_smmuv3, aidr, 36, 4);

NEST_UAPI_SIZE(struct iommu_hw_info_tegra241_cmdqv, 8, 4);
NEST_UAPI_FIELD(struct iommu_hw_info_tegra241_cmdqv, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_hw_info_tegra241_cmdqv, version, 4, 1);
NEST_UAPI_FIELD(struct iommu_hw_info_tegra241_cmdqv, log2vcmdqs, 5, 1);
NEST_UAPI_FIELD(struct iommu_hw_info_tegra241_cmdqv, log2vsids, 6, 1);
NEST_UAPI_FIELD(struct iommu_hw_info_tegra241_cmdqv, __reserved, 7, 1);

NEST_UAPI_SIZE(struct iommu_hw_info_amd, 16, 8);
NEST_UAPI_FIELD(struct iommu_hw_info_amd, efr, 0, 8);
NEST_UAPI_FIELD(struct iommu_hw_info_amd, efr2, 8, 8);

NEST_UAPI_SIZE(struct iommu_hw_info, 40, 8);
NEST_UAPI_FIELD(struct iommu_hw_info, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_hw_info, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_hw_info, dev_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_hw_info, data_len, 12, 4);
NEST_UAPI_FIELD(struct iommu_hw_info, data_uptr, 16, 8);
NEST_UAPI_FIELD(struct iommu_hw_info, in_data_type, 24, 4);
NEST_UAPI_FIELD(struct iommu_hw_info, out_data_type, 24, 4);
NEST_UAPI_FIELD(struct iommu_hw_info, out_max_pasid_log2, 28, 1);
NEST_UAPI_FIELD(struct iommu_hw_info, __reserved, 29, 3);
NEST_UAPI_FIELD(struct iommu_hw_info, out_capabilities, 32, 8);

NEST_UAPI_SIZE(struct iommu_hwpt_set_dirty_tracking, 16, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_set_dirty_tracking, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_set_dirty_tracking, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_set_dirty_tracking, hwpt_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_set_dirty_tracking, __reserved, 12, 4);

NEST_UAPI_SIZE(struct iommu_hwpt_get_dirty_bitmap, 48, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_get_dirty_bitmap, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_get_dirty_bitmap, hwpt_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_get_dirty_bitmap, flags, 8, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_get_dirty_bitmap, __reserved, 12, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_get_dirty_bitmap, iova, 16, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_get_dirty_bitmap, length, 24, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_get_dirty_bitmap, page_size, 32, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_get_dirty_bitmap, data, 40, 8);

NEST_UAPI_SIZE(struct iommu_hwpt_vtd_s1_invalidate, 24, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_vtd_s1_invalidate, addr, 0, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_vtd_s1_invalidate, npages, 8, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_vtd_s1_invalidate, flags, 16, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_vtd_s1_invalidate, __reserved, 20, 4);

NEST_UAPI_SIZE(struct iommu_viommu_arm_smmuv3_invalidate, 16, 8);
NEST_UAPI_FIELD(struct iommu_viommu_arm_smmuv3_invalidate, cmd, 0, 16);

NEST_UAPI_SIZE(struct iommu_hwpt_invalidate, 32, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate, hwpt_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate, data_uptr, 8, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate, data_type, 16, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate, entry_len, 20, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate, entry_num, 24, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate, __reserved, 28, 4);

NEST_UAPI_SIZE(struct iommu_hwpt_pgfault, 40, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, dev_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, pasid, 8, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, grpid, 12, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, perm, 16, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, __reserved, 20, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, addr, 24, 8);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, length, 32, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_pgfault, cookie, 36, 4);

NEST_UAPI_SIZE(struct iommu_hwpt_page_response, 8, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_page_response, cookie, 0, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_page_response, code, 4, 4);

NEST_UAPI_SIZE(struct iommu_fault_alloc, 16, 4);
NEST_UAPI_FIELD(struct iommu_fault_alloc, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_fault_alloc, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_fault_alloc, out_fault_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_fault_alloc, out_fault_fd, 12, 4);

NEST_UAPI_SIZE(struct iommu_viommu_tegra241_cmdqv, 16, 8);
NEST_UAPI_FIELD(struct iommu_viommu_tegra241_cmdqv, out_vintf_mmap_offset, 0, 8);
NEST_UAPI_FIELD(struct iommu_viommu_tegra241_cmdqv, out_vintf_mmap_length, 8, 8);

NEST_UAPI_SIZE(struct iommu_viommu_alloc, 40, 8);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, type, 8, 4);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, dev_id, 12, 4);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, hwpt_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, out_viommu_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, data_len, 24, 4);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, __reserved, 28, 4);
NEST_UAPI_FIELD(struct iommu_viommu_alloc, data_uptr, 32, 8);

NEST_UAPI_SIZE(struct iommu_vdevice_alloc, 24, 8);
NEST_UAPI_FIELD(struct iommu_vdevice_alloc, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_vdevice_alloc, viommu_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_vdevice_alloc, dev_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_vdevice_alloc, out_vdevice_id, 12, 4);
NEST_UAPI_FIELD(struct iommu_vdevice_alloc, virt_id, 16, 8);

NEST_UAPI_SIZE(struct iommu_ioas_change_process, 8, 4);
NEST_UAPI_FIELD(struct iommu_ioas_change_process, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_change_process, __reserved, 4, 4);

NEST_UAPI_SIZE(struct iommufd_vevent_header, 8, 4);
NEST_UAPI_FIELD(struct iommufd_vevent_header, flags, 0, 4);
NEST_UAPI_FIELD(struct iommufd_vevent_header, sequence, 4, 4);

NEST_UAPI_SIZE(struct iommu_vevent_arm_smmuv3, 32, 8);
NEST_UAPI_FIELD(struct iommu_vevent_arm_smmuv3, evt, 0, 32);

NEST_UAPI_SIZE(struct iommu_vevent_tegra241_cmdqv, 16, 8);
NEST_UAPI_FIELD(struct iommu_vevent_tegra241_cmdqv, lvcmdq_err_map, 0, 16);

NEST_UAPI_SIZE(struct iommu_veventq_alloc, 32, 4);
NEST_UAPI_FIELD(struct iommu_veventq_alloc, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_veventq_alloc, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_veventq_alloc, viommu_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_veventq_alloc, type, 12, 4);
NEST_UAPI_FIELD(struct iommu_veventq_alloc, veventq_depth, 16, 4);
NEST_UAPI_FIELD(struct iommu_veventq_alloc, out_veventq_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_veventq_alloc, out_veventq_fd, 24, 4);
NEST_UAPI_FIELD(struct iommu_veventq_alloc, __reserved, 28, 4);

NEST_UAPI_SIZE(struct iommu_hw_queue_alloc, 40, 8);
NEST_UAPI_FIELD(struct iommu_hw_queue_alloc, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_hw_queue_alloc, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_hw_queue_alloc, viommu_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_hw_queue_alloc, type, 12, 4);
NEST_UAPI_FIELD(struct iommu_hw_queue_alloc, index, 16, 4);
NEST_UAPI_FIELD(struct iommu_hw_queue_alloc, out_hw_queue_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_hw_queue_alloc, nesting_parent_iova, 24, 8);
NEST_UAPI_FIELD(struct iommu_hw_queue_alloc, length, 32, 8);

NEST_UAPI_SIZE(struct iommu_ioas_noiommu_get_pa, 40, 8);
NEST_UAPI_FIELD(struct iommu_ioas_noiommu_get_pa, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_ioas_noiommu_get_pa, flags, 4, 4);
NEST_UAPI_FIELD(struct iommu_ioas_noiommu_get_pa, ioas_id, 8, 4);
NEST_UAPI_FIELD(struct iommu_ioas_noiommu_get_pa, __reserved, 12, 4);
NEST_UAPI_FIELD(struct iommu_ioas_noiommu_get_pa, iova, 16, 8);
NEST_UAPI_FIELD(struct iommu_ioas_noiommu_get_pa, length, 24, 8);
NEST_UAPI_FIELD(struct iommu_ioas_noiommu_get_pa, out_phys, 32, 8);

#endif /* NEST_UAPI_IOMMUFD_H */

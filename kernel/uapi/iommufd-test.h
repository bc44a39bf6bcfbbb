/* SPDX-License-Identifier: MIT */
/*
 * iommufd-test.h - the iommufd selftest mock interface (CONFIG_IOMMUFD_TEST) of Linux 7.3, written
 * for nestd's iommufd backend tests over the mock.
 *
 * Source: Linux 7.3 drivers/iommu/iommufd/iommufd_test.h (Debian linux-source-7.3 7.3.4-1~bpo13+1),
 * facts only. Not a uAPI the kernel installs: it exists only with CONFIG_IOMMUFD_TEST=y, and it
 * changes between releases (6.12's iommu_hwpt_selftest was 4 bytes, 7.3's is 8; 6.12 had
 * MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1, 7.3 has MOCK_FLAGS_DEVICE_PASID = 1 << 2 instead). These
 * numbers are for a 7.3 kernel only.
 *
 * All test ops go through one ioctl on an iommufd, IOMMU_TEST_CMD (0x3BA0), with
 * struct iommu_test_cmd {size, op, id, payload union, last}. Mock devices need no VFIO or PCI.
 * The mock driver registers its own types next to the real ones: IOMMU_HW_INFO_TYPE_SELFTEST,
 * IOMMU_HWPT_DATA_SELFTEST, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, IOMMU_VIOMMU_TYPE_SELFTEST,
 * IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, IOMMU_VEVENTQ_TYPE_SELFTEST, IOMMU_HW_QUEUE_TYPE_SELFTEST.
 *
 * Known 7.3.4 mock bugs (GUEST-TESTS.md): detach PASIDs before destroying a mock device or closing
 * the iommufd; TRIGGER_VEVENT and DEV_CHECK_CACHE do not check that the id is a mock device (never
 * pass a real device's id); DMABUF_GET returns 0 instead of the fd.
 */
#ifndef NEST_UAPI_IOMMUFD_TEST_H
#define NEST_UAPI_IOMMUFD_TEST_H

/* the kernel's own guard, so the in-tree selftest header cannot be mixed in */
#ifdef _UAPI_IOMMUFD_TEST_H
#error "the kernel's iommufd_test.h is already included: include kernel/uapi/iommufd-test.h instead"
#endif
#define _UAPI_IOMMUFD_TEST_H

#include <linux/types.h>
#include <linux/ioctl.h>

#include "iommufd.h"
#include "uapi-assert.h"

#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32) /* 0x3BA0 */

/* iommu_test_cmd.op; the payload member of the union is named after each op */
enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1, /* add_reserved; id = IOAS */
	IOMMU_TEST_OP_MOCK_DOMAIN =
		2, /* mock_domain; id = IOAS or HWPT to attach the new device to */
	IOMMU_TEST_OP_MD_CHECK_MAP = 3,		 /* check_map */
	IOMMU_TEST_OP_MD_CHECK_REFS = 4,	 /* check_refs */
	IOMMU_TEST_OP_CREATE_ACCESS = 5,	 /* create_access */
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES = 6,	 /* destroy_access_pages */
	IOMMU_TEST_OP_ACCESS_PAGES = 7,		 /* access_pages */
	IOMMU_TEST_OP_ACCESS_RW = 8,		 /* access_rw */
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9, /* memory_limit */
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,	 /* mock_domain_replace; id = stdev_id */
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS = 11,	 /* access_replace_ioas */
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,	 /* mock_domain_flags: MOCK_DOMAIN + dev_flags */
	IOMMU_TEST_OP_DIRTY = 13,		 /* dirty */
	IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,	 /* check_iotlb; id = nested HWPT */
	IOMMU_TEST_OP_TRIGGER_IOPF = 15,	 /* trigger_iopf */
	IOMMU_TEST_OP_DEV_CHECK_CACHE = 16,	 /* check_dev_cache; id = mock dev_id (idev) */
	IOMMU_TEST_OP_TRIGGER_VEVENT = 17,	 /* trigger_vevent */
	IOMMU_TEST_OP_PASID_ATTACH = 18,	 /* pasid_attach; id = stdev_id */
	IOMMU_TEST_OP_PASID_REPLACE = 19,	 /* pasid_replace; id = stdev_id */
	IOMMU_TEST_OP_PASID_DETACH = 20,	 /* pasid_detach; id = stdev_id */
	IOMMU_TEST_OP_PASID_CHECK_HWPT = 21,	 /* pasid_check; id = stdev_id */
	IOMMU_TEST_OP_DMABUF_GET = 22,		 /* dmabuf_get */
	IOMMU_TEST_OP_DMABUF_REVOKE = 23,	 /* dmabuf_revoke */
};

/* iommu_hwpt_selftest.pagetable_type, for a mock paging HWPT allocated with DATA_SELFTEST */
enum {
	MOCK_IOMMUPT_DEFAULT = 0,
	MOCK_IOMMUPT_HUGE = 1,
};

/* the mock IOMMU's geometry (MOCK_IOMMUPT_DEFAULT) */
#define MOCK_APERTURE_START (1UL << 24)
#define MOCK_APERTURE_LAST  ((1UL << 31) - 1)
#define MOCK_PAGE_SIZE	    2048
#define MOCK_HUGE_PAGE_SIZE (512 * MOCK_PAGE_SIZE)

/* create_access.flags */
#define MOCK_FLAGS_ACCESS_WRITE (1 << 0)
#define MOCK_FLAGS_ACCESS_SYZ	(1 << 16)

/* access_rw.flags */
#define MOCK_ACCESS_RW_WRITE	 (1 << 0)
#define MOCK_ACCESS_RW_SLOW_PATH (1 << 2)

/* access_pages.flags */
#define MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES (1 << 0)

/* mock_domain_flags.dev_flags */
#define MOCK_FLAGS_DEVICE_NO_DIRTY (1 << 0)
#define MOCK_FLAGS_DEVICE_PASID	   (1 << 2) /* the device gets MOCK_PASID_WIDTH PASID bits */

/* a nested mock HWPT has MOCK_NESTED_DOMAIN_IOTLB_NUM u32 "IOTLB" slots, ids 0..MAX */
#define MOCK_NESTED_DOMAIN_IOTLB_ID_MAX 3
#define MOCK_NESTED_DOMAIN_IOTLB_NUM	4
/* a mock device has MOCK_DEV_CACHE_NUM u32 cache slots (vIOMMU invalidation), ids 0..MAX */
#define MOCK_DEV_CACHE_ID_MAX		3
#define MOCK_DEV_CACHE_NUM		4

/* a PASID the kernel's own selftests reserve for a special replace test */
#define IOMMU_TEST_PASID_RESERVED 1024

/* the mock device/IOMMU PASID width */
#define MOCK_PASID_WIDTH 20

struct iommu_test_cmd {
	__u32 size; /* sizeof(struct iommu_test_cmd); at least offsetofend(last) = 68 */
	__u32 op;   /* IOMMU_TEST_OP_* */
	__u32 id;   /* the op's object (see the op list) */
	__u32 __reserved;
	union {
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		struct {
			__u32 out_stdev_id; /* the mock device object */
			__u32 out_hwpt_id;  /* the HWPT it was attached to */
			__u32 out_idev_id; /* its iommufd dev_id, for HWPT_ALLOC, GET_HW_INFO, ... */
		} mock_domain;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags; /* MOCK_FLAGS_DEVICE_* */
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
		struct {
			__u32 id;    /* IOTLB slot 0..MOCK_NESTED_DOMAIN_IOTLB_ID_MAX */
			__u32 iotlb; /* expected value */
		} check_iotlb;
		struct {
			__u32 dev_id; /* a mock device's iommufd dev_id */
			__u32 pasid;
			__u32 grpid;
			__u32 perm; /* IOMMU_PGFAULT_PERM_* */
			__u64 addr;
		} trigger_iopf;
		struct {
			__u32 id;    /* cache slot 0..MOCK_DEV_CACHE_ID_MAX */
			__u32 cache; /* expected value */
		} check_dev_cache;
		struct {
			__u32 dev_id; /* a mock device's iommufd dev_id, with a vDEVICE */
		} trigger_vevent;
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_attach;
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_replace;
		struct {
			__u32 pasid;
		} pasid_detach;
		struct {
			__u32 pasid;
			__u32 hwpt_id; /* expected HWPT, 0 for none */
		} pasid_check;
		struct {
			__u32 length;
			__u32 open_flags;
		} dmabuf_get;
		struct {
			__s32 dmabuf_fd;
			__u32 revoked;
		} dmabuf_revoke;
	};
	__u32 last;
};

/* IOMMU_GET_HW_INFO on a mock device: out_data_type SELFTEST, data struct iommu_test_hw_info */
#define IOMMU_HW_INFO_TYPE_SELFTEST   0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef /* test_reg */

struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg; /* IOMMU_HW_INFO_SELFTEST_REGVAL */
};

/* IOMMU_HWPT_ALLOC data_type for mock HWPTs (nested on a NEST_PARENT or vIOMMU, or paging) */
#define IOMMU_HWPT_DATA_SELFTEST     0xdead
#define IOMMU_TEST_IOTLB_DEFAULT     0xbadbeef /* initial value of every nested IOTLB slot */
#define IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddad  /* initial value of every device cache slot */

struct iommu_hwpt_selftest {
	__u32 iotlb;	      /* IOMMU_TEST_IOTLB_DEFAULT */
	__u32 pagetable_type; /* MOCK_IOMMUPT_* (paging HWPTs) */
};

/* flags of both selftest invalidation entries: ignore the slot id, invalidate every slot */
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1 << 0)

/* IOMMU_HWPT_INVALIDATE by nested HWPT id; entries reset IOTLB slots to 0 */
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST	    0xdeadbeef
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

struct iommu_hwpt_invalidate_selftest {
	__u32 flags;	/* IOMMU_TEST_INVALIDATE_FLAG_ALL */
	__u32 iotlb_id; /* 0..MOCK_NESTED_DOMAIN_IOTLB_ID_MAX */
};

/* IOMMU_VIOMMU_ALLOC type (on a NEST_PARENT HWPT), data struct iommu_viommu_selftest */
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeef

struct iommu_viommu_selftest {
	__u32 in_data;
	__u32 out_data; /* = in_data (loopback) */
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_mmap_length;
};

/* IOMMU_HWPT_INVALIDATE by vIOMMU id; entries reset device cache slots to 0 */
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST	      0xdeadbeef
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

struct iommu_viommu_invalidate_selftest {
	__u32 flags;	/* IOMMU_TEST_INVALIDATE_FLAG_ALL */
	__u32 vdev_id;	/* the vDEVICE's virt_id */
	__u32 cache_id; /* 0..MOCK_DEV_CACHE_ID_MAX */
};

/* IOMMU_VEVENTQ_ALLOC type; each event is a header followed by this record */
#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeef

struct iommu_viommu_event_selftest {
	__u32 virt_id; /* the vDEVICE's virt_id (must be non-zero) */
};

/* IOMMU_HW_QUEUE_ALLOC type, index 0..IOMMU_TEST_HW_QUEUE_MAX - 1 */
#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeef
#define IOMMU_TEST_HW_QUEUE_MAX	     2

/* ---- layout checks (Linux 7.3, x86-64) ---------------------------------------------------- */

NEST_UAPI_VALUE(IOMMU_TEST_CMD, 0x3BA0);

NEST_UAPI_SIZE(struct iommu_test_cmd, 72, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, size, 0, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, op, 4, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, id, 8, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, __reserved, 12, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, add_reserved, 16, 16);
NEST_UAPI_FIELD(struct iommu_test_cmd, add_reserved.start, 16, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, add_reserved.length, 24, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain, 16, 12);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain.out_stdev_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain.out_hwpt_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain.out_idev_id, 24, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain_flags, 16, 16);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain_flags.out_stdev_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain_flags.out_hwpt_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain_flags.out_idev_id, 24, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain_flags.dev_flags, 28, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, mock_domain_replace.pt_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_map, 16, 24);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_map.iova, 16, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_map.length, 24, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_map.uptr, 32, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_refs, 16, 24);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_refs.length, 16, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_refs.uptr, 24, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_refs.refs, 32, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, create_access.out_access_fd, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, create_access.flags, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, destroy_access_pages.access_pages_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_pages, 16, 32);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_pages.flags, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_pages.out_access_pages_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_pages.iova, 24, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_pages.length, 32, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_pages.uptr, 40, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_rw, 16, 32);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_rw.iova, 16, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_rw.length, 24, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_rw.uptr, 32, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_rw.flags, 40, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, memory_limit.limit, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, access_replace_ioas.ioas_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, dirty, 16, 48);
NEST_UAPI_FIELD(struct iommu_test_cmd, dirty.flags, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, dirty.iova, 24, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, dirty.length, 32, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, dirty.page_size, 40, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, dirty.uptr, 48, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, dirty.out_nr_dirty, 56, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_iotlb.id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_iotlb.iotlb, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, trigger_iopf, 16, 24);
NEST_UAPI_FIELD(struct iommu_test_cmd, trigger_iopf.dev_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, trigger_iopf.pasid, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, trigger_iopf.grpid, 24, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, trigger_iopf.perm, 28, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, trigger_iopf.addr, 32, 8);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_dev_cache.id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, check_dev_cache.cache, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, trigger_vevent.dev_id, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, pasid_attach.pasid, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, pasid_attach.pt_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, pasid_replace.pasid, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, pasid_replace.pt_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, pasid_detach.pasid, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, pasid_check.pasid, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, pasid_check.hwpt_id, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, dmabuf_get.length, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, dmabuf_get.open_flags, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, dmabuf_revoke.dmabuf_fd, 16, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, dmabuf_revoke.revoked, 20, 4);
NEST_UAPI_FIELD(struct iommu_test_cmd, last, 64, 4);

NEST_UAPI_SIZE(struct iommu_test_hw_info, 8, 4);
NEST_UAPI_FIELD(struct iommu_test_hw_info, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_test_hw_info, test_reg, 4, 4);

NEST_UAPI_SIZE(struct iommu_hwpt_selftest, 8, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_selftest, iotlb, 0, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_selftest, pagetable_type, 4, 4);

NEST_UAPI_SIZE(struct iommu_hwpt_invalidate_selftest, 8, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate_selftest, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_hwpt_invalidate_selftest, iotlb_id, 4, 4);

NEST_UAPI_SIZE(struct iommu_viommu_selftest, 24, 8);
NEST_UAPI_FIELD(struct iommu_viommu_selftest, in_data, 0, 4);
NEST_UAPI_FIELD(struct iommu_viommu_selftest, out_data, 4, 4);
NEST_UAPI_FIELD(struct iommu_viommu_selftest, out_mmap_offset, 8, 8);
NEST_UAPI_FIELD(struct iommu_viommu_selftest, out_mmap_length, 16, 8);

NEST_UAPI_SIZE(struct iommu_viommu_invalidate_selftest, 12, 4);
NEST_UAPI_FIELD(struct iommu_viommu_invalidate_selftest, flags, 0, 4);
NEST_UAPI_FIELD(struct iommu_viommu_invalidate_selftest, vdev_id, 4, 4);
NEST_UAPI_FIELD(struct iommu_viommu_invalidate_selftest, cache_id, 8, 4);

NEST_UAPI_SIZE(struct iommu_viommu_event_selftest, 4, 4);
NEST_UAPI_FIELD(struct iommu_viommu_event_selftest, virt_id, 0, 4);

#endif /* NEST_UAPI_IOMMUFD_TEST_H */

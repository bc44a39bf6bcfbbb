/* SPDX-License-Identifier: MIT */
/*
 * iommufd-internal.h - objects of the "iommufd" backend.
 *
 * struct nest_backend   the backend: the kernel seam (shared with the VFIO backends,
 *                       kernel/vfio/vfio-sys.h), the last error text, counters.
 * struct ifd_ctx        one VM: its own iommufd (so objects, accounting and teardown are per
 *                       VM), one IOAS (stage 2, IOVA = GPA), its devices and PASID bindings.
 * struct ifd_dev        a device of the VM: a VFIO cdev bound to the VM's iommufd, or an
 *                       iommufd selftest mock device created in it. Each has its own stage-2
 *                       parent HWPT (NEST_PARENT, + ALLOC_PASID when it has PASIDs), or, where
 *                       the IOMMU cannot nest, is attached to the IOAS directly.
 * struct ifd_format     a row of the format table (formats.c), keyed by GET_HW_INFO's type:
 *                       nested HWPT data type, invalidation data type and entry size, and how
 *                       nestd's generic BIND and INVALIDATE map onto them.
 * struct ifd_pasid      a PASID the VM holds and, per device, the nested HWPT bound on it.
 *
 * Teardown order (the kernel's): PASIDs detached and their nested HWPTs destroyed, then parents
 * replaced/destroyed with the devices (mock devices destroyed, cdevs left to the daemon, which
 * closes their fd after device_detach), then the IOAS unmapped, then the iommufd closed.
 */
#ifndef NEST_IOMMUFD_INTERNAL_H
#define NEST_IOMMUFD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "vfio-sys.h"

#define IFD_DEVS_MAX	  64
#define IFD_RANGES_MAX	  64
#define IFD_PASIDS_MAX	  4096u
#define IFD_INV_ENTRY_MAX 32 /* bytes of one native invalidation entry we produce */
#define IFD_ERR_MAX	  512
#define IFD_PENDING_MAX	  4096 /* page requests of one VM awaiting its response */
#define IFD_VIOMMUS_MAX	  8

struct ifd_format {
	uint32_t hw_type; /* IOMMU_HW_INFO_TYPE_* */
	const char *name;
	uint32_t nest_formats;	 /* NEST_FORMAT_* accepted by the generic BIND */
	uint32_t addr_widths;	 /* NEST_ADDR_WIDTH_* */
	uint32_t hwpt_data_type; /* IOMMU_HWPT_DATA_* of a nested HWPT */
	uint32_t hwpt_data_len;
	uint32_t inv_data_type; /* IOMMU_HWPT_INVALIDATE_DATA_* */
	uint32_t inv_entry_len;
	/* generic BIND -> nested HWPT data (hwpt_data_len bytes); -EOPNOTSUPP / -EINVAL */
	int (*bind_data)(const struct nest_be_bind *b, void *data);
	/*
	 * generic INVALIDATE entry -> native entries (at most 1 today); returns how many, 0 when
	 * the entry needs no kernel call on this IOMMU (e.g. a PASID-cache-only flush).
	 */
	int (*inv_entry)(const struct nest_inv_entry *e, void *out);
	/*
	 * The native forms (BIND_NATIVE / INVALIDATE_NATIVE), checked before the kernel sees them:
	 * one struct of the row's size (a longer one only with a zero tail, E2BIG otherwise);
	 * unknown flags or non-zero reserved fields EOPNOTSUPP, bad values EINVAL.
	 */
	int (*check_data)(const void *data);
	int (*check_entry)(const void *entry);
};

struct ifd_viommu_format {
	uint32_t viommu_type; /* IOMMU_VIOMMU_TYPE_* */
	uint32_t hw_type;     /* the IOMMU kind it needs */
	const char *name;
	uint32_t inv_data_type; /* IOMMU_VIOMMU_INVALIDATE_DATA_* */
	uint32_t inv_entry_len;
	uint32_t veventq_type; /* IOMMU_VEVENTQ_TYPE_*, 0: none */
	uint32_t vevent_len;
	/* flags/values of one entry (EOPNOTSUPP / EINVAL) and the virtual device it names */
	int (*check_entry)(const void *entry, bool *has_vdev, uint64_t *vdev);
};

struct ifd_vdev {
	uint32_t dev_id; /* policy id */
	uint64_t virt_id;
	uint32_t kid;  /* kernel vDEVICE object */
	uint32_t hwpt; /* nested HWPT on the vIOMMU attached to the device's RID, 0 = none */
};

struct ifd_viommu {
	uint32_t id; /* VM-local, 0 = free slot */
	uint32_t kid;
	uint32_t dev_id; /* the device whose parent it nests on */
	const struct ifd_viommu_format *fmt;
	int eventq_fd;
	uint32_t eventq_kid;
	unsigned n_vdevs;
	struct ifd_vdev vdevs[IFD_DEVS_MAX];
};

struct ifd_range {
	uint64_t start, last;
};

struct ifd_dev {
	uint32_t dev_id; /* policy id */
	bool mock;
	char pci[16];
	int fd;		/* cdev fd; handed to the daemon, which closes it after device_detach */
	uint32_t idev;	/* iommufd device id */
	uint32_t stdev; /* mock: the selftest device object */
	uint32_t hw_type;
	const struct ifd_format *fmt; /* NULL: no nesting format known */
	uint8_t pasid_log2;
	uint64_t cap_reg, ecap_reg;
	uint32_t parent;   /* NEST_PARENT HWPT, 0 = attached to the IOAS (no nesting) */
	uint32_t rid_hwpt; /* nested HWPT on the RID (a RID bind), 0 = the RID is on parent */
};

struct ifd_pasid {
	uint32_t pasid;
	uint32_t hwpt[IFD_DEVS_MAX]; /* nested HWPT attached on ctx->devs[i] at this PASID, 0 */
};

/*
 * A page request group awaiting its answer: the cookie of its last request, and the attachment
 * it came through (the device's kernel id, its PASID or IFD_PEND_RID). Detaching or replacing
 * that attachment makes the kernel answer the group itself (invalid) and forget the cookie.
 */
#define IFD_PEND_RID UINT32_MAX

struct ifd_pend {
	uint32_t cookie;
	uint32_t idev;
	uint32_t pasid;
};

struct ifd_ctx {
	struct nest_backend *be;
	void *cookie;
	struct ifd_ctx *next;
	int fd; /* the VM's iommufd */
	uint32_t ioas;
	int fault_fd; /* its fault queue (-1: the kernel has none), in the backend's epoll set */
	uint32_t fault_id;
	unsigned n_pend, cap_pend;
	struct ifd_pend *pend; /* page requests awaiting the VMM's response */
	uint32_t serial;       /* names the ctx in the epoll set (pointers could be stale there) */
	uint32_t next_viommu;
	struct ifd_viommu viommus[IFD_VIOMMUS_MAX];
	uint32_t n_ranges;
	struct ifd_range ranges[IFD_RANGES_MAX];
	uint64_t iova_align; /* IOAS_IOVA_RANGES' out_iova_alignment (0: none said) */
	unsigned n_devs;
	struct ifd_dev devs[IFD_DEVS_MAX];
	unsigned n_pasids, cap_pasids;
	struct ifd_pasid *pasids;
	unsigned n_maps, cap_maps;
	struct ifd_map {
		uint64_t gpa, len;
		void *va; /* IOAS_MAP fallback only: nestd's view of the memfd */
	} * maps;
};

struct ifd_counters {
	uint64_t ioctl_errors, teardown_errors;
	uint64_t maps, map_files, unmaps, mapped_bytes;
	uint64_t binds, unbinds, invalidations, inv_entries;
	uint64_t page_requests, page_responses, vevents;
};

struct nest_backend {
	struct nest_vfio_sys sys;
	const struct nest_be_events *ev;
	void *opaque;
	int epfd; /* every VM's fault queue fd and vEVENTQ fds */
	uint32_t next_serial;
	struct ifd_ctx *ctxs;
	bool has_mock; /* the kernel has the iommufd selftest mock */
	struct ifd_counters ctr;
	char err[IFD_ERR_MAX];
};

/* backend-iommufd.c */
int ifd_fail(struct nest_backend *be, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ifd_ioctl(struct nest_backend *be, int fd, unsigned long req, void *arg);
int ifd_destroy(struct nest_backend *be, int fd, uint32_t id);

/* formats.c */
const struct ifd_format *ifd_format_find(uint32_t hw_type);
/* Size rule of a native struct of @len bytes whose kernel size is @size. */
int ifd_native_size(const void *p, uint32_t len, uint32_t size);

/* ctx.c */
int ifd_ctx_refresh_ranges(struct nest_backend *be, struct ifd_ctx *ctx);
int ifd_map(struct nest_backend *be, struct ifd_ctx *ctx, uint64_t gpa, uint64_t len, int fd,
	    uint64_t fd_offset, uint32_t perms);
void ifd_unmap(struct nest_backend *be, struct ifd_ctx *ctx, uint64_t gpa, uint64_t len);

/* kdev.c: device kinds (VFIO cdev, selftest mock) */
int ifd_dev_open(struct nest_backend *be, struct ifd_ctx *ctx, const struct nest_be_dev *d,
		 struct ifd_dev *ret);
int ifd_dev_attach_rid(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d,
		       uint32_t pt);
/* @replace: @pasid, attached already, moves to @hwpt in one step (the kernel's replace). */
int ifd_dev_attach_pasid(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d,
			 uint32_t pasid, uint32_t hwpt, bool replace);
void ifd_dev_detach_pasid(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d,
			  uint32_t pasid);
void ifd_dev_close(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d);
int ifd_mock_check_iotlb(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t hwpt, uint32_t slot,
			 uint32_t value);

/* epoll data of a queue fd: which ctx (serial) and which queue (IFD_EP_FAULT or a vIOMMU slot) */
#define IFD_EP_FAULT 0xffffffffu
static inline uint64_t ifd_ep_data(const struct ifd_ctx *ctx, uint32_t what)
{
	return (uint64_t)ctx->serial << 32 | what;
}

/* viommu-formats.c */
const struct ifd_viommu_format *ifd_viommu_format_find(uint32_t viommu_type);

/* viommu.c */
int ifd_viommu_alloc(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_dev *d, uint32_t type,
		     uint32_t *ret);
void ifd_viommu_free(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id);
int ifd_vdevice_alloc(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id,
		      const struct ifd_dev *d, uint64_t virt_id);
int ifd_viommu_invalidate(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id,
			  uint32_t data_type, const uint8_t *entries, uint32_t entry_len,
			  uint32_t n, uint32_t *ret_done);
int ifd_viommu_attach(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id, struct ifd_dev *d,
		      uint32_t data_type, const void *data, uint32_t len);
void ifd_viommu_detach(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id,
		       struct ifd_dev *d);
int ifd_vdevice_free(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t id, struct ifd_dev *d);
void ifd_viommu_drain(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t slot);
void ifd_viommu_forget_device(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t dev_id);

/* fault.c */
int ifd_fault_open(struct nest_backend *be, struct ifd_ctx *ctx);
void ifd_fault_close(struct nest_backend *be, struct ifd_ctx *ctx);
int ifd_fault_dispatch(struct nest_backend *be);
void ifd_fault_drain(struct nest_backend *be, struct ifd_ctx *ctx);
int ifd_page_response(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t cookie, uint32_t code);
/*
 * @d's attachment at @pasid (IFD_PEND_RID: its RID) was detached or replaced: the kernel
 * answered its pending groups invalid; they are pending no more here.
 */
void ifd_fault_forget(struct nest_backend *be, struct ifd_ctx *ctx, const struct ifd_dev *d,
		      uint32_t pasid);
int ifd_mock_trigger_iopf(struct nest_backend *be, struct ifd_ctx *ctx, const struct ifd_dev *d,
			  uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr);

/* pasid.c */
int ifd_pasid_alloc(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t min, uint32_t max,
		    uint32_t *ret);
void ifd_pasid_free(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t pasid);
/* @pasid NEST_BE_PASID_RID: the device's RID. @replace: swap what is bound there (-ENOENT). */
int ifd_bind(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
	     const struct nest_be_bind *b, bool replace);
void ifd_unbind(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev, uint32_t pasid);
int ifd_invalidate(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
		   const struct nest_inv_entry *e);
/* The nested HWPT bound on (@dev, @pasid) (pasid 0: on the RID by a RID bind), 0 if none. */
uint32_t ifd_pasid_hwpt(struct ifd_ctx *ctx, unsigned dev, uint32_t pasid);
int ifd_bind_native(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev, uint32_t hpasid,
		    uint32_t data_type, const void *data, uint32_t len, bool replace);
int ifd_invalidate_batch(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
			 const struct nest_inv_entry *e, uint32_t n, uint32_t *ret_done);
/* One IOMMU_HWPT_INVALIDATE of @valid checked entries on @hwpt (a nested HWPT or a vIOMMU);
 * *ret_done = the kernel's entry_num. */
int ifd_inv_prefix(struct nest_backend *be, struct ifd_ctx *ctx, uint32_t hwpt, uint32_t data_type,
		   const uint8_t *entries, uint32_t entry_len, uint32_t valid, const char *name,
		   uint32_t *ret_done);
int ifd_invalidate_native(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev,
			  uint32_t hpasid, uint32_t data_type, const uint8_t *entries,
			  uint32_t entry_len, uint32_t n, uint32_t *ret_done);
void ifd_device_unbind_all(struct nest_backend *be, struct ifd_ctx *ctx, unsigned dev);

#endif /* NEST_IOMMUFD_INTERNAL_H */

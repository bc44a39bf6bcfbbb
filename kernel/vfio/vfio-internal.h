/* SPDX-License-Identifier: MIT */
/*
 * vfio-internal.h - objects of the VFIO backends ("vfio-type1" and "vfio-nesting").
 *
 * struct vfio_be          the backend: the kernel seam, the last error text, counters.
 * struct vfio_ctx         one VM: its containers, groups, devices and stage-2 mappings.
 * struct vfio_container   a /dev/vfio/vfio fd with its IOMMU set. vfio-type1 puts every group of
 *                         a VM into one container; the nesting series only supports singleton
 *                         containers (one group each), so vfio-nesting has one per group and
 *                         maps guest memory into each of them.
 * struct vfio_group       a /dev/vfio/N fd, in exactly one container.
 * struct vfio_dev         a policy device: its PCI address and group. The device fd is handed to
 *                         the daemon (device_attach's ret_fd) and not kept here.
 * struct vfio_map         one stage-2 mapping: nestd's own MAP_SHARED view of the VMM's memfd,
 *                         given to VFIO_IOMMU_MAP_DMA at IOVA = GPA (type1 needs a vaddr).
 *
 * Ownership: a ctx owns its containers, groups and maps; a container is closed after its groups
 * (the kernel detaches a group from its container when the group fd is closed, and a container
 * fd closed first would only drop once its groups went too).
 */
#ifndef NEST_VFIO_INTERNAL_H
#define NEST_VFIO_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "vfio-sys.h"

#define VFIO_CTX_DEVS_MAX   64	  /* = NESTD_VM_DEVICES_MAX */
#define VFIO_RANGES_MAX	    64	  /* allowed IOVA ranges we keep per container */
#define VFIO_NEST_PASID_MAX 4096u /* PASIDs one VM may hold on vfio-nesting (quota caps it) */
#define VFIO_ERR_MAX	    512

struct vfio_range {
	uint64_t start, last; /* inclusive */
};

/* What the seed's nesting capability said (vfio-nesting only). */
struct vfio_nesting_caps {
	uint32_t format;   /* IOMMU_PASID_FORMAT_* */
	uint32_t features; /* IOMMU_NESTING_FEAT_* */
	uint16_t addr_width;
	uint16_t pasid_bits;
	uint64_t cap_reg, ecap_reg;
};

struct vfio_container {
	int fd;
	bool iommu_set;
	uint64_t pgsizes;
	uint32_t dma_avail; /* VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 0 if not reported */
	uint32_t n_ranges;
	struct vfio_range ranges[VFIO_RANGES_MAX];
	bool has_nesting;
	struct vfio_nesting_caps nest;
};

struct vfio_group {
	int num; /* /dev/vfio/<num> */
	int fd;
	struct vfio_container *cont;
	unsigned n_devs;
};

struct vfio_dev {
	uint32_t dev_id;
	char pci[16];
	struct vfio_group *grp;
};

struct vfio_map {
	uint64_t gpa, len;
	void *va;
	uint32_t perms;
};

/* vfio-nesting: one host PASID this VM holds, and the devices the daemon bound it on. */
struct vfio_pasid {
	uint32_t pasid;
	uint64_t bound; /* bit i: bound on ctx->devs[i] (the kernel binds whole groups) */
};

struct vfio_ctx {
	struct nest_backend *be;
	void *cookie;
	struct vfio_ctx *next;
	unsigned n_conts;
	struct vfio_container *conts[VFIO_CTX_DEVS_MAX];
	unsigned n_groups;
	struct vfio_group groups[VFIO_CTX_DEVS_MAX];
	unsigned n_devs;
	struct vfio_dev devs[VFIO_CTX_DEVS_MAX];
	unsigned n_maps, cap_maps;
	struct vfio_map *maps;
	unsigned n_pasids, cap_pasids;
	struct vfio_pasid *pasids;
};

struct vfio_counters {
	uint64_t ioctl_errors;
	uint64_t teardown_errors; /* a MUST-NOT-FAIL op whose ioctl failed anyway */
	uint64_t maps, unmaps, mapped_bytes;
	uint64_t pasid_allocs, pasid_frees, binds, unbinds, invalidations;
};

struct nest_backend {
	struct nest_vfio_sys sys;
	bool nesting; /* the "vfio-nesting" backend */
	const struct nest_be_events *ev;
	void *opaque;
	struct vfio_ctx *ctxs;
	struct vfio_counters ctr;
	char err[VFIO_ERR_MAX];
};

/* vfio-sys.c */
int vfio_sys_ioctl(struct nest_backend *be, int fd, unsigned long req, void *arg);
int vfio_sys_open(struct nest_backend *be, const char *path, int flags);
/* Record why the last operation failed (for the daemon's log line); returns -@err. */
int vfio_fail(struct nest_backend *be, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* pci.c: sysfs lookups */
int vfio_pci_group(struct nest_backend *be, const char *pci, int *ret_group);
int vfio_group_blame(struct nest_backend *be, int group, char *buf, size_t len);

/* container.c */
int vfio_container_open(struct nest_backend *be, struct vfio_container **ret);
int vfio_container_set_iommu(struct nest_backend *be, struct vfio_container *c);
int vfio_container_refresh_info(struct nest_backend *be, struct vfio_container *c);
void vfio_container_close(struct vfio_container *c);
bool vfio_container_range_ok(const struct vfio_container *c, uint64_t gpa, uint64_t len);

/* group.c */
int vfio_group_open(struct nest_backend *be, struct vfio_group *g, int num);
int vfio_group_set_container(struct nest_backend *be, struct vfio_group *g,
			     struct vfio_container *c);
int vfio_group_device_fd(struct nest_backend *be, struct vfio_group *g, const char *pci);
void vfio_group_close(struct vfio_group *g);

/* dma.c */
int vfio_dma_map(struct nest_backend *be, struct vfio_ctx *ctx, uint64_t gpa, uint64_t len, int fd,
		 uint64_t fd_offset, uint32_t perms);
void vfio_dma_unmap(struct nest_backend *be, struct vfio_ctx *ctx, uint64_t gpa, uint64_t len);
int vfio_dma_map_container(struct nest_backend *be, struct vfio_container *c,
			   const struct vfio_map *m);
int vfio_dma_unmap_container(struct nest_backend *be, struct vfio_container *c, uint64_t gpa,
			     uint64_t len);

/* probe.c */
int vfio_type1_probe(const struct nest_backend_params *p, char *why, size_t len);
int vfio_nesting_probe(const struct nest_backend_params *p, char *why, size_t len);

/* nesting.c: the seed uAPI on one container */
int vfio_nesting_parse_cap(struct vfio_container *c, const void *cap, uint32_t room);
void vfio_nesting_info(const struct vfio_nesting_caps *n, struct nest_backend_info *ret);
int vfio_nesting_pasid_alloc(struct nest_backend *be, struct vfio_container *c, uint32_t min,
			     uint32_t max, uint32_t *ret);
int vfio_nesting_pasid_free(struct nest_backend *be, struct vfio_container *c, uint32_t pasid);
int vfio_nesting_bind(struct nest_backend *be, struct vfio_container *c,
		      const struct nest_be_bind *b);
int vfio_nesting_unbind(struct nest_backend *be, struct vfio_container *c, uint32_t pasid);
int vfio_nesting_invalidate(struct nest_backend *be, struct vfio_container *c,
			    const struct nest_inv_entry *e);

/* nesting-ctx.c: a VM's PASIDs and bindings on vfio-nesting */
int vfio_nesting_ctx_pasid_alloc(struct nest_backend *be, struct vfio_ctx *ctx, uint32_t min,
				 uint32_t max, uint32_t *ret);
void vfio_nesting_ctx_pasid_free(struct nest_backend *be, struct vfio_ctx *ctx, uint32_t pasid);
int vfio_nesting_ctx_bind(struct nest_backend *be, struct vfio_ctx *ctx, unsigned dev,
			  const struct nest_be_bind *b);
void vfio_nesting_ctx_unbind(struct nest_backend *be, struct vfio_ctx *ctx, unsigned dev,
			     uint32_t pasid);
void vfio_nesting_device_gone(struct nest_backend *be, struct vfio_ctx *ctx, unsigned dev);
void vfio_nesting_device_moved(struct vfio_ctx *ctx, unsigned from, unsigned to);
void vfio_nesting_ctx_release(struct nest_backend *be, struct vfio_ctx *ctx);
int vfio_nesting_ctx_invalidate(struct nest_backend *be, struct vfio_ctx *ctx, unsigned dev,
				const struct nest_inv_entry *e);

#endif /* NEST_VFIO_INTERNAL_H */

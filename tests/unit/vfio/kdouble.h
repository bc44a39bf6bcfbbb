/* SPDX-License-Identifier: MIT */
/*
 * kdouble.h - a scripted VFIO kernel double behind struct nest_vfio_sys (kernel/vfio/vfio-sys.h).
 *
 * It builds a fake /sys and /dev under a temporary directory (PCI devices, IOMMU groups and
 * their drivers as symlinks, VFIO nodes as files), hands out /dev/null descriptors for every
 * open(), and answers each ioctl the way the kernel the test describes would: the type1 basics
 * of mainline, and optionally the VFIO nesting series (seed v7). Every ioctl is recorded with
 * the bytes it carried so tests can check the marshalling byte for byte.
 */
#ifndef NEST_KDOUBLE_H
#define NEST_KDOUBLE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/vfio.h>

#include "vfio-sys.h"

#define KD_LOG_MAX   256
#define KD_BYTES_MAX 160
#define KD_FDS_MAX   64

enum kd_kind { KD_NONE, KD_CONTAINER, KD_GROUP, KD_DEVICE };

/* What the nesting capability in GET_INFO looks like. */
enum kd_nest_cap {
	KD_CAP_NONE,	  /* mainline: no nesting capability */
	KD_CAP_DMA_AVAIL, /* mainline: only DMA_AVAIL, whose id 3 is the seed's cap id too */
	KD_CAP_V7,	  /* the seed's capability, id 3 */
};

struct kd_call {
	enum kd_kind kind;
	int obj; /* container index or group number */
	unsigned long req;
	unsigned long arg; /* for ioctls that take a value */
	uint32_t len;	   /* bytes recorded */
	uint8_t bytes[KD_BYTES_MAX];
};

struct kd {
	char root[64];
	struct nest_vfio_sys sys;
	char sysfs[128], dev[128];
	/* the script */
	bool nesting_ext;	     /* CHECK_EXTENSION(VFIO_TYPE1_NESTING_IOMMU) */
	int set_iommu_nesting_errno; /* SET_IOMMU(6) fails with this (0: works) */
	enum kd_nest_cap cap;
	uint32_t next_pasid; /* what PASID_REQUEST(ALLOC) returns next */
	int fail_req_errno;  /* the next ioctl with number fail_req fails with this */
	unsigned long fail_req;
	uint64_t range_start, range_last; /* the one allowed IOVA range */
	/* what GET_PCI_HOT_RESET_INFO lists (none: ENODEV, as for a device on a root bus) */
	unsigned n_reset_deps;
	struct vfio_pci_dependent_device reset_deps[8];
	/* state */
	enum kd_kind kinds[1024];
	int objs[1024];
	int n_containers;
	unsigned n_calls;
	struct kd_call calls[KD_LOG_MAX];
};

/* Create the fake tree; devices are given as "pci:group[:driver]" (driver default vfio-pci). */
void kd_init(struct kd *kd, const char *const *devices, unsigned n);
void kd_fini(struct kd *kd);
/* Calls with this ioctl number so far. */
unsigned kd_count(const struct kd *kd, unsigned long req);
/* The n-th (0-based) call with this ioctl number, or NULL. */
const struct kd_call *kd_find(const struct kd *kd, unsigned long req, unsigned n);

#endif /* NEST_KDOUBLE_H */

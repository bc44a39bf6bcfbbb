/* SPDX-License-Identifier: MIT */
/*
 * vfio-cdev.h - the VFIO device-cdev ioctls (/dev/vfio/devices/vfioX) that join a device to an
 * iommufd, as of Linux 7.3, written for nestd.
 *
 * Source: Linux 7.3 include/uapi/linux/vfio.h (Debian linux-source-7.3 7.3.4-1~bpo13+1), facts only.
 *
 * Debian 12's <linux/vfio.h> (6.1) has none of this; a newer one has all of it. <linux/vfio.h> is
 * included first and each item is defined here only if it is still missing, so exactly one
 * definition is in effect; the layout checks at the end then hold whichever it is to the 7.3
 * layout. A <linux/vfio.h> from 6.6 up to the release that added token_uuid_ptr has shorter
 * structs (no PASID fields before 6.15, no token) and is refused with #error rather than used.
 *
 * ioctl number collision: VFIO_DEVICE_BIND_IOMMUFD (0x3B76) and VFIO_DEVICE_ATTACH_IOMMUFD_PT
 * (0x3B77) have the same numbers as the seed's VFIO_IOMMU_PASID_REQUEST and VFIO_IOMMU_NESTING_OP
 * (vfio-nesting.h), but they are issued on a VFIO *device* fd, the seed's on a *container* fd.
 * Dispatch on (fd kind, number), never on the number alone.
 *
 * Conventions (old VFIO style, unlike iommufd): minsz = offsetofend(last mandatory field),
 * argsz < minsz is EINVAL, extended fields are read only when a flag says so, and trailing bytes
 * are not checked.
 */
#ifndef NEST_UAPI_VFIO_CDEV_H
#define NEST_UAPI_VFIO_CDEV_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h>

#include "uapi-assert.h"

#if defined(VFIO_DEVICE_BIND_IOMMUFD) &&                                                           \
	(!defined(VFIO_DEVICE_BIND_FLAG_TOKEN) || !defined(VFIO_DEVICE_ATTACH_PASID) ||            \
	 !defined(VFIO_DEVICE_DETACH_PASID))
#error "the system <linux/vfio.h> has VFIO cdev structs older than the 7.3 layout (no PASID or token fields); use headers without them (Debian 12) or new enough ones"
#endif

/* ---- VFIO_DEVICE_BIND_IOMMUFD (device fd) ------------------------------------------------- */

/*
 * Bind the device fd to an iommufd (once; undone only by closing the device fd). The device is
 * unusable for DMA/MMIO until bound. A negative iommufd selects no-IOMMU mode.
 * minsz = offsetofend(out_devid) = 16; token_uuid_ptr is read only with the TOKEN flag.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags; /* VFIO_DEVICE_BIND_FLAG_* */
	__s32 iommufd;
	__u32 out_devid;	      /* the iommufd dev_id of this binding */
	__aligned_u64 token_uuid_ptr; /* 16-byte SR-IOV VF token, if VFIO_DEVICE_BIND_FLAG_TOKEN */
};
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
#define VFIO_DEVICE_BIND_IOMMUFD    _IO(VFIO_TYPE, VFIO_BASE + 18) /* 0x3B76 */
#endif

/* ---- VFIO_DEVICE_ATTACH_IOMMUFD_PT (device fd) -------------------------------------------- */

/*
 * Attach the device (or, with VFIO_DEVICE_ATTACH_PASID, one of its PASIDs) to an IOAS or HWPT.
 * pt_id: in, an IOAS or HWPT id; out, the HWPT actually attached (auto-created for an IOAS).
 * Attaching again without DETACH replaces the HWPT atomically. EBUSY while the device or a group
 * sibling is resetting. A PASID attach needs domains allocated with IOMMU_HWPT_ALLOC_PASID.
 * minsz = offsetofend(pt_id) = 12; pasid is read only with the PASID flag.
 */
#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags; /* VFIO_DEVICE_ATTACH_PASID */
	__u32 pt_id; /* in / out */
	__u32 pasid;
};
#define VFIO_DEVICE_ATTACH_PASID      (1 << 0)
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19) /* 0x3B77 */
#endif

/* ---- VFIO_DEVICE_DETACH_IOMMUFD_PT (device fd) -------------------------------------------- */

/* Detach the device (or one PASID) from its HWPT; it then blocks DMA. minsz = 8. */
#ifndef VFIO_DEVICE_DETACH_IOMMUFD_PT
struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags; /* VFIO_DEVICE_DETACH_PASID */
	__u32 pasid;
};
#define VFIO_DEVICE_DETACH_PASID      (1 << 0)
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20) /* 0x3B78 */
#endif

/* ---- layout checks (Linux 7.3, x86-64) ---------------------------------------------------- */

NEST_UAPI_VALUE(VFIO_DEVICE_BIND_IOMMUFD, 0x3B76);
NEST_UAPI_VALUE(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3B77);
NEST_UAPI_VALUE(VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3B78);
NEST_UAPI_VALUE(VFIO_DEVICE_BIND_FLAG_TOKEN, 1);
NEST_UAPI_VALUE(VFIO_DEVICE_ATTACH_PASID, 1);
NEST_UAPI_VALUE(VFIO_DEVICE_DETACH_PASID, 1);

NEST_UAPI_SIZE(struct vfio_device_bind_iommufd, 24, 8);
NEST_UAPI_FIELD(struct vfio_device_bind_iommufd, argsz, 0, 4);
NEST_UAPI_FIELD(struct vfio_device_bind_iommufd, flags, 4, 4);
NEST_UAPI_FIELD(struct vfio_device_bind_iommufd, iommufd, 8, 4);
NEST_UAPI_FIELD(struct vfio_device_bind_iommufd, out_devid, 12, 4);
NEST_UAPI_FIELD(struct vfio_device_bind_iommufd, token_uuid_ptr, 16, 8);

NEST_UAPI_SIZE(struct vfio_device_attach_iommufd_pt, 16, 4);
NEST_UAPI_FIELD(struct vfio_device_attach_iommufd_pt, argsz, 0, 4);
NEST_UAPI_FIELD(struct vfio_device_attach_iommufd_pt, flags, 4, 4);
NEST_UAPI_FIELD(struct vfio_device_attach_iommufd_pt, pt_id, 8, 4);
NEST_UAPI_FIELD(struct vfio_device_attach_iommufd_pt, pasid, 12, 4);

NEST_UAPI_SIZE(struct vfio_device_detach_iommufd_pt, 12, 4);
NEST_UAPI_FIELD(struct vfio_device_detach_iommufd_pt, argsz, 0, 4);
NEST_UAPI_FIELD(struct vfio_device_detach_iommufd_pt, flags, 4, 4);
NEST_UAPI_FIELD(struct vfio_device_detach_iommufd_pt, pasid, 8, 4);

#endif /* NEST_UAPI_VFIO_CDEV_H */

/* SPDX-License-Identifier: MIT */
/*
 * vfio-sys.h - the seam between the VFIO backends and the kernel.
 *
 * Every open() of a VFIO node and every ioctl() the VFIO backends issue goes through one
 * struct nest_vfio_sys, and every sysfs or /dev path is built under its roots. nestd uses the
 * real one (nest_vfio_sys_real: open(2), ioctl(2), "/sys", "/dev"); the unit tests give a
 * scripted kernel double that records each call byte for byte and answers as the test says,
 * so the marshalling of uAPIs no kernel here carries (the VFIO nesting series) is tested.
 *
 * Conventions of the ops: open() returns an fd or -errno; the fd is a real descriptor owned by
 * the caller (the double hands out /dev/null descriptors) and is closed with close(2).
 * ioctl() returns the ioctl's non-negative result (PASID_REQUEST returns the PASID) or -errno.
 */
#ifndef NEST_VFIO_SYS_H
#define NEST_VFIO_SYS_H

#include <stddef.h>

#define NEST_VFIO_ROOT_MAX 256

struct nest_vfio_sys {
	int (*open)(void *opaque, const char *path, int flags);
	int (*ioctl)(void *opaque, int fd, unsigned long req, void *arg);
	void *opaque;
	const char *sysfs_root; /* "/sys" */
	const char *dev_root;	/* "/dev" */
};

extern const struct nest_vfio_sys nest_vfio_sys_real;

/* @s, or the real kernel when @s is NULL. */
const struct nest_vfio_sys *vfio_sys_or_real(const struct nest_vfio_sys *s);

#endif /* NEST_VFIO_SYS_H */

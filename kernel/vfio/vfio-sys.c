/* SPDX-License-Identifier: MIT */
/*
 * vfio-sys.c - the real kernel behind struct nest_vfio_sys, and the error bookkeeping of the
 * VFIO backends (the daemon logs be->err once at the request boundary, R19).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vfio-internal.h"

static int real_open(void *opaque, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int real_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

const struct nest_vfio_sys nest_vfio_sys_real = {
	.open = real_open,
	.ioctl = real_ioctl,
	.sysfs_root = "/sys",
	.dev_root = "/dev",
};

const struct nest_vfio_sys *vfio_sys_or_real(const struct nest_vfio_sys *s)
{
	return s ? s : &nest_vfio_sys_real;
}

int vfio_sys_ioctl(struct nest_backend *be, int fd, unsigned long req, void *arg)
{
	int r = be->sys.ioctl(be->sys.opaque, fd, req, arg);

	if (r < 0) {
		be->ctr.ioctl_errors++;
		if (r == -EPERM || r == -EACCES)
			r = -EIO; /* on nestd's wire EPERM means "this peer may not" (backend.h) */
	}
	return r;
}

int vfio_sys_open(struct nest_backend *be, const char *path, int flags)
{
	int r = be->sys.open(be->sys.opaque, path, flags);

	if (r == -EPERM || r == -EACCES)
		r = -EIO; /* nestd lacks access to a node: not the client's doing */
	return r;
}

int vfio_fail(struct nest_backend *be, int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = nest_be_vfail(be->err, sizeof(be->err), err, fmt, ap);
	va_end(ap);
	return r;
}

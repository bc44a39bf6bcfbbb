/* SPDX-License-Identifier: MIT */
/*
 * group.c - VFIO groups: open /dev/vfio/N, check viability (naming the device that keeps the
 * group from being viable), put it into a container, and get device fds out of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vfio-internal.h"

int vfio_group_open(struct nest_backend *be, struct vfio_group *g, int num)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	char path[NEST_VFIO_ROOT_MAX + 32], blame[256];
	int fd, r;

	snprintf(path, sizeof(path), "%s/vfio/%d", be->sys.dev_root, num);
	fd = vfio_sys_open(be, path, O_RDWR);
	if (fd < 0) {
		if (fd == -EBUSY)
			return vfio_fail(be, EBUSY,
					 "open %s: IOMMU group %d is in use by another "
					 "VM or process",
					 path, num);
		if (fd == -ENOENT)
			return vfio_fail(be, ENODEV,
					 "open %s: IOMMU group %d has no VFIO node "
					 "(no device of it is bound to vfio-pci)",
					 path, num);
		return vfio_fail(be, -fd, "open %s", path);
	}
	r = vfio_sys_ioctl(be, fd, VFIO_GROUP_GET_STATUS, &st);
	if (r < 0) {
		close(fd);
		return vfio_fail(be, -r, "VFIO_GROUP_GET_STATUS on group %d", num);
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		close(fd);
		if (vfio_group_blame(be, num, blame, sizeof(blame)) < 0 || !blame[0])
			snprintf(blame, sizeof(blame), "a device of it");
		return vfio_fail(be, EBUSY,
				 "IOMMU group %d is not viable: %s still bound to a host driver "
				 "(bind every device of the group to vfio-pci)",
				 num, blame);
	}
	*g = (struct vfio_group){.num = num, .fd = fd};
	return 0;
}

int vfio_group_set_container(struct nest_backend *be, struct vfio_group *g,
			     struct vfio_container *c)
{
	int fd = c->fd;
	int r = vfio_sys_ioctl(be, g->fd, VFIO_GROUP_SET_CONTAINER, &fd);

	if (r < 0)
		return vfio_fail(be, -r, "VFIO_GROUP_SET_CONTAINER of group %d", g->num);
	g->cont = c;
	return 0;
}

int vfio_group_device_fd(struct nest_backend *be, struct vfio_group *g, const char *pci)
{
	char name[32];
	int r;

	snprintf(name, sizeof(name), "%s", pci);
	r = vfio_sys_ioctl(be, g->fd, VFIO_GROUP_GET_DEVICE_FD, name);
	if (r < 0)
		return vfio_fail(be, -r, "VFIO_GROUP_GET_DEVICE_FD(%s) on group %d", pci, g->num);
	return r;
}

/* Closing the group fd takes it out of its container (the kernel's UNSET_CONTAINER). */
void vfio_group_close(struct vfio_group *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->cont = NULL;
}

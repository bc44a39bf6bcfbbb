/* SPDX-License-Identifier: MIT */
/*
 * pci.c - sysfs lookups for the VFIO backends: the IOMMU group of a PCI device, and which
 * devices of a group keep it from being viable (bound to a host driver).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio-internal.h"

/* "DDDD:BB:DD.F", lower-case hex: the only form we build paths from. */
static bool pci_addr_valid(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] != 'x') {
			if (s[i] != pat[i])
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return s[11] <= '7';
}

/* The last path component of the symlink @path (e.g. a driver or group name). */
static int link_basename(const char *path, char *buf, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int vfio_pci_group(struct nest_backend *be, const char *pci, int *ret_group)
{
	char path[PATH_MAX], name[32], *end;
	long n;
	int r;

	if (!pci_addr_valid(pci))
		return vfio_fail(be, EINVAL, "device %s: not a PCI address (DDDD:BB:DD.F)", pci);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", be->sys.sysfs_root, pci);
	if (access(path, F_OK) < 0)
		return vfio_fail(be, ENODEV, "PCI device %s: not present in %s/bus/pci/devices",
				 pci, be->sys.sysfs_root);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", be->sys.sysfs_root, pci);
	r = link_basename(path, name, sizeof(name));
	if (r < 0)
		return vfio_fail(
			be, -r == ENOENT ? ENODEV : -r,
			"PCI device %s: no IOMMU group (IOMMU off? boot with intel_iommu=on)", pci);
	errno = 0;
	n = strtol(name, &end, 10);
	if (errno || *end || n < 0 || n > INT_MAX)
		return vfio_fail(be, EINVAL, "PCI device %s: IOMMU group '%s' is not a number", pci,
				 name);
	*ret_group = (int)n;
	return 0;
}

/* Drivers under which a device does not stop its group from being viable (VFIO's own list). */
static bool driver_ok(const char *drv)
{
	return strcmp(drv, "vfio-pci") == 0 || strcmp(drv, "pci-stub") == 0 ||
	       strcmp(drv, "pcieport") == 0;
}

int vfio_group_blame(struct nest_backend *be, int group, char *buf, size_t len)
{
	char path[PATH_MAX], drv[64];
	size_t used = 0;
	struct dirent *de;
	DIR *dir;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", be->sys.sysfs_root,
		 group);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		int n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s/driver",
			 be->sys.sysfs_root, group, de->d_name);
		if (link_basename(path, drv, sizeof(drv)) < 0 || driver_ok(drv))
			continue;
		n = snprintf(buf + used, len - used, "%s%s (bound to %s)", used ? ", " : "",
			     de->d_name, drv);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	closedir(dir);
	return 0;
}

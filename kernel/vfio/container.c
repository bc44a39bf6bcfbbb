/* SPDX-License-Identifier: MIT */
/*
 * container.c - VFIO containers: open, IOMMU model, and what VFIO_IOMMU_GET_INFO reports (the
 * allowed IOVA ranges, page sizes, DMA mappings left and, on kernels with the nesting series,
 * the nesting capability). Everything in the info buffer comes from the kernel and is checked
 * like client input: sizes capped, capability offsets bounded, chains may not loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio-internal.h"

#define VFIO_INFO_MAX (64u * 1024) /* we never accept a bigger GET_INFO answer */
#define VFIO_CAPS_MAX 64u	   /* capabilities walked at most */

int vfio_container_open(struct nest_backend *be, struct vfio_container **ret)
{
	char path[NEST_VFIO_ROOT_MAX + 32];
	struct vfio_container *c;
	int fd, r;

	snprintf(path, sizeof(path), "%s/vfio/vfio", be->sys.dev_root);
	fd = vfio_sys_open(be, path, O_RDWR);
	if (fd < 0)
		return vfio_fail(be, fd == -ENOENT ? ENODEV : -fd, "open %s%s", path,
				 fd == -ENOENT ? " (no VFIO: load vfio and vfio_iommu_type1)" : "");
	r = vfio_sys_ioctl(be, fd, VFIO_GET_API_VERSION, NULL);
	if (r != VFIO_API_VERSION) {
		close(fd);
		return vfio_fail(be, r < 0 ? -r : EOPNOTSUPP,
				 "VFIO_GET_API_VERSION on %s: %d, nestd speaks %d", path, r,
				 VFIO_API_VERSION);
	}
	r = vfio_sys_ioctl(be, fd, VFIO_CHECK_EXTENSION, (void *)(unsigned long)VFIO_TYPE1v2_IOMMU);
	if (r <= 0) {
		close(fd);
		return vfio_fail(be, r < 0 ? -r : EOPNOTSUPP,
				 "VFIO_CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU) on %s: not supported",
				 path);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return vfio_fail(be, ENOMEM, "container");
	}
	c->fd = fd;
	*ret = c;
	return 0;
}

/* Type1v2, or the nesting model on vfio-nesting; needs a group in the container already. */
int vfio_container_set_iommu(struct nest_backend *be, struct vfio_container *c)
{
	unsigned long type = be->nesting ? VFIO_TYPE1_NESTING_IOMMU : VFIO_TYPE1v2_IOMMU;
	const char *name = be->nesting ? "VFIO_TYPE1_NESTING_IOMMU" : "VFIO_TYPE1v2_IOMMU";
	int r;

	if (c->iommu_set)
		return 0;
	if (be->nesting) {
		r = vfio_sys_ioctl(be, c->fd, VFIO_CHECK_EXTENSION, (void *)type);
		if (r <= 0)
			return vfio_fail(be, r < 0 ? -r : EOPNOTSUPP,
					 "VFIO_CHECK_EXTENSION(%s): not offered", name);
	}
	r = vfio_sys_ioctl(be, c->fd, VFIO_SET_IOMMU, (void *)type);
	if (r < 0)
		return vfio_fail(be, -r, "VFIO_SET_IOMMU(%s)", name);
	c->iommu_set = true;
	return vfio_container_refresh_info(be, c);
}

static void caps_iova_ranges(struct vfio_container *c, const uint8_t *cap, size_t room)
{
	const struct vfio_iommu_type1_info_cap_iova_range *ir = (const void *)cap;
	size_t n;

	if (room < sizeof(*ir))
		return;
	n = (room - sizeof(*ir)) / sizeof(ir->iova_ranges[0]);
	if (ir->nr_iovas < n)
		n = ir->nr_iovas;
	if (n > VFIO_RANGES_MAX)
		n = VFIO_RANGES_MAX; /* keep the first ones: a narrower map is the safe side */
	c->n_ranges = 0;
	for (size_t i = 0; i < n; i++) {
		struct vfio_iova_range rg;

		memcpy(&rg, (const uint8_t *)ir->iova_ranges + i * sizeof(rg), sizeof(rg));
		if (rg.start > rg.end)
			continue;
		c->ranges[c->n_ranges++] = (struct vfio_range){rg.start, rg.end};
	}
}

/* Walk the capability chain of a GET_INFO answer of @argsz bytes. */
static void caps_walk(struct nest_backend *be, struct vfio_container *c, uint8_t *buf,
		      uint32_t argsz, uint32_t off)
{
	bool saw_ranges = false;

	for (unsigned n = 0; off && n < VFIO_CAPS_MAX; n++) {
		struct vfio_info_cap_header h;
		size_t room;

		if (off < sizeof(struct vfio_iommu_type1_info) || off > argsz - sizeof(h) ||
		    (off & 3))
			break;
		memcpy(&h, buf + off, sizeof(h));
		room = (h.next > off && h.next <= argsz ? h.next : argsz) - off;
		if (h.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			caps_iova_ranges(c, buf + off, room);
			saw_ranges = true;
		} else if (be->nesting &&
			   vfio_nesting_parse_cap(c, buf + off, (uint32_t)room) == 0) {
			/* parsed as the seed's nesting capability */
		} else if (h.id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL && room >= 12) {
			memcpy(&c->dma_avail, buf + off + sizeof(h), sizeof(c->dma_avail));
		}
		if (h.next <= off)
			break; /* 0 ends the chain; a backward link would loop */
		off = h.next;
	}
	if (!saw_ranges) { /* kernels before 5.4 report none: the whole 64-bit space */
		c->n_ranges = 1;
		c->ranges[0] = (struct vfio_range){0, UINT64_MAX};
	}
}

int vfio_container_refresh_info(struct nest_backend *be, struct vfio_container *c)
{
	struct vfio_iommu_type1_info *info;
	uint32_t argsz = sizeof(*info);
	int r;

	for (int tries = 0; tries < 2; tries++) {
		info = calloc(1, argsz);
		if (!info)
			return vfio_fail(be, ENOMEM, "VFIO_IOMMU_GET_INFO buffer");
		info->argsz = argsz;
		r = vfio_sys_ioctl(be, c->fd, VFIO_IOMMU_GET_INFO, info);
		if (r < 0) {
			free(info);
			return vfio_fail(be, -r, "VFIO_IOMMU_GET_INFO");
		}
		if (info->argsz <= argsz || info->argsz > VFIO_INFO_MAX || tries == 1)
			break;
		argsz = info->argsz; /* the capabilities did not fit: ask again with room */
		free(info);
	}
	c->pgsizes = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ? info->iova_pgsizes : 4096;
	c->has_nesting = false;
	c->n_ranges = 0;
	if ((info->flags & VFIO_IOMMU_INFO_CAPS) && info->argsz <= argsz)
		caps_walk(be, c, (uint8_t *)info, info->argsz, info->cap_offset);
	else
		caps_walk(be, c, (uint8_t *)info, argsz, 0);
	free(info);
	return 0;
}

bool vfio_container_range_ok(const struct vfio_container *c, uint64_t gpa, uint64_t len)
{
	uint64_t last = gpa + len - 1; /* the daemon checked gpa + len for overflow */

	for (uint32_t i = 0; i < c->n_ranges; i++)
		if (gpa >= c->ranges[i].start && last <= c->ranges[i].last)
			return true;
	return false;
}

void vfio_container_close(struct vfio_container *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

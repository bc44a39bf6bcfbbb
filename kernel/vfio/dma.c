/* SPDX-License-Identifier: MIT */
/*
 * dma.c - stage 2 on VFIO type1: guest RAM mapped at IOVA = GPA.
 *
 * VFIO_IOMMU_MAP_DMA takes a virtual address, so nestd maps the VMM's sealed memfd into its
 * own address space (MAP_SHARED, read-only unless the region is writable) and hands that
 * address to the kernel, which pins the pages. The pins are charged to nestd: its
 * RLIMIT_MEMLOCK applies unless it has CAP_IPC_LOCK (docs/BACKENDS.md). nestd never reads or
 * writes guest memory through this view. vfio-nesting maps every region into each of the VM's
 * containers (one per group there), all-or-nothing.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vfio-internal.h"

static const char *map_errno_meaning(int err)
{
	switch (err) {
	case ENOMEM:
		return "out of memory, or nestd's locked-memory limit (LimitMEMLOCK=) is reached";
	case ENOSPC:
		return "the container's DMA mapping limit (vfio_iommu_type1 dma_entry_limit) is "
		       "reached";
	case EEXIST:
		return "the IOVA range is already mapped";
	case EFAULT:
		return "the pages could not be pinned";
	default:
		return "refused by the kernel";
	}
}

int vfio_dma_map_container(struct nest_backend *be, struct vfio_container *c,
			   const struct vfio_map *m)
{
	struct vfio_iommu_type1_dma_map dm = {
		.argsz = sizeof(dm),
		.flags = VFIO_DMA_MAP_FLAG_READ |
			 ((m->perms & NEST_MEM_F_WRITE) ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = (uint64_t)(uintptr_t)m->va,
		.iova = m->gpa,
		.size = m->len,
	};
	int r = vfio_sys_ioctl(be, c->fd, VFIO_IOMMU_MAP_DMA, &dm);

	if (r < 0)
		return vfio_fail(be, -r, "VFIO_IOMMU_MAP_DMA gpa 0x%llx len 0x%llx (%s)",
				 (unsigned long long)m->gpa, (unsigned long long)m->len,
				 map_errno_meaning(-r));
	return 0;
}

int vfio_dma_unmap_container(struct nest_backend *be, struct vfio_container *c, uint64_t gpa,
			     uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap du = {.argsz = sizeof(du), .iova = gpa, .size = len};
	int r = vfio_sys_ioctl(be, c->fd, VFIO_IOMMU_UNMAP_DMA, &du);

	if (r == 0 && du.size != len)
		r = -EIO;
	if (r < 0) {
		be->ctr.teardown_errors++;
		return vfio_fail(be, -r,
				 "VFIO_IOMMU_UNMAP_DMA gpa 0x%llx len 0x%llx (unmapped 0x%llx)",
				 (unsigned long long)gpa, (unsigned long long)len,
				 (unsigned long long)du.size);
	}
	return 0;
}

static int dma_check(struct nest_backend *be, struct vfio_ctx *ctx, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < ctx->n_conts; i++) {
		const struct vfio_container *c = ctx->conts[i];
		uint64_t minpg = c->pgsizes & -c->pgsizes;

		if (minpg && ((gpa | len) & (minpg - 1)))
			return vfio_fail(be, EINVAL,
					 "gpa 0x%llx len 0x%llx: not aligned to the IOMMU's "
					 "smallest page size 0x%llx",
					 (unsigned long long)gpa, (unsigned long long)len,
					 (unsigned long long)minpg);
		if (!vfio_container_range_ok(c, gpa, len)) {
			char ranges[256] = "";
			size_t used = 0;

			for (uint32_t k = 0; k < c->n_ranges && used < sizeof(ranges) - 48; k++)
				used += (size_t)snprintf(ranges + used, sizeof(ranges) - used,
							 "%s0x%llx-0x%llx", k ? ", " : "",
							 (unsigned long long)c->ranges[k].start,
							 (unsigned long long)c->ranges[k].last);
			return vfio_fail(be, EINVAL,
					 "gpa 0x%llx-0x%llx is not inside the IOVA ranges the "
					 "kernel allows (reserved regions excluded): %s",
					 (unsigned long long)gpa,
					 (unsigned long long)(gpa + len - 1), ranges);
		}
	}
	return 0;
}

int vfio_dma_map(struct nest_backend *be, struct vfio_ctx *ctx, uint64_t gpa, uint64_t len, int fd,
		 uint64_t fd_offset, uint32_t perms)
{
	struct vfio_map m = {.gpa = gpa, .len = len, .perms = perms};
	int prot = PROT_READ | ((perms & NEST_MEM_F_WRITE) ? PROT_WRITE : 0);
	unsigned done = 0;
	int r;

	if (ctx->n_conts == 0)
		return vfio_fail(be, ENODEV, "no device attached: no container to map into");
	r = dma_check(be, ctx, gpa, len);
	if (r < 0)
		return r;
	if (nest_be_grow((void **)&ctx->maps, &ctx->cap_maps, ctx->n_maps, sizeof(*ctx->maps)) < 0)
		return vfio_fail(be, ENOMEM, "map table");
	m.va = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)fd_offset);
	if (m.va == MAP_FAILED) /* EPERM/EACCES: F_SEAL_WRITE or a read-only fd for a RW region */
		return vfio_fail(be, errno == EPERM || errno == EACCES ? EINVAL : errno,
				 "mmap of the memory fd (offset 0x%llx len 0x%llx)",
				 (unsigned long long)fd_offset, (unsigned long long)len);
	for (; done < ctx->n_conts; done++) {
		r = vfio_dma_map_container(be, ctx->conts[done], &m);
		if (r < 0)
			break;
	}
	if (r < 0) { /* all-or-nothing across containers */
		while (done--)
			(void)vfio_dma_unmap_container(be, ctx->conts[done], gpa, len);
		munmap(m.va, len);
		return r;
	}
	ctx->maps[ctx->n_maps++] = m;
	be->ctr.maps++;
	be->ctr.mapped_bytes += len;
	return 0;
}

void vfio_dma_unmap(struct nest_backend *be, struct vfio_ctx *ctx, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < ctx->n_maps; i++) {
		struct vfio_map *m = &ctx->maps[i];

		if (m->gpa != gpa || m->len != len)
			continue;
		for (unsigned k = 0; k < ctx->n_conts; k++)
			(void)vfio_dma_unmap_container(be, ctx->conts[k], gpa, len);
		munmap(m->va, len);
		be->ctr.unmaps++;
		be->ctr.mapped_bytes -= len;
		ctx->maps[i] = ctx->maps[--ctx->n_maps];
		return;
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * ctx.c - a VM's IOAS: the allowed IOVA ranges and stage-2 mappings at IOVA = GPA.
 *
 * MEM_ADD maps the VMM's sealed memfd with IOMMU_IOAS_MAP_FILE (Linux 6.13+): the kernel pins
 * the file's folios and nestd never maps guest RAM. Kernels without it (ENOTTY) fall back to
 * IOMMU_IOAS_MAP of nestd's own MAP_SHARED view of the memfd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "iommufd-internal.h"
#include "iommufd.h"

int ifd_ctx_refresh_ranges(struct nest_backend *be, struct ifd_ctx *ctx)
{
	struct iommu_iova_range rg[IFD_RANGES_MAX];
	struct iommu_ioas_iova_ranges q = {.size = sizeof(q),
					   .ioas_id = ctx->ioas,
					   .num_iovas = IFD_RANGES_MAX,
					   .allowed_iovas = (uint64_t)(uintptr_t)rg};
	int r = ifd_ioctl(be, ctx->fd, IOMMU_IOAS_IOVA_RANGES, &q);
	uint32_t n;

	if (r == -EMSGSIZE) { /* more ranges than we keep: take the first ones, the safe side */
		q.num_iovas = IFD_RANGES_MAX;
		r = 0;
	}
	if (r < 0)
		return ifd_fail(be, -r, "IOMMU_IOAS_IOVA_RANGES of IOAS %u", ctx->ioas);
	n = q.num_iovas < IFD_RANGES_MAX ? q.num_iovas : IFD_RANGES_MAX;
	ctx->iova_align = q.out_iova_alignment;
	ctx->n_ranges = 0;
	for (uint32_t i = 0; i < n; i++)
		if (rg[i].start <= rg[i].last)
			ctx->ranges[ctx->n_ranges++] = (struct ifd_range){rg[i].start, rg[i].last};
	return 0;
}

static int ifd_range_check(struct nest_backend *be, const struct ifd_ctx *ctx, uint64_t gpa,
			   uint64_t len)
{
	char ranges[256] = "";
	size_t used = 0;

	for (uint32_t i = 0; i < ctx->n_ranges; i++)
		if (gpa >= ctx->ranges[i].start && gpa + len - 1 <= ctx->ranges[i].last)
			return 0;
	for (uint32_t k = 0; k < ctx->n_ranges && used < sizeof(ranges) - 48; k++)
		used += (size_t)snprintf(ranges + used, sizeof(ranges) - used, "%s0x%llx-0x%llx",
					 k ? ", " : "", (unsigned long long)ctx->ranges[k].start,
					 (unsigned long long)ctx->ranges[k].last);
	return ifd_fail(be, EINVAL,
			"gpa 0x%llx-0x%llx is not inside the IOVA ranges the kernel allows "
			"(reserved regions excluded): %s",
			(unsigned long long)gpa, (unsigned long long)(gpa + len - 1), ranges);
}

static int ifd_map_va(struct nest_backend *be, struct ifd_ctx *ctx, struct ifd_map *m, int fd,
		      uint64_t fd_offset, uint32_t flags)
{
	int prot = PROT_READ | ((flags & IOMMU_IOAS_MAP_WRITEABLE) ? PROT_WRITE : 0);
	struct iommu_ioas_map im = {.size = sizeof(im),
				    .flags = flags,
				    .ioas_id = ctx->ioas,
				    .length = m->len,
				    .iova = m->gpa};
	int r;

	m->va = mmap(NULL, m->len, prot, MAP_SHARED, fd, (off_t)fd_offset);
	if (m->va == MAP_FAILED) { /* EPERM/EACCES: F_SEAL_WRITE, or a read-only fd */
		m->va = NULL;
		return ifd_fail(be, errno == EPERM || errno == EACCES ? EINVAL : errno,
				"mmap of the memory fd");
	}
	im.user_va = (uint64_t)(uintptr_t)m->va;
	r = ifd_ioctl(be, ctx->fd, IOMMU_IOAS_MAP, &im);
	if (r < 0) {
		munmap(m->va, m->len);
		m->va = NULL;
		return ifd_fail(be, -r, "IOMMU_IOAS_MAP gpa 0x%llx len 0x%llx",
				(unsigned long long)m->gpa, (unsigned long long)m->len);
	}
	return 0;
}

int ifd_map(struct nest_backend *be, struct ifd_ctx *ctx, uint64_t gpa, uint64_t len, int fd,
	    uint64_t fd_offset, uint32_t perms)
{
	uint32_t flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 ((perms & NEST_MEM_F_WRITE) ? IOMMU_IOAS_MAP_WRITEABLE : 0);
	struct iommu_ioas_map_file mf = {.size = sizeof(mf),
					 .flags = flags,
					 .ioas_id = ctx->ioas,
					 .fd = fd,
					 .start = fd_offset,
					 .length = len,
					 .iova = gpa};
	struct ifd_map m = {.gpa = gpa, .len = len};
	int r = ifd_range_check(be, ctx, gpa, len);

	if (r < 0)
		return r;
	if (nest_be_grow((void **)&ctx->maps, &ctx->cap_maps, ctx->n_maps, sizeof(*ctx->maps)) < 0)
		return ifd_fail(be, ENOMEM, "map table");
	r = ifd_ioctl(be, ctx->fd, IOMMU_IOAS_MAP_FILE, &mf);
	if (r == -ENOTTY) /* before 6.13 */
		r = ifd_map_va(be, ctx, &m, fd, fd_offset, flags);
	else if (r < 0)
		return ifd_fail(be, -r, "IOMMU_IOAS_MAP_FILE gpa 0x%llx len 0x%llx%s",
				(unsigned long long)gpa, (unsigned long long)len,
				r == -ENOMEM ? " (out of memory, or nestd's locked-memory limit, "
					       "LimitMEMLOCK=, is reached)"
					     : "");
	else
		be->ctr.map_files++;
	if (r < 0)
		return r;
	ctx->maps[ctx->n_maps++] = m;
	be->ctr.maps++;
	be->ctr.mapped_bytes += len;
	return 0;
}

void ifd_unmap(struct nest_backend *be, struct ifd_ctx *ctx, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < ctx->n_maps; i++) {
		struct ifd_map *m = &ctx->maps[i];
		struct iommu_ioas_unmap u = {
			.size = sizeof(u), .ioas_id = ctx->ioas, .iova = gpa, .length = len};
		int r;

		if (m->gpa != gpa || m->len != len)
			continue;
		r = ifd_ioctl(be, ctx->fd, IOMMU_IOAS_UNMAP, &u);
		if (r == 0 && u.length != len)
			r = -EIO;
		if (r < 0) {
			be->ctr.teardown_errors++;
			ifd_fail(be, -r, "IOMMU_IOAS_UNMAP gpa 0x%llx len 0x%llx (unmapped 0x%llx)",
				 (unsigned long long)gpa, (unsigned long long)len,
				 (unsigned long long)u.length);
		}
		if (m->va)
			munmap(m->va, m->len);
		be->ctr.unmaps++;
		be->ctr.mapped_bytes -= len;
		ctx->maps[i] = ctx->maps[--ctx->n_maps];
		return;
	}
}

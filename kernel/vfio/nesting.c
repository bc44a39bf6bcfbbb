/* SPDX-License-Identifier: MIT */
/*
 * nesting.c - marshalling of the VFIO nesting series' uAPI (seed v7) on one container:
 * the nesting capability, VFIO_IOMMU_PASID_REQUEST and VFIO_IOMMU_NESTING_OP
 * {BIND_PGTBL, UNBIND_PGTBL, CACHE_INVLD}. Layouts: kernel/uapi/vfio-nesting.h.
 *
 * These ioctl numbers mean other things on mainline kernels (UAPI-FACTS.md §0): nothing here
 * is called on a container unless its GET_INFO reported the nesting capability
 * (c->has_nesting), which is checked again on every call.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>

#include "vfio-internal.h"
#include "vfio-nesting.h"

/* nestd's wire values are the seed's own (protocol/nest-proto.h says so): keep them equal. */
_Static_assert(NEST_VTD_SRE == IOMMU_SVA_VTD_GPASID_SRE &&
		       NEST_VTD_EAFE == IOMMU_SVA_VTD_GPASID_EAFE &&
		       NEST_VTD_PCD == IOMMU_SVA_VTD_GPASID_PCD &&
		       NEST_VTD_PWT == IOMMU_SVA_VTD_GPASID_PWT &&
		       NEST_VTD_EMTE == IOMMU_SVA_VTD_GPASID_EMTE &&
		       NEST_VTD_CD == IOMMU_SVA_VTD_GPASID_CD &&
		       NEST_VTD_WPE == IOMMU_SVA_VTD_GPASID_WPE &&
		       NEST_VTD_VALID == IOMMU_SVA_VTD_GPASID_LAST - 1,
	       "VT-d bind flags");
_Static_assert(NEST_CACHE_IOTLB == IOMMU_CACHE_INV_TYPE_IOTLB &&
		       NEST_CACHE_DEV_IOTLB == IOMMU_CACHE_INV_TYPE_DEV_IOTLB &&
		       NEST_CACHE_PASID == IOMMU_CACHE_INV_TYPE_PASID,
	       "cache types");
_Static_assert((int)NEST_INV_GRANU_DOMAIN == (int)IOMMU_INV_GRANU_DOMAIN &&
		       (int)NEST_INV_GRANU_PASID == (int)IOMMU_INV_GRANU_PASID &&
		       (int)NEST_INV_GRANU_ADDR == (int)IOMMU_INV_GRANU_ADDR,
	       "granularities");

/* A kernel errno as the daemon may pass it on (backend.h: never EPERM; ENOTSUPP is internal). */
static int nesting_errno(int r)
{
	if (r == -NEST_ENOTSUPP)
		return -EOPNOTSUPP;
	if (r == -EPERM || r == -EACCES)
		return -EIO;
	return r;
}

int vfio_nesting_parse_cap(struct vfio_container *c, const void *cap, uint32_t room)
{
	struct vfio_iommu_type1_info_cap_nesting cn;
	static const uint8_t zero[sizeof(cn.info.padding)];

	/* id 3 is also mainline's DMA_AVAIL (12 bytes): only a 64-byte cap with a sane
	 * iommu_nesting_info inside is the seed's */
	if (room < sizeof(cn))
		return -ENOENT;
	memcpy(&cn, cap, sizeof(cn));
	if (cn.header.id != NEST_VFIO_CAP_NESTING_ID_V7 &&
	    cn.header.id != NEST_VFIO_CAP_NESTING_ID_REBASED)
		return -ENOENT;
	if (cn.header.version != 1 || cn.info.argsz < sizeof(cn.info) || cn.info.flags ||
	    memcmp(cn.info.padding, zero, sizeof(zero)) != 0)
		return -ENOENT;
	c->nest = (struct vfio_nesting_caps){
		.format = cn.info.format,
		.features = cn.info.features,
		.addr_width = cn.info.addr_width,
		.pasid_bits = cn.info.pasid_bits,
	};
	if (cn.info.format == IOMMU_PASID_FORMAT_INTEL_VTD) {
		c->nest.cap_reg = cn.info.vendor.vtd.cap_reg;
		c->nest.ecap_reg = cn.info.vendor.vtd.ecap_reg;
	}
	c->has_nesting = true;
	return 0;
}

void vfio_nesting_info(const struct vfio_nesting_caps *n, struct nest_backend_info *ret)
{
	bool vtd = n->format == IOMMU_PASID_FORMAT_INTEL_VTD;

	if (vtd && (n->features & IOMMU_NESTING_FEAT_BIND_PGTBL)) {
		ret->formats = NEST_FORMAT_VTD_FL;
		ret->features |= NEST_FEAT_BIND_PGTBL;
		if (n->addr_width >= 48)
			ret->addr_widths |= NEST_ADDR_WIDTH_48;
		if (n->addr_width >= 57)
			ret->addr_widths |= NEST_ADDR_WIDTH_57;
	}
	if (n->features & IOMMU_NESTING_FEAT_CACHE_INVLD)
		ret->features |= NEST_FEAT_CACHE_INVLD;
	ret->pasid_mode = NEST_PASID_MODE_PER_DEVICE;
	if (n->features & IOMMU_NESTING_FEAT_SYSWIDE_PASID) {
		ret->features |= NEST_FEAT_SYSWIDE_PASID;
		ret->pasid_mode = NEST_PASID_MODE_SYSTEM;
	}
	ret->pasid_bits = n->pasid_bits > 20 ? 20 : n->pasid_bits; /* nestd's PASID space */
	ret->cap_reg = n->cap_reg;
	ret->ecap_reg = n->ecap_reg;
}

static int nesting_require(struct nest_backend *be, const struct vfio_container *c, const char *op)
{
	if (!c || !c->has_nesting)
		return vfio_fail(be, EOPNOTSUPP, "%s: the container has no nesting capability", op);
	return 0;
}

int vfio_nesting_pasid_alloc(struct nest_backend *be, struct vfio_container *c, uint32_t min,
			     uint32_t max, uint32_t *ret)
{
	struct vfio_iommu_type1_pasid_request rq = {
		.argsz = sizeof(rq), .flags = VFIO_IOMMU_FLAG_ALLOC_PASID, .range = {min, max}};
	int r = nesting_require(be, c, "VFIO_IOMMU_PASID_REQUEST(ALLOC)");

	if (r < 0)
		return r;
	r = vfio_sys_ioctl(be, c->fd, VFIO_IOMMU_PASID_REQUEST, &rq);
	if (r < 0)
		return vfio_fail(be, -nesting_errno(r), "VFIO_IOMMU_PASID_REQUEST(ALLOC %u-%u)%s",
				 min, max,
				 r == -ENOSPC ? " (no PASID free, or the kernel's pasid_quota is "
						"used up)"
					      : "");
	if ((uint32_t)r < min || (uint32_t)r > max) {
		/* the kernel answered a PASID outside the range: give it back, trust nothing */
		struct vfio_iommu_type1_pasid_request fr = {.argsz = sizeof(fr),
							    .flags = VFIO_IOMMU_FLAG_FREE_PASID,
							    .range = {(uint32_t)r, (uint32_t)r}};

		if (r > 0)
			(void)vfio_sys_ioctl(be, c->fd, VFIO_IOMMU_PASID_REQUEST, &fr);
		return vfio_fail(be, EIO, "VFIO_IOMMU_PASID_REQUEST(ALLOC %u-%u) returned %d", min,
				 max, r);
	}
	*ret = (uint32_t)r;
	be->ctr.pasid_allocs++;
	return 0;
}

int vfio_nesting_pasid_free(struct nest_backend *be, struct vfio_container *c, uint32_t pasid)
{
	struct vfio_iommu_type1_pasid_request rq = {
		.argsz = sizeof(rq), .flags = VFIO_IOMMU_FLAG_FREE_PASID, .range = {pasid, pasid}};
	int r = nesting_require(be, c, "VFIO_IOMMU_PASID_REQUEST(FREE)");

	if (r == 0)
		r = vfio_sys_ioctl(be, c->fd, VFIO_IOMMU_PASID_REQUEST, &rq);
	be->ctr.pasid_frees++;
	if (r < 0) {
		be->ctr.teardown_errors++;
		return vfio_fail(be, -nesting_errno(r), "VFIO_IOMMU_PASID_REQUEST(FREE %u)", pasid);
	}
	return 0;
}

/* VFIO_IOMMU_NESTING_OP: {argsz, flags = op} followed by the op's struct at offset 8. */
static int nesting_op(struct nest_backend *be, struct vfio_container *c, uint32_t op,
		      const void *data, uint32_t len, const char *what)
{
	union {
		struct vfio_iommu_type1_nesting_op hdr;
		uint8_t raw[sizeof(struct vfio_iommu_type1_nesting_op) + 128];
	} u;
	int r = nesting_require(be, c, what);

	if (r < 0)
		return r;
	if (len > sizeof(u.raw) - sizeof(u.hdr))
		return vfio_fail(be, EINVAL, "%s: payload too large", what);
	memset(&u, 0, sizeof(u));
	u.hdr.argsz = (uint32_t)sizeof(u.hdr) + len;
	u.hdr.flags = op & VFIO_NESTING_OP_MASK;
	memcpy(u.raw + sizeof(u.hdr), data, len);
	r = vfio_sys_ioctl(be, c->fd, VFIO_IOMMU_NESTING_OP, &u);
	if (r < 0)
		return vfio_fail(be, -nesting_errno(r), "%s", what);
	return 0;
}

int vfio_nesting_bind(struct nest_backend *be, struct vfio_container *c,
		      const struct nest_be_bind *b)
{
	struct iommu_gpasid_bind_data bd = {
		.argsz = sizeof(bd),
		.version = IOMMU_GPASID_BIND_VERSION_1,
		.format = IOMMU_PASID_FORMAT_INTEL_VTD,
		.addr_width = b->addr_width,
		.flags = b->has_gpasid ? IOMMU_SVA_GPASID_VAL : 0,
		.gpgd = b->gpgd,
		.hpasid = b->hpasid,
		.gpasid = b->has_gpasid ? b->gpasid : 0,
		.vendor.vtd = {.flags = b->vtd_flags, .pat = b->pat, .emt = b->emt},
	};
	char what[96];
	int r;

	if (b->format != NEST_BIND_FMT_VTD_FL)
		return vfio_fail(be, EOPNOTSUPP, "bind: format %u", b->format);
	snprintf(what, sizeof(what), "VFIO_IOMMU_NESTING_OP(BIND_PGTBL) PASID %u", b->hpasid);
	r = nesting_op(be, c, VFIO_IOMMU_NESTING_OP_BIND_PGTBL, &bd, sizeof(bd), what);
	if (r == 0)
		be->ctr.binds++;
	return r;
}

int vfio_nesting_unbind(struct nest_backend *be, struct vfio_container *c, uint32_t pasid)
{
	struct iommu_gpasid_bind_data bd = {
		.argsz = sizeof(bd),
		.version = IOMMU_GPASID_BIND_VERSION_1,
		.format = IOMMU_PASID_FORMAT_INTEL_VTD,
		.hpasid = pasid,
	};
	char what[96];
	int r;

	snprintf(what, sizeof(what), "VFIO_IOMMU_NESTING_OP(UNBIND_PGTBL) PASID %u", pasid);
	r = nesting_op(be, c, VFIO_IOMMU_NESTING_OP_UNBIND_PGTBL, &bd, sizeof(bd), what);
	be->ctr.unbinds++;
	if (r < 0)
		be->ctr.teardown_errors++;
	return r;
}

int vfio_nesting_invalidate(struct nest_backend *be, struct vfio_container *c,
			    const struct nest_inv_entry *e)
{
	struct iommu_cache_invalidate_info ci = {
		.argsz = sizeof(ci),
		.version = IOMMU_CACHE_INVALIDATE_INFO_VERSION_1,
		.cache = e->cache,
		.granularity = e->granularity,
	};
	int r;

	if (e->granularity == NEST_INV_GRANU_PASID) {
		ci.granu.pasid_info.flags = IOMMU_INV_PASID_FLAGS_PASID;
		ci.granu.pasid_info.pasid = e->pasid;
	} else if (e->granularity == NEST_INV_GRANU_ADDR) {
		ci.granu.addr_info.flags =
			IOMMU_INV_ADDR_FLAGS_PASID |
			((e->flags & NEST_INV_F_LEAF) ? IOMMU_INV_ADDR_FLAGS_LEAF : 0);
		ci.granu.addr_info.pasid = e->pasid;
		ci.granu.addr_info.addr = e->addr;
		ci.granu.addr_info.granule_size = e->granule_size;
		ci.granu.addr_info.nb_granules = e->nb_granules;
	}
	r = nesting_op(be, c, VFIO_IOMMU_NESTING_OP_CACHE_INVLD, &ci, sizeof(ci),
		       "VFIO_IOMMU_NESTING_OP(CACHE_INVLD)");
	if (r == 0)
		be->ctr.invalidations++;
	return r;
}

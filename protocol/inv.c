/* SPDX-License-Identifier: MIT */
/*
 * inv.c - validity of one invalidation entry (docs/PROTOCOL.md §Invalidate).
 *
 * The cache-type x granularity table is the generic one of the IOMMU uAPI the seed series used:
 *
 *                 IOTLB  DEV_IOTLB  PASID-cache
 *     DOMAIN        Y       N           Y
 *     PASID         Y       Y           Y
 *     ADDR          Y       Y           N
 *
 * With several cache bits in one entry, every one of them must support the granularity.
 */
#include <errno.h>

#include "nest-msg.h"

#define NEST_INV_GRANULE_MIN 4096u

static const uint8_t inv_allowed[NEST_INV_GRANU_MAX] = {
	[NEST_INV_GRANU_DOMAIN] = NEST_CACHE_IOTLB | NEST_CACHE_PASID,
	[NEST_INV_GRANU_PASID] = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB | NEST_CACHE_PASID,
	[NEST_INV_GRANU_ADDR] = NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB,
};

bool nest_inv_valid_combo(uint8_t cache, uint8_t granularity)
{
	if (granularity >= NEST_INV_GRANU_MAX || cache == 0 || (cache & ~NEST_CACHE_VALID))
		return false;
	return (cache & ~inv_allowed[granularity]) == 0;
}

/* ADDR granularity: the range [addr, addr + granule_size * nb_granules) */
static int inv_check_range(const struct nest_inv_entry *e)
{
	uint64_t gs = e->granule_size, len, last;

	/* a power of two >= 4096, at least one granule, addr aligned to it: all EINVAL */
	if ((gs < NEST_INV_GRANULE_MIN) | ((gs & (gs - 1)) != 0) | (e->nb_granules == 0) |
	    ((e->addr & (gs - 1)) != 0))
		return -EINVAL;
	if (__builtin_mul_overflow(gs, e->nb_granules, &len) ||
	    __builtin_add_overflow(e->addr, len - 1, &last))
		return -EOVERFLOW;
	return 0;
}

/*
 * The INVALIDATE hot path: every entry of a batch comes through here, so the usual entry takes
 * few branches. The errno order is PROTOCOL.md §9.3: EINVAL for cache 0, then EOPNOTSUPP for
 * anything unknown (cache bits, granularity, flags, reserved fields), then the EINVAL rules of
 * the granularity, then EOVERFLOW; within one errno the order of the tests does not matter.
 */
int nest_inv_entry_check(const struct nest_inv_entry *e)
{
	uint8_t granu = e->granularity;

	if (e->cache == 0)
		return -EINVAL;
	if (((e->cache & ~NEST_CACHE_VALID) | (e->flags & ~NEST_INV_F_VALID) | e->__reserved |
	     e->__reserved2) != 0 ||
	    granu >= NEST_INV_GRANU_MAX)
		return -EOPNOTSUPP;
	if (e->cache & ~inv_allowed[granu])
		return -EINVAL; /* a combination the table does not allow */

	switch (granu) {
	case NEST_INV_GRANU_ADDR: /* pasid 0 = every PASID of the VM */
		if (e->pasid > NEST_PASID_MAX)
			return -EINVAL;
		return inv_check_range(e);
	case NEST_INV_GRANU_PASID:
		if ((e->flags & NEST_INV_F_LEAF) || e->pasid == 0 || e->pasid > NEST_PASID_MAX)
			return -EINVAL;
		return (e->addr | e->granule_size | e->nb_granules) ? -EINVAL : 0;
	default: /* DOMAIN */
		if (e->flags & NEST_INV_F_LEAF)
			return -EINVAL;
		/* fields the granularity does not use must be zero, so they can gain meaning later */
		return (e->pasid | e->addr | e->granule_size | e->nb_granules) ? -EINVAL : 0;
	}
}

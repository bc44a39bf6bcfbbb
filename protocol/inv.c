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
	uint64_t len, last;

	if (e->granule_size < NEST_INV_GRANULE_MIN || (e->granule_size & (e->granule_size - 1)))
		return -EINVAL;
	if (e->nb_granules == 0 || (e->addr & (e->granule_size - 1)))
		return -EINVAL;
	if (__builtin_mul_overflow(e->granule_size, e->nb_granules, &len))
		return -EOVERFLOW;
	if (__builtin_add_overflow(e->addr, len - 1, &last))
		return -EOVERFLOW;
	return 0;
}

int nest_inv_entry_check(const struct nest_inv_entry *e)
{
	if (e->cache == 0)
		return -EINVAL;
	if ((e->cache & ~NEST_CACHE_VALID) || e->granularity >= NEST_INV_GRANU_MAX)
		return -EOPNOTSUPP;
	if ((e->flags & ~NEST_INV_F_VALID) || e->__reserved || e->__reserved2)
		return -EOPNOTSUPP;
	if (!nest_inv_valid_combo(e->cache, e->granularity))
		return -EINVAL;
	if ((e->flags & NEST_INV_F_LEAF) && e->granularity != NEST_INV_GRANU_ADDR)
		return -EINVAL;

	if (e->granularity == NEST_INV_GRANU_DOMAIN) {
		/* fields the granularity does not use must be zero, so they can gain meaning later */
		if (e->pasid || e->addr || e->granule_size || e->nb_granules)
			return -EINVAL;
		return 0;
	}
	if (e->pasid > NEST_PASID_MAX)
		return -EINVAL;
	if (e->granularity == NEST_INV_GRANU_PASID) {
		if (e->pasid == 0)
			return -EINVAL;
		return (e->addr || e->granule_size || e->nb_granules) ? -EINVAL : 0;
	}
	return inv_check_range(e); /* ADDR: pasid 0 = every PASID of the VM */
}

/* SPDX-License-Identifier: MIT */
/*
 * Cache invalidation with the generic VFIO-nesting validity table:
 *
 *            DEV_IOTLB  IOTLB  PASID
 *   DOMAIN     no        yes    yes
 *   PASID      yes       yes    yes
 *   ADDR       yes       yes    no
 *
 * ADDR with PASID 0 covers the range in every PASID of the domain.
 * An IOTLB invalidation also covers the paging-structure cache (non-leaf entries), as on VT-d,
 * except that an ADDR invalidation with the leaf hint leaves it alone: hardware may keep those
 * entries, so a guest that changed a non-leaf entry and sent a leaf-only invalidation keeps
 * walking the old tables here too.
 */
#include "sim-internal.h"

/* The cache bits each granularity may carry: the table above. */
static const uint32_t sim_inv_allowed[NEST_SIM_GRANU_MAX] = {
	[NEST_SIM_GRANU_DOMAIN] = NEST_SIM_CACHE_IOTLB | NEST_SIM_CACHE_PASID,
	[NEST_SIM_GRANU_PASID] =
		NEST_SIM_CACHE_IOTLB | NEST_SIM_CACHE_DEV_IOTLB | NEST_SIM_CACHE_PASID,
	[NEST_SIM_GRANU_ADDR] = NEST_SIM_CACHE_IOTLB | NEST_SIM_CACHE_DEV_IOTLB,
};

/*
 * Does @dom own @pasid? *@owned is a PASID found owned by @dom earlier in the same batch (0:
 * none yet): nothing allocates or frees a PASID during a batch, so a run of requests on one
 * PASID looks it up once.
 */
static bool sim_inv_owned(struct nest_sim *sim, const struct sim_domain *dom, uint32_t pasid,
			  uint32_t *owned)
{
	if (pasid && pasid == *owned)
		return true;
	if (!sim_pasids_owned(&sim->pasids, dom->id, pasid))
		return false;
	*owned = pasid;
	return true;
}

static int sim_inv_check(struct nest_sim *sim, const struct sim_domain *dom,
			 const struct nest_sim_inv *inv, uint32_t *owned, struct sim_tlb_match *m)
{
	uint64_t gs = inv->granule_size, size;

	if (((inv->cache & ~NEST_SIM_CACHE_VALID) | (inv->flags & ~NEST_SIM_INV_F_VALID)) != 0 ||
	    inv->granu >= NEST_SIM_GRANU_MAX)
		return -EOPNOTSUPP;
	if (!inv->cache || (inv->cache & ~sim_inv_allowed[inv->granu]))
		return -EINVAL;
	if (inv->flags && inv->granu != NEST_SIM_GRANU_ADDR)
		return -EINVAL;
	*m = (struct sim_tlb_match){.domain = dom->id};
	if (inv->granu == NEST_SIM_GRANU_DOMAIN)
		return 0;
	if (inv->granu == NEST_SIM_GRANU_ADDR && inv->pasid == 0) {
		/* every PASID of the domain: the match keeps the domain tag, never wider */
	} else if (!sim_inv_owned(sim, dom, inv->pasid, owned)) {
		return -ENOENT;
	} else {
		m->pasid = inv->pasid;
		m->by_pasid = true;
	}
	if (inv->granu == NEST_SIM_GRANU_PASID)
		return 0;
	if (!sim_is_pow2(gs) | (gs < SIM_PAGE_SIZE) | !inv->nb_granules)
		return -EINVAL;
	if (__builtin_mul_overflow(gs, inv->nb_granules, &size))
		return -EOVERFLOW;
	m->start = inv->addr & ~SIM_PAGE_MASK;
	if (__builtin_add_overflow(m->start, size - 1, &m->last))
		return -EOVERFLOW;
	m->by_range = true;
	return 0;
}

/* Device TLBs of the selected ATS device(s) of the domain. */
static void sim_inv_devtlbs(struct nest_sim *sim, const struct sim_domain *dom, uint32_t dev_id,
			    const struct sim_tlb_match *m)
{
	for (struct sim_device *dev = dom->devs; dev; dev = dev->dom_next) {
		if (!dev->devtlb)
			continue;
		if (dev_id != NEST_SIM_DEV_ALL && dev->id != dev_id)
			continue;
		sim_tlb_flush(dev->devtlb, m);
	}
}

/* Is @dev_id (unless NEST_SIM_DEV_ALL) a device of @dom? */
static bool sim_inv_dev_ok(struct nest_sim *sim, const struct sim_domain *dom, uint32_t dev_id)
{
	const struct sim_device *dev;

	if (dev_id == NEST_SIM_DEV_ALL)
		return true;
	dev = sim_device_get(sim, dev_id);
	return dev && dev->dom == dom;
}

/* One request on @dom, the device already checked: validity, then the flushes. */
static int sim_inv_one(struct nest_sim *sim, struct sim_domain *dom, const struct nest_sim_inv *inv,
		       uint32_t dev_id, bool dev_ok, uint32_t *owned)
{
	struct sim_tlb_match m;
	int r = sim_inv_check(sim, dom, inv, owned, &m);

	if (r < 0)
		return r;
	if (!dev_ok)
		return -ENOENT;
	if (inv->cache & NEST_SIM_CACHE_IOTLB) {
		sim_tlb_flush(sim->iotlb, &m);
		if (sim->psc && !(inv->flags & NEST_SIM_INV_F_LEAF))
			sim_tlb_flush(sim->psc, &m);
		sim->cnt.inv[0][inv->granu]++;
	}
	if (inv->cache & NEST_SIM_CACHE_DEV_IOTLB) {
		sim_inv_devtlbs(sim, dom, dev_id, &m);
		sim->cnt.inv[1][inv->granu]++;
	}
	if (inv->cache & NEST_SIM_CACHE_PASID) {
		sim_pcache_flush(sim->pcache, dom->id, dev_id, m.by_pasid ? m.pasid : 0);
		sim->cnt.inv[2][inv->granu]++;
	}
	return 0;
}

int nest_sim_invalidate_n(struct nest_sim *sim, uint32_t domain, const struct nest_sim_inv *inv,
			  uint32_t n, uint32_t dev_id, uint32_t *ret_done)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);
	uint32_t i, owned = 0;
	bool dev_ok;
	int r = 0;

	*ret_done = 0;
	if (!dom)
		return -ENOENT;
	dev_ok = sim_inv_dev_ok(sim, dom, dev_id);
	for (i = 0; i < n; i++) {
		r = sim_inv_one(sim, dom, &inv[i], dev_id, dev_ok, &owned);
		if (r < 0)
			break;
	}
	*ret_done = i;
	return r;
}

/* One request is a batch of one: sim_inv_one() has a single caller, which the compiler inlines. */
int nest_sim_invalidate(struct nest_sim *sim, uint32_t domain, const struct nest_sim_inv *inv,
			uint32_t dev_id)
{
	uint32_t done;

	return nest_sim_invalidate_n(sim, domain, inv, 1, dev_id, &done);
}

/* SPDX-License-Identifier: MIT */
/* Domains: one per VM; own a stage 2, a PASID quota and (by reference) devices. */
#include <stdlib.h>

#include "sim-internal.h"

int nest_sim_domain_new(struct nest_sim *sim, uint32_t pasid_quota, uint32_t *ret_domain)
{
	struct sim_domain *dom;
	int r;

	/* ids only grow, so appending keeps the array sorted; 0 is never a valid id */
	if (sim->nr_domains >= NEST_SIM_DOMAINS_MAX || sim->next_domain == 0)
		return -ENOSPC;
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->id = sim->next_domain;
	dom->pasid_quota = pasid_quota;
	dom->checker = sim->cfg.checker;
	dom->s2.touch = &dom->touch;
	if (sim->cfg.touch_limit &&
	    nest_sim_touch_acct_new(sim->cfg.touch_limit, &dom->own_acct) < 0) {
		free(dom);
		return -ENOMEM;
	}
	dom->s2.acct = dom->own_acct;
	r = sim_array_insert((void ***)&sim->domains, &sim->nr_domains, sim->nr_domains, dom);
	if (r < 0) {
		nest_sim_touch_acct_free(dom->own_acct);
		free(dom);
		return r;
	}
	sim->next_domain++;
	*ret_domain = dom->id;
	return 0;
}

void sim_domain_flush_tlbs(struct nest_sim *sim, struct sim_domain *dom)
{
	struct sim_tlb_match m = {.domain = dom->id};

	sim_tlb_flush(sim->iotlb, &m);
	if (sim->psc)
		sim_tlb_flush(sim->psc, &m);
	for (struct sim_device *dev = dom->devs; dev; dev = dev->dom_next)
		if (dev->devtlb)
			sim_tlb_flush(dev->devtlb, &m);
}

/* Give back every PASID the domain owns; a scan only happens if it owns any. */
static void sim_domain_release_pasids(struct nest_sim *sim, struct sim_domain *dom)
{
	struct sim_pasids *p = &sim->pasids;
	uint32_t nwords = (uint32_t)(((1ull << p->bits) + 63) / 64);

	for (uint32_t w = 0; w < nwords && dom->nr_pasids; w++) {
		uint64_t bits = p->bitmap[w];

		while (bits) {
			uint32_t b = (uint32_t)__builtin_ctzll(bits);
			uint32_t pasid = w * 64 + b;

			bits &= bits - 1;
			if (p->owner[pasid] != dom->id)
				continue;
			sim_pasids_give(p, pasid);
			dom->nr_pasids--;
		}
	}
}

int nest_sim_domain_free(struct nest_sim *sim, uint32_t domain)
{
	uint32_t at = sim_bsearch_id((void *const *)sim->domains, sim->nr_domains, domain);
	struct sim_domain *dom;

	if (at >= sim->nr_domains || sim->domains[at]->id != domain)
		return -ENOENT;
	dom = sim->domains[at];
	while (dom->devs)
		sim_device_destroy(sim, dom->devs);
	sim_domain_release_pasids(sim, dom);
	/* cached translations point into the regions: they must go before the munmap */
	sim_domain_flush_tlbs(sim, dom);
	sim_pcache_flush(sim->pcache, dom->id, NEST_SIM_DEV_ALL, 0);
	sim_s2_clear(&dom->s2);
	sim->cnt.touched_bytes += dom->touch.bytes; /* the counters cover domains that are gone */
	sim->cnt.touch_refused += dom->touch.refused;
	sim_array_remove((void **)sim->domains, &sim->nr_domains, at);
	nest_sim_touch_acct_free(dom->own_acct);
	free(dom);
	return 0;
}

int nest_sim_domain_set_touch_acct(struct nest_sim *sim, uint32_t domain,
				   struct nest_sim_touch_acct *a)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);

	if (!dom)
		return -ENOENT;
	if (dom->s2.n)
		return -EBUSY;
	if (!a) {
		dom->s2.acct = dom->own_acct;
		return 0;
	}
	if (!sim->cfg.touch_limit)
		return 0; /* not limited: nothing is recorded anywhere */
	sim_touch_acct_bind(a, sim->cfg.touch_limit);
	dom->s2.acct = a;
	return 0;
}

int nest_sim_domain_info(struct nest_sim *sim, uint32_t domain,
			 struct nest_sim_domain_info *ret_info)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);
	struct nest_sim_domain_info info = {0};

	if (!dom)
		return -ENOENT;
	info.domain = dom->id;
	info.nr_regions = dom->s2.n;
	info.ram_bytes = dom->s2.bytes;
	info.nr_devices = dom->nr_devices;
	info.nr_pasids = dom->nr_pasids;
	info.pasid_quota = dom->pasid_quota;
	info.checker = dom->checker;
	for (const struct sim_device *dev = dom->devs; dev; dev = dev->dom_next)
		info.nr_binds += dev->nr_binds;
	*ret_info = info;
	return 0;
}

int nest_sim_domain_set_checker(struct nest_sim *sim, uint32_t domain, bool on)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);

	if (!dom)
		return -ENOENT;
	dom->checker = on;
	return 0;
}

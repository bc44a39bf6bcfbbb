/* SPDX-License-Identifier: MIT */
/*
 * The system-wide PASID allocator: a bitmap plus an owner per PASID, and a summary bitmap of
 * the full words, so that finding the lowest free PASID of an almost full 20-bit space reads a
 * few hundred words instead of 16,384.
 */
#include <stdlib.h>

#include "sim-internal.h"

int sim_pasids_init(struct sim_pasids *p, uint32_t bits)
{
	size_t n = (size_t)1 << bits;

	/* calloc'd pages are only touched as PASIDs get used */
	p->bitmap = calloc((n + 63) / 64, sizeof(*p->bitmap));
	p->full = calloc((n + 64 * 64 - 1) / (64 * 64), sizeof(*p->full));
	p->owner = calloc(n, sizeof(*p->owner));
	p->bits = bits;
	if (!p->bitmap || !p->full || !p->owner) {
		sim_pasids_fini(p);
		return -ENOMEM;
	}
	return 0;
}

void sim_pasids_fini(struct sim_pasids *p)
{
	free(p->bitmap);
	free(p->full);
	free(p->owner);
	p->bitmap = NULL;
	p->full = NULL;
	p->owner = NULL;
}

void sim_pasids_take(struct sim_pasids *p, uint32_t pasid, uint32_t domain)
{
	uint32_t w = pasid / 64;

	p->bitmap[w] |= 1ull << (pasid % 64);
	if (p->bitmap[w] == ~0ull)
		p->full[w / 64] |= 1ull << (w % 64);
	p->owner[pasid] = domain;
}

void sim_pasids_give(struct sim_pasids *p, uint32_t pasid)
{
	uint32_t w = pasid / 64;

	p->bitmap[w] &= ~(1ull << (pasid % 64));
	p->full[w / 64] &= ~(1ull << (w % 64));
	p->owner[pasid] = 0;
}

bool sim_pasids_owned(const struct sim_pasids *p, uint32_t domain, uint32_t pasid)
{
	if (pasid == 0 || pasid >= (1u << p->bits))
		return false;
	return p->owner[pasid] == domain;
}

/* Lowest clear bit in [min, max], or 0 (PASID 0 is never handed out). */
static uint32_t sim_pasids_find(const struct sim_pasids *p, uint32_t min, uint32_t max)
{
	uint64_t w = min / 64, last = max / 64;

	while (w <= last) {
		/* the next word at or after w that is not full, from the summary */
		uint64_t not_full = ~p->full[w / 64] & (~0ull << (w % 64));
		uint64_t free_bits;

		if (!not_full) {
			w = (w / 64 + 1) * 64;
			continue;
		}
		w = (w / 64) * 64 + (uint64_t)__builtin_ctzll(not_full);
		if (w > last)
			break;
		free_bits = ~p->bitmap[w];
		if (w == min / 64)
			free_bits &= ~0ull << (min % 64);
		if (w == last && max % 64 != 63)
			free_bits &= (1ull << (max % 64 + 1)) - 1;
		if (free_bits)
			return (uint32_t)(w * 64 + (uint64_t)__builtin_ctzll(free_bits));
		w++;
	}
	return 0;
}

int nest_sim_pasid_alloc(struct nest_sim *sim, uint32_t domain, uint32_t min, uint32_t max,
			 uint32_t *ret_pasid)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);
	struct sim_pasids *p = &sim->pasids;
	uint32_t limit = (1u << p->bits) - 1;
	uint32_t pasid;

	if (!dom)
		return -ENOENT;
	if (min > max)
		return -EINVAL;
	if (min < 1)
		min = 1;
	if (max > limit)
		max = limit;
	if (dom->nr_pasids >= dom->pasid_quota)
		return -ENOSPC;
	if (min > max)
		return -ENOSPC;
	pasid = sim_pasids_find(p, min, max);
	if (!pasid)
		return -ENOSPC;
	sim_pasids_take(p, pasid, dom->id);
	dom->nr_pasids++;
	*ret_pasid = pasid;
	return 0;
}

int nest_sim_pasid_free(struct nest_sim *sim, uint32_t domain, uint32_t pasid)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);
	struct sim_pasids *p = &sim->pasids;
	struct sim_tlb_match m = {.domain = domain, .pasid = pasid, .by_pasid = true};

	/* not yours and does not exist look the same: no probing of other VMs' PASIDs */
	if (!dom || !sim_pasids_owned(p, domain, pasid))
		return -ENOENT;
	for (uint32_t i = 0; i < sim->nr_devices; i++) {
		struct sim_device *dev = sim->devices[i];

		if (dev->dom != dom)
			continue;
		sim_device_unbind_pasid(sim, dev, pasid);
		if (dev->devtlb)
			sim_tlb_flush(dev->devtlb, &m);
	}
	/* the next owner of this PASID must not inherit any cached state */
	sim_tlb_flush(sim->iotlb, &m);
	if (sim->psc)
		sim_tlb_flush(sim->psc, &m);
	for (uint32_t i = 0; i < sim->nr_devices; i++) /* one PASID-cache set per device */
		if (sim->devices[i]->dom == dom)
			sim_pcache_flush(sim->pcache, domain, sim->devices[i]->id, pasid);
	sim_pasids_give(p, pasid);
	dom->nr_pasids--;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The system-wide PASID allocator: a bitmap plus an owner per PASID, and two summary levels above
 * the bitmap (a bit per full bitmap word, a bit per full summary word), so that finding the
 * lowest free PASID reads at most a few words of each level however full the space is: for the
 * 20-bit space 16,384 bitmap words, 256 summary words and 4 top words.
 */
#include <stdlib.h>

#include "sim-internal.h"

int sim_pasids_init(struct sim_pasids *p, uint32_t bits)
{
	size_t n = (size_t)1 << bits;

	p->nwords = (n + 63) / 64;
	p->nfull = (p->nwords + 63) / 64;
	p->ntop = (p->nfull + 63) / 64;
	/* calloc'd pages are only touched as PASIDs get used */
	p->bitmap = calloc(p->nwords, sizeof(*p->bitmap));
	p->full = calloc(p->nfull, sizeof(*p->full));
	p->top = calloc(p->ntop, sizeof(*p->top));
	p->owner = calloc(n, sizeof(*p->owner));
	p->bits = bits;
	if (!p->bitmap || !p->full || !p->top || !p->owner) {
		sim_pasids_fini(p);
		return -ENOMEM;
	}
	return 0;
}

void sim_pasids_fini(struct sim_pasids *p)
{
	free(p->bitmap);
	free(p->full);
	free(p->top);
	free(p->owner);
	p->bitmap = NULL;
	p->full = NULL;
	p->top = NULL;
	p->owner = NULL;
}

void sim_pasids_take(struct sim_pasids *p, uint32_t pasid, uint32_t domain)
{
	uint32_t w = pasid / 64, s = w / 64;

	p->bitmap[w] |= 1ull << (pasid % 64);
	if (p->bitmap[w] == ~0ull) {
		p->full[s] |= 1ull << (w % 64);
		if (p->full[s] == ~0ull)
			p->top[s / 64] |= 1ull << (s % 64);
	}
	p->owner[pasid] = domain;
}

void sim_pasids_give(struct sim_pasids *p, uint32_t pasid)
{
	uint32_t w = pasid / 64, s = w / 64;

	p->bitmap[w] &= ~(1ull << (pasid % 64));
	p->full[s] &= ~(1ull << (w % 64));
	p->top[s / 64] &= ~(1ull << (s % 64));
	p->owner[pasid] = 0;
}

bool sim_pasids_owned(const struct sim_pasids *p, uint32_t domain, uint32_t pasid)
{
	if (pasid == 0 || pasid >= (1u << p->bits))
		return false;
	return p->owner[pasid] == domain;
}

/*
 * The lowest index >= @i whose bit in @level (@n words) is clear, where @up (NULL at the top) has
 * a bit set for each word of @level that is all ones; @nup words. UINT64_MAX if none.
 */
static uint64_t sim_pasids_next_clear(const uint64_t *level, uint64_t n, const uint64_t *up,
				      uint64_t nup, uint64_t i)
{
	while (i / 64 < n) {
		uint64_t clear = ~level[i / 64] & (~0ull << (i % 64));

		if (clear)
			return (i / 64) * 64 + (uint64_t)__builtin_ctzll(clear);
		/* nothing from i to the end of its word: the next word that is not all ones */
		if (!up) {
			i = (i / 64 + 1) * 64;
			continue;
		}
		i = sim_pasids_next_clear(up, nup, NULL, 0, i / 64 + 1);
		if (i == UINT64_MAX)
			return UINT64_MAX;
		i *= 64;
	}
	return UINT64_MAX;
}

/* Lowest clear bit in [min, max], or 0 (PASID 0 is never handed out). */
static uint32_t sim_pasids_find(const struct sim_pasids *p, uint32_t min, uint32_t max)
{
	uint64_t w = min / 64, last = max / 64;

	while (w <= last) {
		uint64_t free_bits;

		/* the next bitmap word at or after w that is not full, from the summaries */
		w = sim_pasids_next_clear(p->full, p->nfull, p->top, p->ntop, w);
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
	for (struct sim_device *dev = dom->devs; dev; dev = dev->dom_next) {
		sim_device_unbind_pasid(sim, dev, pasid);
		if (dev->devtlb)
			sim_tlb_flush(dev->devtlb, &m);
	}
	/* the next owner of this PASID must not inherit any cached state */
	sim_tlb_flush(sim->iotlb, &m);
	if (sim->psc)
		sim_tlb_flush(sim->psc, &m);
	for (struct sim_device *dev = dom->devs; dev; dev = dev->dom_next) /* one set per device */
		sim_pcache_flush(sim->pcache, domain, dev->id, pasid);
	sim_pasids_give(p, pasid);
	dom->nr_pasids--;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The PASID cache: copies of present PASID-table entries tagged (device, PASID). Like
 * hardware it never caches a not-present entry, so a first bind is seen at once while a
 * change to a cached entry (rebind, unbind) is not seen until a PASID-cache invalidation.
 */
#include <stdlib.h>

#include "sim-internal.h"

#define SIM_PCACHE_WAYS 4u

static inline uint32_t sim_pcache_set(const struct sim_pcache *c, uint32_t dev_id, uint32_t pasid)
{
	uint64_t h = ((uint64_t)dev_id << 32 | pasid) * 0x9e3779b97f4a7c15ull;

	return c->set_bits ? (uint32_t)(h >> (64 - c->set_bits)) : 0;
}

int sim_pcache_new(uint32_t entries, struct sim_pcache **ret)
{
	struct sim_pcache *c;
	uint32_t bits = sim_log2_roundup(entries < SIM_PCACHE_WAYS ? SIM_PCACHE_WAYS : entries);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ways = SIM_PCACHE_WAYS;
	c->set_bits = bits - 2;
	c->e = calloc((size_t)1 << bits, sizeof(*c->e));
	c->victim = calloc((size_t)1 << c->set_bits, sizeof(*c->victim));
	if (!c->e || !c->victim) {
		sim_pcache_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

struct sim_pcache *sim_pcache_free(struct sim_pcache *c)
{
	if (!c)
		return NULL;
	free(c->e);
	free(c->victim);
	free(c);
	return NULL;
}

const struct sim_pce *sim_pcache_lookup(const struct sim_pcache *c, uint32_t dev_id, uint32_t pasid)
{
	const struct sim_pce *s = &c->e[(size_t)sim_pcache_set(c, dev_id, pasid) * SIM_PCACHE_WAYS];

	for (unsigned w = 0; w < SIM_PCACHE_WAYS; w++)
		if (s[w].pasid == pasid && s[w].dev_id == dev_id && pasid)
			return &s[w];
	return NULL;
}

void sim_pcache_insert(struct sim_pcache *c, uint32_t dev_id, uint32_t domain, uint32_t pasid,
		       const struct sim_pasid_entry *pe)
{
	uint32_t set = sim_pcache_set(c, dev_id, pasid);
	struct sim_pce *s = &c->e[(size_t)set * SIM_PCACHE_WAYS];
	unsigned slot = SIM_PCACHE_WAYS;

	for (unsigned w = 0; w < SIM_PCACHE_WAYS; w++) {
		/* one entry per tag: a refill replaces, it never duplicates */
		if (s[w].pasid == pasid && s[w].dev_id == dev_id) {
			slot = w;
			break;
		}
		if (!s[w].pasid && slot == SIM_PCACHE_WAYS)
			slot = w;
	}
	if (slot == SIM_PCACHE_WAYS) {
		slot = c->victim[set] % SIM_PCACHE_WAYS;
		c->victim[set] = (uint8_t)(slot + 1);
	}
	s[slot] = (struct sim_pce){.dev_id = dev_id, .domain = domain, .pasid = pasid, .pe = *pe};
}

void sim_pcache_flush(struct sim_pcache *c, uint32_t domain, uint32_t dev_id, uint32_t pasid)
{
	size_t total = (size_t)SIM_PCACHE_WAYS << c->set_bits;

	if (dev_id != NEST_SIM_DEV_ALL && pasid) { /* one tag: only its set can hold it */
		struct sim_pce *s =
			&c->e[(size_t)sim_pcache_set(c, dev_id, pasid) * SIM_PCACHE_WAYS];

		for (unsigned w = 0; w < SIM_PCACHE_WAYS; w++)
			if (s[w].pasid == pasid && s[w].dev_id == dev_id && s[w].domain == domain)
				s[w] = (struct sim_pce){0};
		return;
	}
	for (size_t i = 0; i < total; i++) {
		struct sim_pce *e = &c->e[i];

		if (!e->pasid || e->domain != domain)
			continue;
		if (dev_id != NEST_SIM_DEV_ALL && e->dev_id != dev_id)
			continue;
		if (pasid && e->pasid != pasid)
			continue;
		*e = (struct sim_pce){0};
	}
}

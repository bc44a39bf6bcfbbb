/* SPDX-License-Identifier: MIT */
/* The nest-sim instance: configuration, object tables, callbacks and counters. */
#include <stdlib.h>
#include <string.h>

#include "sim-internal.h"

/* Non-leaf entries cached; small, like hardware's, so that walks still reach memory often. */
#define SIM_PSC_ENTRIES 256u

static int sim_config_fill(const struct nest_sim_config *in, struct nest_sim_config *out)
{
	*out = in ? *in : (struct nest_sim_config){0};
	if (!out->max_gaw)
		out->max_gaw = 48;
	if (!out->iotlb_entries)
		out->iotlb_entries = 1024;
	if (!out->devtlb_entries)
		out->devtlb_entries = 64;
	if (!out->pasid_cache_entries)
		out->pasid_cache_entries = 256;
	if (!out->pasid_bits)
		out->pasid_bits = NEST_SIM_PASID_BITS_MAX;
	if (out->max_gaw < 32 || out->max_gaw > 52)
		return -EINVAL;
	if (out->pasid_bits > NEST_SIM_PASID_BITS_MAX)
		return -EINVAL;
	/* caches are bounded so that a config cannot ask for absurd allocations */
	if (out->iotlb_entries > (1u << 24) || out->devtlb_entries > (1u << 20) ||
	    out->pasid_cache_entries > (1u << 20))
		return -EINVAL;
	return 0;
}

int nest_sim_new(const struct nest_sim_config *cfg, struct nest_sim **ret)
{
	struct nest_sim *sim;
	int r;

	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	r = sim_config_fill(cfg, &sim->cfg);
	if (r < 0)
		goto err;
	sim->next_domain = 1;
	r = sim_pasids_init(&sim->pasids, sim->cfg.pasid_bits);
	if (r < 0)
		goto err;
	r = sim_tlb_new(sim->cfg.iotlb_entries, &sim->iotlb);
	if (r < 0)
		goto err;
	r = sim_pcache_new(sim->cfg.pasid_cache_entries, &sim->pcache);
	if (r < 0)
		goto err;
	if (!sim->cfg.no_psc) {
		r = sim_tlb_new(SIM_PSC_ENTRIES, &sim->psc);
		if (r < 0)
			goto err;
	}
	*ret = sim;
	return 0;
err:
	nest_sim_free(sim);
	return r;
}

struct nest_sim *nest_sim_free(struct nest_sim *sim)
{
	if (!sim)
		return NULL;
	/* domain_free removes the last element each time; go from the end to avoid memmove */
	while (sim->nr_domains)
		nest_sim_domain_free(sim, sim->domains[sim->nr_domains - 1]->id);
	free(sim->domains);
	free(sim->devices);
	sim_pasids_fini(&sim->pasids);
	sim_tlb_free(sim->iotlb);
	sim_tlb_free(sim->psc);
	sim_pcache_free(sim->pcache);
	free(sim);
	return NULL;
}

void nest_sim_set_fault_cb(struct nest_sim *sim, nest_sim_fault_cb cb, void *opaque)
{
	sim->fault_cb = cb;
	sim->fault_opaque = opaque;
}

void nest_sim_set_stale_cb(struct nest_sim *sim, nest_sim_stale_cb cb, void *opaque)
{
	sim->stale_cb = cb;
	sim->stale_opaque = opaque;
}

void nest_sim_set_checker(struct nest_sim *sim, bool on)
{
	sim->cfg.checker = on;
	for (uint32_t i = 0; i < sim->nr_domains; i++)
		sim->domains[i]->checker = on;
}

void nest_sim_get_counters(struct nest_sim *sim, struct nest_sim_counters *ret)
{
	*ret = sim->cnt;
	for (uint32_t i = 0; i < sim->nr_domains; i++) {
		ret->touched_bytes += sim->domains[i]->touch.bytes;
		ret->touch_refused += sim->domains[i]->touch.refused;
	}
}

uint32_t sim_bsearch_id(void *const *v, uint32_t n, uint32_t id)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		/* every object kept in these arrays starts with its uint32_t id */
		uint32_t mid_id = *(const uint32_t *)v[mid];

		if (mid_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int sim_array_insert(void ***v, uint32_t *n, uint32_t at, void *obj)
{
	void **nv = realloc(*v, (size_t)(*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	memmove(&nv[at + 1], &nv[at], (size_t)(*n - at) * sizeof(*nv));
	nv[at] = obj;
	*v = nv;
	(*n)++;
	return 0;
}

void sim_array_remove(void **v, uint32_t *n, uint32_t at)
{
	memmove(&v[at], &v[at + 1], (size_t)(*n - at - 1) * sizeof(*v));
	(*n)--;
}

struct sim_domain *sim_domain_get(const struct nest_sim *sim, uint32_t id)
{
	uint32_t i = sim_bsearch_id((void *const *)sim->domains, sim->nr_domains, id);

	if (i < sim->nr_domains && sim->domains[i]->id == id)
		return sim->domains[i];
	return NULL;
}

struct sim_device *sim_device_get(const struct nest_sim *sim, uint32_t id)
{
	uint32_t i = sim_bsearch_id((void *const *)sim->devices, sim->nr_devices, id);

	if (i < sim->nr_devices && sim->devices[i]->id == id)
		return sim->devices[i];
	return NULL;
}

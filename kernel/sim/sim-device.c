/* SPDX-License-Identifier: MIT */
/* Devices: membership of a domain, the per-device PASID table, the device TLB, bind/unbind. */
#include <stdlib.h>

#include "sim-internal.h"

int nest_sim_device_add(struct nest_sim *sim, uint32_t domain, uint32_t dev_id, bool ats,
			uint32_t pasid_bits)
{
	struct sim_domain *dom = sim_domain_get(sim, domain);
	struct sim_device *dev;
	uint32_t at;
	int r;

	if (!dom)
		return -ENOENT;
	if (pasid_bits < 1 || pasid_bits > NEST_SIM_PASID_BITS_MAX)
		return -EINVAL;
	at = sim_bsearch_id((void *const *)sim->devices, sim->nr_devices, dev_id);
	if (at < sim->nr_devices && sim->devices[at]->id == dev_id)
		return -EEXIST;
	if (sim->nr_devices >= NEST_SIM_DEVICES_MAX)
		return -ENOSPC;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->id = dev_id;
	dev->ats = ats;
	dev->pasid_bits = pasid_bits;
	dev->dom = dom;
	dev->rid_tag = SIM_RID_TAG_BASE + dom->next_rid_tag++;
	dev->ndir = ((1u << pasid_bits) + SIM_PT_CHUNK - 1) / SIM_PT_CHUNK;
	dev->dir = calloc(dev->ndir, sizeof(*dev->dir));
	r = dev->dir ? 0 : -ENOMEM;
	if (!r && ats)
		r = sim_tlb_new(sim->cfg.devtlb_entries, &dev->devtlb);
	if (!r)
		r = sim_array_insert((void ***)&sim->devices, &sim->nr_devices, at, dev);
	if (r < 0) {
		sim_tlb_free(dev->devtlb);
		free(dev->dir);
		free(dev);
		return r;
	}
	dev->dom_next = dom->devs;
	dom->devs = dev;
	dom->nr_devices++;
	return 0;
}

void sim_device_destroy(struct nest_sim *sim, struct sim_device *dev)
{
	uint32_t at = sim_bsearch_id((void *const *)sim->devices, sim->nr_devices, dev->id);
	struct sim_device **pp = &dev->dom->devs;

	/* a later device with the same id must not see this one's cached PASID entries */
	sim_pcache_flush(sim->pcache, dev->dom->id, dev->id, 0);
	sim_array_remove((void **)sim->devices, &sim->nr_devices, at);
	while (*pp != dev)
		pp = &(*pp)->dom_next;
	*pp = dev->dom_next;
	dev->dom->nr_devices--;
	for (uint32_t i = 0; i < dev->ndir; i++)
		free(dev->dir[i]);
	free(dev->dir);
	sim_tlb_free(dev->devtlb);
	free(dev);
}

int nest_sim_device_remove(struct nest_sim *sim, uint32_t dev_id)
{
	struct sim_device *dev = sim_device_get(sim, dev_id);

	if (!dev)
		return -ENOENT;
	sim_device_destroy(sim, dev);
	return 0;
}

const struct sim_pasid_entry *sim_device_pasid_entry(const struct sim_device *dev, uint32_t pasid)
{
	const struct sim_pasid_entry *chunk;

	if (pasid == NEST_SIM_PASID_RID)
		return dev->rid.present ? &dev->rid : &sim_s2only_entry;
	if (pasid >> SIM_PT_CHUNK_SHIFT >= dev->ndir)
		return NULL;
	chunk = dev->dir[pasid >> SIM_PT_CHUNK_SHIFT];
	if (!chunk || !chunk[pasid & (SIM_PT_CHUNK - 1)].present)
		return NULL;
	return &chunk[pasid & (SIM_PT_CHUNK - 1)];
}

void sim_device_unbind_pasid(struct nest_sim *sim, struct sim_device *dev, uint32_t pasid)
{
	struct sim_pasid_entry *pe;

	if (pasid >> SIM_PT_CHUNK_SHIFT >= dev->ndir || !dev->dir[pasid >> SIM_PT_CHUNK_SHIFT])
		return;
	pe = &dev->dir[pasid >> SIM_PT_CHUNK_SHIFT][pasid & (SIM_PT_CHUNK - 1)];
	if (!pe->present)
		return;
	*pe = (struct sim_pasid_entry){0};
	dev->nr_binds--;
}

static int sim_device_bind_check(struct nest_sim *sim, struct sim_device *dev, uint32_t pasid,
				 const struct nest_sim_bind *b)
{
	const struct sim_fmt_ops *ops;

	if (b->flags & ~(uint64_t)NEST_SIM_BIND_F_VALID)
		return -EOPNOTSUPP;
	ops = sim_fmt_get(b->fmt);
	if (!ops)
		return -EINVAL;
	if (pasid != NEST_SIM_PASID_RID) {
		if (!sim_pasids_owned(&sim->pasids, dev->dom->id, pasid))
			return -ENOENT;
		if (pasid >= (1u << dev->pasid_bits))
			return -EINVAL;
	}
	return ops->bind_check(b, sim->cfg.max_gaw);
}

static struct sim_pasid_entry sim_entry_of(const struct nest_sim_bind *b)
{
	return (struct sim_pasid_entry){
		.gpgd = b->gpgd,
		.flags = b->flags,
		.pat = b->pat,
		.emt = b->emt,
		.fmt = (uint8_t)b->fmt,
		.levels = b->addr_width == 57 ? 5 : 4,
		.present = true,
	};
}

/* Every cached entry of the RID: it moves between stage 2 alone and a first-level table. */
static void sim_device_flush_rid(struct nest_sim *sim, struct sim_device *dev)
{
	struct sim_tlb_match m = {.domain = dev->dom->id, .pasid = dev->rid_tag, .by_pasid = true};

	sim_pcache_flush(sim->pcache, dev->dom->id, dev->id, dev->rid_tag);
	sim_tlb_flush(sim->iotlb, &m);
	if (sim->psc)
		sim_tlb_flush(sim->psc, &m);
	if (dev->devtlb)
		sim_tlb_flush(dev->devtlb, &m);
}

int nest_sim_bind(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid,
		  const struct nest_sim_bind *b)
{
	struct sim_device *dev = sim_device_get(sim, dev_id);
	struct sim_pasid_entry **chunk;
	int r;

	if (!dev)
		return -ENOENT;
	r = sim_device_bind_check(sim, dev, pasid, b);
	if (r < 0)
		return r;
	if (pasid == NEST_SIM_PASID_RID) {
		if (dev->rid.present)
			return -EBUSY;
		dev->rid = sim_entry_of(b);
		sim_device_flush_rid(sim, dev);
		dev->nr_binds++;
		return 0;
	}
	if (sim_device_pasid_entry(dev, pasid))
		return -EBUSY;
	chunk = &dev->dir[pasid >> SIM_PT_CHUNK_SHIFT];
	if (!*chunk) {
		*chunk = calloc(SIM_PT_CHUNK, sizeof(**chunk));
		if (!*chunk)
			return -ENOMEM;
	}
	(*chunk)[pasid & (SIM_PT_CHUNK - 1)] = sim_entry_of(b);
	dev->nr_binds++;
	return 0;
}

int nest_sim_rebind(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid,
		    const struct nest_sim_bind *b)
{
	struct sim_device *dev = sim_device_get(sim, dev_id);
	struct sim_pasid_entry *pe;
	int r;

	if (!dev)
		return -ENOENT;
	if (pasid == NEST_SIM_PASID_RID) {
		pe = dev->rid.present ? &dev->rid : NULL;
	} else {
		pe = (struct sim_pasid_entry *)sim_device_pasid_entry(dev, pasid);
	}
	if (!pe)
		return -ENOENT;
	r = sim_device_bind_check(sim, dev, pasid, b);
	if (r < 0)
		return r;
	/* one store of the whole entry: the single-threaded walker sees old or new */
	*pe = sim_entry_of(b);
	return 0;
}

int nest_sim_unbind(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid)
{
	struct sim_device *dev = sim_device_get(sim, dev_id);

	if (dev && pasid == NEST_SIM_PASID_RID) {
		if (!dev->rid.present)
			return -ENOENT;
		dev->rid = (struct sim_pasid_entry){0};
		sim_device_flush_rid(sim, dev);
		dev->nr_binds--;
		return 0;
	}
	if (!dev || !sim_device_pasid_entry(dev, pasid))
		return -ENOENT;
	sim_device_unbind_pasid(sim, dev, pasid);
	return 0;
}

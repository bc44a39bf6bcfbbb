/* SPDX-License-Identifier: MIT */
/*
 * Translation: device TLB -> IOTLB -> PASID cache -> first-level walk, plus the checker and
 * the DMA entry point. The hit path does a device lookup and one or two cache probes and
 * never allocates.
 */
#include <string.h>

#include "sim-internal.h"

struct sim_req {
	struct sim_device *dev;
	uint32_t pasid; /* as requested (0: without PASID), reported in faults */
	uint32_t tag;	/* cache tag: the PASID, or the device's RID tag */
	uint64_t addr;
	uint32_t access;
};

static int sim_xlate_fault(struct nest_sim *sim, const struct sim_req *rq, uint32_t reason,
			   uint32_t level, uint64_t gpa, struct nest_sim_fault *ret_fault)
{
	struct nest_sim_fault f = {
		.reason = reason,
		.dev_id = rq->dev->id,
		.domain = rq->dev->dom->id,
		.pasid = rq->pasid,
		.addr = rq->addr,
		.gpa = gpa,
		.access = rq->access,
		.level = level,
	};

	sim_fault_report(sim, &f);
	if (ret_fault)
		*ret_fault = f;
	return -EFAULT;
}

static void sim_xlate_fill(const struct sim_tlbe *e, uint64_t addr, uint32_t hit,
			   struct nest_sim_xlate *xl)
{
	uint64_t off = addr - e->va;

	xl->gpa = e->gpa + off;
	xl->hva = e->hva + off;
	xl->page_size = 1ull << e->shift;
	xl->perms = e->perms;
	xl->hit = hit;
}

/* A cached entry serves a request only if it allows it; otherwise hardware walks again. */
static bool sim_xlate_hit_ok(const struct sim_tlbe *e, uint32_t access)
{
	if ((access & NEST_SIM_ACC_WRITE) && !(e->flags & SIM_TLBE_DIRTY))
		return false; /* D must be set in memory first */
	return sim_fmt_get(e->fmt)->access_check(e->perms, access, e->pe_flags) ==
	       NEST_SIM_FAULT_NONE;
}

/* Checker: re-walk from the real PASID table without side effects and compare. */
static void sim_xlate_check(struct nest_sim *sim, const struct sim_req *rq,
			    const struct sim_tlbe *e, uint32_t cache)
{
	const struct sim_pasid_entry *pe = sim_device_pasid_entry(rq->dev, rq->pasid);
	struct nest_sim_stale st = {
		.dev_id = rq->dev->id,
		.domain = rq->dev->dom->id,
		.pasid = rq->pasid,
		.access = rq->access,
		.addr = rq->addr,
		.cached_gpa = e->gpa + (rq->addr - e->va),
		.cached_perms = e->perms,
		.cache = cache,
	};
	struct sim_walk_res res;

	if (!pe) {
		st.current_fault = NEST_SIM_FAULT_PASID_NOT_PRESENT;
	} else {
		struct sim_walk_req wr = {.s2 = &rq->dev->dom->s2,
					  .pe = pe,
					  .addr = rq->addr,
					  .access = rq->access,
					  .max_gaw = sim->cfg.max_gaw};

		sim_fmt_get(pe->fmt)->walk(&wr, &res);
		st.current_fault = res.fault;
		if (!res.fault) {
			st.current_gpa = res.gpa_page | (rq->addr & ((1ull << res.shift) - 1));
			st.current_perms = res.perms;
		}
	}
	if (!st.current_fault && st.current_gpa == st.cached_gpa &&
	    st.current_perms == st.cached_perms)
		return;
	sim->cnt.stale++;
	if (sim->stale_cb)
		sim->stale_cb(sim->stale_opaque, &st);
}

static int sim_xlate_hit(struct nest_sim *sim, const struct sim_req *rq, const struct sim_tlbe *e,
			 uint32_t cache, struct nest_sim_xlate *xl)
{
	/* report first, then still return the cached (possibly stale) translation */
	if (rq->dev->dom->checker)
		sim_xlate_check(sim, rq, e, cache);
	sim_xlate_fill(e, rq->addr, cache, xl);
	return 0;
}

/*
 * The PASID-entry stage: the PASID cache, else the PASID table (only a present entry is
 * cached, as on hardware). *ret_did is the domain id the entry carries: the IOTLB tag.
 */
static const struct sim_pasid_entry *
sim_xlate_pasid_entry(struct nest_sim *sim, const struct sim_req *rq, uint32_t *ret_did)
{
	const struct sim_pce *ce = sim_pcache_lookup(sim->pcache, rq->dev->id, rq->tag);
	const struct sim_pasid_entry *pe;

	if (ce) {
		sim->cnt.pasid_cache_hits++;
		*ret_did = ce->domain;
		return &ce->pe;
	}
	sim->cnt.pasid_cache_misses++;
	pe = sim_device_pasid_entry(rq->dev, rq->pasid);
	if (pe)
		sim_pcache_insert(sim->pcache, rq->dev->id, rq->dev->dom->id, rq->tag, pe);
	*ret_did = rq->dev->dom->id;
	return pe;
}

/* Build the cache entry; the page shrinks to 4 KiB if stage 2 does not back all of it. */
static void sim_xlate_entry(const struct sim_req *rq, const struct sim_pasid_entry *pe,
			    const struct sim_walk_res *res, struct sim_tlbe *e)
{
	const struct sim_region *rg = res->region;
	uint32_t shift = res->shift;
	uint64_t gpa_page = res->gpa_page;

	if (gpa_page < rg->gpa || gpa_page + (1ull << shift) > rg->gpa + rg->len) {
		gpa_page |= rq->addr & ((1ull << shift) - 1) & ~SIM_PAGE_MASK;
		shift = SIM_PAGE_SHIFT;
	}
	*e = (struct sim_tlbe){
		.va = rq->addr & ~((1ull << shift) - 1),
		.gpa = gpa_page,
		.hva = rg->hva + (gpa_page - rg->gpa),
		.pe_flags = pe->flags,
		.domain = rq->dev->dom->id,
		.pasid = rq->tag,
		.shift = (uint8_t)shift,
		.perms = res->perms,
		.flags = res->dirty ? SIM_TLBE_DIRTY : 0,
		.fmt = pe->fmt,
	};
}

static int sim_xlate_miss(struct nest_sim *sim, const struct sim_req *rq,
			  const struct sim_pasid_entry *pe, struct nest_sim_xlate *xl,
			  struct nest_sim_fault *ret_fault)
{
	struct sim_walk_req wr;
	struct sim_walk_res res;
	struct sim_tlbe e;

	wr = (struct sim_walk_req){.s2 = &rq->dev->dom->s2,
				   .pe = pe,
				   .addr = rq->addr,
				   .access = rq->access,
				   .max_gaw = sim->cfg.max_gaw,
				   .side_effects = true,
				   .psc = sim->psc,
				   .domain = rq->dev->dom->id,
				   .pasid = rq->tag};
	sim->cnt.walks++;
	sim_fmt_get(pe->fmt)->walk(&wr, &res);
	if (res.fault)
		return sim_xlate_fault(sim, rq, res.fault, res.fault_level, res.fault_gpa,
				       ret_fault);
	sim_xlate_entry(rq, pe, &res, &e);
	/* a walk that started from cached non-leaf entries can be as stale as an IOTLB hit */
	if (res.psc_hit && rq->dev->dom->checker)
		sim_xlate_check(sim, rq, &e, NEST_SIM_CACHE_IOTLB);
	sim_tlb_insert(sim->iotlb, &e);
	if (rq->dev->devtlb)
		sim_tlb_insert(rq->dev->devtlb, &e);
	sim_xlate_fill(&e, rq->addr, 0, xl);
	return 0;
}

/* Remember a cached entry whose permissions refused the access (not a clean-D write). */
static void sim_xlate_note_denied(const struct sim_tlbe *e, uint32_t access, uint32_t cache,
				  struct sim_tlbe *denied, uint32_t *denied_cache)
{
	if (e && sim_fmt_get(e->fmt)->access_check(e->perms, access, e->pe_flags)) {
		*denied = *e;
		*denied_cache = cache;
	}
}

/* After a faulting re-walk: the cached entries for this page that refused the access go. */
static void sim_xlate_drop_denied(struct nest_sim *sim, const struct sim_req *rq, uint32_t did)
{
	const struct sim_tlbe *e;

	if (rq->dev->devtlb) {
		e = sim_tlb_lookup(rq->dev->devtlb, rq->dev->dom->id, rq->tag, rq->addr);
		if (e && !sim_xlate_hit_ok(e, rq->access))
			sim_tlb_remove(rq->dev->devtlb, e->domain, e->pasid, e->va, e->shift);
	}
	e = sim_tlb_lookup(sim->iotlb, did, rq->tag, rq->addr);
	if (e && !sim_xlate_hit_ok(e, rq->access))
		sim_tlb_remove(sim->iotlb, e->domain, e->pasid, e->va, e->shift);
}

/*
 * Lookup order, as VT-d in scalable mode: an ATS device's own TLB first (a translated
 * request never reaches the IOMMU's tables); then the PASID-entry stage (PASID cache, else
 * the PASID table: no present entry, no translation, whatever the IOTLB holds) with its own
 * checks (SRE); then the IOTLB, tagged with the domain id from that entry; then the walk.
 */
static int sim_xlate(struct nest_sim *sim, const struct sim_req *rq, struct nest_sim_xlate *xl,
		     struct nest_sim_fault *ret_fault)
{
	struct sim_device *dev = rq->dev;
	const struct sim_pasid_entry *pe;
	struct sim_tlbe denied;
	uint32_t denied_cache = 0, did, reason;
	const struct sim_tlbe *e;
	uint64_t stale0;
	int r;

	sim->cnt.translations++;
	if (rq->pasid >= (1u << dev->pasid_bits))
		return sim_xlate_fault(sim, rq, NEST_SIM_FAULT_PASID_RANGE, 0, 0, ret_fault);
	if (dev->devtlb) {
		e = sim_tlb_lookup(dev->devtlb, dev->dom->id, rq->tag, rq->addr);
		if (e && sim_xlate_hit_ok(e, rq->access)) {
			sim->cnt.devtlb_hits++;
			return sim_xlate_hit(sim, rq, e, NEST_SIM_CACHE_DEV_IOTLB, xl);
		}
		sim_xlate_note_denied(e, rq->access, NEST_SIM_CACHE_DEV_IOTLB, &denied,
				      &denied_cache);
		sim->cnt.devtlb_misses++;
	}
	pe = sim_xlate_pasid_entry(sim, rq, &did);
	if (!pe)
		return sim_xlate_fault(sim, rq, NEST_SIM_FAULT_PASID_NOT_PRESENT, 0, 0, ret_fault);
	reason = sim_fmt_get(pe->fmt)->entry_check(pe, rq->access);
	if (reason)
		return sim_xlate_fault(sim, rq, reason, 0, 0, ret_fault);
	e = sim_tlb_lookup(sim->iotlb, did, rq->tag, rq->addr);
	if (e && sim_xlate_hit_ok(e, rq->access)) {
		sim->cnt.iotlb_hits++;
		if (dev->devtlb) /* the translation completion fills the device TLB */
			sim_tlb_insert(dev->devtlb, e);
		return sim_xlate_hit(sim, rq, e, NEST_SIM_CACHE_IOTLB, xl);
	}
	sim_xlate_note_denied(e, rq->access, NEST_SIM_CACHE_IOTLB, &denied, &denied_cache);
	sim->cnt.iotlb_misses++;
	stale0 = sim->cnt.stale;
	r = sim_xlate_miss(sim, rq, pe, xl, ret_fault);
	/*
	 * The walk succeeded where a cached entry refused: the guest widened a mapping without
	 * invalidating. Hardware may fault from the cached entry instead of walking again, so the
	 * checker reports it (once per translation).
	 */
	if (r == 0 && denied_cache && dev->dom->checker && sim->cnt.stale == stale0)
		sim_xlate_check(sim, rq, &denied, denied_cache);
	/*
	 * The walk faulted too: drop the entries that refused the access (IOTLB and this
	 * device's TLB), as x86 drops a TLB entry on a page fault, so that the guest's fix of
	 * the tables is seen on the next access without an invalidation. Hardware may keep them;
	 * a guest must still invalidate (docs/SIM.md).
	 */
	if (r < 0)
		sim_xlate_drop_denied(sim, rq, did);
	return r;
}

static int sim_req_init(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid, uint32_t access,
			struct sim_req *rq)
{
	if (access & ~NEST_SIM_ACC_VALID)
		return -EOPNOTSUPP;
	if ((access & NEST_SIM_ACC_WRITE) && (access & NEST_SIM_ACC_EXEC))
		return -EINVAL;
	rq->dev = sim_device_get(sim, dev_id);
	if (!rq->dev)
		return -ENOENT;
	rq->pasid = pasid;
	rq->tag = sim_device_tag(rq->dev, pasid);
	rq->access = access;
	return 0;
}

int nest_sim_translate(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid, uint64_t addr,
		       uint32_t access, struct nest_sim_xlate *ret,
		       struct nest_sim_fault *ret_fault)
{
	struct sim_req rq;
	int r = sim_req_init(sim, dev_id, pasid, access, &rq);

	if (r < 0)
		return r;
	rq.addr = addr;
	return sim_xlate(sim, &rq, ret, ret_fault);
}

int nest_sim_dma(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid, uint64_t addr, void *buf,
		 size_t len, uint32_t access, size_t *ret_done, struct nest_sim_fault *ret_fault)
{
	struct nest_sim_xlate xl;
	struct sim_req rq;
	size_t done = 0;
	int r = sim_req_init(sim, dev_id, pasid, access, &rq);

	if (r < 0)
		return r;
	if (len && __builtin_add_overflow(addr, (uint64_t)len - 1, &(uint64_t){0}))
		return -EOVERFLOW;
	while (done < len) {
		uint64_t in_page;
		size_t chunk;

		rq.addr = addr + done;
		r = sim_xlate(sim, &rq, &xl, ret_fault);
		if (r < 0)
			break;
		in_page = xl.page_size - (rq.addr & (xl.page_size - 1));
		chunk = (size_t)(len - done < in_page ? len - done : in_page);
		r = sim_touch(&rq.dev->dom->s2, xl.hva, chunk);
		if (r < 0)
			break;
		if (access & NEST_SIM_ACC_WRITE)
			memcpy(xl.hva, (uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done, xl.hva, chunk);
		done += chunk;
	}
	sim->cnt.dma_bytes += done;
	if (ret_done)
		*ret_done = done;
	if (r == 0 && ret_fault) /* documented as written on success too: reason NONE */
		*ret_fault = (struct nest_sim_fault){0};
	return r;
}

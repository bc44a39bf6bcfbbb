/* SPDX-License-Identifier: MIT */
/*
 * The VT-d first-level format: x86-64 long-mode 4-level (48-bit) and 5-level (57-bit) paging,
 * walked with every table entry read through stage 2.
 *
 * Choices, following the VT-d spec where it speaks:
 * - XD (bit 63) is always interpreted; VT-d has no NXE switch, so XD is never reserved.
 * - Reserved: address bits max_gaw..51 at every level, PS at PML5E/PML4E, bits 13..29 of a
 *   1 GiB PDPE and 13..20 of a 2 MiB PDE (bit 12 is PAT there). Bits 52..62 are ignored.
 * - Accessed (and, with EAFE, extended-accessed bit 10) is set on each entry as it is walked,
 *   before the next level is read, so a walk that later faults leaves A set on the levels it
 *   passed. Dirty is set on the leaf only once the whole translation, stage 2 included, has
 *   succeeded for a write. Setting A/D needs stage-2 write permission on the table page.
 * - Non-leaf entries that were walked (present, A set) go into the paging-structure cache
 *   when the caller passes one; a later walk starts below the deepest cached entry. A
 *   leaf-only (LEAF hint) invalidation keeps these entries, as VT-d may.
 * - Supervisor requests need SRE, checked on the PASID entry before the walk starts (and, by
 *   sim-xlate.c, before the IOTLB is looked up). Supervisor reads may read user pages; supervisor writes
 *   ignore R/W unless WPE is set; supervisor instruction fetches from user pages fault.
 */
#include "sim-internal.h"

#define PTE_P	 (1ull << 0)
#define PTE_RW	 (1ull << 1)
#define PTE_US	 (1ull << 2)
#define PTE_A	 (1ull << 5)
#define PTE_D	 (1ull << 6)
#define PTE_PS	 (1ull << 7)
#define PTE_EA	 (1ull << 10)
#define PTE_XD	 (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

/* a guest rewriting an entry in a tight loop must not pin us in a CAS loop forever */
#define VTD_CAS_TRIES 64

static int vtd_bind_check(const struct nest_sim_bind *b, uint32_t max_gaw)
{
	if (b->addr_width != 48 && b->addr_width != 57)
		return -EINVAL;
	if (b->gpgd & SIM_PAGE_MASK)
		return -EINVAL;
	if (b->gpgd >> max_gaw)
		return -EINVAL;
	return 0;
}

static uint32_t vtd_access_check(uint32_t perms, uint32_t access, uint64_t flags)
{
	bool priv = access & NEST_SIM_ACC_PRIV;
	bool wr = access & NEST_SIM_ACC_WRITE;
	bool ex = access & NEST_SIM_ACC_EXEC;

	if (priv && !(flags & NEST_SIM_BIND_F_SRE))
		return NEST_SIM_FAULT_SRE;
	if (!priv && !(perms & NEST_SIM_XLATE_P_U))
		return NEST_SIM_FAULT_USER;
	if (wr && !(perms & NEST_SIM_XLATE_P_W) && (!priv || (flags & NEST_SIM_BIND_F_WPE)))
		return NEST_SIM_FAULT_WRITE;
	if (ex && !(perms & NEST_SIM_XLATE_P_X))
		return NEST_SIM_FAULT_EXEC;
	if (ex && priv && (perms & NEST_SIM_XLATE_P_U))
		return NEST_SIM_FAULT_SUPERVISOR;
	if (wr ? !(perms & NEST_SIM_XLATE_P_S2W) : !(perms & NEST_SIM_XLATE_P_S2R))
		return NEST_SIM_FAULT_S2_PERM;
	return NEST_SIM_FAULT_NONE;
}

/* PASID-entry stage: a supervisor request needs SRE before anything is looked up or walked. */
static uint32_t vtd_entry_check(const struct sim_pasid_entry *pe, uint32_t access)
{
	if ((access & NEST_SIM_ACC_PRIV) && !(pe->flags & NEST_SIM_BIND_F_SRE))
		return NEST_SIM_FAULT_SRE;
	return NEST_SIM_FAULT_NONE;
}

static bool vtd_canonical(uint64_t addr, unsigned levels)
{
	unsigned width = levels == 5 ? 57 : 48;

	return (uint64_t)((int64_t)(addr << (64 - width)) >> (64 - width)) == addr;
}

static uint64_t vtd_rsvd_mask(unsigned lvl, uint64_t pte, uint32_t max_gaw)
{
	uint64_t m = ((1ull << 52) - 1) & ~((1ull << max_gaw) - 1);

	if (lvl >= 4)
		m |= PTE_PS;
	else if (lvl == 3 && (pte & PTE_PS))
		m |= 0x3fffe000ull; /* bits 29:13 */
	else if (lvl == 2 && (pte & PTE_PS))
		m |= 0x1fe000ull; /* bits 20:13 */
	return m;
}

static int vtd_fault(struct sim_walk_res *res, uint32_t reason, unsigned lvl, uint64_t gpa)
{
	res->fault = reason;
	res->fault_level = lvl;
	res->fault_gpa = gpa;
	return -EFAULT;
}

/*
 * Read the level-@lvl entry at GPA @egpa through stage 2, check P and reserved bits and set
 * A (and EA) in guest memory. ret_p and ret_rg locate the entry for a later D update.
 */
static int vtd_entry_load(const struct sim_walk_req *rq, struct sim_walk_res *res, uint64_t egpa,
			  unsigned lvl, uint64_t **ret_p, const struct sim_region **ret_rg,
			  uint64_t *ret_v)
{
	const struct sim_region *rg = sim_s2_lookup(rq->s2, egpa);
	uint64_t want = PTE_A | ((rq->pe->flags & NEST_SIM_BIND_F_EAFE) ? PTE_EA : 0);
	uint64_t *p, v;

	if (!rg)
		return vtd_fault(res, NEST_SIM_FAULT_S2_MISS, lvl, egpa);
	if (!(rg->perms & NEST_SIM_PERM_R))
		return vtd_fault(res, NEST_SIM_FAULT_S2_PERM, lvl, egpa);
	p = (uint64_t *)(void *)(rg->hva + (egpa - rg->gpa));
	if (sim_touch(rq->s2, p, sizeof(*p)) < 0) /* would bring a hole into existence: refused */
		return vtd_fault(res, NEST_SIM_FAULT_S2_MISS, lvl, egpa);
	v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	for (int tries = 0;; tries++) {
		if (!(v & PTE_P))
			return vtd_fault(res, NEST_SIM_FAULT_PTE_NOT_PRESENT, lvl, egpa);
		if (v & vtd_rsvd_mask(lvl, v, rq->max_gaw))
			return vtd_fault(res, NEST_SIM_FAULT_RSVD, lvl, egpa);
		if ((v & want) == want || !rq->side_effects || tries >= VTD_CAS_TRIES)
			break;
		if (!(rg->perms & NEST_SIM_PERM_W))
			return vtd_fault(res, NEST_SIM_FAULT_S2_PERM, lvl, egpa);
		/* on failure v is reloaded and every check runs again on the new value */
		if (__atomic_compare_exchange_n(p, &v, v | want, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE)) {
			v |= want;
			break;
		}
	}
	if ((v & want) != want && !rq->side_effects && !(rg->perms & NEST_SIM_PERM_W))
		return vtd_fault(res, NEST_SIM_FAULT_S2_PERM, lvl, egpa);
	*ret_p = p;
	*ret_rg = rg;
	*ret_v = v;
	return 0;
}

static uint32_t vtd_entry_perms(uint64_t v)
{
	return ((v & PTE_RW) ? NEST_SIM_XLATE_P_W : 0) | ((v & PTE_US) ? NEST_SIM_XLATE_P_U : 0) |
	       ((v & PTE_XD) ? 0 : NEST_SIM_XLATE_P_X);
}

struct vtd_leaf {
	uint64_t *p;
	const struct sim_region *rg;
	uint64_t v;
	uint64_t egpa;
	unsigned lvl;
	uint32_t perms;
};

/* Bytes of address space one level-@lvl entry maps, as a shift: 12 (PTE) .. 48 (PML5E). */
static unsigned vtd_shift(unsigned lvl)
{
	return SIM_PAGE_SHIFT + 9 * (lvl - 1);
}

/*
 * Paging-structure cache: the deepest cached non-leaf entry covering rq->addr lets the walk
 * start at the level below it, with the cached table address and accumulated permissions,
 * without reading (or setting A in) the levels above. Returns the level to start at.
 */
static unsigned vtd_psc_start(const struct sim_walk_req *rq, struct sim_walk_res *res,
			      uint64_t *table, uint32_t *perms)
{
	if (!rq->psc || !rq->psc->n)
		return rq->pe->levels;
	for (unsigned lvl = 2; lvl <= rq->pe->levels; lvl++) {
		const struct sim_tlbe *e =
			sim_tlb_lookup_at(rq->psc, rq->domain, rq->pasid, rq->addr, vtd_shift(lvl));

		if (e) {
			*table = e->gpa;
			*perms = e->perms;
			res->psc_hit = true;
			return lvl - 1;
		}
	}
	return rq->pe->levels;
}

/* Cache a present non-leaf entry (A set) that points to table @next. */
static void vtd_psc_fill(const struct sim_walk_req *rq, unsigned lvl, uint64_t next, uint32_t perms)
{
	unsigned shift = vtd_shift(lvl);
	struct sim_tlbe e = {
		.va = rq->addr & ~((1ull << shift) - 1),
		.gpa = next,
		.domain = rq->domain,
		.pasid = rq->pasid,
		.shift = (uint8_t)shift,
		.perms = (uint8_t)perms,
		.fmt = rq->pe->fmt,
	};

	sim_tlb_insert(rq->psc, &e);
}

/* Walk the tables down to the leaf entry mapping rq->addr. */
static int vtd_walk_tables(const struct sim_walk_req *rq, struct sim_walk_res *res,
			   struct vtd_leaf *lf)
{
	uint64_t table = rq->pe->gpgd;
	uint32_t perms = NEST_SIM_XLATE_P_W | NEST_SIM_XLATE_P_U | NEST_SIM_XLATE_P_X;
	unsigned top = vtd_psc_start(rq, res, &table, &perms);

	for (unsigned lvl = top; lvl >= 1; lvl--) {
		unsigned shift = vtd_shift(lvl);
		uint64_t egpa = table + ((rq->addr >> shift) & 511) * 8;
		int r = vtd_entry_load(rq, res, egpa, lvl, &lf->p, &lf->rg, &lf->v);

		if (r < 0)
			return r;
		perms &= vtd_entry_perms(lf->v);
		if (lvl == 1 || (lvl <= 3 && (lf->v & PTE_PS))) {
			res->shift = (uint8_t)shift;
			res->gpa_page = lf->v & PTE_ADDR & ~((1ull << shift) - 1);
			lf->egpa = egpa;
			lf->lvl = lvl;
			lf->perms = perms;
			return 0;
		}
		table = lf->v & PTE_ADDR;
		if (rq->psc && rq->side_effects && (lf->v & PTE_A))
			vtd_psc_fill(rq, lvl, table, perms);
	}
	return vtd_fault(res, NEST_SIM_FAULT_PTE_NOT_PRESENT, 0, 0); /* levels was not 4/5 */
}

/* Stage-2 check of the final GPA. */
static int vtd_final_s2(const struct sim_walk_req *rq, struct sim_walk_res *res,
			struct vtd_leaf *lf)
{
	uint64_t gpa = res->gpa_page | (rq->addr & ((1ull << res->shift) - 1));
	const struct sim_region *rg = sim_s2_lookup(rq->s2, gpa);
	uint32_t need = (rq->access & NEST_SIM_ACC_WRITE) ? NEST_SIM_PERM_W : NEST_SIM_PERM_R;

	if (!rg)
		return vtd_fault(res, NEST_SIM_FAULT_S2_MISS, 0, gpa);
	if (!(rg->perms & need))
		return vtd_fault(res, NEST_SIM_FAULT_S2_PERM, 0, gpa);
	res->region = rg;
	res->perms =
		(uint8_t)(lf->perms | ((rg->perms & NEST_SIM_PERM_R) ? NEST_SIM_XLATE_P_S2R : 0) |
			  ((rg->perms & NEST_SIM_PERM_W) ? NEST_SIM_XLATE_P_S2W : 0));
	return 0;
}

/* One attempt; -EAGAIN if the leaf changed under the D update and the walk must restart. */
static int vtd_walk_once(const struct sim_walk_req *rq, struct sim_walk_res *res, bool last)
{
	struct vtd_leaf lf = {0};
	uint32_t reason;
	uint64_t v;
	int r;

	*res = (struct sim_walk_res){0};
	reason = vtd_entry_check(rq->pe, rq->access);
	if (reason) /* no table is read, no A bit set, nothing cached */
		return vtd_fault(res, reason, 0, 0);
	if (!vtd_canonical(rq->addr, rq->pe->levels))
		return vtd_fault(res, NEST_SIM_FAULT_NON_CANONICAL, 0, 0);
	r = vtd_walk_tables(rq, res, &lf);
	if (r < 0)
		return r;
	reason = vtd_access_check(lf.perms | NEST_SIM_XLATE_P_S2R | NEST_SIM_XLATE_P_S2W,
				  rq->access, rq->pe->flags);
	if (reason)
		return vtd_fault(res, reason, lf.lvl, lf.egpa);
	r = vtd_final_s2(rq, res, &lf);
	if (r < 0)
		return r;
	v = lf.v;
	if ((rq->access & NEST_SIM_ACC_WRITE) && !(v & PTE_D)) {
		if (!(lf.rg->perms & NEST_SIM_PERM_W))
			return vtd_fault(res, NEST_SIM_FAULT_S2_PERM, lf.lvl, lf.egpa);
		if (rq->side_effects &&
		    __atomic_compare_exchange_n(lf.p, &v, v | PTE_D, false, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			v |= PTE_D;
		else if (rq->side_effects && !last)
			return -EAGAIN;
	}
	res->dirty = v & PTE_D;
	return 0;
}

static void vtd_walk(const struct sim_walk_req *rq, struct sim_walk_res *res)
{
	for (int tries = 0; tries < VTD_CAS_TRIES; tries++)
		if (vtd_walk_once(rq, res, tries == VTD_CAS_TRIES - 1) != -EAGAIN)
			return;
}

static const struct sim_fmt_ops vtd_ops = {
	.bind_check = vtd_bind_check,
	.walk = vtd_walk,
	.access_check = vtd_access_check,
	.entry_check = vtd_entry_check,
};

const struct sim_fmt_ops *sim_vtd_ops(void)
{
	return &vtd_ops;
}

const struct sim_fmt_ops *sim_fmt_get(uint32_t fmt)
{
	switch (fmt) {
	case NEST_SIM_FMT_VTD_FL:
		return &vtd_ops;
	case SIM_FMT_S2:
		return sim_s2only_ops();
	default:
		return NULL;
	}
}

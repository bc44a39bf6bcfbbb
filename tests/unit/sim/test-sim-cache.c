/* SPDX-License-Identifier: MIT */
/*
 * Suite "cache": IOTLB, device TLB and PASID cache keep serving stale state until the right
 * invalidation; validity of invalidation requests; checker reports (sim-tlb.c, sim-pcache.c,
 * sim-inv.c, sim-xlate.c).
 */
#include <string.h>

#include "nest-test.h"
#include "test-sim-guest.h"

static struct tguest g;

#define VA   0x00007f0000200000ull
#define GPA1 0x0000000000111000ull
#define GPA2 0x0000000000222000ull

static void setup(uint32_t dev)
{
	tg_init(&g, NULL);
	tg_bind(&g, dev, 4, 0);
	tg_map(&g, g.root, 4, VA, GPA1, 1, PTE_ALL);
}

static void done(void)
{
	tg_fini(&g);
	NO_LEAKS();
}

static uint64_t gpa_of(uint32_t dev, uint64_t va, uint32_t *hit)
{
	struct nest_sim_xlate xl;

	cr_assert_eq(tg_xlate(&g, dev, va, 0, &xl, NULL), 0);
	if (hit)
		*hit = xl.hit;
	return xl.gpa;
}

static void remap(uint64_t gpa)
{
	*tg_entry(&g, g.root, 4, VA, 1) = gpa | PTE_ALL;
}

struct stale_log {
	unsigned n;
	struct nest_sim_stale last;
};

static void on_stale(void *opaque, const struct nest_sim_stale *s)
{
	struct stale_log *log = opaque;

	log->n++;
	log->last = *s;
}

struct inv_case {
	uint32_t granu;
	uint64_t addr;
	uint64_t gsize;
	uint64_t nb;
	uint32_t flags;
	bool covers;
};

ParameterizedTestParameters(cache, iotlb_stale_until_invalidated)
{
	static struct inv_case cases[] = {
		{NEST_SIM_GRANU_DOMAIN, 0, 0, 0, 0, true},
		{NEST_SIM_GRANU_PASID, 0, 0, 0, 0, true},
		{NEST_SIM_GRANU_ADDR, VA, 4096, 1, 0, true},
		{NEST_SIM_GRANU_ADDR, VA, 4096, 1, NEST_SIM_INV_F_LEAF, true},
		{NEST_SIM_GRANU_ADDR, VA - 0x200000, 0x200000, 2, 0, true},
		{NEST_SIM_GRANU_ADDR, VA + 0x123, 4096, 1, 0, true}, /* low bits ignored */
		{NEST_SIM_GRANU_ADDR, VA + 4096, 4096, 16, 0, false},
		{NEST_SIM_GRANU_ADDR, VA - 4096, 4096, 1, NEST_SIM_INV_F_LEAF, false},
	};

	return cr_make_param_array(struct inv_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct inv_case *c, cache, iotlb_stale_until_invalidated)
{
	uint32_t hit;

	setup(TG_DEV);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	remap(GPA2); /* the guest edits its PTE and does not invalidate */
	cr_expect_eq(gpa_of(TG_DEV, VA, &hit), GPA1);
	cr_expect_eq(hit, NEST_SIM_CACHE_IOTLB);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, c->granu, c->addr, c->gsize, c->nb, c->flags),
		     0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), c->covers ? GPA2 : GPA1);
	done();
}

/* ADDR with PASID 0 covers the range in every PASID of the domain, and only the range. */
Test(cache, addr_without_pasid_covers_every_pasid)
{
	struct nest_sim_bind b = {.fmt = NEST_SIM_FMT_VTD_FL, .addr_width = 48};
	struct nest_sim_inv all = {.cache = NEST_SIM_CACHE_IOTLB | NEST_SIM_CACHE_DEV_IOTLB,
				   .granu = NEST_SIM_GRANU_ADDR,
				   .granule_size = 4096,
				   .nb_granules = 1};
	struct nest_sim_xlate xl;
	uint32_t p1, p2;

	setup(TG_DEV_ATS);
	p1 = g.pasid;
	cr_assert_eq(nest_sim_pasid_alloc(g.sim, g.dom, 1, 1000, &p2), 0);
	b.gpgd = g.root;
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV_ATS, p2, &b), 0);
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(nest_sim_translate(g.sim, TG_DEV_ATS, k ? p2 : p1, VA, 0, &xl, NULL),
			     0);
		cr_assert_eq(xl.gpa, GPA1);
	}
	remap(GPA2);
	all.addr = VA + 4096; /* the next page: nothing of VA goes */
	cr_assert_eq(nest_sim_invalidate(g.sim, g.dom, &all, NEST_SIM_DEV_ALL), 0);
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(nest_sim_translate(g.sim, TG_DEV_ATS, k ? p2 : p1, VA, 0, &xl, NULL),
			     0);
		cr_expect_eq(xl.gpa, GPA1, "PASID %u", k ? p2 : p1);
	}
	all.addr = VA;
	cr_assert_eq(nest_sim_invalidate(g.sim, g.dom, &all, NEST_SIM_DEV_ALL), 0);
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(nest_sim_translate(g.sim, TG_DEV_ATS, k ? p2 : p1, VA, 0, &xl, NULL),
			     0);
		cr_expect_eq(xl.gpa, GPA2, "PASID %u", k ? p2 : p1);
	}
	/* PASID granularity still needs a PASID */
	all.granu = NEST_SIM_GRANU_PASID;
	all.cache = NEST_SIM_CACHE_IOTLB;
	all.addr = all.granule_size = all.nb_granules = 0;
	cr_expect_eq(nest_sim_invalidate(g.sim, g.dom, &all, NEST_SIM_DEV_ALL), -ENOENT);
	done();
}

Test(cache, large_page_removed_by_overlapping_range)
{
	setup(TG_DEV);
	tg_map(&g, g.root, 4, 0x40000000ull, 0x400000ull, 2, PTE_ALL);
	cr_assert_eq(gpa_of(TG_DEV, 0x40000000ull, NULL), 0x400000ull);
	*tg_entry(&g, g.root, 4, 0x40000000ull, 2) = 0x600000ull | PTE_ALL | PTE_PS;
	cr_expect_eq(gpa_of(TG_DEV, 0x40001000ull, NULL), 0x401000ull);
	/* one 4 KiB granule inside the 2 MiB page drops the whole cached page */
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, 0x40100000ull, 4096, 1,
			    NEST_SIM_INV_F_LEAF),
		     0);
	cr_expect_eq(gpa_of(TG_DEV, 0x40001000ull, NULL), 0x601000ull);
	done();
}

/*
 * Replace the subtree under the level-@lvl entry of VA (2 = PDE, 3 = PDPE, 4 = PML4E) by a new
 * one mapping VA to GPA2: a non-leaf change.
 */
static void swap_subtree(unsigned lvl)
{
	uint64_t root2 = tg_table_alloc(&g);

	tg_map(&g, root2, 4, VA, GPA2, 1, PTE_ALL);
	*tg_entry(&g, g.root, 4, VA, lvl) = *tg_entry(&g, root2, 4, VA, lvl);
}

struct psc_case {
	unsigned lvl; /* level of the changed non-leaf entry */
	uint32_t granu;
	uint64_t addr;
	uint64_t nb;
	uint32_t flags;
	bool covers; /* the invalidation drops the cached non-leaf entries */
};

ParameterizedTestParameters(cache, nonleaf_change_needs_nonleaf_invalidation)
{
	static struct psc_case cases[] = {
		/* the leaf hint keeps the paging-structure cache: the old tables stay in use */
		{2, NEST_SIM_GRANU_ADDR, VA, 1, NEST_SIM_INV_F_LEAF, false},
		{3, NEST_SIM_GRANU_ADDR, VA, 1, NEST_SIM_INV_F_LEAF, false},
		{4, NEST_SIM_GRANU_ADDR, VA, 512, NEST_SIM_INV_F_LEAF, false},
		/* without it every cached non-leaf entry over the range goes */
		{2, NEST_SIM_GRANU_ADDR, VA, 1, 0, true},
		{3, NEST_SIM_GRANU_ADDR, VA - 0x1000, 2, 0, true},
		{4, NEST_SIM_GRANU_ADDR, VA, 1, 0, true},
		{2, NEST_SIM_GRANU_ADDR, VA + 0x200000, 1, 0, false}, /* another PDE's range */
		{2, NEST_SIM_GRANU_PASID, 0, 0, 0, true},
		{4, NEST_SIM_GRANU_DOMAIN, 0, 0, 0, true},
	};

	return cr_make_param_array(struct psc_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct psc_case *c, cache, nonleaf_change_needs_nonleaf_invalidation)
{
	uint32_t hit;

	setup(TG_DEV);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	swap_subtree(c->lvl);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, c->granu, c->addr, 4096, c->nb, c->flags), 0);
	/* the IOTLB entry is gone either way (every case covers VA but one): this is a walk */
	cr_expect_eq(gpa_of(TG_DEV, VA, &hit), c->covers ? GPA2 : GPA1);
	if (c->addr != VA + 0x200000)
		cr_expect_eq(hit, 0);
	done();
}

Test(cache, five_level_pml5e_change_needs_nonleaf_invalidation)
{
	uint64_t root2;

	tg_init(&g, NULL);
	tg_bind(&g, TG_DEV, 5, 0);
	tg_map(&g, g.root, 5, VA, GPA1, 1, PTE_ALL);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	root2 = tg_table_alloc(&g);
	tg_map(&g, root2, 5, VA, GPA2, 1, PTE_ALL);
	*tg_entry(&g, g.root, 5, VA, 5) = *tg_entry(&g, root2, 5, VA, 5);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 1,
			    NEST_SIM_INV_F_LEAF),
		     0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA1, "cached PML4E/PDPE/PDE still used");
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 1, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA2);
	done();
}

Test(cache, nonleaf_stale_walk_is_reported_by_the_checker)
{
	struct stale_log log = {0};
	struct nest_sim_counters c;

	setup(TG_DEV);
	nest_sim_set_stale_cb(g.sim, on_stale, &log);
	cr_assert_eq(nest_sim_domain_set_checker(g.sim, g.dom, true), 0);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	swap_subtree(2);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 1,
			    NEST_SIM_INV_F_LEAF),
		     0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA1); /* walked from the cached PDE */
	cr_assert_eq(log.n, 1);
	cr_expect_eq(log.last.cached_gpa, GPA1);
	cr_expect_eq(log.last.current_gpa, GPA2);
	cr_expect_eq(log.last.cache, NEST_SIM_CACHE_IOTLB);
	nest_sim_get_counters(g.sim, &c);
	cr_expect_eq(c.walks, 2);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 1, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA2);
	cr_expect_eq(log.n, 1, "a walk of the current tables is not reported");
	done();
}

Test(cache, psc_skips_cached_levels_and_can_be_disabled)
{
	struct nest_sim_config cfg = {.no_psc = true};
	uint32_t pasid;

	setup(TG_DEV);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	/* a second page under the same PDE: the walk reads only the PTE, A stays clear above */
	tg_map(&g, g.root, 4, VA + 0x1000, GPA2, 1, PTE_ALL);
	for (unsigned l = 2; l <= 4; l++)
		*tg_entry(&g, g.root, 4, VA, l) &= ~PTE_A;
	cr_expect_eq(gpa_of(TG_DEV, VA + 0x1000, NULL), GPA2);
	cr_expect_eq(*tg_entry(&g, g.root, 4, VA, 2) & PTE_A, 0);
	cr_expect_eq(*tg_entry(&g, g.root, 4, VA, 4) & PTE_A, 0);
	cr_expect(*tg_entry(&g, g.root, 4, VA + 0x1000, 1) & PTE_A);
	/* freeing the PASID drops its cached non-leaf entries: the next owner walks its own */
	swap_subtree(2);
	cr_assert_eq(nest_sim_pasid_free(g.sim, g.dom, g.pasid), 0);
	cr_assert_eq(nest_sim_pasid_alloc(g.sim, g.dom, g.pasid, g.pasid, &pasid), 0);
	tg_bind(&g, TG_DEV, 4, 0);
	tg_map(&g, g.root, 4, VA + 0x1000, GPA1, 1, PTE_ALL);
	cr_expect_eq(gpa_of(TG_DEV, VA + 0x1000, NULL), GPA1);
	tg_fini(&g);

	/* without a paging-structure cache the leaf hint drops everything, as before */
	tg_init(&g, &cfg);
	tg_bind(&g, TG_DEV, 4, 0);
	tg_map(&g, g.root, 4, VA, GPA1, 1, PTE_ALL);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	swap_subtree(2);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 1,
			    NEST_SIM_INV_F_LEAF),
		     0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA2);
	done();
}

Test(cache, devtlb_needs_its_own_invalidation)
{
	uint32_t hit;

	setup(TG_DEV_ATS);
	cr_assert_eq(gpa_of(TG_DEV_ATS, VA, &hit), GPA1);
	cr_expect_eq(hit, 0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, &hit), GPA1);
	cr_expect_eq(hit, NEST_SIM_CACHE_DEV_IOTLB);
	remap(GPA2);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID, 0, 0, 0, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, &hit), GPA1);
	cr_expect_eq(hit, NEST_SIM_CACHE_DEV_IOTLB);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_DEV_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 1, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, &hit), GPA2);
	cr_expect_eq(hit, 0);
	done();
}

Test(cache, devtlb_flush_leaves_iotlb)
{
	uint32_t hit;

	setup(TG_DEV_ATS);
	cr_assert_eq(gpa_of(TG_DEV_ATS, VA, NULL), GPA1);
	remap(GPA2);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_DEV_IOTLB, NEST_SIM_GRANU_PASID, 0, 0, 0, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, &hit), GPA1);
	cr_expect_eq(hit, NEST_SIM_CACHE_IOTLB); /* refilled from the stale IOTLB */
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB | NEST_SIM_CACHE_DEV_IOTLB,
			    NEST_SIM_GRANU_PASID, 0, 0, 0, 0),
		     0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, NULL), GPA2);
	done();
}

Test(cache, devtlb_invalidation_targets_devices_and_range)
{
	struct nest_sim_inv inv = {
		.cache = NEST_SIM_CACHE_DEV_IOTLB, .granu = NEST_SIM_GRANU_PASID, .pasid = 0};
	struct nest_sim_bind b = {.fmt = NEST_SIM_FMT_VTD_FL, .addr_width = 48};
	uint32_t hit;

	setup(TG_DEV_ATS);
	cr_assert_eq(nest_sim_device_add(g.sim, g.dom, 3, true, 20), 0);
	b.gpgd = g.root;
	cr_assert_eq(nest_sim_bind(g.sim, 3, g.pasid, &b), 0);
	cr_assert_eq(gpa_of(TG_DEV_ATS, VA, NULL), GPA1);
	cr_assert_eq(gpa_of(3, VA, &hit), GPA1);
	cr_assert_eq(hit, NEST_SIM_CACHE_IOTLB); /* shared IOTLB, own device TLB filled */
	remap(GPA2);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID, 0, 0, 0, 0), 0);
	/* a device-TLB invalidation for device 3 leaves the other device's TLB stale */
	inv.pasid = g.pasid;
	cr_assert_eq(nest_sim_invalidate(g.sim, g.dom, &inv, 3), 0);
	cr_expect_eq(gpa_of(3, VA, &hit), GPA2);
	cr_expect_eq(hit, 0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, &hit), GPA1);
	cr_expect_eq(hit, NEST_SIM_CACHE_DEV_IOTLB);
	/* an ADDR range next to the page does not cover it; one over it does */
	cr_assert_eq(
		tg_inv(&g, NEST_SIM_CACHE_DEV_IOTLB, NEST_SIM_GRANU_ADDR, VA + 4096, 4096, 4, 0),
		0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, NULL), GPA1);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_DEV_IOTLB, NEST_SIM_GRANU_ADDR, VA - 4096, 4096, 2,
			    NEST_SIM_INV_F_LEAF),
		     0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, NULL), GPA2);
	done();
}

ParameterizedTestParameters(cache, pasid_cache_stale_after_rebind)
{
	static uint32_t granus[] = {NEST_SIM_GRANU_DOMAIN, NEST_SIM_GRANU_PASID};

	return cr_make_param_array(uint32_t, granus, 2);
}

ParameterizedTest(uint32_t *granu, cache, pasid_cache_stale_after_rebind)
{
	uint64_t old_root;

	setup(TG_DEV);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	old_root = g.root;
	cr_assert_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), 0);
	/* unbound but still cached: the old entry keeps translating (after an IOTLB flush) */
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID, 0, 0, 0, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	tg_bind(&g, TG_DEV, 4, 0);
	tg_map(&g, g.root, 4, VA, GPA2, 1, PTE_ALL);
	cr_assert_neq(old_root, g.root);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID, 0, 0, 0, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_PASID, *granu, 0, 0, 0, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA1); /* the IOTLB still holds it */
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID, 0, 0, 0, 0), 0);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA2);
	done();
}

Test(cache, unbind_then_pasid_invalidation_faults)
{
	struct nest_sim_xlate xl;
	struct nest_sim_fault f;

	setup(TG_DEV);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	cr_assert_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), 0);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_PASID | NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID,
			    0, 0, 0, 0),
		     0);
	cr_expect_eq(tg_xlate(&g, TG_DEV, VA, 0, &xl, &f), -EFAULT);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_PASID_NOT_PRESENT);
	done();
}

/* A translation filled by a user request never serves a supervisor one on an SRE=0 PASID. */
ParameterizedTestParameters(cache, user_fill_does_not_serve_supervisor_without_sre)
{
	static uint32_t devs[] = {TG_DEV, TG_DEV_ATS};

	return cr_make_param_array(uint32_t, devs, 2);
}

ParameterizedTest(uint32_t *dev, cache, user_fill_does_not_serve_supervisor_without_sre)
{
	struct nest_sim_counters c0, c1;
	struct nest_sim_xlate xl;
	struct nest_sim_fault f;
	uint32_t hit;

	setup(*dev); /* SRE clear */
	cr_assert_eq(gpa_of(*dev, VA, NULL), GPA1);
	nest_sim_get_counters(g.sim, &c0);
	cr_expect_eq(tg_xlate(&g, *dev, VA, NEST_SIM_ACC_PRIV, &xl, &f), -EFAULT);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_SRE);
	cr_expect_eq(f.level, 0);
	nest_sim_get_counters(g.sim, &c1);
	cr_expect_eq(c1.walks, c0.walks, "a refused supervisor request walked");
	cr_expect_eq(c1.iotlb_hits + c1.devtlb_hits, c0.iotlb_hits + c0.devtlb_hits);
	/* and the user's entry is still there */
	cr_expect_eq(gpa_of(*dev, VA, &hit), GPA1);
	cr_expect_neq(hit, 0);
	done();
}

/*
 * The IOTLB is looked up with the domain id from a present PASID entry: once the entry is
 * gone from the table and the PASID cache, a translation faults even though the IOTLB still
 * holds the old page (VT-d scalable mode). While the PASID cache still holds the entry, the
 * IOTLB serves it.
 */
Test(cache, iotlb_needs_a_present_pasid_entry)
{
	struct nest_sim_xlate xl;
	struct nest_sim_fault f;
	uint32_t hit;

	setup(TG_DEV);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	cr_assert_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), 0);
	cr_expect_eq(gpa_of(TG_DEV, VA, &hit), GPA1, "PASID cache not invalidated yet");
	cr_expect_eq(hit, NEST_SIM_CACHE_IOTLB);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_PASID, NEST_SIM_GRANU_PASID, 0, 0, 0, 0), 0);
	cr_expect_eq(tg_xlate(&g, TG_DEV, VA, 0, &xl, &f), -EFAULT,
		     "served from the IOTLB without a PASID entry");
	cr_expect_eq(f.reason, NEST_SIM_FAULT_PASID_NOT_PRESENT);
	done();
}

/*
 * A cached entry refuses an access, the sim walks again and the walk faults too: the
 * refusing entry is dropped (IOTLB, and the device TLB of an ATS device), so the next access
 * walks.
 */
ParameterizedTestParameters(cache, faulting_rewalk_drops_the_refusing_entry)
{
	static uint32_t devs[] = {TG_DEV, TG_DEV_ATS};

	return cr_make_param_array(uint32_t, devs, 2);
}

ParameterizedTest(uint32_t *dev, cache, faulting_rewalk_drops_the_refusing_entry)
{
	struct stale_log log = {0};
	struct nest_sim_xlate xl;
	struct nest_sim_fault f;
	uint32_t hit;

	tg_init(&g, &(struct nest_sim_config){.checker = true});
	tg_bind(&g, *dev, 4, 0);
	tg_map(&g, g.root, 4, VA, GPA1, 1, PTE_P | PTE_US); /* read-only */
	nest_sim_set_stale_cb(g.sim, on_stale, &log);
	cr_assert_eq(gpa_of(*dev, VA, NULL), GPA1);
	cr_assert_eq(gpa_of(*dev, VA, &hit), GPA1);
	cr_assert_neq(hit, 0);
	cr_expect_eq(tg_xlate(&g, *dev, VA, NEST_SIM_ACC_WRITE, &xl, &f), -EFAULT);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_WRITE);
	cr_expect_eq(gpa_of(*dev, VA, &hit), GPA1);
	cr_expect_eq(hit, 0, "the refusing entry was kept (hit %u)", hit);
	/* the guest fixes its tables after the fault, without invalidating: nothing stale */
	tg_map(&g, g.root, 4, VA + 0x2000, GPA2, 1, PTE_P | PTE_US);
	cr_assert_eq(gpa_of(*dev, VA + 0x2000, NULL), GPA2);
	cr_expect_eq(tg_xlate(&g, *dev, VA + 0x2000, NEST_SIM_ACC_WRITE, &xl, &f), -EFAULT);
	*tg_entry(&g, g.root, 4, VA + 0x2000, 1) |= PTE_RW;
	cr_expect_eq(tg_xlate(&g, *dev, VA + 0x2000, NEST_SIM_ACC_WRITE, &xl, NULL), 0);
	cr_expect_eq(log.n, 0, "a fixed fault was reported stale");
	done();
}

Test(cache, validity_table)
{
	setup(TG_DEV_ATS);
	for (uint32_t cache = 1; cache <= NEST_SIM_CACHE_VALID; cache++) {
		for (uint32_t granu = 0; granu < NEST_SIM_GRANU_MAX; granu++) {
			bool valid = true;
			int r;

			if (granu == NEST_SIM_GRANU_DOMAIN && (cache & NEST_SIM_CACHE_DEV_IOTLB))
				valid = false;
			if (granu == NEST_SIM_GRANU_ADDR && (cache & NEST_SIM_CACHE_PASID))
				valid = false;
			r = tg_inv(&g, cache, granu, VA, 4096, 1, 0);
			cr_expect_eq(r, valid ? 0 : -EINVAL, "cache %#x granu %u -> %d", cache,
				     granu, r);
		}
	}
	done();
}

Test(cache, invalid_requests)
{
	struct nest_sim_inv inv = {.cache = NEST_SIM_CACHE_IOTLB, .granu = NEST_SIM_GRANU_PASID};
	uint32_t other;

	setup(TG_DEV);
	cr_expect_eq(tg_inv(&g, 0, NEST_SIM_GRANU_DOMAIN, 0, 0, 0, 0), -EINVAL);
	cr_expect_eq(tg_inv(&g, 8, NEST_SIM_GRANU_DOMAIN, 0, 0, 0, 0), -EOPNOTSUPP);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, 3, 0, 0, 0, 0), -EOPNOTSUPP);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 1, 2),
		     -EOPNOTSUPP);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID, 0, 0, 0,
			    NEST_SIM_INV_F_LEAF),
		     -EINVAL);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 0, 1, 0), -EINVAL);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 2048, 1, 0),
		     -EINVAL);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 6144, 1, 0),
		     -EINVAL);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 0, 0),
		     -EINVAL);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 1ull << 40,
			    1ull << 30, 0),
		     -EOVERFLOW);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, ~0ull << 12, 8192, 1, 0),
		     -EOVERFLOW);
	/* a PASID that is not the domain's */
	inv.pasid = g.pasid + 1;
	cr_expect_eq(nest_sim_invalidate(g.sim, g.dom, &inv, NEST_SIM_DEV_ALL), -ENOENT);
	inv.pasid = g.pasid;
	cr_expect_eq(nest_sim_invalidate(g.sim, g.dom + 100, &inv, NEST_SIM_DEV_ALL), -ENOENT);
	cr_expect_eq(nest_sim_invalidate(g.sim, g.dom, &inv, 12345), -ENOENT);
	cr_assert_eq(nest_sim_domain_new(g.sim, 1, &other), 0);
	cr_assert_eq(nest_sim_device_add(g.sim, other, 50, true, 20), 0);
	cr_expect_eq(nest_sim_invalidate(g.sim, g.dom, &inv, 50), -ENOENT);
	cr_expect_eq(nest_sim_invalidate(g.sim, g.dom, &inv, TG_DEV), 0);
	done();
}

Test(cache, invalidation_counters)
{
	struct nest_sim_counters c;

	setup(TG_DEV);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB | NEST_SIM_CACHE_DEV_IOTLB,
			    NEST_SIM_GRANU_ADDR, VA, 4096, 1, 0),
		     0);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_PASID, NEST_SIM_GRANU_DOMAIN, 0, 0, 0, 0), 0);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_PASID, NEST_SIM_GRANU_ADDR, 0, 4096, 1, 0), -EINVAL);
	nest_sim_get_counters(g.sim, &c);
	cr_expect_eq(c.inv[0][NEST_SIM_GRANU_ADDR], 1);
	cr_expect_eq(c.inv[1][NEST_SIM_GRANU_ADDR], 1);
	cr_expect_eq(c.inv[2][NEST_SIM_GRANU_DOMAIN], 1);
	cr_expect_eq(c.inv[2][NEST_SIM_GRANU_ADDR], 0);
	done();
}

Test(cache, checker_reports_stale_hits)
{
	struct stale_log log = {0};
	struct nest_sim_counters c;
	uint32_t hit;

	setup(TG_DEV);
	nest_sim_set_stale_cb(g.sim, on_stale, &log);
	cr_assert_eq(nest_sim_domain_set_checker(g.sim, g.dom, true), 0);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	cr_expect_eq(log.n, 0); /* a consistent hit is not reported */
	remap(GPA2);
	cr_expect_eq(gpa_of(TG_DEV, VA + 8, &hit), GPA1 + 8); /* still served stale */
	cr_expect_eq(hit, NEST_SIM_CACHE_IOTLB);
	cr_assert_eq(log.n, 1);
	cr_expect_eq(log.last.cached_gpa, GPA1 + 8);
	cr_expect_eq(log.last.current_gpa, GPA2 + 8);
	cr_expect_eq(log.last.current_fault, NEST_SIM_FAULT_NONE);
	cr_expect_eq(log.last.addr, VA + 8);
	cr_expect_eq(log.last.dev_id, TG_DEV);
	cr_expect_eq(log.last.pasid, g.pasid);
	cr_expect_eq(log.last.domain, g.dom);
	cr_expect_eq(log.last.cache, NEST_SIM_CACHE_IOTLB);
	/* the re-walk has no side effects: A was cleared in the new PTE and stays clear */
	cr_expect(!(*tg_entry(&g, g.root, 4, VA, 1) & PTE_A));
	*tg_entry(&g, g.root, 4, VA, 1) = 0;
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	cr_expect_eq(log.last.current_fault, NEST_SIM_FAULT_PTE_NOT_PRESENT);
	*tg_entry(&g, g.root, 4, VA, 1) = GPA1 | PTE_P | PTE_US; /* now read-only */
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	cr_expect_eq(log.last.current_perms & NEST_SIM_XLATE_P_W, 0);
	cr_expect_eq(log.last.cached_perms & NEST_SIM_XLATE_P_W, NEST_SIM_XLATE_P_W);
	nest_sim_get_counters(g.sim, &c);
	cr_expect_eq(c.stale, 3);
	cr_expect_eq(log.n, 3);
	nest_sim_set_checker(g.sim, false);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	cr_expect_eq(log.n, 3);
	done();
}

Test(cache, checker_reports_permission_widened_without_invalidation)
{
	struct stale_log log = {0};
	struct nest_sim_xlate xl;

	tg_init(&g, &(struct nest_sim_config){.checker = true});
	tg_bind(&g, TG_DEV, 4, 0);
	tg_map(&g, g.root, 4, VA, GPA1, 1, PTE_P | PTE_US); /* read-only */
	nest_sim_set_stale_cb(g.sim, on_stale, &log);
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	/* a write through a clean, writable entry walks again to set D: nothing to report */
	tg_map(&g, g.root, 4, VA + 0x1000, GPA2, 1, PTE_ALL);
	cr_assert_eq(gpa_of(TG_DEV, VA + 0x1000, NULL), GPA2);
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA + 0x1000, NEST_SIM_ACC_WRITE, &xl, NULL), 0);
	cr_expect_eq(log.n, 0);
	/* the guest makes the first page writable and does not invalidate */
	*tg_entry(&g, g.root, 4, VA, 1) |= PTE_RW;
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA, NEST_SIM_ACC_WRITE, &xl, NULL), 0);
	cr_assert_eq(log.n, 1, "the sim walked again; hardware may have faulted");
	cr_expect_eq(log.last.cache, NEST_SIM_CACHE_IOTLB);
	cr_expect_eq(log.last.cached_perms & NEST_SIM_XLATE_P_W, 0);
	cr_expect_eq(log.last.current_perms & NEST_SIM_XLATE_P_W, NEST_SIM_XLATE_P_W);
	cr_expect_eq(log.last.current_fault, NEST_SIM_FAULT_NONE);
	/* the refill is current: no further report */
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA, NEST_SIM_ACC_WRITE, &xl, NULL), 0);
	cr_expect_eq(log.n, 1);
	done();
}

Test(cache, checker_on_devtlb_and_unbound_pasid)
{
	struct nest_sim_config cfg = {.checker = true};
	struct stale_log log = {0};

	tg_init(&g, &cfg);
	tg_bind(&g, TG_DEV_ATS, 4, 0);
	tg_map(&g, g.root, 4, VA, GPA1, 1, PTE_ALL);
	nest_sim_set_stale_cb(g.sim, on_stale, &log);
	cr_assert_eq(gpa_of(TG_DEV_ATS, VA, NULL), GPA1);
	cr_assert_eq(nest_sim_unbind(g.sim, TG_DEV_ATS, g.pasid), 0);
	cr_expect_eq(gpa_of(TG_DEV_ATS, VA, NULL), GPA1);
	cr_assert_eq(log.n, 1);
	cr_expect_eq(log.last.cache, NEST_SIM_CACHE_DEV_IOTLB);
	cr_expect_eq(log.last.current_fault, NEST_SIM_FAULT_PASID_NOT_PRESENT);
	done();
}

Test(cache, region_removal_flushes_translations)
{
	struct nest_sim_xlate xl;
	struct nest_sim_fault f;

	setup(TG_DEV_ATS);
	tg_map(&g, g.root, 4, 0x1000, TG_B_GPA + 0x5000, 1, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV_ATS, 0x1000, 0, &xl, NULL), 0);
	cr_assert_eq(tg_xlate(&g, TG_DEV_ATS, 0x1000, 0, &xl, NULL), 0);
	cr_assert_eq(xl.hit, NEST_SIM_CACHE_DEV_IOTLB);
	cr_assert_eq(nest_sim_region_remove(g.sim, g.dom, TG_B_GPA, TG_RAM_B), 0);
	/* no invalidation by the guest, yet the cached pointer is gone: stage 2 misses */
	cr_expect_eq(tg_xlate(&g, TG_DEV_ATS, 0x1000, 0, &xl, &f), -EFAULT);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_S2_MISS);
	cr_expect_eq(f.gpa, TG_B_GPA + 0x5000);
	done();
}

Test(cache, eviction_keeps_results_correct)
{
	struct nest_sim_config cfg = {.iotlb_entries = 8, .devtlb_entries = 4};

	tg_init(&g, &cfg);
	tg_bind(&g, TG_DEV_ATS, 4, 0);
	for (uint64_t i = 0; i < 64; i++)
		tg_map(&g, g.root, 4, VA + i * 4096, GPA1 + i * 4096, 1, PTE_ALL);
	for (int round = 0; round < 3; round++)
		for (uint64_t i = 0; i < 64; i++)
			cr_assert_eq(gpa_of(TG_DEV_ATS, VA + i * 4096 + 1, NULL),
				     GPA1 + i * 4096 + 1);
	done();
}

/* nest_sim_invalidate_n(): in order, stops at the first failure, says how many were done. */
Test(cache, invalidate_n_stops_at_the_first_failure)
{
	struct nest_sim_inv inv[3] = {
		{.cache = NEST_SIM_CACHE_IOTLB, .granu = NEST_SIM_GRANU_PASID},
		{.cache = NEST_SIM_CACHE_PASID, .granu = NEST_SIM_GRANU_ADDR}, /* invalid combo */
		{.cache = NEST_SIM_CACHE_IOTLB, .granu = NEST_SIM_GRANU_DOMAIN},
	};
	struct nest_sim_counters c;
	uint32_t ndone = 99;

	setup(TG_DEV);
	inv[0].pasid = g.pasid;
	cr_assert_eq(gpa_of(TG_DEV, VA, NULL), GPA1);
	remap(GPA2);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, inv, 3, NEST_SIM_DEV_ALL, &ndone),
		     -EINVAL);
	cr_expect_eq(ndone, 1);
	cr_expect_eq(gpa_of(TG_DEV, VA, NULL), GPA2, "the first request was applied");
	nest_sim_get_counters(g.sim, &c);
	cr_expect_eq(c.inv[0][NEST_SIM_GRANU_DOMAIN], 0, "the third was not");
	/* a device of no domain: the request's own checks come first, as nest_sim_invalidate() */
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, &inv[1], 1, 999, &ndone), -EINVAL);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, &inv[2], 1, 999, &ndone), -ENOENT);
	cr_expect_eq(ndone, 0);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, 12345, inv, 1, NEST_SIM_DEV_ALL, &ndone),
		     -ENOENT);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, &inv[2], 1, TG_DEV, &ndone), 0);
	cr_expect_eq(ndone, 1);
	done();
}

static uint64_t gpa_at(uint32_t pasid)
{
	struct nest_sim_xlate xl;

	cr_assert_eq(nest_sim_translate(g.sim, TG_DEV, pasid, VA, 0, &xl, NULL), 0);
	return xl.gpa;
}

/* Translations of @p[0..1] cached for VA -> GPA1, then VA remapped to GPA2 without invalidation. */
static void stale_both(const uint32_t *p)
{
	remap(GPA1);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_DOMAIN, 0, 0, 0, 0), 0);
	for (int k = 0; k < 2; k++)
		cr_assert_eq(gpa_at(p[k]), GPA1);
	remap(GPA2);
	for (int k = 0; k < 2; k++)
		cr_assert_eq(gpa_at(p[k]), GPA1, "remapped without invalidation: still cached");
}

static struct nest_sim_inv inv_at(uint32_t granu, uint32_t pasid)
{
	struct nest_sim_inv inv = {.cache = NEST_SIM_CACHE_IOTLB, .granu = granu, .pasid = pasid};

	if (granu == NEST_SIM_GRANU_ADDR) {
		inv.addr = VA;
		inv.granule_size = 4096;
		inv.nb_granules = 1;
	}
	return inv;
}

/*
 * nest_sim_invalidate_n() looks the PASID of a run of requests up once: a PASID of another
 * domain (or of nobody) in the middle of a run, runs that switch PASID and PASID 0 after a run
 * are still checked request by request, and exactly the requests before the failed one apply.
 */
Test(cache, invalidate_n_checks_each_request_of_a_run)
{
	struct nest_sim_bind b = {.fmt = NEST_SIM_FMT_VTD_FL, .addr_width = 48};
	struct nest_sim_inv inv[6];
	uint32_t p[2], other, q, ndone;

	setup(TG_DEV);
	p[0] = g.pasid;
	cr_assert_eq(nest_sim_pasid_alloc(g.sim, g.dom, 1, 1000, &p[1]), 0);
	b.gpgd = g.root;
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV, p[1], &b), 0);
	cr_assert_eq(nest_sim_domain_new(g.sim, 4, &other), 0);
	cr_assert_eq(nest_sim_pasid_alloc(g.sim, other, 1, 1000, &q), 0);

	/* another domain's PASID in the middle of a run */
	stale_both(p);
	inv[0] = inv[1] = inv_at(NEST_SIM_GRANU_ADDR, p[0]);
	inv[2] = inv_at(NEST_SIM_GRANU_ADDR, q);
	inv[3] = inv_at(NEST_SIM_GRANU_ADDR, p[1]);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, inv, 4, NEST_SIM_DEV_ALL, &ndone),
		     -ENOENT);
	cr_expect_eq(ndone, 2);
	cr_expect_eq(gpa_at(p[0]), GPA2);
	cr_expect_eq(gpa_at(p[1]), GPA1, "a request after the failed one was applied");

	/* PASID granularity with PASID 0, first or after a run: no PASID, ENOENT */
	inv[0] = inv_at(NEST_SIM_GRANU_PASID, 0);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, inv, 1, NEST_SIM_DEV_ALL, &ndone),
		     -ENOENT);
	cr_expect_eq(ndone, 0);
	inv[0] = inv_at(NEST_SIM_GRANU_PASID, p[1]);
	inv[1] = inv_at(NEST_SIM_GRANU_PASID, 0);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, inv, 2, NEST_SIM_DEV_ALL, &ndone),
		     -ENOENT);
	cr_expect_eq(ndone, 1);
	cr_expect_eq(gpa_at(p[1]), GPA2);

	/* runs that switch back and forth, an every-PASID ADDR, then nobody's PASID */
	stale_both(p);
	inv[0] = inv_at(NEST_SIM_GRANU_ADDR, p[1]);
	inv[1] = inv_at(NEST_SIM_GRANU_PASID, p[0]);
	inv[2] = inv_at(NEST_SIM_GRANU_ADDR, p[1]);
	inv[3] = inv_at(NEST_SIM_GRANU_ADDR, p[0]);
	inv[4] = inv_at(NEST_SIM_GRANU_ADDR, 0);
	inv[5] = inv_at(NEST_SIM_GRANU_PASID, 999);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, inv, 6, NEST_SIM_DEV_ALL, &ndone),
		     -ENOENT);
	cr_expect_eq(ndone, 5);
	cr_expect_eq(gpa_at(p[0]), GPA2);
	cr_expect_eq(gpa_at(p[1]), GPA2);

	/* every PASID of the domain, then the other domain's PASID: ENOENT after one */
	stale_both(p);
	inv[0] = inv_at(NEST_SIM_GRANU_ADDR, 0);
	inv[1] = inv_at(NEST_SIM_GRANU_PASID, q);
	cr_expect_eq(nest_sim_invalidate_n(g.sim, g.dom, inv, 2, NEST_SIM_DEV_ALL, &ndone),
		     -ENOENT);
	cr_expect_eq(ndone, 1);
	cr_expect_eq(gpa_at(p[0]), GPA2);
	cr_expect_eq(gpa_at(p[1]), GPA2);
	done();
}

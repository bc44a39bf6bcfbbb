/* SPDX-License-Identifier: MIT */
/*
 * Suite "nesting": a device's RID (requests without PASID: stage 2 alone, or a first-level table
 * nested over it once bound), nest_sim_rebind() (an entry replaced in one write: the old
 * translation or the new one, never a fault, until the caller's invalidation), and bindings on
 * a subset of a domain's devices (sim-device.c, sim-s2only.c, sim-xlate.c).
 */
#include <string.h>

#include "nest-test.h"
#include "test-sim-guest.h"

static struct tguest g;

#define VA   0x00007f0000200000ull
#define GPA1 0x0000000000111000ull
#define GPA2 0x0000000000222000ull
#define RID  NEST_SIM_PASID_RID

static void done(void)
{
	tg_fini(&g);
	NO_LEAKS();
}

/* A new 4-level root mapping VA -> @gpa (not bound). */
static uint64_t table_to(uint64_t gpa)
{
	uint64_t root = tg_table_alloc(&g);

	tg_map(&g, root, 4, VA, gpa, 1, PTE_ALL);
	return root;
}

static struct nest_sim_bind bind_of(uint64_t root)
{
	return (struct nest_sim_bind){.fmt = NEST_SIM_FMT_VTD_FL, .addr_width = 48, .gpgd = root};
}

/* The GPA (dev, pasid, va) translates to; fails the test on a fault. */
static uint64_t gpa_at(uint32_t dev, uint32_t pasid, uint64_t va, uint32_t *hit)
{
	struct nest_sim_xlate xl;
	struct nest_sim_fault f = {0};
	int r = nest_sim_translate(g.sim, dev, pasid, va, 0, &xl, &f);

	cr_assert_eq(r, 0, "dev %u pasid %u va 0x%llx: fault %s", dev, pasid,
		     (unsigned long long)va, nest_sim_fault_reason_str(f.reason));
	if (hit)
		*hit = xl.hit;
	return xl.gpa;
}

static uint32_t fault_at(uint32_t dev, uint32_t pasid, uint64_t va)
{
	struct nest_sim_xlate xl;
	struct nest_sim_fault f = {0};

	cr_assert_eq(nest_sim_translate(g.sim, dev, pasid, va, 0, &xl, &f), -EFAULT);
	cr_expect_eq(f.pasid, pasid);
	return f.reason;
}

static int inv_domain(uint32_t cache)
{
	struct nest_sim_inv inv = {.cache = cache, .granu = NEST_SIM_GRANU_DOMAIN};

	return nest_sim_invalidate(g.sim, g.dom, &inv, NEST_SIM_DEV_ALL);
}

Test(nesting, rid_is_stage2_only_until_bound)
{
	uint8_t buf[8] = {0};
	struct nest_sim_fault f;
	size_t done_bytes = 0;

	tg_init(&g, NULL);
	memcpy(tg_ptr(&g, GPA2), "stage-2", 8);
	/* a request without PASID carries a GPA: stage 2 alone */
	cr_expect_eq(gpa_at(TG_DEV, RID, GPA2, NULL), GPA2);
	cr_assert_eq(nest_sim_dma(g.sim, TG_DEV, RID, GPA2, buf, sizeof(buf), 0, &done_bytes, &f),
		     0);
	cr_expect_str_eq((char *)buf, "stage-2");
	cr_expect_eq(fault_at(TG_DEV, RID, 8ull << 40), NEST_SIM_FAULT_S2_MISS);
	cr_expect_eq(nest_sim_unbind(g.sim, TG_DEV, RID), -ENOENT, "nothing bound on the RID");
	done();
}

Test(nesting, rid_bind_translates_dma_without_pasid)
{
	struct nest_sim_bind b;
	char buf[16] = {0};
	struct nest_sim_fault f;
	size_t n = 0;

	tg_init(&g, NULL);
	b = bind_of(table_to(GPA1));
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV, RID, &b), 0);
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, RID, &b), -EBUSY);
	memcpy(tg_ptr(&g, GPA1), "through stage 1", 16);
	cr_expect_eq(gpa_at(TG_DEV, RID, VA, NULL), GPA1);
	cr_assert_eq(nest_sim_dma(g.sim, TG_DEV, RID, VA, buf, sizeof(buf), 0, &n, &f), 0);
	cr_expect_eq(memcmp(buf, "through stage 1", 16), 0);
	/* a GPA is no longer an address of the RID: it goes through the guest table */
	cr_expect_eq(fault_at(TG_DEV, RID, GPA2), NEST_SIM_FAULT_PTE_NOT_PRESENT);
	/* the other device's RID and the PASIDs are untouched */
	cr_expect_eq(gpa_at(TG_DEV_ATS, RID, GPA2, NULL), GPA2);
	cr_expect_eq(fault_at(TG_DEV, g.pasid, VA), NEST_SIM_FAULT_PASID_NOT_PRESENT);
	/* unbind: back to stage 2 alone, nothing of the table cached */
	cr_assert_eq(nest_sim_unbind(g.sim, TG_DEV, RID), 0);
	cr_expect_eq(gpa_at(TG_DEV, RID, GPA2, NULL), GPA2);
	cr_expect_eq(fault_at(TG_DEV, RID, VA), NEST_SIM_FAULT_S2_MISS);
	done();
}

Test(nesting, rid_translations_of_two_devices_do_not_alias)
{
	struct nest_sim_bind b1, b2;

	tg_init(&g, NULL);
	b1 = bind_of(table_to(GPA1));
	b2 = bind_of(table_to(GPA2));
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV, RID, &b1), 0);
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV_ATS, RID, &b2), 0);
	cr_expect_eq(gpa_at(TG_DEV, RID, VA, NULL), GPA1);
	/* the IOTLB is domain-wide: the RID tag keeps the devices' tables apart */
	cr_expect_eq(gpa_at(TG_DEV_ATS, RID, VA, NULL), GPA2);
	cr_expect_eq(gpa_at(TG_DEV, RID, VA, NULL), GPA1);
	done();
}

/* The replace must never fault: old or new translation, new after the invalidations. */
static void replace_case(uint32_t dev, uint32_t pasid)
{
	struct nest_sim_bind b1, b2, bad;
	uint32_t hit;

	b1 = bind_of(table_to(GPA1));
	b2 = bind_of(table_to(GPA2));
	cr_expect_eq(nest_sim_rebind(g.sim, dev, pasid, &b2), -ENOENT, "nothing bound yet");
	cr_assert_eq(nest_sim_bind(g.sim, dev, pasid, &b1), 0);
	cr_expect_eq(gpa_at(dev, pasid, VA, NULL), GPA1); /* PASID cache and IOTLB filled */
	/* a refused replace leaves the old entry */
	bad = b2;
	bad.addr_width = 39;
	cr_expect_eq(nest_sim_rebind(g.sim, dev, pasid, &bad), -EINVAL);
	bad = b2;
	bad.flags = 1ull << 40;
	cr_expect_eq(nest_sim_rebind(g.sim, dev, pasid, &bad), -EOPNOTSUPP);
	cr_assert_eq(nest_sim_rebind(g.sim, dev, pasid, &b2), 0);
	/* before any invalidation: the cached old translation, not a fault */
	cr_expect_eq(gpa_at(dev, pasid, VA, &hit), GPA1);
	cr_expect_neq(hit, 0u, "served from a cache");
	/* the PASID cache alone: the new entry, but the IOTLB still holds the old page */
	cr_assert_eq(inv_domain(NEST_SIM_CACHE_PASID), 0);
	cr_expect_eq(gpa_at(dev, pasid, VA, NULL), GPA1);
	cr_assert_eq(inv_domain(NEST_SIM_CACHE_IOTLB), 0);
	if (dev == TG_DEV_ATS) {
		cr_expect_eq(gpa_at(dev, pasid, VA, NULL), GPA1, "device TLB");
		{
			struct nest_sim_inv inv = {.cache = NEST_SIM_CACHE_DEV_IOTLB,
						   .granu = NEST_SIM_GRANU_ADDR,
						   .pasid = 0,
						   .addr = VA,
						   .granule_size = 4096,
						   .nb_granules = 1};

			cr_assert_eq(nest_sim_invalidate(g.sim, g.dom, &inv, dev), 0);
		}
	}
	cr_expect_eq(gpa_at(dev, pasid, VA, NULL), GPA2, "the new table after invalidation");
}

Test(nesting, replace_pasid_swaps_without_a_fault)
{
	tg_init(&g, NULL);
	replace_case(TG_DEV, g.pasid);
	done();
}

Test(nesting, replace_rid_swaps_without_a_fault)
{
	tg_init(&g, NULL);
	replace_case(TG_DEV, RID);
	done();
}

Test(nesting, replace_on_an_ats_device)
{
	tg_init(&g, NULL);
	replace_case(TG_DEV_ATS, g.pasid);
	done();
}

Test(nesting, subset_bind_other_device_faults)
{
	struct nest_sim_bind b;

	tg_init(&g, NULL);
	b = bind_of(table_to(GPA1));
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), 0);
	cr_expect_eq(gpa_at(TG_DEV, g.pasid, VA, NULL), GPA1);
	/* the same PASID on the device outside the subset: no entry */
	cr_expect_eq(fault_at(TG_DEV_ATS, g.pasid, VA), NEST_SIM_FAULT_PASID_NOT_PRESENT);
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV_ATS, g.pasid, &b), 0);
	cr_expect_eq(gpa_at(TG_DEV_ATS, g.pasid, VA, NULL), GPA1);
	cr_assert_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), 0);
	cr_assert_eq(inv_domain(NEST_SIM_CACHE_PASID | NEST_SIM_CACHE_IOTLB), 0);
	cr_expect_eq(fault_at(TG_DEV, g.pasid, VA), NEST_SIM_FAULT_PASID_NOT_PRESENT);
	cr_expect_eq(gpa_at(TG_DEV_ATS, g.pasid, VA, NULL), GPA1);
	done();
}

Test(nesting, rid_bind_checks)
{
	struct nest_sim_bind b;
	struct nest_sim_domain_info di;

	tg_init(&g, NULL);
	b = bind_of(table_to(GPA1));
	b.addr_width = 39;
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, RID, &b), -EINVAL);
	b.addr_width = 48;
	b.fmt = 0xff; /* the internal stage-2-only entry is not bindable */
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, RID, &b), -EINVAL);
	b.fmt = NEST_SIM_FMT_VTD_FL;
	cr_expect_eq(nest_sim_bind(g.sim, 99, RID, &b), -ENOENT);
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV, RID, &b), 0);
	cr_assert_eq(nest_sim_domain_info(g.sim, g.dom, &di), 0);
	cr_expect_eq(di.nr_binds, 1u, "the RID's entry counts as a binding");
	cr_expect_eq(gpa_at(TG_DEV, RID, VA, NULL), GPA1);
	done();
}

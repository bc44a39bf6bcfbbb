/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nest-test.h"
#include "test-sim-guest.h"

void tg_init(struct tguest *g, const struct nest_sim_config *cfg)
{
	uint64_t size = TG_RAM_A + TG_RAM_B;

	memset(g, 0, sizeof(*g));
	g->fd = memfd_create("tg", MFD_CLOEXEC);
	cr_assert(g->fd >= 0);
	cr_assert(ftruncate(g->fd, (off_t)size) == 0);
	g->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	cr_assert(g->mem != MAP_FAILED);
	cr_assert_eq(nest_sim_new(cfg, &g->sim), 0);
	cr_assert_eq(nest_sim_domain_new(g->sim, 64, &g->dom), 0);
	cr_assert_eq(nest_sim_region_add(g->sim, g->dom, 0, TG_RAM_A, g->fd, 0,
					 NEST_SIM_PERM_R | NEST_SIM_PERM_W),
		     0);
	cr_assert_eq(nest_sim_region_add(g->sim, g->dom, TG_B_GPA, TG_RAM_B, g->fd, TG_RAM_A,
					 NEST_SIM_PERM_R | NEST_SIM_PERM_W),
		     0);
	cr_assert_eq(nest_sim_device_add(g->sim, g->dom, TG_DEV, false, 20), 0);
	cr_assert_eq(nest_sim_device_add(g->sim, g->dom, TG_DEV_ATS, true, 20), 0);
	cr_assert_eq(nest_sim_pasid_alloc(g->sim, g->dom, 1, 1000, &g->pasid), 0);
	g->next_table = TG_TABLES;
}

void tg_fini(struct tguest *g)
{
	g->sim = nest_sim_free(g->sim);
	munmap(g->mem, TG_RAM_A + TG_RAM_B);
	close(g->fd);
}

void *tg_ptr(struct tguest *g, uint64_t gpa)
{
	if (gpa < TG_RAM_A)
		return g->mem + gpa;
	cr_assert(gpa >= TG_B_GPA && gpa < TG_B_GPA + TG_RAM_B, "gpa %#llx outside RAM",
		  (unsigned long long)gpa);
	return g->mem + TG_RAM_A + (gpa - TG_B_GPA);
}

uint64_t tg_table_alloc(struct tguest *g)
{
	uint64_t gpa = g->next_table;

	cr_assert(gpa < TG_RAM_A, "out of table pages");
	g->next_table += 4096;
	memset(tg_ptr(g, gpa), 0, 4096);
	return gpa;
}

static uint64_t *tg_slot(struct tguest *g, uint64_t table, uint64_t va, unsigned lvl)
{
	unsigned shift = 12 + 9 * (lvl - 1);

	return (uint64_t *)tg_ptr(g, table + ((va >> shift) & 511) * 8);
}

uint64_t *tg_entry(struct tguest *g, uint64_t root, unsigned levels, uint64_t va, unsigned lvl)
{
	uint64_t table = root;

	for (unsigned l = levels; l > lvl; l--)
		table = *tg_slot(g, table, va, l) & 0x000ffffffffff000ull;
	return tg_slot(g, table, va, lvl);
}

void tg_map(struct tguest *g, uint64_t root, unsigned levels, uint64_t va, uint64_t gpa,
	    unsigned leaf_lvl, uint64_t leaf_flags)
{
	uint64_t table = root;

	for (unsigned l = levels; l > leaf_lvl; l--) {
		uint64_t *e = tg_slot(g, table, va, l);

		if (!(*e & PTE_P))
			*e = tg_table_alloc(g) | PTE_ALL;
		table = *e & 0x000ffffffffff000ull;
	}
	*tg_slot(g, table, va, leaf_lvl) = gpa | leaf_flags | (leaf_lvl > 1 ? PTE_PS : 0);
}

void tg_bind(struct tguest *g, uint32_t dev, unsigned levels, uint64_t flags)
{
	struct nest_sim_bind b = {
		.fmt = NEST_SIM_FMT_VTD_FL,
		.addr_width = levels == 5 ? 57 : 48,
		.flags = flags,
	};

	g->root = tg_table_alloc(g);
	g->levels = levels;
	b.gpgd = g->root;
	cr_assert_eq(nest_sim_bind(g->sim, dev, g->pasid, &b), 0);
}

int tg_xlate(struct tguest *g, uint32_t dev, uint64_t va, uint32_t access,
	     struct nest_sim_xlate *xl, struct nest_sim_fault *f)
{
	return nest_sim_translate(g->sim, dev, g->pasid, va, access, xl, f);
}

int tg_inv(struct tguest *g, uint32_t cache, uint32_t granu, uint64_t addr, uint64_t gsize,
	   uint64_t nb, uint32_t flags)
{
	struct nest_sim_inv inv = {
		.cache = cache,
		.granu = granu,
		.pasid = g->pasid,
		.flags = flags,
		.addr = addr,
		.granule_size = gsize,
		.nb_granules = nb,
	};

	return nest_sim_invalidate(g->sim, g->dom, &inv, NEST_SIM_DEV_ALL);
}

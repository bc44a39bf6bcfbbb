/* SPDX-License-Identifier: MIT */
/*
 * guest-pt.c - x86-64 4-level paging structures written into guest RAM (see guest-pt.h).
 *
 * Entries are written with __atomic stores because the IOMMU (nestd's sim) may walk them and
 * set Accessed/Dirty bits concurrently, as real hardware does.
 */
#include <errno.h>
#include <string.h>

#include "guest-pt.h"

void guest_ram_init(struct guest_ram *g, uint8_t *base, uint64_t size, uint64_t tables_gpa,
		    uint64_t tables_end)
{
	g->base = base;
	g->size = size;
	g->next_table = tables_gpa;
	g->table_end = tables_end;
}

void *guest_ram_ptr(const struct guest_ram *g, uint64_t gpa, uint64_t len)
{
	if (gpa >= g->size || len > g->size - gpa)
		return NULL;
	return g->base + gpa;
}

static int guest_table_alloc(struct guest_ram *g, uint64_t *ret_gpa)
{
	void *p;

	if (g->next_table + GUEST_PAGE > g->table_end)
		return -ENOSPC;
	p = guest_ram_ptr(g, g->next_table, GUEST_PAGE);
	if (!p)
		return -ENOSPC;
	memset(p, 0, GUEST_PAGE);
	*ret_gpa = g->next_table;
	g->next_table += GUEST_PAGE;
	return 0;
}

int guest_pt_new(struct guest_ram *g, uint64_t *ret_cr3)
{
	return guest_table_alloc(g, ret_cr3);
}

/* Index of @gva at paging @level (4 = PML4 ... 1 = PT). */
static unsigned guest_pt_index(uint64_t gva, int level)
{
	return (gva >> (12 + 9 * (level - 1))) & 511;
}

static uint64_t *guest_pt_entry(struct guest_ram *g, uint64_t table, uint64_t gva, int level)
{
	uint64_t *t = guest_ram_ptr(g, table, GUEST_PAGE);

	return t ? &t[guest_pt_index(gva, level)] : NULL;
}

/* Walk to the PT that holds @gva's leaf, creating tables when @create. */
static uint64_t *guest_pt_walk(struct guest_ram *g, uint64_t cr3, uint64_t gva, int create)
{
	uint64_t table = cr3;

	for (int level = 4; level > 1; level--) {
		uint64_t *e = guest_pt_entry(g, table, gva, level);
		uint64_t v, next;

		if (!e)
			return NULL;
		v = __atomic_load_n(e, __ATOMIC_ACQUIRE);
		if (!(v & PTE_P)) {
			if (!create || guest_table_alloc(g, &next) < 0)
				return NULL;
			v = next | PTE_P | PTE_RW | PTE_US;
			__atomic_store_n(e, v, __ATOMIC_RELEASE);
		}
		table = v & PTE_ADDR_MASK;
	}
	return guest_pt_entry(g, table, gva, 1);
}

int guest_pt_map(struct guest_ram *g, uint64_t cr3, uint64_t gva, uint64_t gpa, uint64_t flags)
{
	uint64_t *pte;

	if ((gva | gpa) & (GUEST_PAGE - 1) || !guest_ram_ptr(g, gpa, GUEST_PAGE))
		return -EINVAL;
	pte = guest_pt_walk(g, cr3, gva, 1);
	if (!pte)
		return -ENOSPC;
	__atomic_store_n(pte, (gpa & PTE_ADDR_MASK) | flags | PTE_P, __ATOMIC_RELEASE);
	return 0;
}

uint64_t *guest_pt_leaf(struct guest_ram *g, uint64_t cr3, uint64_t gva)
{
	uint64_t *pte = guest_pt_walk(g, cr3, gva, 0);

	return pte && (__atomic_load_n(pte, __ATOMIC_ACQUIRE) & PTE_P) ? pte : NULL;
}

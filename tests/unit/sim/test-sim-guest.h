/* SPDX-License-Identifier: MIT */
/*
 * Test helper: a guest with RAM in a memfd and hand-built x86-64 page tables.
 *
 * Layout: region A = GPA [0, 16 MiB) (memfd offset 0), region B = GPA [1 GiB, 2 GiB) (memfd
 * offset 16 MiB, sparse). Page-table pages come from a bump allocator at GPA 8 MiB; tests put
 * data pages below 8 MiB or in region B.
 */
#pragma once

#include <errno.h>
#include <stdint.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "nest-sim.h"

#define TG_RAM_A   (16ull << 20)
#define TG_B_GPA   (1ull << 30)
#define TG_RAM_B   (1ull << 30)
#define TG_TABLES  (8ull << 20)
#define TG_DEV	   1u
#define TG_DEV_ATS 2u

#define PTE_P	(1ull << 0)
#define PTE_RW	(1ull << 1)
#define PTE_US	(1ull << 2)
#define PTE_A	(1ull << 5)
#define PTE_D	(1ull << 6)
#define PTE_PS	(1ull << 7)
#define PTE_EA	(1ull << 10)
#define PTE_XD	(1ull << 63)
#define PTE_ALL (PTE_P | PTE_RW | PTE_US)

struct tguest {
	struct nest_sim *sim;
	uint32_t dom;
	uint32_t pasid;
	int fd;
	uint8_t *mem; /* the test's own view of the whole memfd */
	uint64_t next_table;
	uint64_t root; /* top-level table of the default bind */
	unsigned levels;
};

/* Instance + domain + both regions + devices TG_DEV and TG_DEV_ATS + one PASID (not bound). */
void tg_init(struct tguest *g, const struct nest_sim_config *cfg);
void tg_fini(struct tguest *g);
/* Host pointer of a GPA in either region (the test's mapping). */
void *tg_ptr(struct tguest *g, uint64_t gpa);
uint64_t tg_table_alloc(struct tguest *g);
/* Map @va -> @gpa with a leaf at level @leaf_lvl (1 = 4K, 2 = 2M, 3 = 1G). Intermediate entries
 * get PTE_ALL; @leaf_flags must include PTE_P for a present leaf. */
void tg_map(struct tguest *g, uint64_t root, unsigned levels, uint64_t va, uint64_t gpa,
	    unsigned leaf_lvl, uint64_t leaf_flags);
/* Pointer to the level-@lvl entry for @va (which must already be mapped down to that level). */
uint64_t *tg_entry(struct tguest *g, uint64_t root, unsigned levels, uint64_t va, unsigned lvl);
/* New root of @levels levels, bound to (dev, g->pasid) with @flags. */
void tg_bind(struct tguest *g, uint32_t dev, unsigned levels, uint64_t flags);
int tg_xlate(struct tguest *g, uint32_t dev, uint64_t va, uint32_t access,
	     struct nest_sim_xlate *xl, struct nest_sim_fault *f);
int tg_inv(struct tguest *g, uint32_t cache, uint32_t granu, uint64_t addr, uint64_t gsize,
	   uint64_t nb, uint32_t flags);

/* SPDX-License-Identifier: MIT */
/*
 * The translation cache's flushes against a model: whatever path a flush takes (probing the
 * sets of a few tags, or scanning), exactly the entries its match selects are gone and every
 * other entry stays.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sim-internal.h"

static bool model_matches(const struct sim_tlbe *e, const struct sim_tlb_match *m)
{
	if (!e->domain || e->domain != m->domain)
		return false;
	if (m->by_pasid && e->pasid != m->pasid)
		return false;
	if (m->by_range) {
		uint64_t last = e->va + ((1ull << e->shift) - 1);

		return !(last < m->start || e->va > m->last);
	}
	return true;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill(struct sim_tlb *t, uint64_t *seed, const uint8_t *shifts, unsigned nshifts,
		 unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		uint8_t shift = shifts[rnd(seed) % nshifts];
		/* a small address space so that ranges hit entries of every size */
		uint64_t va = (rnd(seed) % (1ull << 34)) & ~((1ull << shift) - 1);
		struct sim_tlbe e = {
			.va = va,
			.gpa = va,
			.domain = 1 + (uint32_t)(rnd(seed) % 2),
			.pasid = (uint32_t)(rnd(seed) % 4),
			.shift = shift,
		};

		sim_tlb_insert(t, &e);
	}
}

static void check_flushes(const uint8_t *shifts, unsigned nshifts, uint64_t seed)
{
	size_t total;
	struct sim_tlb *t;

	cr_assert_eq(sim_tlb_new(1024, &t), 0);
	total = (size_t)t->ways << t->set_bits;
	struct sim_tlbe *before = calloc(total, sizeof(*before));

	cr_assert_not_null(before);
	for (unsigned round = 0; round < 400; round++) {
		fill(t, &seed, shifts, nshifts, 1 + (unsigned)(rnd(&seed) % 300));
		memcpy(before, t->e, total * sizeof(*before));

		struct sim_tlb_match m = {
			.domain = 1 + (uint32_t)(rnd(&seed) % 2),
			.pasid = (uint32_t)(rnd(&seed) % 4),
			.by_pasid = rnd(&seed) % 4 != 0,
			.by_range = rnd(&seed) % 8 != 0,
		};
		/* mostly one page or a few (the probed path), sometimes huge (the scan) */
		uint64_t len = rnd(&seed) % 3 ? 1 + rnd(&seed) % (1ull << (12 + rnd(&seed) % 12))
					      : rnd(&seed) % (1ull << 34);

		m.start = rnd(&seed) % (1ull << 34);
		m.last = m.start + len - 1;

		uint32_t expect = 0, valid = 0;

		for (size_t i = 0; i < total; i++) {
			if (before[i].domain && model_matches(&before[i], &m))
				expect++;
			else if (before[i].domain)
				valid++;
		}
		cr_assert_eq(sim_tlb_flush(t, &m), expect, "round %u: flushed count", round);
		cr_assert_eq(t->n, valid, "round %u: entries left", round);
		for (size_t i = 0; i < total; i++) {
			if (before[i].domain && model_matches(&before[i], &m))
				cr_assert_eq(t->e[i].domain, 0, "round %u: entry %zu survived",
					     round, i);
			else
				cr_assert(!memcmp(&t->e[i], &before[i], sizeof(before[i])),
					  "round %u: entry %zu changed", round, i);
		}
	}
	free(before);
	sim_tlb_free(t);
}

Test(tlb, iotlb_sizes_flush_exactly_what_matches)
{
	static const uint8_t s[] = {12, 21, 30};

	check_flushes(s, 3, 0x9e3779b97f4a7c15ull);
}

Test(tlb, paging_structure_sizes_flush_exactly_what_matches)
{
	static const uint8_t s[] = {21, 30, 39, 48};

	check_flushes(s, 4, 0x2545f4914f6cdd1dull);
}

Test(tlb, one_page_flush_of_a_full_cache)
{
	static const uint8_t s[] = {12};
	uint64_t seed = 7;
	struct sim_tlb *t;

	cr_assert_eq(sim_tlb_new(4096, &t), 0);
	fill(t, &seed, s, 1, 20000);
	uint32_t n = t->n;
	struct sim_tlbe probe = t->e[5];

	cr_assert_neq(probe.domain, 0);
	struct sim_tlb_match m = {.domain = probe.domain,
				  .pasid = probe.pasid,
				  .by_pasid = true,
				  .by_range = true,
				  .start = probe.va,
				  .last = probe.va + 4095};

	cr_assert_eq(sim_tlb_flush(t, &m), 1);
	cr_assert_eq(t->n, n - 1);
	cr_assert_null(sim_tlb_lookup(t, probe.domain, probe.pasid, probe.va));
	sim_tlb_free(t);
}

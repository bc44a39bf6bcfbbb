/* SPDX-License-Identifier: MIT */
/*
 * A set-associative translation cache used for the IOTLB and for device TLBs. Entries are
 * tagged (domain, PASID, page base, page size); each page size hashes separately, so a lookup
 * probes 4 KiB, then 2 MiB, then 1 GiB. Everything is allocated at creation: lookups and
 * inserts never allocate.
 */
#include <stdint.h>
#include <stdlib.h>

#include "sim-internal.h"

#define SIM_TLB_WAYS 4u

static const uint8_t sim_tlb_shifts[] = {12, 21, 30};

static inline uint32_t sim_tlb_set(const struct sim_tlb *t, uint32_t domain, uint32_t pasid,
				   uint64_t va, uint32_t shift)
{
	uint64_t h = (va >> shift) * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)domain << 32 | pasid) * 0xc2b2ae3d27d4eb4full;
	h ^= shift;
	h *= 0xff51afd7ed558ccdull;
	return t->set_bits ? (uint32_t)(h >> (64 - t->set_bits)) : 0;
}

int sim_tlb_new(uint32_t entries, struct sim_tlb **ret)
{
	struct sim_tlb *t;
	uint32_t bits = sim_log2_roundup(entries < SIM_TLB_WAYS ? SIM_TLB_WAYS : entries);

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ways = SIM_TLB_WAYS;
	t->set_bits = bits - 2; /* log2(SIM_TLB_WAYS) */
	t->e = calloc((size_t)1 << bits, sizeof(*t->e));
	t->victim = calloc((size_t)1 << t->set_bits, sizeof(*t->victim));
	if (!t->e || !t->victim) {
		sim_tlb_free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

struct sim_tlb *sim_tlb_free(struct sim_tlb *t)
{
	if (!t)
		return NULL;
	free(t->e);
	free(t->victim);
	free(t);
	return NULL;
}

const struct sim_tlbe *sim_tlb_lookup_at(const struct sim_tlb *t, uint32_t domain, uint32_t pasid,
					 uint64_t va, uint32_t shift)
{
	uint64_t base = va & ~((1ull << shift) - 1);
	const struct sim_tlbe *set =
		&t->e[(size_t)sim_tlb_set(t, domain, pasid, va, shift) * SIM_TLB_WAYS];

	for (unsigned w = 0; w < SIM_TLB_WAYS; w++) {
		const struct sim_tlbe *e = &set[w];

		if (e->va == base && e->domain == domain && e->pasid == pasid && e->shift == shift)
			return e;
	}
	return NULL;
}

const struct sim_tlbe *sim_tlb_lookup(const struct sim_tlb *t, uint32_t domain, uint32_t pasid,
				      uint64_t va)
{
	if (!t->n)
		return NULL;
	for (unsigned s = 0; s < sizeof(sim_tlb_shifts); s++) {
		const struct sim_tlbe *e =
			sim_tlb_lookup_at(t, domain, pasid, va, sim_tlb_shifts[s]);

		if (e)
			return e;
	}
	return NULL;
}

void sim_tlb_insert(struct sim_tlb *t, const struct sim_tlbe *ne)
{
	uint32_t set = sim_tlb_set(t, ne->domain, ne->pasid, ne->va, ne->shift);
	struct sim_tlbe *s = &t->e[(size_t)set * SIM_TLB_WAYS];
	unsigned slot = SIM_TLB_WAYS;

	for (unsigned w = 0; w < SIM_TLB_WAYS; w++) {
		/* the same tag is replaced in place: one entry per tag, never two */
		if (s[w].domain == ne->domain && s[w].pasid == ne->pasid && s[w].va == ne->va &&
		    s[w].shift == ne->shift) {
			s[w] = *ne;
			return;
		}
		if (!s[w].domain && slot == SIM_TLB_WAYS)
			slot = w;
	}
	t->shifts |= 1ull << ne->shift;
	if (slot == SIM_TLB_WAYS) {
		slot = t->victim[set] % SIM_TLB_WAYS;
		t->victim[set] = (uint8_t)(slot + 1);
	} else {
		t->n++;
	}
	s[slot] = *ne;
}

void sim_tlb_remove(struct sim_tlb *t, uint32_t domain, uint32_t pasid, uint64_t va, uint32_t shift)
{
	struct sim_tlbe *e = (struct sim_tlbe *)sim_tlb_lookup_at(t, domain, pasid, va, shift);

	if (!e)
		return;
	*e = (struct sim_tlbe){0};
	t->n--;
}

static bool sim_tlb_matches(const struct sim_tlbe *e, const struct sim_tlb_match *m)
{
	if (!e->domain || e->domain != m->domain)
		return false;
	if (m->by_pasid && e->pasid != m->pasid)
		return false;
	if (m->by_range) {
		uint64_t last = e->va + ((1ull << e->shift) - 1);

		if (last < m->start || e->va > m->last)
			return false;
	}
	return true;
}

/*
 * Tags are (domain, PASID, base, size): a PASID-selective ranged flush covering few pages of
 * each size the TLB holds can probe exactly the sets those tags hash to instead of scanning
 * every entry (an INVALIDATE of one page used to read the whole IOTLB). Returns the number of
 * probes needed, or SIZE_MAX when scanning is cheaper.
 */
static size_t sim_tlb_probes(const struct sim_tlb *t, const struct sim_tlb_match *m)
{
	size_t total = (size_t)SIM_TLB_WAYS << t->set_bits, probes = 0;

	if (!m->by_pasid || !m->by_range || m->last < m->start)
		return SIZE_MAX;
	for (unsigned s = 0; s < 64; s++) {
		if (!(t->shifts & (1ull << s)))
			continue;
		uint64_t pages = (m->last >> s) - (m->start >> s) + 1;

		/* a probe reads one set of SIM_TLB_WAYS entries */
		if (pages > total / SIM_TLB_WAYS / 8 ||
		    (probes += pages) > total / SIM_TLB_WAYS / 8)
			return SIZE_MAX;
	}
	return probes;
}

static uint32_t sim_tlb_flush_probed(struct sim_tlb *t, const struct sim_tlb_match *m)
{
	uint32_t n = 0;

	for (unsigned s = 0; s < 64 && t->n; s++) {
		if (!(t->shifts & (1ull << s)))
			continue;
		for (uint64_t pg = m->start >> s; pg <= m->last >> s && t->n; pg++) {
			struct sim_tlbe *e = (struct sim_tlbe *)sim_tlb_lookup_at(
				t, m->domain, m->pasid, pg << s, s);

			if (!e)
				continue;
			*e = (struct sim_tlbe){0};
			t->n--;
			n++;
		}
	}
	return n;
}

uint32_t sim_tlb_flush_entries(struct sim_tlb *t, const struct sim_tlb_match *m)
{
	size_t total = (size_t)SIM_TLB_WAYS << t->set_bits;
	uint32_t n = 0;

	if (sim_tlb_probes(t, m) != SIZE_MAX) {
		n = sim_tlb_flush_probed(t, m);
		if (!t->n)
			t->shifts = 0;
		return n;
	}
	for (size_t i = 0; i < total && t->n; i++) {
		if (!sim_tlb_matches(&t->e[i], m))
			continue;
		t->e[i] = (struct sim_tlbe){0};
		t->n--;
		n++;
	}
	if (!t->n)
		t->shifts = 0;
	return n;
}

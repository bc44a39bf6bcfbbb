/* SPDX-License-Identifier: MIT */
/*
 * Suite "random": random page tables, translated by the sim and by an independent reference
 * walker written here straight from the x86-64/VT-d rules; both must agree on every address.
 * Seeds are fixed so that a failure reproduces.
 */
#include <string.h>

#include "nest-test.h"
#include "test-sim-guest.h"

static struct tguest g;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static bool chance(uint64_t *s, unsigned percent)
{
	return rng_next(s) % 100 < percent;
}

/* ---- the reference: one straight loop, no caches, no side effects ---- */

struct ref_result {
	uint32_t fault;
	uint64_t gpa;
};

static bool ref_in_ram(uint64_t gpa)
{
	return gpa < TG_RAM_A || (gpa >= TG_B_GPA && gpa < TG_B_GPA + TG_RAM_B);
}

static uint32_t ref_permission(bool w, bool u, bool x, uint32_t acc, uint64_t bflags)
{
	bool sup = acc & NEST_SIM_ACC_PRIV;

	if (!sup && !u)
		return NEST_SIM_FAULT_USER;
	if ((acc & NEST_SIM_ACC_WRITE) && !w) {
		if (!sup || (bflags & NEST_SIM_BIND_F_WPE))
			return NEST_SIM_FAULT_WRITE;
	}
	if (acc & NEST_SIM_ACC_EXEC) {
		if (!x)
			return NEST_SIM_FAULT_EXEC;
		if (sup && u)
			return NEST_SIM_FAULT_SUPERVISOR;
	}
	return NEST_SIM_FAULT_NONE;
}

static struct ref_result ref_translate(uint64_t root, unsigned levels, uint64_t va, uint32_t acc,
				       uint64_t bflags)
{
	struct ref_result res = {0};
	unsigned bits = levels == 5 ? 57 : 48;
	uint64_t high = va >> (bits - 1);
	uint64_t table = root, e = 0, page_size = 0;
	bool w = true, u = true, x = true;

	/* the PASID entry is checked before the first-level walk: SRE first */
	if ((acc & NEST_SIM_ACC_PRIV) && !(bflags & NEST_SIM_BIND_F_SRE)) {
		res.fault = NEST_SIM_FAULT_SRE;
		return res;
	}
	if (high != 0 && high != (~0ull >> (bits - 1))) {
		res.fault = NEST_SIM_FAULT_NON_CANONICAL;
		return res;
	}
	for (int lvl = (int)levels; lvl > 0; lvl--) {
		uint64_t index = (va >> (3 + 9 * lvl)) & 0x1ff;

		e = *(uint64_t *)tg_ptr(&g, table + 8 * index);
		if ((e & 1) == 0) {
			res.fault = NEST_SIM_FAULT_PTE_NOT_PRESENT;
			return res;
		}
		bool ps = (e >> 7) & 1;
		bool bad = (e >> 48) & 0xf; /* max_gaw 48: bits 48..51 */
		if (lvl >= 4 && ps)
			bad = true;
		if (lvl == 3 && ps && ((e >> 13) & 0x1ffff))
			bad = true;
		if (lvl == 2 && ps && ((e >> 13) & 0xff))
			bad = true;
		if (bad) {
			res.fault = NEST_SIM_FAULT_RSVD;
			return res;
		}
		w = w && (e & 2);
		u = u && (e & 4);
		x = x && !(e >> 63);
		if (lvl == 1 || ps) {
			page_size = 1ull << (3 + 9 * lvl);
			break;
		}
		table = e & 0x000ffffffffff000ull;
	}
	res.fault = ref_permission(w, u, x, acc, bflags);
	if (res.fault)
		return res;
	res.gpa = (e & 0x000ffffffffff000ull & ~(page_size - 1)) | (va & (page_size - 1));
	if (!ref_in_ram(res.gpa))
		res.fault = NEST_SIM_FAULT_S2_MISS;
	return res;
}

/* ---- random tables ---- */

static uint64_t rand_flags(uint64_t *s)
{
	uint64_t f = chance(s, 95) ? PTE_P : 0;

	f |= chance(s, 75) ? PTE_RW : 0;
	f |= chance(s, 80) ? PTE_US : 0;
	f |= chance(s, 15) ? PTE_XD : 0;
	f |= chance(s, 20) ? PTE_A : 0;
	if (chance(s, 3))
		f |= 1ull << (48 + rng_next(s) % 4); /* reserved address bit */
	return f;
}

static uint64_t rand_target(uint64_t *s, unsigned lvl)
{
	uint64_t r = rng_next(s);

	if (chance(s, 5))
		return 0x20000000ull + ((r % 64) << 21); /* stage-2 hole */
	if (lvl == 3)
		return chance(s, 70) ? TG_B_GPA : 0; /* the second is only partly backed */
	if (lvl == 2)
		return (r % 4) << 21; /* 2 MiB pages below 8 MiB */
	return (r % 2048) << 12;
}

static uint64_t rand_va(uint64_t *s, unsigned levels)
{
	unsigned bits = levels == 5 ? 57 : 48;
	uint64_t va = rng_next(s) & ((1ull << (bits - 1)) - 1) & ~0xfffull;

	if (chance(s, 30)) /* the upper canonical half */
		va |= ~0ull << (bits - 1);
	return va;
}

static void rand_map(uint64_t *s, uint64_t va, unsigned levels)
{
	unsigned leaf = 1 + (unsigned)(rng_next(s) % 3);
	uint64_t table = g.root;

	for (unsigned l = levels; l > leaf; l--) {
		uint64_t *e =
			(uint64_t *)tg_ptr(&g, table + ((va >> (12 + 9 * (l - 1))) & 511) * 8);

		if (!*e)
			*e = tg_table_alloc(&g) | (rand_flags(s) & ~(0xfull << 48)) |
			     (chance(s, 2) && l >= 4 ? PTE_PS : 0);
		if (!(*e & PTE_P) || (*e & PTE_PS))
			return; /* an earlier mapping ended the path here */
		table = *e & 0x000ffffffffff000ull;
	}
	uint64_t *e = (uint64_t *)tg_ptr(&g, table + ((va >> (12 + 9 * (leaf - 1))) & 511) * 8);
	if (*e)
		return;
	*e = rand_target(s, leaf) | rand_flags(s) | (leaf > 1 ? PTE_PS : 0);
	if (leaf > 1 && chance(s, 5)) /* bits 13..29 (1 GiB) or 13..20 (2 MiB) are reserved */
		*e |= 1ull << (13 + rng_next(s) % (leaf == 3 ? 17 : 8));
}

static uint64_t probe_addr(uint64_t *s, const uint64_t *vas, unsigned n, unsigned levels)
{
	uint64_t r = rng_next(s);

	if (chance(s, 5))
		return r; /* anything, often non-canonical */
	if (chance(s, 10))
		return rand_va(s, levels) | (r & 0xfff);
	/* near a mapped address: same 1 GiB, random offset inside 2 MiB or 1 GiB */
	return vas[r % n] + (rng_next(s) % (chance(s, 50) ? (2ull << 20) : (1ull << 30)));
}

static const uint32_t accesses[] = {
	0,
	NEST_SIM_ACC_WRITE,
	NEST_SIM_ACC_EXEC,
	NEST_SIM_ACC_PRIV,
	NEST_SIM_ACC_PRIV | NEST_SIM_ACC_WRITE,
	NEST_SIM_ACC_PRIV | NEST_SIM_ACC_EXEC,
};

static void run_seed(uint64_t seed)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1, vas[64];
	unsigned levels = seed % 2 ? 5 : 4, mismatches = 0;
	uint64_t bflags = rng_next(&s) & (NEST_SIM_BIND_F_SRE | NEST_SIM_BIND_F_WPE);

	tg_init(&g, &(struct nest_sim_config){.iotlb_entries = 64});
	tg_bind(&g, seed % 3 ? TG_DEV : TG_DEV_ATS, levels, bflags | NEST_SIM_BIND_F_EAFE);
	for (unsigned i = 0; i < 64; i++) {
		vas[i] = rand_va(&s, levels);
		rand_map(&s, vas[i], levels);
	}
	for (unsigned i = 0; i < 4000; i++) {
		uint64_t va = probe_addr(&s, vas, 64, levels);
		uint32_t acc = accesses[rng_next(&s) % 6];
		struct ref_result want = ref_translate(g.root, levels, va, acc, bflags);
		struct nest_sim_xlate xl = {0};
		struct nest_sim_fault f = {0};
		int r = nest_sim_translate(g.sim, seed % 3 ? TG_DEV : TG_DEV_ATS, g.pasid, va, acc,
					   &xl, &f);
		uint32_t got = r == 0 ? NEST_SIM_FAULT_NONE : f.reason;

		cr_assert(r == 0 || r == -EFAULT);
		if (got != want.fault || (r == 0 && xl.gpa != want.gpa)) {
			cr_log_error(
				"seed %llu probe %u va %#llx acc %#x: sim %s gpa %#llx, ref %s "
				"gpa %#llx",
				(unsigned long long)seed, i, (unsigned long long)va, acc,
				nest_sim_fault_reason_str(got), (unsigned long long)xl.gpa,
				nest_sim_fault_reason_str(want.fault),
				(unsigned long long)want.gpa);
			mismatches++;
		}
	}
	cr_expect_eq(mismatches, 0, "seed %llu: %u mismatches", (unsigned long long)seed,
		     mismatches);
	tg_fini(&g);
}

Test(random, matches_reference_walker, .timeout = 120)
{
	for (uint64_t seed = 1; seed <= 12; seed++)
		run_seed(seed);
	NO_LEAKS();
}

Test(random, outcomes_are_varied)
{
	/* guard against a generator that only ever produces one kind of result */
	uint64_t s = 42, vas[64];
	struct nest_sim_counters c;
	unsigned ok = 0;

	tg_init(&g, NULL);
	tg_bind(&g, TG_DEV, 4, NEST_SIM_BIND_F_SRE);
	for (unsigned i = 0; i < 64; i++) {
		vas[i] = rand_va(&s, 4);
		rand_map(&s, vas[i], 4);
	}
	for (unsigned i = 0; i < 4000; i++) {
		struct nest_sim_xlate xl;

		if (nest_sim_translate(g.sim, TG_DEV, g.pasid, probe_addr(&s, vas, 64, 4),
				       accesses[i % 6], &xl, NULL) == 0)
			ok++;
	}
	nest_sim_get_counters(g.sim, &c);
	cr_expect_gt(ok, 200);
	cr_expect_gt(c.fault_reasons[NEST_SIM_FAULT_PTE_NOT_PRESENT], 100);
	cr_expect_gt(c.fault_reasons[NEST_SIM_FAULT_NON_CANONICAL], 10);
	cr_expect_gt(c.fault_reasons[NEST_SIM_FAULT_USER] + c.fault_reasons[NEST_SIM_FAULT_WRITE] +
			     c.fault_reasons[NEST_SIM_FAULT_EXEC],
		     10);
	tg_fini(&g);
	NO_LEAKS();
}

/* SPDX-License-Identifier: MIT */
/* Suite "walk": the VT-d first-level walker through stage 2 (sim-vtd.c, sim-s2.c). */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "nest-test.h"
#include "test-sim-guest.h"

static struct tguest g;

#define VA  0x00007f1234567000ull
#define GPA 0x0000000000123000ull

/*
 * These tests edit non-leaf entries between translations without invalidating; they check the
 * walker's rules, so the paging-structure cache (the cache suite's business) is off.
 */
static const struct nest_sim_config walk_cfg = {.no_psc = true};

static void setup4(void)
{
	tg_init(&g, &walk_cfg);
	tg_bind(&g, TG_DEV, 4, NEST_SIM_BIND_F_SRE);
}

static void done(void)
{
	tg_fini(&g);
	NO_LEAKS();
}

static uint32_t xlate_fault(uint64_t va, uint32_t access, struct nest_sim_fault *f)
{
	struct nest_sim_xlate xl;
	struct nest_sim_fault lf;
	int r = tg_xlate(&g, TG_DEV, va, access, &xl, &lf);

	if (r == 0)
		return NEST_SIM_FAULT_NONE;
	cr_assert_eq(r, -EFAULT);
	if (f)
		*f = lf;
	return lf.reason;
}

Test(walk, four_level_4k_read)
{
	struct nest_sim_xlate xl;

	setup4();
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	memcpy(tg_ptr(&g, GPA + 0x10), "hello", 6);
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA + 0x10, 0, &xl, NULL), 0);
	cr_expect_eq(xl.gpa, GPA + 0x10);
	cr_expect_eq(xl.page_size, 4096);
	cr_expect_eq(xl.hit, 0);
	cr_expect_str_eq((char *)xl.hva, "hello");
	cr_expect_eq(xl.perms, NEST_SIM_XLATE_P_W | NEST_SIM_XLATE_P_U | NEST_SIM_XLATE_P_X |
				       NEST_SIM_XLATE_P_S2R | NEST_SIM_XLATE_P_S2W);
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA + 0x20, 0, &xl, NULL), 0);
	cr_expect_eq(xl.hit, NEST_SIM_CACHE_IOTLB);
	cr_expect_eq(xl.gpa, GPA + 0x20);
	done();
}

Test(walk, five_level_and_canonical)
{
	uint64_t va57 = 0x00f0000000001000ull; /* canonical only with 57 bits */
	struct nest_sim_fault f;
	struct nest_sim_xlate xl;

	tg_init(&g, &walk_cfg);
	tg_bind(&g, TG_DEV, 5, 0);
	tg_map(&g, g.root, 5, va57, GPA, 1, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV, va57 + 5, 0, &xl, NULL), 0);
	cr_expect_eq(xl.gpa, GPA + 5);
	cr_expect_eq(xlate_fault(0x0100000000000000ull, 0, &f), NEST_SIM_FAULT_NON_CANONICAL);
	cr_expect_eq(xlate_fault(0xff00000000000000ull, 0, NULL), NEST_SIM_FAULT_PTE_NOT_PRESENT);
	done();
}

Test(walk, four_level_canonical)
{
	setup4();
	cr_expect_eq(xlate_fault(0x0000800000000000ull, 0, NULL), NEST_SIM_FAULT_NON_CANONICAL);
	cr_expect_eq(xlate_fault(0x00f0000000001000ull, 0, NULL), NEST_SIM_FAULT_NON_CANONICAL);
	cr_expect_eq(xlate_fault(0xffff800000000000ull, 0, NULL), NEST_SIM_FAULT_PTE_NOT_PRESENT);
	cr_expect_eq(xlate_fault(0x00007fffffffffffull, 0, NULL), NEST_SIM_FAULT_PTE_NOT_PRESENT);
	done();
}

Test(walk, page_2m)
{
	struct nest_sim_xlate xl;

	setup4();
	tg_map(&g, g.root, 4, 0x40000000ull, 0x400000ull, 2, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV, 0x40012345ull, 0, &xl, NULL), 0);
	cr_expect_eq(xl.gpa, 0x412345ull);
	cr_expect_eq(xl.page_size, 2ull << 20);
	done();
}

Test(walk, page_1g_full_and_shrunk)
{
	struct nest_sim_xlate xl;

	setup4();
	tg_map(&g, g.root, 4, 0x80000000ull, TG_B_GPA, 3, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV, 0x92345678ull, 0, &xl, NULL), 0);
	cr_expect_eq(xl.gpa, TG_B_GPA + 0x12345678ull);
	cr_expect_eq(xl.page_size, 1ull << 30);
	/* a 1 GiB page over a 16 MiB region is cached as 4 KiB pages, as min(s1, s2) */
	tg_map(&g, g.root, 4, 0xc0000000ull, 0, 3, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV, 0xc0003456ull, 0, &xl, NULL), 0);
	cr_expect_eq(xl.gpa, 0x3456ull);
	cr_expect_eq(xl.page_size, 4096);
	cr_expect_eq(xlate_fault(0xc2000000ull, 0, NULL), NEST_SIM_FAULT_S2_MISS);
	done();
}

Test(walk, pat_bit_is_not_reserved_in_large_pages)
{
	struct nest_sim_xlate xl;

	setup4();
	tg_map(&g, g.root, 4, 0x80000000ull, TG_B_GPA | (1ull << 12), 3, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV, 0x80000010ull, 0, &xl, NULL), 0);
	cr_expect_eq(xl.gpa, TG_B_GPA + 0x10);
	done();
}

Test(walk, accessed_and_dirty)
{
	struct nest_sim_xlate xl;

	setup4();
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA, 0, &xl, NULL), 0);
	for (unsigned l = 4; l >= 1; l--) {
		uint64_t e = *tg_entry(&g, g.root, 4, VA, l);

		cr_expect(e & PTE_A, "A missing at level %u", l);
		cr_expect(!(e & PTE_D), "D set at level %u by a read", l);
		cr_expect(!(e & PTE_EA), "EA set without EAFE");
	}
	/* a write hitting a clean cached entry must walk again to set D */
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA, NEST_SIM_ACC_WRITE, &xl, NULL), 0);
	cr_expect_eq(xl.hit, 0);
	cr_expect(*tg_entry(&g, g.root, 4, VA, 1) & PTE_D);
	for (unsigned l = 4; l >= 2; l--)
		cr_expect(!(*tg_entry(&g, g.root, 4, VA, l) & PTE_D));
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA, NEST_SIM_ACC_WRITE, &xl, NULL), 0);
	cr_expect_eq(xl.hit, NEST_SIM_CACHE_IOTLB);
	done();
}

Test(walk, dirty_on_large_leaf_and_eafe)
{
	struct nest_sim_xlate xl;

	tg_init(&g, &walk_cfg);
	tg_bind(&g, TG_DEV, 4, NEST_SIM_BIND_F_EAFE);
	tg_map(&g, g.root, 4, 0x40000000ull, 0x400000ull, 2, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV, 0x40000000ull, NEST_SIM_ACC_WRITE, &xl, NULL), 0);
	cr_expect_eq(*tg_entry(&g, g.root, 4, 0x40000000ull, 2) & (PTE_A | PTE_D | PTE_EA),
		     PTE_A | PTE_D | PTE_EA);
	cr_expect(*tg_entry(&g, g.root, 4, 0x40000000ull, 3) & PTE_EA);
	done();
}

/* A vCPU owns bit 9 of the PTE (ignored by the walker) and flips it while DMA writes walk. */
struct avl_flipper {
	uint64_t *pte;
	bool stop;
	unsigned long flips;
	unsigned long lost;
};

static void *avl_flip(void *arg)
{
	struct avl_flipper *f = arg;
	const uint64_t bit = 1ull << 9;

	while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_or(f->pte, bit, __ATOMIC_ACQ_REL);
		if (!(__atomic_load_n(f->pte, __ATOMIC_ACQUIRE) & bit))
			f->lost++; /* the walker wrote back a copy read before our set */
		__atomic_fetch_and(f->pte, ~bit, __ATOMIC_ACQ_REL);
		if (__atomic_load_n(f->pte, __ATOMIC_ACQUIRE) & bit)
			f->lost++; /* ... or before our clear */
		f->flips++;
	}
	return NULL;
}

Test(walk, accessed_dirty_write_back_is_atomic, .timeout = 30)
{
	struct avl_flipper f = {0};
	unsigned long walks = 0, missing_ad = 0;
	struct timespec t0, t1;
	pthread_t th;

	setup4();
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	f.pte = tg_entry(&g, g.root, 4, VA, 1);
	cr_assert_eq(pthread_create(&th, NULL, avl_flip, &f), 0);
	/* a lost update needs the flip to land inside the walker's load/store window: give it
	 * up to a million tries (about a second), so a non-atomic write-back fails most runs */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; walks < 1000000; walks++) {
		struct nest_sim_xlate xl;

		__atomic_fetch_and(f.pte, ~(PTE_A | PTE_D), __ATOMIC_ACQ_REL);
		cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_ADDR, VA, 4096, 1, 0),
			     0);
		cr_assert_eq(tg_xlate(&g, TG_DEV, VA, NEST_SIM_ACC_WRITE, &xl, NULL), 0);
		if ((__atomic_load_n(f.pte, __ATOMIC_ACQUIRE) & (PTE_A | PTE_D)) != (PTE_A | PTE_D))
			missing_ad++;
		if (walks % 4096 == 0 &&
		    (clock_gettime(CLOCK_MONOTONIC, &t1), t1.tv_sec - t0.tv_sec > 2))
			break;
	}
	__atomic_store_n(&f.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	cr_log_info("%lu walks, %lu flips", walks, f.flips);
	cr_expect_eq(f.lost, 0, "a concurrent update of the PTE was lost %lu times", f.lost);
	cr_expect_eq(missing_ad, 0, "A/D missing after %lu of %lu write walks", missing_ad, walks);
	done();
}

Test(walk, faulting_walk_sets_a_but_not_d)
{
	struct nest_sim_fault f;

	setup4();
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_P | PTE_US); /* read-only */
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_WRITE, &f), NEST_SIM_FAULT_WRITE);
	cr_expect_eq(f.level, 1);
	cr_expect_eq(*tg_entry(&g, g.root, 4, VA, 1) & (PTE_A | PTE_D), PTE_A);
	cr_expect(*tg_entry(&g, g.root, 4, VA, 4) & PTE_A);
	done();
}

Test(walk, not_present_at_each_level)
{
	struct nest_sim_fault f;

	setup4();
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	for (unsigned l = 1; l <= 4; l++) {
		uint64_t *e = tg_entry(&g, g.root, 4, VA, l);
		uint64_t old = *e;

		*e &= ~PTE_P;
		cr_expect_eq(xlate_fault(VA, 0, &f), NEST_SIM_FAULT_PTE_NOT_PRESENT);
		cr_expect_eq(f.level, l);
		cr_expect_eq(f.addr, VA);
		cr_expect_eq(f.dev_id, TG_DEV);
		cr_expect_eq(f.pasid, g.pasid);
		cr_expect_eq(f.domain, g.dom);
		*e = old;
	}
	done();
}

Test(walk, permissions)
{
	setup4();
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_EXEC, NULL), NEST_SIM_FAULT_NONE);
	/* XD anywhere on the path forbids execute but not read */
	*tg_entry(&g, g.root, 4, VA, 4) |= PTE_XD;
	cr_expect_eq(xlate_fault(VA + 4096, NEST_SIM_ACC_EXEC, NULL),
		     NEST_SIM_FAULT_PTE_NOT_PRESENT);
	tg_map(&g, g.root, 4, VA + 4096, GPA, 1, PTE_ALL);
	cr_expect_eq(xlate_fault(VA + 4096, NEST_SIM_ACC_EXEC, NULL), NEST_SIM_FAULT_EXEC);
	cr_expect_eq(xlate_fault(VA + 4096, 0, NULL), NEST_SIM_FAULT_NONE);
	/* R/W clear at a middle level forbids user writes */
	tg_map(&g, g.root, 4, 0x1000, GPA, 1, PTE_ALL);
	*tg_entry(&g, g.root, 4, 0x1000, 2) &= ~PTE_RW;
	cr_expect_eq(xlate_fault(0x1000, NEST_SIM_ACC_WRITE, NULL), NEST_SIM_FAULT_WRITE);
	/* U/S clear forbids user requests, any kind */
	tg_map(&g, g.root, 4, 0x40000000, GPA, 1, PTE_ALL);
	*tg_entry(&g, g.root, 4, 0x40000000, 3) &= ~PTE_US;
	cr_expect_eq(xlate_fault(0x40000000, 0, NULL), NEST_SIM_FAULT_USER);
	cr_expect_eq(xlate_fault(0x40000000, NEST_SIM_ACC_PRIV, NULL), NEST_SIM_FAULT_NONE);
	done();
}

Test(walk, supervisor_sre_wpe)
{
	setup4(); /* SRE, no WPE */
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_P | PTE_US);
	/* without WPE a supervisor write ignores R/W */
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_PRIV | NEST_SIM_ACC_WRITE, NULL),
		     NEST_SIM_FAULT_NONE);
	/* supervisor instruction fetch from a user page */
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_PRIV | NEST_SIM_ACC_EXEC, NULL),
		     NEST_SIM_FAULT_SUPERVISOR);
	cr_expect_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), 0);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_PASID | NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID,
			    0, 0, 0, 0),
		     0);
	tg_bind(&g, TG_DEV, 4, NEST_SIM_BIND_F_SRE | NEST_SIM_BIND_F_WPE);
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_P | PTE_US);
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_PRIV | NEST_SIM_ACC_WRITE, NULL),
		     NEST_SIM_FAULT_WRITE);
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_PRIV, NULL), NEST_SIM_FAULT_NONE);
	cr_expect_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), 0);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_PASID | NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_PASID,
			    0, 0, 0, 0),
		     0);
	tg_bind(&g, TG_DEV, 4, 0);
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_PRIV, NULL), NEST_SIM_FAULT_SRE);
	cr_expect_eq(xlate_fault(VA, 0, NULL), NEST_SIM_FAULT_NONE);
	done();
}

/*
 * SRE is a PASID-entry check: a supervisor request on an SRE=0 PASID faults before the walk,
 * so it reads no table, sets no A/EA bit, and the address is not even checked for being
 * canonical.
 */
Test(walk, sre_faults_before_the_walk)
{
	struct nest_sim_counters c0, c1;
	struct nest_sim_fault f;

	tg_init(&g, NULL);
	tg_bind(&g, TG_DEV, 4, NEST_SIM_BIND_F_EAFE); /* no SRE */
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	nest_sim_get_counters(g.sim, &c0);
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_PRIV, &f), NEST_SIM_FAULT_SRE);
	cr_expect_eq(f.level, 0);
	cr_expect_eq(f.gpa, 0);
	cr_expect_eq(xlate_fault(0x0000900000000000ull, NEST_SIM_ACC_PRIV, NULL),
		     NEST_SIM_FAULT_SRE, "non-canonical, but SRE comes first");
	nest_sim_get_counters(g.sim, &c1);
	cr_expect_eq(c1.walks, c0.walks);
	for (unsigned lvl = 1; lvl <= 4; lvl++)
		cr_expect_eq(*tg_entry(&g, g.root, 4, VA, lvl) & (PTE_A | PTE_EA), 0,
			     "level %u entry was walked", lvl);
	/* a user request walks and marks the tables */
	cr_expect_eq(xlate_fault(VA, 0, NULL), NEST_SIM_FAULT_NONE);
	cr_expect_eq(*tg_entry(&g, g.root, 4, VA, 1) & (PTE_A | PTE_EA), PTE_A | PTE_EA);
	done();
}

Test(walk, reserved_bits)
{
	struct nest_sim_fault f;

	setup4();
	/* address bit 48 is above the default 48-bit guest address width */
	tg_map(&g, g.root, 4, VA, GPA | (1ull << 48), 1, PTE_ALL);
	cr_expect_eq(xlate_fault(VA, 0, &f), NEST_SIM_FAULT_RSVD);
	cr_expect_eq(f.level, 1);
	/* PS in a PML4E */
	tg_map(&g, g.root, 4, 0x1000, GPA, 1, PTE_ALL);
	*tg_entry(&g, g.root, 4, 0x1000, 4) |= PTE_PS;
	cr_expect_eq(xlate_fault(0x1000, 0, &f), NEST_SIM_FAULT_RSVD);
	cr_expect_eq(f.level, 4);
	/* bits 13..29 of a 1 GiB PDPE, bits 13..20 of a 2 MiB PDE */
	tg_map(&g, g.root, 4, 0x8000000000ull, TG_B_GPA | (1ull << 29), 3, PTE_ALL);
	cr_expect_eq(xlate_fault(0x8000000000ull, 0, &f), NEST_SIM_FAULT_RSVD);
	cr_expect_eq(f.level, 3);
	tg_map(&g, g.root, 4, 0x8040000000ull, TG_B_GPA | (1ull << 13), 3, PTE_ALL);
	cr_expect_eq(xlate_fault(0x8040000000ull, 0, NULL), NEST_SIM_FAULT_RSVD);
	tg_map(&g, g.root, 4, 0x10000000000ull, 0x400000ull | (1ull << 20), 2, PTE_ALL);
	cr_expect_eq(xlate_fault(0x10000000000ull, 0, &f), NEST_SIM_FAULT_RSVD);
	cr_expect_eq(f.level, 2);
	/* bits 52..62 are ignored */
	tg_map(&g, g.root, 4, 0x100000000000ull, GPA | (0x7ffull << 52), 1, PTE_ALL);
	cr_expect_eq(xlate_fault(0x100000000000ull, 0, NULL), NEST_SIM_FAULT_NONE);
	done();
}

Test(walk, wider_gaw_moves_reserved_bits)
{
	struct nest_sim_config cfg = {.max_gaw = 52, .no_psc = true};
	struct nest_sim_fault f;

	tg_init(&g, &cfg);
	tg_bind(&g, TG_DEV, 4, 0);
	tg_map(&g, g.root, 4, VA, GPA | (1ull << 48), 1, PTE_ALL);
	cr_expect_eq(xlate_fault(VA, 0, &f), NEST_SIM_FAULT_S2_MISS);
	cr_expect_eq(f.gpa, GPA | (1ull << 48));
	cr_expect_eq(f.level, 0);
	done();
}

Test(walk, stage2_hole_in_tables)
{
	struct nest_sim_fault f;
	uint64_t hole = 0x20000000ull; /* between region A and region B */

	setup4();
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	*tg_entry(&g, g.root, 4, VA, 3) = hole | PTE_ALL;
	cr_expect_eq(xlate_fault(VA, 0, &f), NEST_SIM_FAULT_S2_MISS);
	cr_expect_eq(f.level, 2);
	cr_expect_eq(f.gpa, hole + ((VA >> 21) & 511) * 8);
	/* a top-level table outside stage 2 */
	cr_expect_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), 0);
	struct nest_sim_bind b = {.fmt = NEST_SIM_FMT_VTD_FL, .addr_width = 48, .gpgd = hole};
	cr_assert_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), 0);
	cr_expect_eq(tg_inv(&g, NEST_SIM_CACHE_PASID, NEST_SIM_GRANU_DOMAIN, 0, 0, 0, 0), 0);
	cr_expect_eq(xlate_fault(VA, 0, &f), NEST_SIM_FAULT_S2_MISS);
	cr_expect_eq(f.level, 4);
	done();
}

Test(walk, stage2_permissions)
{
	int fd = memfd_create("ro", MFD_CLOEXEC);
	uint64_t ro = 0x20000000ull;
	struct nest_sim_fault f;
	struct nest_sim_xlate xl;

	cr_assert(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	setup4();
	cr_assert_eq(nest_sim_region_add(g.sim, g.dom, ro, 1 << 20, fd, 0, NEST_SIM_PERM_R), 0);
	close(fd);
	tg_map(&g, g.root, 4, VA, ro + 0x3000, 1, PTE_ALL);
	cr_expect_eq(xlate_fault(VA, 0, NULL), NEST_SIM_FAULT_NONE);
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_WRITE, &f), NEST_SIM_FAULT_S2_PERM);
	cr_expect_eq(f.gpa, ro + 0x3000);
	cr_expect_eq(f.level, 0);
	cr_assert_eq(tg_xlate(&g, TG_DEV, VA, 0, &xl, NULL), 0);
	cr_expect_eq(xl.perms & (NEST_SIM_XLATE_P_S2R | NEST_SIM_XLATE_P_S2W),
		     NEST_SIM_XLATE_P_S2R);
	done();
}

Test(walk, read_only_table_page_cannot_take_a_bits)
{
	int fd = memfd_create("ro", MFD_CLOEXEC);
	uint64_t ro = 0x20000000ull;
	struct nest_sim_fault f;
	uint64_t *pt;

	cr_assert(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	pt = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert(pt != MAP_FAILED);
	setup4();
	cr_assert_eq(nest_sim_region_add(g.sim, g.dom, ro, 1 << 20, fd, 0, NEST_SIM_PERM_R), 0);
	tg_map(&g, g.root, 4, VA, GPA, 1, PTE_ALL);
	*tg_entry(&g, g.root, 4, VA, 2) = ro | PTE_ALL; /* PT page in read-only stage 2 */
	pt[(VA >> 12) & 511] = GPA | PTE_ALL;
	cr_expect_eq(xlate_fault(VA, 0, &f), NEST_SIM_FAULT_S2_PERM);
	cr_expect_eq(f.level, 1);
	pt[(VA >> 12) & 511] |= PTE_A; /* nothing to write back: the walk succeeds */
	cr_expect_eq(xlate_fault(VA, 0, NULL), NEST_SIM_FAULT_NONE);
	munmap(pt, 1 << 20);
	close(fd);
	done();
}

Test(walk, pasid_faults)
{
	struct nest_sim_fault f;
	struct nest_sim_xlate xl;

	tg_init(&g, &walk_cfg);
	cr_expect_eq(xlate_fault(VA, 0, &f), NEST_SIM_FAULT_PASID_NOT_PRESENT);
	cr_assert_eq(nest_sim_device_add(g.sim, g.dom, 7, false, 4), 0);
	cr_expect_eq(nest_sim_translate(g.sim, 7, 16, VA, 0, &xl, &f), -EFAULT);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_PASID_RANGE);
	cr_expect_eq(nest_sim_translate(g.sim, 99, 1, VA, 0, &xl, &f), -ENOENT);
	cr_expect_eq(nest_sim_translate(g.sim, 7, 1, VA, 1u << 9, &xl, &f), -EOPNOTSUPP);
	cr_expect_eq(nest_sim_translate(g.sim, 7, 1, VA, NEST_SIM_ACC_WRITE | NEST_SIM_ACC_EXEC,
					&xl, &f),
		     -EINVAL);
	done();
}

struct fault_log {
	unsigned n;
	struct nest_sim_fault last;
};

static void on_fault(void *opaque, const struct nest_sim_fault *f)
{
	struct fault_log *log = opaque;

	log->n++;
	log->last = *f;
}

Test(walk, fault_callback_and_counters)
{
	struct fault_log log = {0};
	struct nest_sim_counters c;

	setup4();
	nest_sim_set_fault_cb(g.sim, on_fault, &log);
	cr_expect_eq(xlate_fault(VA, NEST_SIM_ACC_WRITE, NULL), NEST_SIM_FAULT_PTE_NOT_PRESENT);
	cr_expect_eq(log.n, 1);
	cr_expect_eq(log.last.reason, NEST_SIM_FAULT_PTE_NOT_PRESENT);
	cr_expect_eq(log.last.access, NEST_SIM_ACC_WRITE);
	cr_expect_eq(log.last.addr, VA);
	nest_sim_get_counters(g.sim, &c);
	cr_expect_eq(c.faults, 1);
	cr_expect_eq(c.fault_reasons[NEST_SIM_FAULT_PTE_NOT_PRESENT], 1);
	cr_expect_eq(c.walks, 1);
	cr_expect_eq(c.translations, 1);
	cr_expect_str_eq(nest_sim_fault_reason_str(NEST_SIM_FAULT_PTE_NOT_PRESENT),
			 "pte-not-present");
	cr_expect_str_eq(nest_sim_fault_reason_str(999), "unknown");
	for (uint32_t r = 0; r < NEST_SIM_FAULT_REASON_MAX; r++)
		cr_expect_str_neq(nest_sim_fault_reason_str(r), "unknown");
	done();
}

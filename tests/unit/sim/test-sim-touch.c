/* SPDX-License-Identifier: MIT */
/*
 * Suite "touch": the materialisation account (sim-touch.c). The work its bookkeeping does for the
 * runs a VMM can arrange (nest_sim_touch_steps(): runs compared or visited) grows as n log n, not
 * n^2, for DMA that records pages in front of all the others and holes that split a long run in
 * front of many.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nest-sim.h"
#include "nest-test.h"

#include <criterion/criterion.h>

#define PG    4096ull
#define MIB   (1ull << 20)
#define DEV   1u
#define RID   NEST_SIM_PASID_RID
#define GPA_A 0ull	   /* file [0, 16 MiB) */
#define GPA_B (1ull << 30) /* file [16 MiB, 32 MiB) */
#define GPA_C (2ull << 30) /* file [0, 16 MiB) again, added to prune */

struct tt {
	struct nest_sim *sim;
	struct nest_sim_touch_acct *acct;
	uint32_t dom;
	int fd;
};

static void tt_init(struct tt *t)
{
	struct nest_sim_config cfg = {.touch_limit = 64 * MIB};

	t->fd = memfd_create("tt", MFD_CLOEXEC);
	cr_assert(t->fd >= 0);
	cr_assert(ftruncate(t->fd, (off_t)(32 * MIB)) == 0);
	cr_assert_eq(nest_sim_new(&cfg, &t->sim), 0);
	cr_assert_eq(nest_sim_domain_new(t->sim, 4, &t->dom), 0);
	cr_assert_eq(nest_sim_touch_acct_new(0, &t->acct), 0);
	cr_assert_eq(nest_sim_domain_set_touch_acct(t->sim, t->dom, t->acct), 0);
	cr_assert_eq(nest_sim_region_add(t->sim, t->dom, GPA_A, 16 * MIB, t->fd, 0,
					 NEST_SIM_PERM_R | NEST_SIM_PERM_W),
		     0);
	cr_assert_eq(nest_sim_region_add(t->sim, t->dom, GPA_B, 16 * MIB, t->fd, 16 * MIB,
					 NEST_SIM_PERM_R | NEST_SIM_PERM_W),
		     0);
	cr_assert_eq(nest_sim_device_add(t->sim, t->dom, DEV, false, 20), 0);
}

static void tt_fini(struct tt *t)
{
	t->sim = nest_sim_free(t->sim);
	t->acct = nest_sim_touch_acct_free(t->acct);
	close(t->fd);
}

/* One DMA write of one byte at @gpa: one access, one page. */
static void dma1(struct tt *t, uint64_t gpa)
{
	uint8_t b = 0x5a;

	cr_assert_eq(nest_sim_dma(t->sim, DEV, RID, gpa, &b, 1, NEST_SIM_ACC_WRITE, NULL, NULL), 0,
		     "DMA at 0x%llx", (unsigned long long)gpa);
}

/*
 * The adversarial pattern at size @n; returns the steps it cost.
 *  1. n single pages of region B (every other page, from its second), recorded last first: each in front of all
 *     the runs recorded before it;
 *  2. a run of 2n pages at the start of region A, in front of them all;
 *  3. every other page of that run punched out of the file, then a region of the file added:
 *     the prune splits the run n - 1 times, each in front of the n runs of step 1.
 */
static uint64_t adversary(uint32_t n)
{
	struct nest_sim_touch_info info;
	uint64_t before;
	struct tt t;

	tt_init(&t);
	before = nest_sim_touch_steps();
	for (uint32_t i = n; i-- > 0;)
		dma1(&t, GPA_B + (2 * i + 1) * PG);
	for (uint32_t i = 0; i < 2 * n; i++)
		dma1(&t, GPA_A + i * PG);
	nest_sim_touch_acct_info(t.acct, &info);
	cr_assert_eq(info.ranges, n + 1, "%u runs", info.ranges);
	cr_assert_eq(info.bytes, 3 * n * PG);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       (off_t)((2 * i + 1) * PG), (off_t)PG),
			     0);
	cr_assert_eq(nest_sim_region_add(t.sim, t.dom, GPA_C, 16 * MIB, t.fd, 0, NEST_SIM_PERM_R),
		     0);
	before = nest_sim_touch_steps() - before;
	/* the semantics: pages 0, 2, .., 2n - 2 of the file stay, each its own run */
	nest_sim_touch_acct_info(t.acct, &info);
	cr_expect_eq(info.ranges, 2 * n, "%u runs", info.ranges);
	cr_expect_eq(info.files, 1);
	cr_expect_eq(info.bytes, 2 * n * PG);
	cr_expect_eq(info.touched, 3 * n * PG);
	cr_expect_eq(info.released, n * PG);
	tt_fini(&t);
	return before;
}

static unsigned log2_ceil(uint64_t x)
{
	unsigned l = 0;

	while ((1ull << l) < x)
		l++;
	return l;
}

Test(touch, adversarial_runs_cost_n_log_n)
{
	const uint32_t small = 128, big = 2048; /* 16 times more runs */
	uint64_t s = adversary(small), b = adversary(big);

	cr_log_info("steps: %u runs %llu, %u runs %llu (x%.1f)", small, (unsigned long long)s, big,
		    (unsigned long long)b, (double)b / (double)s);
	/*
	 * n log n: 16 x 12/8 = 24 times the work for 16 times the runs; shifting a sorted array
	 * would be 256 times. Per page recorded or dropped (4n of them), a few lookups of
	 * ~2 log2(n) comparisons each (a red-black tree is at most that deep).
	 */
	cr_expect_lt(b, 40 * s, "%llu steps for %u runs, %llu for %u: not n log n",
		     (unsigned long long)b, big, (unsigned long long)s, small);
	cr_expect_leq(b, 4ull * big * 8 * (2 * log2_ceil(3 * big) + 2), "%llu steps",
		      (unsigned long long)b);
	NO_LEAKS();
}

/* Punching pages in the middle of runs and pruning keeps the runs exact, wherever they are. */
Test(touch, prune_splits_and_drops_exactly)
{
	struct nest_sim_touch_info info;
	struct tt t;

	tt_init(&t);
	for (uint64_t i = 0; i < 64; i++) /* pages [0, 64) and [100, 110) */
		dma1(&t, GPA_A + i * PG);
	for (uint64_t i = 100; i < 110; i++)
		dma1(&t, GPA_A + i * PG);
	dma1(&t, GPA_A + 64 * PG); /* joins nothing yet: 64 extends the first run */
	nest_sim_touch_acct_info(t.acct, &info);
	cr_assert_eq(info.ranges, 2);
	cr_assert_eq(info.bytes, 75 * PG);
	/* holes at 0 (the start), 10-11 (inside), 64 (the end), 100-109 (a whole run) */
	cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG), 0);
	cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10 * PG, 2 * PG),
		     0);
	cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 64 * PG, PG), 0);
	cr_assert_eq(fallocate(t.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100 * PG, 10 * PG),
		     0);
	cr_assert_eq(nest_sim_region_add(t.sim, t.dom, GPA_C, 16 * MIB, t.fd, 0, NEST_SIM_PERM_R),
		     0);
	nest_sim_touch_acct_info(t.acct, &info);
	cr_expect_eq(info.ranges, 2, "[1, 10) and [12, 64): %u runs", info.ranges);
	cr_expect_eq(info.bytes, 61 * PG);
	cr_expect_eq(info.released, 14 * PG);
	/* the holes are holes again: DMA into each charges it again, and joins the runs back */
	dma1(&t, GPA_A + 10 * PG);
	dma1(&t, GPA_A + 11 * PG);
	dma1(&t, GPA_A);
	nest_sim_touch_acct_info(t.acct, &info);
	cr_expect_eq(info.ranges, 1, "[0, 64): %u runs", info.ranges);
	cr_expect_eq(info.bytes, 64 * PG);
	cr_expect_eq(info.touched, 78 * PG);
	tt_fini(&t);
	NO_LEAKS();
}

/* SPDX-License-Identifier: MIT */
/*
 * test-pasid-windows.c - daemon/pasid-windows.c: the sorted PASIDRange= windows and the shared
 * pool's gaps between them, against a brute-force model (a PASID is in the pool when no window
 * holds it), built by nestd_config_load() and rebuilt by a reload's load.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "config-test.h"
#include "nest-test.h"
#include "pasid-windows.h"

#define SPACE 2048u /* the random cases' PASID space */

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void set_window(struct nestd_vm_cfg *vm, uint32_t min, uint32_t max)
{
	vm->pasid_min = min;
	vm->pasid_max = max;
}

/* Every gap of [from, max] in order, checked against @in_window (SPACE + 1 flags). */
static void check_gaps(const struct nestd_pasid_windows *ws, const bool *in_window, uint32_t from,
		       uint32_t max)
{
	uint64_t at = from;
	uint32_t lo, hi;

	while (nestd_pasid_windows_gap(ws, (uint32_t)at, max, &lo, &hi)) {
		cr_assert_leq(lo, hi);
		cr_assert_geq(lo, at);
		cr_assert_leq(hi, max);
		for (uint64_t p = at; p < lo; p++)
			cr_assert(in_window[p], "PASID %lu skipped but in no window",
				  (unsigned long)p);
		for (uint64_t p = lo; p <= hi; p++)
			cr_assert(!in_window[p], "PASID %lu in a gap but in a window",
				  (unsigned long)p);
		cr_assert(hi == max || in_window[hi + 1], "gap %u-%u ends early", lo, hi);
		cr_assert_eq(nestd_pasid_windows_at(ws, lo), NULL);
		at = (uint64_t)hi + 1;
	}
	for (uint64_t p = at; p <= max; p++)
		cr_assert(in_window[p], "PASID %lu in no window but no gap found",
			  (unsigned long)p);
}

Test(pasid_windows, none_is_one_gap)
{
	struct nestd_vm_cfg vms[3] = {0};
	struct nestd_pasid_windows ws = {0};
	uint32_t lo = 0, hi = 0;

	cr_assert_eq(nestd_pasid_windows_build(&ws, vms, 3), 0);
	cr_expect_eq(ws.n, 0);
	cr_assert(nestd_pasid_windows_gap(&ws, 1, NEST_PASID_MAX, &lo, &hi));
	cr_expect_eq(lo, 1);
	cr_expect_eq(hi, NEST_PASID_MAX);
	cr_expect_not(nestd_pasid_windows_gap(&ws, 5, 4, &lo, &hi), "from > max");
	cr_expect_null(nestd_pasid_windows_at(&ws, 1));
	nestd_pasid_windows_free(&ws);
}

Test(pasid_windows, sorted_touching_and_at_the_ends)
{
	struct nestd_vm_cfg vms[5] = {0};
	struct nestd_pasid_windows ws = {0};
	uint32_t lo = 0, hi = 0;

	set_window(&vms[0], 500, 599);
	set_window(&vms[2], 200, 299); /* vms[1] has none */
	set_window(&vms[3], 100, 199); /* touches 200-299 */
	set_window(&vms[4], NEST_PASID_MAX - 9, NEST_PASID_MAX);
	cr_assert_eq(nestd_pasid_windows_build(&ws, vms, 5), 0);
	cr_assert_eq(ws.n, 4);
	cr_expect_eq(ws.w[0].min, 100);
	cr_expect_eq(ws.w[1].min, 200);
	cr_expect_eq(ws.w[2].min, 500);
	cr_expect_eq(ws.w[3].max, NEST_PASID_MAX);

	cr_assert(nestd_pasid_windows_gap(&ws, 1, NEST_PASID_MAX, &lo, &hi));
	cr_expect(lo == 1 && hi == 99, "%u-%u", lo, hi);
	cr_assert(nestd_pasid_windows_gap(&ws, 100, NEST_PASID_MAX, &lo, &hi));
	cr_expect(lo == 300 && hi == 499, "two touching windows skipped at once: %u-%u", lo, hi);
	cr_assert(nestd_pasid_windows_gap(&ws, 250, 400, &lo, &hi));
	cr_expect(lo == 300 && hi == 400, "%u-%u", lo, hi);
	cr_expect_not(nestd_pasid_windows_gap(&ws, 150, 250, &lo, &hi), "all in windows");
	cr_assert(nestd_pasid_windows_gap(&ws, 600, NEST_PASID_MAX, &lo, &hi));
	cr_expect(lo == 600 && hi == NEST_PASID_MAX - 10, "%u-%u", lo, hi);
	cr_expect_not(nestd_pasid_windows_gap(&ws, NEST_PASID_MAX - 9, NEST_PASID_MAX, &lo, &hi),
		      "the last window reaches the end of the space");
	cr_expect_eq(nestd_pasid_windows_at(&ws, 199), &ws.w[0]);
	cr_expect_eq(nestd_pasid_windows_at(&ws, 200), &ws.w[1]);
	cr_expect_null(nestd_pasid_windows_at(&ws, 300));
	cr_expect_eq(nestd_pasid_windows_at(&ws, NEST_PASID_MAX), &ws.w[3]);
	nestd_pasid_windows_free(&ws);
	cr_expect_eq(ws.n, 0);
}

Test(pasid_windows, overlap_and_empty_windows_refused)
{
	struct nestd_vm_cfg vms[2] = {0};
	struct nestd_pasid_windows ws = {0};

	set_window(&vms[0], 100, 199);
	set_window(&vms[1], 199, 300);
	cr_expect_eq(nestd_pasid_windows_build(&ws, vms, 2), -EINVAL);
	cr_expect_eq(ws.n, 0);
	cr_expect_null(ws.w);
	set_window(&vms[1], 300, 299);
	cr_expect_eq(nestd_pasid_windows_build(&ws, vms, 2), -EINVAL);
	set_window(&vms[1], 0, 5);
	cr_expect_eq(nestd_pasid_windows_build(&ws, vms, 2), -EINVAL);
}

/* Random disjoint windows in [1, SPACE] (some touching, some at the ends), every gap checked. */
Test(pasid_windows, gaps_match_a_model)
{
	static struct nestd_vm_cfg vms[64];
	struct nestd_pasid_windows ws = {0};
	uint64_t s = 0x2545f4914f6cdd1dull;

	for (int round = 0; round < 300; round++) {
		bool in_window[SPACE + 2] = {false};
		size_t n = rng(&s) % 64;
		uint32_t at = 1;

		for (size_t i = 0; i < n; i++) {
			uint32_t skip = (uint32_t)(rng(&s) % 3 == 0 ? 0 : rng(&s) % 64);
			uint32_t len = (uint32_t)(rng(&s) % 40) + 1;

			vms[i] = (struct nestd_vm_cfg){0};
			if (rng(&s) % 4 == 0 || at + skip + len - 1 > SPACE)
				continue; /* a VM without a window */
			set_window(&vms[i], at + skip, at + skip + len - 1);
			for (uint32_t p = at + skip; p < at + skip + len; p++)
				in_window[p] = true;
			at += skip + len;
		}
		/* shuffle: the configuration's order is not the windows' */
		for (size_t i = n; i > 1; i--) {
			size_t j = rng(&s) % i;
			struct nestd_vm_cfg t = vms[i - 1];

			vms[i - 1] = vms[j];
			vms[j] = t;
		}
		cr_assert_eq(nestd_pasid_windows_build(&ws, vms, n), 0);
		for (size_t i = 1; i < ws.n; i++)
			cr_assert_gt(ws.w[i].min, ws.w[i - 1].max);
		check_gaps(&ws, in_window, 1, SPACE);
		for (int k = 0; k < 20; k++) {
			uint32_t a = (uint32_t)(rng(&s) % SPACE) + 1,
				 b = (uint32_t)(rng(&s) % SPACE) + 1;

			check_gaps(&ws, in_window, a < b ? a : b, a < b ? b : a);
			cr_assert_eq(nestd_pasid_windows_at(&ws, a) != NULL, in_window[a],
				     "PASID %u", a);
		}
	}
	nestd_pasid_windows_free(&ws);
}

/* The windows come with the configuration: a reload's load has the windows it adds and drops. */
Test(pasid_windows, follow_the_configuration_on_reload)
{
	struct nestd_config *c1 = NULL, *c2 = NULL;
	char dir[64], sub[128], err[ERRLEN], path[256], text[1024];
	uint32_t lo = 0, hi = 0;

	tdir_make(dir);
	cr_assert_eq(load_text(dir,
			       "[VM]\nName=a\nOwner=0\nPASIDRange=100-199\n"
			       "[VM]\nName=b\nOwner=0\n"
			       "[VM]\nName=c\nOwner=0\nPASIDRange=1000-1999\n",
			       &c1, err, path),
		     0, "%s", err);
	cr_assert_eq(c1->pasid_windows.n, 2);
	cr_assert(nestd_pasid_windows_gap(&c1->pasid_windows, 100, NEST_PASID_MAX, &lo, &hi));
	cr_expect(lo == 200 && hi == 999, "%u-%u", lo, hi);

	/* the reload drops a, moves c's window, gives b one */
	snprintf(text, sizeof(text), "%s",
		 "[VM]\nName=b\nOwner=0\nPASIDRange=300-399\n"
		 "[VM]\nName=c\nOwner=0\nPASIDRange=2000-2999\n");
	cr_assert_eq(load_text(dir, text, &c2, err, path), 0, "%s", err);
	cr_assert_eq(c2->pasid_windows.n, 2);
	cr_assert(nestd_pasid_windows_gap(&c2->pasid_windows, 1, NEST_PASID_MAX, &lo, &hi));
	cr_expect(lo == 1 && hi == 299, "a's window is pool again: %u-%u", lo, hi);
	cr_assert(nestd_pasid_windows_gap(&c2->pasid_windows, 300, NEST_PASID_MAX, &lo, &hi));
	cr_expect(lo == 400 && hi == 1999, "c's old window is pool again: %u-%u", lo, hi);
	cr_expect_not_null(nestd_pasid_windows_at(&c2->pasid_windows, 2500));
	/* the configuration that was replaced keeps its own until it is freed */
	cr_expect_not_null(nestd_pasid_windows_at(&c1->pasid_windows, 150));
	cr_expect_null(nestd_pasid_windows_at(&c1->pasid_windows, 2500));
	nestd_config_free(c1);

	/* a drop-in that replaces a VM replaces its window too */
	snprintf(sub, sizeof(sub), "%s/nestd.conf.d", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	write_in(sub, "10-c.conf", "[VM]\nName=c\nOwner=0\n");
	cr_assert_eq(load_text(dir, text, &c1, err, path), 0, "%s", err);
	cr_assert_eq(c1->pasid_windows.n, 1);
	cr_expect_eq(c1->pasid_windows.w[0].min, 300);
	nestd_config_free(c1);
	nestd_config_free(c2);
	tdir_remove(dir);
}

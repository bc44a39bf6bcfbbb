/* SPDX-License-Identifier: MIT */
/*
 * test-pasid-index.c - daemon/pasid-index.c against a plain array: random adds, moves and
 * deletes (clustered PASIDs, so that probe runs and backward-shift deletion are exercised), and
 * after every step every PASID held and many not held are looked up.
 */
#include <stdlib.h>

#include <criterion/criterion.h>

#include "nest-test.h"
#include "pasid-index.h"

#define HELD_MAX 3000

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check(const struct pasid_index *x, const uint32_t *held, uint32_t n, uint64_t *s)
{
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(pasid_index_get(x, held[i]), (int64_t)i, "PASID %u", held[i]);
	for (int k = 0; k < 20; k++) {
		uint32_t p = (uint32_t)(rng(s) % 4096) + 1;
		bool in = false;

		for (uint32_t i = 0; i < n && !in; i++)
			in = held[i] == p;
		if (!in)
			cr_assert_eq(pasid_index_get(x, p), -1, "PASID %u not held", p);
	}
	cr_assert_eq(x->n, n);
}

Test(pasid_index, matches_an_array_under_random_churn)
{
	static uint32_t held[HELD_MAX];
	struct pasid_index x = {0};
	uint32_t n = 0;
	uint64_t s = 0x9e3779b97f4a7c15ull;

	cr_expect_eq(pasid_index_get(&x, 5), -1, "empty index");
	for (int step = 0; step < 20000; step++) {
		if (n < HELD_MAX && (n == 0 || rng(&s) % 100 < 55)) {
			uint32_t p;
			bool dup;

			do { /* clustered: 1..4096, and never twice */
				p = (uint32_t)(rng(&s) % 4096) + 1;
				dup = false;
				for (uint32_t i = 0; i < n && !dup; i++)
					dup = held[i] == p;
			} while (dup);
			cr_assert_eq(pasid_index_add(&x, p, n), 0);
			held[n++] = p;
		} else {
			uint32_t i = (uint32_t)(rng(&s) % n);

			/* as vm_pasid_remove(): the last entry moves into the hole */
			pasid_index_del(&x, held[i]);
			held[i] = held[--n];
			if (i < n)
				pasid_index_move(&x, held[i], i);
		}
		if (step % 97 == 0 || n < 40)
			check(&x, held, n, &s);
	}
	check(&x, held, n, &s);
	pasid_index_clear(&x);
	cr_expect_eq(pasid_index_get(&x, held[0]), -1);
	pasid_index_free(&x);
	NO_LEAKS();
}

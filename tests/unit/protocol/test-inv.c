/* SPDX-License-Identifier: MIT */
/*
 * test-inv.c - invalidation batches: the array framing and the per-entry validity rules.
 */
#include <errno.h>
#include <stdlib.h>

#include "nest-msg.h"
#include "nest-test.h"

static const struct nest_body_desc *inv_bd(void)
{
	return &nest_op_desc(NEST_OP_INVALIDATE)->req;
}

/* Build an INVALIDATE body with @num entries of @len bytes (entry i has pasid i+1). */
static size_t inv_body(uint8_t *p, uint32_t len, uint32_t num, size_t alloc_entries)
{
	struct nest_invalidate h = {.size = sizeof(h), .entry_len = len, .entry_num = num};

	memcpy(p, &h, sizeof(h));
	memset(p + sizeof(h), 0, (size_t)len * alloc_entries);
	for (size_t i = 0; i < alloc_entries; i++) {
		struct nest_inv_entry e = {.cache = NEST_CACHE_IOTLB,
					   .granularity = NEST_INV_GRANU_PASID,
					   .pasid = (uint32_t)(i + 1)};
		memcpy(p + sizeof(h) + i * len, &e, sizeof(e));
	}
	return sizeof(h) + (size_t)len * alloc_entries;
}

Test(inv, array_framing)
{
	uint8_t body[4096], dst[16];
	struct nest_tail t;
	size_t n;

	n = inv_body(body, sizeof(struct nest_inv_entry), 3, 3);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n, dst, &t), 0);
	cr_expect_eq(t.entry_num, 3);
	cr_expect_eq(t.entry_len, sizeof(struct nest_inv_entry));
	cr_expect_eq(t.len, 3 * sizeof(struct nest_inv_entry));

	n = inv_body(body, sizeof(struct nest_inv_entry) - 1, 3, 3);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n, dst, &t), -EINVAL, "entry_len too small");
	n = inv_body(body, 0, 3, 0);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n, dst, &t), -EINVAL, "entry_len 0");
	n = inv_body(body, sizeof(struct nest_inv_entry), 0, 0);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n, dst, &t), -EINVAL, "entry_num 0");

	n = inv_body(body, sizeof(struct nest_inv_entry), 3, 3);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n - 1, dst, &t), -EINVAL, "short by one");
	body[n] = 0;
	cr_expect_eq(nest_body_decode(inv_bd(), body, n + 1, dst, &t), -EINVAL, "long by one");
	n = inv_body(body, sizeof(struct nest_inv_entry), 2, 3);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n, dst, &t), -EINVAL, "one entry too many");

	/* 0x10000 * 0x10000 overflows 32 bits: EOVERFLOW, whatever the body length */
	n = inv_body(body, 0x10000, 0x10000, 0);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n, dst, &t), -EOVERFLOW);
	n = inv_body(body, UINT32_MAX, 2, 0);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n, dst, &t), -EOVERFLOW);
	/* no overflow, but nowhere near fitting */
	n = inv_body(body, 0x10000, 0xffff, 0);
	cr_expect_eq(nest_body_decode(inv_bd(), body, n, dst, &t), -EINVAL);
	NO_LEAKS();
}

Test(inv, longer_entries_need_a_zero_tail)
{
	const uint32_t len = sizeof(struct nest_inv_entry) + 24;
	uint8_t body[4096], dst[16];
	struct nest_inv_entry e;
	struct nest_tail t;
	size_t n = inv_body(body, len, 3, 3);

	cr_assert_eq(nest_body_decode(inv_bd(), body, n, dst, &t), 0);
	for (uint32_t i = 0; i < 3; i++) {
		memset(&e, 0xcc, sizeof(e));
		cr_assert_eq(nest_array_entry(&t, i, &e, sizeof(e)), 0);
		cr_expect_eq(e.pasid, i + 1);
		cr_expect_eq(nest_inv_entry_check(&e), 0);
	}
	cr_expect_eq(nest_array_entry(&t, 3, &e, sizeof(e)), -EINVAL, "index out of range");

	/* a non-zero byte in the tail of entry 1 only */
	body[sizeof(struct nest_invalidate) + len + sizeof(struct nest_inv_entry) + 5] = 1;
	cr_assert_eq(nest_body_decode(inv_bd(), body, n, dst, &t), 0, "tails are per entry");
	cr_expect_eq(nest_array_entry(&t, 0, &e, sizeof(e)), 0);
	memset(&e, 0xcc, sizeof(e));
	cr_expect_eq(nest_array_entry(&t, 1, &e, sizeof(e)), -E2BIG);
	cr_expect_eq(nest_array_entry(&t, 2, &e, sizeof(e)), 0);

	/* a receiver knowing a bigger entry zero-extends */
	{
		uint8_t big[sizeof(struct nest_inv_entry) + 64];

		memset(big, 0xcc, sizeof(big));
		cr_expect_eq(nest_array_entry(&t, 2, big, sizeof(big)), 0);
		cr_expect(nest_mem_is_zero(big + len, sizeof(big) - len));
	}
	NO_LEAKS();
}

/* Entries of the receiver's size take nest_array_entry()'s inline copy: same results. */
Test(inv, entries_of_the_receivers_size)
{
	uint8_t body[4096], dst[16];
	struct nest_inv_entry e, e2;
	struct nest_tail t;
	size_t n = inv_body(body, sizeof(struct nest_inv_entry), 3, 3);

	cr_assert_eq(nest_body_decode(inv_bd(), body, n, dst, &t), 0);
	for (uint32_t i = 0; i < 3; i++) {
		memset(&e, 0xcc, sizeof(e));
		memset(&e2, 0x33, sizeof(e2));
		cr_assert_eq(nest_array_entry(&t, i, &e, sizeof(e)), 0);
		cr_assert_eq(nest_array_entry_resize(&t, i, &e2, sizeof(e2)), 0);
		cr_expect_eq(memcmp(&e, &e2, sizeof(e)), 0);
		cr_expect_eq(e.pasid, i + 1);
		cr_expect_eq(memcmp(&e, t.ptr + i * sizeof(e), sizeof(e)), 0);
	}
	memset(&e, 0xcc, sizeof(e));
	e2 = e;
	cr_expect_eq(nest_array_entry(&t, 3, &e, sizeof(e)), -EINVAL, "index out of range");
	cr_expect_eq(nest_array_entry(&t, UINT32_MAX, &e, sizeof(e)), -EINVAL);
	cr_expect_eq(memcmp(&e, &e2, sizeof(e)), 0, "untouched");
	NO_LEAKS();
}

/* Independent statement of the table in PROTOCOL.md: rows granularity, columns cache bit. */
static bool expected_combo(unsigned cache, unsigned granu)
{
	static const bool ok[3][3] = {
		/*            IOTLB  DEV_IOTLB PASID */
		/* DOMAIN */ {true, false, true},
		/* PASID  */ {true, true, true},
		/* ADDR   */ {true, true, false},
	};

	if (cache == 0 || cache > 7 || granu > 2)
		return false;
	for (unsigned bit = 0; bit < 3; bit++)
		if ((cache & (1u << bit)) && !ok[granu][bit])
			return false;
	return true;
}

Test(inv, validity_table)
{
	for (unsigned cache = 0; cache < 256; cache++)
		for (unsigned granu = 0; granu < 256; granu++)
			cr_expect_eq(nest_inv_valid_combo((uint8_t)cache, (uint8_t)granu),
				     expected_combo(cache, granu), "cache %u granu %u", cache,
				     granu);
	NO_LEAKS();
}

static struct nest_inv_entry valid_entry(unsigned cache, unsigned granu)
{
	struct nest_inv_entry e = {.cache = (uint8_t)cache, .granularity = (uint8_t)granu};

	if (granu != NEST_INV_GRANU_DOMAIN)
		e.pasid = 5;
	if (granu == NEST_INV_GRANU_ADDR) {
		e.addr = 0x200000;
		e.granule_size = 4096;
		e.nb_granules = 4;
	}
	return e;
}

Test(inv, entry_check_follows_the_table)
{
	for (unsigned cache = 0; cache <= 7; cache++)
		for (unsigned granu = 0; granu <= 3; granu++) {
			struct nest_inv_entry e = valid_entry(cache, granu);
			int want = expected_combo(cache, granu) ? 0 : -EINVAL;

			if (cache == 0)
				want = -EINVAL;
			else if (granu >= NEST_INV_GRANU_MAX)
				want = -EOPNOTSUPP;
			cr_expect_eq(nest_inv_entry_check(&e), want, "cache %u granu %u", cache,
				     granu);
		}
	NO_LEAKS();
}

Test(inv, entry_fields)
{
	struct nest_inv_entry e;

	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_ADDR);
	cr_expect_eq(nest_inv_entry_check(&e), 0);
	e.cache = 1u << 3;
	cr_expect_eq(nest_inv_entry_check(&e), -EOPNOTSUPP, "unknown cache bit");
	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_ADDR);
	e.flags = 1u << 1;
	cr_expect_eq(nest_inv_entry_check(&e), -EOPNOTSUPP, "unknown flag");
	e.flags = NEST_INV_F_LEAF;
	cr_expect_eq(nest_inv_entry_check(&e), 0, "LEAF with ADDR");
	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_PASID);
	e.flags = NEST_INV_F_LEAF;
	cr_expect_eq(nest_inv_entry_check(&e), -EINVAL, "LEAF without ADDR");
	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_ADDR);
	e.__reserved = 1;
	cr_expect_eq(nest_inv_entry_check(&e), -EOPNOTSUPP);
	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_ADDR);
	e.__reserved2 = 0x100;
	cr_expect_eq(nest_inv_entry_check(&e), -EOPNOTSUPP);

	/* pasid range for PASID and ADDR; ADDR with PASID 0 is every PASID of the VM */
	for (unsigned g = NEST_INV_GRANU_PASID; g <= NEST_INV_GRANU_ADDR; g++) {
		e = valid_entry(NEST_CACHE_IOTLB, g);
		e.pasid = 0;
		cr_expect_eq(nest_inv_entry_check(&e), g == NEST_INV_GRANU_ADDR ? 0 : -EINVAL);
		cr_expect_eq(nest_inv_all_pasids(&e), g == NEST_INV_GRANU_ADDR);
		e.pasid = NEST_PASID_MAX;
		cr_expect_eq(nest_inv_entry_check(&e), 0);
		e.pasid = NEST_PASID_MAX + 1;
		cr_expect_eq(nest_inv_entry_check(&e), -EINVAL);
	}
	/* fields a granularity does not use must be zero */
	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_DOMAIN);
	e.pasid = 1;
	cr_expect_eq(nest_inv_entry_check(&e), -EINVAL);
	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_DOMAIN);
	e.nb_granules = 1;
	cr_expect_eq(nest_inv_entry_check(&e), -EINVAL);
	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_PASID);
	e.addr = 0x1000;
	cr_expect_eq(nest_inv_entry_check(&e), -EINVAL);
	e = valid_entry(NEST_CACHE_IOTLB, NEST_INV_GRANU_PASID);
	e.granule_size = 4096;
	cr_expect_eq(nest_inv_entry_check(&e), -EINVAL);
	NO_LEAKS();
}

Test(inv, addr_range)
{
	struct nest_inv_entry e =
		valid_entry(NEST_CACHE_IOTLB | NEST_CACHE_DEV_IOTLB, NEST_INV_GRANU_ADDR);
	static const uint64_t bad_granule[] = {0, 1, 512, 2048, 4095, 4097, 6144, 3ull << 20};

	for (size_t i = 0; i < sizeof(bad_granule) / sizeof(bad_granule[0]); i++) {
		e.granule_size = bad_granule[i];
		e.addr = 0;
		cr_expect_eq(nest_inv_entry_check(&e), -EINVAL, "granule %#llx",
			     (unsigned long long)bad_granule[i]);
	}
	for (unsigned s = 12; s < 64; s++) {
		e.granule_size = 1ull << s;
		e.addr = 1ull << s;
		e.nb_granules = 1;
		cr_expect_eq(nest_inv_entry_check(&e), 0, "2^%u", s);
		e.addr = (1ull << s) + 4096;
		cr_expect_eq(nest_inv_entry_check(&e), s == 12 ? 0 : -EINVAL, "misaligned 2^%u", s);
	}
	e.granule_size = 4096;
	e.addr = 0;
	e.nb_granules = 0;
	cr_expect_eq(nest_inv_entry_check(&e), -EINVAL, "nb_granules 0");

	/* the range may end exactly at the top of the address space, not beyond */
	e.addr = UINT64_MAX - 0xfff;
	e.nb_granules = 1;
	cr_expect_eq(nest_inv_entry_check(&e), 0);
	e.nb_granules = 2;
	cr_expect_eq(nest_inv_entry_check(&e), -EOVERFLOW);
	e.addr = 0;
	e.nb_granules = (1ull << 52) - 1;
	cr_expect_eq(nest_inv_entry_check(&e), 0, "all but the last page");
	e.nb_granules = 1ull << 52; /* 2^64 bytes: not representable */
	cr_expect_eq(nest_inv_entry_check(&e), -EOVERFLOW);
	e.granule_size = 1ull << 40;
	e.nb_granules = 1ull << 30;
	cr_expect_eq(nest_inv_entry_check(&e), -EOVERFLOW, "multiplication overflows");
	NO_LEAKS();
}

/*
 * PROTOCOL.md §9.3, row by row, written without regard to speed: the first row that applies
 * gives the errno. nest_inv_entry_check() is the daemon's hot path and is written for speed
 * (masks, one test for all the unknown bits); this is what it must agree with.
 */
static int reference_check(const struct nest_inv_entry *e)
{
	bool domain = e->granularity == 0, pasid = e->granularity == 1, addr = e->granularity == 2;
	uint64_t len;

	if (e->cache == 0)
		return -EINVAL;
	if (e->cache > 0x7 || e->granularity > 2 || e->flags > 0x1 || e->__reserved ||
	    e->__reserved2)
		return -EOPNOTSUPP;
	if (!expected_combo(e->cache, e->granularity) || (e->flags == 1 && !addr))
		return -EINVAL;
	if (domain && (e->pasid || e->addr || e->granule_size || e->nb_granules))
		return -EINVAL;
	if (pasid && (e->addr || e->granule_size || e->nb_granules))
		return -EINVAL;
	if ((pasid && e->pasid == 0) || (!domain && e->pasid > (1u << 20) - 1))
		return -EINVAL;
	if (!addr)
		return 0;
	if (__builtin_popcountll(e->granule_size) != 1 || e->granule_size < 4096 ||
	    e->nb_granules == 0 || e->addr % e->granule_size)
		return -EINVAL;
	if (e->nb_granules > UINT64_MAX / e->granule_size)
		return -EOVERFLOW;
	len = e->granule_size * e->nb_granules;
	return len - 1 > UINT64_MAX - e->addr ? -EOVERFLOW : 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A value from @pool (the edges), or now and then any value of the field's width. */
static uint64_t pick(uint64_t *s, const uint64_t *pool, size_t n, uint64_t width_mask)
{
	uint64_t r = xorshift(s);

	if (r % 8 == 0)
		return xorshift(s) & width_mask;
	return pool[(r >> 3) % n];
}

#define PICK(s, pool, mask) pick(s, pool, sizeof(pool) / sizeof(pool[0]), mask)
/* Entries near the valid ones: each field keeps the valid value 3 times in 4. */
#define MAYBE(s, field, pool, mask)                                                                \
	do {                                                                                       \
		if (xorshift(s) % 4 == 0)                                                          \
			(field) = (__typeof__(field))PICK(s, pool, mask);                          \
	} while (0)

Test(inv, entry_check_matches_the_reference)
{
	static const uint64_t caches[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 0x81};
	static const uint64_t granus[] = {0, 1, 2, 3, 255};
	static const uint64_t flags[] = {0, 1, 1, 2, 3, 1u << 31};
	static const uint64_t reserved[] = {0, 1, 0x8000};
	static const uint64_t pasids[] = {0,	     1, 5, 100, NEST_PASID_MAX, NEST_PASID_MAX + 1,
					  UINT32_MAX};
	static const uint64_t addrs[] = {0,
					 0x1000,
					 0x200000,
					 0x201000,
					 1ull << 63,
					 UINT64_MAX - 0xfff,
					 UINT64_MAX - 0x1fffff,
					 UINT64_MAX};
	static const uint64_t granules[] = {0,		1,	    2048,	4095,
					    4096,	4097,	    8192,	3ull << 20,
					    1ull << 21, 1ull << 30, 1ull << 40, 1ull << 63};
	static const uint64_t nbs[] = {
		0, 1, 2, 4, 1ull << 20, (1ull << 52) - 1, 1ull << 52, 1ull << 63, UINT64_MAX};
	uint64_t s = 0x9e3779b97f4a7c15ull;
	unsigned counts[4] = {0}; /* 0, EINVAL, EOPNOTSUPP, EOVERFLOW: every outcome is reached */

	for (unsigned i = 0; i < 2000000; i++) {
		struct nest_inv_entry e =
			valid_entry(1 + (unsigned)(xorshift(&s) % 7), (unsigned)(xorshift(&s) % 3));

		MAYBE(&s, e.cache, caches, 0xff);
		MAYBE(&s, e.granularity, granus, 0xff);
		MAYBE(&s, e.__reserved, reserved, 0xffff);
		MAYBE(&s, e.flags, flags, UINT32_MAX);
		MAYBE(&s, e.pasid, pasids, UINT32_MAX);
		MAYBE(&s, e.__reserved2, reserved, UINT32_MAX);
		MAYBE(&s, e.addr, addrs, UINT64_MAX);
		MAYBE(&s, e.granule_size, granules, UINT64_MAX);
		MAYBE(&s, e.nb_granules, nbs, UINT64_MAX);

		int want = reference_check(&e), got = nest_inv_entry_check(&e);

		/* one cr_assert per mismatch only: two million cr_expect calls would be slow */
		if (got != want)
			cr_assert_fail(
				"entry %u: cache %#x granu %u res %#x flags %#x pasid %#x res2 %#x "
				"addr %#llx granule %#llx nb %#llx: %d, the rules say %d",
				i, e.cache, e.granularity, e.__reserved, e.flags, e.pasid,
				e.__reserved2, (unsigned long long)e.addr,
				(unsigned long long)e.granule_size,
				(unsigned long long)e.nb_granules, got, want);
		/* daemon/invalidate.c relies on it: a valid entry is for every PASID iff PASID 0 */
		if (got == 0 && nest_inv_all_pasids(&e) != (e.pasid == 0))
			cr_assert_fail("entry %u: pasid %u, all PASIDs %d", i, e.pasid,
				       nest_inv_all_pasids(&e));
		counts[want == 0 ? 0 : want == -EINVAL ? 1 : want == -EOPNOTSUPP ? 2 : 3]++;
	}
	for (unsigned k = 0; k < 4; k++)
		cr_expect_gt(counts[k], 1000, "outcome %u reached %u times", k, counts[k]);
	NO_LEAKS();
}

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

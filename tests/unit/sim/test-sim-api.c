/* SPDX-License-Identifier: MIT */
/*
 * Suite "api": instance/domain/device/region life cycle, the PASID allocator, bind rules, DMA
 * and independence of instances (sim.c, sim-domain.c, sim-device.c, sim-s2.c, sim-pasid.c).
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nest-test.h"
#include "test-sim-guest.h"

static struct tguest g;

static void done(void)
{
	tg_fini(&g);
	NO_LEAKS();
}

static int memfd_sized(uint64_t size)
{
	int fd = memfd_create("t", MFD_CLOEXEC);

	cr_assert(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
	return fd;
}

Test(api, config_validation)
{
	struct nest_sim_config bad[] = {
		{.max_gaw = 31}, {.max_gaw = 53}, {.pasid_bits = 21}, {.iotlb_entries = 1u << 30}};
	struct nest_sim *sim = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(nest_sim_new(&bad[i], &sim), -EINVAL);
	cr_assert_eq(nest_sim_new(NULL, &sim), 0);
	cr_expect_null(nest_sim_free(sim));
	cr_expect_null(nest_sim_free(NULL));
	NO_LEAKS();
}

Test(api, region_add_rules)
{
	struct nest_sim *sim;
	uint32_t d;
	int fd = memfd_sized(1 << 20);
	const uint32_t rw = NEST_SIM_PERM_R | NEST_SIM_PERM_W;

	cr_assert_eq(nest_sim_new(NULL, &sim), 0);
	cr_assert_eq(nest_sim_domain_new(sim, 4, &d), 0);
	cr_expect_eq(nest_sim_region_add(sim, d + 1, 0, 4096, fd, 0, rw), -ENOENT);
	cr_expect_eq(nest_sim_region_add(sim, d, 0x800, 4096, fd, 0, rw), -EINVAL);
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 4000, fd, 0, rw), -EINVAL);
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 4096, fd, 100, rw), -EINVAL);
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 0, fd, 0, rw), -EINVAL);
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 4096, fd, 0, 0), -EINVAL);
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 4096, fd, 0, 4), -EOPNOTSUPP);
	cr_expect_eq(nest_sim_region_add(sim, d, ~0ull << 12, 8192, fd, 0, rw), -EOVERFLOW);
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 8192, fd, ~0ull << 12, rw), -EOVERFLOW);
	cr_expect_eq(nest_sim_region_add(sim, d, 1ull << 48, 4096, fd, 0, rw), -EINVAL);
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 2 << 20, fd, 0, rw), -EINVAL); /* fd short */
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 4096, fd, 1 << 20, rw), -EINVAL);
	cr_expect_eq(nest_sim_region_add(sim, d, 0, 4096, -1, 0, rw), -EINVAL);
	cr_expect_eq(nest_sim_region_add(sim, d, 0x10000, 0x10000, fd, 0, rw), 0);
	cr_expect_eq(nest_sim_region_add(sim, d, 0x1f000, 0x2000, fd, 0, rw), -EEXIST);
	cr_expect_eq(nest_sim_region_add(sim, d, 0xf000, 0x2000, fd, 0, rw), -EEXIST);
	cr_expect_eq(nest_sim_region_add(sim, d, 0x8000, 0x20000, fd, 0, rw), -EEXIST);
	cr_expect_eq(nest_sim_region_add(sim, d, 0xf000, 0x1000, fd, 0, rw), 0);
	cr_expect_eq(nest_sim_region_add(sim, d, 0x20000, 0x1000, fd, 0, rw), 0);
	cr_expect_eq(nest_sim_region_remove(sim, d, 0x10000, 0x1000), -ENOENT);
	cr_expect_eq(nest_sim_region_remove(sim, d, 0x11000, 0xf000), -ENOENT);
	cr_expect_eq(nest_sim_region_remove(sim, d, 0x10000, 0x10000), 0);
	cr_expect_eq(nest_sim_region_remove(sim, d, 0x10000, 0x10000), -ENOENT);
	close(fd);
	nest_sim_free(sim);
	NO_LEAKS();
}

Test(api, region_mapping_outlives_caller_fd)
{
	struct nest_sim_xlate xl;
	int fd = memfd_sized(1 << 20);
	uint8_t *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint8_t byte = 0;

	tg_init(&g, NULL);
	tg_bind(&g, TG_DEV, 4, 0);
	cr_assert_eq(nest_sim_region_add(g.sim, g.dom, 0x30000000, 1 << 20, fd, 0,
					 NEST_SIM_PERM_R | NEST_SIM_PERM_W),
		     0);
	close(fd);
	tg_map(&g, g.root, 4, 0x5000, 0x30000000 + 0x2000, 1, PTE_ALL);
	p[0x2000 + 7] = 0x5a;
	cr_assert_eq(tg_xlate(&g, TG_DEV, 0x5007, 0, &xl, NULL), 0);
	cr_expect_eq(*(uint8_t *)xl.hva, 0x5a);
	cr_assert_eq(nest_sim_dma(g.sim, TG_DEV, g.pasid, 0x5007, &byte, 1, 0, NULL, NULL), 0);
	cr_expect_eq(byte, 0x5a);
	munmap(p, 1 << 20);
	done();
}

Test(api, pasid_allocator_quota_and_ownership)
{
	struct nest_sim_config cfg = {.pasid_bits = 8};
	struct nest_sim *sim;
	uint32_t a, b, p, q;

	cr_assert_eq(nest_sim_new(&cfg, &sim), 0);
	cr_assert_eq(nest_sim_domain_new(sim, 3, &a), 0);
	cr_assert_eq(nest_sim_domain_new(sim, 300, &b), 0);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 0, 1000, &p), 0);
	cr_expect_eq(p, 1); /* PASID 0 is never handed out */
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 10, 20, &p), 0);
	cr_expect_eq(p, 10);
	cr_expect_eq(nest_sim_pasid_alloc(sim, b, 10, 20, &q), 0);
	cr_expect_eq(q, 11);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 5, 4, &p), -EINVAL);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 300, 400, &p), -ENOSPC); /* beyond 8 bits */
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 0, 0, &p), -ENOSPC);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 255, 255, &p), 0);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 1, 255, &p), -ENOSPC); /* quota of 3 */
	/* not yours looks exactly like does not exist */
	cr_expect_eq(nest_sim_pasid_free(sim, b, 10), -ENOENT);
	cr_expect_eq(nest_sim_pasid_free(sim, a, 11), -ENOENT);
	cr_expect_eq(nest_sim_pasid_free(sim, a, 200), -ENOENT);
	cr_expect_eq(nest_sim_pasid_free(sim, a, 0), -ENOENT);
	cr_expect_eq(nest_sim_pasid_free(sim, a, 1u << 20), -ENOENT);
	cr_expect_eq(nest_sim_pasid_free(sim, a, 10), 0);
	cr_expect_eq(nest_sim_pasid_free(sim, a, 10), -ENOENT);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 10, 20, &p), 0);
	cr_expect_eq(p, 10);
	/* fill the whole space from b, then one more fails */
	for (uint32_t i = 0; i < 255 - 4; i++)
		cr_assert_eq(nest_sim_pasid_alloc(sim, b, 1, 255, &q), 0);
	cr_expect_eq(nest_sim_pasid_alloc(sim, b, 1, 255, &q), -ENOSPC);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a + 99, 1, 255, &q), -ENOENT);
	/* domain teardown returns its PASIDs */
	cr_assert_eq(nest_sim_domain_free(sim, a), 0);
	cr_expect_eq(nest_sim_pasid_alloc(sim, b, 1, 255, &q), 0);
	cr_expect_eq(q, 1);
	nest_sim_free(sim);
	NO_LEAKS();
}

Test(api, bind_rules)
{
	struct nest_sim_bind b = {.fmt = NEST_SIM_FMT_VTD_FL, .addr_width = 48, .gpgd = 0x9000};
	uint32_t other, foreign;

	tg_init(&g, NULL);
	cr_assert_eq(nest_sim_domain_new(g.sim, 4, &other), 0);
	cr_assert_eq(nest_sim_pasid_alloc(g.sim, other, 1, 1000, &foreign), 0);
	cr_expect_eq(nest_sim_bind(g.sim, 77, g.pasid, &b), -ENOENT);
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, foreign, &b), -ENOENT);
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, 999, &b), -ENOENT);
	b.flags = NEST_SIM_BIND_F_VALID + 1;
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), -EOPNOTSUPP);
	b.flags = NEST_SIM_BIND_F_VALID;
	b.addr_width = 39;
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), -EINVAL);
	b.addr_width = 57;
	b.gpgd = 0x9008;
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), -EINVAL);
	b.gpgd = 1ull << 48;
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), -EINVAL);
	b.gpgd = 0x9000;
	b.fmt = 0;
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), -EINVAL);
	b.fmt = NEST_SIM_FMT_VTD_FL;
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), 0);
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV, g.pasid, &b), -EBUSY);
	cr_expect_eq(nest_sim_bind(g.sim, TG_DEV_ATS, g.pasid, &b), 0);
	cr_expect_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), 0);
	cr_expect_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid), -ENOENT);
	cr_expect_eq(nest_sim_unbind(g.sim, TG_DEV, g.pasid + 1), -ENOENT);
	cr_expect_eq(nest_sim_unbind(g.sim, 77, g.pasid), -ENOENT);
	/* a PASID beyond the device's own width */
	cr_assert_eq(nest_sim_device_add(g.sim, g.dom, 9, false, 2), 0);
	uint32_t wide;
	cr_assert_eq(nest_sim_pasid_alloc(g.sim, g.dom, 4, 1000, &wide), 0);
	cr_expect_eq(nest_sim_bind(g.sim, 9, wide, &b), -EINVAL);
	done();
}

Test(api, device_rules_and_info)
{
	struct nest_sim_domain_info info;

	tg_init(&g, NULL);
	cr_expect_eq(nest_sim_device_add(g.sim, g.dom, TG_DEV, false, 20), -EEXIST);
	cr_expect_eq(nest_sim_device_add(g.sim, g.dom, 5, false, 0), -EINVAL);
	cr_expect_eq(nest_sim_device_add(g.sim, g.dom, 5, false, 21), -EINVAL);
	cr_expect_eq(nest_sim_device_add(g.sim, g.dom + 7, 5, false, 20), -ENOENT);
	tg_bind(&g, TG_DEV, 4, 0);
	cr_assert_eq(nest_sim_domain_info(g.sim, g.dom, &info), 0);
	cr_expect_eq(info.domain, g.dom);
	cr_expect_eq(info.nr_regions, 2);
	cr_expect_eq(info.ram_bytes, TG_RAM_A + TG_RAM_B);
	cr_expect_eq(info.nr_devices, 2);
	cr_expect_eq(info.nr_pasids, 1);
	cr_expect_eq(info.pasid_quota, 64);
	cr_expect_eq(info.nr_binds, 1);
	cr_expect_eq(info.checker, false);
	cr_expect_eq(nest_sim_device_remove(g.sim, TG_DEV), 0);
	cr_expect_eq(nest_sim_device_remove(g.sim, TG_DEV), -ENOENT);
	cr_assert_eq(nest_sim_domain_info(g.sim, g.dom, &info), 0);
	cr_expect_eq(info.nr_devices, 1);
	cr_expect_eq(info.nr_binds, 0);
	cr_expect_eq(nest_sim_domain_info(g.sim, g.dom + 1, &info), -ENOENT);
	cr_expect_eq(nest_sim_domain_set_checker(g.sim, g.dom + 1, true), -ENOENT);
	cr_expect_eq(nest_sim_domain_free(g.sim, g.dom + 1), -ENOENT);
	done();
}

/* Each domain's own device list (interleaved ids, removal from the middle, domain free). */
Test(api, devices_of_interleaved_domains)
{
	struct nest_sim_config cfg = {0};
	struct nest_sim_domain_info info;
	struct nest_sim *sim;
	uint32_t a, b;

	cr_assert_eq(nest_sim_new(&cfg, &sim), 0);
	cr_assert_eq(nest_sim_domain_new(sim, 8, &a), 0);
	cr_assert_eq(nest_sim_domain_new(sim, 8, &b), 0);
	for (uint32_t id = 1; id <= 6; id++)
		cr_assert_eq(nest_sim_device_add(sim, id % 2 ? a : b, id, id % 3 == 0, 20), 0);
	cr_expect_eq(nest_sim_device_remove(sim, 3), 0); /* a's middle one */
	cr_assert_eq(nest_sim_domain_info(sim, a, &info), 0);
	cr_expect_eq(info.nr_devices, 2);
	cr_assert_eq(nest_sim_domain_info(sim, b, &info), 0);
	cr_expect_eq(info.nr_devices, 3);
	cr_expect_eq(nest_sim_domain_free(sim, a), 0);
	for (uint32_t id = 1; id <= 6; id++)
		cr_expect_eq(nest_sim_device_remove(sim, id), id % 2 ? -ENOENT : 0, "device %u",
			     id);
	cr_assert_eq(nest_sim_domain_info(sim, b, &info), 0);
	cr_expect_eq(info.nr_devices, 0);
	nest_sim_free(sim);
	NO_LEAKS();
}

/* Lowest free first, also in a nearly full space, where the search skips full words. */
Test(api, pasid_allocator_lowest_free_in_a_full_space)
{
	struct nest_sim_config cfg = {.pasid_bits = 14};
	struct nest_sim *sim;
	uint32_t a, p;

	cr_assert_eq(nest_sim_new(&cfg, &sim), 0);
	cr_assert_eq(nest_sim_domain_new(sim, 1u << 14, &a), 0);
	for (uint32_t want = 1; want < (1u << 14); want++) {
		cr_assert_eq(nest_sim_pasid_alloc(sim, a, 1, (1u << 14) - 1, &p), 0);
		cr_assert_eq(p, want);
	}
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 1, (1u << 14) - 1, &p), -ENOSPC);
	for (int q = 16383; q >= 64; q -= 4096 + 1) /* a few holes, in other words */
		cr_assert_eq(nest_sim_pasid_free(sim, a, (uint32_t)q), 0);
	cr_assert_eq(nest_sim_pasid_free(sim, a, 4096), 0); /* a word's first bit */
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 4097, 12000, &p), 0);
	cr_expect_eq(p, 8189, "the lowest hole at or above 4097");
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 1, 16383, &p), 0);
	cr_expect_eq(p, 4092);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 1, 16383, &p), 0);
	cr_expect_eq(p, 4096);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 1, 16382, &p), 0);
	cr_expect_eq(p, 12286);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 1, 16382, &p), -ENOSPC, "16383 is above max");
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 16383, 16383, &p), 0);
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 1, 16383, &p), -ENOSPC);
	nest_sim_free(sim);
	NO_LEAKS();
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * The whole 20-bit space taken, then random frees (single PASIDs and whole 4,096-PASID blocks,
 * which clear a summary word and the top level's bit for it) and allocations over random ranges:
 * each answer must be the lowest free PASID of the range (a list of the free ones says which),
 * ENOSPC when there is none.
 */
Test(api, pasid_allocator_three_levels_match_a_model)
{
	enum { SPACE = 1u << 20, FREE_MAX = 3 * 4096 };
	struct nest_sim_config cfg = {.pasid_bits = 20};
	static uint32_t free_list[FREE_MAX + 4096];
	struct nest_sim *sim;
	uint64_t s = 0x853c49e6748fea9bull;
	uint32_t a, p, n_free = 0;

	cr_assert_eq(nest_sim_new(&cfg, &sim), 0);
	cr_assert_eq(nest_sim_domain_new(sim, SPACE, &a), 0);
	for (uint32_t want = 1; want < SPACE; want++) {
		cr_assert_eq(nest_sim_pasid_alloc(sim, a, 1, SPACE - 1, &p), 0);
		cr_assert_eq(p, want);
	}
	cr_expect_eq(nest_sim_pasid_alloc(sim, a, 1, SPACE - 1, &p), -ENOSPC);
	for (int step = 0; step < 6000; step++) {
		uint32_t r = (uint32_t)(xorshift(&s) % 100);

		if (r < 2 && n_free + 4096 <= FREE_MAX) { /* a whole block of 4,096 */
			uint32_t base = (uint32_t)(xorshift(&s) % (SPACE / 4096)) * 4096;

			for (uint32_t q = base ? base : 1; q < base + 4096;
			     q++) /* some may be free */
				if (nest_sim_pasid_free(sim, a, q) == 0)
					free_list[n_free++] = q;
		} else if (r < 45 && n_free < FREE_MAX) { /* one PASID, free or not */
			uint32_t q = (uint32_t)(xorshift(&s) % (SPACE - 1)) + 1;
			bool was_free = false;

			for (uint32_t i = 0; i < n_free && !was_free; i++)
				was_free = free_list[i] == q;
			cr_assert_eq(nest_sim_pasid_free(sim, a, q), was_free ? -ENOENT : 0,
				     "PASID %u", q);
			if (!was_free)
				free_list[n_free++] = q;
		} else { /* allocate in a random range, wide or narrow */
			uint32_t x = (uint32_t)(xorshift(&s) % (SPACE - 1)) + 1;
			uint32_t y = r % 2 ? (uint32_t)(xorshift(&s) % (SPACE - 1)) + 1
					   : x + (uint32_t)(xorshift(&s) % 200);
			uint32_t lo = x < y ? x : y, hi = x < y ? y : x, best = 0, at = 0;
			int ret;

			if (hi > SPACE - 1)
				hi = SPACE - 1;
			if (r >= 95)
				lo = 1, hi = SPACE - 1;
			for (uint32_t i = 0; i < n_free; i++)
				if (free_list[i] >= lo && free_list[i] <= hi &&
				    (!best || free_list[i] < best)) {
					best = free_list[i];
					at = i;
				}
			ret = nest_sim_pasid_alloc(sim, a, lo, hi, &p);
			if (!best) {
				cr_assert_eq(ret, -ENOSPC, "%u-%u: nothing free, got %u", lo, hi,
					     p);
				continue;
			}
			cr_assert_eq(ret, 0, "%u-%u", lo, hi);
			cr_assert_eq(p, best, "%u-%u: lowest free is %u, got %u", lo, hi, best, p);
			free_list[at] = free_list[--n_free];
		}
	}
	nest_sim_free(sim);
	NO_LEAKS();
}

Test(api, pasid_free_unbinds_and_flushes)
{
	struct nest_sim_xlate xl;
	struct nest_sim_fault f;
	uint32_t p;

	tg_init(&g, NULL);
	tg_bind(&g, TG_DEV_ATS, 4, 0);
	tg_map(&g, g.root, 4, 0x1000, 0x3000, 1, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV_ATS, 0x1000, 0, &xl, NULL), 0);
	cr_assert_eq(nest_sim_pasid_free(g.sim, g.dom, g.pasid), 0);
	cr_expect_eq(tg_xlate(&g, TG_DEV_ATS, 0x1000, 0, &xl, &f), -EFAULT);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_PASID_NOT_PRESENT);
	cr_assert_eq(nest_sim_pasid_alloc(g.sim, g.dom, g.pasid, g.pasid, &p), 0);
	cr_expect_eq(tg_xlate(&g, TG_DEV_ATS, 0x1000, 0, &xl, &f), -EFAULT);
	done();
}

Test(api, dma_across_pages)
{
	uint8_t out[3 * 4096], in[3 * 4096];
	struct nest_sim_fault f;
	struct nest_sim_counters c;
	size_t moved = 0;

	tg_init(&g, NULL);
	tg_bind(&g, TG_DEV, 4, 0);
	/* three consecutive virtual pages on scattered guest pages, the third unmapped */
	tg_map(&g, g.root, 4, 0x10000, 0x7000, 1, PTE_ALL);
	tg_map(&g, g.root, 4, 0x11000, 0x3000, 1, PTE_ALL);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 1);
	cr_assert_eq(nest_sim_dma(g.sim, TG_DEV, g.pasid, 0x10800, out, 6000, NEST_SIM_ACC_WRITE,
				  &moved, &f),
		     0);
	cr_expect_eq(moved, 6000);
	cr_expect_eq(memcmp(tg_ptr(&g, 0x7800), out, 2048), 0);
	cr_expect_eq(memcmp(tg_ptr(&g, 0x3000), out + 2048, 6000 - 2048), 0);
	memset(in, 0, sizeof(in));
	cr_assert_eq(nest_sim_dma(g.sim, TG_DEV, g.pasid, 0x10800, in, 6000, 0, &moved, NULL), 0);
	cr_expect_eq(memcmp(in, out, 6000), 0);
	/* partial progress up to the fault */
	cr_expect_eq(nest_sim_dma(g.sim, TG_DEV, g.pasid, 0x10800, out, 3 * 4096,
				  NEST_SIM_ACC_WRITE, &moved, &f),
		     -EFAULT);
	cr_expect_eq(moved, 2048 + 4096);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_PTE_NOT_PRESENT);
	cr_expect_eq(f.addr, 0x12000);
	cr_expect_eq(*tg_entry(&g, g.root, 4, 0x10000, 1) & PTE_D, PTE_D);
	cr_expect_eq(nest_sim_dma(g.sim, TG_DEV, g.pasid, ~0ull - 10, out, 100, 0, &moved, &f),
		     -EOVERFLOW);
	memset(&f, 0xa5, sizeof(f));
	cr_expect_eq(nest_sim_dma(g.sim, TG_DEV, g.pasid, 0x10000, out, 0, 0, &moved, &f), 0);
	cr_expect_eq(moved, 0);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_NONE, "ret_fault is written on success too");
	memset(&f, 0xa5, sizeof(f));
	cr_expect_eq(nest_sim_dma(g.sim, TG_DEV, g.pasid, 0x10ff0, in, 32, 0, &moved, &f), 0);
	cr_expect_eq(moved, 32);
	cr_expect_eq(f.reason, NEST_SIM_FAULT_NONE, "ret_fault is written on success too");
	nest_sim_get_counters(g.sim, &c);
	cr_expect_eq(c.dma_bytes, 6000 + 6000 + 2048 + 4096 + 32);
	done();
}

Test(api, instances_are_independent)
{
	struct tguest h;
	struct nest_sim_xlate xl;
	struct nest_sim_counters c1, c2;

	tg_init(&g, NULL);
	tg_init(&h, NULL);
	cr_expect_eq(g.dom, h.dom); /* same ids, different worlds */
	cr_expect_eq(g.pasid, h.pasid);
	tg_bind(&g, TG_DEV, 4, 0);
	tg_bind(&h, TG_DEV, 4, 0);
	tg_map(&g, g.root, 4, 0x1000, 0x5000, 1, PTE_ALL);
	tg_map(&h, h.root, 4, 0x1000, 0x6000, 1, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV, 0x1000, 0, &xl, NULL), 0);
	cr_expect_eq(xl.gpa, 0x5000);
	cr_assert_eq(tg_xlate(&h, TG_DEV, 0x1000, 0, &xl, NULL), 0);
	cr_expect_eq(xl.gpa, 0x6000);
	cr_expect_eq(xl.hit, 0);
	cr_assert_eq(tg_inv(&g, NEST_SIM_CACHE_IOTLB, NEST_SIM_GRANU_DOMAIN, 0, 0, 0, 0), 0);
	cr_assert_eq(tg_xlate(&h, TG_DEV, 0x1000, 0, &xl, NULL), 0);
	cr_expect_eq(xl.hit, NEST_SIM_CACHE_IOTLB);
	nest_sim_get_counters(g.sim, &c1);
	nest_sim_get_counters(h.sim, &c2);
	cr_expect_eq(c1.translations, 1);
	cr_expect_eq(c2.translations, 2);
	tg_fini(&h);
	done();
}

Test(api, domain_free_tears_down_everything)
{
	uint32_t d2, p;

	tg_init(&g, NULL);
	tg_bind(&g, TG_DEV_ATS, 4, 0);
	tg_map(&g, g.root, 4, 0x1000, 0x5000, 1, PTE_ALL);
	cr_assert_eq(tg_xlate(&g, TG_DEV_ATS, 0x1000, 0, &(struct nest_sim_xlate){0}, NULL), 0);
	cr_assert_eq(nest_sim_domain_free(g.sim, g.dom), 0);
	cr_expect_eq(nest_sim_domain_free(g.sim, g.dom), -ENOENT);
	cr_expect_eq(nest_sim_translate(g.sim, TG_DEV_ATS, g.pasid, 0x1000, 0,
					&(struct nest_sim_xlate){0}, NULL),
		     -ENOENT);
	cr_assert_eq(nest_sim_domain_new(g.sim, 4, &d2), 0);
	cr_expect_neq(d2, g.dom);
	cr_expect_eq(nest_sim_device_add(g.sim, d2, TG_DEV_ATS, true, 20), 0);
	cr_expect_eq(nest_sim_pasid_alloc(g.sim, d2, g.pasid, g.pasid, &p), 0);
	done();
}

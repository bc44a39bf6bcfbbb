/* SPDX-License-Identifier: MIT */
/*
 * fuzz-sim.c - libFuzzer harness for the sim's walker and DMA path on hostile guest memory.
 *
 * Input: byte 0 bind flags, byte 1 (bit 0: 5-level tables, bits 1-3: gpgd page, bit 4: checker,
 * bit 5: a 32 KiB materialise budget, bit 6: read-only region), then 32 KiB of guest memory
 * (page tables and data, zero-padded), then accesses of 10 bytes each (access flags, length
 * 1..256, address) with an invalidation of everything after every fourth. Guest memory is a
 * sealed memfd mapped at GPA 0 and at GPA 1 MiB (so tables can point to two regions and to
 * the hole between). Checks: a DMA moves at most len bytes and exactly len on success, a fault
 * reason is set exactly when it fails with -EFAULT, a translation's page lies in a region.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nest-sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

#define MEM	 (32u * 1024)
#define GPA2	 (1u << 20)
#define ACCESSES 64

static int fuzz_memfd(const uint8_t *img, size_t n)
{
	int fd = memfd_create("fuzz-sim", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		abort();
	if (ftruncate(fd, MEM) < 0 || (n && pwrite(fd, img, n, 0) != (ssize_t)n) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		abort();
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nest_sim_config cfg = {.max_gaw = 48};
	struct nest_sim *sim;
	uint32_t dom, pasid;
	uint8_t buf[256];
	size_t img, off;
	int fd;

	if (size < 2)
		return 0;
	cfg.checker = data[1] & 0x10;
	cfg.touch_limit = (data[1] & 0x20) ? 32 * 1024 : 0;
	img = size - 2 < MEM ? size - 2 : MEM;
	fd = fuzz_memfd(data + 2, img);
	CHECK(nest_sim_new(&cfg, &sim) == 0);
	CHECK(nest_sim_domain_new(sim, 4, &dom) == 0);
	uint32_t perms = (data[1] & 0x40) ? NEST_SIM_PERM_R : NEST_SIM_PERM_R | NEST_SIM_PERM_W;
	CHECK(nest_sim_region_add(sim, dom, 0, MEM, fd, 0, perms) == 0);
	CHECK(nest_sim_region_add(sim, dom, GPA2, MEM, fd, 0, NEST_SIM_PERM_R | NEST_SIM_PERM_W) ==
	      0);
	close(fd); /* the sim keeps its own mapping */
	CHECK(nest_sim_device_add(sim, dom, 1, true, 20) == 0);
	CHECK(nest_sim_pasid_alloc(sim, dom, 1, 100, &pasid) == 0);
	struct nest_sim_bind b = {
		.fmt = NEST_SIM_FMT_VTD_FL,
		.addr_width = (data[1] & 1) ? 57 : 48,
		.gpgd = (uint64_t)((data[1] >> 1) & 7) << 12,
		.flags = data[0] & NEST_SIM_BIND_F_VALID,
	};
	CHECK(nest_sim_bind(sim, 1, pasid, &b) == 0);

	off = 2 + img;
	for (unsigned i = 0; i < ACCESSES && off + 10 <= size; i++, off += 10) {
		uint32_t acc = data[off] & NEST_SIM_ACC_VALID;
		size_t len = 1 + (size_t)data[off + 1];
		uint64_t addr;
		size_t done = 12345;
		struct nest_sim_fault f;
		struct nest_sim_xlate xl;
		int r;

		memcpy(&addr, data + off + 2, sizeof(addr));
		if (data[off] & 0x80) {
			r = nest_sim_translate(sim, 1, pasid, addr, acc, &xl, &f);
			CHECK(r == 0 || r == -EFAULT || r == -EINVAL || r == -EOVERFLOW);
			if (r == -EFAULT)
				CHECK(f.reason != NEST_SIM_FAULT_NONE);
			if (r == 0)
				CHECK(xl.hva != NULL);
		} else {
			memset(buf, 0x5a, sizeof(buf));
			r = nest_sim_dma(sim, 1, pasid, addr, buf, len, acc, &done, &f);
			CHECK(r == 0 || r == -EFAULT || r == -EINVAL || r == -EOVERFLOW ||
			      r == -ENOMEM);
			if (r == 0)
				CHECK(done == len);
			else if (r != -EINVAL && r != -EOVERFLOW)
				CHECK(done < len);
			if (r == -EFAULT)
				CHECK(f.reason != NEST_SIM_FAULT_NONE);
		}
		if (i % 4 == 3) {
			struct nest_sim_inv inv = {.cache = NEST_SIM_CACHE_IOTLB |
							    NEST_SIM_CACHE_PASID,
						   .granu = NEST_SIM_GRANU_DOMAIN};
			struct nest_sim_inv dev = {.cache = NEST_SIM_CACHE_DEV_IOTLB,
						   .granu = NEST_SIM_GRANU_PASID,
						   .pasid = pasid};

			CHECK(nest_sim_invalidate(sim, dom, &inv, NEST_SIM_DEV_ALL) == 0);
			CHECK(nest_sim_invalidate(sim, dom, &dev, NEST_SIM_DEV_ALL) == 0);
		}
	}
	CHECK(nest_sim_domain_free(sim, dom) == 0);
	nest_sim_free(sim);
	return 0;
}

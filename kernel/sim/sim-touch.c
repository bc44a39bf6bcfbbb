/* SPDX-License-Identifier: MIT */
/*
 * Memory nest-sim brings into existence. Region files are the caller's (a VMM's memfd) and may
 * be sparse: the first access to a hole, through our MAP_SHARED view, allocates the page, and
 * it is charged to the process that faulted it (nestd). Before each access (a DMA chunk, a page
 * table entry) the pages it covers are looked up with mincore(): pages that are not resident
 * are counted against the domain's budget (nest_sim_config.touch_limit), and an access that
 * would exceed it is refused instead of allocating anything. Pages the VMM already populated
 * cost nothing. The count only grows for the life of the domain.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim-internal.h"

#define SIM_TOUCH_VEC 16 /* pages per mincore() call */

int sim_touch(const struct sim_s2 *s2, const void *hva, size_t len)
{
	struct sim_touch *t = s2->touch;
	uintptr_t start = (uintptr_t)hva & ~(uintptr_t)SIM_PAGE_MASK;
	uintptr_t end = ((uintptr_t)hva + len + SIM_PAGE_MASK) & ~(uintptr_t)SIM_PAGE_MASK;
	uint64_t missing = 0;

	if (!t || !t->limit || len == 0)
		return 0;
	for (uintptr_t a = start; a < end; a += SIM_TOUCH_VEC * SIM_PAGE_SIZE) {
		unsigned char vec[SIM_TOUCH_VEC];
		size_t span = end - a < SIM_TOUCH_VEC * SIM_PAGE_SIZE
				      ? end - a
				      : SIM_TOUCH_VEC * SIM_PAGE_SIZE;

		if (mincore((void *)a, span, vec) < 0) {
			if (errno != EPERM && errno != ENOSYS)
				return -EFAULT;
			/* a seccomp filter without mincore: charge every page, the bound still holds */
			missing += span / SIM_PAGE_SIZE;
			continue;
		}
		for (size_t i = 0; i < span / SIM_PAGE_SIZE; i++)
			missing += !(vec[i] & 1);
	}
	missing *= SIM_PAGE_SIZE;
	if (missing > t->limit - t->bytes) {
		t->refused++;
		return -ENOMEM;
	}
	t->bytes += missing;
	return 0;
}

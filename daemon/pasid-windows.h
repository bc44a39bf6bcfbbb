/* SPDX-License-Identifier: MIT */
/*
 * pasid-windows.h - the configured PASIDRange= windows, sorted, and the shared pool between them
 * (the gaps), so that PASID_ALLOC for a VM without a window finds the pool's next gap with a
 * binary search instead of scanning every configured VM per gap.
 *
 * Built once per configuration (nestd_config_load(), so a reload gets its own with the windows
 * it adds and removes) and read-only afterwards.
 */
#ifndef NESTD_PASID_WINDOWS_H
#define NESTD_PASID_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nestd_pasid_window {
	uint32_t min, max; /* inclusive, min >= 1 */
};

struct nestd_pasid_windows {
	struct nestd_pasid_window *w; /* n windows sorted by min, disjoint */
	size_t n;
};

struct nestd_vm_cfg;

/*
 * Fill @ws with the windows of the @n_vms VMs (pasid_max != 0) sorted; @ws is cleared first.
 * -EINVAL if two overlap or one is empty (the parser refuses both), -ENOMEM.
 */
int nestd_pasid_windows_build(struct nestd_pasid_windows *ws, const struct nestd_vm_cfg *vms,
			      size_t n_vms);
void nestd_pasid_windows_free(struct nestd_pasid_windows *ws);

/*
 * The lowest part of the shared pool in [@from, @max]: true with *@lo..*@hi, the longest run of
 * PASIDs from the lowest one outside every window up to the next window or @max; false if every
 * PASID of [@from, @max] is in some window (or @from > @max). O(log n).
 */
bool nestd_pasid_windows_gap(const struct nestd_pasid_windows *ws, uint32_t from, uint32_t max,
			     uint32_t *lo, uint32_t *hi);

/* The window holding @pasid, or NULL. O(log n). */
const struct nestd_pasid_window *nestd_pasid_windows_at(const struct nestd_pasid_windows *ws,
							uint32_t pasid);

#endif /* NESTD_PASID_WINDOWS_H */

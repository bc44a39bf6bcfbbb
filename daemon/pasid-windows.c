/* SPDX-License-Identifier: MIT */
/* pasid-windows.c - the sorted PASIDRange= windows and the gaps of the shared pool. */
#include <errno.h>
#include <stdlib.h>

#include "config.h"
#include "pasid-windows.h"

static int window_cmp(const void *a, const void *b)
{
	const struct nestd_pasid_window *x = a, *y = b;

	return (x->min > y->min) - (x->min < y->min);
}

int nestd_pasid_windows_build(struct nestd_pasid_windows *ws, const struct nestd_vm_cfg *vms,
			      size_t n_vms)
{
	size_t n = 0;

	nestd_pasid_windows_free(ws);
	for (size_t i = 0; i < n_vms; i++)
		n += vms[i].pasid_max != 0;
	if (n == 0)
		return 0;
	ws->w = calloc(n, sizeof(*ws->w));
	if (!ws->w)
		return -ENOMEM;
	for (size_t i = 0; i < n_vms; i++) {
		if (!vms[i].pasid_max)
			continue;
		if (vms[i].pasid_min < 1 || vms[i].pasid_min > vms[i].pasid_max)
			goto invalid;
		ws->w[ws->n++] = (struct nestd_pasid_window){vms[i].pasid_min, vms[i].pasid_max};
	}
	qsort(ws->w, ws->n, sizeof(*ws->w), window_cmp);
	for (size_t i = 1; i < ws->n; i++)
		if (ws->w[i].min <= ws->w[i - 1].max)
			goto invalid;
	return 0;
invalid:
	nestd_pasid_windows_free(ws);
	return -EINVAL;
}

void nestd_pasid_windows_free(struct nestd_pasid_windows *ws)
{
	free(ws->w);
	ws->w = NULL;
	ws->n = 0;
}

/* Index of the first window whose max is >= @pasid (ws->n if none). */
static size_t windows_from(const struct nestd_pasid_windows *ws, uint32_t pasid)
{
	size_t lo = 0, hi = ws->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ws->w[mid].max < pasid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct nestd_pasid_window *nestd_pasid_windows_at(const struct nestd_pasid_windows *ws,
							uint32_t pasid)
{
	size_t i = windows_from(ws, pasid);

	return i < ws->n && ws->w[i].min <= pasid ? &ws->w[i] : NULL;
}

bool nestd_pasid_windows_gap(const struct nestd_pasid_windows *ws, uint32_t from, uint32_t max,
			     uint32_t *lo, uint32_t *hi)
{
	uint64_t at = from;
	size_t i = windows_from(ws, from);

	/* windows are disjoint and sorted, but may touch: skip every one that covers @at */
	while (i < ws->n && ws->w[i].min <= at) {
		at = (uint64_t)ws->w[i].max + 1;
		i++;
	}
	if (at > max)
		return false;
	*lo = (uint32_t)at;
	*hi = i < ws->n && ws->w[i].min - 1 < max ? ws->w[i].min - 1 : max;
	return true;
}

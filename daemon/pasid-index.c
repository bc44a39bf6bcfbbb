/* SPDX-License-Identifier: MIT */
/* pasid-index.c - host PASID -> slot in vm->pasids (see pasid-index.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pasid-index.h"

#define PASID_INDEX_MIN_BITS 5

static uint32_t pidx_home(const struct pasid_index *x, uint32_t pasid)
{
	return (uint32_t)((pasid * UINT32_C(2654435761)) >> (32 - x->bits)); /* Fibonacci hash */
}

static uint32_t pidx_find(const struct pasid_index *x, uint32_t pasid)
{
	uint32_t mask = (UINT32_C(1) << x->bits) - 1, i = pidx_home(x, pasid);

	while (x->s[i].pasid && x->s[i].pasid != pasid)
		i = (i + 1) & mask;
	return i;
}

static int pidx_grow(struct pasid_index *x)
{
	struct pasid_index nx = {.bits = x->bits ? x->bits + 1 : PASID_INDEX_MIN_BITS};

	nx.s = calloc((size_t)1 << nx.bits, sizeof(*nx.s));
	if (!nx.s)
		return -ENOMEM;
	for (uint32_t i = 0; x->bits && i < (UINT32_C(1) << x->bits); i++)
		if (x->s[i].pasid)
			nx.s[pidx_find(&nx, x->s[i].pasid)] = x->s[i];
	nx.n = x->n;
	free(x->s);
	*x = nx;
	return 0;
}

int pasid_index_add(struct pasid_index *x, uint32_t pasid, uint32_t idx)
{
	int r;

	if (!x->bits || (x->n + 1) * 2 > (UINT32_C(1) << x->bits)) {
		r = pidx_grow(x);
		if (r < 0)
			return r;
	}
	x->s[pidx_find(x, pasid)] = (struct pasid_slot){.pasid = pasid, .idx = idx};
	x->n++;
	return 0;
}

int64_t pasid_index_get(const struct pasid_index *x, uint32_t pasid)
{
	uint32_t i;

	if (!x->bits || !pasid)
		return -1;
	i = pidx_find(x, pasid);
	return x->s[i].pasid ? (int64_t)x->s[i].idx : -1;
}

void pasid_index_move(struct pasid_index *x, uint32_t pasid, uint32_t idx)
{
	x->s[pidx_find(x, pasid)].idx = idx;
}

void pasid_index_del(struct pasid_index *x, uint32_t pasid)
{
	uint32_t mask, hole;

	if (!x->bits) /* never filled: nothing to delete */
		return;
	mask = (UINT32_C(1) << x->bits) - 1;
	hole = pidx_find(x, pasid);
	if (!x->s[hole].pasid)
		return;
	x->s[hole].pasid = 0;
	x->n--;
	/* shift back every later entry of the run that may not stay behind the hole */
	for (uint32_t j = (hole + 1) & mask; x->s[j].pasid; j = (j + 1) & mask) {
		uint32_t home = pidx_home(x, x->s[j].pasid);

		/* j's home lies cyclically in (hole, j]: it is reachable without the hole */
		if (hole <= j ? (home > hole && home <= j) : (home > hole || home <= j))
			continue;
		x->s[hole] = x->s[j];
		x->s[j].pasid = 0;
		hole = j;
	}
}

void pasid_index_clear(struct pasid_index *x)
{
	if (x->bits)
		memset(x->s, 0, ((size_t)1 << x->bits) * sizeof(*x->s));
	x->n = 0;
}

void pasid_index_free(struct pasid_index *x)
{
	free(x->s);
	*x = (struct pasid_index){0};
}

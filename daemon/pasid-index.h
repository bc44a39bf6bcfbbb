/* SPDX-License-Identifier: MIT */
/*
 * pasid-index.h - a VM's host PASID -> its slot in vm->pasids, so that every per-PASID lookup
 * (each INVALIDATE entry, BIND, UNBIND) costs the same with 1 or 65,536 PASIDs held.
 */
#ifndef NESTD_PASID_INDEX_H
#define NESTD_PASID_INDEX_H

#include <stdint.h>

struct pasid_slot {
	uint32_t pasid; /* 0 = empty (PASID 0 is never allocated) */
	uint32_t idx;
};

/* Open addressing, linear probing, at most half full; deletion shifts back (no tombstones). */
struct pasid_index {
	struct pasid_slot *s;
	uint32_t bits; /* 1 << bits slots; 0 with none allocated */
	uint32_t n;
};

/* Add @pasid (not present, not 0) at slot index @idx; grows the table. 0 or -ENOMEM. */
int pasid_index_add(struct pasid_index *x, uint32_t pasid, uint32_t idx);
/* The slot index of @pasid, or -1. */
int64_t pasid_index_get(const struct pasid_index *x, uint32_t pasid);
/* @pasid (present) now lives at @idx. */
void pasid_index_move(struct pasid_index *x, uint32_t pasid, uint32_t idx);
void pasid_index_del(struct pasid_index *x, uint32_t pasid);
void pasid_index_clear(struct pasid_index *x);
void pasid_index_free(struct pasid_index *x);

#endif /* NESTD_PASID_INDEX_H */

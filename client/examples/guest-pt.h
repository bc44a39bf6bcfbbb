/* SPDX-License-Identifier: MIT */
/*
 * guest-pt.h - build real x86-64 4-level page tables inside a guest RAM buffer, as a guest
 * kernel would: the tables live in guest memory and point at each other by guest physical
 * address. Used by the example VMM to give its "guest processes" address spaces.
 */
#ifndef GUEST_PT_H
#define GUEST_PT_H

#include <stddef.h>
#include <stdint.h>

/* x86-64 paging-entry bits. */
#define PTE_P	      (1ull << 0)
#define PTE_RW	      (1ull << 1)
#define PTE_US	      (1ull << 2)
#define PTE_A	      (1ull << 5)
#define PTE_D	      (1ull << 6)
#define PTE_XD	      (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define GUEST_PAGE 4096ull

struct guest_ram {
	uint8_t *base; /* host mapping of guest physical 0 */
	uint64_t size;
	uint64_t next_table; /* bump allocator for table pages, GPA */
	uint64_t table_end;
};

/* Tables are allocated from [tables_gpa, tables_end). */
void guest_ram_init(struct guest_ram *g, uint8_t *base, uint64_t size, uint64_t tables_gpa,
		    uint64_t tables_end);

/* Host pointer of guest physical @gpa (NULL if outside RAM or the range does not fit). */
void *guest_ram_ptr(const struct guest_ram *g, uint64_t gpa, uint64_t len);

/* A new, zeroed top-level table (a "CR3"). 0 or -ENOSPC. */
int guest_pt_new(struct guest_ram *g, uint64_t *ret_cr3);

/*
 * guest_pt_map() - map the 4 KiB page at @gva to @gpa with leaf flags @flags (PTE_P is
 * added), creating intermediate tables (P|RW|US) as needed. Replaces an existing leaf.
 */
int guest_pt_map(struct guest_ram *g, uint64_t cr3, uint64_t gva, uint64_t gpa, uint64_t flags);

/* Pointer to the leaf PTE of @gva (NULL if not mapped), for editing it behind the IOMMU's back. */
uint64_t *guest_pt_leaf(struct guest_ram *g, uint64_t cr3, uint64_t gva);

#endif /* GUEST_PT_H */

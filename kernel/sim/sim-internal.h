/* SPDX-License-Identifier: MIT */
/* Private structures of nest-sim, shared between its files. Not installed. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nest-sim.h"

#define SIM_PAGE_SHIFT 12
#define SIM_PAGE_SIZE  (1ull << SIM_PAGE_SHIFT)
#define SIM_PAGE_MASK  (SIM_PAGE_SIZE - 1)

/* PASID tables are sparse: a directory of chunks, each allocated on first bind inside it. */
#define SIM_PT_CHUNK_SHIFT 10
#define SIM_PT_CHUNK	   (1u << SIM_PT_CHUNK_SHIFT)

/*
 * Cache tag of a device's RID entry (requests without PASID): above every PASID (20 bits), one
 * per device of a domain, never reused, so that the domain-wide IOTLB keeps two devices' RID
 * translations apart as hardware does with their domain ids. Faults report PASID 0.
 */
#define SIM_RID_TAG_BASE (1u << NEST_SIM_PASID_BITS_MAX)
/* Internal format of a RID entry that is not bound: stage 2 only (never bindable). */
#define SIM_FMT_S2	 0xffu

/* ---- stage 2 (sim-s2.c) ---- */

struct sim_region {
	uint64_t gpa;
	uint64_t len;
	uint8_t *hva; /* our own MAP_SHARED mapping of the caller's fd */
	uint32_t perms;
	uint64_t fd_offset;
	uint64_t file_dev, file_ino; /* the file, for the materialisation account */
};

/* What a domain's accesses brought into existence, over its life (sim-touch.c). */
struct sim_touch {
	uint64_t bytes;
	uint64_t refused; /* accesses refused because they would exceed the limit */
};

/* Regions sorted by gpa, never overlapping: lookups are a binary search. */
struct sim_s2 {
	struct sim_region *v;
	uint32_t n;
	uint32_t cap;
	uint64_t bytes;
	struct sim_touch *touch;	  /* the domain's counters */
	struct nest_sim_touch_acct *acct; /* the budget it charges; NULL: not counted */
};

/*
 * sim_touch() - about to access [hva, hva + len) of a region mapping of @s2: charge the pages
 * that are not resident yet to the account. -ENOMEM (nothing charged) if they would exceed its
 * limit (after releasing what is gone), -EFAULT if the range is not mapped, else 0.
 */
int sim_touch(const struct sim_s2 *s2, const void *hva, size_t len);
/* A region was added: release the account's pages of its file that are gone. */
void sim_touch_region_added(const struct sim_s2 *s2, const struct sim_region *rg);
/* The account's limit when it is 0 ("the instance's"). */
void sim_touch_acct_bind(struct nest_sim_touch_acct *a, uint64_t limit);

const struct sim_region *sim_s2_lookup(const struct sim_s2 *s2, uint64_t gpa);
/*
 * sim_s2_thp_refused() - must a region be refused because our faults in its holes could fill
 * transparent huge pages? @madv_errno: how MADV_NOHUGEPAGE on our mapping failed (0: it did not);
 * @shmem: the file is on tmpfs/shmem (memfd); @shmem_enabled: the contents of
 * /sys/kernel/mm/transparent_hugepage/shmem_enabled, NULL if it does not exist (no THP), "" if it
 * exists but cannot be read (refused for shmem: nestd cannot tell).
 */
bool sim_s2_thp_refused(int madv_errno, bool shmem, const char *shmem_enabled);
void sim_s2_clear(struct sim_s2 *s2);

/* ---- PASID-table entries and the per-format walker (sim-vtd.c) ---- */

struct sim_pasid_entry {
	uint64_t gpgd;
	uint64_t flags; /* NEST_SIM_BIND_F_* */
	uint32_t pat;
	uint32_t emt;
	uint8_t fmt;
	uint8_t levels; /* 4 or 5 */
	bool present;
};

struct sim_walk_req {
	const struct sim_s2 *s2;
	const struct sim_pasid_entry *pe;
	uint64_t addr;
	uint32_t access;
	uint32_t max_gaw;
	bool side_effects;   /* false: checker re-walk, never writes A/D */
	struct sim_tlb *psc; /* paging-structure cache to start from and fill, or NULL */
	uint32_t domain;     /* PSC tag */
	uint32_t pasid;
};

struct sim_walk_res {
	uint64_t gpa_page;		 /* GPA of the first-level page containing addr */
	const struct sim_region *region; /* stage-2 region holding the final GPA */
	uint8_t shift;			 /* 12, 21 or 30 */
	uint8_t perms;			 /* NEST_SIM_XLATE_P_* (first level and stage 2) */
	bool dirty;			 /* leaf D is set (after this walk) */
	uint32_t fault;			 /* enum nest_sim_fault_reason, NONE on success */
	uint32_t fault_level;
	uint64_t fault_gpa;
	bool psc_hit; /* the walk started below the top level from a cached non-leaf entry */
};

/* A page-table format: bind validation, walk, and the access check shared with cache hits. */
struct sim_fmt_ops {
	int (*bind_check)(const struct nest_sim_bind *b, uint32_t max_gaw);
	void (*walk)(const struct sim_walk_req *rq, struct sim_walk_res *res);
	/* reason the access is denied by cached @perms under PASID-entry @flags, or NONE */
	uint32_t (*access_check)(uint32_t perms, uint32_t access, uint64_t flags);
	/*
	 * Checks of the request against the PASID entry alone (VT-d: SRE), made before the
	 * IOTLB is looked up and before any walk; reason or NONE.
	 */
	uint32_t (*entry_check)(const struct sim_pasid_entry *pe, uint32_t access);
};

const struct sim_fmt_ops *sim_vtd_ops(void);
const struct sim_fmt_ops *sim_s2only_ops(void);
/* The present stage-2-only entry of an unbound RID (sim-s2only.c). */
extern const struct sim_pasid_entry sim_s2only_entry;
const struct sim_fmt_ops *sim_fmt_get(uint32_t fmt);

/* ---- set-associative translation caches (sim-tlb.c): IOTLB and device TLBs ---- */

enum {
	SIM_TLBE_DIRTY = 1u << 0, /* leaf D was set when cached: writes need no walk */
};

struct sim_tlbe {
	uint64_t va;	   /* page base */
	uint64_t gpa;	   /* page base */
	uint8_t *hva;	   /* page base */
	uint64_t pe_flags; /* PASID-entry flags used for access checks on hits */
	uint32_t domain;   /* 0 = empty slot */
	uint32_t pasid;
	uint8_t shift;
	uint8_t perms;
	uint8_t flags;
	uint8_t fmt;
};

struct sim_tlb {
	struct sim_tlbe *e;
	uint8_t *victim; /* round-robin replacement pointer per set */
	uint32_t set_bits;
	uint32_t ways;
	uint32_t n;	 /* valid entries */
	uint64_t shifts; /* bit s: an entry of size 1 << s was inserted since the TLB was empty */
};

/* Tag match for flushes; pasid 0 / size 0 mean "any". */
struct sim_tlb_match {
	uint32_t domain;
	uint32_t pasid;
	bool by_pasid;
	bool by_range;
	uint64_t start;
	uint64_t last;
};

int sim_tlb_new(uint32_t entries, struct sim_tlb **ret);
struct sim_tlb *sim_tlb_free(struct sim_tlb *t);
const struct sim_tlbe *sim_tlb_lookup(const struct sim_tlb *t, uint32_t domain, uint32_t pasid,
				      uint64_t va);
/* Probe one entry size only (the paging-structure cache keys non-leaf entries by level). */
const struct sim_tlbe *sim_tlb_lookup_at(const struct sim_tlb *t, uint32_t domain, uint32_t pasid,
					 uint64_t va, uint32_t shift);
void sim_tlb_insert(struct sim_tlb *t, const struct sim_tlbe *ne);
/* Drop the one entry with this exact tag, if cached. */
void sim_tlb_remove(struct sim_tlb *t, uint32_t domain, uint32_t pasid, uint64_t va,
		    uint32_t shift);
/* sim_tlb_flush() of a cache holding at least one entry. */
uint32_t sim_tlb_flush_entries(struct sim_tlb *t, const struct sim_tlb_match *m);

/*
 * Drop every entry @m matches; returns how many. Inline: an invalidation usually finds some of
 * the caches it covers (IOTLB, paging-structure cache, device TLB) empty, and then costs a load.
 */
static inline uint32_t sim_tlb_flush(struct sim_tlb *t, const struct sim_tlb_match *m)
{
	if (!t->n) {
		t->shifts = 0;
		return 0;
	}
	return sim_tlb_flush_entries(t, m);
}

/* ---- PASID cache (sim-pcache.c) ---- */

struct sim_pce {
	uint32_t dev_id;
	uint32_t domain;
	uint32_t pasid; /* 0 = empty slot (PASID 0 is never bound) */
	struct sim_pasid_entry pe;
};

struct sim_pcache {
	struct sim_pce *e;
	uint8_t *victim;
	uint32_t set_bits;
	uint32_t ways;
};

int sim_pcache_new(uint32_t entries, struct sim_pcache **ret);
struct sim_pcache *sim_pcache_free(struct sim_pcache *c);
/* The cached entry with its domain-id tag (the DID the IOTLB is looked up with), or NULL. */
const struct sim_pce *sim_pcache_lookup(const struct sim_pcache *c, uint32_t dev_id,
					uint32_t pasid);
void sim_pcache_insert(struct sim_pcache *c, uint32_t dev_id, uint32_t domain, uint32_t pasid,
		       const struct sim_pasid_entry *pe);
/* dev_id NEST_SIM_DEV_ALL = any device of @domain; pasid 0 = any PASID */
void sim_pcache_flush(struct sim_pcache *c, uint32_t domain, uint32_t dev_id, uint32_t pasid);

/* ---- PASID allocator (sim-pasid.c) ---- */

struct sim_pasids {
	uint64_t *bitmap; /* bit set = allocated; nwords words */
	uint64_t *full;	  /* bit w set = bitmap[w] is all ones: the search skips it; nfull words */
	uint64_t *top;	  /* bit s set = full[s] is all ones; ntop words */
	uint32_t *owner;  /* owning domain id per PASID */
	uint64_t nwords, nfull, ntop;
	uint32_t bits;
};

int sim_pasids_init(struct sim_pasids *p, uint32_t bits);
void sim_pasids_fini(struct sim_pasids *p);
bool sim_pasids_owned(const struct sim_pasids *p, uint32_t domain, uint32_t pasid);
void sim_pasids_take(struct sim_pasids *p, uint32_t pasid, uint32_t domain);
void sim_pasids_give(struct sim_pasids *p, uint32_t pasid);

/* ---- domains and devices ---- */

struct sim_domain {
	uint32_t id;
	uint32_t pasid_quota;
	uint32_t nr_pasids;
	uint32_t nr_devices;
	struct sim_device *devs; /* its nr_devices devices, linked by dom_next */
	uint32_t next_rid_tag;	 /* SIM_RID_TAG_BASE + this for the next device */
	bool checker;
	struct sim_s2 s2;
	struct sim_touch touch;		      /* s2.touch points here */
	struct nest_sim_touch_acct *own_acct; /* private account, when not given one */
};

struct sim_device {
	uint32_t id;
	bool ats;
	uint32_t pasid_bits;
	struct sim_domain *dom;
	struct sim_device *dom_next;  /* the next device of dom (sim_domain.devs) */
	struct sim_pasid_entry **dir; /* PASID table directory, (1 << pasid_bits) / chunk slots */
	uint32_t ndir;
	uint32_t nr_binds;
	struct sim_tlb *devtlb;	    /* ATS devices only */
	struct sim_pasid_entry rid; /* the RID's first-level entry; !present: stage 2 only */
	uint32_t rid_tag;	    /* cache tag of the RID's translations */
};

void sim_device_destroy(struct nest_sim *sim, struct sim_device *dev);
/* The present entry of (dev, pasid); pasid 0: the RID's, never NULL (stage 2 only if unbound). */
const struct sim_pasid_entry *sim_device_pasid_entry(const struct sim_device *dev, uint32_t pasid);
/* The cache tag of (dev, pasid): the PASID itself, or the RID's tag for pasid 0. */
static inline uint32_t sim_device_tag(const struct sim_device *dev, uint32_t pasid)
{
	return pasid ? pasid : dev->rid_tag;
}
void sim_device_unbind_pasid(struct nest_sim *sim, struct sim_device *dev, uint32_t pasid);

/* ---- the instance (sim.c) ---- */

struct nest_sim {
	struct nest_sim_config cfg;
	struct sim_domain **domains; /* sorted by id (ids only grow) */
	uint32_t nr_domains;
	uint32_t next_domain;
	struct sim_device **devices; /* sorted by id */
	uint32_t nr_devices;
	struct sim_pasids pasids;
	struct sim_tlb *iotlb;
	/*
	 * First-level paging-structure cache: non-leaf entries (PDE, PDPE, PML4E, PML5E) tagged
	 * (domain, PASID, address range of the entry, level as size), holding the next table's
	 * GPA and the permissions accumulated down to that entry. NULL with cfg.no_psc.
	 */
	struct sim_tlb *psc;
	struct sim_pcache *pcache;
	struct nest_sim_counters cnt;
	nest_sim_fault_cb fault_cb;
	void *fault_opaque;
	nest_sim_stale_cb stale_cb;
	void *stale_opaque;
};

struct sim_domain *sim_domain_get(const struct nest_sim *sim, uint32_t id);
struct sim_device *sim_device_get(const struct nest_sim *sim, uint32_t id);
/* index where id is or would be inserted in a sorted array of objects whose first field is id */
uint32_t sim_bsearch_id(void *const *v, uint32_t n, uint32_t id);
int sim_array_insert(void ***v, uint32_t *n, uint32_t at, void *obj);
void sim_array_remove(void **v, uint32_t *n, uint32_t at);

/* Flush every cached translation of @domain (IOTLB and its devices' device TLBs). */
void sim_domain_flush_tlbs(struct nest_sim *sim, struct sim_domain *dom);

/* Count and deliver a fault to the callback. */
void sim_fault_report(struct nest_sim *sim, const struct nest_sim_fault *f);

static inline bool sim_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static inline uint32_t sim_log2_roundup(uint32_t v)
{
	uint32_t b = 0;

	while ((1ull << b) < v)
		b++;
	return b;
}

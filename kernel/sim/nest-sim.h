/* SPDX-License-Identifier: MIT */
/*
 * nest-sim: a software nested IOMMU modelling Intel VT-d scalable mode with nested translation
 * (first level = guest x86-64 page tables, second level = the VM's RAM regions).
 *
 * Objects: an instance (struct nest_sim) holds domains (one per VM), each with a stage 2 made of
 * RAM regions; devices belong to one domain and own a PASID table; a system-wide PASID allocator
 * hands PASIDs to domains. Translations go through a PASID cache, an IOTLB and, for ATS devices, a
 * device TLB. Every cache keeps serving what it holds until the matching invalidation arrives, so
 * a missing invalidation is observable, exactly as on hardware. See docs/SIM.md.
 *
 * Conventions: functions return 0 or a negative errno; ret_ out-params are written only on
 * success unless the comment says otherwise. The library never logs and never aborts on caller
 * input.
 *
 * Thread-safety: an instance is NOT thread-safe; callers serialise all calls on one instance
 * (callbacks run synchronously inside the call that triggered them and must not call back into
 * the same instance). Distinct instances are fully independent (no global state). Guest memory
 * may be modified concurrently by vCPUs: page-table entries are read with atomic loads and the
 * Accessed/Dirty bits are written back with 64-bit compare-exchange.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nest_sim;

/* PASIDs are 1 .. (1 << pasid_bits) - 1; PASID 0 is never allocated. */
#define NEST_SIM_PASID_BITS_MAX 20u
/*
 * PASID 0 in bind/unbind/rebind/translate/dma: the device's RID (requests without PASID, the
 * RID_PASID entry of VT-d scalable mode). Unbound, it translates through stage 2 only (the
 * address is a GPA); bound, through a guest first-level table over stage 2 (docs/SIM.md).
 */
#define NEST_SIM_PASID_RID	0u
/* Wildcard device for nest_sim_invalidate(): every device of the domain. */
#define NEST_SIM_DEV_ALL	UINT32_MAX
/* Caps on caller-allocatable objects (-ENOSPC beyond). */
#define NEST_SIM_REGIONS_MAX	4096u
#define NEST_SIM_DOMAINS_MAX	4096u
#define NEST_SIM_DEVICES_MAX	65536u

/* Page-table formats; one walker per format behind an internal ops table. */
enum nest_sim_fmt {
	NEST_SIM_FMT_VTD_FL = 1, /* VT-d first level: x86-64 long-mode 4- or 5-level paging */
	NEST_SIM_FMT_MAX,
};

struct nest_sim_config {
	uint32_t max_gaw;	      /* guest physical address width, 32..52; 0 = 48 */
	uint32_t iotlb_entries;	      /* rounded up to a power of two, >= 4; 0 = 1024 */
	uint32_t devtlb_entries;      /* per ATS device, rounded up, >= 4; 0 = 64 */
	uint32_t pasid_cache_entries; /* rounded up, >= 4; 0 = 256 */
	uint32_t pasid_bits;	      /* system PASID space, 1..20; 0 = 20 */
	bool checker;		      /* checker mode on for every domain from the start */
	bool no_psc; /* no paging-structure cache: every IOTLB miss walks from the top level */
	/*
	 * Bytes of holes in region files one domain's DMA and page walks may bring into existence
	 * (pages that were not resident; sim-touch.c); past it a DMA chunk fails with -ENOMEM and a
	 * page-table read faults as a stage-2 miss. 0: not limited. Counted per account
	 * (nest_sim_touch_acct below): per domain unless domains are given a shared one.
	 */
	uint64_t touch_limit;
};

/* Stage-2 permissions of a region. */
enum {
	NEST_SIM_PERM_R = 1u << 0,
	NEST_SIM_PERM_W = 1u << 1,
	NEST_SIM_PERM_VALID = (1u << 2) - 1,
};

/* Access flags of a request; a request without NEST_SIM_ACC_WRITE is a read. */
enum {
	NEST_SIM_ACC_WRITE = 1u << 0,
	NEST_SIM_ACC_EXEC = 1u << 1, /* instruction fetch (read with execute) */
	NEST_SIM_ACC_PRIV = 1u << 2, /* supervisor-privileged request (needs SRE) */
	NEST_SIM_ACC_VALID = (1u << 3) - 1,
};

/* Bind flags; the same bit values as IOMMU_SVA_VTD_GPASID_* of the VFIO nesting uAPI. */
enum {
	NEST_SIM_BIND_F_SRE = 1u << 0,	/* supervisor requests enabled */
	NEST_SIM_BIND_F_EAFE = 1u << 1, /* extended-accessed flag (bit 10) set on walks */
	NEST_SIM_BIND_F_PCD = 1u << 2,	/* memory-type bits: stored, reported, not interpreted */
	NEST_SIM_BIND_F_PWT = 1u << 3,
	NEST_SIM_BIND_F_EMTE = 1u << 4,
	NEST_SIM_BIND_F_CD = 1u << 5,
	NEST_SIM_BIND_F_WPE = 1u << 6, /* supervisor writes honour R/W */
	NEST_SIM_BIND_F_VALID = (1u << 7) - 1,
};

struct nest_sim_bind {
	uint32_t fmt;	     /* enum nest_sim_fmt */
	uint32_t addr_width; /* 48 (4-level) or 57 (5-level) */
	uint64_t gpgd;	     /* GPA of the top-level table, 4 KiB aligned, below 2^max_gaw */
	uint64_t flags;	     /* NEST_SIM_BIND_F_* */
	uint32_t pat;	     /* stored only */
	uint32_t emt;	     /* stored only */
};

/* Cache types and granularities: the same values as the VFIO nesting uAPI (UAPI-FACTS §1.5). */
enum {
	NEST_SIM_CACHE_IOTLB = 1u << 0,
	NEST_SIM_CACHE_DEV_IOTLB = 1u << 1,
	NEST_SIM_CACHE_PASID = 1u << 2,
	NEST_SIM_CACHE_VALID = (1u << 3) - 1,
};

enum nest_sim_granu {
	NEST_SIM_GRANU_DOMAIN = 0,
	NEST_SIM_GRANU_PASID = 1,
	NEST_SIM_GRANU_ADDR = 2,
	NEST_SIM_GRANU_MAX,
};

enum {
	NEST_SIM_INV_F_LEAF = 1u << 0, /* only leaf entries need to go (hint) */
	NEST_SIM_INV_F_VALID = (1u << 1) - 1,
};

struct nest_sim_inv {
	uint32_t cache;	       /* NEST_SIM_CACHE_* mask, at least one bit */
	uint32_t granu;	       /* enum nest_sim_granu */
	uint32_t pasid;	       /* PASID and ADDR; ADDR: 0 = all PASIDs */
	uint32_t flags;	       /* NEST_SIM_INV_F_*; ADDR granularity only */
	uint64_t addr;	       /* ADDR: start; bits below 4 KiB are ignored as hardware does */
	uint64_t granule_size; /* ADDR: power of two >= 4096 */
	uint64_t nb_granules;  /* ADDR: >= 1; granule_size * nb_granules must not overflow */
};

/*
 * Fault reasons. The numeric values are stable (they may be forwarded on the wire); new reasons
 * are only ever appended.
 */
enum nest_sim_fault_reason {
	NEST_SIM_FAULT_NONE = 0,
	NEST_SIM_FAULT_PASID_RANGE = 1,	      /* PASID beyond the device's PASID width */
	NEST_SIM_FAULT_PASID_NOT_PRESENT = 2, /* no present PASID-table entry */
	NEST_SIM_FAULT_NON_CANONICAL = 3,     /* address not canonical for 48/57 bits */
	NEST_SIM_FAULT_PTE_NOT_PRESENT = 4,   /* a paging entry has P=0 */
	NEST_SIM_FAULT_RSVD = 5,	      /* a paging entry has a reserved bit set */
	NEST_SIM_FAULT_WRITE = 6,	      /* write to a read-only translation */
	NEST_SIM_FAULT_EXEC = 7,	      /* execute on an XD translation */
	NEST_SIM_FAULT_USER = 8,	      /* user request to a supervisor-only translation */
	NEST_SIM_FAULT_SUPERVISOR = 9,	      /* supervisor execute on a user translation */
	NEST_SIM_FAULT_SRE = 10,	      /* supervisor request while SRE is clear */
	NEST_SIM_FAULT_S2_MISS = 11,	      /* a GPA (table or final) outside every region */
	NEST_SIM_FAULT_S2_PERM = 12,	      /* stage-2 region lacks read or write permission */
	NEST_SIM_FAULT_REASON_MAX,
};

struct nest_sim_fault {
	uint32_t reason; /* enum nest_sim_fault_reason */
	uint32_t dev_id;
	uint32_t domain;
	uint32_t pasid;
	uint64_t addr;	 /* the requested (first-level input) address */
	uint64_t gpa;	 /* stage-2 faults: the GPA that failed; paging faults: the entry's GPA */
	uint32_t access; /* NEST_SIM_ACC_* of the request */
	uint32_t level;	 /* paging level of the failing entry (5..1), 0 if not a paging fault */
};

/* A cache hit whose translation no longer matches the guest's tables (checker mode). */
struct nest_sim_stale {
	uint32_t dev_id;
	uint32_t domain;
	uint32_t pasid;
	uint32_t access;
	uint64_t addr;
	uint64_t cached_gpa;   /* GPA the cache returned */
	uint32_t cached_perms; /* NEST_SIM_XLATE_P_* of the cached translation */
	uint32_t current_perms;
	uint64_t current_gpa;	/* valid when current_fault == NEST_SIM_FAULT_NONE */
	uint32_t current_fault; /* reason a fresh walk would fault with, or NONE */
	uint32_t cache;		/* NEST_SIM_CACHE_* that produced the hit */
};

/* Effective permissions of a translation. */
enum {
	NEST_SIM_XLATE_P_W = 1u << 0,	/* R/W set on every level */
	NEST_SIM_XLATE_P_U = 1u << 1,	/* U/S set on every level */
	NEST_SIM_XLATE_P_X = 1u << 2,	/* XD clear on every level */
	NEST_SIM_XLATE_P_S2R = 1u << 3, /* stage-2 readable */
	NEST_SIM_XLATE_P_S2W = 1u << 4, /* stage-2 writable */
};

struct nest_sim_xlate {
	uint64_t gpa;	    /* GPA of addr */
	void *hva;	    /* host pointer to addr inside the region mapping */
	uint64_t page_size; /* size of the cached translation: 4 KiB, 2 MiB or 1 GiB */
	uint32_t perms;	    /* NEST_SIM_XLATE_P_* */
	uint32_t hit;	    /* NEST_SIM_CACHE_IOTLB / _DEV_IOTLB if served from a cache, else 0 */
};

struct nest_sim_counters {
	uint64_t translations; /* translate + every page of a DMA */
	uint64_t iotlb_hits;
	uint64_t iotlb_misses;
	uint64_t devtlb_hits;
	uint64_t devtlb_misses;
	uint64_t pasid_cache_hits;
	uint64_t pasid_cache_misses;
	uint64_t walks;
	uint64_t faults;
	uint64_t fault_reasons[NEST_SIM_FAULT_REASON_MAX];
	uint64_t stale; /* checker reports */
	/* successful invalidations, [cache type bit index][granularity] */
	uint64_t inv[3][NEST_SIM_GRANU_MAX];
	uint64_t dma_bytes;
	uint64_t touched_bytes; /* holes brought into existence, every domain (sim-touch.c) */
	uint64_t touch_refused; /* accesses refused by a domain's touch_limit */
};

struct nest_sim_domain_info {
	uint32_t domain;
	uint32_t nr_regions;
	uint64_t ram_bytes;
	uint32_t nr_devices;
	uint32_t nr_pasids; /* PASIDs allocated to the domain */
	uint32_t pasid_quota;
	uint32_t nr_binds; /* present PASID-table entries over the domain's devices */
	bool checker;
};

typedef void (*nest_sim_fault_cb)(void *opaque, const struct nest_sim_fault *fault);
typedef void (*nest_sim_stale_cb)(void *opaque, const struct nest_sim_stale *stale);

/*
 * nest_sim_new() - create an instance. @cfg may be NULL for all defaults.
 * -EINVAL for out-of-range config values, -ENOMEM. The caller frees with nest_sim_free().
 */
int nest_sim_new(const struct nest_sim_config *cfg, struct nest_sim **ret);

/* nest_sim_free() - destroy everything (domains, mappings). Accepts NULL; returns NULL. */
struct nest_sim *nest_sim_free(struct nest_sim *sim);

/* Register (or clear with NULL) the callback receiving every fault of translate/DMA. */
void nest_sim_set_fault_cb(struct nest_sim *sim, nest_sim_fault_cb cb, void *opaque);

/* Register (or clear with NULL) the callback receiving checker-mode stale reports. */
void nest_sim_set_stale_cb(struct nest_sim *sim, nest_sim_stale_cb cb, void *opaque);

/* Turn checker mode on/off for every domain, present and future. */
void nest_sim_set_checker(struct nest_sim *sim, bool on);

/* Turn checker mode on/off for one domain. -ENOENT if the domain does not exist. */
int nest_sim_domain_set_checker(struct nest_sim *sim, uint32_t domain, bool on);

/*
 * nest_sim_domain_new() - create a domain (one per VM) allowed at most @pasid_quota PASIDs.
 * Domain ids start at 1 and are not reused while the instance lives. -ENOSPC past
 * NEST_SIM_DOMAINS_MAX.
 */
int nest_sim_domain_new(struct nest_sim *sim, uint32_t pasid_quota, uint32_t *ret_domain);

/*
 * nest_sim_domain_free() - tear down a domain and everything it owns: its devices (and their
 * PASID tables and device TLBs), its PASIDs, its regions (unmapped) and its cache entries.
 * -ENOENT if it does not exist.
 */
int nest_sim_domain_free(struct nest_sim *sim, uint32_t domain);

/*
 * Materialisation accounts (sim-touch.c). Pages of a region file that are not resident when a
 * DMA chunk or a page-table read of a domain needs them are brought into existence by the
 * access (our MAP_SHARED view allocates them, charged to this process). An account records
 * them per file (device and inode number) and page, and charges them until it sees them gone:
 * recorded pages that are no longer resident in their file are released whenever a region of
 * that file is added to a domain using the account, and (at most once a second) before an
 * access is refused for the limit. Unmapping a region does not release anything: its pages
 * stay in the file for as long as anyone holds it. An account outlives domains: give each VM
 * one account for all its domains (attachments) and the budget is not reset by detaching and
 * attaching again.
 * Each domain starts with a private account of the instance's touch_limit, freed with it.
 */
struct nest_sim_touch_acct;

struct nest_sim_touch_info {
	uint64_t limit;	   /* bytes; 0: not limited (and nothing recorded) */
	uint64_t bytes;	   /* charged now: recorded pages x 4 KiB */
	uint64_t touched;  /* every byte ever charged */
	uint64_t released; /* every byte released (seen gone) */
	uint64_t refused;  /* accesses refused because they would exceed the limit */
	uint32_t files;	   /* files with recorded pages */
	uint32_t ranges;   /* runs of recorded pages */
};

/* A new account of @limit bytes (0: the limit of the instance a domain using it belongs to). */
int nest_sim_touch_acct_new(uint64_t limit, struct nest_sim_touch_acct **ret);
/* Free an account no domain uses any more. Accepts NULL; returns NULL. */
struct nest_sim_touch_acct *nest_sim_touch_acct_free(struct nest_sim_touch_acct *a);
void nest_sim_touch_acct_info(const struct nest_sim_touch_acct *a, struct nest_sim_touch_info *ret);
/*
 * Runs of recorded pages compared or visited by the calling thread's account bookkeeping since
 * the thread started, every account: the work, for tests (it grows as n log n in the runs a VMM
 * can make, whatever order its DMA and holes come in).
 */
uint64_t nest_sim_touch_steps(void);
/*
 * Make @domain charge @a (NULL: a private account again) from now on. Only while the domain has
 * no region (-EBUSY otherwise); -ENOENT for an unknown domain. The caller keeps @a and must not
 * free it before the domain is freed or given another account.
 */
int nest_sim_domain_set_touch_acct(struct nest_sim *sim, uint32_t domain,
				   struct nest_sim_touch_acct *a);

/* Small summary for admin tools. -ENOENT if the domain does not exist. */
int nest_sim_domain_info(struct nest_sim *sim, uint32_t domain,
			 struct nest_sim_domain_info *ret_info);

/*
 * nest_sim_region_add() - map [fd_offset, fd_offset + len) of @fd MAP_SHARED at guest physical
 * [gpa, gpa + len) with stage-2 @perms (NEST_SIM_PERM_*, non-zero). The caller keeps @fd; the
 * mapping stays valid after the caller closes it.
 * -EOVERFLOW if gpa + len or fd_offset + len wraps; -EINVAL if gpa, len or fd_offset is not
 * 4 KiB aligned, len is 0, the range exceeds 2^max_gaw, @fd is not a regular file at least
 * fd_offset + len long or cannot be mapped with @perms, or is shmem that may get transparent
 * huge pages while our mapping cannot be advised MADV_NOHUGEPAGE (docs/SIM.md); -EOPNOTSUPP
 * for unknown perms;
 * -EEXIST if the range overlaps an existing region; -ENOSPC past NEST_SIM_REGIONS_MAX;
 * -ENOENT for an unknown domain.
 */
int nest_sim_region_add(struct nest_sim *sim, uint32_t domain, uint64_t gpa, uint64_t len, int fd,
			uint64_t fd_offset, uint32_t perms);

/*
 * nest_sim_region_remove() - unmap the region that is exactly [gpa, gpa + len) (-ENOENT
 * otherwise). Flushes the domain's IOTLB and device-TLB entries first, as the host driver
 * would after changing stage 2, so no cached pointer into the mapping survives.
 */
int nest_sim_region_remove(struct nest_sim *sim, uint32_t domain, uint64_t gpa, uint64_t len);

/*
 * nest_sim_device_add() - attach device @dev_id (unique in the instance, -EEXIST) to @domain.
 * @ats gives it a device TLB; @pasid_bits (1..20, -EINVAL) is its PASID width.
 */
int nest_sim_device_add(struct nest_sim *sim, uint32_t domain, uint32_t dev_id, bool ats,
			uint32_t pasid_bits);

/* nest_sim_device_remove() - drop a device, its PASID table and its cache entries. -ENOENT. */
int nest_sim_device_remove(struct nest_sim *sim, uint32_t dev_id);

/*
 * nest_sim_pasid_alloc() - allocate the lowest free PASID in [min, max] (clamped to the PASID
 * space, PASID 0 excluded) to @domain. -EINVAL if min > max, -ENOSPC if the domain's quota is
 * used up or no PASID is free in the range, -ENOENT for an unknown domain.
 */
int nest_sim_pasid_alloc(struct nest_sim *sim, uint32_t domain, uint32_t min, uint32_t max,
			 uint32_t *ret_pasid);

/*
 * nest_sim_pasid_free() - give a PASID back. A PASID that does not exist and one owned by
 * another domain both answer -ENOENT. Any binding of it on the domain's devices is removed and
 * every cache entry tagged with it is flushed (the host does this before reusing a PASID).
 */
int nest_sim_pasid_free(struct nest_sim *sim, uint32_t domain, uint32_t pasid);

/*
 * nest_sim_bind() - set the PASID-table entry (dev_id, pasid) to the guest first-level table
 * described by @b. The PASID must be allocated to the device's domain (-ENOENT otherwise,
 * also for an unknown device); pasid beyond the device's width -> -EINVAL; already bound ->
 * -EBUSY; unknown fmt, addr_width not 48/57, gpgd unaligned or beyond max_gaw -> -EINVAL;
 * unknown flags -> -EOPNOTSUPP. A cached copy of an earlier entry for (dev_id, pasid) keeps
 * being used until a PASID-cache invalidation.
 */
int nest_sim_bind(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid,
		  const struct nest_sim_bind *b);

/*
 * With pasid NEST_SIM_PASID_RID, nest_sim_bind() puts the device's RID on the first-level
 * table @b (nested over stage 2) instead of stage 2 alone: no PASID ownership check, -EBUSY if
 * the RID is bound already. Like the host driver moving a RID from one domain to another, it
 * flushes every cached entry of the RID (PASID cache, IOTLB, device TLB).
 */

/*
 * nest_sim_unbind() - clear the PASID-table entry. -ENOENT if not bound (or unknown device).
 * Like hardware, the PASID cache, IOTLB and device TLB are NOT flushed: the caller invalidates.
 * NEST_SIM_PASID_RID: the RID goes back to stage 2 only, and its cached entries are flushed
 * (as for a bind of the RID).
 */
int nest_sim_unbind(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid);

/*
 * nest_sim_rebind() - replace the present entry (dev_id, pasid) (or the bound RID with
 * NEST_SIM_PASID_RID) by @b in one write: a request sees the old entry or the new one, never
 * none. Nothing is flushed: a cached copy of the old entry (PASID cache) and the translations
 * made through it (IOTLB, device TLB) keep serving until the caller invalidates, as on
 * hardware. -ENOENT if nothing is bound there (or unknown device); the checks of
 * nest_sim_bind() otherwise; on any error the old entry stays.
 */
int nest_sim_rebind(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid,
		    const struct nest_sim_bind *b);

/*
 * nest_sim_invalidate() - invalidate caches of @domain. Valid combinations (the generic VFIO
 * nesting table): DOMAIN x {IOTLB, PASID}, PASID x {IOTLB, DEV_IOTLB, PASID},
 * ADDR x {IOTLB, DEV_IOTLB}; with several types every one must accept the granularity, else
 * -EINVAL. @dev_id selects the device for DEV_IOTLB and PASID-cache invalidation
 * (NEST_SIM_DEV_ALL = every device of the domain; a device of another domain -> -ENOENT); the
 * IOTLB is domain-wide. An IOTLB invalidation also drops the matching paging-structure-cache
 * (non-leaf) entries, except with NEST_SIM_INV_F_LEAF, which keeps them as hardware may. PASID/ADDR granularity: the PASID must be owned by the domain
 * (-ENOENT). ADDR: granule_size not a power of two >= 4096 or nb_granules == 0 -> -EINVAL,
 * granule_size * nb_granules or addr + size wrapping -> -EOVERFLOW. Unknown cache bits, granu
 * or flags -> -EOPNOTSUPP; flags with a non-ADDR granularity -> -EINVAL.
 */
int nest_sim_invalidate(struct nest_sim *sim, uint32_t domain, const struct nest_sim_inv *inv,
			uint32_t dev_id);

/*
 * nest_sim_invalidate_n() - nest_sim_invalidate() of the @n requests @inv in order, with the
 * domain and device looked up once; stops at the first that fails. *ret_done = how many were
 * done. 0, or the -errno of request *ret_done.
 */
int nest_sim_invalidate_n(struct nest_sim *sim, uint32_t domain, const struct nest_sim_inv *inv,
			  uint32_t n, uint32_t dev_id, uint32_t *ret_done);

/*
 * nest_sim_translate() - translate @addr for (dev_id, pasid) with @access (NEST_SIM_ACC_*),
 * through the caches, exactly as a DMA of one byte would (A/D bits, counters, callbacks).
 * 0 and *ret filled; -EFAULT on a translation fault, with *ret_fault filled if non-NULL (the
 * fault callback also runs); -ENOENT unknown device; -EOPNOTSUPP unknown access bits;
 * -EINVAL for WRITE together with EXEC (an instruction fetch is a read).
 */
int nest_sim_translate(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid, uint64_t addr,
		       uint32_t access, struct nest_sim_xlate *ret,
		       struct nest_sim_fault *ret_fault);

/*
 * nest_sim_dma() - move @len bytes between @buf and the device address range at @addr:
 * NEST_SIM_ACC_WRITE writes @buf into guest memory, otherwise guest memory is read into @buf.
 * Each page is translated and checked separately. Returns 0 when all bytes moved; -EFAULT on
 * a fault, with the bytes moved before the faulting page in *ret_done and the fault in
 * *ret_fault (both written on 0 and on -EFAULT, if non-NULL); -ENOENT unknown device;
 * -EOPNOTSUPP unknown access bits; -EINVAL for WRITE with EXEC; -EOVERFLOW if addr + len wraps.
 */
int nest_sim_dma(struct nest_sim *sim, uint32_t dev_id, uint32_t pasid, uint64_t addr, void *buf,
		 size_t len, uint32_t access, size_t *ret_done, struct nest_sim_fault *ret_fault);

/* Snapshot of the counters. */
void nest_sim_get_counters(struct nest_sim *sim, struct nest_sim_counters *ret);

/* Short stable name of a reason, e.g. "pte-not-present"; "unknown" for values out of range. */
const char *nest_sim_fault_reason_str(uint32_t reason);

#ifdef __cplusplus
}
#endif

/* SPDX-License-Identifier: MIT */
/*
 * vm.h - a VM of the policy and everything nestd holds for it: the backend context, stage-2
 * regions, devices, the PASIDs it owns (with their gpasid mapping and binding).
 *
 * States: DETACHED (no backend context, nothing held) -> ATTACHED (a connection owns it) ->
 * HELD (its connection went away but the grace period keeps the state for a re-attach) ->
 * ATTACHED again or DETACHED on expiry. Every id a client sends (PASID, region gpa, dev_id) is
 * looked up in its own VM only, so another VM's ids answer ENOENT like non-existent ones.
 */
#ifndef NESTD_VM_H
#define NESTD_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "config.h"
#include "nestd.h"
#include "peer.h"
#include "pasid-index.h"

enum vm_state {
	VM_DETACHED = 0,
	VM_ATTACHED,
	VM_HELD,
};

struct vm_region {
	uint64_t gpa;
	uint64_t len;
	uint64_t fd_offset;
	uint32_t flags; /* NEST_MEM_F_* */
};

/*
 * One stage-1 table as a client bound it: nestd's generic form (BIND) or the kernel's own data
 * (BIND_NATIVE, a copy kept to roll a failed REPLACE back and to compare a DEVICE bind with).
 */
/* A guest stage-1 table as bound (on a PASID, or on a device's RID). */
struct vm_s1 {
	bool native;		  /* bound by BIND_NATIVE: native_type and data are valid */
	uint32_t native_type;	  /* the kernel's HWPT data type of a native binding */
	uint32_t len;		  /* bytes at data */
	uint8_t *data;		  /* owned */
	struct nest_be_bind bind; /* valid when not native */
};

/*
 * A PASID of the VM. One table per PASID, bound on the devices of `devs` (bit i: cfg.devices[i];
 * every attached device for a plain BIND, a subset with NEST_BIND_F_DEVICE). bound == devs != 0.
 */
_Static_assert(NESTD_VM_DEVICES_MAX <= 64, "vm_pasid.devs is a 64-bit mask of cfg.devices");

struct vm_pasid {
	uint32_t pasid; /* host PASID */
	uint32_t gpasid;
	bool has_gpasid;
	bool bound;
	uint64_t devs;	 /* devices the table is bound on */
	struct vm_s1 s1; /* the table, valid when bound */
};

struct vm_device {
	bool attached;	  /* under the backend context */
	bool taken;	  /* handed out by DEVICE_GET */
	int fd;		  /* device fd from the backend, -1 if none; a dup goes to the client */
	bool rid_bound;	  /* NEST_BIND_F_RID: the RID translates through rid (stage 1) */
	struct vm_s1 rid; /* valid with rid_bound */
};

/*
 * A live vIOMMU of the VM (viommu.c): the backend's VM-local id, the device it nests on, and the
 * devices whose RID sits on a nested HWPT of it (VIOMMU_ATTACH), unsorted.
 */
struct vm_viommu {
	uint32_t id;
	uint32_t dev_id;
	uint32_t n_attached;
	uint32_t attached[NESTD_VM_DEVICES_MAX];
};

struct vm_counters {
	uint64_t requests, errors, binds, unbinds, invalidations, inv_entries, faults, stale,
		dma_bytes;
	uint64_t page_requests;	  /* every page request the backend reported for the VM */
	uint64_t page_responses;  /* PAGE_RESPONSEs of the VMM that the backend took */
	uint64_t page_refusals;	  /* groups nestd answered invalid itself (no client to ask) */
	uint64_t vevents;	  /* every vIOMMU event the backend reported for the VM */
	uint64_t vevents_dropped; /* of which no client got (none, minor 0, no "viommu", full) */
};

/*
 * A page request group that waits for an answer: the cookie of its LAST_PAGE request, either
 * delivered to the client (answered by PAGE_RESPONSE, or refused when the client lets go of the
 * VM) or to be answered invalid by nestd from the event loop (refuse: backend callbacks must not
 * call into the backend).
 */
struct vm_prq {
	uint32_t cookie;
	uint32_t dev_id; /* the device that asked (DEVICE_PUT answers its groups) */
	bool refuse;
};

struct vm {
	struct nestd *d;
	struct nestd_vm_cfg cfg; /* copy; refreshed from the config while DETACHED */
	enum vm_state state;
	bool removed; /* no longer in the config: freed once DETACHED */
	struct conn *conn;
	uid_t uid; /* of the client that attached last */
	pid_t pid;
	struct nest_be_ctx *ctx;
	struct nest_be_mem_acct *mem_acct; /* memory the backend materialised for this VM, over
					      every attachment (sim; NULL: none) */
	bool checker;
	struct nest_backend_info info; /* the context's nesting info, set at attach */

	struct vm_region *regions; /* sorted by gpa, non-overlapping */
	uint32_t n_regions;
	uint32_t cap_regions;
	uint64_t mem_bytes;

	struct vm_pasid *pasids; /* unsorted, at most cfg.pasid_quota */
	uint32_t n_pasids;
	uint32_t cap_pasids;
	struct pasid_index pasid_ix;  /* host PASID -> slot in pasids */
	struct pasid_index gpasid_ix; /* guest PASID -> slot, for the PASIDs that record one */
	uint32_t n_bound;

	struct vm_device devices[NESTD_VM_DEVICES_MAX]; /* parallel to cfg.devices */
	struct event *ev_grace;
	struct vm_counters ctr;

	struct vm_prq *prqs; /* page request groups awaiting an answer (iopf.c) */
	uint32_t n_prqs;
	uint32_t cap_prqs;
	struct event *ev_prq; /* answers the refused ones from the loop */

	struct vm_viommu viommus[NEST_VIOMMUS_PER_VM_MAX]; /* live vIOMMUs, unsorted */
	uint32_t n_viommus;
};

int vm_new(struct nestd *d, const struct nestd_vm_cfg *cfg, struct vm **ret);
struct vm *vm_free(struct vm *vm); /* tears down first if needed; accepts NULL */

const char *vm_state_name(enum vm_state s);

/*
 * True if peer @p may attach @vm: its uid is in Owner= or one of its groups (primary or
 * supplementary) is in Group= of the VM in the current configuration, also for a VM that still
 * runs on the copy of an older one.
 */
bool vm_policy_allows(const struct vm *vm, const struct peer *p);

/*
 * vm_attach() - bind @c to @vm: create the backend context and attach every policy device
 * (DETACHED), or re-adopt a HELD VM (*ret_reattached = true). -EBUSY if attached.
 */
int vm_attach(struct vm *vm, struct conn *c, bool checker, bool *ret_reattached);

/*
 * vm_release() - the connection lets go of the VM. @keep: hold the state for the grace period
 * (if the VM has one), else tear down now.
 */
void vm_release(struct vm *vm, bool keep);

/* Full teardown: unbind, free PASIDs, unmap regions, detach devices, free the context. */
void vm_teardown(struct vm *vm, const char *why);

/* Replace the config copy (only while DETACHED). */
void vm_set_cfg(struct vm *vm, const struct nestd_vm_cfg *cfg);

/*
 * vm_device_gone() - device @idx left the VM (backend report or config reload): detach it from
 * the context if @detach (the backend dropped it already otherwise), tell the client with
 * NEST_EV_DEVICE_GONE. Bindings on the remaining devices stay.
 */
void vm_device_gone(struct vm *vm, int idx, bool detach);

/*
 * Page requests (iopf.c). vm_prq_deliverable(): the VM announces NEST_FEAT_PAGE_REQUESTS and its
 * client said minor >= 1 and "page-requests" in HELLO and can still be written to.
 * vm_prq_track(): remember the group of LAST_PAGE cookie @cookie, delivered or (@refuse) to be
 * answered invalid from the loop. vm_prq_forget(): the client answered it. vm_prq_refuse_all():
 * the client let go of the VM: answer every delivered group invalid. vm_prq_refuse_device():
 * DEVICE_PUT: answer device @dev_id's groups invalid now (never from a backend callback) and
 * forget them; returns how many the backend took. vm_prq_clear(): the context goes (the
 * backend answers what is pending). vm_prq_flush(): answer the refused groups now.
 */
bool vm_prq_deliverable(const struct vm *vm);
void vm_prq_track(struct vm *vm, uint32_t cookie, uint32_t dev_id, bool refuse);
void vm_prq_forget(struct vm *vm, uint32_t cookie);
void vm_prq_refuse_all(struct vm *vm);
uint32_t vm_prq_refuse_device(struct vm *vm, uint32_t dev_id);
void vm_prq_clear(struct vm *vm);
void vm_prq_flush(struct vm *vm);

/*
 * vIOMMU objects (viommu.c). vm_viommu_find(): one of this VM's live vIOMMUs. 
 * vm_viommu_forget_device(): device @dev_id left; the backend dropped the vIOMMUs nested on it
 * and its RID's attachment to any vIOMMU.
 * vm_viommu_put_device(): DEVICE_PUT: device @dev_id leaves every vIOMMU (its RID off their
 * nested HWPTs, back on its stage-2 parent; its vDEVICEs destroyed; the vIOMMUs stay). 0, or the
 * errno of a vIOMMU whose backend could not put the RID back (*@ret_viommu): the device stays
 * attached there (and in the books), the vIOMMUs before it are done.
 * vm_viommu_free_all(): teardown: detach every attached RID, then free every vIOMMU (their
 * vDEVICEs and queues go with them).
 * vm_vevent_deliverable(): the VM announces NEST_FEAT_VIOMMU and its client said minor >= 1 and
 * "viommu" in HELLO. vm_vevent(): a backend report: to the client, or dropped and counted.
 */
struct vm_viommu *vm_viommu_find(struct vm *vm, uint32_t id);
void vm_viommu_forget_device(struct vm *vm, uint32_t dev_id);
void vm_viommu_free_all(struct vm *vm);
int vm_viommu_put_device(struct vm *vm, uint32_t dev_id, uint32_t *ret_viommu);
bool vm_vevent_deliverable(const struct vm *vm);
void vm_vevent(struct vm *vm, const struct nest_be_vevent *ev);

/* Lookups inside this VM only. */
struct vm_pasid *vm_pasid_find(struct vm *vm, uint32_t pasid);
struct vm_pasid *vm_gpasid_find(struct vm *vm, uint32_t gpasid);
int vm_device_index(const struct vm *vm, uint32_t dev_id); /* index or -ENOENT */

/* PASID table and region table edits (the backend call is the caller's). */
/* Free the table's kernel data and forget it. */
void vm_s1_clear(struct vm_s1 *s);
int vm_pasid_add(struct vm *vm, uint32_t pasid, bool has_gpasid, uint32_t gpasid);
/* Record @gpasid (1..NEST_PASID_MAX, not recorded by another PASID) for @p: 0 or -ENOMEM. */
int vm_pasid_set_gpasid(struct vm *vm, struct vm_pasid *p, uint32_t gpasid);
void vm_pasid_clear_gpasid(struct vm *vm, struct vm_pasid *p);
void vm_pasid_remove(struct vm *vm, struct vm_pasid *p);
/* Unbind @p on every device it is bound on (no-op if unbound). Cannot fail. */
void vm_pasid_unbind(struct vm *vm, struct vm_pasid *p);
/* Unbind @p on device @idx only (the others keep it). Cannot fail. */
void vm_pasid_unbind_dev(struct vm *vm, struct vm_pasid *p, int idx);
/* The RID of device @idx back on stage 2 alone (no-op if not bound). Cannot fail. */
void vm_rid_unbind(struct vm *vm, int idx);
/*
 * Device @idx leaves every binding: its PASIDs and its RID. @backend: undo them in the backend
 * too (false: the backend dropped them with the device, only the books are updated).
 */
void vm_device_unbind_all(struct vm *vm, int idx, bool backend);
/* True if device @idx's RID sits on a vIOMMU's nested HWPT (VIOMMU_ATTACH). */
bool vm_viommu_rid_attached(const struct vm *vm, uint32_t dev_id);
int vm_region_find(const struct vm *vm, uint64_t gpa, uint64_t len); /* index or -ENOENT */
bool vm_region_overlaps(const struct vm *vm, uint64_t gpa, uint64_t len);
int vm_region_insert(struct vm *vm, const struct vm_region *r);
void vm_region_delete(struct vm *vm, int idx);

#endif /* NESTD_VM_H */

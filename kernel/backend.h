/* SPDX-License-Identifier: MIT */
/*
 * backend.h - the IOMMU backend interface of nestd (STYLE.md R20).
 *
 * One interface, several implementations: "sim" (the software nested IOMMU, kernel/sim), and the
 * kernel backends "vfio-type1", "vfio-nesting" (VFIO_IOMMU_PASID_REQUEST / VFIO_IOMMU_NESTING_OP)
 * and "iommufd" (IOAS + NEST_PARENT HWPT, HWPT_ALLOC nested, HWPT_INVALIDATE, PASID attach). The
 * daemon holds every piece of policy (ownership, quotas, validation, rollback); a backend only
 * performs operations the daemon has already checked, and reports what the hardware (or sim) says.
 *
 * Object model
 *   struct nest_backend   one per daemon, created by nest_backend_open(); owns the kernel handles
 *                         (/dev/vfio/vfio, /dev/iommu) or the nest_sim instance.
 *   struct nest_be_ctx    one per attached VM: a VFIO container, an iommufd IOAS + nest-parent
 *                         HWPT, or a sim domain. Stage 2 and the VM's devices live in it.
 *   devices               identified by the VM-local dev_id of the policy (struct nest_be_dev).
 *                         dev_ids are unique within one context only; a backend translates them
 *                         to its own global handles (sim device ids, VFIO device fds, iommufd
 *                         dev ids) itself.
 *   PASIDs                host PASIDs. In NEST_PASID_MODE_SYSTEM one allocator serves the whole
 *                         machine (VT-d / ENQCMD) and pasid_alloc() ignores dev_id; in
 *                         NEST_PASID_MODE_PER_DEVICE the PASID space is per device (iommufd).
 *
 * Conventions
 *   - Every op returns 0 or a negative errno (R1); ret_* are written only on success.
 *     Never -EPERM or -EPROTO: the daemon passes a backend's errno to the client, and those two
 *     mean "this peer may not" / "broken protocol" and close its connection (PROTOCOL.md §12).
 *     A kernel EPERM/EACCES from an ioctl is reported as -EIO (or a more precise errno).
 *   - Backends never log above debug and never print (they are library code).
 *   - Ops marked MUST NOT FAIL (ctx_free, unmap, device_detach, pasid_free, unbind) return void:
 *     they are used on teardown paths where failing would leave state behind. A backend that
 *     cannot complete one still releases everything it owns and records the problem in its
 *     counters; the daemon relies on the object being gone afterwards.
 *   - invalidate() of an entry the daemon validated (nest_inv_entry_check()) on a PASID the VM
 *     owns must not fail on a healthy backend; it returns an errno only for conditions the daemon
 *     cannot check (e.g. a kernel without CACHE_INVLD -> -EOPNOTSUPP), which is reported to the
 *     client as that entry's first_error.
 *   - The backend is single-threaded: all calls come from the daemon's event loop. Callbacks
 *     (struct nest_be_events) run synchronously inside a backend call or inside dispatch(); they
 *     must not call back into the backend.
 *   - fds: an fd passed IN is borrowed (the caller keeps and closes it); a backend that needs it
 *     longer dup()s it or maps it. An fd passed OUT (ret_fd) is owned by the caller.
 */
#ifndef NEST_BACKEND_H
#define NEST_BACKEND_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nest-proto.h"

struct json_object;
struct nest_backend;
struct nest_be_ctx;
struct nest_vfio_sys;

/* Which backend to open. AUTO probes: a kernel backend if its uAPI is usable, else sim. */
enum nest_backend_choice {
	NEST_BE_CHOICE_AUTO = 0,
	NEST_BE_CHOICE_SIM,
	NEST_BE_CHOICE_VFIO_TYPE1,
	NEST_BE_CHOICE_VFIO_NESTING,
	NEST_BE_CHOICE_IOMMUFD,
	NEST_BE_CHOICE_MAX,
};

/* Parameters given at open. Only the fields of the chosen backend are used. */
struct nest_backend_params {
	enum nest_backend_choice choice;
	/* sim */
	uint32_t sim_iotlb_entries;
	uint32_t sim_devtlb_entries;
	uint32_t sim_pasid_cache_entries;
	uint32_t sim_max_gaw;
	uint32_t sim_pasid_bits; /* 0 = 20 */
	uint64_t
		sim_touch_limit; /* bytes of holes one VM may make the sim allocate; 0: unlimited */
	/*
	 * Kernel backends: the PCI addresses of the host devices in the configuration (probes
	 * that need a device, such as vfio-nesting's, use them) and, for tests only, the kernel
	 * seam of the VFIO backends (NULL: the real kernel, kernel/vfio/vfio-sys.h).
	 */
	const char *const *host_pci;
	size_t n_host_pci;
	size_t n_mock; /* iommufd selftest mock devices in the configuration */
	const struct nest_vfio_sys *vfio_sys;
};

/*
 * What the backend can do; copied into every VM_ATTACH reply (struct nest_vm_info) by the
 * daemon. Fixed for the life of the backend.
 */
struct nest_backend_info {
	uint32_t kind;	      /* enum nest_backend_kind */
	const char *name;     /* "sim", "vfio-type1", ... (static string) */
	uint32_t formats;     /* NEST_FORMAT_* */
	uint32_t addr_widths; /* NEST_ADDR_WIDTH_* */
	uint32_t features;    /* NEST_FEAT_* */
	uint16_t pasid_bits;  /* 0: no PASID support */
	uint16_t pasid_mode;  /* enum nest_pasid_mode */
	uint64_t cap_reg;     /* VT-d CAP / ECAP as reported by the IOMMU (sim: synthesized) */
	uint64_t ecap_reg;
	/*
	 * The kernel's native nesting formats (iommufd; 0 elsewhere): the GET_HW_INFO type of the
	 * IOMMU, the nested HWPT data type BIND_NATIVE takes, and the invalidation data type and
	 * entry size INVALIDATE_NATIVE takes. NEST_FEAT_NATIVE is set in features when usable.
	 */
	uint32_t hw_info_type;
	uint32_t hwpt_data_type;
	uint32_t inv_data_type;
	uint32_t inv_entry_len;
	/*
	 * vIOMMU objects (iommufd; 0 elsewhere): the vIOMMU type the VM's devices support, its
	 * invalidation data type and entry size, its vEVENTQ type and record size.
	 */
	uint32_t viommu_type;
	uint32_t viommu_inv_data_type;
	uint32_t viommu_inv_entry_len;
	uint32_t vevent_type;
	uint32_t vevent_len;
};

/* A device of a VM as the policy describes it. Strings are copied by the backend if kept. */
struct nest_be_dev {
	uint32_t dev_id;     /* VM-local id from the policy */
	const char *name;    /* policy name */
	bool ats;	     /* sim: has a device TLB */
	uint32_t pasid_bits; /* sim: PASID width */
	const char *pci;     /* kernel backends: PCI address DDDD:BB:DD.F; NULL on sim */
	bool mock;	     /* iommufd: a selftest mock device created in the VM's iommufd */
};

/* Per-VM context parameters. */
struct nest_be_mem_acct; /* mem_acct_new() */

struct nest_be_ctx_params {
	uint32_t pasid_quota; /* enforced by the daemon too; a backend may enforce it as well */
	bool checker;	      /* sim: stale-translation checker on from the start */
	void *cookie;	      /* handed back in event callbacks (the daemon's VM object) */
	struct nest_be_mem_acct *mem_acct; /* the VM's account (mem_acct_new()), or NULL */
};

/* What a memory account holds (mem_acct_info()). */
struct nest_be_mem_acct_info {
	uint64_t limit;	   /* bytes; 0: not limited */
	uint64_t bytes;	   /* charged now */
	uint64_t touched;  /* ever charged */
	uint64_t released; /* ever released (seen gone from the files) */
	uint64_t refused;  /* accesses refused at the limit */
	uint32_t files;	   /* memory files with charged pages */
};

/* A guest stage-1 binding; field meanings are those of struct nest_bind (wire). */
struct nest_be_bind {
	uint32_t format;     /* enum nest_bind_format */
	uint32_t addr_width; /* 48 or 57 */
	uint64_t gpgd;	     /* 4 KiB aligned GPA */
	uint32_t hpasid;
	uint32_t gpasid; /* valid if has_gpasid */
	bool has_gpasid;
	uint64_t vtd_flags; /* NEST_VTD_* */
	uint32_t pat;
	uint32_t emt;
};

/*
 * PASID value of bind/bind_native/rebind/rebind_native/unbind that means the device's RID
 * (requests without PASID) instead of a PASID: stage 1 on the RID, nested over the VM's stage 2;
 * unbind puts the RID back on stage 2 alone (its state after device_attach). Backends that
 * cannot do it answer -EOPNOTSUPP (and do not announce NEST_FEAT_BIND_RID).
 */
#define NEST_BE_PASID_RID 0u

/* Sentinel for pasid_alloc/pasid_free in NEST_PASID_MODE_SYSTEM. */
#define NEST_BE_DEV_NONE UINT32_MAX

/* Debug translation result (sim). */
struct nest_be_xlate {
	uint64_t gpa;
	uint64_t page_size;
	bool cached; /* served from the IOTLB or device TLB */
};

/*
 * Asynchronous reports from the backend. @cookie is the nest_be_ctx_params.cookie of the VM the
 * device belongs to; reports for objects the backend cannot attribute to a context are dropped.
 * Faults and stale reports use the wire structs (reasons already mapped to enum
 * nest_fault_reason, dev_id VM-local); `size` is filled in.
 */
/*
 * A page request (I/O page fault) the IOMMU recorded for a VM's device (iommufd fault queue).
 * dev_id is VM-local, pasid the VM's own (valid with NEST_BE_PRQ_PASID_VALID), perm the
 * requested access (NEST_BE_PRQ_PERM_*: the iommufd IOMMU_PGFAULT_PERM_* bits), cookie what the
 * VMM echoes in its page response (the one of the last request of a group counts).
 */
enum {
	NEST_BE_PRQ_PASID_VALID = 1u << 0,
	NEST_BE_PRQ_LAST_PAGE = 1u << 1,
};
enum {
	NEST_BE_PRQ_PERM_READ = 1u << 0,
	NEST_BE_PRQ_PERM_WRITE = 1u << 1,
	NEST_BE_PRQ_PERM_EXEC = 1u << 2,
	NEST_BE_PRQ_PERM_PRIV = 1u << 3,
};
struct nest_be_page_request {
	uint32_t flags; /* NEST_BE_PRQ_* */
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm; /* NEST_BE_PRQ_PERM_* */
	uint32_t length;
	uint32_t cookie;
	uint64_t addr;
};

/* One record of a vIOMMU's event queue (vEVENTQ), for the VM's vIOMMU @viommu (VM-local id). */
enum {
	NEST_BE_VEVENT_LOST = 1u << 0, /* the queue overflowed: events were lost; no data */
};
#define NEST_BE_VEVENT_DATA_MAX 32
struct nest_be_vevent {
	uint32_t viommu;
	uint32_t flags; /* NEST_BE_VEVENT_* */
	uint32_t sequence;
	uint32_t len; /* bytes of data: the type's record (selftest: u32 virt_id; SMMUv3: 4 le64) */
	uint8_t data[NEST_BE_VEVENT_DATA_MAX];
};

struct nest_be_events {
	void (*fault)(void *opaque, void *cookie, const struct nest_ev_fault *f);
	void (*stale)(void *opaque, void *cookie, const struct nest_ev_stale *s);
	void (*device_gone)(void *opaque, void *cookie, uint32_t dev_id);
	/* optional: a page request for the VM of @cookie (iommufd fault queues) */
	void (*page_request)(void *opaque, void *cookie, const struct nest_be_page_request *pr);
	/* optional: a vEVENTQ record of one of the VM's vIOMMUs */
	void (*vevent)(void *opaque, void *cookie, const struct nest_be_vevent *ev);
};

struct nest_backend_ops {
	const char *name;

	/*
	 * probe() - 0 if this backend can run on this machine (device nodes present, uAPI answered
	 * the version/extension checks), else a negative errno with a one-line reason in @why.
	 * Must not issue an ioctl whose number means something else on other kernels
	 * (UAPI-FACTS.md §0), and leaves nothing behind. Optional (NULL: always usable).
	 */
	int (*probe)(const struct nest_backend_params *p, char *why, size_t len);

	/* open()/close(): create and destroy the backend. close() frees every remaining context. */
	int (*open)(const struct nest_backend_params *p, const struct nest_be_events *ev,
		    void *opaque, struct nest_backend **ret);
	void (*close)(struct nest_backend *be);

	void (*info)(struct nest_backend *be, struct nest_backend_info *ret);
	/*
	 * ctx_info() - the nesting info of one VM context once its devices are attached (kernel
	 * backends: what IOMMU_GET_HW_INFO / the type1 nesting capability report for the IOMMU
	 * units behind those devices, which may differ between VMs). Optional; NULL means info().
	 */
	int (*ctx_info)(struct nest_backend *be, struct nest_be_ctx *ctx,
			struct nest_backend_info *ret);

	/*
	 * get_fd() - an fd the event loop must poll for readability (e.g. an iommufd fault queue),
	 * or -1. The fd stays owned by the backend. When it is readable the daemon calls
	 * dispatch(), which reads what is pending and runs the event callbacks. Optional.
	 */
	int (*get_fd)(struct nest_backend *be);
	int (*dispatch)(struct nest_backend *be);

	/* Per-VM context. ctx_free() MUST NOT FAIL and releases everything still in it. */
	int (*ctx_new)(struct nest_backend *be, const struct nest_be_ctx_params *p,
		       struct nest_be_ctx **ret);
	void (*ctx_free)(struct nest_backend *be, struct nest_be_ctx *ctx);
	/*
	 * mem_acct_new() / mem_acct_free() / mem_acct_info(): an account of the memory the backend
	 * itself brings into existence in a VM's memory files (sim: the holes its DMA and page
	 * walks fill, charged to nestd). The daemon keeps one per VM for the VM's life and hands it
	 * to every ctx_new() of that VM, so detaching and attaching again does not reset it. An
	 * account is freed only when no context uses it. Optional, all three or none (NULL:
	 * nothing is materialised).
	 */
	int (*mem_acct_new)(struct nest_backend *be, struct nest_be_mem_acct **ret);
	void (*mem_acct_free)(struct nest_backend *be, struct nest_be_mem_acct *a);
	void (*mem_acct_info)(struct nest_backend *be, const struct nest_be_mem_acct *a,
			      struct nest_be_mem_acct_info *ret);

	/*
	 * map() - map [fd_offset, fd_offset + len) of @fd at GPA [gpa, gpa + len) in stage 2 with
	 * NEST_MEM_F_READ/WRITE @perms (iommufd IOAS_MAP_FILE style). @fd is borrowed: the backend
	 * mmap()s or dups it. The daemon has validated alignment, overlap, size and seals.
	 * unmap() removes exactly one earlier mapping (same gpa and len) and MUST NOT FAIL.
	 */
	int (*map)(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa, uint64_t len,
		   int fd, uint64_t fd_offset, uint32_t perms);
	void (*unmap)(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t gpa, uint64_t len);

	/*
	 * device_attach() - put a policy device under @ctx (open the VFIO device, attach it to the
	 * container / IOAS; sim: add it to the domain). On success *ret_fd is the device fd to hand
	 * to the VMM (owned by the caller from then on) or -1 when the backend has none (sim).
	 * device_detach() MUST NOT FAIL; it unbinds whatever is still bound on the device first.
	 */
	int (*device_attach)(struct nest_backend *be, struct nest_be_ctx *ctx,
			     const struct nest_be_dev *dev, int *ret_fd);
	void (*device_detach)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id);

	/*
	 * pasid_alloc() - allocate a host PASID in [min, max] for @ctx. @dev_id selects the
	 * device whose PASID space is used in per-device mode; NEST_BE_DEV_NONE (what nestd passes
	 * today) means the system-wide allocator, or in per-device mode a PASID that is free on
	 * every device of @ctx. -ENOSPC when none is free.
	 * pasid_free() MUST NOT FAIL; the daemon unbinds the PASID on every device before.
	 */
	int (*pasid_alloc)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			   uint32_t min, uint32_t max, uint32_t *ret_pasid);
	void (*pasid_free)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			   uint32_t pasid);

	/*
	 * bind() - install the guest stage-1 table @b on PASID b->hpasid of one device (the daemon
	 * loops over the VM's devices and rolls back with unbind() on failure). -EBUSY if already
	 * bound, -EINVAL / -EOPNOTSUPP for what the hardware refuses.
	 * unbind() MUST NOT FAIL (unbinding an unbound PASID is a no-op) and leaves no cached
	 * translation of (device, pasid) behind (PASID cache, IOTLB, device TLB), as the kernel's
	 * unbind does (PROTOCOL.md §8.10). A bind does not flush: the VMM invalidates.
	 */
	int (*bind)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		    const struct nest_be_bind *b);
	void (*unbind)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		       uint32_t pasid);

	/*
	 * bind_native() - like bind(), with the kernel's own nested HWPT data (@data_type, @len
	 * bytes at @data) instead of nestd's generic form. The backend validates the data for its
	 * type (size, reserved bits, flags: -EINVAL / -EOPNOTSUPP / -E2BIG for a non-zero tail past
	 * the kernel struct) before the kernel sees it. Undone by unbind(). Optional.
	 */
	int (*bind_native)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			   uint32_t hpasid, uint32_t data_type, const void *data, uint32_t len);
	/*
	 * rebind() / rebind_native() - replace what is bound on (@dev_id, hpasid) (hpasid
	 * NEST_BE_PASID_RID: the RID's stage 1) by a new table, atomically: the device's DMA is
	 * translated by the old table or the new one at every instant, never by none and never
	 * blocked (sim: one write of the PASID entry; iommufd: the new nested HWPT attached over
	 * the old one, which the kernel does as a replace, then the old one destroyed). -ENOENT if
	 * nothing is bound there; on any error the old binding stays as it was. Like bind(), no
	 * flush: the VMM invalidates. Optional (NULL: no NEST_FEAT_BIND_REPLACE).
	 */
	int (*rebind)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		      const struct nest_be_bind *b);
	int (*rebind_native)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			     uint32_t hpasid, uint32_t data_type, const void *data, uint32_t len);
	/*
	 * invalidate_native() - @n entries of @entry_len bytes in the kernel's own format
	 * (@data_type) on what (@dev_id, @hpasid) is bound to. Entries are validated in order; the
	 * valid prefix goes to the kernel in one call. *ret_done = entries done (the kernel's
	 * entry_num); returns 0 when all were, else the -errno of entry *ret_done. Optional.
	 */
	int (*invalidate_native)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				 uint32_t hpasid, uint32_t data_type, const void *entries,
				 uint32_t entry_len, uint32_t n, uint32_t *ret_done);

	/*
	 * invalidate_batch() - @n entries the daemon validated (nest_inv_entry_check(), PASID
	 * ownership) on one device, in as few kernel calls as the backend can (iommufd: one
	 * IOMMU_HWPT_INVALIDATE per nested HWPT). *ret_done = the leading entries done; 0 or the
	 * -errno of entry *ret_done (entries after it may have been done too: invalidating more is
	 * harmless). Optional: without it the daemon calls invalidate() entry by entry.
	 */
	int (*invalidate_batch)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				const struct nest_inv_entry *e, uint32_t n, uint32_t *ret_done);

	/* invalidate() - one validated entry on one device (see the note on must-not-fail above). */
	int (*invalidate)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			  const struct nest_inv_entry *e);

	/* ---- optional debug ops (NULL on kernel backends) ---- */

	/* Enable/disable the stale-translation checker of one context. */
	int (*set_checker)(struct nest_backend *be, struct nest_be_ctx *ctx, bool on);
	/*
	 * translate() - one translation as a 1-byte DMA of @access (NEST_ACCESS_*) would do it.
	 * 0 with *ret filled, or -EFAULT with *ret_fault filled (reason mapped to the wire enum);
	 * the fault callback runs as well.
	 */
	int (*translate)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			 uint32_t pasid, uint64_t addr, uint32_t access, struct nest_be_xlate *ret,
			 struct nest_ev_fault *ret_fault);
	/*
	 * dma() - move @len bytes to (NEST_ACCESS_WRITE) or from guest memory through
	 * (dev_id, pasid). *ret_done = bytes moved; on a fault -EFAULT with *ret_fault filled
	 * (*ret_done and *ret_fault are written on 0 and on -EFAULT).
	 */
	int (*dma)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
		   uint32_t pasid, uint64_t addr, void *buf, size_t len, uint32_t access,
		   size_t *ret_done, struct nest_ev_fault *ret_fault);
	/*
	 * last_error() - copy into @buf what the last failing op failed on, in one line (which
	 * ioctl, which object, errno and what it means here), for the daemon's log, and forget it;
	 * "" if nothing was recorded since the last call. Optional.
	 */
	void (*last_error)(struct nest_backend *be, char *buf, size_t len);
	/*
	 * vIOMMU objects (the Arm SMMUv3 nesting shape; the selftest mock on test kernels). Ids are
	 * VM-local. viommu_alloc() makes a vIOMMU of the kernel's @type on the stage-2 parent of
	 * device @dev_id (and its event queue where the type has one); viommu_free() MUST NOT
	 * FAIL and destroys its vDEVICEs and queue first (the daemon frees them on teardown).
	 * vdevice_alloc() gives device @dev_id the virtual id @virt_id on @viommu (unique per
	 * vIOMMU: -EEXIST). viommu_invalidate() is invalidate_native() addressed to a vIOMMU: every
	 * entry that names a virtual device must name one of this vIOMMU's (-ENOENT otherwise).
	 * All optional.
	 */
	int (*viommu_alloc)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			    uint32_t type, uint32_t *ret_viommu);
	void (*viommu_free)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t viommu);
	int (*vdevice_alloc)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t viommu,
			     uint32_t dev_id, uint64_t virt_id);
	int (*viommu_invalidate)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t viommu,
				 uint32_t data_type, const void *entries, uint32_t entry_len,
				 uint32_t n, uint32_t *ret_done);
	/*
	 * viommu_attach() - the Arm SMMUv3 shape of a stage-1 bind: a nested HWPT on vIOMMU
	 * @viommu with the kernel's own data (@data_type, @len bytes: the guest STE on SMMUv3,
	 * struct iommu_hwpt_selftest on the mock), attached to device @dev_id's RID in place of its
	 * stage-2 parent. The device needs a vDEVICE on @viommu first (-ENOENT otherwise), -EBUSY if
	 * it is attached already. viommu_detach() MUST NOT FAIL: the RID goes back to the parent
	 * and the HWPT is destroyed (also done by viommu_free() and on teardown). Optional.
	 */
	int (*viommu_attach)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t viommu,
			     uint32_t dev_id, uint32_t data_type, const void *data, uint32_t len);
	void (*viommu_detach)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t viommu,
			      uint32_t dev_id);
	/*
	 * vdevice_free() - DEVICE_PUT: device @dev_id leaves vIOMMU @viommu. Its RID goes back on its
	 * stage-2 parent if it was attached to a nested HWPT of @viommu (that HWPT destroyed, as
	 * viommu_detach() does), then its vDEVICE on @viommu is destroyed. The vIOMMU stays, also
	 * when it nests on this device's parent. 0 when done, -ENOENT when the device has no vDEVICE
	 * on @viommu (nothing done), or -errno when the kernel refused to put the RID back on its
	 * parent: then nothing changed (the RID is still on the nested HWPT, the vDEVICE is kept).
	 * Optional: without it the daemon uses viommu_detach() and the vDEVICE stays.
	 */
	int (*vdevice_free)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t viommu,
			    uint32_t dev_id);
	/* selftest mock only, for tests through the admin socket */
	int (*mock_trigger_vevent)(struct nest_backend *be, struct nest_be_ctx *ctx,
				   uint32_t dev_id);
	int (*mock_check_dev_cache)(struct nest_backend *be, struct nest_be_ctx *ctx,
				    uint32_t dev_id, uint32_t slot, uint32_t value);
	/*
	 * page_response() - answer the page request @cookie of @ctx's fault queue with @code
	 * (0 success, 1 invalid). -ENOENT if no request with that cookie is pending for this
	 * context (another VM's cookie is not), -EINVAL for another code. Requests still pending
	 * when the context is freed are answered "invalid" by the backend. Optional.
	 */
	int (*page_response)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t cookie,
			     uint32_t code);
	/*
	 * mock_trigger_iopf() - iommufd selftest mock only (tests, through the admin socket): make
	 * mock device @dev_id report a page request at (@pasid, @addr) with @perm and @grpid.
	 */
	int (*mock_trigger_iopf)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				 uint32_t pasid, uint32_t grpid, uint32_t perm, uint64_t addr);
	/*
	 * mock_check_iotlb() - iommufd selftest mock only: 0 if IOTLB slot @slot of the nested
	 * HWPT bound on (@dev_id, @pasid) holds @value, -EINVAL if it holds something else,
	 * -ENOENT if nothing is bound there, -EOPNOTSUPP on anything but a mock device.
	 */
	int (*mock_check_iotlb)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				uint32_t pasid, uint32_t slot, uint32_t value);
	/* counters() - a new JSON object of integer counters (for "stats"). Optional. */
	int (*counters)(struct nest_backend *be, struct json_object **ret);
	/*
	 * iova_info() - where map() can put guest memory (IOVA = GPA) for every device of @ctx
	 * together, and the IOMMU page sizes they all support (*ret_pgsizes, a bit per size).
	 * Fills up to @cap ranges, lowest first, and returns how many the backend knows (more
	 * than @cap: the rest is left out), or -errno. Optional: without it nestd reports its own
	 * limits (4 KiB pages, the whole page-aligned 64-bit space; the sim).
	 */
	int (*iova_info)(struct nest_backend *be, struct nest_be_ctx *ctx, uint64_t *ret_pgsizes,
			 struct nest_iova_range *ret_ranges, uint32_t cap);
	/*
	 * device_reset() - device @dev_id of @ctx goes back to its initial state through @fd, the
	 * fd device_attach() returned (DEVICE_PUT). Returns 1 when it was reset, 0 when the device
	 * has no reset of its own (nothing done), or -errno. Optional (the sim has nothing to reset).
	 */
	int (*device_reset)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
			    int fd);
	/*
	 * device_hot_reset() - PCI hot reset of device @dev_id of @ctx (@fd: its device fd), only
	 * if every device the reset touches is in one of @ctx's IOMMU groups: -EBUSY (naming the
	 * device) otherwise, -EOPNOTSUPP when the kernel cannot hot-reset it. Optional.
	 */
	int (*device_hot_reset)(struct nest_backend *be, struct nest_be_ctx *ctx, uint32_t dev_id,
				int fd);
};

/* ---- registry (backend.c) ---- */

/* The ops of a concrete backend, or NULL if it is not built in. */
const struct nest_backend_ops *nest_backend_lookup(enum nest_backend_choice c);

/*
 * nest_backend_select() - resolve @p->choice: a forced choice must be built in and probe OK
 * (-EOPNOTSUPP / the probe error otherwise). AUTO serves the configured devices: with no host
 * or mock device (p->n_host_pci == 0 && p->n_mock == 0) that is sim; otherwise the first kernel backend, in the order
 * iommufd, vfio-nesting, vfio-type1, whose probe says it can (-ENODEV if none can). @why gets
 * why this backend was chosen, or why none could be (every probe's reason).
 */
int nest_backend_select(const struct nest_backend_params *p,
			const struct nest_backend_ops **ret_ops, char *why, size_t len);

/* Short name of a choice ("auto", "sim", ...) and the reverse (-EINVAL). */
const char *nest_backend_choice_name(enum nest_backend_choice c);
int nest_backend_choice_parse(const char *s);

/* ---- helpers for backends (backend-util.c) ---- */

/* Write "<fmt>: ENAME (strerror)" into @buf (a backend's last_error text); returns -@err. */
int nest_be_vfail(char *buf, size_t len, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Make room for element @n of *@arr (capacity *@cap, @elem bytes each): doubles; -ENOMEM. */
int nest_be_grow(void **arr, unsigned *cap, unsigned n, size_t elem);

struct nest_be_counter {
	const char *name;
	uint64_t value;
};
/* A new JSON object of the @n counters (for counters()). */
int nest_be_counters_json(const struct nest_be_counter *vals, size_t n, struct json_object **ret);

/*
 * For iova_info(): the ranges both @a (@na of them) and @b (@nb) allow, sorted, into @out (room
 * for @cap). Returns how many there are (possibly more than @cap: the lowest @cap are written).
 * @out may be @a. The inputs need not be sorted.
 */
uint32_t nest_be_iova_intersect(const struct nest_iova_range *a, uint32_t na,
				const struct nest_iova_range *b, uint32_t nb,
				struct nest_iova_range *out, uint32_t cap);

/* The sim backend (backend-sim.c), the VFIO backends (vfio/) and iommufd (iommufd/). */
extern const struct nest_backend_ops nest_backend_sim_ops;
extern const struct nest_backend_ops nest_backend_iommufd_ops;
extern const struct nest_backend_ops nest_backend_vfio_type1_ops;
extern const struct nest_backend_ops nest_backend_vfio_nesting_ops;

#endif /* NEST_BACKEND_H */

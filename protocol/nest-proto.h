/* SPDX-License-Identifier: MIT */
/*
 * nest-proto.h - the nestd wire ABI (header only, no dependencies but libc).
 *
 * This header is the single definition of every message that crosses the nestd sockets. It is
 * shared by nestd, libnest and nestctl and is installed so that a VMM may speak the protocol
 * without libnest. docs/PROTOCOL.md is the normative prose; the two must agree.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, one message per datagram, fds in SCM_RIGHTS on the message
 * they belong to. Byte order: host (both ends run on one machine). Every struct uses natural
 * alignment, names its padding and has static asserts on size and offsets at the bottom.
 *
 * Extension rules (iommufd style): every request/reply body starts with a u32 `size` that is
 * sizeof() as the sender compiled it. A receiver that knows a bigger struct zero-extends a shorter
 * one (down to the op's minimum size); a longer one is accepted only if every byte past the
 * receiver's struct is zero (E2BIG otherwise). Unknown flag bits or non-zero __reserved fields are
 * EOPNOTSUPP. Arrays follow the fixed struct at offset `size` and must fill the rest of the body
 * exactly.
 */
#ifndef NEST_PROTO_H
#define NEST_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NEST_PROTO_MAJOR 1
#define NEST_PROTO_MINOR                                                                           \
	2 /* 1.1: native ops, IOPF, vIOMMU; 1.2: bind on one device, on a RID, replace */

/* -------------------------------------------------------------------------------------------- */
/* Limits. The hard maximum is what a peer may ever announce; the default is what nestd uses.   */

#define NEST_MSG_SIZE_MIN     4096u	     /* a peer may not announce less */
#define NEST_MSG_SIZE_DEFAULT (64u * 1024)   /* max message (header + body) */
#define NEST_MSG_SIZE_MAX     (1024u * 1024) /* absolute cap */
#define NEST_FDS_PER_MSG_MAX  4u	     /* max SCM_RIGHTS fds on one message */
#define NEST_BATCH_DEFAULT    256u	     /* max invalidate entries per request */
#define NEST_BATCH_MAX	      1024u
#define NEST_INFLIGHT_DEFAULT 64u /* max requests without a reply yet */
#define NEST_INFLIGHT_MAX     1024u
#define NEST_CAPS_LEN_MAX     4096u	       /* JSON capability document incl. NUL */
#define NEST_JSON_LEN_MAX     (60u * 1024)     /* any other JSON payload incl. NUL */
#define NEST_VM_NAME_MAX      64u	       /* incl. NUL */
#define NEST_DEVICE_NAME_MAX  32u	       /* incl. NUL */
#define NEST_DMA_LEN_MAX      (32u * 1024)     /* sim debug DMA bytes per request */
#define NEST_PASID_MAX	      ((1u << 20) - 1) /* PASID 0 is never allocated */
#define NEST_NATIVE_DATA_MAX  256u /* BIND_NATIVE: bytes of kernel HWPT data (1 .. this) */
#define NEST_NATIVE_ENTRY_MIN 4u   /* INVALIDATE_NATIVE: bytes per kernel entry (min .. max) */
#define NEST_NATIVE_ENTRY_MAX 64u
#define NEST_VIOMMUS_PER_VM_MAX                                                                    \
	8u			 /* VIOMMU_ALLOC: live vIOMMUs of one VM (the iommufd backend's) */
#define NEST_VEVENT_DATA_MAX 32u /* EV_VEVENT: bytes of one vEVENT record (0 .. this) */
#define NEST_IOVA_RANGES_MAX 6u	 /* VM_IOVA_INFO: IOVA ranges in one reply */

/* -------------------------------------------------------------------------------------------- */
/* Message header                                                                               */

enum {
	NEST_MSG_F_REQUEST = 1u << 0,
	NEST_MSG_F_REPLY = 1u << 1,
	NEST_MSG_F_EVENT = 1u << 2,
	NEST_MSG_F_ERROR = 1u << 3, /* only with REPLY; `error` holds a positive errno */
	NEST_MSG_F_VALID = (1u << 4) - 1,
	NEST_MSG_F_TYPE_MASK = NEST_MSG_F_REQUEST | NEST_MSG_F_REPLY | NEST_MSG_F_EVENT,
};

struct nest_msg_hdr {
	uint32_t size;	/* whole message: header + body, bytes */
	uint16_t op;	/* enum nest_op */
	uint16_t flags; /* exactly one of REQUEST/REPLY/EVENT, plus ERROR on replies */
	uint32_t id;	/* request id chosen by the client; echoed in the reply; 0 in events */
	int32_t error;	/* positive errno with NEST_MSG_F_ERROR, else 0 */
};

/* -------------------------------------------------------------------------------------------- */
/* Operations                                                                                   */

enum nest_op {
	NEST_OP_INVALID = 0,
	/* VM socket and admin socket */
	NEST_OP_HELLO = 1,
	/* VM socket */
	NEST_OP_VM_ATTACH = 2,
	NEST_OP_VM_DETACH = 3,
	NEST_OP_MEM_ADD = 4,
	NEST_OP_MEM_REMOVE = 5,
	NEST_OP_DEVICE_GET = 6,
	NEST_OP_PASID_ALLOC = 7,
	NEST_OP_PASID_FREE = 8,
	NEST_OP_BIND = 9,
	NEST_OP_UNBIND = 10,
	NEST_OP_INVALIDATE = 11,
	NEST_OP_SIM_DMA = 12, /* sim backend only; debug */
	/* admin socket */
	NEST_OP_ADMIN = 13, /* JSON request, JSON reply */
	/* VM socket, protocol 1.1: the kernel's own nesting data (NEST_FEAT_NATIVE) */
	NEST_OP_BIND_NATIVE = 14,
	NEST_OP_INVALIDATE_NATIVE = 15,
	/* VM socket, protocol 1.1: the answer to NEST_EV_PAGE_REQUEST (NEST_FEAT_PAGE_REQUESTS) */
	NEST_OP_PAGE_RESPONSE = 16,
	/* VM socket, protocol 1.1: vIOMMU objects (NEST_FEAT_VIOMMU, the Arm SMMUv3 nesting shape) */
	NEST_OP_VIOMMU_ALLOC = 17,
	NEST_OP_VIOMMU_FREE = 18,
	NEST_OP_VDEVICE_ALLOC = 19,
	NEST_OP_VIOMMU_INVALIDATE = 20,
	NEST_OP_VIOMMU_ATTACH = 21, /* a nested HWPT on a vIOMMU attached to a device's RID */
	NEST_OP_VIOMMU_DETACH = 22,
	/* VM socket: the IOVA ranges and page sizes of the VM's stage 2 (a nestd without it: ENOTTY) */
	NEST_OP_VM_IOVA_INFO = 23,
	/* VM socket: give a device back to nestd (reset), so that DEVICE_GET hands it out afresh */
	NEST_OP_DEVICE_PUT = 24,
	/* VM socket: PCI hot (bus) reset of a device, only when it touches no other VM's device */
	NEST_OP_DEVICE_HOT_RESET = 25,
	/* events, nestd -> client, flags = NEST_MSG_F_EVENT */
	NEST_EV_FAULT = 32,
	NEST_EV_DEVICE_GONE = 33,
	NEST_EV_SHUTDOWN = 34,
	NEST_EV_STALE = 35,	   /* sim checker: a cache served a stale translation */
	NEST_EV_PAGE_REQUEST = 36, /* 1.1: an I/O page request (IOPF) of a device of the VM */
	NEST_EV_VEVENT = 37,	   /* 1.1: a record of one of the VM's vIOMMU event queues */
	NEST_EV_UNBOUND = 38,	   /* 1.2: nestd unbound a PASID on a device (a failed REPLACE) */
	NEST_OP_MAX = 39,
};

/* -------------------------------------------------------------------------------------------- */
/* HELLO: the first request on every connection, in both directions of the reply.              */
/* Body: struct nest_hello, then caps_len bytes of JSON (NUL-terminated, NUL counted).          */

struct nest_hello {
	uint32_t size;
	uint16_t major; /* NEST_PROTO_MAJOR; a different major is EPROTO */
	uint16_t minor;
	uint32_t caps_len; /* bytes of the JSON capability document that follows, incl. NUL */
	uint32_t __reserved;
};

/* -------------------------------------------------------------------------------------------- */
/* VM_ATTACH: bind this connection to a VM named in the daemon's policy.                        */

enum {
	NEST_ATTACH_F_CHECKER = 1u << 0, /* sim: enable stale-translation checker for this VM */
	NEST_ATTACH_F_VALID = (1u << 1) - 1,
};

struct nest_vm_attach {
	uint32_t size;
	uint32_t flags;		     /* NEST_ATTACH_F_* */
	char name[NEST_VM_NAME_MAX]; /* NUL-terminated within the array, [A-Za-z0-9_.-]+ */
};

enum nest_backend_kind {
	NEST_BACKEND_SIM = 1,
	NEST_BACKEND_VFIO_TYPE1 = 2,
	NEST_BACKEND_VFIO_NESTING = 3,
	NEST_BACKEND_IOMMUFD = 4,
};

enum {
	NEST_FORMAT_VTD_FL = 1u << 0, /* Intel VT-d first-level (x86-64 paging) */
};

enum {
	NEST_ADDR_WIDTH_48 = 1u << 0, /* 4-level */
	NEST_ADDR_WIDTH_57 = 1u << 1, /* 5-level */
};

enum nest_pasid_mode {
	NEST_PASID_MODE_SYSTEM = 1, /* system-wide PASIDs, allocated through nestd (VT-d/ENQCMD) */
	NEST_PASID_MODE_PER_DEVICE = 2, /* per-RID PASIDs (iommufd) */
};

enum {
	NEST_FEAT_BIND_PGTBL = 1u << 0,
	NEST_FEAT_CACHE_INVLD = 1u << 1,
	NEST_FEAT_SYSWIDE_PASID = 1u << 2,
	NEST_FEAT_SIM_DMA = 1u << 3,
	NEST_FEAT_FAULT_EVENTS = 1u << 4,
	NEST_FEAT_CHECKER = 1u << 5,
	NEST_FEAT_NATIVE = 1u << 6, /* BIND_NATIVE / INVALIDATE_NATIVE (kernel formats, iommufd) */
	NEST_FEAT_PAGE_REQUESTS = 1u << 7, /* 1.1: EV_PAGE_REQUEST / PAGE_RESPONSE (iommufd IOPF) */
	NEST_FEAT_VIOMMU =
		1u << 8, /* 1.1: VIOMMU_ALLOC .. VIOMMU_INVALIDATE, EV_VEVENT (iommufd) */
	/* 1.2: BIND / BIND_NATIVE / UNBIND with NEST_BIND_F_DEVICE (a subset of the devices) */
	NEST_FEAT_BIND_DEVICE = 1u << 9,
	NEST_FEAT_BIND_RID = 1u << 10,	   /* 1.2: NEST_BIND_F_RID: stage 1 on a device's RID */
	NEST_FEAT_BIND_REPLACE = 1u << 11, /* 1.2: NEST_BIND_F_REPLACE: atomic replace */
	NEST_FEAT_VALID = (1u << 12) - 1,
};

/*
 * Reply body of VM_ATTACH. nestd sends all 112 bytes only to clients whose HELLO said minor >= 1;
 * a minor-0 client gets the 72-byte 1.0 prefix (NEST_VM_INFO_SIZE_1_0), without the 1.1 feature
 * bits (NEST_FEAT_NATIVE, NEST_FEAT_PAGE_REQUESTS, NEST_FEAT_VIOMMU) in features. A receiver
 * zero-extends the shorter form: the native and vIOMMU types then read as 0.
 */
struct nest_vm_info {
	uint32_t size;
	uint32_t flags;	      /* reserved, 0 */
	uint32_t backend;     /* enum nest_backend_kind */
	uint32_t formats;     /* NEST_FORMAT_* */
	uint32_t addr_widths; /* NEST_ADDR_WIDTH_* */
	uint32_t features;    /* NEST_FEAT_* */
	uint16_t pasid_bits;  /* 0: no PASID support */
	uint16_t pasid_mode;  /* enum nest_pasid_mode */
	uint32_t num_devices; /* devices the policy gives this VM */
	uint32_t pasid_quota;
	uint32_t max_regions;
	uint64_t mem_limit; /* bytes of guest RAM that may be registered */
	uint64_t cap_reg;   /* vendor capability registers (VT-d CAP / ECAP) */
	uint64_t ecap_reg;
	uint32_t reattached; /* 1: the VM was held in its grace period and state was kept */
	uint32_t __reserved;
	/* 1.1: the kernel's native nesting formats (iommufd), meaningful with NEST_FEAT_NATIVE */
	uint32_t hw_info_type;	 /* IOMMU_HW_INFO_TYPE_* of the VM's IOMMU */
	uint32_t hwpt_data_type; /* enum iommu_hwpt_data_type BIND_NATIVE takes */
	uint32_t inv_data_type;	 /* enum iommu_hwpt_invalidate_data_type INVALIDATE_NATIVE takes */
	uint32_t inv_entry_len;	 /* the kernel's size of one such entry */
	/* 1.1: vIOMMU objects (iommufd), meaningful with NEST_FEAT_VIOMMU */
	uint32_t viommu_type;	       /* enum iommu_viommu_type VIOMMU_ALLOC takes */
	uint32_t viommu_inv_data_type; /* enum iommu_hwpt_invalidate_data_type VIOMMU_INVALIDATE */
	uint32_t viommu_inv_entry_len; /* the kernel's size of one such entry */
	uint32_t vevent_type;	       /* enum iommu_veventq_type of the EV_VEVENT records */
	uint32_t vevent_len;	       /* bytes of one record (EV_VEVENT data_len, <= 32) */
	uint32_t __reserved2;	       /* 0; pads to the struct's 8-byte alignment */
};
#define NEST_VM_INFO_SIZE_1_0 72u /* struct nest_vm_info as protocol 1.0 defines it */

/* VM_DETACH: release the VM (full teardown unless KEEP is set and the VM has a grace period). */
enum {
	NEST_DETACH_F_KEEP = 1u << 0, /* hold the VM's state for its grace period */
	NEST_DETACH_F_VALID = (1u << 1) - 1,
};

struct nest_vm_detach {
	uint32_t size;
	uint32_t flags;
};

/* -------------------------------------------------------------------------------------------- */
/* MEM_ADD / MEM_REMOVE: guest RAM regions (stage 2). MEM_ADD carries exactly one fd: a memfd   */
/* (or regular file) sealed with F_SEAL_SHRINK.                                                 */

enum {
	NEST_MEM_F_READ = 1u << 0,
	NEST_MEM_F_WRITE = 1u << 1,
	NEST_MEM_F_VALID = (1u << 2) - 1,
};

struct nest_mem_add {
	uint32_t size;
	uint32_t flags;	    /* NEST_MEM_F_*; at least READ */
	uint64_t gpa;	    /* page aligned */
	uint64_t len;	    /* page aligned, > 0 */
	uint64_t fd_offset; /* page aligned */
};

/* MEM_REMOVE flags; without any, gpa/len must match one region exactly. */
enum {
	/* every region lying inside [gpa, gpa + len) (none: success); one only partly inside: EINVAL */
	NEST_MEM_REMOVE_F_COVERED = 1u << 0,
	NEST_MEM_REMOVE_F_ALL = 1u << 1, /* every region of the VM; gpa and len must be 0 */
	NEST_MEM_REMOVE_F_VALID = (1u << 2) - 1,
};

struct nest_mem_remove {
	uint32_t size;
	uint32_t flags; /* NEST_MEM_REMOVE_F_* */
	uint64_t gpa;	/* must match a region exactly, unless a flag says otherwise */
	uint64_t len;
};

/* -------------------------------------------------------------------------------------------- */
/* DEVICE_GET: ask for a device of the VM's policy. The reply may carry its fd (kernel backends; */
/* NEST_DEVICE_F_HAS_FD); the sim backend returns the description only, never a stand-in fd.    */

struct nest_device_get {
	uint32_t size;
	uint32_t flags;	 /* 0 */
	uint32_t dev_id; /* the id the policy gives the device within this VM */
	uint32_t __reserved;
};

/* DEVICE_PUT: the VMM gives back a device it got (it closes its own fd of it). */
struct nest_device_put {
	uint32_t size;
	uint32_t flags;	 /* 0 */
	uint32_t dev_id; /* a device of the VM that DEVICE_GET handed out */
	uint32_t __reserved;
};

/* DEVICE_HOT_RESET: reset the bus / slot of a device of the VM (VFIO_DEVICE_PCI_HOT_RESET). */
struct nest_device_hot_reset {
	uint32_t size;
	uint32_t flags;	 /* 0 */
	uint32_t dev_id; /* a device of the VM */
	uint32_t __reserved;
};

enum {
	NEST_DEVICE_F_HAS_FD = 1u << 0,
	NEST_DEVICE_F_ATS = 1u << 1,
	NEST_DEVICE_F_VALID = (1u << 2) - 1,
};

struct nest_device_info {
	uint32_t size;
	uint32_t flags; /* NEST_DEVICE_F_* */
	uint32_t dev_id;
	uint32_t pasid_bits;
	char name[NEST_DEVICE_NAME_MAX];
};

/* -------------------------------------------------------------------------------------------- */
/* PASID_ALLOC / PASID_FREE                                                                     */

enum {
	NEST_PASID_F_GPASID = 1u << 0, /* record gpasid -> allocated host PASID */
	NEST_PASID_ALLOC_F_VALID = (1u << 1) - 1,
};

struct nest_pasid_alloc {
	uint32_t size;
	uint32_t flags; /* NEST_PASID_F_* */
	uint32_t min;	/* inclusive; 1 <= min <= max <= NEST_PASID_MAX */
	uint32_t max;
	uint32_t gpasid; /* with NEST_PASID_F_GPASID */
	uint32_t __reserved;
};

struct nest_pasid_reply {
	uint32_t size;
	uint32_t pasid; /* ALLOC: the host PASID; FREE: number of PASIDs freed */
};

struct nest_pasid_free {
	uint32_t size;
	uint32_t flags; /* 0 */
	uint32_t min;	/* frees every PASID this VM owns in [min, max]; bound ones are unbound */
	uint32_t max;
};

/* -------------------------------------------------------------------------------------------- */
/* BIND / UNBIND a guest stage-1 page table on a host PASID, on every device of the VM, or     */
/* (1.2) on one device (DEVICE), on a device's RID without PASID (RID), or in place (REPLACE). */

enum {
	NEST_BIND_F_GPASID = 1u << 0,  /* gpasid is valid */
	NEST_BIND_F_DEVICE = 1u << 1,  /* 1.2: only on device dev_id (NEST_FEAT_BIND_DEVICE) */
	NEST_BIND_F_RID = 1u << 2,     /* 1.2: on dev_id's RID; hpasid 0, with DEVICE (BIND_RID) */
	NEST_BIND_F_REPLACE = 1u << 3, /* 1.2: swap a binding, never untranslated (BIND_REPLACE) */
	NEST_BIND_F_VALID = (1u << 4) - 1,
	/* BIND_NATIVE takes the same bits but GPASID */
	NEST_BIND_NATIVE_F_VALID = NEST_BIND_F_DEVICE | NEST_BIND_F_RID | NEST_BIND_F_REPLACE,
	/* UNBIND: DEVICE (one device) and RID (the device's RID) */
	NEST_UNBIND_F_VALID = NEST_BIND_F_DEVICE | NEST_BIND_F_RID,
};

enum nest_bind_format {
	NEST_BIND_FMT_VTD_FL = 1, /* VT-d first level == x86-64 long mode paging */
};

/* VT-d PASID-entry flags (values of the VFIO nesting uAPI, IOMMU_SVA_VTD_GPASID_*) */
enum {
	NEST_VTD_SRE = 1u << 0,	 /* supervisor requests enable */
	NEST_VTD_EAFE = 1u << 1, /* extended access flag enable */
	NEST_VTD_PCD = 1u << 2,	 /* page-level cache disable */
	NEST_VTD_PWT = 1u << 3,	 /* page-level write through */
	NEST_VTD_EMTE = 1u << 4, /* extended memory type enable */
	NEST_VTD_CD = 1u << 5,	 /* PASID-level cache disable */
	NEST_VTD_WPE = 1u << 6,	 /* write protect enable */
	NEST_VTD_VALID = (1u << 7) - 1,
	NEST_VTD_MTS_MASK = NEST_VTD_CD | NEST_VTD_EMTE | NEST_VTD_PCD | NEST_VTD_PWT,
};

struct nest_bind {
	uint32_t size;
	uint32_t flags;	     /* NEST_BIND_F_* */
	uint32_t format;     /* enum nest_bind_format */
	uint32_t addr_width; /* 48 or 57 */
	uint64_t gpgd;	     /* GPA of the guest's top-level table, 4 KiB aligned */
	uint32_t hpasid;     /* host PASID owned by this VM */
	uint32_t gpasid;     /* with NEST_BIND_F_GPASID */
	uint64_t vtd_flags;  /* NEST_VTD_* */
	uint32_t pat;	     /* with EMTE */
	uint32_t emt;
	uint32_t dev_id; /* 1.2: with NEST_BIND_F_DEVICE, else 0 */
	uint32_t __reserved;
};

struct nest_unbind {
	uint32_t size;
	uint32_t flags;	 /* NEST_UNBIND_F_VALID bits */
	uint32_t hpasid; /* 0 with NEST_BIND_F_RID */
	uint32_t dev_id; /* 1.2: with NEST_BIND_F_DEVICE, else 0 (was __reserved) */
};

/* -------------------------------------------------------------------------------------------- */
/* INVALIDATE: a batch. Body = struct nest_invalidate, then entry_num entries of entry_len      */
/* bytes each (entry_len >= NEST_INV_ENTRY_MIN; longer entries must have a zero tail).          */

enum {
	NEST_CACHE_IOTLB = 1u << 0,
	NEST_CACHE_DEV_IOTLB = 1u << 1,
	NEST_CACHE_PASID = 1u << 2,
	NEST_CACHE_VALID = (1u << 3) - 1,
};

enum nest_inv_granu {
	NEST_INV_GRANU_DOMAIN = 0,
	NEST_INV_GRANU_PASID = 1,
	NEST_INV_GRANU_ADDR = 2,
	NEST_INV_GRANU_MAX = 3,
};

enum {
	NEST_INV_F_LEAF = 1u << 0, /* ADDR only: only leaf entries changed */
	NEST_INV_F_VALID = (1u << 1) - 1,
};

struct nest_inv_entry {
	uint8_t cache;	     /* NEST_CACHE_* mask, non-zero */
	uint8_t granularity; /* enum nest_inv_granu */
	uint16_t __reserved;
	uint32_t flags; /* NEST_INV_F_* */
	uint32_t pasid; /* host PASID; PASID and ADDR granularity */
	uint32_t __reserved2;
	uint64_t addr;	       /* ADDR: aligned to granule_size */
	uint64_t granule_size; /* ADDR: power of two >= 4096 */
	uint64_t nb_granules;  /* ADDR: >= 1 */
};
#define NEST_INV_ENTRY_MIN sizeof(struct nest_inv_entry)

enum {
	NEST_INVALIDATE_F_VALID = 0,
};

struct nest_invalidate {
	uint32_t size;
	uint32_t flags; /* 0 */
	uint32_t entry_len;
	uint32_t entry_num; /* 1 .. negotiated max batch */
};

/* Reply to INVALIDATE: always a success reply carrying this, unless the request itself was bad. */
struct nest_invalidate_reply {
	uint32_t size;
	uint32_t done;	     /* entries processed successfully, in order */
	int32_t first_error; /* positive errno of entry `done`, 0 if all done */
	uint32_t __reserved;
};

/* -------------------------------------------------------------------------------------------- */
/* BIND_NATIVE / INVALIDATE_NATIVE (1.1, NEST_FEAT_NATIVE): the kernel's own nesting data       */
/* (iommufd), passed through unchanged. The types and the entry size come from VM_ATTACH        */
/* (hwpt_data_type, inv_data_type, inv_entry_len); the backend checks the bytes for their type. */
/* UNBIND undoes a native bind.                                                                 */

/*
 * Body = struct nest_bind_native, then exactly data_len bytes (1 .. NEST_NATIVE_DATA_MAX), e.g.
 * struct iommu_hwpt_vtd_s1 (IOMMU_HWPT_DATA_VTD_S1, 24 bytes).
 */
struct nest_bind_native {
	uint32_t size;
	uint32_t flags;	    /* NEST_BIND_NATIVE_F_VALID bits (1.2), else 0 */
	uint32_t hpasid;    /* host PASID owned by this VM, not bound (0 with NEST_BIND_F_RID) */
	uint32_t data_type; /* == nest_vm_info.hwpt_data_type */
	uint32_t data_len;  /* bytes of data after the struct */
	uint32_t dev_id;    /* 1.2: with NEST_BIND_F_DEVICE, else 0 (was __reserved) */
};

/*
 * Body = struct nest_invalidate_native, then entry_num entries of entry_len bytes each
 * (NEST_NATIVE_ENTRY_MIN .. NEST_NATIVE_ENTRY_MAX), e.g. struct iommu_hwpt_vtd_s1_invalidate
 * (IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 24 bytes). Reply: struct nest_invalidate_reply.
 */
enum {
	/* 1.2: hpasid 0: the batch goes to every device whose RID has a native stage-1 binding */
	NEST_INV_NATIVE_F_RID = 1u << 0,
	NEST_INV_NATIVE_F_VALID = (1u << 1) - 1,
};

struct nest_invalidate_native {
	uint32_t size;
	uint32_t flags;	    /* NEST_INV_NATIVE_F_* */
	uint32_t entry_len; /* same offsets as struct nest_invalidate */
	uint32_t entry_num; /* 1 .. negotiated max batch */
	uint32_t hpasid;    /* host PASID owned by this VM, bound */
	uint32_t data_type; /* == nest_vm_info.inv_data_type */
};

/* -------------------------------------------------------------------------------------------- */
/* PAGE_RESPONSE (1.1, NEST_FEAT_PAGE_REQUESTS): the VMM's answer to a NEST_EV_PAGE_REQUEST,    */
/* for the group that the request with this cookie ended (NEST_PRQ_F_LAST_PAGE). Reply: empty.  */

enum nest_page_resp_code {
	NEST_PAGE_RESP_SUCCESS = 0, /* the page is there now: the device retries the access */
	NEST_PAGE_RESP_INVALID = 1, /* it will not be: the device gets a failed translation */
};

enum {
	NEST_PAGE_RESP_F_VALID = 0,
};

struct nest_page_response {
	uint32_t size;
	uint32_t flags;	 /* 0 */
	uint32_t cookie; /* nest_ev_page_request.cookie of the group's last request */
	uint32_t code;	 /* enum nest_page_resp_code */
};

/* -------------------------------------------------------------------------------------------- */
/* vIOMMU objects (1.1, NEST_FEAT_VIOMMU): the kernel's vIOMMU (iommufd IOMMU_VIOMMU_ALLOC) on   */
/* the stage-2 parent of one of the VM's devices, virtual device ids on it (vDEVICE), cache     */
/* invalidations addressed to it, and its event queue (EV_VEVENT). The type, the invalidation   */
/* data type and entry size and the event record come from VM_ATTACH. vIOMMU ids are VM-local;  */
/* at most NEST_VIOMMUS_PER_VM_MAX live at once. A vIOMMU goes with VIOMMU_FREE, with the       */
/* device it was allocated on, and with the VM's teardown; a vDEVICE has no free op: it goes    */
/* with its vIOMMU or its device.                                                               */

enum {
	NEST_VIOMMU_F_VALID = 0,
};

struct nest_viommu_alloc {
	uint32_t size;
	uint32_t flags;	 /* 0 */
	uint32_t dev_id; /* device of this VM whose stage-2 parent the vIOMMU nests on */
	uint32_t type;	 /* == nest_vm_info.viommu_type */
};

/* Reply to VIOMMU_ALLOC. */
struct nest_viommu_reply {
	uint32_t size;
	uint32_t viommu_id; /* VM-local, never 0 */
};

struct nest_viommu_free {
	uint32_t size;
	uint32_t flags; /* 0 */
	uint32_t viommu_id;
	uint32_t __reserved;
};

/* VDEVICE_ALLOC: device dev_id is virt_id (e.g. the guest's SMMUv3 StreamID) on the vIOMMU. */
struct nest_vdevice_alloc {
	uint32_t size;
	uint32_t flags; /* 0 */
	uint32_t viommu_id;
	uint32_t dev_id;
	uint64_t virt_id; /* unique per vIOMMU */
};

/*
 * Body = struct nest_viommu_invalidate, then entry_num entries of entry_len bytes each
 * (NEST_NATIVE_ENTRY_MIN .. NEST_NATIVE_ENTRY_MAX), e.g. struct iommu_viommu_arm_smmuv3_invalidate
 * (IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 16 bytes: one CMDQ command). Reply: struct
 * nest_invalidate_reply.
 */
struct nest_viommu_invalidate {
	uint32_t size;
	uint32_t flags;	    /* 0 */
	uint32_t entry_len; /* same offsets as struct nest_invalidate */
	uint32_t entry_num; /* 1 .. negotiated max batch */
	uint32_t viommu_id; /* of this VM */
	uint32_t data_type; /* == nest_vm_info.viommu_inv_data_type */
};

/*
 * VIOMMU_ATTACH: the Arm SMMUv3 shape of a stage-1 bind. Body = struct nest_viommu_attach, then
 * exactly data_len bytes (1 .. NEST_NATIVE_DATA_MAX) of the kernel's own HWPT data of type
 * data_type (== nest_vm_info.hwpt_data_type, as BIND_NATIVE: the guest STE on SMMUv3, struct
 * iommu_hwpt_selftest on the selftest mock): a nested HWPT on the vIOMMU, attached to the
 * device's RID in place of its stage-2 parent. The device needs a vDEVICE on that vIOMMU first.
 * No reply body. VIOMMU_DETACH puts the RID back on the parent and destroys the HWPT;
 * VIOMMU_FREE and the VM's teardown detach first.
 */
struct nest_viommu_attach {
	uint32_t size;
	uint32_t flags; /* 0 */
	uint32_t viommu_id;
	uint32_t dev_id;
	uint32_t data_type; /* == nest_vm_info.hwpt_data_type */
	uint32_t data_len;  /* bytes of data after the struct */
};

struct nest_viommu_detach {
	uint32_t size;
	uint32_t flags; /* 0 */
	uint32_t viommu_id;
	uint32_t dev_id;
};

/* -------------------------------------------------------------------------------------------- */
/* VM_IOVA_INFO: where MEM_ADD may place guest memory (IOVA = GPA) and in which page sizes: what  */
/* VFIO_IOMMU_GET_INFO / IOMMU_IOAS_IOVA_RANGES say for every device of the VM together.         */

struct nest_vm_iova_info_req {
	uint32_t size;
	uint32_t flags; /* 0 */
};

struct nest_iova_range {
	uint64_t start;
	uint64_t last; /* inclusive */
};

enum {
	/* the backend knows more ranges than fit: the NEST_IOVA_RANGES_MAX lowest are listed */
	NEST_IOVA_F_TRUNCATED = 1u << 0,
	NEST_IOVA_F_VALID = (1u << 1) - 1,
};

struct nest_vm_iova_info {
	uint32_t size;
	uint32_t flags;	     /* NEST_IOVA_F_* */
	uint64_t pgsizes;    /* bit n set: pages of 2^n bytes; MEM_ADD aligns to the smallest */
	uint32_t num_ranges; /* valid entries of ranges, 1 .. NEST_IOVA_RANGES_MAX, sorted */
	uint32_t __reserved;
	struct nest_iova_range ranges[NEST_IOVA_RANGES_MAX];
};

/* -------------------------------------------------------------------------------------------- */
/* SIM_DMA (sim backend only): a device DMA at (dev_id, pasid, addr). WRITE carries `len` bytes  */
/* after the struct; a read reply carries the bytes read after the reply struct.                */

enum {
	NEST_DMA_F_WRITE = 1u << 0,
	NEST_DMA_F_EXEC = 1u << 1,
	NEST_DMA_F_PRIV = 1u << 2, /* supervisor request */
	NEST_DMA_F_VALID = (1u << 3) - 1,
};

struct nest_sim_dma {
	uint32_t size;
	uint32_t flags; /* NEST_DMA_F_* */
	uint32_t dev_id;
	uint32_t pasid;
	uint64_t addr; /* guest virtual address */
	uint32_t len;  /* 1 .. NEST_DMA_LEN_MAX */
	uint32_t __reserved;
};

struct nest_sim_dma_reply {
	uint32_t size;
	uint32_t done;	       /* bytes moved before a fault, == len on success */
	uint32_t fault_reason; /* enum nest_fault_reason, 0 if none */
	uint32_t __reserved;
	uint64_t fault_addr;
};

/* -------------------------------------------------------------------------------------------- */
/* ADMIN (admin socket only): body = NUL-terminated JSON (size counts the NUL), same for reply.  */
/* The JSON commands are described in docs/PROTOCOL.md §Admin.                                   */

/* -------------------------------------------------------------------------------------------- */
/* Events                                                                                       */

enum nest_fault_reason {
	NEST_FAULT_NONE = 0,
	NEST_FAULT_PASID_NOT_PRESENT = 1, /* no PASID-table entry (not bound) */
	NEST_FAULT_PASID_RANGE = 2,	  /* PASID beyond the device's PASID width */
	NEST_FAULT_PTE_NOT_PRESENT = 3,
	NEST_FAULT_RESERVED_BIT = 4,
	NEST_FAULT_READ = 5,
	NEST_FAULT_WRITE = 6,
	NEST_FAULT_EXEC = 7,
	NEST_FAULT_USER = 8,	   /* user request to a supervisor-only page */
	NEST_FAULT_SUPERVISOR = 9, /* supervisor request without SRE */
	NEST_FAULT_NON_CANONICAL = 10,
	NEST_FAULT_S2_MISS = 11, /* GPA (table or final) outside stage 2 */
	NEST_FAULT_S2_PERM = 12,
	NEST_FAULT_MAX = 13,
};

enum {
	NEST_ACCESS_READ = 1u << 0,
	NEST_ACCESS_WRITE = 1u << 1,
	NEST_ACCESS_EXEC = 1u << 2,
	NEST_ACCESS_PRIV = 1u << 3,
};

struct nest_ev_fault {
	uint32_t size;
	uint32_t reason; /* enum nest_fault_reason */
	uint32_t dev_id;
	uint32_t pasid;
	uint64_t addr;
	uint32_t access; /* NEST_ACCESS_* */
	uint32_t __reserved;
};

struct nest_ev_device_gone {
	uint32_t size;
	uint32_t dev_id;
};

struct nest_ev_shutdown {
	uint32_t size;
	uint32_t
		reason; /* 0 daemon stopping, 1 VM evicted by the operator, 2 config reload removed the VM */
};

struct nest_ev_stale {
	uint32_t size;
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t cache;		/* NEST_CACHE_* that served the stale entry */
	uint64_t addr;		/* IOVA (guest virtual) */
	uint64_t cached_gpa;	/* what the cache translated to */
	uint64_t current_gpa;	/* what a fresh walk gives; valid if current_fault == 0 */
	uint32_t current_fault; /* enum nest_fault_reason of a fresh walk */
	uint32_t __reserved;
};

/*
 * EV_PAGE_REQUEST (1.1): a device of the VM asked for a page (PCIe PRI / an I/O page fault, the
 * iommufd fault queue's record). Sent only to clients that said minor >= 1 and announced the
 * feature "page-requests" in HELLO, for VMs whose vm_info.features has NEST_FEAT_PAGE_REQUESTS;
 * nestd answers the others itself (invalid). The flag and perm bits are iommufd's
 * (IOMMU_PGFAULT_FLAGS_*, IOMMU_PGFAULT_PERM_*).
 */
enum {
	NEST_PRQ_F_PASID_VALID = 1u << 0, /* pasid is meaningful */
	NEST_PRQ_F_LAST_PAGE = 1u << 1,	  /* the last request of its group: answer this cookie */
	NEST_PRQ_F_VALID = (1u << 2) - 1,
};

enum {
	NEST_PRQ_PERM_READ = 1u << 0,
	NEST_PRQ_PERM_WRITE = 1u << 1,
	NEST_PRQ_PERM_EXEC = 1u << 2,
	NEST_PRQ_PERM_PRIV = 1u << 3, /* supervisor request */
};

struct nest_ev_page_request {
	uint32_t size;
	uint32_t flags;	 /* NEST_PRQ_F_* */
	uint32_t dev_id; /* device of this VM */
	uint32_t pasid;	 /* with NEST_PRQ_F_PASID_VALID */
	uint32_t grpid;	 /* page request group (PRG index) */
	uint32_t perm;	 /* NEST_PRQ_PERM_* requested */
	uint64_t addr;	 /* the page's address (IOVA / guest virtual) */
	uint32_t length; /* bytes asked for (a prefetch hint), 0 = the page at addr */
	uint32_t cookie; /* echoed in PAGE_RESPONSE; only the LAST_PAGE request's counts */
};

/*
 * EV_VEVENT (1.1): one record of a vIOMMU's event queue (iommufd vEVENTQ), e.g. an SMMUv3 event
 * for the guest's event queue. Body = struct nest_ev_vevent, then exactly data_len bytes
 * (0 .. NEST_VEVENT_DATA_MAX) of the record of type nest_vm_info.vevent_type. Sent only to
 * clients that said minor >= 1 and announced the feature "viommu" in HELLO; nestd drops (and
 * counts) the others: a vEVENT needs no answer.
 */
enum {
	NEST_VEVENT_F_LOST = 1u << 0, /* the queue overflowed: events before this one were lost */
	NEST_VEVENT_F_VALID = (1u << 1) - 1,
};

struct nest_ev_vevent {
	uint32_t size;
	uint32_t flags;	    /* NEST_VEVENT_F_* */
	uint32_t viommu_id; /* of this VM */
	uint32_t sequence;  /* the queue's sequence number of this record */
	uint32_t data_len;  /* bytes of record after the struct (0 with LOST alone) */
	uint32_t __reserved;
};

/*
 * EV_UNBOUND (1.2): nestd unbound host PASID @pasid on device @dev_id itself, and says so before
 * the reply to the request that caused it. NEST_UNBOUND_REPLACE_ROLLBACK: a BIND / BIND_NATIVE
 * with REPLACE failed on a device and putting this device back on the old table failed too; the
 * device is left unbound (its DMA with the PASID faults, as after UNBIND with DEVICE) rather than
 * on a table nestd would not account for. The PASID stays allocated; the VMM binds it again.
 */
enum {
	NEST_UNBOUND_REPLACE_ROLLBACK = 1,
};

struct nest_ev_unbound {
	uint32_t size;
	uint32_t dev_id; /* device of this VM */
	uint32_t pasid;	 /* host PASID of this VM, now unbound on that device */
	uint32_t reason; /* NEST_UNBOUND_* */
};

/* -------------------------------------------------------------------------------------------- */
/* ABI locks                                                                                    */

/* C++ (a VMM written in C++ includes this through <nest/libnest.h>) spells it static_assert. */
#ifdef __cplusplus
#define NEST_STATIC_ASSERT static_assert
#else
#define NEST_STATIC_ASSERT _Static_assert
#endif
#define NEST_ABI(t, sz)	  NEST_STATIC_ASSERT(sizeof(struct t) == (sz), "nest ABI: sizeof " #t)
#define NEST_OFF(t, f, o) NEST_STATIC_ASSERT(offsetof(struct t, f) == (o), "nest ABI: " #t "." #f)

NEST_ABI(nest_msg_hdr, 16);
NEST_OFF(nest_msg_hdr, op, 4);
NEST_OFF(nest_msg_hdr, flags, 6);
NEST_OFF(nest_msg_hdr, id, 8);
NEST_OFF(nest_msg_hdr, error, 12);
NEST_ABI(nest_hello, 16);
NEST_OFF(nest_hello, minor, 6);
NEST_OFF(nest_hello, caps_len, 8);
NEST_ABI(nest_vm_attach, 72);
NEST_OFF(nest_vm_attach, name, 8);
NEST_ABI(nest_vm_info, 112);
NEST_OFF(nest_vm_info, pasid_bits, 24);
NEST_OFF(nest_vm_info, num_devices, 28);
NEST_OFF(nest_vm_info, mem_limit, 40);
NEST_OFF(nest_vm_info, cap_reg, 48);
NEST_OFF(nest_vm_info, ecap_reg, 56);
NEST_OFF(nest_vm_info, reattached, 64);
NEST_ABI(nest_vm_detach, 8);
NEST_ABI(nest_mem_add, 32);
NEST_OFF(nest_mem_add, gpa, 8);
NEST_OFF(nest_mem_add, fd_offset, 24);
NEST_ABI(nest_mem_remove, 24);
NEST_ABI(nest_device_get, 16);
NEST_ABI(nest_device_put, 16);
NEST_ABI(nest_device_hot_reset, 16);
NEST_OFF(nest_device_hot_reset, dev_id, 8);
NEST_OFF(nest_device_hot_reset, __reserved, 12);
NEST_OFF(nest_device_put, flags, 4);
NEST_OFF(nest_device_put, dev_id, 8);
NEST_OFF(nest_device_put, __reserved, 12);
NEST_ABI(nest_device_info, 48);
NEST_OFF(nest_device_info, name, 16);
NEST_ABI(nest_pasid_alloc, 24);
NEST_OFF(nest_pasid_alloc, gpasid, 16);
NEST_ABI(nest_pasid_reply, 8);
NEST_ABI(nest_pasid_free, 16);
NEST_ABI(nest_bind, 56);
NEST_OFF(nest_bind, dev_id, 48);
NEST_OFF(nest_bind, __reserved, 52);
NEST_OFF(nest_bind, gpgd, 16);
NEST_OFF(nest_bind, hpasid, 24);
NEST_OFF(nest_bind, gpasid, 28);
NEST_OFF(nest_bind, vtd_flags, 32);
NEST_OFF(nest_bind, pat, 40);
NEST_OFF(nest_bind, emt, 44);
NEST_ABI(nest_unbind, 16);
NEST_ABI(nest_inv_entry, 40);
NEST_OFF(nest_inv_entry, flags, 4);
NEST_OFF(nest_inv_entry, pasid, 8);
NEST_OFF(nest_inv_entry, addr, 16);
NEST_OFF(nest_inv_entry, granule_size, 24);
NEST_OFF(nest_inv_entry, nb_granules, 32);
NEST_ABI(nest_invalidate, 16);
NEST_ABI(nest_invalidate_reply, 16);
NEST_ABI(nest_bind_native, 24);
NEST_OFF(nest_bind_native, flags, 4);
NEST_OFF(nest_bind_native, hpasid, 8);
NEST_OFF(nest_bind_native, data_type, 12);
NEST_OFF(nest_bind_native, data_len, 16);
NEST_OFF(nest_bind_native, dev_id, 20);
NEST_ABI(nest_invalidate_native, 24);
NEST_OFF(nest_invalidate_native, flags, 4);
NEST_OFF(nest_invalidate_native, entry_len, 8);
NEST_OFF(nest_invalidate_native, entry_num, 12);
NEST_OFF(nest_invalidate_native, hpasid, 16);
NEST_OFF(nest_invalidate_native, data_type, 20);
NEST_ABI(nest_sim_dma, 32);
NEST_OFF(nest_sim_dma, addr, 16);
NEST_OFF(nest_sim_dma, len, 24);
NEST_ABI(nest_sim_dma_reply, 24);
NEST_OFF(nest_sim_dma_reply, fault_addr, 16);
NEST_ABI(nest_ev_fault, 32);
NEST_OFF(nest_ev_fault, addr, 16);
NEST_ABI(nest_ev_device_gone, 8);
NEST_ABI(nest_ev_shutdown, 8);
NEST_ABI(nest_ev_stale, 48);
NEST_OFF(nest_ev_stale, addr, 16);
NEST_OFF(nest_ev_stale, current_fault, 40);

NEST_ABI(nest_page_response, 16);
NEST_OFF(nest_page_response, flags, 4);
NEST_OFF(nest_page_response, cookie, 8);
NEST_OFF(nest_page_response, code, 12);
NEST_ABI(nest_ev_page_request, 40);
NEST_OFF(nest_ev_page_request, flags, 4);
NEST_OFF(nest_ev_page_request, dev_id, 8);
NEST_OFF(nest_ev_page_request, pasid, 12);
NEST_OFF(nest_ev_page_request, grpid, 16);
NEST_OFF(nest_ev_page_request, perm, 20);
NEST_OFF(nest_ev_page_request, addr, 24);
NEST_OFF(nest_ev_page_request, length, 32);
NEST_OFF(nest_ev_page_request, cookie, 36);

NEST_OFF(nest_vm_info, viommu_type, 88);
NEST_OFF(nest_vm_info, viommu_inv_data_type, 92);
NEST_OFF(nest_vm_info, viommu_inv_entry_len, 96);
NEST_OFF(nest_vm_info, vevent_type, 100);
NEST_OFF(nest_vm_info, vevent_len, 104);
NEST_OFF(nest_vm_info, __reserved2, 108);
NEST_ABI(nest_viommu_alloc, 16);
NEST_OFF(nest_viommu_alloc, flags, 4);
NEST_OFF(nest_viommu_alloc, dev_id, 8);
NEST_OFF(nest_viommu_alloc, type, 12);
NEST_ABI(nest_viommu_reply, 8);
NEST_OFF(nest_viommu_reply, viommu_id, 4);
NEST_ABI(nest_viommu_free, 16);
NEST_OFF(nest_viommu_free, flags, 4);
NEST_OFF(nest_viommu_free, viommu_id, 8);
NEST_OFF(nest_viommu_free, __reserved, 12);
NEST_ABI(nest_vdevice_alloc, 24);
NEST_OFF(nest_vdevice_alloc, flags, 4);
NEST_OFF(nest_vdevice_alloc, viommu_id, 8);
NEST_OFF(nest_vdevice_alloc, dev_id, 12);
NEST_OFF(nest_vdevice_alloc, virt_id, 16);
NEST_ABI(nest_viommu_invalidate, 24);
NEST_OFF(nest_viommu_invalidate, flags, 4);
NEST_OFF(nest_viommu_invalidate, entry_len, 8);
NEST_OFF(nest_viommu_invalidate, entry_num, 12);
NEST_OFF(nest_viommu_invalidate, viommu_id, 16);
NEST_OFF(nest_viommu_invalidate, data_type, 20);
NEST_ABI(nest_viommu_attach, 24);
NEST_OFF(nest_viommu_attach, flags, 4);
NEST_OFF(nest_viommu_attach, viommu_id, 8);
NEST_OFF(nest_viommu_attach, dev_id, 12);
NEST_OFF(nest_viommu_attach, data_type, 16);
NEST_OFF(nest_viommu_attach, data_len, 20);
NEST_ABI(nest_viommu_detach, 16);
NEST_OFF(nest_viommu_detach, flags, 4);
NEST_OFF(nest_viommu_detach, viommu_id, 8);
NEST_OFF(nest_viommu_detach, dev_id, 12);
NEST_ABI(nest_vm_iova_info_req, 8);
NEST_OFF(nest_vm_iova_info_req, flags, 4);
NEST_ABI(nest_iova_range, 16);
NEST_ABI(nest_vm_iova_info, 120);
NEST_OFF(nest_vm_iova_info, flags, 4);
NEST_OFF(nest_vm_iova_info, pgsizes, 8);
NEST_OFF(nest_vm_iova_info, num_ranges, 16);
NEST_OFF(nest_vm_iova_info, __reserved, 20);
NEST_OFF(nest_vm_iova_info, ranges, 24);
NEST_ABI(nest_ev_vevent, 24);
NEST_OFF(nest_ev_vevent, flags, 4);
NEST_OFF(nest_ev_vevent, viommu_id, 8);
NEST_OFF(nest_ev_vevent, sequence, 12);
NEST_OFF(nest_ev_vevent, data_len, 16);
NEST_OFF(nest_ev_vevent, __reserved, 20);

/* Every remaining field offset (added with the protocol implementation). */
NEST_OFF(nest_hello, major, 4);
NEST_OFF(nest_hello, __reserved, 12);
NEST_OFF(nest_vm_attach, flags, 4);
NEST_OFF(nest_vm_info, flags, 4);
NEST_OFF(nest_vm_info, backend, 8);
NEST_OFF(nest_vm_info, formats, 12);
NEST_OFF(nest_vm_info, addr_widths, 16);
NEST_OFF(nest_vm_info, features, 20);
NEST_OFF(nest_vm_info, pasid_mode, 26);
NEST_OFF(nest_vm_info, pasid_quota, 32);
NEST_OFF(nest_vm_info, max_regions, 36);
NEST_OFF(nest_vm_info, __reserved, 68);
NEST_OFF(nest_vm_info, hw_info_type, NEST_VM_INFO_SIZE_1_0);
NEST_OFF(nest_vm_info, hwpt_data_type, 76);
NEST_OFF(nest_vm_info, inv_data_type, 80);
NEST_OFF(nest_vm_info, inv_entry_len, 84);
NEST_OFF(nest_vm_detach, flags, 4);
NEST_OFF(nest_mem_add, flags, 4);
NEST_OFF(nest_mem_add, len, 16);
NEST_OFF(nest_mem_remove, flags, 4);
NEST_OFF(nest_mem_remove, gpa, 8);
NEST_OFF(nest_mem_remove, len, 16);
NEST_OFF(nest_device_get, flags, 4);
NEST_OFF(nest_device_get, dev_id, 8);
NEST_OFF(nest_device_get, __reserved, 12);
NEST_OFF(nest_device_info, flags, 4);
NEST_OFF(nest_device_info, dev_id, 8);
NEST_OFF(nest_device_info, pasid_bits, 12);
NEST_OFF(nest_pasid_alloc, flags, 4);
NEST_OFF(nest_pasid_alloc, min, 8);
NEST_OFF(nest_pasid_alloc, max, 12);
NEST_OFF(nest_pasid_alloc, __reserved, 20);
NEST_OFF(nest_pasid_reply, pasid, 4);
NEST_OFF(nest_pasid_free, flags, 4);
NEST_OFF(nest_pasid_free, min, 8);
NEST_OFF(nest_pasid_free, max, 12);
NEST_OFF(nest_bind, flags, 4);
NEST_OFF(nest_bind, format, 8);
NEST_OFF(nest_bind, addr_width, 12);
NEST_OFF(nest_unbind, flags, 4);
NEST_OFF(nest_unbind, hpasid, 8);
NEST_OFF(nest_unbind, dev_id, 12);
NEST_OFF(nest_inv_entry, granularity, 1);
NEST_OFF(nest_inv_entry, __reserved, 2);
NEST_OFF(nest_inv_entry, __reserved2, 12);
NEST_OFF(nest_invalidate, flags, 4);
NEST_OFF(nest_invalidate, entry_len, 8);
NEST_OFF(nest_invalidate, entry_num, 12);
NEST_OFF(nest_invalidate_reply, done, 4);
NEST_OFF(nest_invalidate_reply, first_error, 8);
NEST_OFF(nest_invalidate_reply, __reserved, 12);
NEST_OFF(nest_sim_dma, flags, 4);
NEST_OFF(nest_sim_dma, dev_id, 8);
NEST_OFF(nest_sim_dma, pasid, 12);
NEST_OFF(nest_sim_dma, __reserved, 28);
NEST_OFF(nest_sim_dma_reply, done, 4);
NEST_OFF(nest_sim_dma_reply, fault_reason, 8);
NEST_OFF(nest_sim_dma_reply, __reserved, 12);
NEST_OFF(nest_ev_fault, reason, 4);
NEST_OFF(nest_ev_fault, dev_id, 8);
NEST_OFF(nest_ev_fault, pasid, 12);
NEST_OFF(nest_ev_fault, access, 24);
NEST_OFF(nest_ev_fault, __reserved, 28);
NEST_OFF(nest_ev_device_gone, dev_id, 4);
NEST_OFF(nest_ev_shutdown, reason, 4);
NEST_OFF(nest_ev_stale, dev_id, 4);
NEST_OFF(nest_ev_stale, pasid, 8);
NEST_OFF(nest_ev_stale, cache, 12);
NEST_OFF(nest_ev_stale, cached_gpa, 24);
NEST_OFF(nest_ev_stale, current_gpa, 32);
NEST_OFF(nest_ev_stale, __reserved, 44);
NEST_ABI(nest_ev_unbound, 16);
NEST_OFF(nest_ev_unbound, dev_id, 4);
NEST_OFF(nest_ev_unbound, pasid, 8);
NEST_OFF(nest_ev_unbound, reason, 12);

#ifdef __cplusplus
}
#endif

#endif /* NEST_PROTO_H */

/* SPDX-License-Identifier: MIT */
/*
 * libnest.h - client library for VMMs talking to nestd (see libnest(3)).
 *
 * Conventions:
 *  - Every call returns 0 (or a documented non-negative count) on success and a negative errno on
 *    failure. Out-parameters named ret_* are written only on success unless a comment says
 *    otherwise. nest_client_last_error() gives a human readable detail of the last failure.
 *  - The library never calls exit(), never touches signal dispositions, never writes to
 *    stdout/stderr. Diagnostics go to an optional log callback.
 *  - Every fd the library creates or receives is O_CLOEXEC.
 *  - Thread safety: a struct nest_client is NOT thread-safe; serialise all calls on one handle
 *    (one thread, or a lock of your own). Distinct handles are fully independent.
 *  - Callbacks (reply, event, log) run synchronously inside nest_client_process(),
 *    nest_client_wait() or a blocking call on the same handle. They may submit new requests
 *    and may make blocking calls, but must not call nest_client_free() on that handle. The
 *    tail of a struct nest_reply is valid until its callback returns or calls into the handle.
 *
 * Wire structs (struct nest_vm_info, struct nest_bind, struct nest_inv_entry, ...) and constants
 * come from <nest/nest-proto.h>, installed next to this header.
 */
#ifndef NEST_LIBNEST_H
#define NEST_LIBNEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nest-proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NEST_DEFAULT_SOCKET	  "/run/nestd/nestd.sock"
#define NEST_DEFAULT_ADMIN_SOCKET "/run/nestd/admin.sock"

/* nest_pasid_alloc(): no guest PASID to record. */
#define NEST_GPASID_NONE UINT32_MAX

typedef struct nest_client nest_client;

/* Effective limits of a connection: the minimum of what both sides announced in HELLO. */
struct nest_limits {
	uint32_t max_msg_size; /* bytes, header included */
	uint32_t max_fds;      /* fds per message */
	uint32_t max_batch;    /* invalidate entries per request */
	uint32_t max_inflight; /* requests without a reply yet */
	uint32_t features;     /* NEST_FEAT_* offered by both sides */
	uint16_t proto_major;  /* the daemon's protocol version */
	uint16_t proto_minor;
	char software[64]; /* the daemon's "software" string, e.g. "nestd 0.1.0" */
};

/* ---- connection ---------------------------------------------------------------------------- */

/*
 * nest_client_connect() - connect to the VM socket at @path (NULL: NEST_DEFAULT_SOCKET) and run
 * the HELLO exchange (blocking). @flags must be 0. On success *ret holds a new handle.
 * -ENOENT / -ECONNREFUSED: nestd is not running; -EACCES: no permission on the socket;
 * -ENAMETOOLONG; -EPROTO: the peer does not speak a compatible protocol.
 */
int nest_client_connect(const char *path, uint32_t flags, nest_client **ret);

/* nest_admin_connect() - the same on the admin socket (NULL: NEST_DEFAULT_ADMIN_SOCKET). */
int nest_admin_connect(const char *path, uint32_t flags, nest_client **ret);

/*
 * Timeouts. Every blocking step (connecting, sending a request, waiting for its reply, waiting for
 * a free in-flight slot) gives up after the handle's timeout with -ETIMEDOUT, so a VMM does not
 * hang on a stopped or stuck nestd. The default is NEST_DEFAULT_TIMEOUT_MS; -1 waits forever.
 * A blocking call that timed out while its request was in flight leaves the handle dead (every
 * later call returns -ETIMEDOUT): free it and connect again. A timed-out connect returns no
 * handle.
 */
#define NEST_DEFAULT_TIMEOUT_MS 30000

/* nest_client_connect() / nest_admin_connect() with @timeout_ms (> 0, or -1) for the connect and
 * the HELLO exchange; it stays the handle's timeout. -EINVAL for other values. */
int nest_client_connect_timeout(const char *path, uint32_t flags, int timeout_ms,
				nest_client **ret);
int nest_admin_connect_timeout(const char *path, uint32_t flags, int timeout_ms, nest_client **ret);

/* Set (> 0 ms, or -1: no timeout; else -EINVAL) and get the timeout of @c's blocking calls. */
int nest_client_set_timeout(nest_client *c, int timeout_ms);
int nest_client_get_timeout(const nest_client *c);

/* Close the connection; pending requests are dropped without callbacks. Accepts NULL. */
nest_client *nest_client_free(nest_client *c);

/* The connection fd, for poll()/epoll in the caller's main loop (POLLIN). Owned by @c. */
int nest_client_get_fd(const nest_client *c);

int nest_client_get_limits(const nest_client *c, struct nest_limits *ret);

/* Detail of the last failure on @c ("" if none). Valid until the next call on @c. */
const char *nest_client_last_error(const nest_client *c);

/* Optional diagnostics: @level is a syslog priority (the library only uses LOG_DEBUG). */
typedef void (*nest_log_cb)(nest_client *c, int level, const char *msg, void *opaque);
void nest_client_set_log_cb(nest_client *c, nest_log_cb cb, void *opaque);

/* ---- events -------------------------------------------------------------------------------- */

/*
 * A vIOMMU event (NEST_EV_VEVENT, protocol 1.1) as libnest hands it on: the fields of struct
 * nest_ev_vevent and the record that followed it on the wire. @data points into the received
 * message: it is valid during the event callback only (copy what you keep).
 */
struct nest_vevent {
	uint32_t flags;	     /* NEST_VEVENT_F_* (LOST: events before this one were lost) */
	uint32_t viommu_id;  /* as VIOMMU_ALLOC returned it */
	uint32_t sequence;   /* the queue's sequence number */
	uint32_t data_len;   /* bytes at @data, 0 .. NEST_VEVENT_DATA_MAX */
	const uint8_t *data; /* the record of type nest_vm_info.vevent_type */
};

/*
 * An event. The union's size has not changed since LIBNEST_0.1 (struct nest_ev_stale is its
 * largest member), so struct nest_event keeps its size and layout.
 */
struct nest_event {
	uint32_t type; /* NEST_EV_FAULT, NEST_EV_DEVICE_GONE, NEST_EV_SHUTDOWN, NEST_EV_STALE,
			  NEST_EV_PAGE_REQUEST, NEST_EV_VEVENT (protocol 1.1), NEST_EV_UNBOUND
			  (1.2) */
	union {
		struct nest_ev_fault fault;
		struct nest_ev_device_gone device_gone;
		struct nest_ev_shutdown shutdown;
		struct nest_ev_stale stale;
		struct nest_ev_page_request page_request;
		struct nest_vevent vevent; /* not the wire struct: see above */
		struct nest_ev_unbound unbound;
	} u;
};

typedef void (*nest_event_cb)(nest_client *c, const struct nest_event *ev, void *opaque);

/*
 * Events arriving without a callback are counted and dropped, except page requests: without a
 * callback libnest answers each group (its NEST_PRQ_F_LAST_PAGE request) NEST_PAGE_RESP_INVALID
 * itself, so that no device waits for an answer nobody will give.
 */
void nest_client_set_event_cb(nest_client *c, nest_event_cb cb, void *opaque);

/* ---- main-loop integration and pipelining -------------------------------------------------- */

/*
 * nest_client_process() - read and dispatch every message that is readable now, without
 * blocking: replies go to their request's callback, events to the event callback.
 * Returns the number of messages handled (0 if nothing was readable), or -errno: -ECONNRESET
 * when nestd closed the connection, -EPROTO on a malformed message. After such an error the
 * handle is dead: pending requests completed with that error and every later call fails.
 */
int nest_client_process(nest_client *c);

/*
 * Like nest_client_process(), but first wait up to @timeout_ms (-1: forever) for input. With -1
 * it handles what one receive brings (every message there when the first arrived, up to 16) and
 * returns: call it again for more. Pipelined replies arrive in bursts of up to 16 per system
 * call; the burst buffers (16 x the message size, 1 MiB of address space) are allocated on the
 * first nest_client_wait() or nest_client_process() call, and only the pages replies land in
 * are touched.
 */
int nest_client_wait(nest_client *c, int timeout_ms);

/* A reply as handed to a reply callback. */
struct nest_reply {
	uint16_t op;	   /* enum nest_op of the request */
	uint32_t id;	   /* the request id */
	int error;	   /* 0, or -errno of an error reply (or of a dead connection) */
	const void *fixed; /* success: the reply struct zero-extended to this build's size */
	size_t fixed_len;  /* 0 for ops with an empty reply */
	const void *tail;  /* success: what follows the struct (SIM_DMA data, ADMIN JSON) */
	size_t tail_len;
	const char *detail;	       /* error text sent by nestd, or NULL */
	int fds[NEST_FDS_PER_MSG_MAX]; /* received fds (-1 unused); set a slot to -1 to keep it,
					  the library closes the others after the callback */
	unsigned nfds;
};

typedef void (*nest_reply_cb)(nest_client *c, struct nest_reply *r, void *opaque);

/*
 * nest_client_send_async() - send one request without waiting for its reply.
 * @body/@body_len: the request body (a wire struct from nest-proto.h, its size field set, plus
 * any tail). @fds: @nfds fds to attach; the caller keeps them. @cb runs exactly once, when the
 * reply arrives (or with error -ECONNRESET/-EPROTO if the connection dies first); it may be NULL.
 * If the negotiated in-flight limit is reached this first processes replies (blocking) until a
 * slot is free. *ret_id (optional) receives the request id.
 */
int nest_client_send_async(nest_client *c, uint16_t op, const void *body, size_t body_len,
			   const int *fds, unsigned nfds, nest_reply_cb cb, void *opaque,
			   uint32_t *ret_id);

/* Number of requests sent (or queued by the cork) whose reply has not been handled yet. */
unsigned nest_client_inflight(const nest_client *c);

/*
 * nest_client_cork() - while @on, nest_client_send_async() queues requests that carry no fds
 * (up to 16) and sends them together in one sendmmsg(2): when 16 are queued, before a request
 * with fds, before libnest waits for anything (nest_client_wait(), a blocking call, a full
 * in-flight window), at nest_client_flush(), and when the cork is taken out (@on false). A
 * pipelining VMM corks, refills its window after each nest_client_wait(), and pays one system
 * call per refill instead of one per request. A queued request is in flight (its callback runs
 * exactly once, as for any other). A VMM that waits on nest_client_get_fd() in its own loop must
 * call nest_client_flush() before it waits (nest_client_process() does not send). A queue that
 * cannot be sent (nestd gone; no room within the handle's timeout) kills the handle. Both return
 * 0, or the -errno of a dead handle.
 */
int nest_client_cork(nest_client *c, bool on);
int nest_client_flush(nest_client *c);

/* ---- VM socket operations (blocking; events arriving meanwhile are delivered) -------------- */

/*
 * nest_vm_attach() - attach the VM @name. @flags: NEST_ATTACH_F_*. *ret (optional) receives the
 * VM's description; from a nestd older than protocol 1.1 the native fields (hw_info_type ..
 * inv_entry_len) read 0.
 */
int nest_vm_attach(nest_client *c, const char *name, uint32_t flags, struct nest_vm_info *ret);
int nest_vm_detach(nest_client *c, uint32_t flags); /* NEST_DETACH_F_* */

/* @memfd is not consumed. @flags: NEST_MEM_F_* (at least NEST_MEM_F_READ). */
int nest_mem_add(nest_client *c, uint64_t gpa, uint64_t len, int memfd, uint64_t offset,
		 uint32_t flags);
int nest_mem_remove(nest_client *c, uint64_t gpa, uint64_t len);
/*
 * nest_mem_remove_range() - as VFIO_IOMMU_UNMAP_DMA: @flags NEST_MEM_REMOVE_F_COVERED removes every
 * region lying inside [gpa, gpa + len) (0 if there is none; -EINVAL and nothing removed if a
 * region lies only partly inside), NEST_MEM_REMOVE_F_ALL every region of the VM (@gpa and @len
 * 0). A nestd older than LIBNEST_0.3 answers -EOPNOTSUPP (an unknown flag).
 */
int nest_mem_remove_range(nest_client *c, uint64_t gpa, uint64_t len, uint32_t flags);

/*
 * nest_vm_iova_info() - where MEM_ADD may put guest memory (IOVA = GPA) for every device of the
 * VM, and in which page sizes (struct nest_vm_iova_info: ranges sorted, inclusive; flag
 * NEST_IOVA_F_TRUNCATED when more ranges exist than fit). What VFIO_IOMMU_GET_INFO (vfio-type1,
 * vfio-nesting) or IOMMU_IOAS_IOVA_RANGES (iommufd) say; the sim: 4 KiB pages anywhere.
 * -EOPNOTSUPP: the nestd does not know the op (older than LIBNEST_0.3).
 */
int nest_vm_iova_info(nest_client *c, struct nest_vm_iova_info *ret);

/*
 * nest_device_get() - describe device @dev_id of the VM. *ret_fd (optional) receives the
 * device fd (O_CLOEXEC, owned by the caller) or -1 when there is none (sim backend). With
 * @ret_fd NULL a received fd is closed.
 */
int nest_device_get(nest_client *c, uint32_t dev_id, struct nest_device_info *ret, int *ret_fd);

/*
 * nest_device_put() - give device @dev_id back (e.g. on hot-unplug): nestd answers its waiting
 * page requests "invalid", takes it off every vIOMMU (its vDEVICEs go), resets it where the
 * kernel can (VFIO_DEVICE_RESET), undoes its bindings, and a later nest_device_get() hands it out
 * again (PROTOCOL.md §8.24). Close your fd of the device too; nestd cannot take it back.
 * -ENOENT: not the VM's, or not handed out; -EOPNOTSUPP: the nestd does not know the request;
 * -EIO etc.: the kernel refused the vIOMMU detach or the reset (the device stays handed out).
 */
int nest_device_put(nest_client *c, uint32_t dev_id);

/*
 * nest_device_hot_reset() - PCI hot reset (bus or slot reset) of device @dev_id, which needs the
 * group fds nestd keeps. -EBUSY: the reset would also reset a device that is not in this VM's
 * IOMMU groups (another VM's, or the host's); -EOPNOTSUPP: no such reset here (sim, a device on
 * a root bus, a nestd without the request); -ENOENT: not the VM's device.
 */
int nest_device_hot_reset(nest_client *c, uint32_t dev_id);

/* Allocate a host PASID in [min, max]; @gpasid: the guest PASID to record or NEST_GPASID_NONE. */
int nest_pasid_alloc(nest_client *c, uint32_t min, uint32_t max, uint32_t gpasid,
		     uint32_t *ret_pasid);
/* Free every PASID of the VM in [min, max] (bound ones are unbound); *ret_n: how many. */
int nest_pasid_free(nest_client *c, uint32_t min, uint32_t max, uint32_t *ret_n);

/*
 * @b->size is filled in by the library. Protocol 1.2 (LIBNEST_0.4; vm_info.features says what
 * the VM can do): b->flags NEST_BIND_F_DEVICE binds on device b->dev_id only
 * (NEST_FEAT_BIND_DEVICE), NEST_BIND_F_RID (with DEVICE, hpasid 0) on that device's RID, for
 * its DMA without PASID (NEST_FEAT_BIND_RID), NEST_BIND_F_REPLACE swaps the table bound there
 * for this one with no instant without translation (NEST_FEAT_BIND_REPLACE).
 */
int nest_bind(nest_client *c, const struct nest_bind *b);
int nest_unbind(nest_client *c, uint32_t hpasid);
/*
 * nest_unbind_ex() - UNBIND with @flags (protocol 1.2): NEST_BIND_F_DEVICE unbinds @hpasid on
 * device @dev_id only, NEST_BIND_F_RID | NEST_BIND_F_DEVICE (@hpasid 0) puts @dev_id's RID
 * back on stage 2 alone. -ENOENT: nothing bound there; -EOPNOTSUPP: the VM cannot do it.
 */
int nest_unbind_ex(nest_client *c, uint32_t flags, uint32_t hpasid, uint32_t dev_id);

/*
 * nest_invalidate() - process @n entries in order. Batches larger than the negotiated max_batch
 * are split into several pipelined requests. Returns 0 when every entry was done; otherwise the
 * -errno of the first failing entry (or of a failed request). *ret_done (optional) is always
 * written: the number of leading entries done; *ret_first_error (optional) too: 0 or the
 * -errno of entry *ret_done. Entries of later chunks may already have been processed when an
 * earlier entry failed (invalidating more than needed is harmless).
 */
int nest_invalidate(nest_client *c, const struct nest_inv_entry *entries, size_t n,
		    size_t *ret_done, int *ret_first_error);

/*
 * Native nesting (protocol 1.1; the VM's vm_info.features has NEST_FEAT_NATIVE, iommufd): the
 * kernel's own data, passed through nestd unchanged. The types and the kernel's entry size are
 * those of struct nest_vm_info (hwpt_data_type, inv_data_type, inv_entry_len).
 *
 * nest_bind_native() - bind @len bytes (1 .. NEST_NATIVE_DATA_MAX) of nested HWPT data of type
 * @data_type (e.g. struct iommu_hwpt_vtd_s1 for IOMMU_HWPT_DATA_VTD_S1) on host PASID @hpasid, on
 * every device of the VM. nest_unbind() undoes it. -EOPNOTSUPP: the VM has no native nesting or
 * takes another type; -E2BIG: @len too large (checked locally).
 *
 * nest_invalidate_native() - @n entries of @entry_len bytes (NEST_NATIVE_ENTRY_MIN ..
 * NEST_NATIVE_ENTRY_MAX; -EINVAL / -E2BIG locally otherwise) of type @data_type (e.g. struct
 * iommu_hwpt_vtd_s1_invalidate) on what @hpasid is bound to. Batching, the return value,
 * *ret_done and *ret_first_error are as for nest_invalidate(); a request-level error (e.g.
 * -ENOENT: @hpasid is not the VM's or not bound) is returned with *ret_done = 0 for its chunk.
 */
int nest_bind_native(nest_client *c, uint32_t hpasid, uint32_t data_type, const void *data,
		     uint32_t len);
/*
 * nest_bind_native_ex() - nest_bind_native() with the 1.2 @flags (NEST_BIND_F_DEVICE, _RID,
 * _REPLACE, as nest_bind()) and @dev_id (with DEVICE). nest_invalidate_native_rid() - the
 * entries for every device whose RID has a native binding (INVALIDATE_NATIVE with
 * NEST_INV_NATIVE_F_RID); as nest_invalidate_native() otherwise.
 */
int nest_bind_native_ex(nest_client *c, uint32_t flags, uint32_t hpasid, uint32_t dev_id,
			uint32_t data_type, const void *data, uint32_t len);
int nest_invalidate_native_rid(nest_client *c, uint32_t data_type, const void *entries,
			       uint32_t entry_len, size_t n, size_t *ret_done,
			       int *ret_first_error);
int nest_invalidate_native(nest_client *c, uint32_t hpasid, uint32_t data_type, const void *entries,
			   uint32_t entry_len, size_t n, size_t *ret_done, int *ret_first_error);

/*
 * Page requests (protocol 1.1; the VM's vm_info.features has NEST_FEAT_PAGE_REQUESTS, iommufd):
 * a device of the VM asked for a page; the event callback gets NEST_EV_PAGE_REQUEST
 * (ev->u.page_request). libnest announces "page-requests" in HELLO, so nestd delivers them.
 *
 * nest_page_response() - answer the group whose last request (NEST_PRQ_F_LAST_PAGE) carried
 * @cookie with @code, NEST_PAGE_RESP_SUCCESS (the page is mapped now: the device retries) or
 * NEST_PAGE_RESP_INVALID (it fails the access). Blocking like the other calls; it may be called
 * from the event callback. -EOPNOTSUPP: the VM has no page requests; -EINVAL: @code is neither;
 * -ENOENT: @cookie is not pending for this VM (answered already, not the last of its group, or
 * nestd answered it because the connection was lost).
 */
int nest_page_response(nest_client *c, uint32_t cookie, uint32_t code);

/*
 * vIOMMU objects (protocol 1.1; the VM's vm_info.features has NEST_FEAT_VIOMMU, iommufd; the Arm
 * SMMUv3 nesting shape). The types and the kernel's entry size are those of struct nest_vm_info
 * (viommu_type, viommu_inv_data_type, viommu_inv_entry_len, vevent_type, vevent_len). Ids are
 * VM-local; another VM's id answers -ENOENT like an unknown one. libnest announces "viommu" in
 * HELLO, so nestd delivers the vIOMMUs' events (NEST_EV_VEVENT, ev->u.vevent).
 *
 * nest_viommu_alloc() - a vIOMMU of @type on the stage-2 parent of device @dev_id; *ret_id
 * (optional) receives its id. -EOPNOTSUPP: no vIOMMUs on this VM, or another type; -ENOENT:
 * @dev_id is not the VM's; -ENOSPC: NEST_VIOMMUS_PER_VM_MAX are live.
 * nest_viommu_free() - free it with its vDEVICEs. -ENOENT: not a live vIOMMU of this VM. A
 * vIOMMU also goes with the device it was allocated on, and with the VM.
 * nest_vdevice_alloc() - device @dev_id is @virt_id (e.g. the guest's StreamID) on vIOMMU
 * @viommu_id. -ENOENT: vIOMMU or device not the VM's; -EEXIST: @virt_id is taken on that vIOMMU;
 * -EBUSY: the device has a virtual id there already. There is no free call: a vDEVICE goes with
 * its vIOMMU or its device.
 * nest_viommu_invalidate() - @n entries of @entry_len bytes (NEST_NATIVE_ENTRY_MIN ..
 * NEST_NATIVE_ENTRY_MAX; -EINVAL / -E2BIG locally otherwise) of type @data_type (e.g. struct
 * iommu_viommu_arm_smmuv3_invalidate: one CMDQ command) addressed to vIOMMU @viommu_id.
 * Batching, the return value, *ret_done and *ret_first_error are as for nest_invalidate(); an
 * entry naming a virtual device that is not this vIOMMU's fails with -ENOENT; a request-level
 * error (e.g. -ENOENT: @viommu_id is not the VM's) is returned with *ret_done = 0 for its chunk.
 * nest_viommu_attach() - the Arm SMMUv3 shape of a stage-1 bind: a nested HWPT on vIOMMU
 * @viommu_id with @len bytes (1 .. NEST_NATIVE_DATA_MAX; -EINVAL / -E2BIG locally otherwise) of
 * the kernel's own data of @data_type (vm_info.hwpt_data_type, as nest_bind_native(): the guest
 * STE on SMMUv3), attached to device @dev_id's RID. The device needs a vDEVICE on that vIOMMU.
 * -EOPNOTSUPP: no vIOMMUs on this VM, or another data type; -ENOENT: vIOMMU or device not the
 * VM's, or no vDEVICE of the device there; -EBUSY: attached already.
 * nest_viommu_detach() - the RID back on its stage-2 parent, the HWPT gone. -ENOENT: not
 * attached to that vIOMMU. nest_viommu_free() and the VM's teardown detach first.
 */
int nest_viommu_alloc(nest_client *c, uint32_t dev_id, uint32_t type, uint32_t *ret_id);
int nest_viommu_free(nest_client *c, uint32_t viommu_id);
int nest_vdevice_alloc(nest_client *c, uint32_t viommu_id, uint32_t dev_id, uint64_t virt_id);
int nest_viommu_invalidate(nest_client *c, uint32_t viommu_id, uint32_t data_type,
			   const void *entries, uint32_t entry_len, size_t n, size_t *ret_done,
			   int *ret_first_error);
int nest_viommu_attach(nest_client *c, uint32_t viommu_id, uint32_t dev_id, uint32_t data_type,
		       const void *data, uint32_t len);
int nest_viommu_detach(nest_client *c, uint32_t viommu_id, uint32_t dev_id);

/*
 * nest_debug_dma() - sim backend debug DMA of @len bytes at guest virtual @addr by (@dev_id,
 * @pasid). @flags: NEST_DMA_F_*; with NEST_DMA_F_WRITE @buf is written into guest memory,
 * otherwise guest memory is read into @buf. Returns 0 when all bytes moved, -EFAULT on a
 * translation fault. *ret_done, *ret_fault_reason (enum nest_fault_reason) and *ret_fault_addr
 * (all optional) are written on 0 and on -EFAULT.
 */
int nest_debug_dma(nest_client *c, uint32_t dev_id, uint32_t pasid, uint64_t addr, void *buf,
		   size_t len, uint32_t flags, size_t *ret_done, uint32_t *ret_fault_reason,
		   uint64_t *ret_fault_addr);

/* ---- admin socket -------------------------------------------------------------------------- */

/*
 * nest_admin_call() - send one JSON request ({"command": ..., "args": {...}}) and wait for the
 * result. On success *ret_json_reply is a malloc()ed NUL-terminated JSON object (free() it).
 * On an error reply returns its -errno; nest_client_last_error() then holds nestd's message.
 */
int nest_admin_call(nest_client *c, const char *json_request, char **ret_json_reply);

/* ---- helpers ------------------------------------------------------------------------------- */

/* Short stable name of an enum nest_fault_reason ("pte-not-present", ...). */
const char *nest_fault_reason_str(uint32_t reason);
/* Name of an op or event ("BIND", "EV_FAULT", ..., "UNKNOWN"). */
const char *nest_op_str(uint32_t op);
/* Version of the library, "0.1.0". */
const char *nest_version(void);

#ifdef __cplusplus
}
#endif

#endif /* NEST_LIBNEST_H */

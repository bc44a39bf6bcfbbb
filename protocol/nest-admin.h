/* SPDX-License-Identifier: MIT */
/*
 * nest-admin.h - the admin socket protocol used by nestctl (JSON over NEST_OP_ADMIN).
 *
 * After HELLO, every request is NEST_OP_ADMIN with a NUL-terminated JSON object:
 *     { "command": "<name>", "args": { ... } }          ("args" optional)
 * A success reply (NEST_MSG_F_REPLY) carries a JSON object, the result. A failure is a reply with
 * NEST_MSG_F_ERROR and the errno, and a body { "error": "<human readable message>" } (the body
 * may be empty). Unknown command: ENOTTY. Bad args: EINVAL (wrong type/missing) or ERANGE.
 * Unknown VM / device / PASID: ENOENT. Sim-only command on another backend: EOPNOTSUPP.
 *
 * Every address or length of guest memory (gpa, gpgd, addr, len, fd_offset) is a JSON string
 * "0x..." (hex) so that 64-bit values stay exact in every JSON consumer; requests accept either
 * such a string or a non-negative JSON integer. Counts, ids and PASIDs are JSON integers.
 *
 * Commands and result shapes (docs/PROTOCOL.md §Admin is the normative copy):
 *
 * "status"        -> { "version": "0.1.0", "backend": "sim", "pid": int, "uptime_sec": int,
 *                      "vms_configured": int, "vms_attached": int, "vms_held": int,
 *                      "connections": int, "admin_connections": int, "log_level": "info" }
 * "vm.list"       -> { "vms": [ { "name", "state": "detached"|"attached"|"held",
 *                      "uid": int|null (attached client's uid), "pid": int|null,
 *                      "devices": int, "regions": int, "pasids": int, "bindings": int,
 *                      "mem_bytes": int } ] }
 * "vm.show"  { "name" } -> { "name", "state", "uid", "pid", "owner_uids": [int], "owner_gids": [int],
 *                      "pasid_quota": int, "mem_limit": int, "grace_sec": int, "checker": bool,
 *                      "devices": [ { "id", "name", "ats": bool, "pasid_bits", "taken": bool } ],
 *                      "regions": [ { "gpa": "0x..", "len": "0x..", "fd_offset": "0x..",
 *                                     "read": bool, "write": bool } ],
 *                      "pasids": [ { "pasid", "gpasid": int|null, "bound": bool,
 *                                    "format": "vtd-fl"|"native"|null,
 *                                    "gpgd": "0x.."|null (null for native bindings),
 *                                    "data_type": int|null (native: the HWPT data type),
 *                                    "addr_width": int|null, "vtd_flags": int|null } ],
 *                      "counters": { "requests", "errors", "binds", "unbinds",
 *                                    "invalidations", "inv_entries", "faults", "stale",
 *                                    "dma_bytes", "page_requests", "page_responses",
 *                                    "page_refusals", "vevents", "vevents_dropped" },
 *                      "viommus": [ { "id", "device" } ] }  (live vIOMMUs, 1.1)
 * "vm.evict" { "name" } -> { "evicted": "name" }   (a client attached gets NEST_EV_SHUTDOWN reason 1
 *                      and is disconnected; all state is torn down, grace period ignored)
 * "pasid.list" { "vm"? } -> { "pasids": [ { "vm", "pasid", "gpasid": int|null, "bound": bool,
 *                      "gpgd": "0x.."|null } ] }
 * "device.list"   -> { "devices": [ { "vm", "id", "name", "ats": bool, "pasid_bits",
 *                      "taken": bool } ] }
 * "stats"         -> { "daemon": { "connections_total", "connections_rejected", "requests",
 *                      "errors", "events", "protocol_errors", "slow_disconnects",
 *                      "page_requests", "page_responses", "page_refusals", "vevents",
 *                      "vevents_dropped" },
 *                      "backend": { ...backend counters, integers... } }
 * "reload"        -> { "reloaded": true, "vms_configured": int }  or error EINVAL with
 *                      "error": "<file>:<line>: <key>: <message>"; the old config stays.
 * "log-level" { "level"? } -> { "level": "debug"|"info"|"notice"|"warning"|"err" }
 *                      (without "level": returns the current one)
 * "sim.translate" { "vm", "device": int, "pasid": int, "addr": "0x..", "write": bool,
 *                   "exec": bool, "priv": bool }
 *                 -> { "ok": bool, "gpa": "0x.."|null, "page_size": int|null,
 *                      "cached": bool, "fault": "reason-name"|null }
 * "sim.dma"  { "vm", "device", "pasid", "addr": "0x..", "len": int (read) | "data": "hex" (write),
 *              "exec": bool, "priv": bool }
 *                 -> { "done": int, "data": "hex" (reads), "fault": "reason-name"|null,
 *                      "fault_addr": "0x.."|null }
 *   mock.check_iotlb {"vm", "device": id, "pasid": n, "slot": 0..3, "value": u32}
 *                 -> { "match": bool }   (iommufd backend, selftest mock devices only: is slot
 *                      `slot` of the nested HWPT bound on (device, pasid) equal to `value`?)
 *   mock.trigger_iopf {"vm", "device": id, "pasid": 0..NEST_PASID_MAX (0: no PASID),
 *                      "addr": "0x.."|int, "perm": NEST_PRQ_PERM_* (0..15, default 1 = read),
 *                      "grpid": u32 (default 0)}
 *                 -> { }   (iommufd backend, selftest mock devices only: the device issues one
 *                      page request, the last of its group; the VM's client gets it as
 *                      NEST_EV_PAGE_REQUEST, or nestd answers it invalid)
 *
 *   mock.trigger_vevent {"vm", "device": id}
 *                 -> { }   (iommufd backend, selftest mock devices only: the device raises one
 *                      vIOMMU event through the vIOMMU it has a vDEVICE on; the VM's client gets
 *                      it as NEST_EV_VEVENT, or nestd drops and counts it)
 *   mock.check_dev_cache {"vm", "device": id, "slot": 0..3, "value": u32}
 *                 -> { "match": bool }   (iommufd backend, selftest mock devices only: is slot
 *                      `slot` of the device's cache (what VIOMMU_INVALIDATE flushes) `value`?)
 *
 * vIOMMU event counters: vevents = reported by the backend; vevents_dropped = of which no client
 * got (no client, minor 0, no "viommu" in HELLO, full queue, unknown vIOMMU).
 *
 * Page request counters (vm.show "counters", stats "daemon"): page_requests = reported by the
 * backend; page_responses = PAGE_RESPONSEs the backend took; page_refusals = groups nestd
 * answered invalid itself because no client could answer them.
 */
#ifndef NEST_ADMIN_H
#define NEST_ADMIN_H

#define NEST_ADMIN_CMD_STATUS	      "status"
#define NEST_ADMIN_CMD_VM_LIST	      "vm.list"
#define NEST_ADMIN_CMD_VM_SHOW	      "vm.show"
#define NEST_ADMIN_CMD_VM_EVICT	      "vm.evict"
#define NEST_ADMIN_CMD_PASID_LIST     "pasid.list"
#define NEST_ADMIN_CMD_DEVICE_LIST    "device.list"
#define NEST_ADMIN_CMD_STATS	      "stats"
#define NEST_ADMIN_CMD_RELOAD	      "reload"
#define NEST_ADMIN_CMD_LOG_LEVEL      "log-level"
#define NEST_ADMIN_CMD_SIM_TRANSLATE  "sim.translate"
#define NEST_ADMIN_CMD_SIM_DMA	      "sim.dma"
#define NEST_ADMIN_CMD_MOCK_IOTLB     "mock.check_iotlb"
#define NEST_ADMIN_CMD_MOCK_IOPF      "mock.trigger_iopf"
#define NEST_ADMIN_CMD_MOCK_VEVENT    "mock.trigger_vevent"
#define NEST_ADMIN_CMD_MOCK_DEV_CACHE "mock.check_dev_cache"
#define NEST_ADMIN_CMD_DEBUG_STALL    "debug.stall"

#endif /* NEST_ADMIN_H */

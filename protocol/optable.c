/* SPDX-License-Identifier: MIT */
/*
 * optable.c - the one table that describes the shape of every op and event (STYLE.md R4).
 *
 * min_size is offsetofend() of the last field a receiver of this protocol version needs; fields
 * after it are optional (zero when omitted). docs/PROTOCOL.md lists the same numbers per op; the
 * ABI test walks this table, so a change here without a change there fails review, not silently.
 */
#include <stddef.h>
#include <stdint.h>

#include "nest-msg.h"

#define OFFSETOFEND(t, f) (offsetof(struct t, f) + sizeof(((struct t *)0)->f))
#define RSV(t, f)                                                                                  \
	{                                                                                          \
		offsetof(struct t, f), sizeof(((struct t *)0)->f)                                  \
	}

/* A fixed struct with a flags word at offset 4. */
#define BODY(t, last, valid)                                                                       \
	.size = sizeof(struct t), .min_size = OFFSETOFEND(t, last), .flags_valid = (valid)

/* A fixed struct whose offset 4 holds something else than flags. */
#define BODY_NOFLAGS(t, last)                                                                      \
	.size = sizeof(struct t), .min_size = OFFSETOFEND(t, last), .flags_valid = UINT32_MAX

#define VM    NEST_SOCK_VM
#define ADMIN NEST_SOCK_ADMIN

const struct nest_op_desc nest_op_table[NEST_OP_MAX] = {
	[NEST_OP_HELLO] =
		{
			.name = "HELLO",
			.op = NEST_OP_HELLO,
			.sockets = VM | ADMIN,
			.req = {BODY_NOFLAGS(nest_hello, caps_len), .tail = NEST_TAIL_CAPS,
				.nreserved = 1, .reserved = {RSV(nest_hello, __reserved)}},
			.reply = {BODY_NOFLAGS(nest_hello, caps_len), .tail = NEST_TAIL_CAPS,
				  .nreserved = 1, .reserved = {RSV(nest_hello, __reserved)}},
		},
	[NEST_OP_VM_ATTACH] =
		{
			.name = "VM_ATTACH",
			.op = NEST_OP_VM_ATTACH,
			.sockets = VM,
			.req = {BODY(nest_vm_attach, name, NEST_ATTACH_F_VALID)},
			/*
			 * vm_info.flags is reserved: valid mask 0. The 1.1 fields after
			 * __reserved are optional (a 1.0 nestd sends 72 bytes, and so does a 1.1
			 * nestd to a client that said minor 0).
			 */
			.reply = {BODY(nest_vm_info, reattached, 0), .nreserved = 2,
				  .reserved = {RSV(nest_vm_info, __reserved),
					       RSV(nest_vm_info, __reserved2)}},
		},
	[NEST_OP_VM_DETACH] =
		{
			.name = "VM_DETACH",
			.op = NEST_OP_VM_DETACH,
			.sockets = VM,
			.req = {BODY(nest_vm_detach, flags, NEST_DETACH_F_VALID)},
		},
	[NEST_OP_MEM_ADD] =
		{
			.name = "MEM_ADD",
			.op = NEST_OP_MEM_ADD,
			.sockets = VM,
			.req = {BODY(nest_mem_add, fd_offset, NEST_MEM_F_VALID), .min_fds = 1,
				.max_fds = 1},
		},
	[NEST_OP_MEM_REMOVE] =
		{
			.name = "MEM_REMOVE",
			.op = NEST_OP_MEM_REMOVE,
			.sockets = VM,
			.req = {BODY(nest_mem_remove, len, NEST_MEM_REMOVE_F_VALID)},
		},
	[NEST_OP_DEVICE_GET] =
		{
			.name = "DEVICE_GET",
			.op = NEST_OP_DEVICE_GET,
			.sockets = VM,
			.req = {BODY(nest_device_get, dev_id, 0), .nreserved = 1,
				.reserved = {RSV(nest_device_get, __reserved)}},
			.reply = {BODY(nest_device_info, name, NEST_DEVICE_F_VALID), .max_fds = 1},
		},
	[NEST_OP_PASID_ALLOC] =
		{
			.name = "PASID_ALLOC",
			.op = NEST_OP_PASID_ALLOC,
			.sockets = VM,
			/* gpasid is optional: only read with NEST_PASID_F_GPASID */
			.req = {BODY(nest_pasid_alloc, max, NEST_PASID_ALLOC_F_VALID),
				.nreserved = 1, .reserved = {RSV(nest_pasid_alloc, __reserved)}},
			.reply = {BODY_NOFLAGS(nest_pasid_reply, pasid)},
		},
	[NEST_OP_PASID_FREE] =
		{
			.name = "PASID_FREE",
			.op = NEST_OP_PASID_FREE,
			.sockets = VM,
			.req = {BODY(nest_pasid_free, max, 0)},
			.reply = {BODY_NOFLAGS(nest_pasid_reply, pasid)},
		},
	[NEST_OP_BIND] =
		{
			.name = "BIND",
			.op = NEST_OP_BIND,
			.sockets = VM,
			/* pat and emt are optional: only read with NEST_VTD_EMTE */
			.req = {BODY(nest_bind, vtd_flags, NEST_BIND_F_VALID), .nreserved = 1,
				.reserved = {RSV(nest_bind, __reserved)}},
		},
	[NEST_OP_UNBIND] =
		{
			.name = "UNBIND",
			.op = NEST_OP_UNBIND,
			.sockets = VM,
			/* dev_id (1.2, was __reserved) is optional: read with DEVICE only */
			.req = {BODY(nest_unbind, hpasid, NEST_UNBIND_F_VALID)},
		},
	[NEST_OP_INVALIDATE] =
		{
			.name = "INVALIDATE",
			.op = NEST_OP_INVALIDATE,
			.sockets = VM,
			.req = {BODY(nest_invalidate, entry_num, NEST_INVALIDATE_F_VALID),
				.tail = NEST_TAIL_ARRAY},
			.reply = {BODY_NOFLAGS(nest_invalidate_reply, first_error), .nreserved = 1,
				  .reserved = {RSV(nest_invalidate_reply, __reserved)}},
		},
	[NEST_OP_SIM_DMA] =
		{
			.name = "SIM_DMA",
			.op = NEST_OP_SIM_DMA,
			.sockets = VM,
			.req = {BODY(nest_sim_dma, len, NEST_DMA_F_VALID), .tail = NEST_TAIL_DATA,
				.nreserved = 1, .reserved = {RSV(nest_sim_dma, __reserved)}},
			.reply = {BODY_NOFLAGS(nest_sim_dma_reply, fault_addr),
				  .tail = NEST_TAIL_DATA, .nreserved = 1,
				  .reserved = {RSV(nest_sim_dma_reply, __reserved)}},
		},
	[NEST_OP_ADMIN] =
		{
			.name = "ADMIN",
			.op = NEST_OP_ADMIN,
			.sockets = ADMIN,
			.req = {.flags_valid = UINT32_MAX, .tail = NEST_TAIL_JSON},
			.reply = {.flags_valid = UINT32_MAX, .tail = NEST_TAIL_JSON},
		},
	[NEST_OP_BIND_NATIVE] =
		{
			.name = "BIND_NATIVE",
			.op = NEST_OP_BIND_NATIVE,
			.sockets = VM,
			.req = {BODY(nest_bind_native, data_len, NEST_BIND_NATIVE_F_VALID),
				.tail = NEST_TAIL_BLOB,
				.len_off = offsetof(struct nest_bind_native, data_len)},
		},
	[NEST_OP_INVALIDATE_NATIVE] =
		{
			.name = "INVALIDATE_NATIVE",
			.op = NEST_OP_INVALIDATE_NATIVE,
			.sockets = VM,
			.req = {BODY(nest_invalidate_native, data_type, NEST_INV_NATIVE_F_VALID),
				.tail = NEST_TAIL_NATIVE_ARRAY},
			.reply = {BODY_NOFLAGS(nest_invalidate_reply, first_error), .nreserved = 1,
				  .reserved = {RSV(nest_invalidate_reply, __reserved)}},
		},
	[NEST_OP_PAGE_RESPONSE] =
		{
			.name = "PAGE_RESPONSE",
			.op = NEST_OP_PAGE_RESPONSE,
			.sockets = VM,
			.req = {BODY(nest_page_response, code, NEST_PAGE_RESP_F_VALID)},
		},
	[NEST_OP_VIOMMU_ALLOC] =
		{
			.name = "VIOMMU_ALLOC",
			.op = NEST_OP_VIOMMU_ALLOC,
			.sockets = VM,
			.req = {BODY(nest_viommu_alloc, type, NEST_VIOMMU_F_VALID)},
			.reply = {BODY_NOFLAGS(nest_viommu_reply, viommu_id)},
		},
	[NEST_OP_VIOMMU_FREE] =
		{
			.name = "VIOMMU_FREE",
			.op = NEST_OP_VIOMMU_FREE,
			.sockets = VM,
			.req = {BODY(nest_viommu_free, viommu_id, NEST_VIOMMU_F_VALID),
				.nreserved = 1, .reserved = {RSV(nest_viommu_free, __reserved)}},
		},
	[NEST_OP_VDEVICE_ALLOC] =
		{
			.name = "VDEVICE_ALLOC",
			.op = NEST_OP_VDEVICE_ALLOC,
			.sockets = VM,
			.req = {BODY(nest_vdevice_alloc, virt_id, NEST_VIOMMU_F_VALID)},
		},
	[NEST_OP_VIOMMU_INVALIDATE] =
		{
			.name = "VIOMMU_INVALIDATE",
			.op = NEST_OP_VIOMMU_INVALIDATE,
			.sockets = VM,
			.req = {BODY(nest_viommu_invalidate, data_type, NEST_VIOMMU_F_VALID),
				.tail = NEST_TAIL_NATIVE_ARRAY},
			.reply = {BODY_NOFLAGS(nest_invalidate_reply, first_error), .nreserved = 1,
				  .reserved = {RSV(nest_invalidate_reply, __reserved)}},
		},
	[NEST_OP_VIOMMU_ATTACH] =
		{
			.name = "VIOMMU_ATTACH",
			.op = NEST_OP_VIOMMU_ATTACH,
			.sockets = VM,
			.req = {BODY(nest_viommu_attach, data_len, NEST_VIOMMU_F_VALID),
				.tail = NEST_TAIL_BLOB,
				.len_off = offsetof(struct nest_viommu_attach, data_len)},
		},
	[NEST_OP_VIOMMU_DETACH] =
		{
			.name = "VIOMMU_DETACH",
			.op = NEST_OP_VIOMMU_DETACH,
			.sockets = VM,
			.req = {BODY(nest_viommu_detach, dev_id, NEST_VIOMMU_F_VALID)},
		},
	[NEST_OP_DEVICE_PUT] =
		{
			.name = "DEVICE_PUT",
			.op = NEST_OP_DEVICE_PUT,
			.sockets = VM,
			.req = {BODY(nest_device_put, dev_id, 0), .nreserved = 1,
				.reserved = {RSV(nest_device_put, __reserved)}},
		},
	[NEST_OP_DEVICE_HOT_RESET] =
		{
			.name = "DEVICE_HOT_RESET",
			.op = NEST_OP_DEVICE_HOT_RESET,
			.sockets = VM,
			.req = {BODY(nest_device_hot_reset, dev_id, 0), .nreserved = 1,
				.reserved = {RSV(nest_device_hot_reset, __reserved)}},
		},
	[NEST_OP_VM_IOVA_INFO] =
		{
			.name = "VM_IOVA_INFO",
			.op = NEST_OP_VM_IOVA_INFO,
			.sockets = VM,
			.req = {BODY(nest_vm_iova_info_req, flags, 0)},
			.reply = {BODY(nest_vm_iova_info, ranges, NEST_IOVA_F_VALID),
				  .nreserved = 1, .reserved = {RSV(nest_vm_iova_info, __reserved)}},
		},
	[NEST_EV_FAULT] =
		{
			.name = "EV_FAULT",
			.op = NEST_EV_FAULT,
			.is_event = 1,
			.req = {BODY_NOFLAGS(nest_ev_fault, access), .nreserved = 1,
				.reserved = {RSV(nest_ev_fault, __reserved)}},
		},
	[NEST_EV_DEVICE_GONE] =
		{
			.name = "EV_DEVICE_GONE",
			.op = NEST_EV_DEVICE_GONE,
			.is_event = 1,
			.req = {BODY_NOFLAGS(nest_ev_device_gone, dev_id)},
		},
	[NEST_EV_SHUTDOWN] =
		{
			.name = "EV_SHUTDOWN",
			.op = NEST_EV_SHUTDOWN,
			.is_event = 1,
			.req = {BODY_NOFLAGS(nest_ev_shutdown, reason)},
		},
	[NEST_EV_STALE] =
		{
			.name = "EV_STALE",
			.op = NEST_EV_STALE,
			.is_event = 1,
			.req = {BODY_NOFLAGS(nest_ev_stale, current_fault), .nreserved = 1,
				.reserved = {RSV(nest_ev_stale, __reserved)}},
		},
	[NEST_EV_PAGE_REQUEST] =
		{
			.name = "EV_PAGE_REQUEST",
			.op = NEST_EV_PAGE_REQUEST,
			.is_event = 1,
			.req = {BODY(nest_ev_page_request, cookie, NEST_PRQ_F_VALID)},
		},
	[NEST_EV_VEVENT] =
		{
			.name = "EV_VEVENT",
			.op = NEST_EV_VEVENT,
			.is_event = 1,
			.req = {BODY(nest_ev_vevent, data_len, NEST_VEVENT_F_VALID),
				.tail = NEST_TAIL_VEVENT,
				.len_off = offsetof(struct nest_ev_vevent, data_len),
				.nreserved = 1, .reserved = {RSV(nest_ev_vevent, __reserved)}},
		},
	[NEST_EV_UNBOUND] =
		{
			.name = "EV_UNBOUND",
			.op = NEST_EV_UNBOUND,
			.is_event = 1,
			.req = {BODY_NOFLAGS(nest_ev_unbound, reason)},
		},
};

const struct nest_op_desc *nest_op_desc(uint32_t op)
{
	if (op >= NEST_OP_MAX || !nest_op_table[op].name)
		return NULL;
	return &nest_op_table[op];
}

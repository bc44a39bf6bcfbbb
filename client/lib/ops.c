/* SPDX-License-Identifier: MIT */
/*
 * ops.c - the blocking VM-socket operations, one wire request each (client_call()).
 */
#include <errno.h>
#include <string.h>

#include "client-internal.h"
#include "nest-fds.h"

#define CLIENT_CHECK(c)                                                                            \
	do {                                                                                       \
		if (!(c))                                                                          \
			return -EINVAL;                                                            \
	} while (0)

/*
 * nest_vm_attach() has two versions (libnest.sym): LIBNEST_0.2, the default, fills the whole
 * struct nest_vm_info of protocol 1.1 (112 bytes); LIBNEST_0.1 serves programs built against the
 * 1.0 header, whose struct is 72 bytes, and writes only those. Both get the reply zero-extended
 * to this build's struct (a 1.0 nestd sends 72 bytes), so the 1.1 fields read 0 from old daemons.
 */
static int vm_attach(nest_client *c, const char *name, uint32_t flags, void *ret, size_t ret_len)
{
	struct nest_vm_attach req = {.size = sizeof(req), .flags = flags};
	struct client_sync s;
	size_t len;
	int r;

	CLIENT_CHECK(c);
	len = name ? strlen(name) : 0;
	if (len == 0 || len >= sizeof(req.name)) {
		client_set_error(c, 0, "VM_ATTACH: VM name must be 1..%u bytes",
				 NEST_VM_NAME_MAX - 1);
		return -EINVAL;
	}
	memcpy(req.name, name, len);
	client_sync_init(&s);
	r = client_call(c, NEST_OP_VM_ATTACH, &req, sizeof(req), NULL, 0, &s);
	if (r < 0)
		return r;
	if (ret)
		memcpy(ret, s.fixed, ret_len);
	return 0;
}

NEST_PUBLIC int nest_vm_attach_v0_2(nest_client *c, const char *name, uint32_t flags,
				    struct nest_vm_info *ret);
NEST_PUBLIC int nest_vm_attach_v0_1(nest_client *c, const char *name, uint32_t flags, void *ret);
__asm__(".symver nest_vm_attach_v0_2, nest_vm_attach@@LIBNEST_0.2");
__asm__(".symver nest_vm_attach_v0_1, nest_vm_attach@LIBNEST_0.1");

NEST_PUBLIC int nest_vm_attach_v0_2(nest_client *c, const char *name, uint32_t flags,
				    struct nest_vm_info *ret)
{
	return vm_attach(c, name, flags, ret, sizeof(*ret));
}

NEST_PUBLIC int nest_vm_attach_v0_1(nest_client *c, const char *name, uint32_t flags, void *ret)
{
	return vm_attach(c, name, flags, ret, NEST_VM_INFO_SIZE_1_0);
}

NEST_PUBLIC int nest_vm_detach(nest_client *c, uint32_t flags)
{
	struct nest_vm_detach req = {.size = sizeof(req), .flags = flags};
	struct client_sync s;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	return client_call(c, NEST_OP_VM_DETACH, &req, sizeof(req), NULL, 0, &s);
}

NEST_PUBLIC int nest_mem_add(nest_client *c, uint64_t gpa, uint64_t len, int memfd, uint64_t offset,
			     uint32_t flags)
{
	struct nest_mem_add req = {
		.size = sizeof(req), .flags = flags, .gpa = gpa, .len = len, .fd_offset = offset};
	struct client_sync s;

	CLIENT_CHECK(c);
	if (memfd < 0)
		return -EBADF;
	client_sync_init(&s);
	/* the fd is duplicated into nestd by the kernel; we keep ours */
	return client_call(c, NEST_OP_MEM_ADD, &req, sizeof(req), &memfd, 1, &s);
}

NEST_PUBLIC int nest_mem_remove(nest_client *c, uint64_t gpa, uint64_t len)
{
	struct nest_mem_remove req = {.size = sizeof(req), .gpa = gpa, .len = len};
	struct client_sync s;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	return client_call(c, NEST_OP_MEM_REMOVE, &req, sizeof(req), NULL, 0, &s);
}

NEST_PUBLIC int nest_mem_remove_range(nest_client *c, uint64_t gpa, uint64_t len, uint32_t flags)
{
	struct nest_mem_remove req = {.size = sizeof(req), .flags = flags, .gpa = gpa, .len = len};
	struct client_sync s;

	CLIENT_CHECK(c);
	if (!flags || (flags & ~(uint32_t)NEST_MEM_REMOVE_F_VALID))
		return -EINVAL;
	client_sync_init(&s);
	return client_call(c, NEST_OP_MEM_REMOVE, &req, sizeof(req), NULL, 0, &s);
}

NEST_PUBLIC int nest_device_put(nest_client *c, uint32_t dev_id)
{
	struct nest_device_put req = {.size = sizeof(req), .dev_id = dev_id};
	struct client_sync s;
	int r;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	r = client_call(c, NEST_OP_DEVICE_PUT, &req, sizeof(req), NULL, 0, &s);
	if (r == -ENOTTY) {
		client_set_error(c, 0, "DEVICE_PUT: this nestd does not know the op");
		return -EOPNOTSUPP;
	}
	return r;
}

NEST_PUBLIC int nest_device_hot_reset(nest_client *c, uint32_t dev_id)
{
	struct nest_device_hot_reset req = {.size = sizeof(req), .dev_id = dev_id};
	struct client_sync s;
	int r;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	r = client_call(c, NEST_OP_DEVICE_HOT_RESET, &req, sizeof(req), NULL, 0, &s);
	if (r == -ENOTTY) {
		client_set_error(c, 0, "DEVICE_HOT_RESET: this nestd does not know the op");
		return -EOPNOTSUPP;
	}
	return r;
}

/*
 * What the wire layout cannot say of a VM_IOVA_INFO reply, checked before a VMM builds its
 * address map from it (PROTOCOL.md §8.23): at most NEST_IOVA_RANGES_MAX ranges, each
 * start <= last, sorted and disjoint, and a page size when there is a range.
 */
static int iova_info_check(nest_client *c, const struct nest_vm_iova_info *v)
{
	bool ok = v->num_ranges <= NEST_IOVA_RANGES_MAX && (v->pgsizes || !v->num_ranges);

	for (uint32_t i = 0; ok && i < v->num_ranges; i++)
		ok = v->ranges[i].start <= v->ranges[i].last &&
		     (i == 0 || v->ranges[i - 1].last < v->ranges[i].start);
	if (ok)
		return 0;
	client_set_error(c, EPROTO, "VM_IOVA_INFO: nestd's reply has no valid range list");
	return -EPROTO;
}

NEST_PUBLIC int nest_vm_iova_info(nest_client *c, struct nest_vm_iova_info *ret)
{
	struct nest_vm_iova_info_req req = {.size = sizeof(req)};
	struct client_sync s;
	int r;

	CLIENT_CHECK(c);
	if (!ret)
		return -EINVAL;
	client_sync_init(&s);
	r = client_call(c, NEST_OP_VM_IOVA_INFO, &req, sizeof(req), NULL, 0, &s);
	if (r == -ENOTTY) {
		client_set_error(c, 0, "VM_IOVA_INFO: this nestd does not know the op");
		return -EOPNOTSUPP;
	}
	if (r < 0)
		return r;
	memcpy(ret, s.fixed, sizeof(*ret));
	return iova_info_check(c, ret);
}

NEST_PUBLIC int nest_device_get(nest_client *c, uint32_t dev_id, struct nest_device_info *ret,
				int *ret_fd)
{
	struct nest_device_get req = {.size = sizeof(req), .dev_id = dev_id};
	struct client_sync s;
	int r;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	r = client_call(c, NEST_OP_DEVICE_GET, &req, sizeof(req), NULL, 0, &s);
	if (r < 0) {
		nest_fds_close(&s.fd, 1);
		return r;
	}
	if (ret)
		memcpy(ret, s.fixed, sizeof(*ret));
	if (ret_fd)
		*ret_fd = s.fd; /* ownership moves to the caller */
	else
		nest_fds_close(&s.fd, 1);
	return 0;
}

NEST_PUBLIC int nest_pasid_alloc(nest_client *c, uint32_t min, uint32_t max, uint32_t gpasid,
				 uint32_t *ret_pasid)
{
	struct nest_pasid_alloc req = {.size = sizeof(req), .min = min, .max = max};
	struct client_sync s;
	int r;

	CLIENT_CHECK(c);
	if (gpasid != NEST_GPASID_NONE) {
		req.flags = NEST_PASID_F_GPASID;
		req.gpasid = gpasid;
	}
	client_sync_init(&s);
	r = client_call(c, NEST_OP_PASID_ALLOC, &req, sizeof(req), NULL, 0, &s);
	if (r < 0)
		return r;
	if (ret_pasid)
		*ret_pasid = ((const struct nest_pasid_reply *)s.fixed)->pasid;
	return 0;
}

NEST_PUBLIC int nest_pasid_free(nest_client *c, uint32_t min, uint32_t max, uint32_t *ret_n)
{
	struct nest_pasid_free req = {.size = sizeof(req), .min = min, .max = max};
	struct client_sync s;
	int r;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	r = client_call(c, NEST_OP_PASID_FREE, &req, sizeof(req), NULL, 0, &s);
	if (r < 0)
		return r;
	if (ret_n)
		*ret_n = ((const struct nest_pasid_reply *)s.fixed)->pasid;
	return 0;
}

/* @known: the bytes of struct nest_bind the caller was built with (48 before 1.2). */
static int bind_known(nest_client *c, const struct nest_bind *b, size_t known)
{
	struct nest_bind req = {0};
	struct client_sync s;

	CLIENT_CHECK(c);
	if (!b)
		return -EINVAL;
	memcpy(&req, b, known);
	req.size = sizeof(req);
	client_sync_init(&s);
	return client_call(c, NEST_OP_BIND, &req, sizeof(req), NULL, 0, &s);
}

/*
 * struct nest_bind grew from 48 to 56 bytes in protocol 1.2 (dev_id): a program built against
 * the older header passes 48 bytes and gets nest_bind@LIBNEST_0.1, which reads only those.
 */
NEST_PUBLIC int nest_bind_v0_4(nest_client *c, const struct nest_bind *b);
NEST_PUBLIC int nest_bind_v0_1(nest_client *c, const struct nest_bind *b);
__asm__(".symver nest_bind_v0_4, nest_bind@@LIBNEST_0.4");
__asm__(".symver nest_bind_v0_1, nest_bind@LIBNEST_0.1");

NEST_PUBLIC int nest_bind_v0_4(nest_client *c, const struct nest_bind *b)
{
	return bind_known(c, b, sizeof(*b));
}

NEST_PUBLIC int nest_bind_v0_1(nest_client *c, const struct nest_bind *b)
{
	return bind_known(c, b, offsetof(struct nest_bind, dev_id));
}

NEST_PUBLIC int nest_bind_native(nest_client *c, uint32_t hpasid, uint32_t data_type,
				 const void *data, uint32_t len)
{
	return nest_bind_native_ex(c, 0, hpasid, 0, data_type, data, len);
}

NEST_PUBLIC int nest_bind_native_ex(nest_client *c, uint32_t flags, uint32_t hpasid,
				    uint32_t dev_id, uint32_t data_type, const void *data,
				    uint32_t len)
{
	_Alignas(8) uint8_t body[sizeof(struct nest_bind_native) + NEST_NATIVE_DATA_MAX];
	struct nest_bind_native req = {.size = sizeof(req),
				       .flags = flags,
				       .hpasid = hpasid,
				       .data_type = data_type,
				       .data_len = len,
				       .dev_id = dev_id};
	struct client_sync s;

	CLIENT_CHECK(c);
	if (!data || len == 0) {
		client_set_error(c, 0, "BIND_NATIVE: no data");
		return -EINVAL;
	}
	if (len > NEST_NATIVE_DATA_MAX) {
		client_set_error(c, 0, "BIND_NATIVE: data must be at most %u bytes",
				 NEST_NATIVE_DATA_MAX);
		return -E2BIG;
	}
	memcpy(body, &req, sizeof(req));
	memcpy(body + sizeof(req), data, len);
	client_sync_init(&s);
	return client_call(c, NEST_OP_BIND_NATIVE, body, sizeof(req) + len, NULL, 0, &s);
}

NEST_PUBLIC int nest_viommu_attach(nest_client *c, uint32_t viommu_id, uint32_t dev_id,
				   uint32_t data_type, const void *data, uint32_t len)
{
	_Alignas(8) uint8_t body[sizeof(struct nest_viommu_attach) + NEST_NATIVE_DATA_MAX];
	struct nest_viommu_attach req = {.size = sizeof(req),
					 .viommu_id = viommu_id,
					 .dev_id = dev_id,
					 .data_type = data_type,
					 .data_len = len};
	struct client_sync s;

	CLIENT_CHECK(c);
	if (!data || len == 0) {
		client_set_error(c, 0, "VIOMMU_ATTACH: no data");
		return -EINVAL;
	}
	if (len > NEST_NATIVE_DATA_MAX) {
		client_set_error(c, 0, "VIOMMU_ATTACH: data must be at most %u bytes",
				 NEST_NATIVE_DATA_MAX);
		return -E2BIG;
	}
	memcpy(body, &req, sizeof(req));
	memcpy(body + sizeof(req), data, len);
	client_sync_init(&s);
	return client_call(c, NEST_OP_VIOMMU_ATTACH, body, sizeof(req) + len, NULL, 0, &s);
}

NEST_PUBLIC int nest_viommu_detach(nest_client *c, uint32_t viommu_id, uint32_t dev_id)
{
	struct nest_viommu_detach req = {
		.size = sizeof(req), .viommu_id = viommu_id, .dev_id = dev_id};
	struct client_sync s;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	return client_call(c, NEST_OP_VIOMMU_DETACH, &req, sizeof(req), NULL, 0, &s);
}

NEST_PUBLIC int nest_page_response(nest_client *c, uint32_t cookie, uint32_t code)
{
	struct nest_page_response req = {.size = sizeof(req), .cookie = cookie, .code = code};
	struct client_sync s;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	return client_call(c, NEST_OP_PAGE_RESPONSE, &req, sizeof(req), NULL, 0, &s);
}

NEST_PUBLIC int nest_viommu_alloc(nest_client *c, uint32_t dev_id, uint32_t type, uint32_t *ret_id)
{
	struct nest_viommu_alloc req = {.size = sizeof(req), .dev_id = dev_id, .type = type};
	struct client_sync s;
	int r;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	r = client_call(c, NEST_OP_VIOMMU_ALLOC, &req, sizeof(req), NULL, 0, &s);
	if (r < 0)
		return r;
	if (ret_id)
		*ret_id = ((const struct nest_viommu_reply *)s.fixed)->viommu_id;
	return 0;
}

NEST_PUBLIC int nest_viommu_free(nest_client *c, uint32_t viommu_id)
{
	struct nest_viommu_free req = {.size = sizeof(req), .viommu_id = viommu_id};
	struct client_sync s;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	return client_call(c, NEST_OP_VIOMMU_FREE, &req, sizeof(req), NULL, 0, &s);
}

NEST_PUBLIC int nest_vdevice_alloc(nest_client *c, uint32_t viommu_id, uint32_t dev_id,
				   uint64_t virt_id)
{
	struct nest_vdevice_alloc req = {
		.size = sizeof(req), .viommu_id = viommu_id, .dev_id = dev_id, .virt_id = virt_id};
	struct client_sync s;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	return client_call(c, NEST_OP_VDEVICE_ALLOC, &req, sizeof(req), NULL, 0, &s);
}

NEST_PUBLIC int nest_unbind(nest_client *c, uint32_t hpasid)
{
	return nest_unbind_ex(c, 0, hpasid, 0);
}

NEST_PUBLIC int nest_unbind_ex(nest_client *c, uint32_t flags, uint32_t hpasid, uint32_t dev_id)
{
	struct nest_unbind req = {
		.size = sizeof(req), .flags = flags, .hpasid = hpasid, .dev_id = dev_id};
	struct client_sync s;

	CLIENT_CHECK(c);
	client_sync_init(&s);
	return client_call(c, NEST_OP_UNBIND, &req, sizeof(req), NULL, 0, &s);
}

NEST_PUBLIC int nest_debug_dma(nest_client *c, uint32_t dev_id, uint32_t pasid, uint64_t addr,
			       void *buf, size_t len, uint32_t flags, size_t *ret_done,
			       uint32_t *ret_fault_reason, uint64_t *ret_fault_addr)
{
	_Alignas(8) uint8_t body[sizeof(struct nest_sim_dma) + NEST_DMA_LEN_MAX];
	struct nest_sim_dma req = {.size = sizeof(req),
				   .flags = flags,
				   .dev_id = dev_id,
				   .pasid = pasid,
				   .addr = addr,
				   .len = (uint32_t)len};
	const struct nest_sim_dma_reply *rep;
	bool write = flags & NEST_DMA_F_WRITE;
	struct client_sync s;
	int r;

	CLIENT_CHECK(c);
	if (!buf || len == 0 || len > NEST_DMA_LEN_MAX) {
		client_set_error(c, 0, "SIM_DMA: length must be 1..%u", NEST_DMA_LEN_MAX);
		return -EINVAL;
	}
	memcpy(body, &req, sizeof(req));
	if (write)
		memcpy(body + sizeof(req), buf, len);
	client_sync_init(&s);
	if (!write) {
		s.tail_dst = buf;
		s.tail_cap = len;
	}
	r = client_call(c, NEST_OP_SIM_DMA, body, sizeof(req) + (write ? len : 0), NULL, 0, &s);
	if (r < 0)
		return r;
	rep = (const struct nest_sim_dma_reply *)s.fixed;
	if (rep->done > len || s.tail_len > len) {
		client_set_error(c, 0, "SIM_DMA: inconsistent reply (done %u, %zu data bytes)",
				 rep->done, s.tail_len);
		return -EPROTO;
	}
	if (ret_done)
		*ret_done = rep->done;
	if (ret_fault_reason)
		*ret_fault_reason = rep->fault_reason;
	if (ret_fault_addr)
		*ret_fault_addr = rep->fault_addr;
	if (rep->fault_reason) {
		client_set_error(c, 0, "SIM_DMA: fault %s at 0x%llx after %u bytes",
				 nest_fault_reason_name(rep->fault_reason),
				 (unsigned long long)rep->fault_addr, rep->done);
		return -EFAULT;
	}
	return 0;
}

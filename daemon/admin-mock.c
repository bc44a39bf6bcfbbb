/* SPDX-License-Identifier: MIT */
/*
 * admin-mock.c - mock.check_iotlb: read back the iommufd selftest mock's nested IOTLB slots of
 * a VM (attached or held), for tests of the nested paths without nesting hardware; and
 * mock.trigger_iopf: make a mock device of a VM issue a page request, for tests of the page
 * request paths without PRI hardware; mock.trigger_vevent / mock.check_dev_cache: make a mock device
 * raise a vIOMMU event and read back its virtual-device cache slots, for tests of the vIOMMU paths
 * without SMMUv3 hardware. Only on the admin socket: a VMM never gets to look at
 * kernel objects directly, nor to make a device fault.
 */
#include <errno.h>
#include <stdio.h>

#include "admin.h"
#include "conn.h"
#include "nest-caps.h"
#include "vm.h"

#define ADMIN_PRQ_PERMS                                                                            \
	(NEST_PRQ_PERM_READ | NEST_PRQ_PERM_WRITE | NEST_PRQ_PERM_EXEC | NEST_PRQ_PERM_PRIV)

int admin_mock_check_iotlb(struct conn *c, struct json_object *args, struct json_object *res,
			   char *err, size_t errlen)
{
	uint64_t dev, pasid, slot, value;
	struct vm *vm;
	int r = admin_arg_vm(c->d, args, "vm", &vm, err, errlen);

	if (r < 0)
		return r;
	if ((r = nest_json_get_u64(args, "device", 0, UINT32_MAX, 0, 1, &dev)) < 0 ||
	    (r = nest_json_get_u64(args, "pasid", 0, NEST_PASID_MAX, 0, 1, &pasid)) < 0 ||
	    (r = nest_json_get_u64(args, "slot", 0, 3, 0, 1, &slot)) < 0 ||
	    (r = nest_json_get_u64(args, "value", 0, UINT32_MAX, 0, 1, &value)) < 0) {
		snprintf(err, errlen, "bad arguments (device, pasid, slot 0..3, value required)");
		return r;
	}
	if (!c->d->be_ops->mock_check_iotlb) {
		snprintf(err, errlen, "backend %s has no mock devices", c->d->be_info.name);
		return -EOPNOTSUPP;
	}
	if (vm->state == VM_DETACHED) {
		snprintf(err, errlen, "VM %s is not attached", vm->cfg.name);
		return -ENOENT;
	}
	r = c->d->be_ops->mock_check_iotlb(c->d->be, vm->ctx, (uint32_t)dev, (uint32_t)pasid,
					   (uint32_t)slot, (uint32_t)value);
	if (r < 0 && r != -EINVAL) {
		snprintf(err, errlen, "VM %s device %u PASID %u: %s", vm->cfg.name, (unsigned)dev,
			 (unsigned)pasid,
			 r == -ENOENT ? "nothing bound" : "not a mock device, or the check failed");
		return r;
	}
	admin_add_bool(res, "match", r == 0);
	return 0;
}

int admin_mock_trigger_iopf(struct conn *c, struct json_object *args, struct json_object *res,
			    char *err, size_t errlen)
{
	uint64_t dev, pasid, addr, perm, grpid;
	struct vm *vm;
	int r = admin_arg_vm(c->d, args, "vm", &vm, err, errlen);

	if (r < 0)
		return r;
	if ((r = nest_json_get_u64(args, "device", 0, UINT32_MAX, 0, 1, &dev)) < 0 ||
	    (r = nest_json_get_u64(args, "pasid", 0, NEST_PASID_MAX, 0, 1, &pasid)) < 0 ||
	    (r = nest_json_get_addr(args, "addr", 0, 1, &addr)) < 0 ||
	    (r = nest_json_get_u64(args, "perm", 0, ADMIN_PRQ_PERMS, NEST_PRQ_PERM_READ, 0,
				   &perm)) < 0 ||
	    (r = nest_json_get_u64(args, "grpid", 0, UINT32_MAX, 0, 0, &grpid)) < 0) {
		snprintf(err, errlen,
			 "bad arguments (device, pasid 0..%u, addr required; perm 0..15, grpid)",
			 NEST_PASID_MAX);
		return r;
	}
	if (!c->d->be_ops->mock_trigger_iopf) {
		snprintf(err, errlen, "backend %s has no mock devices", c->d->be_info.name);
		return -EOPNOTSUPP;
	}
	if (vm->state == VM_DETACHED) {
		snprintf(err, errlen, "VM %s is not attached", vm->cfg.name);
		return -ENOENT;
	}
	if (vm_device_index(vm, (uint32_t)dev) < 0) {
		snprintf(err, errlen, "VM %s has no device %u", vm->cfg.name, (unsigned)dev);
		return -ENOENT;
	}
	r = c->d->be_ops->mock_trigger_iopf(c->d->be, vm->ctx, (uint32_t)dev, (uint32_t)pasid,
					    (uint32_t)grpid, (uint32_t)perm, addr);
	if (r < 0) {
		snprintf(err, errlen, "VM %s device %u: %s", vm->cfg.name, (unsigned)dev,
			 r == -EOPNOTSUPP ? "not a mock device"
					  : "the mock refused the page request");
		return r == -EPERM || r == -EPROTO ? -EIO : r;
	}
	return 0;
}

/* The VM (attached or held) and one of its devices, for the vIOMMU mock commands. */
static int admin_mock_vm_dev(struct conn *c, struct json_object *args, struct vm **ret_vm,
			     uint64_t *ret_dev, bool have_op, char *err, size_t errlen)
{
	int r = admin_arg_vm(c->d, args, "vm", ret_vm, err, errlen);

	if (r < 0)
		return r;
	if ((r = nest_json_get_u64(args, "device", 0, UINT32_MAX, 0, 1, ret_dev)) < 0) {
		snprintf(err, errlen, "bad arguments (device required)");
		return r;
	}
	if (!have_op) {
		snprintf(err, errlen, "backend %s has no mock devices", c->d->be_info.name);
		return -EOPNOTSUPP;
	}
	if ((*ret_vm)->state == VM_DETACHED) {
		snprintf(err, errlen, "VM %s is not attached", (*ret_vm)->cfg.name);
		return -ENOENT;
	}
	if (vm_device_index(*ret_vm, (uint32_t)*ret_dev) < 0) {
		snprintf(err, errlen, "VM %s has no device %u", (*ret_vm)->cfg.name,
			 (unsigned)*ret_dev);
		return -ENOENT;
	}
	return 0;
}

int admin_mock_trigger_vevent(struct conn *c, struct json_object *args, struct json_object *res,
			      char *err, size_t errlen)
{
	const struct nest_backend_ops *ops = c->d->be_ops;
	uint64_t dev;
	struct vm *vm;
	int r = admin_mock_vm_dev(c, args, &vm, &dev, ops->mock_trigger_vevent, err, errlen);

	if (r < 0)
		return r;
	r = ops->mock_trigger_vevent(c->d->be, vm->ctx, (uint32_t)dev);
	if (r < 0) {
		snprintf(err, errlen, "VM %s device %u: %s", vm->cfg.name, (unsigned)dev,
			 r == -EOPNOTSUPP ? "not a mock device"
			 : r == -ENOENT	  ? "no vDEVICE of it on a vIOMMU"
					  : "the mock refused the event");
		return r == -EPERM || r == -EPROTO ? -EIO : r;
	}
	return 0;
}

int admin_mock_check_dev_cache(struct conn *c, struct json_object *args, struct json_object *res,
			       char *err, size_t errlen)
{
	const struct nest_backend_ops *ops = c->d->be_ops;
	uint64_t dev, slot, value;
	struct vm *vm;
	int r;

	if ((r = nest_json_get_u64(args, "slot", 0, 3, 0, 1, &slot)) < 0 ||
	    (r = nest_json_get_u64(args, "value", 0, UINT32_MAX, 0, 1, &value)) < 0) {
		snprintf(err, errlen, "bad arguments (device, slot 0..3, value required)");
		return r;
	}
	r = admin_mock_vm_dev(c, args, &vm, &dev, ops->mock_check_dev_cache, err, errlen);
	if (r < 0)
		return r;
	r = ops->mock_check_dev_cache(c->d->be, vm->ctx, (uint32_t)dev, (uint32_t)slot,
				      (uint32_t)value);
	if (r < 0 && r != -EINVAL) {
		snprintf(err, errlen, "VM %s device %u: %s", vm->cfg.name, (unsigned)dev,
			 r == -EOPNOTSUPP ? "not a mock device" : "the check failed");
		return r == -EPERM || r == -EPROTO ? -EIO : r;
	}
	admin_add_bool(res, "match", r == 0);
	return 0;
}

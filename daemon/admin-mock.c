/* SPDX-License-Identifier: MIT */
/*
 * admin-mock.c - mock.check_iotlb: read back the iommufd selftest mock's nested IOTLB slots of
 * a VM (attached or held), for tests of the nested paths without nesting hardware. Only on the
 * admin socket: a VMM never gets to look at kernel objects directly.
 */
#include <errno.h>
#include <stdio.h>

#include "admin.h"
#include "conn.h"
#include "nest-caps.h"
#include "vm.h"

int admin_mock_check_iotlb(struct conn *c, struct json_object *args, struct json_object *res,
			   char *err, size_t errlen)
{
	uint64_t dev, pasid, slot, value;
	struct vm *vm;
	int r = admin_arg_vm(c->d, args, "vm", &vm, err, errlen);

	if (r < 0)
		return r;
	if ((r = nest_json_get_u64(args, "device", 0, UINT32_MAX, 0, 1, &dev)) < 0 ||
	    (r = nest_json_get_u64(args, "pasid", 1, NEST_PASID_MAX, 0, 1, &pasid)) < 0 ||
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

/* SPDX-License-Identifier: MIT */
/*
 * admin-vm.c - admin views of VMs: vm.list, vm.show, pasid.list, device.list.
 */
#include <errno.h>
#include <stdio.h>

#include "admin.h"
#include "conn.h"
#include "vm.h"

static void admin_vm_client(const struct vm *vm, struct json_object *o)
{
	if (vm->state == VM_ATTACHED) {
		admin_add_int(o, "uid", vm->uid);
		admin_add_int(o, "pid", vm->pid);
	} else {
		admin_add_null(o, "uid");
		admin_add_null(o, "pid");
	}
}

int admin_vm_list(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		  size_t errlen)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < c->d->n_vms; i++) {
		const struct vm *vm = c->d->vms[i];
		struct json_object *o = json_object_new_object();

		admin_add_str(o, "name", vm->cfg.name);
		admin_add_str(o, "state", vm_state_name(vm->state));
		admin_vm_client(vm, o);
		admin_add_int(o, "devices", (int64_t)vm->cfg.n_devices);
		admin_add_int(o, "regions", vm->n_regions);
		admin_add_int(o, "pasids", vm->n_pasids);
		admin_add_int(o, "bindings", vm->n_bound);
		admin_add_int(o, "mem_bytes", (int64_t)vm->mem_bytes);
		json_object_array_add(arr, o);
	}
	json_object_object_add(res, "vms", arr);
	return 0;
}

static struct json_object *admin_device_json(const struct vm *vm, size_t i, bool with_vm)
{
	const struct nestd_device_cfg *dc = &vm->cfg.devices[i];
	struct json_object *o = json_object_new_object();

	if (with_vm)
		admin_add_str(o, "vm", vm->cfg.name);
	admin_add_int(o, "id", dc->id);
	admin_add_str(o, "name", dc->name);
	admin_add_bool(o, "ats", dc->ats);
	admin_add_int(o, "pasid_bits", dc->pasid_bits);
	admin_add_bool(o, "taken", vm->devices[i].taken);
	/* 1.2: a stage-1 table on the device's RID (BIND / BIND_NATIVE with NEST_BIND_F_RID) */
	if (!vm->devices[i].rid_bound)
		admin_add_null(o, "rid_bind");
	else if (vm->devices[i].rid.native)
		admin_add_str(o, "rid_bind", "native");
	else
		admin_add_str(o, "rid_bind", "vtd-fl");
	return o;
}

static struct json_object *admin_pasid_json(const struct vm *vm, const struct vm_pasid *p,
					    bool with_vm)
{
	struct json_object *o = json_object_new_object();

	if (with_vm)
		admin_add_str(o, "vm", vm->cfg.name);
	admin_add_int(o, "pasid", p->pasid);
	if (p->has_gpasid)
		admin_add_int(o, "gpasid", p->gpasid);
	else
		admin_add_null(o, "gpasid");
	admin_add_bool(o, "bound", p->bound);
	{ /* 1.2: the devices the PASID is bound on (all of the VM's, or a DEVICE subset) */
		struct json_object *devs = json_object_new_array();

		for (size_t i = 0; i < vm->cfg.n_devices; i++)
			if (p->devs >> i & 1)
				json_object_array_add(devs,
						      json_object_new_int64(vm->cfg.devices[i].id));
		json_object_object_add(o, "devices", devs);
	}
	if (p->bound && !p->s1.native) /* a native binding's table address is the kernel data's */
		admin_add_hex(o, "gpgd", p->s1.bind.gpgd);
	else
		admin_add_null(o, "gpgd");
	if (with_vm)
		return o;
	if (p->bound && p->s1.native) {
		admin_add_str(o, "format", "native");
		admin_add_int(o, "data_type", p->s1.native_type);
		admin_add_null(o, "addr_width");
		admin_add_null(o, "vtd_flags");
	} else if (p->bound) {
		admin_add_str(o, "format", "vtd-fl");
		admin_add_null(o, "data_type");
		admin_add_int(o, "addr_width", p->s1.bind.addr_width);
		admin_add_int(o, "vtd_flags", (int64_t)p->s1.bind.vtd_flags);
	} else {
		admin_add_null(o, "format");
		admin_add_null(o, "data_type");
		admin_add_null(o, "addr_width");
		admin_add_null(o, "vtd_flags");
	}
	return o;
}

static struct json_object *admin_int_array(const uint32_t *v, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_int64(v[i]));
	return arr;
}

static struct json_object *admin_counters_json(const struct vm_counters *k)
{
	struct json_object *o = json_object_new_object();

	admin_add_int(o, "requests", (int64_t)k->requests);
	admin_add_int(o, "errors", (int64_t)k->errors);
	admin_add_int(o, "binds", (int64_t)k->binds);
	admin_add_int(o, "unbinds", (int64_t)k->unbinds);
	admin_add_int(o, "invalidations", (int64_t)k->invalidations);
	admin_add_int(o, "inv_entries", (int64_t)k->inv_entries);
	admin_add_int(o, "faults", (int64_t)k->faults);
	admin_add_int(o, "stale", (int64_t)k->stale);
	admin_add_int(o, "dma_bytes", (int64_t)k->dma_bytes);
	admin_add_int(o, "page_requests", (int64_t)k->page_requests);
	admin_add_int(o, "page_responses", (int64_t)k->page_responses);
	admin_add_int(o, "page_refusals", (int64_t)k->page_refusals);
	admin_add_int(o, "vevents", (int64_t)k->vevents);
	admin_add_int(o, "vevents_dropped", (int64_t)k->vevents_dropped);
	return o;
}

int admin_vm_show(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		  size_t errlen)
{
	struct json_object *devs = json_object_new_array(), *regs, *pas;
	const struct nestd_vm_cfg *pol;
	struct vm *vm;
	int r = admin_arg_vm(c->d, args, "name", &vm, err, errlen);

	if (r < 0) {
		json_object_put(devs);
		return r;
	}
	/* owners as attach checks them: the current configuration (vm_policy_allows()) */
	pol = nestd_config_find_vm(c->d->cfg, vm->cfg.name);
	if (!pol)
		pol = &vm->cfg;
	admin_add_str(res, "name", vm->cfg.name);
	admin_add_str(res, "state", vm_state_name(vm->state));
	admin_vm_client(vm, res);
	json_object_object_add(res, "owner_uids",
			       admin_int_array((const uint32_t *)pol->uids, pol->n_uids));
	json_object_object_add(res, "owner_gids",
			       admin_int_array((const uint32_t *)pol->gids, pol->n_gids));
	admin_add_int(res, "pasid_quota", vm->cfg.pasid_quota);
	admin_add_int(res, "mem_limit", (int64_t)vm->cfg.mem_limit);
	admin_add_int(res, "grace_sec", vm->cfg.grace_sec);
	admin_add_bool(res, "checker", vm->state != VM_DETACHED ? vm->checker : vm->cfg.checker);
	if (vm->mem_acct) { /* memory nestd brought into existence for the VM (sim) */
		struct nest_be_mem_acct_info mi;
		struct json_object *m = json_object_new_object();

		c->d->be_ops->mem_acct_info(c->d->be, vm->mem_acct, &mi);
		admin_add_int(m, "limit", (int64_t)mi.limit);
		admin_add_int(m, "bytes", (int64_t)mi.bytes);
		admin_add_int(m, "touched", (int64_t)mi.touched);
		admin_add_int(m, "released", (int64_t)mi.released);
		admin_add_int(m, "refused", (int64_t)mi.refused);
		admin_add_int(m, "files", mi.files);
		json_object_object_add(res, "materialized", m);
	}
	for (size_t i = 0; i < vm->cfg.n_devices; i++)
		json_object_array_add(devs, admin_device_json(vm, i, false));
	json_object_object_add(res, "devices", devs);
	regs = json_object_new_array();
	for (uint32_t i = 0; i < vm->n_regions; i++) {
		const struct vm_region *rg = &vm->regions[i];
		struct json_object *o = json_object_new_object();

		admin_add_hex(o, "gpa", rg->gpa);
		admin_add_hex(o, "len", rg->len);
		admin_add_hex(o, "fd_offset", rg->fd_offset);
		admin_add_bool(o, "read", rg->flags & NEST_MEM_F_READ);
		admin_add_bool(o, "write", rg->flags & NEST_MEM_F_WRITE);
		json_object_array_add(regs, o);
	}
	json_object_object_add(res, "regions", regs);
	pas = json_object_new_array();
	for (uint32_t i = 0; i < vm->n_pasids; i++)
		json_object_array_add(pas, admin_pasid_json(vm, &vm->pasids[i], false));
	json_object_object_add(res, "pasids", pas);
	pas = json_object_new_array();
	for (uint32_t i = 0; i < vm->n_viommus; i++) {
		struct json_object *o = json_object_new_object();
		struct json_object *att = json_object_new_array();

		admin_add_int(o, "id", vm->viommus[i].id);
		admin_add_int(o, "device", vm->viommus[i].dev_id);
		for (uint32_t j = 0; j < vm->viommus[i].n_attached; j++)
			json_object_array_add(att,
					      json_object_new_int64(vm->viommus[i].attached[j]));
		json_object_object_add(o, "attached", att);
		json_object_array_add(pas, o);
	}
	json_object_object_add(res, "viommus", pas);
	json_object_object_add(res, "counters", admin_counters_json(&vm->ctr));
	return 0;
}

int admin_pasid_list(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		     size_t errlen)
{
	struct json_object *arr, *jv = NULL;
	struct vm *only = NULL;
	int r;

	if (json_object_object_get_ex(args, "vm", &jv) && jv) {
		r = admin_arg_vm(c->d, args, "vm", &only, err, errlen);
		if (r < 0)
			return r;
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < c->d->n_vms; i++) {
		const struct vm *vm = c->d->vms[i];

		if (only && vm != only)
			continue;
		for (uint32_t j = 0; j < vm->n_pasids; j++)
			json_object_array_add(arr, admin_pasid_json(vm, &vm->pasids[j], true));
	}
	json_object_object_add(res, "pasids", arr);
	return 0;
}

int admin_device_list(struct conn *c, struct json_object *args, struct json_object *res, char *err,
		      size_t errlen)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < c->d->n_vms; i++) {
		const struct vm *vm = c->d->vms[i];

		if (vm->removed)
			continue;
		for (size_t j = 0; j < vm->cfg.n_devices; j++)
			json_object_array_add(arr, admin_device_json(vm, j, true));
	}
	json_object_object_add(res, "devices", arr);
	return 0;
}

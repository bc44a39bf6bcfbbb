/* SPDX-License-Identifier: MIT */
/*
 * vm-ops.c - VM_ATTACH and VM_DETACH handlers: policy check, attach / re-adopt, release.
 */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "vm.h"

/* NUL-terminated within the array, [A-Za-z0-9_.-]+ (PROTOCOL.md). */
static bool vm_ops_valid_name(const char *name, size_t cap)
{
	const char *end = memchr(name, '\0', cap);

	if (!end || end == name)
		return false;
	for (const char *p = name; p < end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

/*
 * The VM_ATTACH reply, sized for what the client understands (PROTOCOL.md §14): a client whose
 * HELLO said minor 0 gets the 72-byte 1.0 struct (it would refuse the longer one with E2BIG, §5)
 * and no 1.1 feature bit (NATIVE, PAGE_REQUESTS, VIOMMU); minor >= 1 gets all of it. Returns the
 * reply's length.
 */
static size_t vm_ops_info(const struct conn *c, const struct vm *vm, bool re,
			  struct nest_vm_info *info)
{
	const struct nest_backend_info *bi = &vm->info; /* per-VM nesting info, set at attach */
	bool v1_1 = c->peer_minor >= 1;
	uint32_t v1_2_feats = NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE;

	*info = (struct nest_vm_info){
		.size = sizeof(*info),
		.backend = bi->kind,
		.formats = bi->formats,
		.addr_widths = bi->addr_widths,
		.features = bi->features,
		.pasid_bits = bi->pasid_bits,
		.pasid_mode = bi->pasid_mode,
		.num_devices = (uint32_t)vm->cfg.n_devices,
		.pasid_quota = vm->cfg.pasid_quota,
		.max_regions = vm->cfg.max_regions,
		.mem_limit = vm->cfg.mem_limit,
		.cap_reg = bi->cap_reg,
		.ecap_reg = bi->ecap_reg,
		.reattached = re ? 1 : 0,
	};
	if (c->peer_minor < 2) /* a 1.1 client does not know the 1.2 flags those bits announce */
		info->features &= ~v1_2_feats;
	if (!v1_1) {
		info->features &=
			~(uint32_t)(NEST_FEAT_NATIVE | NEST_FEAT_PAGE_REQUESTS | NEST_FEAT_VIOMMU);
		return NEST_VM_INFO_SIZE_1_0;
	}
	info->hw_info_type = bi->hw_info_type;
	info->hwpt_data_type = bi->hwpt_data_type;
	info->inv_data_type = bi->inv_data_type;
	info->inv_entry_len = bi->inv_entry_len;
	info->viommu_type = bi->viommu_type;
	info->viommu_inv_data_type = bi->viommu_inv_data_type;
	info->viommu_inv_entry_len = bi->viommu_inv_entry_len;
	info->vevent_type = bi->vevent_type;
	info->vevent_len = bi->vevent_len;
	return sizeof(*info);
}

int op_vm_attach(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_vm_attach *a = rq->req;
	struct audit_rec ar = conn_audit_rec(c, NULL, -1, "attach");
	struct nest_vm_info info;
	size_t info_len;
	struct vm *vm;
	bool re = false;
	int r;

	if (c->vm)
		return -EBUSY; /* one VM per connection */
	if (!vm_ops_valid_name(a->name, sizeof(a->name)))
		return -EINVAL;
	if ((a->flags & NEST_ATTACH_F_CHECKER) && !(c->d->be_info.features & NEST_FEAT_CHECKER))
		return -EOPNOTSUPP; /* before the lookup: it must not depend on the VM existing */
	vm = nestd_find_vm(c->d, a->name);
	if (!vm) {
		char esc[4 * NEST_VM_NAME_MAX];

		/* audited (vm "-"), so a peer looping on unknown names is folded like any flood */
		ar.result = -ENOENT;
		audit_log(&ar, "attach refused: no such VM");
		log_msg(LOG_DEBUG, "attach: unknown VM name '%s'",
			log_escape(a->name, strnlen(a->name, sizeof(a->name)), esc, sizeof(esc)));
		return -ENOENT;
	}
	ar.vm = vm->cfg.name;
	/*
	 * A VM the peer may not attach answers exactly like one that does not exist (ENOENT, the
	 * connection stays), so VM names cannot be enumerated; the audit record says which it was.
	 */
	r = vm_policy_allows(vm, &c->peer) ? vm_attach(vm, c, a->flags & NEST_ATTACH_F_CHECKER, &re)
					   : -ENOENT;
	ar.result = r;
	audit_log(&ar, "%s",
		  !vm_policy_allows(vm, &c->peer)
			  ? "attach refused: this peer may not attach the VM (answered ENOENT, as "
			    "for a VM that does not exist)"
		  : r < 0 ? "attach refused"
		  : re	  ? "re-attached within grace period"
			  : "attached");
	if (r < 0)
		return r;
	c->vm = vm;
	info_len = vm_ops_info(c, vm, re, &info);
	op_reply_set(rp, &info, info_len);
	nestd_update_status(c->d);
	return 0;
}

int op_vm_detach(struct conn *c, struct op_req *rq, struct op_reply *rp)
{
	const struct nest_vm_detach *dt = rq->req;
	struct vm *vm = c->vm;
	struct audit_rec ar = conn_audit_rec(c, vm->cfg.name, -1, "detach");
	bool keep = dt->flags & NEST_DETACH_F_KEEP;

	audit_log(&ar, "%s", keep && vm->cfg.grace_sec ? "detached, state kept" : "detached");
	vm_release(vm, keep);
	nestd_update_status(c->d);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * config-vm.c - [VM] sections: one VM each, built in a scratch struct and published into the
 * config only when the section is complete and valid (Name=, at least one Owner=/Group=).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"

#define CFG_VM_QUOTA_MAX   65536u
#define CFG_VM_REGIONS_MAX 65536u
#define CFG_VM_GRACE_MAX   86400u
#define CFG_VM_MEM_MIN	   (UINT64_C(4) << 10) /* one page */
#define CFG_VM_MEM_MAX	   (UINT64_C(4) << 50) /* 4 PiB: a 52-bit guest address space */
#define CFG_VM_MEM_DEFAULT (UINT64_C(64) << 30)
#define CFG_DEV_ID_MAX	   0x7fffffffu
#define CFG_DEV_PASID_BITS 20u
#define CFG_DEV_NAME_EXTRA "_.:-"
#define CFG_DEV_OPTS_MAX   5 /* id, ats, pasid-bits, pci, mock */

/* MaxRegions= default 0 means "inherit [Limits] MaxRegionsPerVM"; resolved in config.c. */
static const struct cfg_num_key cfg_vm_num_keys[] = {
	{CFG_SEC_VM, "PASIDQuota", offsetof(struct nestd_vm_cfg, pasid_quota), 1, CFG_VM_QUOTA_MAX,
	 64},
	{CFG_SEC_VM, "MaxRegions", offsetof(struct nestd_vm_cfg, max_regions), 1,
	 CFG_VM_REGIONS_MAX, 0},
	{CFG_SEC_VM, "GracePeriodSec", offsetof(struct nestd_vm_cfg, grace_sec), 0,
	 CFG_VM_GRACE_MAX, 0},
};

void cfg_vm_defaults(struct nestd_vm_cfg *vm)
{
	memset(vm, 0, sizeof(*vm));
	for (size_t i = 0; i < sizeof(cfg_vm_num_keys) / sizeof(cfg_vm_num_keys[0]); i++)
		memcpy((char *)vm + cfg_vm_num_keys[i].off, &cfg_vm_num_keys[i].def,
		       sizeof(uint32_t));
	vm->mem_limit = CFG_VM_MEM_DEFAULT;
}

int cfg_vm_begin(struct cfg_parser *p)
{
	p->vm = calloc(1, sizeof(*p->vm));
	if (!p->vm) {
		cfg_error(p, NULL, "out of memory");
		return -ENOMEM;
	}
	cfg_vm_defaults(p->vm);
	p->vm_line = p->line;
	return 0;
}

/* Owner=/Group=: add @id to @ids unless present; @v empty resets the list. */
static int cfg_vm_add_id(struct cfg_parser *p, const char *key, uint32_t id, uint32_t *ids,
			 size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		if (ids[i] == id)
			return 0;
	if (*n >= NESTD_VM_OWNERS_MAX)
		return cfg_error(p, key, "too many entries (max %u)", NESTD_VM_OWNERS_MAX);
	ids[(*n)++] = id;
	return 0;
}

static int cfg_vm_owner(struct cfg_parser *p, const char *key, const char *v)
{
	struct nestd_vm_cfg *vm = p->vm;
	bool user = strcmp(key, "Owner") == 0;
	uint32_t id;
	int r;

	if (!*v) {
		if (user)
			vm->n_uids = 0;
		else
			vm->n_gids = 0;
		return 0;
	}
	if (user) {
		uid_t uid;

		r = cfg_parse_uid(p, key, v, &uid);
		id = (uint32_t)uid;
	} else {
		gid_t gid;

		r = cfg_parse_gid(p, key, v, &gid);
		id = (uint32_t)gid;
	}
	if (r < 0)
		return r;
	_Static_assert(sizeof(uid_t) == sizeof(uint32_t) && sizeof(gid_t) == sizeof(uint32_t),
		       "uid_t/gid_t are 32 bit");
	return user ? cfg_vm_add_id(p, key, id, (uint32_t *)vm->uids, &vm->n_uids)
		    : cfg_vm_add_id(p, key, id, (uint32_t *)vm->gids, &vm->n_gids);
}

/*
 * A PCI address "DDDD:BB:DD.F" or "BB:DD.F" (domain 0000), hex in either case, into the
 * canonical lower-case "DDDD:BB:DD.F" that sysfs uses.
 */
static int cfg_parse_pci(struct cfg_parser *p, const char *v, char *out)
{
	unsigned dom = 0, bus, dev, fn;
	int n = -1;

	if (strlen(v) == 12)
		sscanf(v, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n);
	else if (strlen(v) == 7)
		sscanf(v, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n);
	for (const char *q = v; n >= 0 && *q; q++)
		if (!strchr("0123456789abcdefABCDEF:.", *q))
			n = -1;
	if (n != (int)strlen(v) || dev > 0x1f || fn > 7)
		return cfg_error(p, "Device",
				 "pci=%s is not a PCI address (DDDD:BB:DD.F, e.g. 0000:00:04.0)",
				 cfg_esc(p, v));
	snprintf(out, NESTD_PCI_ADDR_MAX, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* One "opt=value" of a Device= line into @d; @seen tracks duplicates. */
static int cfg_dev_option(struct cfg_parser *p, char *tok, struct nestd_device_cfg *d,
			  unsigned *seen)
{
	static const char *const names[CFG_DEV_OPTS_MAX] = {"id", "ats", "pasid-bits", "pci",
							    "mock"};
	char *eq = strchr(tok, '=');
	unsigned i;

	if (!eq)
		return cfg_error(p, "Device", "'%s' is not an option=value pair", cfg_esc(p, tok));
	*eq = '\0';
	for (i = 0; i < CFG_DEV_OPTS_MAX; i++)
		if (strcmp(tok, names[i]) == 0)
			break;
	if (i == CFG_DEV_OPTS_MAX)
		return cfg_error(
			p, "Device",
			"unknown option '%s' (expected id=, ats=, pasid-bits=, pci=, mock=)",
			cfg_esc(p, tok));
	if (*seen & (1u << i))
		return cfg_error(p, "Device", "option %s= given twice", names[i]);
	*seen |= 1u << i;
	switch (i) {
	case 0:
		return cfg_parse_u32(p, "Device", eq + 1, 0, CFG_DEV_ID_MAX, &d->id);
	case 1:
		return cfg_parse_bool(p, "Device", eq + 1, &d->ats);
	case 2:
		return cfg_parse_u32(p, "Device", eq + 1, 1, CFG_DEV_PASID_BITS, &d->pasid_bits);
	case 3:
		return cfg_parse_pci(p, eq + 1, d->pci);
	default:
		return cfg_parse_bool(p, "Device", eq + 1, &d->mock);
	}
}

/* "NAME id=N [ats=yes|no] [pasid-bits=N]" (simulated) or "NAME id=N pci=ADDR" (host) */
static int cfg_vm_device(struct cfg_parser *p, const char *v)
{
	struct nestd_vm_cfg *vm = p->vm;
	struct nestd_device_cfg d = {.pasid_bits = CFG_DEV_PASID_BITS};
	char buf[4096 + 1], *save = NULL, *tok;
	unsigned seen = 0;
	int r;

	if (!*v) {
		vm->n_devices = 0;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", v); /* the tokenizer caps lines at 4096 bytes */
	tok = strtok_r(buf, " \t", &save);
	if (!cfg_valid_name(tok, sizeof(d.name), CFG_DEV_NAME_EXTRA))
		return cfg_error(p, "Device",
				 "'%s' is not a valid device name (1..%zu of A-Z a-z 0-9 _ . : -)",
				 cfg_esc(p, tok), sizeof(d.name) - 1);
	strcpy(d.name, tok);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		r = cfg_dev_option(p, tok, &d, &seen);
		if (r < 0)
			return r;
	}
	if (!(seen & 1u))
		return cfg_error(p, "Device", "%s: id= is required", d.name);
	if (d.pci[0] && d.mock)
		return cfg_error(p, "Device", "%s: pci= and mock=yes exclude each other", d.name);
	if (nestd_device_is_kernel(&d) && (seen & 6u))
		return cfg_error(p, "Device",
				 "%s: ats= and pasid-bits= describe simulated devices; a host "
				 "device (pci=) or mock device has what its IOMMU reports",
				 d.name);
	for (size_t i = 0; d.pci[0] && i < vm->n_devices; i++)
		if (strcmp(vm->devices[i].pci, d.pci) == 0)
			return cfg_error(p, "Device", "%s: pci=%s is already device %s", d.name,
					 d.pci, vm->devices[i].name);
	for (size_t i = 0; i < vm->n_devices; i++)
		if (nestd_device_is_kernel(&vm->devices[i]) != nestd_device_is_kernel(&d))
			return cfg_error(p, "Device",
					 "%s: VM %s mixes simulated devices and host devices "
					 "(pci=, mock=); a VM is served by one backend",
					 d.name, vm->name[0] ? vm->name : "(unnamed)");
	for (size_t i = 0; i < vm->n_devices; i++) {
		if (vm->devices[i].id == d.id)
			return cfg_error(p, "Device", "%s: id=%u is already used by %s", d.name,
					 d.id, vm->devices[i].name);
		if (strcmp(vm->devices[i].name, d.name) == 0)
			return cfg_error(p, "Device", "device name %s is used twice", d.name);
	}
	if (vm->n_devices >= NESTD_VM_DEVICES_MAX)
		return cfg_error(p, "Device", "too many devices (max %u)", NESTD_VM_DEVICES_MAX);
	vm->devices[vm->n_devices++] = d;
	return 0;
}

/* PASIDRange=MIN-MAX (1 <= MIN <= MAX <= 2^20-1); empty = the shared pool */
static int cfg_vm_pasid_range(struct cfg_parser *p, const char *v)
{
	struct nestd_vm_cfg *vm = p->vm;
	char lo[16];
	const char *dash = strchr(v, '-');
	uint32_t min, max;
	int r;

	if (!*v) {
		vm->pasid_min = vm->pasid_max = 0;
		return 0;
	}
	if (!dash || (size_t)(dash - v) >= sizeof(lo))
		return cfg_error(p, "PASIDRange", "'%s' is not MIN-MAX (e.g. 4096-8191)",
				 cfg_esc(p, v));
	memcpy(lo, v, (size_t)(dash - v));
	lo[dash - v] = '\0';
	r = cfg_parse_u32(p, "PASIDRange", lo, 1, NEST_PASID_MAX, &min);
	if (r == 0)
		r = cfg_parse_u32(p, "PASIDRange", dash + 1, 1, NEST_PASID_MAX, &max);
	if (r < 0)
		return r;
	if (min > max)
		return cfg_error(p, "PASIDRange", "%u-%u: MIN is above MAX", min, max);
	vm->pasid_min = min;
	vm->pasid_max = max;
	return 0;
}

int cfg_vm_assign(struct cfg_parser *p, const char *key, const char *v)
{
	struct nestd_vm_cfg *vm = p->vm;

	for (size_t i = 0; i < sizeof(cfg_vm_num_keys) / sizeof(cfg_vm_num_keys[0]); i++)
		if (strcmp(key, cfg_vm_num_keys[i].key) == 0)
			return cfg_num_assign(p, &cfg_vm_num_keys[i], vm, v);

	if (strcmp(key, "Name") == 0) {
		if (!cfg_valid_name(v, sizeof(vm->name), "_.-"))
			return cfg_error(
				p, key, "'%s' is not a valid VM name (1..%zu of A-Z a-z 0-9 _ . -)",
				cfg_esc(p, v), sizeof(vm->name) - 1);
		strcpy(vm->name, v);
		return 0;
	}
	if (strcmp(key, "Owner") == 0 || strcmp(key, "Group") == 0)
		return cfg_vm_owner(p, key, v);
	if (strcmp(key, "Device") == 0)
		return cfg_vm_device(p, v);
	if (strcmp(key, "MemoryLimit") == 0) {
		if (!*v) {
			vm->mem_limit = CFG_VM_MEM_DEFAULT;
			return 0;
		}
		return cfg_parse_size(p, key, v, CFG_VM_MEM_MIN, CFG_VM_MEM_MAX, &vm->mem_limit);
	}
	if (strcmp(key, "PASIDRange") == 0)
		return cfg_vm_pasid_range(p, v);
	if (strcmp(key, "Checker") == 0) {
		if (!*v) {
			vm->checker = false;
			return 0;
		}
		return cfg_parse_bool(p, key, v, &vm->checker);
	}
	return cfg_error(p, NULL, "%s: unknown key in [VM]", cfg_esc(p, key));
}

/* Validate the finished section and publish it (replacing an earlier VM of the same name). */
int cfg_vm_end(struct cfg_parser *p)
{
	struct nestd_config *c = p->c;
	struct nestd_vm_cfg *vm = p->vm, *nv;
	size_t i;

	if (!vm)
		return 0;
	p->line = p->vm_line; /* errors about the whole section point at its header */
	if (!vm->name[0])
		return cfg_error(p, "Name", "[VM] section without Name=");
	if (vm->n_uids == 0 && vm->n_gids == 0)
		return cfg_error(p, "Owner",
				 "VM %s has no Owner= or Group=, so no one could attach it",
				 vm->name);
	if (vm->pasid_max && vm->pasid_max - vm->pasid_min + 1 < vm->pasid_quota)
		return cfg_error(p, "PASIDRange",
				 "VM %s: %u-%u holds %u PASIDs, fewer than PASIDQuota=%u", vm->name,
				 vm->pasid_min, vm->pasid_max, vm->pasid_max - vm->pasid_min + 1,
				 vm->pasid_quota);
	for (i = 0; i < c->n_vms; i++) {
		if (strcmp(c->vms[i].name, vm->name) == 0)
			continue;
		if (vm->pasid_max && c->vms[i].pasid_max && vm->pasid_min <= c->vms[i].pasid_max &&
		    c->vms[i].pasid_min <= vm->pasid_max)
			return cfg_error(p, "PASIDRange",
					 "VM %s: %u-%u overlaps VM %s's %u-%u; PASID windows "
					 "are exclusive",
					 vm->name, vm->pasid_min, vm->pasid_max, c->vms[i].name,
					 c->vms[i].pasid_min, c->vms[i].pasid_max);
		if (vm->n_devices && c->vms[i].n_devices &&
		    nestd_device_is_kernel(&vm->devices[0]) !=
			    nestd_device_is_kernel(&c->vms[i].devices[0]))
			return cfg_error(
				p, "Device",
				"VM %s has %s devices but VM %s has %s ones; one nestd "
				"serves one backend",
				vm->name,
				nestd_device_is_kernel(&vm->devices[0]) ? "host" : "simulated",
				c->vms[i].name,
				nestd_device_is_kernel(&c->vms[i].devices[0]) ? "host"
									      : "simulated");
		for (size_t k = 0; k < vm->n_devices; k++)
			for (size_t j = 0; vm->devices[k].pci[0] && j < c->vms[i].n_devices; j++)
				if (strcmp(vm->devices[k].pci, c->vms[i].devices[j].pci) == 0)
					return cfg_error(p, "Device",
							 "pci=%s is given to VM %s and VM %s; a "
							 "host device belongs to one VM",
							 vm->devices[k].pci, c->vms[i].name,
							 vm->name);
	}
	for (i = 0; i < c->n_vms; i++)
		if (strcmp(c->vms[i].name, vm->name) == 0)
			break;
	if (i == c->n_vms) {
		if (c->n_vms >= NESTD_VMS_MAX)
			return cfg_error(p, NULL, "too many [VM] sections (max %u)", NESTD_VMS_MAX);
		nv = realloc(c->vms, (c->n_vms + 1) * sizeof(*nv));
		if (!nv) {
			cfg_error(p, NULL, "out of memory");
			return -ENOMEM;
		}
		c->vms = nv;
		c->n_vms++;
	}
	c->vms[i] = *vm;
	free(vm);
	p->vm = NULL;
	return 0;
}

void cfg_vm_dump(const struct nestd_vm_cfg *vm, FILE *f)
{
	char size[32];

	fprintf(f, "\n[VM]\nName=%s\n", vm->name);
	for (size_t i = 0; i < vm->n_uids; i++)
		fprintf(f, "Owner=%u\n", (unsigned)vm->uids[i]);
	for (size_t i = 0; i < vm->n_gids; i++)
		fprintf(f, "Group=%u\n", (unsigned)vm->gids[i]);
	cfg_format_size(vm->mem_limit, size, sizeof(size));
	fprintf(f, "PASIDQuota=%u\nMemoryLimit=%s\nMaxRegions=%u\nGracePeriodSec=%u\nChecker=%s\n",
		vm->pasid_quota, size, vm->max_regions, vm->grace_sec, vm->checker ? "yes" : "no");
	if (vm->pasid_max)
		fprintf(f, "PASIDRange=%u-%u\n", vm->pasid_min, vm->pasid_max);
	for (size_t i = 0; i < vm->n_devices; i++) {
		const struct nestd_device_cfg *d = &vm->devices[i];

		if (d->pci[0])
			fprintf(f, "Device=%s id=%u pci=%s\n", d->name, d->id, d->pci);
		else if (d->mock)
			fprintf(f, "Device=%s id=%u mock=yes\n", d->name, d->id);
		else
			fprintf(f, "Device=%s id=%u ats=%s pasid-bits=%u\n", d->name, d->id,
				d->ats ? "yes" : "no", d->pasid_bits);
	}
}

/* SPDX-License-Identifier: MIT */
/* Shared fixtures for the integration suites: a standard config and a started daemon. */
#ifndef NEST_IT_COMMON_H
#define NEST_IT_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "nest-test.h"
#include "tclient.h"

/* Two VMs owned by the test's uid: vm0 (2 devices, ATS on dev 1) and vm1 (1 device). */
static inline void it_std_conf(char *buf, size_t cap, const char *extra_vm0, const char *extra)
{
	snprintf(buf, cap,
		 "[Daemon]\nBackend=sim\n%s\n"
		 "[VM]\nName=vm0\nOwner=%s\nDevice=dsa0 id=1 ats=yes pasid-bits=20\n"
		 "Device=iax0 id=2\nPASIDQuota=8\nMaxRegions=4\nMemoryLimit=64M\n%s\n"
		 "[VM]\nName=vm1\nOwner=%s\nDevice=dsa1 id=7\nPASIDQuota=8\n",
		 extra ? extra : "", td_uid_str(), extra_vm0 ? extra_vm0 : "", td_uid_str());
}

static inline void it_start(struct td *d, const char *extra_vm0, const char *extra)
{
	char conf[2048];

	td_init(d);
	it_std_conf(conf, sizeof(conf), extra_vm0, extra);
	td_write_conf(d, conf);
	cr_assert_eq(td_start(d), 0, "nestd did not start");
}

static inline void it_stop(struct td *d)
{
	cr_assert_eq(td_stop(d), 0, "nestd did not exit 0 on SIGTERM");
}

/* Connected + HELLO done. */
static inline struct tc *it_client(struct td *d)
{
	struct tc *t = tc_connect(d->sock);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello(t), 0);
	return t;
}

static inline struct tc *it_admin(struct td *d)
{
	struct tc *t = tc_connect(d->admin);

	cr_assert_not_null(t);
	cr_assert_eq(tc_hello(t), 0);
	return t;
}

/* Audit lines of the captured log @log with "audit: op=@op " and every string of @also (a
 * NULL-terminated list; NULL: none). */
static inline long it_audit_lines(const char *log, const char *op, const char *const *also)
{
	char want[64], line[2048];
	FILE *f = fopen(log, "r");
	long n = 0;

	cr_assert_not_null(f);
	snprintf(want, sizeof(want), "audit: op=%s ", op);
	while (fgets(line, sizeof(line), f)) {
		bool all = strstr(line, want) != NULL;

		for (size_t i = 0; all && also && also[i]; i++)
			all = strstr(line, also[i]) != NULL;
		n += all;
	}
	fclose(f);
	return n;
}

/* it_audit_lines() with one string to find (@also NULL: none). */
static inline long it_audit_count(const char *log, const char *op, const char *also)
{
	const char *const list[] = {also, NULL};

	return it_audit_lines(log, op, list);
}

/* Integer field @key of admin "vm.list" entry of @vm (-1 if not found). */
static inline long it_vm_field(struct tc *a, const char *vm, const char *key)
{
	struct json_object *res = NULL, *vms, *e, *v;
	long out = -1;

	cr_assert_eq(tc_admin(a, "vm.list", NULL, &res), 0);
	cr_assert(json_object_object_get_ex(res, "vms", &vms));
	for (size_t i = 0; i < json_object_array_length(vms); i++) {
		e = json_object_array_get_idx(vms, i);
		if (json_object_object_get_ex(e, "name", &v) &&
		    strcmp(json_object_get_string(v), vm) == 0 &&
		    json_object_object_get_ex(e, key, &v))
			out = json_object_is_type(v, json_type_string)
				      ? (strcmp(json_object_get_string(v), "attached") == 0 ? 1
					 : strcmp(json_object_get_string(v), "held") == 0   ? 2
											    : 0)
				      : (long)json_object_get_int64(v);
	}
	json_object_put(res);
	return out;
}

/*
 * A guest: a 4 MiB sealed memfd at GPA 0 with x86-64 4-level tables at 0x1000 (PML4), 0x2000,
 * 0x3000, 0x4000 mapping GVA 0x400000 -> GPA 0x100000 and GVA 0x401000 -> GPA 0x101000 (RW, user).
 */
#define IT_MEM	     (4u << 20)
#define IT_GPGD	     0x1000u
#define IT_GVA	     0x400000u
#define IT_GPA	     0x100000u
#define IT_PTE_FLAGS 7u

struct it_guest {
	int fd;
	uint8_t *mem;
};

static inline void it_guest_init(struct it_guest *g)
{
	uint64_t *pml4, *pdpt, *pd, *pt;

	g->fd = tc_memfd(IT_MEM, true);
	cr_assert_geq(g->fd, 0);
	g->mem = mmap(NULL, IT_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd, 0);
	cr_assert_neq(g->mem, MAP_FAILED);
	pml4 = (uint64_t *)(g->mem + 0x1000);
	pdpt = (uint64_t *)(g->mem + 0x2000);
	pd = (uint64_t *)(g->mem + 0x3000);
	pt = (uint64_t *)(g->mem + 0x4000);
	pml4[0] = 0x2000 | IT_PTE_FLAGS;
	pdpt[0] = 0x3000 | IT_PTE_FLAGS;
	pd[2] = 0x4000 | IT_PTE_FLAGS;
	pt[0] = IT_GPA | IT_PTE_FLAGS;
	pt[1] = (IT_GPA + 0x1000) | IT_PTE_FLAGS;
}

static inline uint64_t *it_guest_pte(struct it_guest *g, unsigned idx)
{
	return (uint64_t *)(g->mem + 0x4000) + idx;
}

static inline void it_guest_fini(struct it_guest *g)
{
	munmap(g->mem, IT_MEM);
	close(g->fd);
}

/* attach vm, map the guest RW at GPA 0, allocate a PASID and bind the guest tables on it */
static inline uint32_t it_setup_vm(struct tc *t, const char *vm, struct it_guest *g,
				   uint32_t attach_flags)
{
	uint32_t pasid = 0;

	cr_assert_eq(tc_attach(t, vm, attach_flags, NULL), 0);
	cr_assert_eq(tc_mem_add(t, g->fd, 0, IT_MEM, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	cr_assert_eq(tc_pasid_alloc(t, 1, NEST_PASID_MAX, &pasid), 0);
	cr_assert_eq(tc_bind(t, pasid, IT_GPGD, 48, 0), 0);
	return pasid;
}

#endif /* NEST_IT_COMMON_H */

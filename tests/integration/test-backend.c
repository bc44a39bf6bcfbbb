/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the backend interface on the sim backend (kernel/backend.h contracts): selection,
 * VM-local device ids, events routed by cookie, unbind flushes the PASID's caches, teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "backend.h"
#include "nest-test.h"
#include "tclient.h"

struct rec {
	int faults;
	void *cookie;
	struct nest_ev_fault last;
};

static void on_fault(void *opaque, void *cookie, const struct nest_ev_fault *f)
{
	struct rec *r = opaque;

	r->faults++;
	r->cookie = cookie;
	r->last = *f;
}

static const struct nest_be_events events = {.fault = on_fault};

Test(backend, select_and_names)
{
	const struct nest_backend_ops *ops = NULL;
	struct nest_backend_params p = {.choice = NEST_BE_CHOICE_AUTO};
	const char *pci[] = {"0000:00:04.0"};
	char why[1024];

	cr_assert_eq(nest_backend_select(&p, &ops, why, sizeof(why)), 0);
	cr_expect_eq(ops, &nest_backend_sim_ops, "auto serves simulated devices with sim");
	cr_expect(strstr(why, "no host device"), "%s", why);
	/* a forced kernel backend that cannot run here fails with its probe's reason */
	p.choice = NEST_BE_CHOICE_IOMMUFD;
	if (access("/dev/iommu", F_OK) < 0) {
		cr_expect_eq(nest_backend_select(&p, &ops, why, sizeof(why)), -ENOENT);
		cr_expect(strstr(why, "/dev/iommu"), "%s", why);
	}
	/* sim never serves host devices, forced or not */
	p.host_pci = pci;
	p.n_host_pci = 1;
	p.choice = NEST_BE_CHOICE_SIM;
	cr_expect_eq(nest_backend_select(&p, &ops, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(why, "cannot serve host devices"), "%s", why);
	cr_expect_eq(nest_backend_choice_parse("vfio-nesting"), NEST_BE_CHOICE_VFIO_NESTING);
	cr_expect_eq(nest_backend_choice_parse("bogus"), -EINVAL);
	cr_expect_str_eq(nest_backend_choice_name(NEST_BE_CHOICE_SIM), "sim");
}

Test(backend, sim_contexts_devices_bind_unbind)
{
	const struct nest_backend_ops *ops = &nest_backend_sim_ops;
	struct nest_backend_params p = {.choice = NEST_BE_CHOICE_SIM};
	struct nest_backend *be = NULL;
	struct nest_be_ctx *a = NULL, *b = NULL;
	struct nest_backend_info info;
	struct rec rec = {0};
	int cookie_a, cookie_b, fd = -2;
	uint32_t pa = 0, pb = 0;

	cr_assert_eq(ops->open(&p, &events, &rec, &be), 0);
	ops->info(be, &info);
	cr_expect_eq(info.kind, NEST_BACKEND_SIM);
	cr_expect_eq(info.pasid_mode, NEST_PASID_MODE_SYSTEM);
	cr_expect_eq(info.pasid_bits, 20);
	cr_expect(info.features & NEST_FEAT_SIM_DMA);
	struct nest_be_ctx_params cp = {.pasid_quota = 4, .cookie = &cookie_a};
	cr_assert_eq(ops->ctx_new(be, &cp, &a), 0);
	cp.cookie = &cookie_b;
	cr_assert_eq(ops->ctx_new(be, &cp, &b), 0);

	/* the same VM-local dev_id in two contexts */
	struct nest_be_dev dev = {.dev_id = 1, .name = "d", .ats = true, .pasid_bits = 20};
	cr_assert_eq(ops->device_attach(be, a, &dev, &fd), 0);
	cr_expect_eq(fd, -1, "the sim hands out no device fd");
	cr_assert_eq(ops->device_attach(be, b, &dev, &fd), 0);
	cr_expect_eq(ops->device_attach(be, a, &dev, &fd), -EEXIST);

	/* guest memory + tables: GVA 0x400000 -> GPA 0x100000 */
	int mfd = tc_memfd(4u << 20, true);
	uint8_t *mem = mmap(NULL, 4u << 20, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	cr_assert_neq(mem, MAP_FAILED);
	((uint64_t *)(mem + 0x1000))[0] = 0x2000 | 7;
	((uint64_t *)(mem + 0x2000))[0] = 0x3000 | 7;
	((uint64_t *)(mem + 0x3000))[2] = 0x4000 | 7;
	((uint64_t *)(mem + 0x4000))[0] = 0x100000 | 7;
	cr_assert_eq(ops->map(be, a, 0, 4u << 20, mfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);
	close(mfd); /* the mapping outlives the fd */
	cr_assert_eq(ops->pasid_alloc(be, a, NEST_BE_DEV_NONE, 1, 100, &pa), 0);
	cr_assert_eq(ops->pasid_alloc(be, b, NEST_BE_DEV_NONE, 1, 100, &pb), 0);
	cr_expect_neq(pa, pb, "system-wide PASIDs");
	struct nest_be_bind bb = {
		.format = NEST_BIND_FMT_VTD_FL, .addr_width = 48, .gpgd = 0x1000, .hpasid = pa};
	cr_assert_eq(ops->bind(be, a, 1, &bb), 0);
	cr_expect_eq(ops->bind(be, a, 1, &bb), -EBUSY);
	bb.hpasid = pb;
	cr_expect_eq(ops->bind(be, a, 1, &bb), -ENOENT, "b's PASID is not a's");

	struct nest_be_xlate x;
	struct nest_ev_fault f;
	cr_assert_eq(ops->translate(be, a, 1, pa, 0x400000, NEST_ACCESS_READ, &x, &f), 0);
	cr_expect_eq(x.gpa, 0x100000);
	cr_assert_eq(ops->translate(be, a, 1, pa, 0x400000, NEST_ACCESS_READ, &x, &f), 0);
	cr_expect(x.cached);
	/* unbind flushes: the next access faults instead of hitting a cached translation */
	ops->unbind(be, a, 1, pa);
	cr_expect_eq(ops->translate(be, a, 1, pa, 0x400000, NEST_ACCESS_READ, &x, &f), -EFAULT);
	cr_expect_eq(f.reason, NEST_FAULT_PASID_NOT_PRESENT);
	cr_expect_eq(rec.faults, 1);
	cr_expect_eq(rec.cookie, &cookie_a, "fault routed by the context's cookie");
	cr_expect_eq(rec.last.dev_id, 1, "VM-local device id");
	ops->unbind(be, a, 1, pa); /* no-op */

	struct json_object *ctr = NULL, *v;
	cr_assert_eq(ops->counters(be, &ctr), 0);
	cr_assert(json_object_object_get_ex(ctr, "translations", &v));
	cr_expect_geq(json_object_get_int64(v), 3);
	json_object_put(ctr);

	ops->pasid_free(be, a, NEST_BE_DEV_NONE, pa);
	ops->unmap(be, a, 0, 4u << 20);
	ops->device_detach(be, a, 1);
	ops->ctx_free(be, a);
	munmap(mem, 4u << 20);
	ops->close(be); /* frees b and everything in it */
	NO_LEAKS();
}

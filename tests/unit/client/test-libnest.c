/* SPDX-License-Identifier: MIT */
/*
 * test-libnest.c - libnest against a real nestd (sim backend): HELLO limits, every call's happy
 * path, pipelining, batch splitting, events, error mapping, fd hygiene, the native ops on a
 * backend without them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client-test.h"
#include "guest-pt.h"

#define RAM (4ull << 20)

static struct nestd_proc d;

static void setup(void)
{
	nestd_start(&d, NULL);
}

static void teardown(void)
{
	nestd_stop(&d);
}

TestSuite(libnest, .init = setup, .fini = teardown, .timeout = 60);

Test(libnest, connect_and_limits)
{
	struct nest_limits l;
	nest_client *c = NULL;

	cr_assert_eq(nest_client_connect(d.sock, 0, &c), 0);
	cr_assert_eq(nest_client_get_limits(c, &l), 0);
	cr_expect_eq(l.proto_major, NEST_PROTO_MAJOR);
	cr_expect_eq(l.max_msg_size, NEST_MSG_SIZE_DEFAULT);
	cr_expect_eq(l.max_batch, NEST_BATCH_DEFAULT);
	cr_expect_eq(l.max_inflight, NEST_INFLIGHT_DEFAULT);
	cr_expect_eq(l.max_fds, NEST_FDS_PER_MSG_MAX);
	cr_expect(l.features & NEST_FEAT_SIM_DMA);
	cr_expect(strncmp(l.software, "nestd", 5) == 0, "software '%s'", l.software);
	cr_expect(nest_client_get_fd(c) >= 0);
	cr_expect_eq(nest_client_inflight(c), 0);
	cr_expect_eq(fcntl(nest_client_get_fd(c), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	nest_client_free(c);

	c = (nest_client *)0x1;
	cr_expect_eq(nest_client_connect("/nonexistent/nestd.sock", 0, &c), -ENOENT);
	cr_expect_eq(c, (nest_client *)0x1, "ret written on failure");
	cr_expect_eq(nest_client_connect(d.sock, 1, &c), -EOPNOTSUPP);
	cr_expect_null(nest_client_free(NULL));
	NO_LEAKS();
}

/* A PASID bound to a page table whose only mapping is @gva -> @gpa (RW, user). */
static uint32_t bind_one(struct test_vm *t, uint64_t gva, uint64_t gpa)
{
	struct guest_ram g;
	struct nest_bind b = {.format = NEST_BIND_FMT_VTD_FL, .addr_width = 48};
	uint32_t pasid = 0;

	guest_ram_init(&g, t->ram, t->ram_size, 0x100000, 0x180000);
	cr_assert_eq(guest_pt_new(&g, &b.gpgd), 0);
	if (gva)
		cr_assert_eq(guest_pt_map(&g, b.gpgd, gva, gpa, PTE_RW | PTE_US), 0);
	cr_assert_eq(nest_pasid_alloc(t->c, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &pasid), 0);
	b.hpasid = pasid;
	cr_assert_eq(nest_bind(t->c, &b), 0, "%s", nest_client_last_error(t->c));
	return pasid;
}

Test(libnest, happy_path)
{
	struct nest_device_info di;
	struct nest_vm_info info;
	struct test_vm t = {.memfd = -1};
	uint32_t pasid, gp, n = 0, reason = 1;
	char buf[32] = "";
	size_t done = 0;
	int fd = 7;

	cr_assert_eq(nest_client_connect(d.sock, 0, &t.c), 0);
	cr_assert_eq(nest_vm_attach(t.c, "vm0", NEST_ATTACH_F_CHECKER, &info), 0);
	cr_expect_eq(info.backend, NEST_BACKEND_SIM);
	cr_expect_eq(info.num_devices, 2);
	cr_expect_eq(info.pasid_quota, 16);
	cr_expect_eq(info.pasid_bits, 20);
	cr_expect(info.formats & NEST_FORMAT_VTD_FL);
	t.ram_size = RAM;
	t.memfd = memfd_create("ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	cr_assert(ftruncate(t.memfd, RAM) == 0 && fcntl(t.memfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0);
	t.ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, t.memfd, 0);
	cr_assert_eq(nest_mem_add(t.c, 0, RAM, t.memfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE), 0);

	cr_assert_eq(nest_device_get(t.c, 1, &di, &fd), 0);
	cr_expect_eq(fd, -1, "sim hands out no device fd");
	cr_expect_str_eq(di.name, "dsa0");
	cr_expect(di.flags & NEST_DEVICE_F_ATS);
	cr_assert_eq(nest_device_get(t.c, 2, &di, NULL), 0);
	cr_expect_str_eq(di.name, "iax0");
	cr_expect_not(di.flags & NEST_DEVICE_F_ATS);

	cr_assert_eq(nest_pasid_alloc(t.c, 1, NEST_PASID_MAX, 42, &gp), 0);
	pasid = bind_one(&t, 0x7000, 0x200000);
	cr_expect_neq(pasid, gp);
	cr_assert_eq(nest_debug_dma(t.c, 1, pasid, 0x7010, "hello", 6, NEST_DMA_F_WRITE, &done,
				    &reason, NULL),
		     0, "%s", nest_client_last_error(t.c));
	cr_expect_eq(done, 6);
	cr_expect_eq(reason, 0);
	cr_expect_str_eq((char *)t.ram + 0x200010, "hello");
	strcpy((char *)t.ram + 0x200100, "from the guest");
	cr_assert_eq(nest_debug_dma(t.c, 2, pasid, 0x7100, buf, 15, 0, &done, NULL, NULL), 0);
	cr_expect_str_eq(buf, "from the guest");

	cr_assert_eq(nest_unbind(t.c, pasid), 0);
	cr_assert_eq(nest_pasid_free(t.c, 1, NEST_PASID_MAX, &n), 0);
	cr_expect_eq(n, 2);
	cr_assert_eq(nest_mem_remove(t.c, 0, RAM), 0);
	cr_assert_eq(nest_vm_detach(t.c, 0), 0);
	cr_expect_str_eq(nest_client_last_error(t.c), "");
	test_vm_free(&t);
	NO_LEAKS();
}

struct pipe_state {
	unsigned done;
	unsigned order[256];
	uint32_t ids[256];
	int errors[256];
	uint32_t dev[256];
};

struct pipe_req {
	struct pipe_state *s;
	unsigned idx;
};

static void pipe_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	struct pipe_req *q = opaque;
	struct pipe_state *s = q->s;

	cr_assert_eq(r->id, s->ids[q->idx], "reply matched to the wrong request");
	cr_assert_eq(r->op, NEST_OP_DEVICE_GET);
	s->errors[q->idx] = r->error;
	s->dev[q->idx] = r->error ? 0 : ((const struct nest_device_info *)r->fixed)->dev_id;
	s->order[s->done++] = q->idx;
}

Test(libnest, pipelining)
{
	struct pipe_state *s = calloc(1, sizeof(*s));
	struct pipe_req q[200];
	struct test_vm t;
	unsigned max_seen = 0;

	test_vm_attach(&t, &d, 0, 0);
	/* 200 requests > max_inflight 64: send_async waits for slots on its own */
	for (unsigned i = 0; i < 200; i++) {
		struct nest_device_get req = {.size = sizeof(req),
					      .dev_id = i % 3 ? 1 + i % 2 : 77};

		q[i] = (struct pipe_req){s, i};
		cr_assert_eq(nest_client_send_async(t.c, NEST_OP_DEVICE_GET, &req, sizeof(req),
						    NULL, 0, pipe_cb, &q[i], &s->ids[i]),
			     0);
		if (nest_client_inflight(t.c) > max_seen)
			max_seen = nest_client_inflight(t.c);
	}
	cr_expect_gt(max_seen, 1, "requests were pipelined");
	cr_expect_leq(max_seen, 64);
	while (s->done < 200)
		cr_assert_geq(nest_client_wait(t.c, 5000), 0);
	for (unsigned i = 0; i < 200; i++) {
		if (i % 3) {
			cr_expect_eq(s->errors[i], 0);
			cr_expect_eq(s->dev[i], 1 + i % 2);
		} else {
			cr_expect_eq(s->errors[i], -ENOENT);
		}
	}
	cr_expect_eq(nest_client_inflight(t.c), 0);
	test_vm_free(&t);
	free(s);
	NO_LEAKS();
}

static uint64_t vm_counter(const char *admin, const char *key)
{
	nest_client *a = NULL;
	json_object *o, *cnt, *v;
	char *reply = NULL;
	uint64_t x;

	cr_assert_eq(nest_admin_connect(admin, 0, &a), 0);
	cr_assert_eq(
		nest_admin_call(a, "{\"command\":\"vm.show\",\"args\":{\"name\":\"vm0\"}}", &reply),
		0, "%s", nest_client_last_error(a));
	o = json_tokener_parse(reply);
	cr_assert(o && json_object_object_get_ex(o, "counters", &cnt) &&
		  json_object_object_get_ex(cnt, key, &v));
	x = (uint64_t)json_object_get_int64(v);
	json_object_put(o);
	free(reply);
	nest_client_free(a);
	return x;
}

static void fill_entries(struct nest_inv_entry *e, size_t n, uint32_t pasid)
{
	for (size_t i = 0; i < n; i++)
		e[i] = (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB,
					       .granularity = NEST_INV_GRANU_ADDR,
					       .pasid = pasid,
					       .addr = (i % 512) << 12,
					       .granule_size = 4096,
					       .nb_granules = 1};
}

Test(libnest, invalidate_splits_batches)
{
	struct nest_inv_entry *e = calloc(600, sizeof(*e));
	struct test_vm t;
	uint64_t reqs0, ents0;
	size_t done = 0;
	int ferr = 1;
	uint32_t pasid;

	test_vm_attach(&t, &d, 0, RAM);
	pasid = bind_one(&t, 0, 0);
	fill_entries(e, 600, pasid);
	reqs0 = vm_counter(d.admin, "invalidations");
	ents0 = vm_counter(d.admin, "inv_entries");
	cr_assert_eq(nest_invalidate(t.c, e, 600, &done, &ferr), 0, "%s",
		     nest_client_last_error(t.c));
	cr_expect_eq(done, 600);
	cr_expect_eq(ferr, 0);
	/* 600 entries with max_batch 256: 256 + 256 + 88 */
	cr_expect_eq(vm_counter(d.admin, "invalidations") - reqs0, 3);
	cr_expect_eq(vm_counter(d.admin, "inv_entries") - ents0, 600);

	/* entry 300 names a PASID this VM does not own: done stops there */
	e[300].pasid = 999;
	cr_expect_lt(nest_invalidate(t.c, e, 600, &done, &ferr), 0);
	cr_expect_eq(done, 300);
	cr_expect_lt(ferr, 0);
	cr_expect(strstr(nest_client_last_error(t.c), "entry 300"), "%s",
		  nest_client_last_error(t.c));
	cr_expect_eq(nest_invalidate(t.c, e, 0, &done, &ferr), 0);
	cr_expect_eq(done, 0);
	test_vm_free(&t);
	free(e);
	NO_LEAKS();
}

struct ev_state {
	unsigned n;
	struct nest_event last;
};

static void ev_cb(nest_client *c, const struct nest_event *ev, void *opaque)
{
	struct ev_state *s = opaque;

	s->last = *ev;
	s->n++;
}

Test(libnest, fault_event_callback)
{
	struct ev_state s = {0};
	struct test_vm t;
	uint32_t pasid, reason = 0;
	uint64_t fault_addr = 0;
	char buf[8];

	test_vm_attach(&t, &d, 0, RAM);
	nest_client_set_event_cb(t.c, ev_cb, &s);
	pasid = bind_one(&t, 0, 0); /* empty page table: everything faults */
	cr_expect_eq(nest_debug_dma(t.c, 1, pasid, 0x5000, buf, sizeof(buf), 0, NULL, &reason,
				    &fault_addr),
		     -EFAULT);
	cr_expect_eq(reason, NEST_FAULT_PTE_NOT_PRESENT);
	cr_expect_eq(fault_addr, 0x5000);
	for (int i = 0; i < 40 && s.n == 0; i++)
		cr_assert_geq(nest_client_wait(t.c, 50), 0);
	cr_assert_eq(s.n, 1);
	cr_expect_eq(s.last.type, NEST_EV_FAULT);
	cr_expect_eq(s.last.u.fault.reason, NEST_FAULT_PTE_NOT_PRESENT);
	cr_expect_eq(s.last.u.fault.pasid, pasid);
	cr_expect_eq(s.last.u.fault.dev_id, 1);
	cr_expect_eq(s.last.u.fault.addr, 0x5000);
	cr_expect_str_eq(nest_fault_reason_str(NEST_FAULT_WRITE), "write");
	test_vm_free(&t);
	NO_LEAKS();
}

Test(libnest, shutdown_event_and_dead_connection)
{
	struct ev_state s = {0};
	struct test_vm t;
	nest_client *a = NULL;
	char *reply = NULL;
	int r = 0;

	test_vm_attach(&t, &d, 0, 0);
	nest_client_set_event_cb(t.c, ev_cb, &s);
	cr_assert_eq(nest_admin_connect(d.admin, 0, &a), 0);
	cr_assert_eq(nest_admin_call(a, "{\"command\":\"vm.evict\",\"args\":{\"name\":\"vm0\"}}",
				     &reply),
		     0);
	for (int i = 0; i < 100 && r >= 0; i++)
		r = nest_client_wait(t.c, 50);
	cr_expect_eq(s.n, 1);
	cr_expect_eq(s.last.type, NEST_EV_SHUTDOWN);
	cr_expect_eq(s.last.u.shutdown.reason, 1);
	cr_expect_eq(r, -ECONNRESET);
	cr_expect_eq(nest_vm_detach(t.c, 0), -ECONNRESET, "a dead handle stays dead");
	free(reply);
	nest_client_free(a);
	test_vm_free(&t);
	NO_LEAKS();
}

Test(libnest, errors_mapped)
{
	struct test_vm t;
	nest_client *c = NULL;
	struct nest_vm_info info;
	uint32_t p, n = 0;

	cr_assert_eq(nest_client_connect(d.sock, 0, &c), 0);
	cr_expect_eq(nest_vm_attach(c, "nope", 0, &info), -ENOENT);
	cr_expect(strstr(nest_client_last_error(c), "VM_ATTACH"), "%s", nest_client_last_error(c));
	cr_expect_eq(nest_vm_attach(c, "vm1", 0, &info), -ENOENT,
		     "vm1 belongs to another uid: answered like a VM that does not exist");
	cr_expect_eq(nest_vm_attach(c, "", 0, &info), -EINVAL);
	nest_client_free(c);

	test_vm_attach(&t, &d, 0, 0);
	cr_expect_eq(nest_device_get(t.c, 99, NULL, NULL), -ENOENT);
	cr_expect_eq(nest_unbind(t.c, 5), -ENOENT);
	cr_expect_eq(nest_mem_remove(t.c, 0, 4096), -ENOENT);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(nest_pasid_alloc(t.c, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &p), 0);
	cr_expect_eq(nest_pasid_alloc(t.c, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &p), -ENOSPC);
	cr_expect_eq(nest_pasid_free(t.c, 1, NEST_PASID_MAX, &n), 0);
	cr_expect_eq(n, 16);
	cr_expect_eq(nest_mem_add(t.c, 0, 4096, -1, 0, NEST_MEM_F_READ), -EBADF);
	cr_expect_eq(nest_debug_dma(t.c, 1, 1, 0, &n, 0, 0, NULL, NULL, NULL), -EINVAL);
	test_vm_free(&t);
	NO_LEAKS();
}

/* VM_IOVA_INFO on the sim: 4 KiB pages below 2^max_gaw; only for an attached VM. */
Test(libnest, vm_iova_info_on_the_sim)
{
	struct nest_vm_iova_info ii;
	struct test_vm t;
	nest_client *c = NULL;
	int mfd;

	cr_assert_eq(nest_client_connect(d.sock, 0, &c), 0);
	cr_expect_eq(nest_vm_iova_info(c, NULL), -EINVAL);
	cr_expect_lt(nest_vm_iova_info(c, &ii), 0, "no VM attached yet");
	nest_client_free(c);

	test_vm_attach(&t, &d, 0, 0);
	memset(&ii, 0xa5, sizeof(ii));
	cr_assert_eq(nest_vm_iova_info(t.c, &ii), 0, "%s", nest_client_last_error(t.c));
	cr_expect_eq(ii.size, sizeof(ii));
	cr_expect_eq(ii.flags, 0);
	cr_expect_eq(ii.pgsizes, 4096);
	cr_expect_eq(ii.num_ranges, 1);
	cr_expect_eq(ii.ranges[0].start, 0);
	cr_expect_eq(ii.ranges[0].last, (1ull << 48) - 1, "the sim's default address width");
	cr_expect_eq(ii.ranges[1].start, 0, "unused ranges are zero");
	cr_expect_eq(ii.ranges[1].last, 0);
	/* the last page the range names can be mapped, as the reply says */
	mfd = memfd_create("iova", MFD_ALLOW_SEALING);
	cr_assert_geq(mfd, 0);
	cr_assert_eq(ftruncate(mfd, 4096), 0);
	cr_assert_eq(fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	cr_expect_eq(nest_mem_add(t.c, ii.ranges[0].last + 1 - 4096, 4096, mfd, 0, NEST_MEM_F_READ),
		     0, "%s", nest_client_last_error(t.c));
	cr_expect_eq(nest_mem_add(t.c, ii.ranges[0].last + 1, 4096, mfd, 0, NEST_MEM_F_READ),
		     -EINVAL, "past the range");
	close(mfd);
	test_vm_free(&t);
	NO_LEAKS();
}

static int sealed_memfd(size_t len)
{
	int fd = memfd_create("regions", MFD_ALLOW_SEALING);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)len), 0);
	cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	return fd;
}

/* "taken" of device @dev_id of vm0 as the admin socket shows it. */
static bool device_taken(const char *admin, uint32_t dev_id)
{
	json_object *o, *devs, *v;
	nest_client *a = NULL;
	char *reply = NULL;
	bool taken = false;

	cr_assert_eq(nest_admin_connect(admin, 0, &a), 0);
	cr_assert_eq(
		nest_admin_call(a, "{\"command\":\"vm.show\",\"args\":{\"name\":\"vm0\"}}", &reply),
		0, "%s", nest_client_last_error(a));
	o = json_tokener_parse(reply);
	cr_assert(o && json_object_object_get_ex(o, "devices", &devs));
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		json_object *dv = json_object_array_get_idx(devs, i), *id;

		if (json_object_object_get_ex(dv, "id", &id) &&
		    (uint32_t)json_object_get_int64(id) == dev_id &&
		    json_object_object_get_ex(dv, "taken", &v))
			taken = json_object_get_boolean(v);
	}
	json_object_put(o);
	free(reply);
	nest_client_free(a);
	return taken;
}

/* DEVICE_PUT gives a device back; DEVICE_GET hands it out again. */
Test(libnest, device_put_and_get_again)
{
	struct nest_device_info di;
	struct test_vm t;

	test_vm_attach(&t, &d, 0, 0);
	cr_expect_eq(nest_device_put(t.c, 1), -ENOENT, "not handed out yet");
	cr_expect_eq(nest_device_put(t.c, 99), -ENOENT, "not the VM's");
	cr_assert_eq(nest_device_get(t.c, 1, &di, NULL), 0);
	cr_expect(device_taken(d.admin, 1));
	cr_expect_eq(nest_device_put(t.c, 1), 0, "%s", nest_client_last_error(t.c));
	cr_expect_not(device_taken(d.admin, 1));
	cr_expect_eq(nest_device_put(t.c, 1), -ENOENT, "given back already");
	cr_assert_eq(nest_device_get(t.c, 1, &di, NULL), 0, "handed out again");
	/* the sim has no PCI bus to reset */
	cr_expect_eq(nest_device_hot_reset(t.c, 1), -EOPNOTSUPP);
	cr_expect_eq(nest_device_hot_reset(t.c, 99), -ENOENT);
	cr_expect_eq(di.dev_id, 1);
	cr_expect(device_taken(d.admin, 1));
	test_vm_free(&t);
	NO_LEAKS();
}

/* MEM_REMOVE COVERED and ALL: as VFIO_IOMMU_UNMAP_DMA, whole regions only, all-or-nothing. */
Test(libnest, mem_remove_covered_and_all)
{
	struct test_vm t;
	int mfd = sealed_memfd(0x10000);

	test_vm_attach(&t, &d, 0, 0);
	cr_assert_eq(nest_mem_add(t.c, 0x10000, 0x1000, mfd, 0, NEST_MEM_F_READ), 0);
	cr_assert_eq(nest_mem_add(t.c, 0x20000, 0x2000, mfd, 0x1000, NEST_MEM_F_READ), 0);
	cr_assert_eq(nest_mem_add(t.c, 0x40000, 0x1000, mfd, 0x3000, NEST_MEM_F_READ), 0);
	/* flags are checked locally */
	cr_expect_eq(nest_mem_remove_range(t.c, 0, 0x1000, 0), -EINVAL);
	cr_expect_eq(nest_mem_remove_range(t.c, 0, 0x1000, 0x4), -EINVAL);
	/* a range covering the middle region only */
	cr_expect_eq(nest_mem_remove_range(t.c, 0x18000, 0x10000, NEST_MEM_REMOVE_F_COVERED), 0);
	cr_expect_eq(nest_mem_remove(t.c, 0x20000, 0x2000), -ENOENT, "the covered region is gone");
	/* a range cutting a region removes nothing */
	cr_expect_eq(nest_mem_remove_range(t.c, 0, 0x40800, NEST_MEM_REMOVE_F_COVERED), -EINVAL);
	cr_expect_eq(nest_mem_add(t.c, 0x10000, 0x1000, mfd, 0, NEST_MEM_F_READ), -EEXIST,
		     "the first region is still there");
	/* nothing inside: success, as VFIO_IOMMU_UNMAP_DMA */
	cr_expect_eq(nest_mem_remove_range(t.c, 0x80000, 0x1000, NEST_MEM_REMOVE_F_COVERED), 0);
	cr_expect_eq(nest_mem_remove_range(t.c, 0x80000, 0, NEST_MEM_REMOVE_F_COVERED), -EINVAL);
	cr_expect_eq(
		nest_mem_remove_range(t.c, UINT64_MAX - 0xfff, 0x2000, NEST_MEM_REMOVE_F_COVERED),
		-EOVERFLOW);
	/* ALL: gpa and len must be 0, not with COVERED */
	cr_expect_eq(nest_mem_remove_range(t.c, 0x10000, 0, NEST_MEM_REMOVE_F_ALL), -EINVAL);
	cr_expect_eq(
		nest_mem_remove_range(t.c, 0, 0, NEST_MEM_REMOVE_F_ALL | NEST_MEM_REMOVE_F_COVERED),
		-EINVAL);
	cr_expect_eq(nest_mem_remove_range(t.c, 0, 0, NEST_MEM_REMOVE_F_ALL), 0);
	cr_expect_eq(nest_mem_remove(t.c, 0x10000, 0x1000), -ENOENT);
	cr_expect_eq(nest_mem_remove(t.c, 0x40000, 0x1000), -ENOENT);
	/* the space is free again */
	cr_expect_eq(nest_mem_add(t.c, 0x10000, 0x3000, mfd, 0, NEST_MEM_F_READ), 0);
	cr_expect_eq(nest_mem_remove_range(t.c, 0, 0, NEST_MEM_REMOVE_F_ALL), 0);
	close(mfd);
	test_vm_free(&t);
	NO_LEAKS();
}

/* The sim has no native nesting: VM_ATTACH says so, both native ops are EOPNOTSUPP. */
Test(libnest, native_ops_on_the_sim)
{
	const uint8_t data[24] = {0};
	struct nest_vm_info info;
	struct nest_limits l;
	nest_client *c = NULL;
	uint32_t pasid = 0;
	size_t done = 7;
	int first = 7;

	cr_assert_eq(nest_client_connect(d.sock, 0, &c), 0);
	cr_assert_eq(nest_client_get_limits(c, &l), 0);
	cr_expect_eq(l.proto_minor, 2, "nestd speaks 1.2");
	cr_expect_eq(l.features & NEST_FEAT_NATIVE, 0);
	memset(&info, 0xa5, sizeof(info));
	cr_assert_eq(nest_vm_attach(c, "vm0", 0, &info), 0);
	cr_expect_eq(info.size, sizeof(info));
	cr_expect_eq(info.features & NEST_FEAT_NATIVE, 0);
	cr_expect_eq(info.hw_info_type, 0);
	cr_expect_eq(info.hwpt_data_type, 0);
	cr_expect_eq(info.inv_data_type, 0);
	cr_expect_eq(info.inv_entry_len, 0);
	cr_assert_eq(nest_pasid_alloc(c, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &pasid), 0);
	cr_expect_eq(nest_bind_native(c, pasid, 1, data, sizeof(data)), -EOPNOTSUPP);
	cr_expect(strstr(nest_client_last_error(c), "BIND_NATIVE"), "%s",
		  nest_client_last_error(c));
	cr_expect_eq(nest_invalidate_native(c, pasid, 0, data, 24, 1, &done, &first), -EOPNOTSUPP);
	cr_expect_eq(done, 0);
	cr_expect_eq(first, 0, "a request-level error, not an entry's");
	nest_client_free(c);
	NO_LEAKS();
}

Test(libnest, admin_call)
{
	nest_client *a = NULL;
	char *reply = NULL;
	json_object *o, *v;

	cr_assert_eq(nest_admin_connect(d.admin, 0, &a), 0);
	cr_assert_eq(nest_admin_call(a, "{\"command\":\"status\"}", &reply), 0);
	o = json_tokener_parse(reply);
	cr_assert(o && json_object_object_get_ex(o, "backend", &v));
	cr_expect_str_eq(json_object_get_string(v), "sim");
	json_object_put(o);
	free(reply);
	reply = NULL;
	cr_expect_eq(nest_admin_call(a, "{\"command\":\"no-such-command\"}", &reply), -ENOTTY);
	cr_expect_null(reply);
	cr_expect_neq(nest_client_last_error(a)[0], '\0');
	cr_expect_eq(
		nest_admin_call(a, "{\"command\":\"vm.show\",\"args\":{\"name\":\"x\"}}", &reply),
		-ENOENT);
	nest_client_free(a);
	NO_LEAKS();
}

Test(libnest, no_fd_leak)
{
	int before = nest_test_count_fds();
	struct test_vm t;

	for (int i = 0; i < 20; i++) {
		test_vm_attach(&t, &d, 0, RAM);
		cr_assert_eq(nest_device_get(t.c, 1, NULL, NULL), 0);
		test_vm_free(&t);
	}
	cr_expect_eq(nest_test_count_fds(), before);
	NO_LEAKS();
}

static void raw_cb(nest_client *c, struct nest_reply *r, void *opaque)
{
	*(int *)opaque = r->error ? r->error : 1;
}

Test(libnest, unknown_op_is_enotty)
{
	struct test_vm t;
	uint32_t body[2] = {8, 0};
	int res = 0;

	test_vm_attach(&t, &d, 0, 0);
	cr_assert_eq(
		nest_client_send_async(t.c, 30, body, sizeof(body), NULL, 0, raw_cb, &res, NULL),
		0);
	while (res == 0)
		cr_assert_geq(nest_client_wait(t.c, 5000), 0);
	cr_expect_eq(res, -ENOTTY);
	cr_expect_eq(nest_device_get(t.c, 1, NULL, NULL), 0, "the connection survives");
	test_vm_free(&t);
	NO_LEAKS();
}

static void log_cb(nest_client *c, int level, const char *msg, void *opaque)
{
	unsigned *n = opaque;

	cr_expect_eq(level, 7 /* LOG_DEBUG */);
	cr_expect_neq(msg[0], '\0');
	(*n)++;
}

Test(libnest, log_callback_and_idle_process)
{
	struct test_vm t;
	unsigned n = 0;

	test_vm_attach(&t, &d, 0, 0);
	cr_expect_eq(nest_client_process(t.c), 0, "nothing readable: returns at once");
	cr_expect_eq(nest_client_wait(t.c, 10), 0);
	nest_client_set_log_cb(t.c, log_cb, &n);
	cr_assert_eq(nest_device_get(t.c, 2, NULL, NULL), 0);
	cr_expect_geq(n, 2, "send and reply are logged");
	test_vm_free(&t);
	NO_LEAKS();
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A stopped nestd (SIGSTOP) makes blocking calls and connects time out, not hang. */
Test(libnest, timeouts_against_a_stopped_nestd)
{
	nest_client *c = NULL, *c2 = (nest_client *)0x1;
	struct nest_vm_info vi;
	int64_t t0;

	cr_assert_eq(nest_client_connect(d.sock, 0, &c), 0);
	cr_expect_eq(nest_client_get_timeout(c), NEST_DEFAULT_TIMEOUT_MS);
	cr_expect_eq(NEST_DEFAULT_TIMEOUT_MS, 30000);
	cr_expect_eq(nest_client_set_timeout(c, 0), -EINVAL);
	cr_expect_eq(nest_client_set_timeout(c, -2), -EINVAL);
	cr_expect_eq(nest_client_set_timeout(NULL, 100), -EINVAL);
	cr_expect_eq(nest_client_set_timeout(c, -1), 0);
	cr_expect_eq(nest_client_get_timeout(c), -1);
	cr_expect_eq(nest_client_connect_timeout(d.sock, 0, 0, &c2), -EINVAL);
	cr_assert_eq(nest_client_set_timeout(c, 300), 0);

	cr_assert_eq(kill(d.pid, SIGSTOP), 0);
	t0 = now_ms();
	cr_expect_eq(nest_vm_attach(c, "vm0", 0, &vi), -ETIMEDOUT);
	cr_expect_geq(now_ms() - t0, 290);
	cr_expect_lt(now_ms() - t0, 5000);
	cr_expect(strstr(nest_client_last_error(c), "no answer from nestd within 300 ms"), "%s",
		  nest_client_last_error(c));
	t0 = now_ms();
	cr_expect_eq(nest_vm_detach(c, 0), -ETIMEDOUT, "a timed-out handle stays dead");
	cr_expect_lt(now_ms() - t0, 100);
	nest_client_free(c);

	/* connect: the kernel queues the connection, HELLO gets no answer */
	t0 = now_ms();
	cr_expect_eq(nest_client_connect_timeout(d.sock, 0, 250, &c2), -ETIMEDOUT);
	cr_expect_eq(c2, (nest_client *)0x1, "ret written on failure");
	cr_expect_geq(now_ms() - t0, 240);
	cr_expect_lt(now_ms() - t0, 5000);
	cr_expect_eq(nest_admin_connect_timeout(d.admin, 0, 250, &c2), -ETIMEDOUT);

	/* nestd goes on; a new handle works, with the timeout given at connect */
	cr_assert_eq(kill(d.pid, SIGCONT), 0);
	cr_assert_eq(nest_client_connect_timeout(d.sock, 0, 5000, &c), 0);
	cr_expect_eq(nest_client_get_timeout(c), 5000);
	cr_expect_eq(nest_vm_attach(c, "vm0", 0, &vi), 0);
	cr_expect_eq(nest_vm_detach(c, 0), 0);
	nest_client_free(c);
	NO_LEAKS();
}

/* The LIBNEST_0.1 nest_bind, as a program built against the 48-byte struct of 1.0/1.1 calls it. */
typedef int (*bind_0_1_fn)(nest_client *c, const void *b);

/* Protocol 1.2 through libnest (LIBNEST_0.4): a subset bind, a RID bind, a replace, unbinds. */
Test(libnest, bind_device_rid_replace)
{
	struct test_vm t;
	struct guest_ram g;
	struct nest_bind b = {.format = NEST_BIND_FMT_VTD_FL, .addr_width = 48};
	struct nest_bind old[2]; /* 48 bytes of 1.1 struct, then what the caller has behind it */
	uint64_t gpgd2 = 0;
	const uint8_t data[8] = {0};
	uint32_t pasid = 0;
	size_t done = 9;
	int first = 9;
	bind_0_1_fn bind_0_1;

	test_vm_attach(&t, &d, 0, RAM);
	guest_ram_init(&g, t.ram, t.ram_size, 0x100000, 0x180000);
	cr_assert_eq(guest_pt_new(&g, &b.gpgd), 0);
	cr_assert_eq(guest_pt_new(&g, &gpgd2), 0);
	cr_assert_eq(nest_pasid_alloc(t.c, 1, NEST_PASID_MAX, NEST_GPASID_NONE, &pasid), 0);
	b.hpasid = pasid;
	b.flags = NEST_BIND_F_DEVICE;
	b.dev_id = 2;
	cr_assert_eq(nest_bind(t.c, &b), 0, "%s", nest_client_last_error(t.c));
	b.flags = NEST_BIND_F_DEVICE | NEST_BIND_F_REPLACE;
	b.gpgd = gpgd2;
	cr_expect_eq(nest_bind(t.c, &b), 0, "%s", nest_client_last_error(t.c));
	cr_expect_eq(nest_unbind_ex(t.c, NEST_BIND_F_DEVICE, pasid, 1), -ENOENT);
	cr_expect_eq(nest_unbind_ex(t.c, NEST_BIND_F_DEVICE, pasid, 2), 0);
	/* the RID */
	b.flags = NEST_BIND_F_DEVICE | NEST_BIND_F_RID;
	b.hpasid = 0;
	b.dev_id = 1;
	cr_expect_eq(nest_bind(t.c, &b), 0, "%s", nest_client_last_error(t.c));
	cr_expect_eq(nest_unbind_ex(t.c, NEST_BIND_F_DEVICE | NEST_BIND_F_RID, 0, 1), 0);
	cr_expect_eq(nest_unbind_ex(t.c, NEST_BIND_F_DEVICE | NEST_BIND_F_RID, 0, 1), -ENOENT);
	/* the sim has no native forms */
	cr_expect_eq(nest_bind_native_ex(t.c, NEST_BIND_F_DEVICE | NEST_BIND_F_RID, 0, 1, 1, data,
					 sizeof(data)),
		     -EOPNOTSUPP);
	cr_expect_eq(nest_invalidate_native_rid(t.c, 1, data, 8, 1, &done, &first), -EOPNOTSUPP);
	/* LIBNEST_0.1: only the 48 bytes of the older struct are read, not what follows them */
	memset(old, 0xa5, sizeof(old));
	memcpy(&old[0], &b, 48);
	old[0].flags = 0;
	old[0].hpasid = pasid;
	bind_0_1 = (bind_0_1_fn)dlvsym(RTLD_DEFAULT, "nest_bind", "LIBNEST_0.1");
	cr_assert_not_null(bind_0_1, "nest_bind@LIBNEST_0.1: %s", dlerror());
	cr_expect_neq((void *)bind_0_1, (void *)nest_bind, "the default is LIBNEST_0.4");
	cr_expect_eq(nest_bind(t.c, &old[0]), -EOPNOTSUPP, "the 1.2 struct reads garbage past 48");
	cr_expect_eq(bind_0_1(t.c, &old[0]), 0, "%s", nest_client_last_error(t.c));
	test_vm_free(&t);
}

/* SPDX-License-Identifier: MIT */
/*
 * nest-guest-ifd.c - test VMM for nestd's iommufd backend on the Linux 7.x guest kernel
 * (iommufd.sh). Started as root; for the read-back of the selftest mock's state it opens
 * nestd's ADMIN socket first (the admin socket is where such reads go, never the VM socket),
 * then drops to --uid and does everything else over the VM socket like any VMM. One line per
 * check, "ok ..." or "FAIL ..."; the exit status counts the failures.
 *
 *   nest-guest-ifd --socket VMSOCK --admin ADMINSOCK --uid UID mock VM
 *       a VM of two mock devices (ids 1, 2): nesting info, MEM_ADD (IOAS_MAP_FILE), PASIDs,
 *       binds on two PASIDs and both devices (mock IOTLB seeded from gpgd), generic
 *       invalidations (ADDR clears one slot, PASID all), a batch with a bad entry (done /
 *       first_error), unbind, free, detach
 *   nest-guest-ifd ... native VM
 *       the kernel's own selftest data through BIND_NATIVE / INVALIDATE_NATIVE: the native
 *       types announced at attach, a native bind read back, a native batch with a bad entry
 *       (done / first_error), native structs nestd refuses before the kernel sees them
 *   nest-guest-ifd ... iopf VM
 *       page requests: bind a PASID, make a mock device fault on it (admin socket), receive
 *       EV_PAGE_REQUEST with the VM's own device id and PASID, answer it; a foreign cookie is
 *       ENOENT, a bad code EINVAL; DEVICE_PUT of the device answers its waiting request
 *       (PAGE_RESPONSE then ENOENT) and undoes its binding; an UNBIND with a request waiting
 *       makes the kernel answer it (PAGE_RESPONSE then ENOENT, not the kernel's EINVAL); a last
 *       request is left unanswered for nestd's teardown
 *   nest-guest-ifd ... viommu VM
 *       vIOMMU objects on the mock: a vIOMMU, vDEVICEs with virtual ids (a duplicate EEXIST),
 *       invalidation by vIOMMU read back from the mock devices' caches (an entry naming a
 *       virtual device that is not this vIOMMU's stops the batch with ENOENT), a device's RID
 *       on a vIOMMU-nested HWPT (SMMUv3's stage-1 STE shape) and its vEVENTQ record delivered
 *       as EV_VEVENT with the virtual id, detach, the vIOMMU freed, another one where
 *       DEVICE_PUT takes an attached device off (no more events, its virtual id free in the
 *       kernel, attachable again), left (attached) for teardown
 *   nest-guest-ifd ... rollback VM NESTD_PID
 *       a fail-nth sweep over a BIND on two devices: for N = 1, 2, ... the N-th iommufd
 *       fault-injection point nestd's thread reaches fails (/proc/PID/fail-nth, opened while
 *       still root); every failed BIND must leave neither device bound (read back through the
 *       admin socket), and a BIND without injection must then work; until N passes the last
 *       point (the BIND succeeds with injection armed)
 *   nest-guest-ifd ... hold VM GPGD READY GO
 *       bind PASID 1 of VM (device 1) to GPGD, write READY, wait for GO, then check through the
 *       admin socket that its mock IOTLB still holds GPGD >> 12 (another VM bound and
 *       invalidated the same PASID number meanwhile), detach
 *   nest-guest-ifd ... other VM
 *       bind PASID 1 of VM to another table and invalidate all of it: its own IOTLB is cleared
 *   nest-guest-ifd ... flood VM READY
 *       bind PASID 1, write READY and send pipelined INVALIDATE batches until killed
 *   nest-guest-ifd --socket VMSOCK --admin - --uid UID dma VM DEV_ID PCI
 *       edu behind QEMU's VT-d through VFIO cdev: nesting info says no nesting, MEM_ADD, the
 *       bound cdev fd, DMA both ways, DMA to an unmapped GPA untouched, BIND refused
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <nest/libnest.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edu.h"
#include "iommufd-test.h"
#include "nest-guest-ifd.h"

#define MEM_LEN (2ull << 20)
#define XFER	2048u

int failures;
nest_client *admin;

void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failures++;
}

void die(const char *what, int r)
{
	printf("FAIL %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

static int guest_memory(uint8_t **ret)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)MEM_LEN) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		die("memfd", errno);
	*ret = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*ret == MAP_FAILED)
		die("mmap", errno);
	memset(*ret, 0, MEM_LEN);
	return fd;
}

/* mock.check_iotlb over the admin socket: 1 match, 0 no match, -errno */
static int iotlb_is(const char *vm, uint32_t dev, uint32_t pasid, uint32_t slot, uint32_t value)
{
	char req[256], *reply = NULL;
	int r;

	snprintf(req, sizeof(req),
		 "{\"command\":\"mock.check_iotlb\",\"args\":{\"vm\":\"%s\",\"device\":%u,"
		 "\"pasid\":%u,\"slot\":%u,\"value\":%u}}",
		 vm, dev, pasid, slot, value);
	r = nest_admin_call(admin, req, &reply);
	if (r == 0)
		r = strstr(reply, "\"match\":true") || strstr(reply, "\"match\": true") ? 1 : 0;
	free(reply);
	return r;
}

static void expect_iotlb(const char *vm, uint32_t pasid, const uint32_t want[4], const char *why)
{
	for (uint32_t dev = 1; dev <= 2; dev++)
		for (uint32_t s = 0; s < 4; s++) {
			int r = iotlb_is(vm, dev, pasid, s, want[s]);

			if (r != 1)
				check(false, "%s: device %u PASID %u slot %u is not 0x%x (%d)", why,
				      dev, pasid, s, want[s], r);
		}
	check(true, "%s: mock IOTLB of PASID %u on both devices = {0x%x 0x%x 0x%x 0x%x}", why,
	      pasid, want[0], want[1], want[2], want[3]);
}

static int cmd_mock(nest_client *c, const char *vm)
{
	struct nest_vm_info info;
	struct nest_bind b = {.size = sizeof(b),
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .vtd_flags = NEST_VTD_SRE};
	struct nest_inv_entry addr = {.cache = NEST_CACHE_IOTLB,
				      .granularity = NEST_INV_GRANU_ADDR,
				      .addr = 0x2000,
				      .granule_size = 4096,
				      .nb_granules = 1};
	struct nest_inv_entry batch[3];
	uint32_t p1 = 0, p2 = 0, n = 0;
	const uint64_t gpa = 1ull << 24; /* the mock IOMMU's aperture starts at 16 MiB */
	size_t done = 0;
	int first = 0, r, mfd;
	uint8_t *m;

	r = nest_vm_attach(c, vm, 0, &info);
	if (r < 0)
		die("attach", r);
	check(info.backend == NEST_BACKEND_IOMMUFD && info.formats == NEST_FORMAT_VTD_FL &&
		      info.pasid_bits == 20 && info.pasid_mode == NEST_PASID_MODE_PER_DEVICE &&
		      (info.features & NEST_FEAT_BIND_PGTBL),
	      "VM_ATTACH: backend %u formats %u pasid_bits %u mode %u features 0x%x", info.backend,
	      info.formats, info.pasid_bits, info.pasid_mode, info.features);
	mfd = guest_memory(&m);
	r = nest_mem_add(c, gpa, MEM_LEN, mfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	check(r == 0, "MEM_ADD gpa 0x%llx by IOAS_MAP_FILE (%d)", (unsigned long long)gpa, r);
	r = nest_mem_add(c, 0x1000, 0x1000, mfd, 0, NEST_MEM_F_READ);
	check(r == -EINVAL, "MEM_ADD below the mock aperture is refused: %d", r);
	r = nest_pasid_alloc(c, 1, 1000, NEST_GPASID_NONE, &p1);
	check(r == 0, "PASID_ALLOC -> %u (%d)", p1, r);
	r = nest_pasid_alloc(c, 1, 1000, NEST_GPASID_NONE, &p2);
	check(r == 0 && p2 != p1, "PASID_ALLOC -> %u (%d)", p2, r);

	b.hpasid = p1;
	b.gpgd = 0x1234000;
	r = nest_bind(c, &b);
	check(r == 0, "BIND PASID %u gpgd 0x1234000 on both mock devices (%d)", p1, r);
	b.hpasid = p2;
	b.gpgd = 0x5678000;
	r = nest_bind(c, &b);
	check(r == 0, "BIND PASID %u gpgd 0x5678000 (%d)", p2, r);
	r = nest_bind(c, &b);
	check(r == -EBUSY, "BIND again is EBUSY (%d)", r);
	expect_iotlb(vm, p1, (const uint32_t[4]){0x1234, 0x1234, 0x1234, 0x1234}, "bind");
	expect_iotlb(vm, p2, (const uint32_t[4]){0x5678, 0x5678, 0x5678, 0x5678}, "bind");

	addr.pasid = p1;
	r = nest_invalidate(c, &addr, 1, &done, &first);
	check(r == 0 && done == 1, "INVALIDATE ADDR 0x2000 on PASID %u (%d)", p1, r);
	expect_iotlb(vm, p1, (const uint32_t[4]){0x1234, 0x1234, 0, 0x1234}, "ADDR");
	expect_iotlb(vm, p2, (const uint32_t[4]){0x5678, 0x5678, 0x5678, 0x5678}, "other PASID");
	{ /* ADDR without a PASID: the slot in every nested HWPT of the VM */
		struct nest_inv_entry all = addr;

		all.pasid = 0;
		all.addr = 0x3000;
		r = nest_invalidate(c, &all, 1, &done, &first);
		check(r == 0 && done == 1, "INVALIDATE ADDR 0x3000 without a PASID (%d)", r);
		expect_iotlb(vm, p1, (const uint32_t[4]){0x1234, 0x1234, 0, 0}, "ADDR, all PASIDs");
		expect_iotlb(vm, p2, (const uint32_t[4]){0x5678, 0x5678, 0x5678, 0},
			     "ADDR, all PASIDs");
	}

	/* a batch: ADDR slot 1 on p2, an entry for a PASID this VM does not hold, PASID p2 */
	batch[0] = addr;
	batch[0].pasid = p2;
	batch[0].addr = 0x1000;
	batch[1] = batch[0];
	batch[1].pasid = 999999;
	batch[2] = (struct nest_inv_entry){
		.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = p2};
	r = nest_invalidate(c, batch, 3, &done, &first);
	check(done == 1 && first == -ENOENT, "batch with a bad entry: done %zu first_error %d",
	      done, first);
	expect_iotlb(vm, p2, (const uint32_t[4]){0x5678, 0, 0x5678, 0}, "batch");
	r = nest_invalidate(c, &batch[2], 1, &done, &first);
	check(r == 0, "INVALIDATE PASID granularity on %u (%d)", p2, r);
	expect_iotlb(vm, p2, (const uint32_t[4]){0, 0, 0, 0}, "PASID");
	{ /* DOMAIN: every nested HWPT of the VM, on every device */
		struct nest_inv_entry dom = {.cache = NEST_CACHE_IOTLB,
					     .granularity = NEST_INV_GRANU_DOMAIN};

		r = nest_invalidate(c, &dom, 1, &done, &first);
		check(r == 0, "INVALIDATE DOMAIN granularity (%d)", r);
		expect_iotlb(vm, p1, (const uint32_t[4]){0, 0, 0, 0}, "DOMAIN");
	}

	r = nest_unbind(c, p1);
	check(r == 0, "UNBIND %u (%d)", p1, r);
	r = iotlb_is(vm, 1, p1, 0, 0x1234);
	check(r == -ENOENT, "nothing bound on PASID %u any more (%d)", p1, r);
	r = nest_pasid_free(c, 1, 1000, &n);
	check(r == 0 && n == 2, "PASID_FREE frees both, the bound one unbound first (%d, %u)", r,
	      n);
	r = nest_vm_detach(c, 0);
	check(r == 0, "VM_DETACH (%d)", r);
	close(mfd);
	return failures;
}

/* All four IOTLB slots of (dev, pasid) hold @v (pasid 0: the RID's nested HWPT). */
static bool slots_are(const char *vm, uint32_t dev, uint32_t pasid, uint32_t v)
{
	for (uint32_t s = 0; s < 4; s++)
		if (iotlb_is(vm, dev, pasid, s, v) != 1)
			return false;
	return true;
}

/*
 * Protocol 1.2 on the mock (PASID @pasid bound natively on both devices, slots flushed): a
 * replace of the PASID's table (the mock's PASID_REPLACE), unbinding one device, a stage-1 bind
 * on device 1's RID (a nested HWPT attached by MOCK_DOMAIN_REPLACE), its replace, the RID flag
 * of INVALIDATE_NATIVE, and its unbind.
 */
static void native_12(nest_client *c, const char *vm, uint32_t pasid,
		      const struct nest_vm_info *info)
{
	const uint32_t want = NEST_FEAT_BIND_DEVICE | NEST_FEAT_BIND_RID | NEST_FEAT_BIND_REPLACE;
	const uint32_t dr = NEST_BIND_F_DEVICE | NEST_BIND_F_RID;
	struct iommu_hwpt_selftest st = {.iotlb = 0xabcd};
	struct iommu_hwpt_invalidate_selftest all = {.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL};
	size_t done = 0;
	int first = 0, r;

	check((info->features & want) == want,
	      "VM_ATTACH announces bind-device, bind-rid, "
	      "bind-replace: features 0x%x",
	      info->features);
	r = nest_bind_native_ex(c, NEST_BIND_F_REPLACE, pasid, 0, IOMMU_HWPT_DATA_SELFTEST, &st,
				sizeof(st));
	check(r == 0 && slots_are(vm, 1, pasid, 0xabcd) && slots_are(vm, 2, pasid, 0xabcd),
	      "REPLACE of PASID %u's table on both devices: {0xabcd} (%d)", pasid, r);
	r = nest_unbind_ex(c, NEST_BIND_F_DEVICE, pasid, 2);
	check(r == 0 && iotlb_is(vm, 2, pasid, 0, 0xabcd) == -ENOENT &&
		      slots_are(vm, 1, pasid, 0xabcd),
	      "UNBIND with DEVICE: device 2 only, device 1 keeps the table (%d)", r);
	st.iotlb = 0xbeef;
	r = nest_bind_native_ex(c, dr, 0, 1, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st));
	check(r == 0 && slots_are(vm, 1, 0, 0xbeef),
	      "BIND_NATIVE on device 1's RID: a nested HWPT {0xbeef} on the RID (%d)", r);
	check(iotlb_is(vm, 2, 0, 0, 0xbeef) == -ENOENT, "device 2's RID stays on stage 2");
	r = nest_bind_native_ex(c, dr, 0, 1, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st));
	check(r == -EBUSY, "the RID is bound already: %d", r);
	st.iotlb = 0xcafe;
	r = nest_bind_native_ex(c, dr | NEST_BIND_F_REPLACE, 0, 1, IOMMU_HWPT_DATA_SELFTEST, &st,
				sizeof(st));
	check(r == 0 && slots_are(vm, 1, 0, 0xcafe), "REPLACE of the RID's table: {0xcafe} (%d)",
	      r);
	check(slots_are(vm, 1, pasid, 0xabcd), "the PASID's table on device 1 is untouched");
	r = nest_invalidate_native_rid(c, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, &all, sizeof(all), 1,
				       &done, &first);
	check(r == 0 && done == 1 && slots_are(vm, 1, 0, 0) && slots_are(vm, 1, pasid, 0xabcd),
	      "INVALIDATE_NATIVE with the RID flag flushes the RID's HWPT only (%d)", r);
	r = nest_unbind_ex(c, dr, 0, 1);
	check(r == 0 && iotlb_is(vm, 1, 0, 0, 0) == -ENOENT,
	      "UNBIND of the RID: back on its stage-2 parent, the HWPT gone (%d)", r);
}

static int cmd_native(nest_client *c, const char *vm)
{
	struct iommu_hwpt_selftest st = {.iotlb = 0xfeed};
	struct iommu_hwpt_invalidate_selftest inv[4] = {
		{.iotlb_id = 0}, {.iotlb_id = 1}, {.iotlb_id = 4 /* bad */}, {.iotlb_id = 3}};
	uint8_t big[12] = {0};
	struct nest_vm_info info;
	uint32_t pasid = 0;
	size_t done = 0;
	int first = 0, r;

	r = nest_vm_attach(c, vm, 0, &info);
	if (r < 0)
		die("attach", r);
	check((info.features & NEST_FEAT_NATIVE) &&
		      info.hw_info_type == IOMMU_HW_INFO_TYPE_SELFTEST &&
		      info.hwpt_data_type == IOMMU_HWPT_DATA_SELFTEST &&
		      info.inv_data_type == IOMMU_HWPT_INVALIDATE_DATA_SELFTEST &&
		      info.inv_entry_len == sizeof(inv[0]),
	      "VM_ATTACH announces the native types: hw 0x%x hwpt 0x%x inv 0x%x/%u",
	      info.hw_info_type, info.hwpt_data_type, info.inv_data_type, info.inv_entry_len);
	r = nest_pasid_alloc(c, 1, 1000, NEST_GPASID_NONE, &pasid);
	check(r == 0, "PASID_ALLOC %u (%d)", pasid, r);
	r = nest_bind_native(c, pasid, IOMMU_HWPT_DATA_VTD_S1, &st, sizeof(st));
	check(r == -EOPNOTSUPP, "BIND_NATIVE of a type the IOMMU does not take: %d", r);
	memcpy(big, &st, sizeof(st));
	big[10] = 1;
	r = nest_bind_native(c, pasid, IOMMU_HWPT_DATA_SELFTEST, big, sizeof(big));
	check(r == -E2BIG, "BIND_NATIVE with a non-zero tail past the kernel struct: %d", r);
	r = nest_bind_native(c, pasid, IOMMU_HWPT_DATA_SELFTEST, &st, sizeof(st));
	check(r == 0, "BIND_NATIVE selftest data {iotlb 0xfeed} on both devices (%d)", r);
	expect_iotlb(vm, pasid, (const uint32_t[4]){0xfeed, 0xfeed, 0xfeed, 0xfeed}, "native bind");
	r = nest_invalidate_native(c, pasid, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv,
				   sizeof(inv[0]), 4, &done, &first);
	check(done == 2 && first == -EINVAL, "INVALIDATE_NATIVE of 4 with a bad [2]: done %zu, %d",
	      done, first);
	expect_iotlb(vm, pasid, (const uint32_t[4]){0, 0, 0xfeed, 0xfeed}, "native batch");
	inv[0] = (struct iommu_hwpt_invalidate_selftest){.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL};
	r = nest_invalidate_native(c, pasid, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, inv,
				   sizeof(inv[0]), 1, &done, &first);
	check(r == 0 && done == 1, "INVALIDATE_NATIVE flush-all (%d)", r);
	expect_iotlb(vm, pasid, (const uint32_t[4]){0, 0, 0, 0}, "native flush-all");
	native_12(c, vm, pasid, &info);
	r = nest_unbind(c, pasid);
	check(r == 0, "UNBIND of a native binding (%d)", r);
	check(nest_vm_detach(c, 0) == 0, "VM_DETACH");
	return failures;
}

static int fail_nth_fd = -1;

static void fail_nth(unsigned n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (write(fail_nth_fd, buf, (size_t)len) != len)
		die("fail-nth", errno);
}

static int cmd_rollback(nest_client *c, const char *vm)
{
	struct nest_bind b = {.size = sizeof(b),
			      .format = NEST_BIND_FMT_VTD_FL,
			      .addr_width = 48,
			      .gpgd = 0x3000};
	struct nest_vm_info info;
	unsigned n, failed = 0;
	int r;

	r = nest_vm_attach(c, vm, 0, &info);
	if (r == 0)
		r = nest_pasid_alloc(c, 1, 1000, NEST_GPASID_NONE, &b.hpasid);
	if (r < 0)
		die("attach / PASID", r);
	for (n = 1; n < 64; n++) {
		fail_nth(n);
		r = nest_bind(c, &b);
		fail_nth(0);
		if (r == 0)
			break; /* N is past the last injection point of a BIND */
		failed++;
		if (iotlb_is(vm, 1, b.hpasid, 0, 3) != -ENOENT ||
		    iotlb_is(vm, 2, b.hpasid, 0, 3) != -ENOENT)
			check(false, "fail-nth %u: BIND failed (%d) but a device is still bound", n,
			      r);
		r = nest_bind(c, &b);
		if (r != 0 || iotlb_is(vm, 1, b.hpasid, 0, 3) != 1 ||
		    iotlb_is(vm, 2, b.hpasid, 0, 3) != 1)
			check(false, "fail-nth %u: a clean BIND afterwards does not work (%d)", n,
			      r);
		if (nest_unbind(c, b.hpasid) != 0)
			check(false, "fail-nth %u: UNBIND", n);
	}
	check(failed > 0 && n < 64,
	      "fail-nth sweep over a BIND on two devices: %u injected failures, each rolled back "
	      "to nothing bound, then a clean BIND worked; N = %u passes every point",
	      failed, n);
	check(iotlb_is(vm, 1, b.hpasid, 0, 3) == 1 && iotlb_is(vm, 2, b.hpasid, 0, 3) == 1,
	      "the last BIND holds on both devices");
	check(nest_vm_detach(c, 0) == 0, "VM_DETACH");
	return failures;
}

static bool wait_file(const char *path)
{
	for (int i = 0; i < 600; i++) {
		if (access(path, F_OK) == 0)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

static void write_file(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fclose(f) != 0)
		die(path, errno);
}

/* Attach @vm, allocate PASID 1 and bind it on every device to @gpgd. */
static void attach_bind(nest_client *c, const char *vm, uint64_t gpgd)
{
	struct nest_vm_info info;
	struct nest_bind b = {
		.size = sizeof(b), .format = NEST_BIND_FMT_VTD_FL, .addr_width = 48, .gpgd = gpgd};
	int r = nest_vm_attach(c, vm, 0, &info);

	if (r < 0)
		die("attach", r);
	r = nest_pasid_alloc(c, 1, 1, NEST_GPASID_NONE, &b.hpasid);
	check(r == 0 && b.hpasid == 1, "%s: PASID 1 allocated (%d)", vm, r);
	r = nest_bind(c, &b);
	check(r == 0, "%s: PASID 1 bound to 0x%llx (%d)", vm, (unsigned long long)gpgd, r);
}

static int cmd_hold(nest_client *c, const char *vm, uint64_t gpgd, const char *ready,
		    const char *go)
{
	uint32_t v = (uint32_t)(gpgd >> 12);

	attach_bind(c, vm, gpgd);
	check(iotlb_is(vm, 1, 1, 0, v) == 1, "%s: mock IOTLB = 0x%x", vm, v);
	write_file(ready);
	check(wait_file(go), "%s: released", vm);
	for (uint32_t s = 0; s < 4; s++)
		check(iotlb_is(vm, 1, 1, s, v) == 1,
		      "%s: slot %u still 0x%x after the other VM used the same PASID number", vm, s,
		      v);
	check(nest_vm_detach(c, 0) == 0, "%s: detached", vm);
	return failures;
}

static int cmd_other(nest_client *c, const char *vm)
{
	struct nest_inv_entry e = {
		.cache = NEST_CACHE_IOTLB, .granularity = NEST_INV_GRANU_PASID, .pasid = 1};
	int r;

	attach_bind(c, vm, 0xb000);
	r = nest_invalidate(c, &e, 1, NULL, NULL);
	check(r == 0, "%s: invalidated all of PASID 1 (%d)", vm, r);
	check(iotlb_is(vm, 1, 1, 0, 0) == 1, "%s: its own mock IOTLB is cleared", vm);
	check(nest_vm_detach(c, 0) == 0, "%s: detached", vm);
	return failures;
}

static __attribute__((noreturn)) int cmd_flood(nest_client *c, const char *vm, const char *ready)
{
	struct nest_inv_entry e[64];

	attach_bind(c, vm, 0xc000);
	for (unsigned i = 0; i < 64; i++)
		e[i] = (struct nest_inv_entry){.cache = NEST_CACHE_IOTLB,
					       .granularity = NEST_INV_GRANU_ADDR,
					       .pasid = 1,
					       .addr = (uint64_t)i << 12,
					       .granule_size = 4096,
					       .nb_granules = 1};
	write_file(ready);
	for (;;) /* until SIGKILL: batches in flight while the VMM dies */
		(void)nest_invalidate(c, e, 64, NULL, NULL);
}

static int cmd_dma(nest_client *c, const char *vm, uint32_t dev_id, const char *pci)
{
	struct nest_vm_info info;
	struct nest_device_info di;
	struct nest_bind b = {.size = sizeof(b), .format = NEST_BIND_FMT_VTD_FL, .addr_width = 48};
	const uint64_t gpa = 0x100000;
	struct edu e;
	uint32_t id = 0;
	int r, mfd, fd = -1;
	uint8_t *m;

	r = nest_vm_attach(c, vm, 0, &info);
	if (r < 0)
		die("attach", r);
	check(info.backend == NEST_BACKEND_IOMMUFD && info.formats == 0 &&
		      !(info.features & NEST_FEAT_BIND_PGTBL),
	      "VM_ATTACH: backend %u, formats %u, features 0x%x: this IOMMU has no nesting",
	      info.backend, info.formats, info.features);
	mfd = guest_memory(&m);
	r = nest_mem_add(c, gpa, MEM_LEN, mfd, 0, NEST_MEM_F_READ | NEST_MEM_F_WRITE);
	check(r == 0, "MEM_ADD by IOAS_MAP_FILE (%d)", r);
	r = nest_device_get(c, dev_id, &di, &fd);
	check(r == 0 && fd >= 0, "DEVICE_GET: the bound VFIO cdev fd %d (%d)", fd, r);
	if (fd < 0)
		return failures + 1;
	r = edu_init(&e, fd);
	if (r == 0)
		r = edu_enable_bus_master(&e);
	if (r == 0)
		r = edu_read_id(&e, &id);
	check(r == 0 && id == EDU_ID_VALUE, "edu through the cdev fd: id 0x%08x (%d)", id, r);
	for (unsigned i = 0; i < XFER; i++)
		m[i] = (uint8_t)(i * 13 + 5);
	r = edu_dma(&e, EDU_RAM_TO_EDU, gpa, 0, XFER, 0);
	if (r == 0)
		r = edu_dma(&e, EDU_EDU_TO_RAM, gpa + 8192, 0, XFER, 0);
	check(r == 0 && memcmp(m, m + 8192, XFER) == 0,
	      "DMA both ways through the IOAS at IOVA = GPA (%d)", r);
	memset(m + 16384, 0, XFER);
	r = edu_dma(&e, EDU_EDU_TO_RAM, gpa + MEM_LEN, 0, XFER, 0);
	check(r == 0, "DMA to the unmapped GPA 0x%llx completed on edu's side (%d)",
	      (unsigned long long)(gpa + MEM_LEN), r);
	r = nest_bind(c, &b);
	check(r == -EOPNOTSUPP, "BIND is EOPNOTSUPP, as VM_ATTACH said (%d)", r);
	(void)pci;
	r = nest_vm_detach(c, 0);
	check(r == 0, "VM_DETACH (%d)", r);
	close(fd);
	close(mfd);
	return failures;
}

int main(int argc, char **argv)
{
	nest_client *c;
	uid_t uid;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 9 || strcmp(argv[1], "--socket") || strcmp(argv[3], "--admin") ||
	    strcmp(argv[5], "--uid")) {
		fprintf(stderr, "usage: nest-guest-ifd --socket S --admin A|- --uid U CMD ...\n");
		return 2;
	}
	if (strcmp(argv[4], "-") != 0) {
		r = nest_admin_connect(argv[4], 0, &admin); /* as root, before dropping */
		if (r < 0)
			die("admin connect", r);
	}
	if (argc == 10 &&
	    strcmp(argv[7], "rollback") == 0) { /* root only: open it before dropping */
		char path[64];

		snprintf(path, sizeof(path), "/proc/%s/fail-nth", argv[9]);
		fail_nth_fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fail_nth_fd < 0)
			die(path, errno);
	}
	uid = (uid_t)strtoul(argv[6], NULL, 10);
	if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		die("drop privileges", errno);
	r = nest_client_connect(argv[2], 0, &c);
	if (r < 0)
		die("connect", r);
	if (strcmp(argv[7], "mock") == 0 && argc == 9 && admin)
		r = cmd_mock(c, argv[8]);
	else if (strcmp(argv[7], "rollback") == 0 && argc == 10 && admin)
		r = cmd_rollback(c, argv[8]);
	else if (strcmp(argv[7], "viommu") == 0 && argc == 9 && admin)
		r = cmd_viommu(c, argv[8]);
	else if (strcmp(argv[7], "iopf") == 0 && argc == 9 && admin)
		r = cmd_iopf(c, argv[8]);
	else if (strcmp(argv[7], "native") == 0 && argc == 9 && admin)
		r = cmd_native(c, argv[8]);
	else if (strcmp(argv[7], "hold") == 0 && argc == 12 && admin)
		r = cmd_hold(c, argv[8], strtoull(argv[9], NULL, 0), argv[10], argv[11]);
	else if (strcmp(argv[7], "other") == 0 && argc == 9 && admin)
		r = cmd_other(c, argv[8]);
	else if (strcmp(argv[7], "flood") == 0 && argc == 10)
		r = cmd_flood(c, argv[8], argv[9]);
	else if (strcmp(argv[7], "dma") == 0 && argc == 11)
		r = cmd_dma(c, argv[8], (uint32_t)atoi(argv[9]), argv[10]);
	else {
		fprintf(stderr, "nest-guest-ifd: bad command\n");
		return 2;
	}
	nest_client_free(c);
	if (admin)
		nest_client_free(admin);
	return r > 100 ? 100 : r;
}

/* SPDX-License-Identifier: MIT */
/*
 * iommufd smoke test for the linux7 guest kernel (Linux 7.3 with CONFIG_IOMMUFD_TEST), as root:
 *   iommufd-smoke [BDF]   (default BDF: the first of $NEST_EDU, else 0000:00:04.0)
 * It proves the kernel and the harness for nestd's iommufd backend, on one iommufd:
 *   mock path: IOAS_ALLOC; a PASID-capable mock device (IOMMU_TEST_CMD MOCK_DOMAIN_FLAGS);
 *     GET_HW_INFO (SELFTEST, 20 PASID bits); HWPT_ALLOC NEST_PARENT; a nested SELFTEST HWPT with
 *     IOMMU_HWPT_ALLOC_PASID; PASID attach (refused while the RID sits on a non-PASID domain);
 *     HWPT_INVALIDATE with a bad entry (entry_num = entries handled) read back with
 *     MD_CHECK_IOTLB; PASID detached before anything is destroyed (the 7.3 mock WARNs otherwise).
 *   real path: edu through /dev/vfio/devices/vfioN: VFIO_DEVICE_BIND_IOMMUFD, GET_HW_INFO
 *     (INTEL_VTD), ATTACH_IOMMUFD_PT to an IOAS, IOMMU_IOAS_MAP_FILE of a memfd at a fixed IOVA,
 *     an edu DMA round trip, a DMA after IOAS_UNMAP faults, HWPT_ALLOC(NEST_PARENT) on edu's
 *     VT-d is EOPNOTSUPP (QEMU's VT-d model has no nesting).
 * One "ok"/"FAIL" line per check; exit status 1 if any check failed. Uses the vendored 7.3 uAPI
 * headers (kernel/uapi), never the system's.
 */
#include "iommufd.h"
#include "iommufd-test.h"
#include "vfio-cdev.h"

#include "edu.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MOCK_PASID 100u
#define IOVA_BASE  0x100000ull /* edu: below its 28-bit DMA mask */
#define MAP_SIZE   (64u * 1024)
#define XFER	   2048u
#define OFF_SRC	   0u
#define OFF_BACK   4096u
#define OFF_UNMAP  8192u

static int failures;

static void check(int ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void check(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok - %s\n", what);
	} else {
		failures++;
		printf("FAIL - %s: ", what);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

/* ioctl returning 0 or -errno */
static int ioc(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static const char *err(int r)
{
	return r ? strerror(-r) : "no error";
}

static int test_cmd(int ifd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioc(ifd, IOMMU_TEST_CMD, cmd);
}

static int destroy(int ifd, uint32_t id)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = id};

	return ioc(ifd, IOMMU_DESTROY, &d);
}

static int ioas_alloc(int ifd, uint32_t *id)
{
	struct iommu_ioas_alloc a = {.size = sizeof(a)};
	int r = ioc(ifd, IOMMU_IOAS_ALLOC, &a);

	*id = a.out_ioas_id;
	return r;
}

static int hwpt_alloc(int ifd, uint32_t flags, uint32_t dev_id, uint32_t pt_id, uint32_t data_type,
		      const void *data, uint32_t data_len, uint32_t *out)
{
	struct iommu_hwpt_alloc a = {
		.size = sizeof(a),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int r = ioc(ifd, IOMMU_HWPT_ALLOC, &a);

	*out = a.out_hwpt_id;
	return r;
}

static int pasid_op(int ifd, uint32_t op, uint32_t stdev, uint32_t pasid, uint32_t pt_id)
{
	struct iommu_test_cmd c = {.op = op, .id = stdev};

	switch (op) {
	case IOMMU_TEST_OP_PASID_ATTACH:
		c.pasid_attach.pasid = pasid;
		c.pasid_attach.pt_id = pt_id;
		break;
	case IOMMU_TEST_OP_PASID_DETACH:
		c.pasid_detach.pasid = pasid;
		break;
	case IOMMU_TEST_OP_PASID_CHECK_HWPT:
		c.pasid_check.pasid = pasid;
		c.pasid_check.hwpt_id = pt_id;
		break;
	}
	return test_cmd(ifd, &c);
}

static int mock_replace(int ifd, uint32_t stdev, uint32_t pt_id)
{
	struct iommu_test_cmd c = {.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, .id = stdev};

	c.mock_domain_replace.pt_id = pt_id;
	return test_cmd(ifd, &c);
}

/* 1 if every mock IOTLB slot of the nested HWPT holds want[i]. MD_CHECK_IOTLB only compares
 * (EINVAL on a mismatch), so each slot is probed with its expected value; mismatches are printed. */
static int iotlb_matches(int ifd, uint32_t nested,
			 const uint32_t want[MOCK_NESTED_DOMAIN_IOTLB_NUM])
{
	struct iommu_test_cmd c;
	int bad = 0;

	for (uint32_t i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++) {
		c = (struct iommu_test_cmd){.op = IOMMU_TEST_OP_MD_CHECK_IOTLB, .id = nested};
		c.check_iotlb.id = i;
		c.check_iotlb.iotlb = want[i];
		if (test_cmd(ifd, &c) < 0) {
			printf("# IOTLB slot %u is not %#x\n", i, want[i]);
			bad++;
		}
	}
	return bad == 0;
}

static void mock_path(int ifd)
{
	struct iommu_test_cmd md = {.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS};
	struct iommu_test_hw_info thi = {0};
	struct iommu_hw_info hi = {.size = sizeof(hi)};
	struct iommu_hwpt_selftest sdata = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
	struct iommu_hwpt_invalidate_selftest ent[4] = {
		{.flags = 0, .iotlb_id = 0},
		{.flags = 0, .iotlb_id = 1},
		{.flags = 0, .iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1}, /* bad */
		{.flags = 0, .iotlb_id = 3},
	};
	struct iommu_hwpt_invalidate inv = {.size = sizeof(inv)};
	const uint32_t D = IOMMU_TEST_IOTLB_DEFAULT;
	uint32_t ioas = 0, stdev, idev, parent = 0, nested = 0;
	int r;

	r = ioas_alloc(ifd, &ioas);
	check(r == 0, "mock: IOMMU_IOAS_ALLOC", "%s", err(r));
	if (r)
		return;

	md.id = ioas;
	md.mock_domain_flags.dev_flags = MOCK_FLAGS_DEVICE_PASID;
	r = test_cmd(ifd, &md);
	check(r == 0,
	      "mock: IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS(MOCK_FLAGS_DEVICE_PASID) creates a device",
	      "%s", err(r));
	if (r)
		return;
	stdev = md.mock_domain_flags.out_stdev_id;
	idev = md.mock_domain_flags.out_idev_id;
	printf("# mock device: object %u, dev_id %u, attached to auto HWPT %u in IOAS %u\n", stdev,
	       idev, md.mock_domain_flags.out_hwpt_id, ioas);

	hi.dev_id = idev;
	hi.data_len = sizeof(thi);
	hi.data_uptr = (uintptr_t)&thi;
	r = ioc(ifd, IOMMU_GET_HW_INFO, &hi);
	check(r == 0 && hi.out_data_type == IOMMU_HW_INFO_TYPE_SELFTEST &&
		      thi.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL &&
		      hi.out_max_pasid_log2 == MOCK_PASID_WIDTH,
	      "mock: IOMMU_GET_HW_INFO: type SELFTEST, out_max_pasid_log2 20",
	      "%s; type %#x test_reg %#x data_len %u max_pasid_log2 %u", err(r), hi.out_data_type,
	      thi.test_reg, hi.data_len, hi.out_max_pasid_log2);

	/* The parent also carries ALLOC_PASID: the RID goes onto it below, and a PASID can only
	 * be attached while every domain on the RID is PASID-compatible. */
	r = hwpt_alloc(ifd, IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID, idev, ioas,
		       IOMMU_HWPT_DATA_NONE, NULL, 0, &parent);
	check(r == 0, "mock: IOMMU_HWPT_ALLOC(NEST_PARENT | ALLOC_PASID) on the IOAS", "%s",
	      err(r));
	r = hwpt_alloc(ifd, IOMMU_HWPT_ALLOC_PASID, idev, parent, IOMMU_HWPT_DATA_SELFTEST, &sdata,
		       sizeof(sdata), &nested);
	check(r == 0, "mock: IOMMU_HWPT_ALLOC(ALLOC_PASID, DATA_SELFTEST) nested on the parent",
	      "%s", err(r));
	if (failures)
		goto out_dev;
	printf("# NEST_PARENT HWPT %u, nested HWPT %u\n", parent, nested);
	check(iotlb_matches(ifd, nested, (const uint32_t[]){D, D, D, D}),
	      "mock: IOMMU_TEST_OP_MD_CHECK_IOTLB: 4 slots seeded with 0xbadbeef", "see above");

	/* PASID attach: refused while the RID is on the auto domain (no ALLOC_PASID). */
	r = pasid_op(ifd, IOMMU_TEST_OP_PASID_ATTACH, stdev, MOCK_PASID, nested);
	check(r == -EINVAL, "mock: PASID attach while the RID is on a non-PASID domain: EINVAL",
	      "%s", err(r));
	if (r == 0)
		pasid_op(ifd, IOMMU_TEST_OP_PASID_DETACH, stdev, MOCK_PASID, 0);
	r = mock_replace(ifd, stdev, parent);
	check(r == 0, "mock: IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE: RID onto the NEST_PARENT HWPT",
	      "%s", err(r));
	r = pasid_op(ifd, IOMMU_TEST_OP_PASID_ATTACH, stdev, MOCK_PASID, nested);
	check(r == 0, "mock: IOMMU_TEST_OP_PASID_ATTACH: PASID 100 -> nested HWPT", "%s", err(r));
	r = pasid_op(ifd, IOMMU_TEST_OP_PASID_CHECK_HWPT, stdev, MOCK_PASID, nested);
	check(r == 0, "mock: IOMMU_TEST_OP_PASID_CHECK_HWPT: PASID 100 is on the nested HWPT", "%s",
	      err(r));

	/* One array of 4 with a bad iotlb_id in [2]: EINVAL, entry_num = 2 handled; then the rest. */
	inv.hwpt_id = nested;
	inv.data_uptr = (uintptr_t)ent;
	inv.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
	inv.entry_len = sizeof(ent[0]);
	inv.entry_num = 4;
	r = ioc(ifd, IOMMU_HWPT_INVALIDATE, &inv);
	check(r == -EINVAL && inv.entry_num == 2,
	      "mock: IOMMU_HWPT_INVALIDATE of 4 entries, [2] bad: EINVAL, entry_num 2",
	      "%s, entry_num %u", err(r), inv.entry_num);
	check(iotlb_matches(ifd, nested, (const uint32_t[]){0, 0, D, D}),
	      "mock: MD_CHECK_IOTLB: entries [0] and [1] done, [3] not", "see above");
	inv.data_uptr = (uintptr_t)&ent[3];
	inv.entry_num = 1;
	r = ioc(ifd, IOMMU_HWPT_INVALIDATE, &inv);
	check(r == 0 && inv.entry_num == 1,
	      "mock: IOMMU_HWPT_INVALIDATE of the rest after the bad entry: entry_num 1",
	      "%s, entry_num %u", err(r), inv.entry_num);
	check(iotlb_matches(ifd, nested, (const uint32_t[]){0, 0, D, 0}),
	      "mock: MD_CHECK_IOTLB: slot 3 invalidated, slot 2 untouched", "see above");

	/* Teardown in the order the 7.3 mock needs: PASID first. */
	r = pasid_op(ifd, IOMMU_TEST_OP_PASID_DETACH, stdev, MOCK_PASID, 0);
	check(r == 0, "mock: IOMMU_TEST_OP_PASID_DETACH", "%s", err(r));
	r = pasid_op(ifd, IOMMU_TEST_OP_PASID_CHECK_HWPT, stdev, MOCK_PASID, 0);
	check(r == 0, "mock: PASID 100 has no HWPT after detach", "%s", err(r));
	r = destroy(ifd, nested);
	check(r == 0, "mock: IOMMU_DESTROY of the nested HWPT", "%s", err(r));
	r = destroy(ifd, parent);
	check(r == -EBUSY, "mock: IOMMU_DESTROY of the parent while the RID is on it: EBUSY", "%s",
	      err(r));
	r = mock_replace(ifd, stdev, ioas);
	check(r == 0, "mock: MOCK_DOMAIN_REPLACE: RID back onto the IOAS", "%s", err(r));
	r = destroy(ifd, parent);
	check(r == 0, "mock: IOMMU_DESTROY of the parent", "%s", err(r));
out_dev:
	r = destroy(ifd, stdev);
	check(r == 0, "mock: IOMMU_DESTROY of the mock device", "%s", err(r));
	r = destroy(ifd, ioas);
	check(r == 0, "mock: IOMMU_DESTROY of the IOAS", "%s", err(r));
}

static const char *default_bdf(char *buf, size_t len)
{
	const char *env = getenv("NEST_EDU");
	size_t n;

	if (!env || !*env)
		return "0000:00:04.0";
	n = strcspn(env, " ");
	if (n >= len)
		n = len - 1;
	memcpy(buf, env, n);
	buf[n] = '\0';
	return buf;
}

/* /dev/vfio/devices/vfioN of PCI device bdf, from /sys/bus/pci/devices/BDF/vfio-dev/vfioN. */
static int vfio_cdev_path(const char *bdf, char *path, size_t len)
{
	char dir[128];
	struct dirent *de;
	DIR *d;
	int r = -ENOENT;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4) == 0) {
			snprintf(path, len, "/dev/vfio/devices/%s", de->d_name);
			r = 0;
			break;
		}
	}
	closedir(d);
	return r;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void real_path(int ifd, const char *bdf)
{
	char path[300]; /* /dev/vfio/devices/ + a d_name */
	struct vfio_device_bind_iommufd bind = {.argsz = sizeof(bind), .flags = 0};
	struct vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at), .flags = 0};
	struct vfio_device_detach_iommufd_pt dt = {.argsz = sizeof(dt), .flags = 0};
	struct iommu_hw_info_vtd vtd = {0};
	struct iommu_hw_info hi = {.size = sizeof(hi)};
	struct iommu_ioas_map_file mf = {.size = sizeof(mf)};
	struct iommu_ioas_unmap um = {.size = sizeof(um)};
	struct edu e;
	uint8_t *buf = MAP_FAILED;
	uint32_t ioas = 0, hwpt = 0, id = 0;
	int dev = -1, mfd = -1, r, before, after;

	r = vfio_cdev_path(bdf, path, sizeof(path));
	check(r == 0, "real: VFIO cdev of edu found in sysfs", "%s/vfio-dev: %s", bdf, err(r));
	if (r)
		return;
	dev = open(path, O_RDWR | O_CLOEXEC);
	r = dev < 0 ? -errno : 0;
	check(r == 0, "real: open the VFIO device cdev", "%s: %s", path, err(r));
	if (r)
		return;
	printf("# edu %s is %s\n", bdf, path);

	bind.iommufd = ifd;
	r = ioc(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	check(r == 0, "real: VFIO_DEVICE_BIND_IOMMUFD", "%s", err(r));
	if (r)
		goto out;
	printf("# edu dev_id %u\n", bind.out_devid);

	hi.dev_id = bind.out_devid;
	hi.data_len = sizeof(vtd);
	hi.data_uptr = (uintptr_t)&vtd;
	r = ioc(ifd, IOMMU_GET_HW_INFO, &hi);
	check(r == 0 && hi.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD,
	      "real: IOMMU_GET_HW_INFO on edu: type INTEL_VTD", "%s; type %#x", err(r),
	      hi.out_data_type);
	printf("# VT-d cap_reg %#llx ecap_reg %#llx (nesting bit 26: %u) max_pasid_log2 %u\n",
	       (unsigned long long)vtd.cap_reg, (unsigned long long)vtd.ecap_reg,
	       (unsigned)((vtd.ecap_reg >> 26) & 1), hi.out_max_pasid_log2);

	r = ioas_alloc(ifd, &ioas);
	check(r == 0, "real: IOMMU_IOAS_ALLOC", "%s", err(r));
	if (r)
		goto out;
	at.pt_id = ioas;
	r = ioc(dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
	check(r == 0, "real: VFIO_DEVICE_ATTACH_IOMMUFD_PT to the IOAS", "%s", err(r));
	if (r)
		goto out;
	hwpt = at.pt_id;
	printf("# edu attached: auto HWPT %u in IOAS %u\n", hwpt, ioas);

	mfd = memfd_create("iommufd-smoke", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, MAP_SIZE) < 0 ||
	    (buf = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)) ==
		    MAP_FAILED) {
		check(0, "real: memfd of 64 KiB", "%s", strerror(errno));
		goto out;
	}
	mf.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	mf.ioas_id = ioas;
	mf.fd = mfd;
	mf.start = 0;
	mf.length = MAP_SIZE;
	mf.iova = IOVA_BASE;
	r = ioc(ifd, IOMMU_IOAS_MAP_FILE, &mf);
	check(r == 0 && mf.iova == IOVA_BASE,
	      "real: IOMMU_IOAS_MAP_FILE of the memfd at IOVA 0x100000", "%s, iova %#llx", err(r),
	      (unsigned long long)mf.iova);
	if (failures)
		goto out;

	r = edu_init(&e, dev);
	check(r == 0, "real: edu_init on the cdev fd (device info, BAR0, config)", "%s", err(r));
	if (r)
		goto out;
	r = edu_read_id(&e, &id);
	check(r == 0, "real: edu id register", "%#x (%s)", id, err(r));
	r = edu_enable_bus_master(&e);
	check(r == 0, "real: enable bus mastering", "%s", err(r));
	if (failures)
		goto out;

	for (uint32_t i = 0; i < XFER; i++)
		buf[OFF_SRC + i] = (uint8_t)(0xa5 + i * 13 + (i >> 8));
	r = edu_dma(&e, EDU_RAM_TO_EDU, IOVA_BASE + OFF_SRC, 0, XFER, 0);
	check(r == 0, "real: DMA memfd -> edu completes", "%s", err(r));
	r = edu_dma(&e, EDU_EDU_TO_RAM, IOVA_BASE + OFF_BACK, 0, XFER, 0);
	check(r == 0, "real: DMA edu -> memfd completes", "%s", err(r));
	check(memcmp(buf + OFF_SRC, buf + OFF_BACK, XFER) == 0,
	      "real: edu DMA round trip through the IOAS matches", "memfd[4096..] differs");

	/* After IOAS_UNMAP the IOVA is gone: a DMA there faults and leaves the memfd alone. */
	um.ioas_id = ioas;
	um.iova = IOVA_BASE;
	um.length = MAP_SIZE;
	r = ioc(ifd, IOMMU_IOAS_UNMAP, &um);
	check(r == 0 && um.length == MAP_SIZE, "real: IOMMU_IOAS_UNMAP", "%s, length %#llx", err(r),
	      (unsigned long long)um.length);
	before = edu_dmar_faults(bdf);
	r = edu_dma(&e, EDU_EDU_TO_RAM, IOVA_BASE + OFF_UNMAP, 0, XFER, 0);
	after = before >= 0 && r == 0 ? edu_dmar_wait_faults(bdf, before, 3000) : -EIO;
	check(r == 0 && after > before, "real: DMA to the unmapped IOVA logs a DMAR fault",
	      "dma %s, fault lines %d -> %d", err(r), before, after);
	check(all_zero(buf + OFF_UNMAP, XFER), "real: memfd untouched after IOAS_UNMAP",
	      "data landed after unmap");

	/* QEMU's VT-d model has no nesting (ECAP.NEST = 0): no stage-2 parent on edu's IOMMU. */
	r = hwpt_alloc(ifd, IOMMU_HWPT_ALLOC_NEST_PARENT, bind.out_devid, ioas,
		       IOMMU_HWPT_DATA_NONE, NULL, 0, &id);
	check(r == -EOPNOTSUPP, "real: IOMMU_HWPT_ALLOC(NEST_PARENT) on edu's VT-d: EOPNOTSUPP",
	      "%s (id %u)", err(r), id);
	if (r == 0)
		destroy(ifd, id);

	r = ioc(dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt);
	check(r == 0, "real: VFIO_DEVICE_DETACH_IOMMUFD_PT", "%s", err(r));
	r = destroy(ifd, ioas);
	check(r == 0, "real: IOMMU_DESTROY of the IOAS after detach", "%s", err(r));
out:
	if (buf != MAP_FAILED)
		munmap(buf, MAP_SIZE);
	if (mfd >= 0)
		close(mfd);
	close(dev);
}

int main(int argc, char **argv)
{
	char bdfbuf[32];
	const char *bdf = argc > 1 ? argv[1] : default_bdf(bdfbuf, sizeof(bdfbuf));
	int ifd;

	printf("iommufd-smoke: mock device and edu %s\n", bdf);
	ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	check(ifd >= 0, "open /dev/iommu", "%s", strerror(errno));
	if (ifd < 0)
		return 1;
	mock_path(ifd);
	real_path(ifd, bdf);
	check(close(ifd) == 0, "close the iommufd", "%s", strerror(errno));
	printf("iommufd-smoke: %s (%d failed)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}

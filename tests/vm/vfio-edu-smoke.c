/* SPDX-License-Identifier: MIT */
/*
 * Guest harness smoke test: plain VFIO type1 on an edu device, as root, through edu.c.
 *   vfio-edu-smoke [--no-faults] [BDF]   (default BDF: the first of $NEST_EDU, else 0000:00:04.0)
 * Checks: container + group + TYPE1v2 + MAP_DMA + device fd; edu id; DMA RAM->edu->RAM round
 * trip; DMA to an unmapped IOVA faults (memory untouched, DMAR fault logged); a DMA read from an
 * unmapped IOVA faults; after UNMAP_DMA the old IOVA faults. One "ok"/"FAIL" line per check;
 * exit status 1 if any check failed.
 * --no-faults skips the fault checks: the kernel logs only about 5 DMAR faults per 5 s, so a
 * second device tested right after the first would miss its fault lines.
 */
#include "edu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#define IOVA_BASE 0x100000ull /* mapped buffer */
#define MAP_SIZE  (64u * 1024)
#define IOVA_HOLE 0x800000ull /* never mapped */
#define XFER	  2048u
#define OFF_SRC	  0u	/* offsets in the mapped buffer */
#define OFF_BACK  4096u /* round trip lands here */
#define OFF_UNMAP 8192u /* target after UNMAP_DMA */

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

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
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

/* DMA, then wait for a new DMAR fault line for bdf; describe the outcome in why. */
static int dma_faults(const struct edu *e, const char *bdf, enum edu_dir dir, uint64_t iova,
		      char *why, size_t whylen)
{
	int before = edu_dmar_faults(bdf), r, after;

	if (before < 0) {
		snprintf(why, whylen, "reading /dev/kmsg: %s", strerror(-before));
		return 0;
	}
	r = edu_dma(e, dir, iova, 0, XFER, 0);
	if (r < 0) {
		snprintf(why, whylen, "DMA did not complete: %s", strerror(-r));
		return 0;
	}
	after = edu_dmar_wait_faults(bdf, before, 3000);
	if (after < 0) {
		snprintf(why, whylen, "no new DMAR fault line for %s (%d before): %s", bdf, before,
			 strerror(-after));
		return 0;
	}
	snprintf(why, whylen, "%d new fault line(s)", after - before);
	return 1;
}

int main(int argc, char **argv)
{
	char bdfbuf[32], path[64], why[200];
	int faults = 1;
	const char *bdf;
	struct vfio_group_status gs = {.argsz = sizeof(gs)};
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};
	struct vfio_iommu_type1_dma_unmap unmap = {.argsz = sizeof(unmap)};
	struct edu e;
	uint8_t *buf, *snap;
	uint32_t id = 0;
	int container, group, dev, g, r, ok;

	if (argc > 1 && strcmp(argv[1], "--no-faults") == 0) {
		faults = 0;
		argc--;
		argv++;
	}
	bdf = argc > 1 ? argv[1] : default_bdf(bdfbuf, sizeof(bdfbuf));
	printf("vfio-edu-smoke: device %s%s\n", bdf, faults ? "" : " (no fault checks)");
	g = edu_iommu_group(bdf);
	check(g >= 0, "iommu group", "%s: %s", bdf, strerror(-g));
	if (g < 0)
		return 1;

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	check(container >= 0, "open /dev/vfio/vfio", "%s", strerror(errno));
	if (container < 0)
		return 1;
	r = ioctl(container, VFIO_GET_API_VERSION);
	check(r == VFIO_API_VERSION, "VFIO_GET_API_VERSION", "got %d", r);
	r = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	check(r == 1, "TYPE1v2 extension", "got %d", r);

	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	group = open(path, O_RDWR | O_CLOEXEC);
	check(group >= 0, "open group", "%s: %s", path, strerror(errno));
	if (group < 0)
		return 1;
	r = ioctl(group, VFIO_GROUP_GET_STATUS, &gs);
	check(r == 0 && (gs.flags & VFIO_GROUP_FLAGS_VIABLE), "group viable", "r=%d flags=%#x", r,
	      gs.flags);
	r = ioctl(group, VFIO_GROUP_SET_CONTAINER, &container);
	check(r == 0, "VFIO_GROUP_SET_CONTAINER", "%s", strerror(errno));
	r = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	check(r == 0, "VFIO_SET_IOMMU(TYPE1v2)", "%s", strerror(errno));
	if (failures)
		return 1;

	buf = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snap = malloc(MAP_SIZE);
	if (buf == MAP_FAILED || !snap) {
		check(0, "allocate buffers", "%s", strerror(errno));
		return 1;
	}
	memset(buf, 0, MAP_SIZE);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)buf;
	map.iova = IOVA_BASE;
	map.size = MAP_SIZE;
	r = ioctl(container, VFIO_IOMMU_MAP_DMA, &map);
	check(r == 0, "VFIO_IOMMU_MAP_DMA at 0x100000", "%s", strerror(errno));

	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	check(dev >= 0, "VFIO_GROUP_GET_DEVICE_FD", "%s", strerror(errno));
	if (failures)
		return 1;

	r = edu_init(&e, dev);
	check(r == 0, "edu_init (device info, BAR0 and config regions)", "%s", strerror(-r));
	if (r < 0)
		return 1;
	printf("# regions %u irqs %u bar0 size %#llx\n", e.num_regions, e.num_irqs,
	       (unsigned long long)e.bar0_size);
	r = edu_read_id(&e, &id);
	check(r == 0, "edu id register", "%#x (%s)", id, strerror(-r));
	r = edu_enable_bus_master(&e);
	check(r == 0, "enable bus mastering", "%s", strerror(-r));
	if (failures)
		return 1;

	/* Round trip: buf[OFF_SRC] -> edu buffer -> buf[OFF_BACK]. */
	fill(buf + OFF_SRC, XFER, 0x5a);
	r = edu_dma(&e, EDU_RAM_TO_EDU, IOVA_BASE + OFF_SRC, 0, XFER, 0);
	check(r == 0, "DMA RAM->edu completes", "%s", strerror(-r));
	r = edu_dma(&e, EDU_EDU_TO_RAM, IOVA_BASE + OFF_BACK, 0, XFER, 0);
	check(r == 0, "DMA edu->RAM completes", "%s", strerror(-r));
	check(memcmp(buf + OFF_SRC, buf + OFF_BACK, XFER) == 0, "round trip data matches",
	      "buf[4096..] differs from the source");

	if (!faults)
		goto out;

	/* Write to a hole: faults, nothing mapped changes. */
	memcpy(snap, buf, MAP_SIZE);
	ok = dma_faults(&e, bdf, EDU_EDU_TO_RAM, IOVA_HOLE, why, sizeof(why));
	check(ok, "DMA write to unmapped IOVA 0x800000 logs a DMAR fault", "%s", why);
	check(memcmp(snap, buf, MAP_SIZE) == 0, "mapped memory untouched by the faulting write",
	      "buffer changed");

	/* Read from a hole: faults too. */
	ok = dma_faults(&e, bdf, EDU_RAM_TO_EDU, IOVA_HOLE, why, sizeof(why));
	check(ok, "DMA read from unmapped IOVA 0x800000 logs a DMAR fault", "%s", why);

	/* Refill edu's buffer with the pattern, unmap, write to the old IOVA: faults, untouched. */
	r = edu_dma(&e, EDU_RAM_TO_EDU, IOVA_BASE + OFF_SRC, 0, XFER, 0);
	check(r == 0, "DMA RAM->edu again", "%s", strerror(-r));
	unmap.iova = IOVA_BASE;
	unmap.size = MAP_SIZE;
	r = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	check(r == 0 && unmap.size == MAP_SIZE, "VFIO_IOMMU_UNMAP_DMA", "r=%d size=%#llx (%s)", r,
	      (unsigned long long)unmap.size, strerror(errno));
	ok = dma_faults(&e, bdf, EDU_EDU_TO_RAM, IOVA_BASE + OFF_UNMAP, why, sizeof(why));
	check(ok, "DMA write to the unmapped old IOVA logs a DMAR fault", "%s", why);
	check(all_zero(buf + OFF_UNMAP, XFER), "old buffer untouched after UNMAP_DMA",
	      "data landed after unmap");

out:
	close(dev);
	close(group);
	close(container);
	munmap(buf, MAP_SIZE);
	free(snap);
	printf("vfio-edu-smoke: %s (%d failed)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}

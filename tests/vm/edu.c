/* SPDX-License-Identifier: MIT */
/*
 * edu through a VFIO device fd: see edu.h.
 */
#include "edu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

static int region_info(int fd, uint32_t index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri) < 0)
		return -errno;
	return 0;
}

int edu_init(struct edu *e, int device_fd)
{
	struct vfio_device_info info = {.argsz = sizeof(info)};
	struct vfio_region_info ri;
	int r;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	if (device_fd < 0)
		return -EBADF;
	if (ioctl(device_fd, VFIO_DEVICE_GET_INFO, &info) < 0)
		return -errno;
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
		return -ENODEV;

	r = region_info(device_fd, VFIO_PCI_BAR0_REGION_INDEX, &ri);
	if (r < 0)
		return r;
	if (ri.size == 0 || !(ri.flags & VFIO_REGION_INFO_FLAG_READ) ||
	    !(ri.flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -ENODEV;
	e->bar0_offset = ri.offset;
	e->bar0_size = ri.size;
	e->bar0_flags = ri.flags;

	r = region_info(device_fd, VFIO_PCI_CONFIG_REGION_INDEX, &ri);
	if (r < 0)
		return r;
	if (ri.size < PCI_STD_HEADER_SIZEOF)
		return -ENODEV;
	e->cfg_offset = ri.offset;
	e->cfg_size = ri.size;

	e->fd = device_fd;
	e->num_regions = info.num_regions;
	e->num_irqs = info.num_irqs;
	e->dev_flags = info.flags;
	return 0;
}

/* Exactly len bytes at off in the device fd, or -errno (-EIO on a short transfer). */
static int dev_pread(const struct edu *e, void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (e->fd < 0)
		return -EBADF;
	do {
		n = pread(e->fd, buf, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int dev_pwrite(const struct edu *e, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (e->fd < 0)
		return -EBADF;
	do {
		n = pwrite(e->fd, buf, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int edu_cfg_read16(const struct edu *e, uint32_t off, uint16_t *val)
{
	if (off + sizeof(*val) > e->cfg_size)
		return -EINVAL;
	return dev_pread(e, val, sizeof(*val), e->cfg_offset + off);
}

int edu_cfg_write16(const struct edu *e, uint32_t off, uint16_t val)
{
	if (off + sizeof(val) > e->cfg_size)
		return -EINVAL;
	return dev_pwrite(e, &val, sizeof(val), e->cfg_offset + off);
}

int edu_enable_bus_master(const struct edu *e)
{
	uint16_t cmd;
	int r;

	r = edu_cfg_read16(e, PCI_COMMAND, &cmd);
	if (r < 0)
		return r;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	r = edu_cfg_write16(e, PCI_COMMAND, cmd);
	if (r < 0)
		return r;
	r = edu_cfg_read16(e, PCI_COMMAND, &cmd);
	if (r < 0)
		return r;
	if ((cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) !=
	    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		return -EIO;
	return 0;
}

static int bar0_check(const struct edu *e, uint32_t reg, size_t len)
{
	if (reg % len || reg + len > e->bar0_size)
		return -EINVAL;
	return 0;
}

int edu_read32(const struct edu *e, uint32_t reg, uint32_t *val)
{
	int r = bar0_check(e, reg, sizeof(*val));

	return r < 0 ? r : dev_pread(e, val, sizeof(*val), e->bar0_offset + reg);
}

int edu_write32(const struct edu *e, uint32_t reg, uint32_t val)
{
	int r = bar0_check(e, reg, sizeof(val));

	return r < 0 ? r : dev_pwrite(e, &val, sizeof(val), e->bar0_offset + reg);
}

int edu_read64(const struct edu *e, uint32_t reg, uint64_t *val)
{
	int r = bar0_check(e, reg, sizeof(*val));

	return r < 0 ? r : dev_pread(e, val, sizeof(*val), e->bar0_offset + reg);
}

int edu_write64(const struct edu *e, uint32_t reg, uint64_t val)
{
	int r = bar0_check(e, reg, sizeof(val));

	return r < 0 ? r : dev_pwrite(e, &val, sizeof(val), e->bar0_offset + reg);
}

int edu_read_id(const struct edu *e, uint32_t *id)
{
	int r = edu_read32(e, EDU_REG_ID, id);

	if (r < 0)
		return r;
	return *id == EDU_ID_VALUE ? 0 : -EIO;
}

int edu_dma_start(const struct edu *e, enum edu_dir dir, uint64_t iova, uint32_t buf_off,
		  uint32_t count)
{
	uint64_t cmd;
	int r;

	/* QEMU's edu only logs an out-of-range buffer access and then performs it: never ask. */
	if (count == 0 || buf_off > EDU_BUF_SIZE || count > EDU_BUF_SIZE - buf_off)
		return -EINVAL;
	if (iova >= EDU_DMA_LIMIT || count > EDU_DMA_LIMIT - iova)
		return -ERANGE;
	if (dir != EDU_RAM_TO_EDU && dir != EDU_EDU_TO_RAM)
		return -EINVAL;

	r = edu_read64(e, EDU_REG_DMA_CMD, &cmd);
	if (r < 0)
		return r;
	if (cmd & EDU_DMA_CMD_RUN)
		return -EBUSY;

	if (dir == EDU_RAM_TO_EDU) {
		r = edu_write64(e, EDU_REG_DMA_SRC, iova);
		if (r == 0)
			r = edu_write64(e, EDU_REG_DMA_DST, EDU_BUF_ADDR + buf_off);
	} else {
		r = edu_write64(e, EDU_REG_DMA_SRC, EDU_BUF_ADDR + buf_off);
		if (r == 0)
			r = edu_write64(e, EDU_REG_DMA_DST, iova);
	}
	if (r == 0)
		r = edu_write64(e, EDU_REG_DMA_CNT, count);
	if (r == 0)
		r = edu_write64(e, EDU_REG_DMA_CMD,
				EDU_DMA_CMD_RUN | (dir == EDU_EDU_TO_RAM ? EDU_DMA_CMD_TO_RAM : 0));
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int edu_dma_wait(const struct edu *e, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : EDU_TIMEOUT_MS);
	uint64_t cmd;
	int r;

	for (;;) {
		r = edu_read64(e, EDU_REG_DMA_CMD, &cmd);
		if (r < 0)
			return r;
		if (!(cmd & EDU_DMA_CMD_RUN))
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
}

int edu_dma(const struct edu *e, enum edu_dir dir, uint64_t iova, uint32_t buf_off, uint32_t count,
	    int timeout_ms)
{
	int r = edu_dma_start(e, dir, iova, buf_off, count);

	return r < 0 ? r : edu_dma_wait(e, timeout_ms);
}

int edu_iommu_group(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX], *base, *end;
	ssize_t n;
	long g;

	if (!bdf || strchr(bdf, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	errno = 0;
	g = strtol(base, &end, 10);
	if (errno || end == base || *end || g < 0 || g > INT_MAX)
		return -EINVAL;
	return (int)g;
}

bool edu_is_dmar_fault_line(const char *line, const char *bdf)
{
	static const char tag[] = "Request device [";
	const char *p = strstr(line, "DMAR: [DMA "), *dev;
	size_t n;

	if (!p || !strstr(p, " fault addr "))
		return false;
	if (!bdf)
		return true;
	dev = strstr(p, tag);
	if (!dev)
		return false;
	dev += sizeof(tag) - 1;
	n = strcspn(dev, "]");
	if (dev[n] != ']')
		return false;
	/* Compare without the PCI domain: 6.12 names the device "[00:04.0]", 7.3
	 * "[0000:00:04.0]". */
	if (n == 12 && dev[4] == ':') {
		dev += 5;
		n -= 5;
	}
	if (strlen(bdf) == 12 && bdf[4] == ':')
		bdf += 5;
	return strlen(bdf) == n && strncmp(dev, bdf, n) == 0;
}

int edu_dmar_faults(const char *bdf)
{
	/* One /dev/kmsg read returns one record; records are at most ~8 KiB (PRINTK_MESSAGE_MAX
	 * is 2 KiB in 6.12, continuation lines included). */
	char rec[8192 + 1], *msg, *nl;
	int fd, count = 0;
	ssize_t n;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EINTR || errno == EPIPE) /* EPIPE: record overwritten, go on */
				continue;
			if (errno == EAGAIN)
				break;
			count = -errno;
			break;
		}
		if (n == 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;message\n[ KEY=value\n...]": keep the message only. */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (edu_is_dmar_fault_line(msg, bdf))
			count++;
	}
	close(fd);
	return count;
}

int edu_dmar_wait_faults(const char *bdf, int before, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 2000);
	int n;

	for (;;) {
		n = edu_dmar_faults(bdf);
		if (n < 0 || n > before)
			return n;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}
